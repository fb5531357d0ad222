// Benchmarks of region ownership (services/telemetry/regions.h): what the
// replica receiving a position report pays to find where it goes.
//
//   build/services/telemetry/regions_benchmark
//
// BM_RegionOf (the report's own region: one S2 cell id) is the in-run
// baseline. BM_RegionsWithin adds the halo at the default reach (3,050 m)
// and counts regions per report and the share of reports that go to more
// than one; BM_Route is RegionsWithin plus OwnerOf for each region, over 3,
// 5 and 10 members. Positions are uniform by area between 60° S and 60° N,
// drawn once from a fixed seed; the loop cycles through 4,096 of them.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "geo/geo_testing.h"
#include "geo/latlng.h"
#include "services/telemetry/detector.h"
#include "services/telemetry/regions.h"

namespace utm::telemetry {
namespace {

constexpr size_t kPoints = 4096;

const std::vector<geo::LatLng>& Points() {
  static const auto* points = [] {
    auto* v = new std::vector<geo::LatLng>;
    std::mt19937_64 rng(0x75746d6472656773);  // "utmdregs"
    const double s = std::sin(60 * M_PI / 180);
    for (size_t i = 0; i < kPoints; ++i) {
      v->push_back({std::asin(geo::test_util::Uniform(rng, -s, s)) * 180 / M_PI,
                    geo::test_util::Uniform(rng, -180, 180)});
    }
    return v;
  }();
  return *points;
}

const double kReachM = RegionReachM(50, Separation());

void BM_RegionOf(benchmark::State& state) {
  const std::vector<geo::LatLng>& points = Points();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(RegionOf(points[i++ % kPoints]));
  }
}

void BM_RegionsWithin(benchmark::State& state) {
  const std::vector<geo::LatLng>& points = Points();
  size_t i = 0, regions = 0, multi = 0;
  for (auto _ : state) {
    const std::vector<uint64_t> r = RegionsWithin(points[i++ % kPoints], kReachM);
    regions += r.size();
    multi += r.size() > 1;
    benchmark::DoNotOptimize(r);
  }
  state.counters["regions_per_report"] = benchmark::Counter(
      static_cast<double>(regions), benchmark::Counter::kAvgIterations);
  state.counters["multi_region_share"] = benchmark::Counter(
      static_cast<double>(multi), benchmark::Counter::kAvgIterations);
}

void BM_Route(benchmark::State& state) {
  std::vector<std::string> members;
  for (int m = 0; m < state.range(0); ++m) {
    members.push_back(absl::StrCat("utmd-", m));
  }
  const std::vector<geo::LatLng>& points = Points();
  size_t i = 0;
  for (auto _ : state) {
    for (uint64_t r : RegionsWithin(points[i++ % kPoints], kReachM)) {
      benchmark::DoNotOptimize(OwnerOf(r, members));
    }
  }
}

void BM_OwnerOf(benchmark::State& state) {
  std::vector<std::string> members;
  for (int m = 0; m < state.range(0); ++m) {
    members.push_back(absl::StrCat("utmd-", m));
  }
  const std::vector<geo::LatLng>& points = Points();
  std::vector<uint64_t> regions;
  for (const geo::LatLng& p : points) regions.push_back(RegionOf(p));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(OwnerOf(regions[i++ % kPoints], members));
  }
}

BENCHMARK(BM_RegionOf);
BENCHMARK(BM_RegionsWithin);
BENCHMARK(BM_OwnerOf)->Arg(3)->Arg(5)->Arg(10);
BENCHMARK(BM_Route)->Arg(3)->Arg(5)->Arg(10);

}  // namespace
}  // namespace utm::telemetry
