// Benchmarks of VolumeIndex (geo/volume_index.h) at 10 k, 100 k and 1 M
// stored volumes: Insert, Remove, Query (candidates from the R*-tree refined
// by the exact test) and QueryCandidates (the R*-tree walk alone, so that the
// difference is the cost of the exact refinement).
//
// The stored volumes model a busy day of small drone flights over a
// 100 km x 100 km region around Zurich: circles of radius 50-500 m and
// polygons of 4-8 vertices 100 m - 2 km across, altitude bands 30-120 m thick
// within 0-150 m above a ground at 500 m (WGS84), time windows of 10-60
// minutes spread over 2026-11-21. Queries are drawn from the same model.
//
// Each index is built once per size and kept for the whole run (about
// 1 GiB at 1 M volumes); building it is not timed.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "geo/latlng.h"
#include "geo/volume.h"
#include "geo/volume_index.h"

namespace utm::geo {
namespace {

constexpr LatLng kZurich{47.4, 8.5};
constexpr uint64_t kSeed = 0x75746d64696e6478;  // "utmdindx"
constexpr double kDegToRad = M_PI / 180.0;
constexpr double kRegionHalfWidthM = 50e3;
constexpr double kGroundM = 500;  // Metres above WGS84; Zurich's ground.

// Calls per timed batch of Insert or Remove (see SetPerOpCounters).
constexpr size_t kBatch = 256;
constexpr size_t kFreshVolumes = 4096;
constexpr size_t kQueries = 1024;

using test_util::Uniform;
using test_util::UniformInt;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "volume_index_benchmark: %s\n", what.c_str());
  std::abort();
}

// A star-shaped polygon (one vertex per angular sector, every gap under
// 180°), hence simple; half of them concave.
Polygon RandomPolygon(std::mt19937_64& rng, const LatLng& centre) {
  const int n = UniformInt(rng, 4, 8);
  const double radius_m = Uniform(rng, 50, 1000);
  const double aspect = Uniform(rng, 1, 3);
  const double orientation_deg = Uniform(rng, 0, 180);
  const bool concave = UniformInt(rng, 0, 1) == 1;
  const double step_deg = 360.0 / n;
  Polygon polygon;
  for (int i = 0; i < n; ++i) {
    const double theta_deg = (i + Uniform(rng, -0.3, 0.3)) * step_deg;
    const double phi = theta_deg * kDegToRad;
    const double ellipse =
        1 / std::sqrt(std::cos(phi) * std::cos(phi) +
                      aspect * aspect * std::sin(phi) * std::sin(phi));
    const double scale =
        concave && i % 2 == 1 ? Uniform(rng, 0.4, 0.7) : Uniform(rng, 0.9, 1.0);
    polygon.vertices.push_back(GeodesicDestination(
        centre, orientation_deg + theta_deg, radius_m * ellipse * scale));
  }
  return polygon;
}

Volume4D RandomVolume(std::mt19937_64& rng) {
  static const absl::Time kDayStart = absl::FromUnixSeconds(1795219200);
  for (;;) {
    // Uniform over the square region (east and north offsets).
    const double east_m = Uniform(rng, -kRegionHalfWidthM, kRegionHalfWidthM);
    const double north_m = Uniform(rng, -kRegionHalfWidthM, kRegionHalfWidthM);
    const LatLng centre = GeodesicDestination(
        GeodesicDestination(kZurich, 0, north_m), 90, east_m);
    Volume4D v;
    if (UniformInt(rng, 0, 1) == 0) {
      v.volume.footprint = Circle{centre, Uniform(rng, 50, 500)};
    } else {
      v.volume.footprint = RandomPolygon(rng, centre);
    }
    const double thickness_m = Uniform(rng, 30, 120);
    v.volume.altitude.lower_m = kGroundM + Uniform(rng, 0, 150 - thickness_m);
    v.volume.altitude.upper_m = v.volume.altitude.lower_m + thickness_m;
    const absl::Duration duration = absl::Seconds(Uniform(rng, 600, 3600));
    v.time.start =
        kDayStart +
        absl::Seconds(std::floor(Uniform(
            rng, 0, absl::ToDoubleSeconds(absl::Hours(24) - duration))));
    v.time.end = v.time.start + duration;
    // The generator never makes an invalid volume; checking keeps the
    // index's precondition true should the validation rules tighten.
    if (ValidateVolume4D(v, ValidationLimits(), "").ok()) return v;
  }
}

// An index of `size` volumes under ids 0..size-1, plus volumes to insert
// (never stored) and queries, all from fixed seeds. Smaller sizes store a
// prefix of the larger ones' volumes.
struct Fixture {
  VolumeIndex index;
  std::vector<Volume4D> stored;  // stored[id]
  std::vector<Volume4D> fresh;
  std::vector<Volume4D> queries;
  // Per query, averaged over `queries`.
  double candidates = 0;
  double hits = 0;
};

