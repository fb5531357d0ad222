// TelemetryCore::Ingest without gRPC: CPU per report as the number of live
// tracks grows at constant traffic density (the scaling curve),
// and memory per track.
//
//   build/services/telemetry/telemetry_benchmark
//
// Each track reports at 1 Hz in batches of 100, straight-line, every report
// checked for conformance against an intent and for geofences (none here,
// so the check is an index miss) and against its neighbours. Arguments:
// tracks, drones per km², fastest ground speed (m/s). Two mixes: 2/km² at
// up to 28 m/s (a busy city with fast delivery drones) and 7.5/km² at 4–10
// m/s (utmsim's default scenario, denser and slower). BM_IngestWithFastMovers
// adds a few aircraft at 60 m/s, above the speed limit: each is scanned by
// every report. BM_IngestWithFastMoversInGrid is its baseline: the limit
// raised to 61 m/s, so they are ordinary grid tracks and widen every search.
// BM_IngestWithIntruders: the same participants' reports with aircraft heard
// by Remote ID among them (30 m / 45 m of unknown accuracy plus 10 m/s ×
// 0.5 s of latency each; none raised alerts of their own), against its
// 0-intruder row: the cost of the participants' extra search of the
// intruders' grid. BM_IngestWithRegistration: the same reports with a
// registration checker (a registry of every aircraft behind a mutex, as the
// registry core's), against its no-checker row: after each aircraft's first
// report the check is one lookup of the aircraft's key per report.
#include <malloc.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "benchmark/benchmark.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "services/common/clock.h"
#include "services/common/registration_check.h"
#include "services/common/volume_convert.h"
#include "services/telemetry/telemetry_core.h"

namespace utm::telemetry {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

class OneIntentAirspace : public Airspace {
 public:
  explicit OneIntentAirspace(double radius_m) {
    auto info = std::make_shared<IntentInfo>();
    info->owner = "op";
    info->activated = true;
    geo::Volume4D v;
    v.volume.footprint = geo::Circle{geo::test_util::kZurich, radius_m};
    v.volume.altitude = {0, 2000};
    v.time = {kT0 - absl::Hours(1), kT0 + absl::Hours(10)};
    info->volumes = {v};
    info_ = std::move(info);
  }
  std::shared_ptr<const IntentInfo> Intent(const std::string&) const override {
    return info_;  // as LiveAirspace's cache does: no copy
  }
  std::vector<std::string> BlockingConstraints(const std::string&,
                                               const geo::LatLng&, double,
                                               double, double,
                                               absl::Time) const override {
    return {};
  }
  void MarkNonconforming(const std::string&, const std::string&,
                         absl::Time) override {}

