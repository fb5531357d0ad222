#include "services/operator/flight_log.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "geo/status_macros.h"
#include "services/common/uuid.h"
#include "services/common/volume_convert.h"

namespace utm::fleet {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
constexpr size_t kMaxFlightIdBytes = 64;

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

// Milliseconds since the epoch, rounded as track_codec.h quantises times.
int64_t RoundedMillis(absl::Time t) {
  return std::llround(absl::ToDoubleSeconds(t - absl::UnixEpoch()) * 1e3);
}

bool IsLiveState(v1::IntentState s) {
  return s == v1::INTENT_STATE_ACTIVATED ||
         s == v1::INTENT_STATE_NONCONFORMING ||
         s == v1::INTENT_STATE_CONTINGENT;
}

// "<start unix micros>.<flight id>": where the next page starts.
std::string PageToken(const v1::FlightSummary& last) {
  return absl::StrCat(absl::ToUnixMicros(FromProto(last.start_time())), ".",
                      last.flight_id());
}

absl::StatusOr<std::optional<FlightLogStore::Position>> ParsePageToken(
    const std::string& token) {
  if (token.empty()) return std::nullopt;
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  int64_t micros = 0;
  if (token.size() > 128 || parts.size() != 2 ||
      !absl::SimpleAtoi(parts[0], &micros) || parts[1].empty()) {
    return absl::InvalidArgumentError(
        "page_token: not a token ListFlights returned");
  }
  return FlightLogStore::Position{absl::FromUnixMicros(micros),
                                  std::string(parts[1])};
}

}  // namespace

void AddPoint(const TrackPoint& p, v1::FlightTrackChunk* out) {
  v1::FlightTrackPoint* q = out->add_points();
  *q->mutable_time() = TimeToProto(p.time);
  q->mutable_position()->set_lat_deg(p.lat_deg);
  q->mutable_position()->set_lng_deg(p.lng_deg);
  q->set_altitude_m(p.altitude_m);
  q->mutable_velocity()->set_north_mps(p.north_mps);
  q->mutable_velocity()->set_east_mps(p.east_mps);
  q->mutable_velocity()->set_up_mps(p.up_mps);
  q->mutable_accuracy()->set_horizontal_m(p.horizontal_accuracy_m);
  q->mutable_accuracy()->set_vertical_m(p.vertical_accuracy_m);
}

FlightLogs::FlightLogs(FlightLogOptions options, const Clock* clock,
                       const DataPolicies* policies, FlightLogStore* store)
    : options_(std::move(options)),
      clock_(clock),
      policies_(policies),
      store_(store) {}

FlightLogs::Flight* FlightLogs::Start(const std::string& operator_id,
                                      const std::string& aircraft_id,
                                      const std::string& intent_id,
                                      absl::Time start) {
  if (open_.size() >= options_.max_open_flights) return nullptr;
  const std::string id = RandomUuid();
  Flight& f = open_[id];
  f.record.set_operator_id(operator_id);
  f.record.set_region(options_.region);
  v1::FlightSummary* s = f.record.mutable_header()->mutable_flight();
  s->set_flight_id(id);
  s->set_aircraft_id(aircraft_id);
  s->set_intent_id(intent_id);
  *s->mutable_start_time() = TimeToProto(start);
  *s->mutable_end_time() = TimeToProto(start);
  s->set_in_progress(true);
  f.last_seen = clock_->Now();
  f.intent_end = absl::InfiniteFuture();
  if (!intent_id.empty()) {
    by_intent_[{operator_id, intent_id}] = id;
  } else {
    free_[{operator_id, aircraft_id}] = id;
  }
  if (!aircraft_id.empty()) by_aircraft_[{operator_id, aircraft_id}] = id;
  ++stats_.open_flights;
  // Written at once, so that it is listed while it flies.
  Flush(&f);
  auto it = open_.find(id);  // Flush may have discarded it (local_only)
  return it == open_.end() ? nullptr : &it->second;
}

