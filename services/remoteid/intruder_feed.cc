#include "services/remoteid/intruder_feed.h"

#include <cmath>

#include "services/common/volume_convert.h"

namespace utm::remoteid {

std::vector<telemetry::IntruderReport> ToIntruderReports(
    const std::vector<HeardState>& states, int* without_altitude) {
  constexpr double kRad = M_PI / 180;
  std::vector<telemetry::IntruderReport> out;
  out.reserve(states.size());
  for (const HeardState& s : states) {
    if (!s.fix.altitude_m) {
      if (without_altitude != nullptr) ++*without_altitude;
      continue;
    }
    telemetry::IntruderReport& r = out.emplace_back();
    r.remote_id = s.remote_id;
    r.latency = s.latency;
    // No aircraft_id: IngestIntruders names the aircraft by remote_id.
    v1::PositionReport& p = r.report;
    *p.mutable_time() = TimeToProto(s.fix.time);
    p.mutable_position()->set_lat_deg(s.fix.position.lat_deg);
    p.mutable_position()->set_lng_deg(s.fix.position.lng_deg);
    p.mutable_altitude()->set_value_m(*s.fix.altitude_m);
    p.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
    if (s.fix.has_velocity) {
      p.mutable_velocity()->set_north_mps(s.fix.speed_mps *
                                          std::cos(s.fix.track_deg * kRad));
      p.mutable_velocity()->set_east_mps(s.fix.speed_mps *
                                         std::sin(s.fix.track_deg * kRad));
    }
    p.mutable_velocity()->set_up_mps(s.fix.vertical_speed_mps);
    p.mutable_accuracy()->set_horizontal_m(s.fix.horizontal_accuracy_m);
    p.mutable_accuracy()->set_vertical_m(s.fix.vertical_accuracy_m);
  }
  return out;
}

}  // namespace utm::remoteid
