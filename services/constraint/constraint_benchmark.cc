// Restart of the constraint core (no gRPC): open the embedded store and
// rebuild the core (decode, validate, index, schedule, change log) after N
// published constraints of a national-style mix (constraint_testing.h: 1 in
// 100 a 2,000-vertex polygon, two thirds with weekly schedules).
//  - BM_RecoverConstraints/N: the constraint core's restart.
//  - BM_RecoverIntents/N: the baseline, in the same run: the intent core's
//    restart after N filings of one circle each, the same store.
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "services/common/clock.h"
#include "services/common/store.h"
#include "services/constraint/constraint_core.h"
#include "services/constraint/constraint_testing.h"
#include "services/intent/intent_core.h"

namespace utm::constraint {
namespace {

namespace fs = std::filesystem;

// Monday 2027-03-01 10:00 UTC.
const absl::Time kNow = absl::FromUnixSeconds(1803895200);
const Caller kAuthority{"ch-foca", /*authority=*/true, /*admin=*/false};

fs::path Dir(const std::string& name) {
  return fs::temp_directory_path() /
         absl::StrCat("utm-constraint-bench-", name);
}

std::unique_ptr<store::Store> OpenStore(const fs::path& dir) {
  store::StoreOptions options;
  options.backend = "embedded";
  options.dir = dir.string();
  options.sync = false;
  absl::StatusOr<std::unique_ptr<store::Store>> s = store::OpenStore(options);
  if (!s.ok()) std::abort();
  return *std::move(s);
}

uint64_t BytesIn(const fs::path& dir) {
  uint64_t bytes = 0;
  for (const auto& e : fs::directory_iterator(dir)) bytes += e.file_size();
  return bytes;
}

ConstraintOptions Options() {
  ConstraintOptions o;
  o.notify_thread = false;
  return o;
}

void BM_RecoverConstraints(benchmark::State& state) {
  const int64_t n = state.range(0);
  const fs::path dir = Dir(absl::StrCat("recover-", n));
  fs::remove_all(dir);
  static SimulatedClock clock(kNow);
  {
    std::unique_ptr<store::Store> store = OpenStore(dir);
    ConstraintCore core(Options(), &clock, store.get());
    if (!core.Recover().ok()) std::abort();
    for (int64_t k = 0; k < n; ++k) {
      v1::PublishConstraintRequest request;
      *request.mutable_constraint() = test_util::NationalMix(k);
      if (!core.Publish(kAuthority, request).ok()) std::abort();
    }
  }
  for (auto _ : state) {
    std::unique_ptr<store::Store> store = OpenStore(dir);
    auto core =
        std::make_unique<ConstraintCore>(Options(), &clock, store.get());
    if (!core->Recover().ok()) std::abort();
    if (core->constraint_count() != static_cast<size_t>(n)) std::abort();
    state.PauseTiming();  // closing is not part of a restart
    core.reset();
    store.reset();
    state.ResumeTiming();
  }
  state.counters["MB_on_disk"] = static_cast<double>(BytesIn(dir)) / 1e6;
  fs::remove_all(dir);
}
BENCHMARK(BM_RecoverConstraints)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond);

void BM_RecoverIntents(benchmark::State& state) {
  const int64_t n = state.range(0);
  const fs::path dir = Dir(absl::StrCat("intents-", n));
  fs::remove_all(dir);
  static SimulatedClock clock(kNow);
  {
    std::unique_ptr<store::Store> store = OpenStore(dir);
    intent::IntentCore core(intent::IntentOptions(), &clock, nullptr,
                            store.get());
    if (!core.Recover().ok()) std::abort();
    for (int64_t k = 0; k < n; ++k) {
      const geo::LatLng centre = geo::GeodesicDestination(
          geo::GeodesicDestination(geo::test_util::kZurich, 90,
                                   static_cast<double>(k % 100) * 100.0),
          0, static_cast<double>(k / 100) * 100.0);
      intent::FileRequest request;
      request.volumes.push_back(
          geo::Volume4D{geo::Volume3D{geo::Circle{centre, 40}, {500, 620}},
                        {kNow + absl::Minutes(10), kNow + absl::Minutes(40)}});
      if (!core.File("op", request).ok()) std::abort();
    }
  }
  for (auto _ : state) {
    std::unique_ptr<store::Store> store = OpenStore(dir);
    auto core = std::make_unique<intent::IntentCore>(
        intent::IntentOptions(), &clock, nullptr, store.get());
    if (!core->Recover().ok()) std::abort();
    if (core->live_count() != static_cast<size_t>(n)) std::abort();
    state.PauseTiming();
    core.reset();
    store.reset();
    state.ResumeTiming();
  }
  state.counters["MB_on_disk"] = static_cast<double>(BytesIn(dir)) / 1e6;
  fs::remove_all(dir);
}
BENCHMARK(BM_RecoverIntents)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace utm::constraint