void FlightLogs::OnReport(const std::string& operator_id,
                          const v1::PositionReport& r) {
  if (operator_id.empty()) return;  // intruders: nobody's flight
  TrackPoint p;
  p.time = FromProto(r.time());
  p.lat_deg = r.position().lat_deg();
  p.lng_deg = r.position().lng_deg();
  p.altitude_m = r.altitude().value_m();
  p.north_mps = r.velocity().north_mps();
  p.east_mps = r.velocity().east_mps();
  p.up_mps = r.velocity().up_mps();
  p.horizontal_accuracy_m = r.accuracy().horizontal_m();
  p.vertical_accuracy_m = r.accuracy().vertical_m();
  const DataPolicy policy = policies_->For(operator_id);
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  const Key key = r.intent_id().empty() ? Key(operator_id, r.aircraft_id())
                                        : Key(operator_id, r.intent_id());
  auto& index = r.intent_id().empty() ? free_ : by_intent_;
  auto it = index.find(key);
  Flight* f = nullptr;
  if (it != index.end()) {
    const std::string id = it->second;
    Flight& open = open_.at(id);
    if (policy.local_only) {
      Discard(id);
      return;
    }
    if (open.record.header().flight().point_count() > 0 &&
        now - open.last_seen > options_.gap) {
      Close(id);
    } else {
      f = &open;
    }
  }
  if (policy.local_only) return;
  if (f == nullptr && !r.intent_id().empty()) {
    if (not_retained_.contains(key)) return;
    if (options_.intent_retained &&
        !options_.intent_retained(operator_id, r.intent_id())) {
      // Bounded: forgotten wholesale past 100,000 (then asked again).
      if (not_retained_.size() >= 100000) not_retained_.clear();
      not_retained_.insert(key);
      return;
    }
  }
  if (f == nullptr) {
    f = Start(operator_id, r.aircraft_id(), r.intent_id(), p.time);
    if (f == nullptr) {
      ++stats_.points_dropped;
      return;
    }
    // The intent as it stands (its activation may have been made, and
    // seen, before this flight began: on another replica).
    if (!r.intent_id().empty() && options_.intent_lookup) {
      std::optional<v1::FlightIntent> intent =
          options_.intent_lookup(operator_id, r.intent_id());
      if (intent && intent->owner() == operator_id &&
          IsLiveState(intent->state())) {
        ApplyIntent(f, *intent);
      }
    }
  }
  if (f->record.header().flight().aircraft_id() != r.aircraft_id()) {
    // An intent flown by another aircraft than declared (or than before):
    // the flight is of the aircraft that reports.
    f->record.mutable_header()->mutable_flight()->set_aircraft_id(
        r.aircraft_id());
  }
  by_aircraft_[{operator_id, r.aircraft_id()}] =
      f->record.header().flight().flight_id();
  Append(f, p, now);
}

void FlightLogs::Append(Flight* f, TrackPoint p, absl::Time now) {
  f->last_seen = now;
  v1::FlightSummary* s = f->record.mutable_header()->mutable_flight();
  if (s->point_count() >= options_.max_points) {
    s->set_truncated(true);
    ++stats_.points_dropped;
    return;
  }
  const int64_t ms = RoundedMillis(p.time);
  if (ms <= f->last_ms || !CheckTrackPoint(p).ok()) {
    ++stats_.points_dropped;  // not after the latest kept, or not encodable
    return;
  }
  p.time = absl::FromUnixMillis(ms);
  f->last_ms = ms;
  if (f->pending.empty()) f->pending_since = now;
  f->pending.push_back(p);
  s->set_point_count(s->point_count() + 1);
  if (p.time > FromProto(s->end_time()))
    *s->mutable_end_time() = TimeToProto(p.time);
  if (p.time < FromProto(s->start_time())) {
    // Only before anything is written: the start orders the index.
    if (!f->written) *s->mutable_start_time() = TimeToProto(p.time);
  }
  if (static_cast<int>(f->pending.size()) >= options_.chunk_points) Flush(f);
}

