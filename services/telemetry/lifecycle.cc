// TelemetryCore's silent tracks: lost links, the end of flights and
// retirement (Tick), and what retiring a track clears. See telemetry_core.h.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/telemetry/telemetry_core.h"
#include "services/telemetry/telemetry_core_internal.h"

namespace utm::telemetry {

void TelemetryCore::Retire(const std::string& key, absl::Time now,
                           std::vector<AlertChange>* out) {
  auto it = tracks_.find(key);
  if (it == tracks_.end()) return;
  const std::vector<std::string> keys = it->second->alert_keys;
  for (const std::string& k : keys) SetAlert(k, std::nullopt, {}, now, out);
  RemoveFromGrid(it->second.get());
  CountSpeed(it->second.get(), -1);
  if (it->second->intruder()) --intruders_;
  tracks_.erase(it);
  if (registration_ != nullptr) {
    // Its next report starts a new track: checked again.
    absl::MutexLock lock(&registration_mu_);
    registration_checks_.erase(key);
  }
}

std::vector<AlertChange> TelemetryCore::Tick() {
  std::vector<AlertChange> out;
  const absl::Time now = clock_->Now();
  // Flights silent past the report gap may have ended (landed, intent
  // ENDED): their intents are asked, outside the lock, before a lost link
  // is raised for them.
  std::vector<std::pair<std::string, std::string>> silent;  // key, intent
  if (registration_ != nullptr) PruneRegistrationChecks(now);
  {
    absl::MutexLock lock(&mu_);
    out.swap(registration_alerts_);
    std::vector<std::string> retire;
    // The intruders' bounds, exact again (reports only raise them).
    intruder_fastest_mps_ = 0;
    intruder_widest_m_ = 0;
    for (const auto& [key, track] : tracks_) {
      const absl::Duration quiet = now - track->received;
      if (track->intruder()) {
        // Heard no more: retired once it would be a lost link, without an
        // alert (it has no operator to tell, and it is not extrapolated
        // further anyway).
        if (quiet >= options_.lost_link_after) {
          retire.push_back(key);
        } else if (track->cell != kFastCell) {
          intruder_fastest_mps_ =
              std::max(intruder_fastest_mps_, track->speed_mps);
          intruder_widest_m_ =
              std::max(intruder_widest_m_, track->h_accuracy_m);
        }
        continue;
      }
      if (quiet >= options_.retire_after) {
        retire.push_back(key);
      } else if (quiet >= options_.report_gap && track->intent_known) {
        silent.emplace_back(key, track->intent_id);
      }
    }
    for (const std::string& key : retire) Retire(key, now, &out);
  }
  if (silent.empty()) return out;
  std::vector<bool> ended(silent.size());
  for (size_t i = 0; i < silent.size(); ++i) {
    const std::shared_ptr<const IntentInfo> info =
        airspace_->Intent(silent[i].second);
    ended[i] = info == nullptr || !info->activated;
  }
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < silent.size(); ++i) {
    const std::string& key = silent[i].first;
    auto it = tracks_.find(key);
    if (it == tracks_.end()) continue;
    Track* track = it->second.get();
    const absl::Duration quiet = now - track->received;
    if (quiet < options_.report_gap) continue;  // reported meanwhile
    if (ended[i]) {
      // The flight is over: no lost link, no ghost for the others.
      Retire(key, now, &out);
      continue;
    }
    const std::string link_key = absl::StrCat("link/", key);
    if (quiet < options_.lost_link_after || alerts_.contains(link_key)) {
      continue;
    }
    SetAlert(
        link_key,
        AlertAbout(*track, v1::ALERT_KIND_LOST_LINK,
                   absl::StrCat("no report from ", track->aircraft_id, " for ",
                                absl::FormatDuration(
                                    absl::Trunc(quiet, absl::Seconds(1))))),
        {track}, now, &out);
  }
  return out;
}

}  // namespace utm::telemetry
