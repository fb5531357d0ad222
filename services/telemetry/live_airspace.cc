#include "services/telemetry/live_airspace.h"

#include <algorithm>

namespace utm::telemetry {

LiveAirspace::LiveAirspace(intent::IntentCore* intents,
                           const constraint::ConstraintCore* constraints)
    : intents_(intents), constraints_(constraints) {}

std::shared_ptr<const IntentInfo> LiveAirspace::Intent(
    const std::string& id) const {
  const std::optional<int64_t> version = intents_->Version(id);
  if (!version) {  // never was, or forgotten: drop what the cache holds
    absl::MutexLock lock(&mu_);
    cache_.erase(id);
    return nullptr;
  }
  {
    absl::ReaderMutexLock lock(&mu_);  // hits only read: no contention
    auto it = cache_.find(id);
    if (it != cache_.end() && it->second.version == *version) {
      return it->second.info;
    }
  }
  absl::StatusOr<intent::IntentView> view =
      intents_->Get("", id, /*reveal_owner=*/true);
  if (!view.ok()) return nullptr;
  const intent::Intent& i = view->intent;
  auto info = std::make_shared<IntentInfo>();
  info->owner = i.owner;
  info->activated = i.state == intent::IntentState::kActivated ||
                    i.state == intent::IntentState::kNonconforming ||
                    i.state == intent::IntentState::kContingent;
  info->volumes = i.volumes;
  info->aircraft_serial = i.aircraft_serial;
  info->aircraft_mass_g = i.aircraft_mass_g;
  absl::MutexLock lock(&mu_);
  if (cache_.size() >= kMaxCached) cache_.clear();
  // The version read with the intent: a write in between leaves the newer
  // one, which the next call's version check accepts or replaces.
  Cached& slot = cache_[id];
  if (slot.info == nullptr || slot.version < i.version) {
    slot = Cached{i.version, info};
  }
  return info;
}

std::vector<std::string> LiveAirspace::BlockingConstraints(
    const std::string& operator_id, const geo::LatLng& position,
    double altitude_m, double horizontal_accuracy_m, double vertical_accuracy_m,
    absl::Time t) const {
  // The aircraft counts as inside when its uncertainty region meets the
  // constraint: a geofence errs on the side of the alert.
  geo::Volume4D here;
  here.volume.footprint =
      geo::Circle{position, std::max(horizontal_accuracy_m, 0.01)};
  here.volume.altitude = {altitude_m - vertical_accuracy_m,
                          altitude_m + vertical_accuracy_m};
  here.time = {t, t};
  std::vector<intent::Conflict> blocking, advisory;
  constraints_->Check(operator_id, {here}, &blocking, &advisory);
  std::vector<std::string> ids;
  for (const intent::Conflict& c : blocking) ids.push_back(c.constraint_id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

void LiveAirspace::MarkNonconforming(const std::string& operator_id,
                                     const std::string& intent_id,
                                     absl::Time now) {
  absl::StatusOr<intent::IntentView> view =
      intents_->Get(operator_id, intent_id);
  if (!view.ok() || view->intent.state != intent::IntentState::kActivated) {
    return;
  }
  intent::TransitionRequest request;
  request.intent_id = intent_id;
  request.version = view->intent.version;
  request.to = intent::IntentState::kNonconforming;
  for (const geo::Volume4D& v : view->intent.volumes) {
    if (v.time.end >= now) request.off_nominal_volumes.push_back(v);
  }
  if (request.off_nominal_volumes.empty()) return;
  (void)intents_->Transition(operator_id, request);
}

}  // namespace utm::telemetry