void FlightLogs::Flush(Flight* f) {
  // Asked before anything is written: a change applies from now on.
  if (policies_->For(f->record.operator_id()).local_only) {
    Discard(f->record.header().flight().flight_id());
    return;
  }
  if (!f->written) {
    // Room for it among the operator's logs: the oldest go.
    const std::string& op = f->record.operator_id();
    while (store_->Count(op) >= options_.max_flights_per_operator) {
      std::optional<std::string> oldest = store_->Oldest(op);
      if (!oldest || open_.contains(*oldest)) break;  // never one in flight
      store_->Remove(*oldest);
      ++stats_.flights_removed;
    }
    f->written = true;
  }
  if (f->pending.empty()) {
    store_->Put(f->record, nullptr);
    return;
  }
  const std::string chunk = EncodeTrack(f->pending);
  f->pending.clear();
  f->record.set_chunk_count(f->record.chunk_count() + 1);
  store_->Put(f->record, &chunk);
  ++stats_.chunks_written;
}

void FlightLogs::Forget(const Flight& f) {
  const std::string& op = f.record.operator_id();
  const v1::FlightSummary& s = f.record.header().flight();
  auto drop = [&](absl::flat_hash_map<Key, std::string>& index,
                  const std::string& second) {
    auto it = index.find(Key(op, second));
    if (it != index.end() && it->second == s.flight_id()) index.erase(it);
  };
  drop(by_intent_, s.intent_id());
  drop(free_, s.aircraft_id());
  drop(by_aircraft_, s.aircraft_id());
  --stats_.open_flights;
}

void FlightLogs::Close(const std::string& flight_id) {
  auto it = open_.find(flight_id);
  if (it == open_.end()) return;
  Flight& f = it->second;
  f.record.mutable_header()->mutable_flight()->set_in_progress(false);
  Flush(&f);
  // Flush may have discarded it (local_only).
  it = open_.find(flight_id);
  if (it == open_.end()) return;
  Forget(it->second);
  open_.erase(it);
}

void FlightLogs::Discard(const std::string& flight_id) {
  auto it = open_.find(flight_id);
  if (it == open_.end()) return;
  if (it->second.written) store_->Remove(flight_id);
  Forget(it->second);
  open_.erase(it);
  ++stats_.flights_discarded;
}

void FlightLogs::OnIntent(const v1::FlightIntent& intent) {
  const std::string& op = intent.owner();
  if (op.empty() || intent.id().empty()) return;
  const DataPolicy policy = policies_->For(op);
  absl::MutexLock lock(&mu_);
  auto it = by_intent_.find(Key(op, intent.id()));
  Flight* f = it == by_intent_.end() ? nullptr : &open_.at(it->second);
  const bool live = IsLiveState(intent.state());
  if (!live) not_retained_.erase(Key(op, intent.id()));
  if (policy.local_only || intent.no_retention()) {
    // Nothing of it is kept: not its flight either.
    if (f != nullptr) Discard(it->second);
    return;
  }
  if (f != nullptr && intent.version() <= f->intent_version) return;  // seen
  const absl::Time when = FromProto(intent.update_time());
  if (f == nullptr) {
    if (!live) return;  // not flying: nothing to record
    // On replicas, only the one the aircraft's reports reach records it.
    if (!options_.intents_start_flights) return;
    f = Start(op, intent.aircraft().serial_number(), intent.id(), when);
    if (f == nullptr) return;
  }
  ApplyIntent(f, intent);
}

void FlightLogs::ApplyIntent(Flight* f, const v1::FlightIntent& intent) {
  const bool live = IsLiveState(intent.state());
  const absl::Time when = FromProto(intent.update_time());
  f->intent_version = intent.version();
  v1::FlightLogHeader* h = f->record.mutable_header();
  if (h->volumes().empty()) {
    // As filed when activated.
    h->set_priority(intent.priority());
    *h->mutable_volumes() = intent.volumes();
    *h->mutable_aircraft() = intent.aircraft();
    absl::Time end = absl::InfinitePast();
    for (const v1::Volume4D& v : intent.volumes()) {
      end = std::max(end, FromProto(v.time_end()));
    }
    f->intent_end = end;
  }
  if (h->states_size() < kMaxFlightStates &&
      (h->states().empty() ||
       h->states(h->states_size() - 1).state() != intent.state())) {
    v1::FlightStateChange* c = h->add_states();
    c->set_state(intent.state());
    *c->mutable_time() = intent.update_time();
  }
  if (!live) {
    v1::FlightSummary* s = h->mutable_flight();
    if (when > FromProto(s->end_time()))
      *s->mutable_end_time() = intent.update_time();
    Close(s->flight_id());
  }
}

