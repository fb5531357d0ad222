#include "geo/area_keys.h"

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/geodesy.h"
#include "s2/s2cell_id.h"
#include "s2/s2metrics.h"

namespace utm::geo {
namespace {

void SortUnique(std::vector<uint64_t>& ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
}

// "<prefix><token>" for each id. S2 tokens sort as their ids do, so sorted
// ids give sorted keys.
void AppendKeys(const char* prefix, const std::vector<uint64_t>& ids,
                std::vector<std::string>& out) {
  for (uint64_t id : ids) out.push_back(absl::StrCat(prefix, CellToken(id)));
}

// The finest level whose cells are no narrower than the footprint's
// bounding cap grown by the covering margin: a covering there has a handful
// of cells, so refinement from it takes few steps for any footprint size.
int StartLevel(const Footprint& footprint) {
  const double diameter_m =
      2 * (ComputeBoundingCap(footprint).radius_m + kCoveringMarginM);
  // On S2's unit sphere, as CoverFootprint converts distances.
  return S2::kMinWidth.GetLevelForMinValue(diameter_m /
                                           kEarthMinCurvatureRadiusM);
}

}  // namespace

AreaCover ChooseAreaCover(const Footprint& footprint,
                          const AreaKeyOptions& options) {
  const int min_level = std::clamp(options.min_level, 0, kMaxCoveringLevel);
  const int max_level =
      std::clamp(options.max_level, min_level, kMaxCoveringLevel);
  const size_t max_cells = static_cast<size_t>(std::max(options.max_cells, 1));

  AreaCover cover;
  cover.level = std::clamp(StartLevel(footprint), min_level, max_level);
  cover.cells = CoverFootprint(footprint, cover.level, options.refine_levels);
  // Too many cells: coarser (the start level's cells are about as wide as
  // the footprint, so this runs only when min/max_level force it).
  while (cover.cells.size() > max_cells && cover.level > min_level) {
    --cover.level;
    cover.cells = CoverFootprint(footprint, cover.level, options.refine_levels);
  }
  if (cover.cells.size() > max_cells) return cover;  // min_level: keep it
  // Finer while the covering still fits.
  while (cover.level < max_level) {
    std::vector<uint64_t> finer = CoverFootprint(footprint, cover.level + 1,
                                                options.refine_levels);
    if (finer.size() > max_cells) break;
    ++cover.level;
    cover.cells = std::move(finer);
  }
  return cover;
}

AreaKeys AreaKeysForCovers(const std::vector<AreaCover>& covers) {
  std::vector<uint64_t> exact_writes, below_writes, exact_reads, below_reads;
  for (const AreaCover& cover : covers) {
    for (uint64_t cell : cover.cells) {
      exact_writes.push_back(cell);
      below_reads.push_back(cell);
      // Ancestors-or-self, level by level: the covering's cells are sorted,
      // so neighbours share most ancestors; duplicates go below.
      for (int level = CellLevel(cell); level >= 0; --level) {
        const uint64_t a = CellParent(cell, level);
        below_writes.push_back(a);
        exact_reads.push_back(a);
      }
    }
  }
  SortUnique(exact_writes);
  SortUnique(below_writes);
  SortUnique(exact_reads);
  SortUnique(below_reads);
  AreaKeys keys;
  // "b:" sorts before "e:".
  keys.reads.reserve(below_reads.size() + exact_reads.size());
  AppendKeys("b:", below_reads, keys.reads);
  AppendKeys("e:", exact_reads, keys.reads);
  keys.writes.reserve(below_writes.size() + exact_writes.size());
  AppendKeys("b:", below_writes, keys.writes);
  AppendKeys("e:", exact_writes, keys.writes);
  return keys;
}

AreaKeys AreaKeysFor(const std::vector<Footprint>& footprints,
                     const AreaKeyOptions& options) {
  std::vector<AreaCover> covers;
  covers.reserve(footprints.size());
  for (const Footprint& f : footprints) {
    covers.push_back(ChooseAreaCover(f, options));
  }
  return AreaKeysForCovers(covers);
}

int CellLevel(uint64_t cell) { return S2CellId(cell).level(); }

uint64_t CellParent(uint64_t cell, int level) {
  return S2CellId(cell).parent(level).id();
}

std::string CellToken(uint64_t cell) { return S2CellId(cell).ToToken(); }

}  // namespace utm::geo
