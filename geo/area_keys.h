// Area version keys: the names under which replicas record "this airspace
// changed", so that a write can check atomically that nothing overlapping
// its footprints changed since the state it decided on.
//
// A write names the keys it READS (each must be unchanged since the feed
// position the decision was made at) and the keys it WRITES (each bumped to
// the write's sequence number). The keys are built so that
//
//   if footprints F1 and F2 intersect (geo/intersect.h, 1 mm contact
//   tolerance included), Reads(F1) ∩ Writes(F2) ≠ ∅ and
//   Reads(F2) ∩ Writes(F1) ≠ ∅,
//
// while footprints far apart share no key. One fixed cell level cannot do
// both (a 100,000 km² zone spans ~100,000 level-13 cells), so keys are
// hierarchical, as intention locks in a database's lock tree: each footprint
// is covered at its own S2 level L (the finest at which its covering stays
// within max_cells cells), with cells C, and
//
//   Writes(F) = { exact(c) : c ∈ C } ∪ { below(a) : a ancestor-or-self of c ∈ C }
//   Reads(F)  = { exact(a) : a ancestor-or-self of c ∈ C } ∪ { below(c) : c ∈ C }
//
// Two intersecting footprints have covering cells c1, c2 that share a point,
// so one is an ancestor-or-self of the other. If c2 ⊇ c1, F1 reads exact(c2),
// which F2 writes; if c1 ⊋ c2, F2 writes below(c1), which F1 reads. A common
// ancestor alone never collides: exact and below keys are distinct names.
// docs/geometry.md ("Area keys") has the argument in full and the sizes.
//
// Ancestors go down to level 0 whatever min_level is, so keys computed with
// different options (a configuration change during a rolling upgrade) still
// meet.
//
// Typical usage:
//   AreaKeys keys = AreaKeysFor({volume.volume.footprint});
//   // Commit: check every keys.reads version <= decided_at, then set every
//   // keys.writes version to the new sequence number, atomically.
//
// Thread-safe: pure functions.
#ifndef UTM_GEO_AREA_KEYS_H_
#define UTM_GEO_AREA_KEYS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "geo/s2_covering.h"
#include "geo/volume.h"

namespace utm::geo {

// The coarsest level a footprint is keyed at by default: cells of about
// 2,500 km, so that the largest footprint still gets few keys.
inline constexpr int kMinAreaLevel = 2;

struct AreaKeyOptions {
  // Most covering cells per footprint: the level is lowered until the
  // covering fits. DEFAULT: 64. REQUIRES: >= 1 (smaller is taken as 1).
  int max_cells = 64;
  // The level range. DEFAULT: [kMinAreaLevel, kDefaultCellLevel].
  // REQUIRES: 0 <= min_level <= max_level <= kMaxCoveringLevel (out-of-range
  // values are clamped).
  int min_level = kMinAreaLevel;
  int max_level = kDefaultCellLevel;
  // CoverFootprint's refine_levels for the coverings tried: fewer is faster
  // and gives a few more false positives (docs/geometry.md, "Area keys");
  // keys stay correct with any value, also mixed across replicas.
  // DEFAULT: 2 (CoverFootprint's own default is 4). REQUIRES: >= 0.
  int refine_levels = 2;
};

// A footprint's covering at the level its keys use.
struct AreaCover {
  int level = 0;
  // CoverFootprint(footprint, level, options.refine_levels)
  std::vector<uint64_t> cells;
};

// The level and cells a footprint is keyed by. The level is found by
// refinement: it starts at the finest level whose cells are at least as wide
// as the footprint's bounding cap (grown by kCoveringMarginM), clamped to
// [min_level, max_level]; while the covering there has more than max_cells
// cells it goes one level coarser (not below min_level), otherwise one level
// finer as long as that covering still has at most max_cells. Deterministic:
// every process computes the same cover for the same footprint and options.
// REQUIRES: a validated footprint (any ValidationLimits).
AreaCover ChooseAreaCover(const Footprint& footprint,
                          const AreaKeyOptions& options = {});

// Sorted (by string), distinct key names.
struct AreaKeys {
  std::vector<std::string> reads;
  std::vector<std::string> writes;
};

// The keys of a write touching `footprints` (the union over them; each
// footprint gets its own level). Keys are "e:<token>" (exact) and
// "b:<token>" (below), with <token> the cell's S2 token (CellToken).
// REQUIRES: validated footprints.
AreaKeys AreaKeysFor(const std::vector<Footprint>& footprints,
                     const AreaKeyOptions& options = {});

// The same from covers already chosen (one per footprint).
AreaKeys AreaKeysForCovers(const std::vector<AreaCover>& covers);

// Cell helpers on S2 cell ids. REQUIRES: a valid cell id; for CellParent,
// 0 <= level <= CellLevel(cell).
int CellLevel(uint64_t cell);
uint64_t CellParent(uint64_t cell, int level);
// The S2 token: the id in hex without trailing zeros ("1" for face 0).
std::string CellToken(uint64_t cell);

}  // namespace utm::geo

#endif  // UTM_GEO_AREA_KEYS_H_
