#include "services/remoteid/broadcast/assembler.h"

#include <algorithm>
#include <iterator>
#include <utility>
#include <variant>

namespace utm::remoteid::broadcast {
namespace {

// F3411-22a lets a transmitter send up to two Basic ID messages of different
// ID types (e.g. a serial number and a session id).
constexpr size_t kMaxBasicIds = 2;

// Which Basic ID names the aircraft in a report: lower is preferred.
int Preference(IdType type) {
  switch (type) {
    case IdType::kSerialNumber:
      return 0;
    case IdType::kCaaRegistration:
      return 1;
    case IdType::kUtmAssignedUuid:
      return 2;
    case IdType::kSpecificSessionId:
      return 3;
    case IdType::kNone:
      return 4;
  }
  return 5;
}

}  // namespace

Assembler::Assembler(AssemblerOptions options) : options_(options) {}

size_t Assembler::size() const {
  absl::MutexLock lock(&mu_);
  return lru_.size();
}

absl::Time Assembler::ReconstructTime(absl::Duration time_since_hour,
                                      absl::Time received,
                                      absl::Duration allowance) {
  const absl::Time limit = received + allowance;
  const absl::Time hour_start =
      absl::UnixEpoch() + absl::Floor(limit - absl::UnixEpoch(), absl::Hours(1));
  absl::Time t = hour_start + time_since_hour;
  while (t > limit) t -= absl::Hours(1);
  return t;
}

void Assembler::EvictLocked(absl::Time now) {
  while (lru_.size() > std::max<size_t>(options_.max_transmitters, 1) ||
         (!lru_.empty() && lru_.back().last_heard + options_.max_age < now)) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

std::vector<AircraftReport> Assembler::Add(absl::string_view receiver_id,
                                           absl::string_view transmitter,
                                           absl::Time received,
                                           const std::vector<Message>& messages) {
  absl::MutexLock lock(&mu_);
  std::pair<std::string, std::string> key(receiver_id, transmitter);
  Entry* entry;
  if (auto it = index_.find(key); it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    entry = &lru_.front();
    entry->last_heard = std::max(entry->last_heard, received);
  } else {
    lru_.emplace_front();
    entry = &lru_.front();
    entry->key = key;
    entry->last_heard = received;
    index_.emplace(std::move(key), lru_.begin());
  }

  // Identification first: a pack is one snapshot.
  for (const Message& m : messages) {
    if (const auto* b = std::get_if<BasicId>(&m.body)) {
      auto& ids = entry->basic_ids;
      auto same = std::find_if(ids.begin(), ids.end(), [&](const BasicId& x) {
        return x.id_type == b->id_type;
      });
      if (same != ids.end()) ids.erase(same);
      ids.push_back(*b);
      if (ids.size() > kMaxBasicIds) ids.erase(ids.begin());
    } else if (const auto* s = std::get_if<System>(&m.body)) {
      entry->system = *s;
    } else if (const auto* o = std::get_if<OperatorId>(&m.body)) {
      entry->operator_id = *o;
    } else if (const auto* d = std::get_if<SelfId>(&m.body)) {
      entry->self_id = *d;
    }
  }

  std::vector<AircraftReport> reports;
  const BasicId* best = nullptr;
  for (const BasicId& b : entry->basic_ids) {
    if (b.uas_id.empty()) continue;
    if (best == nullptr || Preference(b.id_type) < Preference(best->id_type)) {
      best = &b;
    }
  }
  {
    for (const Message& m : messages) {
      const auto* loc = std::get_if<Location>(&m.body);
      if (loc == nullptr || !loc->position.has_value()) continue;
      AircraftReport r;
      r.receiver_id = std::string(receiver_id);
      r.transmitter = std::string(transmitter);
      r.received = received;
      if (best != nullptr) {
        r.uas_id = best->uas_id;
        r.id_type = best->id_type;
        r.ua_type = best->ua_type;
      }
      r.basic_ids = entry->basic_ids;
      if (loc->time_since_hour.has_value()) {
        r.time = ReconstructTime(*loc->time_since_hour, received,
                                 options_.clock_allowance);
        r.time_from_timestamp = true;
      } else {
        r.time = received;
      }
      r.timestamp_accuracy = loc->timestamp_accuracy;
      r.status = loc->status;
      r.lat_deg = loc->position->lat_deg;
      r.lng_deg = loc->position->lng_deg;
      r.geodetic_altitude_m = loc->geodetic_altitude_m;
      r.pressure_altitude_m = loc->pressure_altitude_m;
      r.height_m = loc->height_m;
      r.height_type = loc->height_type;
      r.track_deg = loc->track_deg;
      r.speed_mps = loc->speed_mps;
      r.vertical_speed_mps = loc->vertical_speed_mps;
      r.horizontal_accuracy_m = loc->horizontal_accuracy_m;
      r.vertical_accuracy_m = loc->vertical_accuracy_m;
      r.baro_accuracy_m = loc->baro_accuracy_m;
      r.speed_accuracy_mps = loc->speed_accuracy_mps;
      if (entry->system.has_value()) {
        r.operator_location_type = entry->system->operator_location_type;
        r.operator_position = entry->system->operator_position;
        r.operator_altitude_m = entry->system->operator_altitude_m;
        r.classification_type = entry->system->classification_type;
        r.eu_category = entry->system->eu_category;
        r.eu_class = entry->system->eu_class;
      }
      if (entry->operator_id.has_value()) {
        r.operator_id = entry->operator_id->operator_id;
      }
      if (entry->self_id.has_value()) {
        r.self_id_description = entry->self_id->description;
      }
      reports.push_back(std::move(r));
    }
  }
  EvictLocked(received);
  return reports;
}

}  // namespace utm::remoteid::broadcast