 private:
  std::shared_ptr<const IntentInfo> info_;
};

// Every aircraft registered to "op", looked up under a lock.
class AllRegistered : public registration::RegistrationChecker {
 public:
  explicit AllRegistered(int n) {
    for (int i = 0; i < n; ++i) serials_.insert(absl::StrCat("ac", i));
  }
  absl::Status CheckAircraft(absl::string_view, absl::string_view aircraft_id,
                             int64_t, absl::string_view field) const override {
    absl::MutexLock lock(&mu_);
    return serials_.contains(aircraft_id)
               ? absl::OkStatus()
               : absl::FailedPreconditionError(
                     absl::StrCat(field, ": not registered"));
  }

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_set<std::string> serials_;
};

struct Fleet {
  std::vector<geo::LatLng> position;
  std::vector<double> ve, vn;
};

v1::PositionReport MakeReport(int i, const Fleet& f, absl::Time t) {
  v1::PositionReport r;
  r.set_aircraft_id(absl::StrCat("ac", i));
  r.set_intent_id("intent");
  *r.mutable_time() = TimeToProto(t);
  r.mutable_position()->set_lat_deg(f.position[i].lat_deg);
  r.mutable_position()->set_lng_deg(f.position[i].lng_deg);
  r.mutable_altitude()->set_value_m(500);
  r.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  r.mutable_velocity()->set_east_mps(f.ve[i]);
  r.mutable_velocity()->set_north_mps(f.vn[i]);
  r.mutable_accuracy()->set_horizontal_m(3);
  r.mutable_accuracy()->set_vertical_m(5);
  return r;
}

// `fast` of the n tracks fly at 60 m/s; the speed limit is `limit_mps`.
// `intruders` more aircraft, drawn like the fleet, are heard by Remote ID.
// `registered`: with a registration checker.
void RunIngest(benchmark::State& state, int fast, double limit_mps = 50,
               int intruders = 0, bool registered = false) {
  const int n = static_cast<int>(state.range(0));
  const double density = state.range(1) / 10.0;  // per km²
  const double top_speed = static_cast<double>(state.range(2));
  const double radius_m = std::sqrt(n / density / M_PI) * 1000;
  SimulatedClock clock(kT0);
  OneIntentAirspace airspace(radius_m * 1.1);
  std::mt19937_64 rng(42);
  Fleet fleet;
  for (int i = 0; i < n; ++i) {
    fleet.position.push_back(geo::GeodesicDestination(
        geo::test_util::kZurich, geo::test_util::Uniform(rng, 0, 360),
        radius_m * std::sqrt(geo::test_util::Uniform(rng, 0, 1))));
    // Speeds from 40 % of the top speed to the top speed, any course.
    // (Drawn for the fast ones too, so that the rest of the fleet is the
    // same whatever `fast`.)
    const double drawn =
        geo::test_util::Uniform(rng, 0.4 * top_speed, top_speed);
    const double speed = i < fast ? 60 : drawn;
    const double course = geo::test_util::Uniform(rng, 0, 2 * M_PI);
    fleet.ve.push_back(speed * std::sin(course));
    fleet.vn.push_back(speed * std::cos(course));
  }
  const size_t heap_before = mallinfo2().uordblks;
  TelemetryOptions options;
  options.max_speed_mps = limit_mps;
  TelemetryCore core(options, &clock, &airspace);
  AllRegistered registry(n);
  if (registered) core.SetRegistrationChecker(&registry);
  constexpr int kBatch = 100;
  for (int i = 0; i < n; i += kBatch) {
    google::protobuf::RepeatedPtrField<v1::PositionReport> batch;
    for (int j = i; j < std::min(n, i + kBatch); ++j) {
      *batch.Add() = MakeReport(j, fleet, kT0);
    }
    if (!core.Ingest("op", batch).errors.empty()) {
      state.SkipWithError("reports refused");
      return;
    }
  }
  const size_t heap_after = mallinfo2().uordblks;
  if (intruders > 0) {
    std::vector<IntruderReport> heard;
    for (int i = 0; i < intruders; ++i) {
      IntruderReport& in = heard.emplace_back();
      in.remote_id = absl::StrCat("rid", i);
      in.report = MakeReport(i, fleet, kT0);
      // The same place and course as participant i, 2 km higher: in every
      // search, never in conflict.
      in.report.clear_intent_id();
      in.report.mutable_altitude()->set_value_m(2500);
      in.report.clear_accuracy();
      in.latency = absl::Milliseconds(500);
    }
    if (!core.IngestIntruders(heard).errors.empty()) {
      state.SkipWithError("intruder reports refused");
      return;
    }
  }
  state.counters["bytes_per_track"] =
      static_cast<double>(heap_after - heap_before) / n;
  // Pre-built batches of later reports (positions unchanged: the cost is the
  // lookup, the neighbour scan and the checks, not the motion).
  std::vector<google::protobuf::RepeatedPtrField<v1::PositionReport>> batches;
  for (int i = 0; i < std::min(n, 20000); i += kBatch) {
    google::protobuf::RepeatedPtrField<v1::PositionReport> batch;
    for (int j = i; j < std::min(n, i + kBatch); ++j) {
      *batch.Add() = MakeReport(j, fleet, kT0);
    }
    batches.push_back(std::move(batch));
  }
  size_t next = 0;
  int64_t reports = 0, alerts = 0;
  for (auto _ : state) {
    TelemetryCore::Result r = core.Ingest("op", batches[next]);
    alerts += r.alerts.size();
    reports += batches[next].size();
    next = (next + 1) % batches.size();
  }
  state.SetItemsProcessed(reports);
  state.counters["reports_per_s"] =
      benchmark::Counter(reports, benchmark::Counter::kIsRate);
  state.counters["alert_changes_per_report"] =
      reports > 0 ? static_cast<double>(alerts) / reports : 0;
}

void BM_IngestAtDensity(benchmark::State& state) { RunIngest(state, 0); }
void BM_IngestWithFastMovers(benchmark::State& state) {
  RunIngest(state, static_cast<int>(state.range(3)));
}
void BM_IngestWithFastMoversInGrid(benchmark::State& state) {
  RunIngest(state, static_cast<int>(state.range(3)), 61);
}
void BM_IngestWithIntruders(benchmark::State& state) {
  RunIngest(state, 0, 50, static_cast<int>(state.range(3)));
}
void BM_IngestWithRegistration(benchmark::State& state) {
  RunIngest(state, 0, 50, 0, state.range(3) != 0);
}
BENCHMARK(BM_IngestAtDensity)
    ->ArgNames({"tracks", "per_10km2", "top_mps"})
    ->Args({1000, 20, 28})
    ->Args({10000, 20, 28})
    ->Args({100000, 20, 28})
    ->Args({1000, 75, 10})
    ->Args({10000, 75, 10})
    ->Args({100000, 75, 10})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_IngestWithFastMovers)
    ->ArgNames({"tracks", "per_10km2", "top_mps", "fast"})
    ->Args({10000, 75, 10, 0})
    ->Args({10000, 75, 10, 1})
    ->Args({10000, 75, 10, 10})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_IngestWithIntruders)
    ->ArgNames({"tracks", "per_10km2", "top_mps", "intruders"})
    ->Args({10000, 75, 10, 0})
    ->Args({10000, 75, 10, 100})
    ->Args({10000, 75, 10, 1000})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_IngestWithRegistration)
    ->ArgNames({"tracks", "per_10km2", "top_mps", "checker"})
    ->Args({10000, 75, 10, 0})
    ->Args({10000, 75, 10, 1})
    ->Args({100000, 75, 10, 0})
    ->Args({100000, 75, 10, 1})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_IngestWithFastMoversInGrid)
    ->ArgNames({"tracks", "per_10km2", "top_mps", "fast"})
    ->Args({10000, 75, 10, 1})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace utm::telemetry
