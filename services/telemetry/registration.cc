// TelemetryCore and the aircraft registry: the registration check of a
// participant's reports, and the REGISTRATION_REVOKED alert. See
// telemetry_core.h.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/common/volume_convert.h"
#include "services/registry/registration_record.h"
#include "services/telemetry/telemetry_core.h"
#include "services/telemetry/telemetry_core_internal.h"

namespace utm::telemetry {
namespace {

using core_internal::TrackKey;

// The registry's reason is quoted in every re-sent alert: bounded, whatever
// a registry passes on.
constexpr size_t kMaxReasonBytes = 512;

std::string RegAlertKey(const std::string& track_key) {
  return absl::StrCat("reg/", track_key);
}

}  // namespace

void TelemetryCore::SetRegistrationChecker(
    const registration::RegistrationChecker* checker) {
  registration_ = checker;
}

absl::Status TelemetryCore::CheckRegistration(
    const std::string& operator_id, const v1::PositionReport& report,
    absl::Time now, bool forwarded, std::shared_ptr<const IntentInfo>* intent,
    bool* looked_up) {
  const std::string key = TrackKey(operator_id, report.aircraft_id());
  {
    absl::MutexLock lock(&registration_mu_);
    auto it = registration_checks_.find(key);
    // The common case: an aircraft already checked for this intent. A
    // client's refused report is asked again (its operator may register the
    // aircraft meanwhile); a forwarded one keeps its answer until the
    // registration changes.
    if (it != registration_checks_.end() &&
        it->second.intent_id == report.intent_id() &&
        (forwarded || it->second.status.ok())) {
      it->second.last_seen = now;
      return it->second.status;
    }
  }
  // Tracking starts, or the intent changed: the declared mass is the
  // intent's when it is this operator's activated intent for this aircraft.
  if (!report.intent_id().empty()) {
    *intent = airspace_->Intent(report.intent_id());
  }
  *looked_up = true;
  const IntentInfo* info = intent->get();
  const int64_t mass_g = info != nullptr && info->owner == operator_id &&
                                 info->activated &&
                                 (info->aircraft_serial.empty() ||
                                  info->aircraft_serial == report.aircraft_id())
                             ? info->aircraft_mass_g
                             : 0;
  absl::Status status = registration_->CheckAircraft(
      operator_id, report.aircraft_id(), mass_g, "aircraft_id");
  absl::MutexLock lock(&registration_mu_);
  if (status.ok() || forwarded) {
    RegistrationCheck& check = registration_checks_[key];
    check.intent_id = report.intent_id();
    check.last_seen = now;
    check.status = status;
  }
  return status;
}

void TelemetryCore::PruneRegistrationChecks(absl::Time now) {
  absl::MutexLock lock(&registration_mu_);
  absl::erase_if(registration_checks_, [&](const auto& entry) {
    return now - entry.second.last_seen >= options_.retire_after;
  });
}

void TelemetryCore::RegistrationAlert(Track* track, const Prepared& prepared,
                                      absl::Time now,
                                      std::vector<AlertChange>* out) {
  if (!prepared.lapsed.empty() && track->revocation.empty()) {
    // A replica that starts holding the aircraft after its registration
    // lapsed (the one the client reports to let it fly on): the same alert.
    track->revocation =
        absl::StrCat(track->aircraft_id, ": registration no longer in force (",
                     prepared.lapsed, "); still tracked and deconflicted");
  }
  if (track->revocation.empty()) return;
  // Re-sent with the aircraft's position (at most every update_interval),
  // like SPEED_ABOVE_LIMIT, so that the area's watchers see where it is.
  SetAlert(RegAlertKey(track->key),
           AlertAbout(*track, v1::ALERT_KIND_REGISTRATION_REVOKED,
                      track->revocation),
           {track}, now, out);
}

void TelemetryCore::OnRegistrationChanged(
    const v1::AircraftRegistration& registration) {
  // "" is the intruders' namespace: never a registered operator.
  if (registration.operator_id().empty()) return;
  const absl::Time now = clock_->Now();
  const bool revoked = registration.has_revoke_time();
  const bool in_force = registry::InForce(registration, now);
  const std::string key =
      TrackKey(registration.operator_id(), registration.serial_number());
  if (in_force) {
    // Checked again at the next report (a forwarded aircraft's lapse is
    // forgotten); a revocation keeps the check, so a flying aircraft is
    // alerted about, not refused.
    absl::MutexLock lock(&registration_mu_);
    registration_checks_.erase(key);
  }
  absl::MutexLock lock(&mu_);
  auto it = tracks_.find(key);
  if (it == tracks_.end()) return;
  Track* track = it->second.get();
  if (in_force) {
    if (track->revocation.empty()) return;
    track->revocation.clear();
    SetAlert(RegAlertKey(key), std::nullopt, {}, now, &registration_alerts_);
    return;
  }
  // Revoked, or lapsed while flying (the registry tells of each lapse):
  // the aircraft flies on, alerted about, not cut off.
  std::string message;
  if (revoked) {
    std::string reason =
        registration.revoke_reason().substr(0, kMaxReasonBytes);
    message =
        absl::StrCat(registration.serial_number(), ": registration revoked at ",
                     registry::FormatUtc(registration.revoke_time()),
                     reason.empty() ? "" : absl::StrCat(": ", reason),
                     "; still tracked and deconflicted");
  } else {
    message =
        absl::StrCat(registration.serial_number(), ": registration expired at ",
                     registry::FormatUtc(registration.expire_time()),
                     "; still tracked and deconflicted");
  }
  // The registry may tell the same revocation again: nothing changes.
  if (track->revocation == message) return;
  track->revocation = std::move(message);
  SetAlert(RegAlertKey(key),
           AlertAbout(*track, v1::ALERT_KIND_REGISTRATION_REVOKED,
                      track->revocation),
           {track}, now, &registration_alerts_);
}

std::vector<AlertChange> TelemetryCore::TakeRegistrationAlerts() {
  absl::MutexLock lock(&mu_);
  std::vector<AlertChange> out;
  out.swap(registration_alerts_);
  return out;
}

}  // namespace utm::telemetry
