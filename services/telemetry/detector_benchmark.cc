// Conflict-pair evaluations per second of the detector alone, with a
// baseline in the same run: the squared horizontal range of the same pairs
// (the least any pairwise filter must compute). Inputs are generated once
// from a fixed seed; each iteration runs over a pool of 4096 pairs so caches
// and branch predictors see a realistic mix.
#include <cmath>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "services/telemetry/detector.h"

namespace utm::telemetry {
namespace {

constexpr int kPool = 4096;

// Planned near misses, uniform random states and a few parallel or level
// pairs, as in detector_test's randomised comparison.
const std::vector<State>& Pairs() {
  static const std::vector<State>* const pairs = [] {
    auto* v = new std::vector<State>();
    std::mt19937_64 rng(20261121);
    std::uniform_real_distribution<double> u(0, 1);
    auto uni = [&](double lo, double hi) { return lo + (hi - lo) * u(rng); };
    for (int i = 0; i < kPool; ++i) {
      State r;
      const double kind = u(rng);
      if (kind < 0.5) {
        const double speed = uni(1, 60), heading = uni(0, 2 * M_PI);
        const double miss = uni(0, 150), tcpa = uni(-20, 60);
        const double ux = std::cos(heading), uy = std::sin(heading);
        r = {-tcpa * speed * ux - miss * uy,
             -tcpa * speed * uy + miss * ux,
             uni(-120, 120),
             speed * ux,
             speed * uy,
             u(rng) < 0.3 ? 0 : uni(-10, 10)};
      } else if (kind < 0.9) {
        r = {uni(-3000, 3000), uni(-3000, 3000), uni(-150, 150),
             uni(-60, 60),     uni(-60, 60),     uni(-10, 10)};
      } else {
        r = {uni(-100, 100), uni(-100, 100), uni(-60, 60), 0, 0, 0};
      }
      v->push_back(r);
    }
    return v;
  }();
  return *pairs;
}

void BM_Detect(benchmark::State& state) {
  const std::vector<State>& pairs = Pairs();
  const Separation sep;
  int64_t conflicts = 0;
  for (auto _ : state) {
    for (const State& r : pairs) {
      const Detection d = Detect(r, sep);
      benchmark::DoNotOptimize(d);
      conflicts += d.conflict;
    }
  }
  state.SetItemsProcessed(state.iterations() * kPool);
  state.counters["conflict_share"] =
      benchmark::Counter(static_cast<double>(conflicts) /
                         static_cast<double>(state.iterations() * kPool));
}
BENCHMARK(BM_Detect);

// The same, with the two aircraft's states rather than the relative one
// (one more subtraction per coordinate).
void BM_DetectPair(benchmark::State& state) {
  const std::vector<State>& pairs = Pairs();
  const Separation sep;
  const State own{100, 200, 50, 10, -3, 1};
  std::vector<State> intruders;
  for (const State& r : pairs) intruders.push_back(Relative(own, r));
  for (auto _ : state) {
    for (const State& intruder : intruders) {
      benchmark::DoNotOptimize(Detect(own, intruder, sep));
    }
  }
  state.SetItemsProcessed(state.iterations() * kPool);
}
BENCHMARK(BM_DetectPair);

void BM_LossNow(benchmark::State& state) {
  const std::vector<State>& pairs = Pairs();
  const Separation sep;
  for (auto _ : state) {
    for (const State& r : pairs) benchmark::DoNotOptimize(LossNow(r, sep));
  }
  state.SetItemsProcessed(state.iterations() * kPool);
}
BENCHMARK(BM_LossNow);

// Baseline: |s|² of the same pairs.
void BM_RangeSquaredBaseline(benchmark::State& state) {
  const std::vector<State>& pairs = Pairs();
  for (auto _ : state) {
    for (const State& r : pairs) {
      benchmark::DoNotOptimize(r.x * r.x + r.y * r.y);
    }
  }
  state.SetItemsProcessed(state.iterations() * kPool);
}
BENCHMARK(BM_RangeSquaredBaseline);

// From two geodetic reports (GeographicLib): what a caller pays per pair if
// it converts latitude/longitude every time instead of keeping tracks in a
// local or earth-centred frame.
void BM_RelativeLocalState(benchmark::State& state) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-0.05, 0.05);
  std::vector<std::pair<GeodeticState, GeodeticState>> reports;
  for (int i = 0; i < 256; ++i) {
    GeodeticState a, b;
    a.position = {47.3769 + u(rng), 8.5417 + u(rng)};
    b.position = {47.3769 + u(rng), 8.5417 + u(rng)};
    a.altitude_m = 500 + 1000 * u(rng);
    b.altitude_m = 500 + 1000 * u(rng);
    a.east_mps = 200 * u(rng), a.north_mps = 200 * u(rng);
    b.east_mps = 200 * u(rng), b.north_mps = 200 * u(rng);
    reports.push_back({a, b});
  }
  size_t i = 0;
  for (auto _ : state) {
    const auto& [a, b] = reports[i++ & 255];
    benchmark::DoNotOptimize(RelativeLocalState(a, b));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RelativeLocalState);

}  // namespace
}  // namespace utm::telemetry