void FlightLogs::OnAlert(
    const v1::Alert& alert,
    const std::vector<std::pair<std::string, std::string>>& aircraft) {
  if (alert.state() != v1::ALERT_STATE_RAISED &&
      alert.state() != v1::ALERT_STATE_CLEARED) {
    return;
  }
  // An alert names every aircraft it is about; in one operator's log an
  // aircraft of a Local-Data-Mode operator is not named (nothing about its
  // flights is written anywhere, another operator's log included).
  std::string message = alert.message().substr(0, 1024);
  std::vector<std::pair<std::string, std::string>> withheld;
  for (const auto& [op, id] : aircraft) {
    if (!op.empty() && !id.empty() && policies_->For(op).local_only) {
      withheld.emplace_back(id, kWithheldAircraft);
    }
  }
  if (!withheld.empty()) message = absl::StrReplaceAll(message, withheld);
  absl::MutexLock lock(&mu_);
  for (const auto& [op, id] : aircraft) {
    if (op.empty()) continue;  // an intruder
    auto it = by_aircraft_.find(Key(op, id));
    if (it == by_aircraft_.end()) continue;
    auto open = open_.find(it->second);
    // The aircraft's latest flight, unless it ended or another aircraft
    // flies it now.
    if (open == open_.end() ||
        open->second.record.header().flight().aircraft_id() != id) {
      continue;
    }
    v1::FlightLogHeader* h = open->second.record.mutable_header();
    if (h->alerts_size() >= kMaxFlightAlerts) continue;
    v1::FlightAlertEvent* e = h->add_alerts();
    e->set_alert_id(alert.id());
    e->set_kind(alert.kind());
    e->set_state(alert.state());
    *e->mutable_time() = alert.update_time();
    e->set_message(message);
  }
}

void FlightLogs::Tick() {
  const absl::Time now = clock_->Now();
  absl::ReleasableMutexLock lock(&mu_);
  std::vector<std::string> ended;
  std::vector<std::string> due;
  for (auto& [id, f] : open_) {
    const bool flown = f.record.header().flight().point_count() > 0;
    if ((flown && now - f.last_seen > options_.gap) ||
        (!flown && now - f.intent_end > options_.gap)) {
      ended.push_back(id);
    } else if (!f.pending.empty() &&
               now - f.pending_since >= options_.chunk_period) {
      due.push_back(id);
    }
  }
  // Flush may discard a flight (local_only), so not while iterating.
  for (const std::string& id : due) {
    auto it = open_.find(id);
    if (it != open_.end()) Flush(&it->second);
  }
  for (const std::string& id : ended) Close(id);
  if (now - last_sweep_ < options_.retention_sweep) return;
  last_sweep_ = now;
  // The sweep reads every flight's end from the store (on Redis, a round
  // trip a page): not under the lock, which recording takes.
  lock.Release();
  SweepRetention(now);
}

void FlightLogs::SweepRetention(absl::Time now) {
  std::vector<std::string> expired;
  absl::Status read = store_->ForEach(
      [&](const std::string& op, const std::string& id, absl::Time end) {
        if (end + policies_->For(op).flight_log_retention < now) {
          expired.push_back(id);
        }
      });
  // What was read is swept; the rest at the next sweep.
  (void)read;
  absl::MutexLock lock(&mu_);
  int64_t removed = 0;
  for (const std::string& id : expired) {
    if (open_.contains(id)) continue;  // never one being recorded
    store_->Remove(id);
    ++removed;
  }
  stats_.flights_removed += removed;
}

