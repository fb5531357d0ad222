// Benchmarks of a deployment's region check (geo/region.h), indexed and
// linear (every edge, as before the index) in the same run:
//  - BM_RegionContainsFootprint: a flight-sized footprint (a square of
//    50-300 m or a circle of 25-150 m radius) against a border of 1,000 /
//    10,000 / 100,000 vertices;
//  - BM_RegionContainsPoint: a position against the same borders;
//  - BM_RegionCreate: validating and indexing the border, once per start
//    (one iteration), with each ring's crossing check indexed (Create) or
//    swept by latitude alone (CreateLinear: near a minute at 100,000
//    vertices).
// Arguments: vertices; 1 indexed, 0 linear.
//
// The border is a country-sized ring (about 800 km across, centred at 50°N
// 10°E) wandering at every scale (test_util::BorderRing), with a hole of a
// tenth of the vertices. Footprints sit anywhere inside the border's
// reach, a third of them within 300 m of its edge, from a fixed seed,
// cycled through a pool.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "geo/region.h"
#include "geo/region_test_peer.h"
#include "geo/volume.h"

namespace utm::geo {

namespace {

constexpr uint64_t kSeed = 0x726567696f6e;  // "region"
constexpr size_t kPool = 256;
const LatLng kCentre{50, 10};
constexpr double kRadiusM = 400e3;

using test_util::Uniform;

std::vector<Polygon> Border(int n) {
  std::mt19937_64 rng(kSeed + n);
  const int hole = n / 10;
  Polygon p{test_util::BorderRing(rng, kCentre, kRadiusM, n - hole)};
  p.holes.push_back(
      test_util::BorderRing(rng, GeodesicDestination(kCentre, 45, kRadiusM / 3),
                            kRadiusM / 10, hole));
  return {p};
}

// Created once per size and kept: validating 100,000 vertices takes
// longer than all the checks against them.
const Region& MakeRegion(int n) {
  static auto* made = new std::map<int, Region>();
  if (auto it = made->find(n); it != made->end()) return it->second;
  absl::StatusOr<Region> r = Region::Create(Border(n), {}, "border");
  if (!r.ok()) {
    std::fprintf(stderr, "region_benchmark: %s\n",
                 r.status().ToString().c_str());
    std::abort();
  }
  return made->emplace(n, *std::move(r)).first->second;
}

std::vector<LatLng> Centres(const Polygon& border) {
  std::mt19937_64 rng(kSeed);
  std::vector<LatLng> out;
  for (size_t i = 0; i < kPool; ++i) {
    if (i % 3 == 0) {
      const LatLng& v = border.vertices[static_cast<size_t>(
          Uniform(rng, 0, static_cast<double>(border.vertices.size())))];
      out.push_back(
          GeodesicDestination(v, Uniform(rng, 0, 360), Uniform(rng, 0, 300)));
    } else {
      out.push_back(GeodesicDestination(kCentre, Uniform(rng, 0, 360),
                                        Uniform(rng, 0, 1.2 * kRadiusM)));
    }
  }
  return out;
}

void BM_RegionContainsFootprint(benchmark::State& state) {
  const Region& region = MakeRegion(static_cast<int>(state.range(0)));
  const bool indexed = state.range(1) != 0;
  std::mt19937_64 rng(kSeed + 1);
  std::vector<Footprint> footprints;
  for (const LatLng& c : Centres(region.polygons()[0])) {
    footprints.push_back(
        footprints.size() % 2 == 0
            ? Footprint(test_util::SquareAround(c, Uniform(rng, 25, 150)))
            : Footprint(Circle{c, Uniform(rng, 25, 150)}));
  }
  size_t i = 0, inside = 0;
  for (auto _ : state) {
    inside += indexed ? region.Contains(footprints[i])
                      : RegionTestPeer::ContainsLinear(region, footprints[i]);
    i = (i + 1) % footprints.size();
  }
  state.counters["inside_fraction"] =
      static_cast<double>(inside) / static_cast<double>(state.iterations());
}

void BM_RegionContainsPoint(benchmark::State& state) {
  const Region& region = MakeRegion(static_cast<int>(state.range(0)));
  const bool indexed = state.range(1) != 0;
  const std::vector<LatLng> points = Centres(region.polygons()[0]);
  size_t i = 0, inside = 0;
  for (auto _ : state) {
    inside += indexed ? region.Contains(points[i])
                      : RegionTestPeer::ContainsLinear(region, points[i]);
    i = (i + 1) % points.size();
  }
  state.counters["inside_fraction"] =
      static_cast<double>(inside) / static_cast<double>(state.iterations());
}

void BM_RegionCreate(benchmark::State& state) {
  const std::vector<Polygon> border = Border(static_cast<int>(state.range(0)));
  const bool indexed = state.range(1) != 0;
  for (auto _ : state) {
    absl::StatusOr<Region> r =
        indexed ? Region::Create(border, {}, "border")
                : RegionTestPeer::CreateLinear(border, {}, "border");
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
    benchmark::DoNotOptimize(r);
  }
}

void Sizes(benchmark::internal::Benchmark* b) {
  for (const int n : {1000, 10000, 100000}) {
    for (const int indexed : {0, 1}) b->Args({n, indexed});
  }
}

BENCHMARK(BM_RegionContainsFootprint)
    ->Apply(Sizes)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RegionContainsPoint)->Apply(Sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RegionCreate)
    ->Apply(Sizes)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace utm::geo
