#include "services/operator/fleet_view.h"

#include <cmath>

#include "services/common/volume_convert.h"

namespace utm::fleet {
namespace {

constexpr double kRad = M_PI / 180;

}  // namespace

std::shared_ptr<const FleetView::Alerts> FleetView::IndexAlerts() const {
  auto index = std::make_shared<Alerts>();
  if (!sources_.open_alerts) return index;
  for (const telemetry::AlertChange& c : sources_.open_alerts()) {
    for (const auto& [op, aircraft] : c.aircraft) {
      // "" is the intruders' namespace: nobody's fleet.
      if (!op.empty()) (*index)[{op, aircraft}].push_back(c.alert);
    }
  }
  return index;
}

void FleetView::Fill(const std::string& operator_id, const Alerts& alerts,
                     absl::Time now, v1::FleetUpdate* out) const {
  *out->mutable_server_time() = TimeToProto(now);
  if (sources_.display == nullptr || operator_id.empty()) return;
  // Ordered by aircraft id, the latest flight of each first; an aircraft
  // that changed intents has one flight per intent.
  std::vector<remoteid::RemoteIdCore::OperatorFlight> flights =
      sources_.display->OperatorFlights(operator_id, 4 * kMaxFleetAircraft);
  const std::string* previous = nullptr;
  for (remoteid::RemoteIdCore::OperatorFlight& f : flights) {
    if (previous != nullptr && *previous == f.aircraft_id) continue;
    previous = &f.aircraft_id;
    if (static_cast<size_t>(out->aircraft_size()) == kMaxFleetAircraft) {
      out->set_truncated(true);
      break;
    }
    v1::FleetAircraft* a = out->add_aircraft();
    a->set_aircraft_id(f.aircraft_id);
    a->set_intent_id(f.intent_id);
    if (!f.intent_id.empty() && sources_.intent_state) {
      a->set_intent_state(sources_.intent_state(operator_id, f.intent_id));
    }
    v1::RidFlight& shown = f.flight;
    *a->mutable_time() = shown.time();
    *a->mutable_position() = shown.position();
    if (shown.has_altitude()) *a->mutable_altitude() = shown.altitude();
    if (shown.has_velocity()) {
      const double track = shown.track_deg() * kRad;
      a->mutable_velocity()->set_north_mps(shown.speed_mps() * std::cos(track));
      a->mutable_velocity()->set_east_mps(shown.speed_mps() * std::sin(track));
      a->mutable_velocity()->set_up_mps(shown.vertical_speed_mps());
    }
    a->mutable_recent_positions()->Swap(shown.mutable_recent_positions());
    a->set_remote_id(shown.id());
    auto it = alerts.find(std::make_pair(operator_id, f.aircraft_id));
    if (it != alerts.end()) {
      for (const v1::Alert& alert : it->second) *a->add_alerts() = alert;
    }
  }
  // Four flights per aircraft were not enough to see them all.
  if (flights.size() == 4 * kMaxFleetAircraft) out->set_truncated(true);
}

}  // namespace utm::fleet