absl::StatusOr<int64_t> FlightLogs::EraseOperator(
    const std::string& operator_id) {
  std::vector<std::string> open;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, f] : open_) {
      if (f.record.operator_id() == operator_id) open.push_back(id);
    }
    for (const std::string& id : open) Discard(id);
  }
  // Read from the store (on Redis, page by page) without the lock.
  std::vector<std::string> stored;
  UTM_RETURN_IF_ERROR(store_->ForEach(
      [&](const std::string& op, const std::string& id, absl::Time) {
        if (op == operator_id) stored.push_back(id);
      }));
  for (const std::string& id : stored) store_->Remove(id);
  UTM_RETURN_IF_ERROR(store_->Sync());
  return static_cast<int64_t>(open.size() + stored.size());
}

void FlightLogs::CloseAll() {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> ids;
  for (const auto& [id, f] : open_) ids.push_back(id);
  for (const std::string& id : ids) Close(id);
}

absl::StatusOr<FlightLogs::Page> FlightLogs::List(
    const std::string& operator_id, int page_size,
    const std::string& page_token) const {
  if (page_size < 0 || page_size > kMaxPageSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_size: ", page_size, " is outside [0, ", kMaxPageSize, "]"));
  }
  if (page_size == 0) page_size = kDefaultPageSize;
  absl::StatusOr<std::optional<FlightLogStore::Position>> after =
      ParsePageToken(page_token);
  if (!after.ok()) return after.status();
  // One more than asked tells whether another page follows.
  absl::StatusOr<std::vector<internal::StoredFlight>> listed =
      store_->ListNewest(operator_id, *after, page_size + 1);
  if (!listed.ok()) return listed.status();
  const std::vector<internal::StoredFlight>& records = *listed;
  Page page;
  {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < records.size() && i < static_cast<size_t>(page_size);
         ++i) {
      const std::string& id = records[i].header().flight().flight_id();
      auto open = open_.find(id);
      // A flight in progress: as recorded so far, not as last written.
      page.flights.push_back(open != open_.end()
                                 ? open->second.record.header().flight()
                                 : records[i].header().flight());
    }
  }
  if (records.size() > static_cast<size_t>(page_size)) {
    page.next_page_token = PageToken(page.flights.back());
  }
  return page;
}

absl::StatusOr<FlightLogs::Snapshot> FlightLogs::Open(
    const std::string& operator_id, const std::string& flight_id) const {
  if (flight_id.empty()) {
    return absl::InvalidArgumentError("flight_id: required");
  }
  if (flight_id.size() > kMaxFlightIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("flight_id: longer than ", kMaxFlightIdBytes, " bytes"));
  }
  const absl::Status not_found = absl::NotFoundError(
      absl::StrCat("flight_id: no flight ", flight_id, " of yours"));
  Snapshot snap;
  {
    absl::MutexLock lock(&mu_);
    auto it = open_.find(flight_id);
    if (it != open_.end()) {
      const Flight& f = it->second;
      if (f.record.operator_id() != operator_id) return not_found;
      snap.header = f.record.header();
      snap.chunks = f.record.chunk_count();
      snap.unwritten = f.pending;
      return snap;
    }
  }
  absl::StatusOr<std::optional<internal::StoredFlight>> found =
      store_->Find(operator_id, flight_id);
  if (!found.ok()) return found.status();
  const std::optional<internal::StoredFlight>& r = *found;
  if (!r) return not_found;
  snap.header = r->header();
  snap.chunks = r->chunk_count();
  return snap;
}

absl::StatusOr<std::vector<TrackPoint>> FlightLogs::ReadChunk(
    const std::string& flight_id, int index) const {
  absl::StatusOr<std::string> chunk = store_->Chunk(flight_id, index);
  if (!chunk.ok()) return chunk.status();
  absl::StatusOr<std::vector<TrackPoint>> points = DecodeTrack(*chunk);
  if (!points.ok()) {
    return absl::DataLossError(absl::StrCat("flight ", flight_id, " chunk ",
                                            index, ": ",
                                            points.status().message()));
  }
  return points;
}

FlightLogs::Stats FlightLogs::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace utm::fleet
