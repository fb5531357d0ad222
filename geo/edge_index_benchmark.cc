// Benchmarks of checks against zones of many vertices, with and without the
// edge index (geo/edge_index.h), in the same run:
//  - BM_SmallVolumeVsZone: a flight-sized square (4 vertices, 50-300 m)
//    against a zone of 100 / 2,000 / 20,000 vertices;
//  - BM_PointInZone: a position (a 1 mm circle, as CheckPosition asks)
//    against the same zones;
//  - BM_PrepareZone and BM_ValidateZone: what a zone of that size (with a
//    hole) costs once, when it is stored or loaded.
// Arguments: vertices; 1 with the index, 0 without (the plain paths: the
// fast filter for a zone without holes, the exact path for one with); 1
// for a zone with a hole (a tenth of the vertices), 0 without.
// BM_GeodesicDistance (intersect_benchmark.cc) is the in-run baseline.
//
// The zone is a ring around Zurich 30 km across with a wavy outline (edges
// of 5 m at 20,000 vertices, as in national data sets), with or without a
// hole; the
// small footprints sit anywhere over the zone's bounding box, a third of
// them within 20 m of its edge, from a fixed seed, cycled through a pool.
#include <benchmark/benchmark.h>

#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "geo/edge_index.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "geo/intersect.h"
#include "geo/volume.h"

namespace utm::geo {
namespace {

constexpr uint64_t kSeed = 0x65646765696478;  // "edgeidx"
constexpr size_t kPool = 256;

using test_util::kZurich;
using test_util::Uniform;

// n vertices in all: the outer ring, and a hole of a tenth of them when
// `holed`.
Polygon Zone(int n, bool holed) {
  std::mt19937_64 rng(kSeed + n);
  auto ring = [&](const LatLng& centre, double radius_m, int count) {
    std::vector<LatLng> out;
    const double phase = Uniform(rng, 0, 2 * M_PI);
    for (int i = 0; i < count; ++i) {
      const double a = 360.0 * i / count;
      const double wave = 1 + 0.08 * std::sin(7 * a * M_PI / 180 + phase) +
                          0.0002 * Uniform(rng, -1, 1);
      out.push_back(GeodesicDestination(centre, a, radius_m * wave));
    }
    return out;
  };
  Polygon p;
  const int hole = holed ? std::max(3, n / 10) : 0;
  p.vertices = ring(kZurich, 15e3, n - hole);
  if (holed) {
    p.holes.push_back(ring(GeodesicDestination(kZurich, 45, 4e3), 2e3, hole));
  }
  ValidationLimits limits;
  limits.max_vertices = 100000;
  if (!ValidatePolygon(p, limits, "zone").ok()) {
    std::fprintf(stderr, "edge_index_benchmark: invalid zone of %d\n", n);
    std::abort();
  }
  return p;
}

PreparedFootprint PrepareZone(const benchmark::State& state) {
  const bool indexed = state.range(1) != 0;
  PrepareOptions options;
  options.edge_index_min_vertices = indexed ? 0 : INT_MAX;
  options.index_holes = indexed;
  return PrepareFootprint(
      Zone(static_cast<int>(state.range(0)), state.range(2) != 0), options);
}

// Centres over the zone's box; a third of them next to its outer edge.
std::vector<LatLng> Centres(const Polygon& zone) {
  std::mt19937_64 rng(kSeed);
  std::vector<LatLng> out;
  for (size_t i = 0; i < kPool; ++i) {
    if (i % 3 == 0) {
      const LatLng& v = zone.vertices[static_cast<size_t>(
          Uniform(rng, 0, static_cast<double>(zone.vertices.size())))];
      out.push_back(
          GeodesicDestination(v, Uniform(rng, 0, 360), Uniform(rng, 0, 20)));
    } else {
      out.push_back(GeodesicDestination(kZurich, Uniform(rng, 0, 360),
                                        Uniform(rng, 0, 17e3)));
    }
  }
  return out;
}

void BM_SmallVolumeVsZone(benchmark::State& state) {
  const PreparedFootprint zone = PrepareZone(state);
  std::mt19937_64 rng(kSeed + 1);
  std::vector<PreparedFootprint> small;
  for (const LatLng& c : Centres(std::get<Polygon>(zone.footprint))) {
    small.push_back(
        PrepareFootprint(test_util::SquareAround(c, Uniform(rng, 25, 150))));
  }
  size_t i = 0, hits = 0;
  for (auto _ : state) {
    hits += FootprintsIntersect(zone, small[i]);
    i = (i + 1) % small.size();
  }
  state.counters["hit_fraction"] =
      static_cast<double>(hits) / static_cast<double>(state.iterations());
}

void BM_PointInZone(benchmark::State& state) {
  const PreparedFootprint zone = PrepareZone(state);
  std::vector<PreparedFootprint> points;
  for (const LatLng& c : Centres(std::get<Polygon>(zone.footprint))) {
    points.push_back(PrepareFootprint(Circle{c, 0.001}));
  }
  size_t i = 0, hits = 0;
  for (auto _ : state) {
    hits += FootprintsIntersect(zone, points[i]);
    i = (i + 1) % points.size();
  }
  state.counters["hit_fraction"] =
      static_cast<double>(hits) / static_cast<double>(state.iterations());
}

void BM_PrepareZone(benchmark::State& state) {
  const Polygon zone = Zone(static_cast<int>(state.range(0)), true);
  PrepareOptions options;
  options.edge_index_min_vertices = state.range(1) != 0 ? 0 : INT_MAX;
  options.index_holes = state.range(1) != 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(PrepareFootprint(zone, options));
  }
}

void BM_ValidateZone(benchmark::State& state) {
  const Polygon zone = Zone(static_cast<int>(state.range(0)), true);
  ValidationLimits limits;
  limits.max_vertices = 100000;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ValidatePolygon(zone, limits, "zone"));
  }
}

void ZoneCases(benchmark::internal::Benchmark* b) {
  for (const int holed : {0, 1}) {
    for (const int n : {100, 2000, 20000}) {
      for (const int indexed : {0, 1}) b->Args({n, indexed, holed});
    }
  }
}

void ZoneSizes(benchmark::internal::Benchmark* b) {
  for (const int n : {100, 2000, 20000}) {
    for (const int indexed : {0, 1}) b->Args({n, indexed});
  }
}

BENCHMARK(BM_SmallVolumeVsZone)->Apply(ZoneCases);
BENCHMARK(BM_PointInZone)->Apply(ZoneCases);
BENCHMARK(BM_PrepareZone)->Apply(ZoneSizes)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ValidateZone)
    ->Arg(100)
    ->Arg(2000)
    ->Arg(20000)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace utm::geo
