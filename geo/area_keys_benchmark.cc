// Benchmarks of area keys (geo/area_keys.h): AreaKeysFor and ChooseAreaCover
// for footprints from a 100 m circle to a Switzerland-sized zone, with
// CoverFootprint at level 13 (the fixed-level storage covering) on the same
// footprints as the in-run baseline.
//
// Every footprint is built once, outside the timing loop; the loop cycles
// through a pool of 16 footprints of the size, at jittered positions around
// Bern so that they fall differently on the cell grid.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "geo/area_keys.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "geo/latlng.h"
#include "geo/s2_covering.h"
#include "geo/volume.h"

namespace utm::geo {
namespace {

constexpr LatLng kBern{46.8, 8.2};
constexpr uint64_t kSeed = 0x75746d646b657973;  // "utmdkeys"
constexpr size_t kPool = 16;

using test_util::RegularPolygon;
using test_util::Uniform;

// The sizes docs/geometry.md quotes, by benchmark argument.
enum Size { k100mCircle, k5kmPolygon, k50kmPolygon, k2500km2, k41000km2 };

const char* SizeName(int size) {
  switch (size) {
    case k100mCircle:
      return "100m_circle";
    case k5kmPolygon:
      return "5km_polygon";
    case k50kmPolygon:
      return "50km_polygon";
    case k2500km2:
      return "2500km2_polygon";
    default:
      return "41000km2_polygon";
  }
}

Footprint Make(int size, const LatLng& c) {
  switch (size) {
    case k100mCircle:
      return Circle{c, 100};
    case k5kmPolygon:
      return RegularPolygon(c, 2.5e3, 12);
    case k50kmPolygon:
      return RegularPolygon(c, 25e3, 12);
    case k2500km2:
      return RegularPolygon(c, 28.3e3, 32);
    default:
      return RegularPolygon(c, 114.5e3, 64);
  }
}

const std::vector<Footprint>& Pool(int size) {
  static auto* pools = new std::vector<std::vector<Footprint>>(5);
  std::vector<Footprint>& pool = (*pools)[size];
  if (pool.empty()) {
    std::mt19937_64 rng(kSeed + size);
    for (size_t i = 0; i < kPool; ++i) {
      const LatLng c{kBern.lat_deg + Uniform(rng, -0.5, 0.5),
                     kBern.lng_deg + Uniform(rng, -0.5, 0.5)};
      pool.push_back(Make(size, c));
    }
  }
  return pool;
}

// Argument 1: CoverFootprint's refine_levels (AreaKeyOptions).
void BM_AreaKeysFor(benchmark::State& state) {
  const int size = static_cast<int>(state.range(0));
  AreaKeyOptions options;
  options.refine_levels = static_cast<int>(state.range(1));
  const std::vector<Footprint>& pool = Pool(size);
  size_t i = 0, keys = 0;
  for (auto _ : state) {
    AreaKeys k = AreaKeysFor({pool[i++ % kPool]}, options);
    keys += k.reads.size() + k.writes.size();
    benchmark::DoNotOptimize(k);
  }
  state.SetLabel(SizeName(size));
  state.counters["keys"] = benchmark::Counter(
      static_cast<double>(keys), benchmark::Counter::kAvgIterations);
}

void BM_ChooseAreaCover(benchmark::State& state) {
  const int size = static_cast<int>(state.range(0));
  const std::vector<Footprint>& pool = Pool(size);
  size_t i = 0, cells = 0;
  for (auto _ : state) {
    AreaCover c = ChooseAreaCover(pool[i++ % kPool]);
    cells += c.cells.size();
    benchmark::DoNotOptimize(c);
  }
  state.SetLabel(SizeName(size));
  state.counters["cells"] = benchmark::Counter(
      static_cast<double>(cells), benchmark::Counter::kAvgIterations);
}

// Baseline: the fixed-level covering storage keys use today.
void BM_CoverFootprintLevel13(benchmark::State& state) {
  const int size = static_cast<int>(state.range(0));
  const std::vector<Footprint>& pool = Pool(size);
  size_t i = 0, cells = 0;
  for (auto _ : state) {
    std::vector<uint64_t> c = CoverFootprint(pool[i++ % kPool], 13);
    cells += c.size();
    benchmark::DoNotOptimize(c);
  }
  state.SetLabel(SizeName(size));
  state.counters["cells"] = benchmark::Counter(
      static_cast<double>(cells), benchmark::Counter::kAvgIterations);
}

BENCHMARK(BM_CoverFootprintLevel13)->DenseRange(k100mCircle, k41000km2);
BENCHMARK(BM_ChooseAreaCover)->DenseRange(k100mCircle, k41000km2);
BENCHMARK(BM_AreaKeysFor)
    ->ArgsProduct({benchmark::CreateDenseRange(k100mCircle, k41000km2, 1),
                   {1, 2, 4}});

}  // namespace
}  // namespace utm::geo
