// What the telemetry service tests share: an airspace with nothing in it,
// and a collector of what a StreamPositions or WatchAlerts stream receives.
//
// Typical usage:
//   test_util::EmptyAirspace airspace;
//   telemetry::TelemetryCore core(options, &clock, &airspace);
//   ... auto stream = stub->StreamPositions(context.get());
//   test_util::AlertCollector<Stream> in(stream.get());
//   std::optional<v1::Alert> a =
//       in.WaitFor(v1::ALERT_KIND_CONFLICT_PREDICTED, v1::ALERT_STATE_RAISED);
#ifndef UTM_TESTS_TELEMETRY_TEST_UTIL_H_
#define UTM_TESTS_TELEMETRY_TEST_UTIL_H_

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "geo/geodesy.h"
#include "services/common/volume_convert.h"
#include "services/telemetry/telemetry_core.h"
#include "utm/v1/telemetry.pb.h"

namespace utm::test_util {

// No intents, no constraints: every participant's report raises
// UNKNOWN_INTENT.
class EmptyAirspace final : public telemetry::Airspace {
 public:
  std::shared_ptr<const telemetry::IntentInfo> Intent(
      const std::string&) const override {
    return nullptr;
  }
  std::vector<std::string> BlockingConstraints(const std::string&,
                                               const geo::LatLng&, double,
                                               double, double,
                                               absl::Time) const override {
    return {};
  }
  void MarkNonconforming(const std::string&, const std::string&,
                         absl::Time) override {}
};

// A report of `aircraft` at `p`, stamped `t`: 500 m above WGS84, 3 m
// horizontal and 5 m vertical accuracy, flying east at `east_mps` (no
// velocity when unset).
inline v1::PositionReport ReportAt(const std::string& aircraft,
                                   const geo::LatLng& p, absl::Time t,
                                   std::optional<double> east_mps = {}) {
  v1::PositionReport r;
  r.set_aircraft_id(aircraft);
  *r.mutable_time() = TimeToProto(t);
  r.mutable_position()->set_lat_deg(p.lat_deg);
  r.mutable_position()->set_lng_deg(p.lng_deg);
  r.mutable_altitude()->set_value_m(500);
  r.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  if (east_mps) r.mutable_velocity()->set_east_mps(*east_mps);
  r.mutable_accuracy()->set_horizontal_m(3);
  r.mutable_accuracy()->set_vertical_m(5);
  return r;
}

// The same, flying toward `azimuth_deg` (clockwise from north) at
// `speed_mps`.
inline v1::PositionReport ReportHeading(const std::string& aircraft,
                                        const geo::LatLng& p, absl::Time t,
                                        double azimuth_deg, double speed_mps) {
  v1::PositionReport r = ReportAt(aircraft, p, t);
  const double rad = azimuth_deg * M_PI / 180;
  r.mutable_velocity()->set_north_mps(speed_mps * std::cos(rad));
  r.mutable_velocity()->set_east_mps(speed_mps * std::sin(rad));
  return r;
}

// Watches every alert within `radius_m` of `center`.
inline v1::WatchAlertsRequest WatchCircle(const geo::LatLng& center,
                                          double radius_m) {
  v1::WatchAlertsRequest watch;
  v1::Circle* area =
      watch.mutable_area()->mutable_volume()->mutable_outline_circle();
  area->mutable_center()->set_lat_deg(center.lat_deg);
  area->mutable_center()->set_lng_deg(center.lng_deg);
  area->set_radius_m(radius_m);
  return watch;
}

// Collects the AlertBatches a stream receives, on a thread of its own, until
// the stream ends. Every wait is bounded (10 s).
template <typename Stream>
class AlertCollector {
 public:
  explicit AlertCollector(Stream* stream)
      : thread_([this, stream] {
          v1::AlertBatch batch;
          while (stream->Read(&batch)) {
            absl::MutexLock lock(&mu_);
            batches_.push_back(batch);
          }
        }) {}
  ~AlertCollector() { Join(); }
  AlertCollector(const AlertCollector&) = delete;
  AlertCollector& operator=(const AlertCollector&) = delete;

  // Until the stream has ended (the caller ends it first).
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

  // The first alert received that `match` accepts, waiting for it.
  std::optional<v1::Alert> WaitFor(
      const std::function<bool(const v1::Alert&)>& match) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      for (const v1::Alert& a : Alerts()) {
        if (match(a)) return a;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    return std::nullopt;
  }
  std::optional<v1::Alert> WaitFor(v1::AlertKind kind, v1::AlertState state) {
    return WaitFor([&](const v1::Alert& a) {
      return a.kind() == kind && a.state() == state;
    });
  }
  // Whether batch `seq` was acknowledged, waiting for it.
  bool WaitForAck(int64_t seq) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      {
        absl::MutexLock lock(&mu_);
        for (const v1::AlertBatch& b : batches_) {
          if (b.acked_batch_seq() >= seq) return true;
        }
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }

  // What was received so far.
  std::vector<v1::AlertBatch> Batches() {
    absl::MutexLock lock(&mu_);
    return batches_;
  }
  std::vector<v1::Alert> Alerts() {
    absl::MutexLock lock(&mu_);
    std::vector<v1::Alert> out;
    for (const v1::AlertBatch& b : batches_) {
      out.insert(out.end(), b.alerts().begin(), b.alerts().end());
    }
    return out;
  }
  std::vector<v1::ReportError> Errors() {
    absl::MutexLock lock(&mu_);
    std::vector<v1::ReportError> out;
    for (const v1::AlertBatch& b : batches_) {
      out.insert(out.end(), b.errors().begin(), b.errors().end());
    }
    return out;
  }

 private:
  absl::Mutex mu_;
  std::vector<v1::AlertBatch> batches_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace utm::test_util

#endif  // UTM_TESTS_TELEMETRY_TEST_UTIL_H_