std::unique_ptr<Fixture> BuildFixture(size_t size) {
  auto f = std::make_unique<Fixture>();
  std::mt19937_64 rng(kSeed);
  f->stored.reserve(size);
  for (size_t id = 0; id < size; ++id) {
    f->stored.push_back(RandomVolume(rng));
    if (!f->index.Insert(id, f->stored.back()).ok()) Die("insert failed");
  }
  std::mt19937_64 fresh_rng(kSeed + 1);
  for (size_t i = 0; i < kFreshVolumes; ++i) {
    f->fresh.push_back(RandomVolume(fresh_rng));
  }
  std::mt19937_64 query_rng(kSeed + 2);
  size_t candidates = 0;
  size_t hits = 0;
  for (size_t i = 0; i < kQueries; ++i) {
    f->queries.push_back(RandomVolume(query_rng));
    candidates += f->index.QueryCandidates(f->queries.back()).size();
    hits += f->index.Query(f->queries.back()).size();
  }
  f->candidates = static_cast<double>(candidates) / kQueries;
  f->hits = static_cast<double>(hits) / kQueries;
  return f;
}

Fixture& GetFixture(size_t size) {
  static auto* const cache = new std::map<size_t, std::unique_ptr<Fixture>>();
  std::unique_ptr<Fixture>& f = (*cache)[size];
  if (f == nullptr) f = BuildFixture(size);
  return *f;
}

void SetCounters(benchmark::State& state, const Fixture& f) {
  state.counters["candidates"] = f.candidates;
  state.counters["hits"] = f.hits;
}

// Insert and Remove time a batch of calls and undo it with the timer paused,
// so the index stays at its nominal size. Pausing costs microseconds, hence
// batches. CPU time per call is reported as "per_op" (seconds, so "5u" is
// 5 µs): other jobs on a shared machine inflate it much less than wall
// time.
void SetPerOpCounters(benchmark::State& state, const Fixture& f) {
  SetCounters(state, f);
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["per_op"] =
      benchmark::Counter(kBatch, benchmark::Counter::kIsIterationInvariantRate |
                                     benchmark::Counter::kInvert);
}

// Inserts volumes that are not in the index under new ids.
void BM_VolumeIndexInsert(benchmark::State& state) {
  Fixture& f = GetFixture(state.range(0));
  const VolumeIndex::Id first_id = f.stored.size();
  size_t next = 0;
  for (auto _ : state) {
    const size_t batch_start = next;
    for (size_t i = 0; i < kBatch; ++i) {
      absl::Status status = f.index.Insert(first_id + next, f.fresh[next]);
      benchmark::DoNotOptimize(status);
      if (++next == f.fresh.size()) next = 0;
    }
    state.PauseTiming();
    for (size_t i = 0, j = batch_start; i < kBatch; ++i) {
      f.index.Remove(first_id + j);
      if (++j == f.fresh.size()) j = 0;
    }
    state.ResumeTiming();
  }
  if (f.index.size() != f.stored.size()) Die("index size changed");
  SetPerOpCounters(state, f);
}

// Removes stored volumes in a fixed random order.
void BM_VolumeIndexRemove(benchmark::State& state) {
  Fixture& f = GetFixture(state.range(0));
  std::vector<VolumeIndex::Id> order(f.stored.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(kSeed + 3));
  size_t next = 0;
  for (auto _ : state) {
    const size_t batch_start = next;
    for (size_t i = 0; i < kBatch; ++i) {
      bool found = f.index.Remove(order[next]);
      benchmark::DoNotOptimize(found);
      if (++next == order.size()) next = 0;
    }
    state.PauseTiming();
    for (size_t i = 0, j = batch_start; i < kBatch; ++i) {
      if (!f.index.Insert(order[j], f.stored[order[j]]).ok()) {
        Die("re-insert failed");
      }
      if (++j == order.size()) j = 0;
    }
    state.ResumeTiming();
  }
  if (f.index.size() != f.stored.size()) Die("index size changed");
  SetPerOpCounters(state, f);
}

void BM_VolumeIndexQuery(benchmark::State& state) {
  const Fixture& f = GetFixture(state.range(0));
  size_t i = 0;
  for (auto _ : state) {
    std::vector<VolumeIndex::Id> ids = f.index.Query(f.queries[i]);
    benchmark::DoNotOptimize(ids.data());
    if (++i == f.queries.size()) i = 0;
  }
  SetCounters(state, f);
  state.SetItemsProcessed(state.iterations());
}

void BM_VolumeIndexQueryCandidates(benchmark::State& state) {
  const Fixture& f = GetFixture(state.range(0));
  size_t i = 0;
  for (auto _ : state) {
    std::vector<VolumeIndex::Id> ids = f.index.QueryCandidates(f.queries[i]);
    benchmark::DoNotOptimize(ids.data());
    if (++i == f.queries.size()) i = 0;
  }
  SetCounters(state, f);
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_VolumeIndexInsert)
    ->Arg(10000)
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_VolumeIndexRemove)
    ->Arg(10000)
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_VolumeIndexQuery)
    ->Arg(10000)
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_VolumeIndexQueryCandidates)
    ->Arg(10000)
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace utm::geo
