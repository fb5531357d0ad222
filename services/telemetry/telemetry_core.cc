#include "services/telemetry/telemetry_core.h"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "geo/geodesy.h"
#include "geo/intersect.h"
#include "services/common/input_limits.h"
#include "services/common/uuid.h"
#include "services/common/volume_convert.h"
#include "services/constraint/limits.h"
#include "services/telemetry/regions.h"
#include "services/telemetry/report_check.h"
#include "services/telemetry/telemetry_core_internal.h"

namespace utm::telemetry {
namespace {

using core_internal::Axpy;
using core_internal::Dot;
using core_internal::Frame;
using core_internal::FrameAt;

std::string Rounded(double v) { return absl::StrFormat("%.0f", v); }

}  // namespace

TelemetryCore::TelemetryCore(TelemetryOptions options, const Clock* clock,
                             Airspace* airspace)
    : options_(std::move(options)),
      clock_(clock),
      airspace_(airspace),
      surface_(options_.grid_cell_m),
      speed_buckets_(static_cast<size_t>(options_.max_speed_mps) + 1, 0) {}

void TelemetryCore::CountSpeed(Track* track, double speed) {
  if (track->speed_bucket >= 0) {
    --speed_buckets_[track->speed_bucket];
    while (top_speed_bucket_ >= 0 && speed_buckets_[top_speed_bucket_] == 0) {
      --top_speed_bucket_;
    }
  }
  track->speed_bucket =
      speed < 0 ? -1
                : std::min(static_cast<int>(speed),
                           static_cast<int>(speed_buckets_.size()) - 1);
  if (track->speed_bucket >= 0) {
    ++speed_buckets_[track->speed_bucket];
    top_speed_bucket_ = std::max(top_speed_bucket_, track->speed_bucket);
  }
}

double TelemetryCore::FastestSpeed() const {
  return top_speed_bucket_ < 0
             ? 0
             : std::min<double>(top_speed_bucket_ + 1, options_.max_speed_mps);
}

TelemetryCore::~TelemetryCore() = default;

size_t TelemetryCore::track_count() const {
  absl::MutexLock lock(&mu_);
  return tracks_.size();
}

size_t TelemetryCore::open_alert_count() const {
  absl::MutexLock lock(&mu_);
  return alerts_.size();
}

size_t TelemetryCore::intruder_count() const {
  absl::MutexLock lock(&mu_);
  return intruders_;
}

absl::node_hash_map<TelemetryCore::CellKey, std::vector<TelemetryCore::Slot>>&
TelemetryCore::GridOf(const Track& track) {
  return track.intruder() ? intruder_grid_ : grid_;
}

void TelemetryCore::PlaceInGrid(Track* track, CellKey to) {
  const Slot slot{track->ecef,       track->velocity, track->time_s,
                  track->altitude_m, track->up_mps,   track};
  if (track->cell_slots != nullptr && track->cell == to) {
    (*track->cell_slots)[track->slot_index] = slot;
    return;
  }
  RemoveFromGrid(track);
  std::vector<Slot>& cell = GridOf(*track)[to];
  track->cell = to;
  track->cell_slots = &cell;
  track->slot_index = static_cast<uint32_t>(cell.size());
  cell.push_back(slot);
}

void TelemetryCore::RemoveFromGrid(Track* track) {
  if (track->cell_slots == nullptr) return;
  std::vector<Slot>& v = *track->cell_slots;
  if (track->slot_index + 1 != v.size()) {
    v[track->slot_index] = v.back();
    v[track->slot_index].track->slot_index = track->slot_index;
  }
  v.pop_back();
  if (v.empty()) GridOf(*track).erase(track->cell);
  track->cell_slots = nullptr;
}

void TelemetryCore::SetAlert(const std::string& key,
                             std::optional<v1::Alert> wanted,
                             std::vector<const Track*> involved, absl::Time now,
                             std::vector<AlertChange>* out) {
  auto it = alerts_.find(key);
  if (!wanted) {
    if (it == alerts_.end()) return;
    v1::Alert cleared = it->second.alert;
    cleared.set_state(v1::ALERT_STATE_CLEARED);
    *cleared.mutable_update_time() = TimeToProto(now);
    if (RaisesLocked(it->second.tracks)) {
      out->push_back({std::move(cleared), key, it->second.operators,
                      it->second.aircraft});
    }
    for (const std::string& t : it->second.tracks) {
      auto track = tracks_.find(t);
      if (track == tracks_.end()) continue;
      std::vector<std::string>& keys = track->second->alert_keys;
      keys.erase(std::remove(keys.begin(), keys.end(), key), keys.end());
      for (const std::string& other : it->second.tracks) {
        auto o = tracks_.find(other);
        if (o != tracks_.end()) track->second->partners.erase(o->second.get());
      }
    }
    alerts_.erase(it);
    return;
  }
  v1::Alert& a = *wanted;
  *a.mutable_update_time() = TimeToProto(now);
  if (it == alerts_.end()) {
    if (a.kind() >= 0 && a.kind() < v1::AlertKind_ARRAYSIZE) {
      alerts_raised_[a.kind()].fetch_add(1, std::memory_order_relaxed);
    }
    a.set_state(v1::ALERT_STATE_RAISED);
    std::optional<ReplicaScope::Episode> episode;
    if (scope_ != nullptr) episode = scope_->OpenEpisode(key);
    absl::Time last_sent = now;
    if (episode) {
      // An episode another replica raised (this core did not hold the
      // aircraft then): continued under its id, as an update, and re-sent
      // on the cadence of its latest update.
      a.set_id(episode->id);
      a.set_state(v1::ALERT_STATE_UPDATED);
      *a.mutable_raise_time() = episode->raise_time;
      if (absl::StatusOr<absl::Time> u =
              TimeFromProto(episode->update_time, "update_time");
          u.ok() && *u <= now) {
        last_sent = *u;
      }
    } else if (scope_ != nullptr) {
      // Deterministic, so that two replicas raising it agree.
      const int64_t start_ms = absl::ToUnixMillis(now);
      a.set_id(involved.size() == 2
                   ? AlertIdFor(involved[0]->key, involved[1]->key, start_ms)
                   : AlertIdFor(key, "", start_ms));
      *a.mutable_raise_time() = TimeToProto(now);
    } else {
      a.set_id(RandomUuid());
      *a.mutable_raise_time() = TimeToProto(now);
    }
    OpenAlert open;
    open.alert = a;
    open.last_sent = last_sent;
    for (const Track* t : involved) {
      open.tracks.push_back(t->key);
      open.aircraft.emplace_back(t->operator_id, t->aircraft_id);
      // An intruder's "" names no one to tell.
      if (!t->operator_id.empty() &&
          std::find(open.operators.begin(), open.operators.end(),
                    t->operator_id) == open.operators.end()) {
        open.operators.push_back(t->operator_id);
      }
    }
    for (const std::string& t : open.tracks) {
      auto track = tracks_.find(t);
      if (track == tracks_.end()) continue;
      track->second->alert_keys.push_back(key);
      if (open.tracks.size() == 2) {
        auto o =
            tracks_.find(open.tracks[0] == t ? open.tracks[1] : open.tracks[0]);
        if (o != tracks_.end()) track->second->partners.insert(o->second.get());
      }
    }
    if (RaisesLocked(open.tracks)) {
      out->push_back({a, key, open.operators, open.aircraft});
    }
    alerts_.emplace(key, std::move(open));
    return;
  }
  OpenAlert& open = it->second;
  const bool kind_changed = open.alert.kind() != a.kind();
  if (!kind_changed && now - open.last_sent < options_.update_interval) {
    return;  // nothing material: no storm at 1 Hz
  }
  a.set_id(open.alert.id());
  *a.mutable_raise_time() = open.alert.raise_time();
  a.set_state(v1::ALERT_STATE_UPDATED);
  open.alert = a;
  open.last_sent = now;
  if (RaisesLocked(open.tracks)) {
    out->push_back({a, key, open.operators, open.aircraft});
  }
}

bool TelemetryCore::RaisesLocked(const std::vector<std::string>& tracks) const {
  if (scope_ == nullptr) return true;
  std::vector<std::pair<absl::string_view, geo::LatLng>> at;
  at.reserve(tracks.size());
  for (const std::string& t : tracks) {
    auto it = tracks_.find(t);
    if (it != tracks_.end()) at.emplace_back(t, it->second->position);
  }
  // Tracks are retired after their alerts are cleared, so all are found; an
  // alert about none raises nothing.
  return !at.empty() && scope_->Raises(at);
}

void TelemetryCore::SetReplicaScope(ReplicaScope* scope) { scope_ = scope; }

v1::Alert TelemetryCore::AlertAbout(const Track& track, v1::AlertKind kind,
                                    std::string message) {
  v1::Alert a;
  a.set_kind(kind);
  a.add_aircraft_ids(track.aircraft_id);
  a.add_intent_ids(track.intent_id);
  a.mutable_position()->set_lat_deg(track.position.lat_deg);
  a.mutable_position()->set_lng_deg(track.position.lng_deg);
  a.mutable_altitude()->set_value_m(track.altitude_m);
  a.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  a.set_message(std::move(message));
  return a;
}

void TelemetryCore::DetectAround(Track* own, const geo::Vec3& east,
                                 const geo::Vec3& north, absl::Time now,
                                 std::vector<AlertChange>* out,
                                 std::vector<const Track*>* partners_seen) {
  // The hot loop: every neighbour of every report. It reads only the
  // cells' Slots; a Track is touched for a conflict or an open alert.
  const double h2 =
      options_.separation.horizontal_m * options_.separation.horizontal_m;
  const double vsep = options_.separation.vertical_m;
  const bool has_partners = !own->partners.empty();
  // Predictions start at `now`, the alert's own instant: the ownship's
  // state is extrapolated there from its report (backwards for a report
  // stamped ahead of the server clock), as each neighbour's is below.
  const double now_s = absl::ToDoubleSeconds(now - absl::UnixEpoch());
  const double age_s = absl::ToDoubleSeconds(now - own->time);
  const geo::Vec3 e = east, n = north, w = own->velocity;
  const geo::Vec3 p = Axpy(age_s, w, own->ecef);
  const double alt = own->altitude_m + age_s * own->up_mps;
  const double up = own->up_mps;
  // The cells within reach (each once, so no track is met twice).
  // Two aircraft close by at most (own + fastest)·(T + |age|) from their
  // reports to the end of the look-ahead, and the neighbour's report is up
  // to report_gap older or newer than the ownship's. H: margin for the
  // tangent plane vs the geodesic (millimetres at this range).
  const double coast_s = absl::ToDoubleSeconds(options_.lost_link_after);
  const double fastest = FastestSpeed();
  const double span_s = options_.separation.lookahead_s + std::fabs(age_s);
  const double reach = options_.separation.horizontal_m +
                       options_.separation.vertical_m +
                       (own->speed_mps + fastest) * span_s +
                       fastest * absl::ToDoubleSeconds(options_.report_gap);
  int64_t considered = 0;
  auto scan = [&](const std::vector<Slot>& slots) {
    considered += static_cast<int64_t>(slots.size());
    for (const Slot& o : slots) {
      if (o.track == own) continue;
      // A track silent for the lost-link time is no longer coasted: it is
      // alerted as LOST_LINK instead of extrapolated into ghost conflicts.
      if (now_s - o.time_s > coast_s) continue;
      // The intruder's state now, in the ownship's local East-North-Up
      // frame (at a few km the frames differ by hundredths of a degree).
      const double dt = now_s - o.time_s;
      const geo::Vec3 d{p.x - (o.ecef.x + dt * o.velocity.x),
                        p.y - (o.ecef.y + dt * o.velocity.y),
                        p.z - (o.ecef.z + dt * o.velocity.z)};
      const geo::Vec3 dv{w.x - o.velocity.x, w.y - o.velocity.y,
                         w.z - o.velocity.z};
      State rel;
      rel.x = Dot(d, e);
      rel.y = Dot(d, n);
      rel.z = alt - (o.altitude_m + dt * o.up_mps);
      rel.vx = Dot(dv, e);
      rel.vy = Dot(dv, n);
      rel.vz = up - o.up_mps;
      const bool partner = has_partners && own->partners.contains(o.track);
      if (partner) partners_seen->push_back(o.track);
      // Apart and not closing, horizontally or vertically: no loss
      // ahead (the common case; Detect says the same at twice the cost).
      if (!partner && ((rel.x * rel.x + rel.y * rel.y >= h2 &&
                        rel.x * rel.vx + rel.y * rel.vy >= 0) ||
                       (std::fabs(rel.z) >= vsep && rel.z * rel.vz >= 0))) {
        continue;
      }
      const Detection det = Detect(rel, options_.separation);
      if (det.conflict || partner) Evaluate(own, o.track, det, now, out);
    }
  };
  surface_.ForEachNear(own->position, reach, [&](CellKey key) {
    auto it = grid_.find(key);
    if (it != grid_.end()) scan(it->second);
  });
  // The fast movers, wherever they are (few, if any).
  if (auto it = grid_.find(kFastCell); it != grid_.end()) scan(it->second);
  pairs_considered_.fetch_add(considered, std::memory_order_relaxed);
}

void TelemetryCore::Evaluate(Track* own, Track* other, const Detection& det,
                             absl::Time now, std::vector<AlertChange>* out) {
  // The pair in (operator, aircraft id) order, whoever reported.
  const bool own_first = std::tie(own->operator_id, own->aircraft_id) <
                         std::tie(other->operator_id, other->aircraft_id);
  const Track* first = own_first ? own : other;
  const Track* second = own_first ? other : own;
  // Length-prefixed: ids may contain any character.
  const std::string key = absl::StrCat("pair/", first->key.size(), ":",
                                       first->key, "|", second->key);
  if (!det.conflict) {
    SetAlert(key, std::nullopt, {}, now, out);
    return;
  }
  v1::Alert alert;
  const double ttl = det.time_in_s;
  alert.set_kind(ttl <= 0 ? v1::ALERT_KIND_SEPARATION_LOST
                 : ttl <= absl::ToDoubleSeconds(options_.imminent)
                     ? v1::ALERT_KIND_CONFLICT_IMMINENT
                     : v1::ALERT_KIND_CONFLICT_PREDICTED);
  alert.add_aircraft_ids(first->aircraft_id);
  alert.add_aircraft_ids(second->aircraft_id);
  alert.add_intent_ids(first->intent_id);
  alert.add_intent_ids(second->intent_id);
  alert.mutable_time_to_loss_of_separation()->set_seconds(
      static_cast<int64_t>(std::max(0.0, ttl)));
  alert.mutable_time_to_loss_of_separation()->set_nanos(static_cast<int32_t>(
      (std::max(0.0, ttl) - std::floor(std::max(0.0, ttl))) * 1e9));
  *alert.mutable_time_of_closest_approach() =
      TimeToProto(now + absl::Seconds(det.tcpa_s));
  alert.set_horizontal_distance_at_cpa_m(det.horizontal_at_cpa_m);
  alert.set_vertical_distance_at_cpa_m(det.vertical_at_cpa_m);
  alert.mutable_position()->set_lat_deg(first->position.lat_deg);
  alert.mutable_position()->set_lng_deg(first->position.lng_deg);
  alert.mutable_altitude()->set_value_m(first->altitude_m);
  alert.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  auto name = [](const Track& t) {
    return t.intruder() ? absl::StrCat(t.aircraft_id,
                                       " (a non-participating aircraft heard "
                                       "by Remote ID)")
                        : t.aircraft_id;
  };
  alert.set_message(absl::StrCat(
      v1::AlertKind_Name(alert.kind()).substr(11), ": ", name(*first), " and ",
      name(*second),
      ttl <= 0 ? " are inside the separation minima"
               : absl::StrCat(" lose separation in ", Rounded(ttl), " s"),
      "; closest ", Rounded(det.horizontal_at_cpa_m), " m horizontally, ",
      Rounded(det.vertical_at_cpa_m), " m vertically"));
  SetAlert(key, std::move(alert), {first, second}, now, out);
}

TelemetryCore::Result TelemetryCore::Ingest(
    const std::string& operator_id,
    const google::protobuf::RepeatedPtrField<v1::PositionReport>& reports) {
  Result result = IngestBatch(operator_id, reports, /*forwarded=*/false);
  CountReports(reports.size(), result);
  return result;
}

TelemetryCore::Result TelemetryCore::IngestForwarded(
    const std::string& operator_id,
    const google::protobuf::RepeatedPtrField<v1::PositionReport>& reports) {
  Result result = IngestBatch(operator_id, reports, /*forwarded=*/true);
  CountReports(reports.size(), result);
  return result;
}

void TelemetryCore::CountReports(int reports, const Result& result) {
  const int64_t refused = static_cast<int64_t>(result.errors.size());
  reports_accepted_.fetch_add(reports - refused, std::memory_order_relaxed);
  reports_refused_.fetch_add(refused, std::memory_order_relaxed);
}

TelemetryCore::Counters TelemetryCore::counters() const {
  Counters c;
  c.reports_accepted = reports_accepted_.load(std::memory_order_relaxed);
  c.reports_refused = reports_refused_.load(std::memory_order_relaxed);
  c.pairs_considered = pairs_considered_.load(std::memory_order_relaxed);
  for (size_t k = 0; k < alerts_raised_.size(); ++k) {
    c.alerts_raised[k] = alerts_raised_[k].load(std::memory_order_relaxed);
  }
  return c;
}

TelemetryCore::Result TelemetryCore::IngestBatch(
    const std::string& operator_id,
    const google::protobuf::RepeatedPtrField<v1::PositionReport>& reports,
    bool forwarded) {
  Result result;
  const absl::Time now = clock_->Now();
  auto refuse = [&](int i, absl::string_view message) {
    v1::ReportError e;
    e.set_report_index(i);
    e.set_message(absl::StrCat("reports[", i, "].", message));
    result.errors.push_back(std::move(e));
  };
  // "" is the namespace of non-participating aircraft. No verified token
  // has an empty subject (auth::Verifier refuses it), so only another
  // replica forwarding what IngestIntruders took in reaches it.
  const bool intruders = operator_id.empty();
  if (intruders && !forwarded) {
    for (int i = 0; i < reports.size(); ++i) {
      refuse(i,
             "operator: the empty operator id is reserved for "
             "non-participating aircraft heard by Remote ID");
    }
    return result;
  }
  // What a valid report needs for the grid, worked out without the lock.
  std::vector<Prepared> prepared;
  prepared.reserve(reports.size());
  for (int i = 0; i < reports.size(); ++i) {
    const v1::PositionReport& r = reports[i];
    absl::StatusOr<CheckedReport> checked = CheckReport(r, options_, now);
    if (!checked.ok()) {
      refuse(i, checked.status().message());
      continue;
    }
    if (intruders && !r.intent_id().empty()) {
      refuse(i, "intent_id: a non-participating aircraft flies no intent");
      continue;
    }
    const absl::Time* const t = &checked->time;
    const geo::LatLng p = checked->position;
    const double alt = checked->altitude_m;
    double hacc = checked->h_accuracy_m;
    double vacc = checked->v_accuracy_m;
    if (intruders) {
      // Forwarded by IngestIntruders: the accuracy is the whole extra
      // uncertainty, positive (the defaults stand in for an unknown one).
      if (hacc <= 0) hacc = options_.intruder_default_h_accuracy_m;
      if (vacc <= 0) vacc = options_.intruder_default_v_accuracy_m;
      Prepared& pr = prepared.emplace_back();
      pr.index = i;
      pr.report = &r;
      pr.t = *t;
      pr.p = p;
      pr.alt = alt;
      pr.hacc = hacc;
      pr.vacc = vacc;
      continue;
    }
    // Registration, before the report goes anywhere (registration.cc).
    std::shared_ptr<const IntentInfo> intent;
    bool looked_up = false;
    std::string lapsed;
    if (registration_ != nullptr) {
      if (absl::Status s = CheckRegistration(operator_id, r, now, forwarded,
                                             &intent, &looked_up);
          !s.ok()) {
        if (!forwarded) {
          refuse(i, s.message());
          continue;
        }
        lapsed = std::string(s.message());
      }
    }
    // A replica keeps the reports of the regions it owns or borders.
    if (scope_ != nullptr && !forwarded &&
        !scope_->Route(operator_id, r, p, now)) {
      continue;
    }

    // Intent and restrictions, outside the lock.
    if (!looked_up && !r.intent_id().empty()) {
      intent = airspace_->Intent(r.intent_id());
    }
    const bool known =
        intent && intent->owner == operator_id && intent->activated;
    bool conforming = true;
    if (known) {
      geo::Volume4D here;
      here.volume.footprint = geo::Circle{p, std::max(hacc, 0.01)};
      here.volume.altitude = {alt - vacc, alt + vacc};
      here.time = {*t, *t};
      conforming = false;
      for (const geo::Volume4D& vol : intent->volumes) {
        if (geo::Intersect(vol, here)) {
          conforming = true;
          break;
        }
      }
    }
    std::vector<std::string> fences =
        airspace_->BlockingConstraints(operator_id, p, alt, hacc, vacc, *t);
    prepared.push_back({i, &r, *t, p, alt, hacc, vacc, known, conforming,
                        std::move(fences), std::move(lapsed)});
  }
  Apply(operator_id, &prepared, "reports", "", now, &result);
  return result;
}

void TelemetryCore::Apply(const std::string& operator_id,
                          std::vector<Prepared>* prepared,
                          absl::string_view list, absl::string_view item,
                          absl::Time now, Result* result) {
  const bool intruders = operator_id.empty();
  std::vector<const std::string*> newly_nonconforming;  // intent ids
  std::vector<AlertChange>& changes = result->alerts;
  {
    absl::MutexLock lock(&mu_);
    for (Prepared& pr : *prepared) {
      const int i = pr.index;
      const v1::PositionReport& r = *pr.report;
      const v1::Velocity& v = r.velocity();
      const absl::Time* const t = &pr.t;
      const geo::LatLng& p = pr.p;
      const double alt = pr.alt, hacc = pr.hacc, vacc = pr.vacc;
      const bool known = pr.known, conforming = pr.conforming;
      const std::vector<std::string>& fences = pr.fences;
      auto fail = [&](absl::string_view field, absl::string_view message) {
        v1::ReportError e;
        e.set_report_index(i);
        e.set_message(absl::StrCat(list, "[", i, "].", field, ": ", message));
        result->errors.push_back(std::move(e));
      };
      // Length-prefixed: operator and aircraft ids may contain '/'.
      const std::string key = absl::StrCat(operator_id.size(), ":", operator_id,
                                           "/", r.aircraft_id());
      auto found = tracks_.find(key);
      if (found == tracks_.end()) {
        if (intruders && intruders_ >= options_.max_intruders) {
          fail(item.empty() ? "aircraft_id" : "remote_id",
               absl::StrCat("RESOURCE_EXHAUSTED: ", intruders_,
                            " non-participating aircraft are tracked, the "
                            "most this server keeps (max_intruders)"));
          continue;
        }
        auto track = std::make_unique<Track>();
        track->key = key;
        track->operator_id = operator_id;
        track->aircraft_id = r.aircraft_id();
        if (intruders) ++intruders_;
        found = tracks_.emplace(key, std::move(track)).first;
      } else if (ReportOrderTime(*t, now) < found->second->order_time()) {
        // A stamp ahead of the server clock counts as arriving now, so a
        // skewed report does not lock out the correctly stamped ones that
        // follow it (see TelemetryOptions::max_report_lead).
        fail(absl::StrCat(item, "time"),
             "older than this aircraft's previous report");
        continue;
      }
      Track* track = found->second.get();
      track->intent_id = r.intent_id();
      track->intent_known = known;
      track->time = *t;
      track->time_s = absl::ToDoubleSeconds(*t - absl::UnixEpoch());
      track->received = now;
      track->position = p;
      track->altitude_m = alt;
      const Frame f = FrameAt(p);
      track->ecef = geo::ToEcef(p);
      track->velocity =
          Axpy(v.north_mps(), f.north, Axpy(v.east_mps(), f.east, {0, 0, 0}));
      track->up_mps = v.up_mps();
      track->h_accuracy_m = hacc;
      track->v_accuracy_m = vacc;
      track->speed_mps = std::hypot(v.north_mps(), v.east_mps());
      // A fast mover is kept out of the grid and its speed out of the
      // buckets: every report scans it instead, and the slow searches stay
      // small.
      track->fast = track->speed_mps > options_.max_speed_mps;
      if (intruders) {
        // So is an intruder whose uncertainty exceeds a cell; the others
        // widen the participants' search of intruder_grid_.
        const bool apart = track->fast || hacc > options_.grid_cell_m;
        if (!apart) {
          intruder_fastest_mps_ =
              std::max(intruder_fastest_mps_, track->speed_mps);
          intruder_widest_m_ = std::max(intruder_widest_m_, hacc);
        }
        PlaceInGrid(track, apart ? kFastCell : surface_.CellOf(p));
      } else {
        CountSpeed(track, track->fast ? -1 : track->speed_mps);
        PlaceInGrid(track, track->fast ? kFastCell : surface_.CellOf(p));
      }
      const bool over_limit =
          track->fast || std::abs(v.up_mps()) > options_.max_speed_mps;

      auto single = [&](v1::AlertKind kind, std::string message) {
        return AlertAbout(*track, kind, std::move(message));
      };
      // Most reports change no alert: the keys are only built when the
      // track has an open alert or needs a new one. An intruder has no
      // operator to tell of any of these: only its conflicts are alerted.
      // A report clears a lost link.
      if (!intruders && !track->alert_keys.empty()) {
        SetAlert(absl::StrCat("link/", key), std::nullopt, {}, now, &changes);
      }
      // Unknown intent.
      if (!intruders && (!known || !track->alert_keys.empty())) {
        SetAlert(absl::StrCat("intent/", key),
                 known
                     ? std::nullopt
                     : std::optional<v1::Alert>(single(
                           v1::ALERT_KIND_UNKNOWN_INTENT,
                           r.intent_id().empty()
                               ? absl::StrCat(track->aircraft_id,
                                              " reports no intent")
                               : absl::StrCat(track->aircraft_id,
                                              " reports intent ", r.intent_id(),
                                              ", not an activated intent of "
                                              "its operator"))),
                 {track}, now, &changes);
      }
      // Conformance.
      if (!intruders && (!conforming || !track->alert_keys.empty())) {
        const std::string conf_key = absl::StrCat("conf/", key);
        if (!conforming && !alerts_.contains(conf_key) &&
            RaisesLocked({key})) {
          newly_nonconforming.push_back(&r.intent_id());
        }
        SetAlert(conf_key,
                 conforming ? std::nullopt
                            : std::optional<v1::Alert>(single(
                                  v1::ALERT_KIND_NONCONFORMANCE,
                                  absl::StrCat(track->aircraft_id,
                                               " is outside every volume of "
                                               "intent ",
                                               r.intent_id()))),
                 {track}, now, &changes);
      }
      // Speed limit.
      if (!intruders && (over_limit || !track->alert_keys.empty())) {
        SetAlert(absl::StrCat("speed/", key),
                 over_limit
                     ? std::optional<v1::Alert>(single(
                           v1::ALERT_KIND_SPEED_ABOVE_LIMIT,
                           absl::StrFormat(
                               "%s reports %.1f m/s horizontally and %.1f m/s "
                               "vertically, above the %.0f m/s limit",
                               track->aircraft_id, track->speed_mps, v.up_mps(),
                               options_.max_speed_mps)))
                     : std::nullopt,
                 {track}, now, &changes);
      }
      if (!intruders) RegistrationAlert(track, pr, now, &changes);
      // Geofences: raise each constraint entered, clear those left.
      if (!intruders && (!fences.empty() || !track->alert_keys.empty())) {
        std::vector<std::string> open_fences;
        const std::string fence_prefix = absl::StrCat("fence/", key, "/");
        for (const std::string& k : track->alert_keys) {
          if (k.rfind(fence_prefix, 0) == 0) open_fences.push_back(k);
        }
        for (const std::string& c : fences) {
          v1::Alert a = single(
              v1::ALERT_KIND_GEOFENCE_ENTRY,
              absl::StrCat(track->aircraft_id, " is inside constraint ", c));
          a.set_constraint_id(c);
          SetAlert(fence_prefix + c, std::move(a), {track}, now, &changes);
        }
        for (const std::string& k : open_fences) {
          if (std::find(fences.begin(), fences.end(),
                        k.substr(fence_prefix.size())) == fences.end()) {
            SetAlert(k, std::nullopt, {}, now, &changes);
          }
        }
      }
      // Conflicts with the neighbours; pairs that left each other's
      // neighbourhood are cleared too.
      std::vector<std::string> pairs_before;
      for (const std::string& k : track->alert_keys) {
        if (k.rfind("pair/", 0) == 0) pairs_before.push_back(k);
      }
      std::vector<const Track*> partners_seen;
      if (!intruders) {
        DetectAround(track, f.east, f.north, now, &changes, &partners_seen);
      }
      if (intruders || intruders_ > 0) {
        DetectIntruders(track, f.east, f.north, now, &changes, &partners_seen);
      }
      for (const std::string& k : pairs_before) {
        // Still open but not re-evaluated: the other aircraft is out of
        // reach now (or gone).
        auto it = alerts_.find(k);
        if (it == alerts_.end()) continue;
        const std::string& other = it->second.tracks[0] == key
                                       ? it->second.tracks[1]
                                       : it->second.tracks[0];
        auto o = tracks_.find(other);
        const bool in_reach =
            o != tracks_.end() &&
            std::find(partners_seen.begin(), partners_seen.end(),
                      o->second.get()) != partners_seen.end();
        if (!in_reach) SetAlert(k, std::nullopt, {}, now, &changes);
      }
    }
  }
  for (const std::string* intent_id : newly_nonconforming) {
    airspace_->MarkNonconforming(operator_id, *intent_id, now);
  }
  // In the order of the batch (validation errors came first).
  std::stable_sort(result->errors.begin(), result->errors.end(),
                   [](const v1::ReportError& a, const v1::ReportError& b) {
                     return a.report_index() < b.report_index();
                   });
}

std::vector<AlertChange> TelemetryCore::OpenAlerts() const {
  absl::MutexLock lock(&mu_);
  std::vector<AlertChange> out;
  out.reserve(alerts_.size());
  for (const auto& [key, open] : alerts_) {
    out.push_back({open.alert, key, open.operators, open.aircraft});
  }
  return out;
}

VolumeConvertOptions WatchAreaConvertOptions() {
  VolumeConvertOptions convert;
  convert.open_bounds = true;
  const geo::ValidationLimits wide = constraint::ConstraintLimits();
  convert.limits.max_area_m2 = wide.max_area_m2;
  convert.limits.max_reach_m = wide.max_reach_m;
  return convert;
}

}  // namespace utm::telemetry
