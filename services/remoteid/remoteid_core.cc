#include "services/remoteid/remoteid_core.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "geo/geodesy.h"
#include "geo/status_macros.h"
#include "services/common/input_limits.h"
#include "services/common/volume_convert.h"
#include "services/remoteid/published_check.h"

namespace utm::remoteid {
namespace {

constexpr double kRad = M_PI / 180;
// Receivers remembered per flight (the most recent).
constexpr size_t kMaxReceivers = 16;
// Bytes of a session id's key hash shown (as hex): 64 bits.
constexpr size_t kSessionIdBytes = 8;

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

void SetAltitude(double m, v1::Altitude* out) {
  out->set_value_m(m);
  out->set_reference(v1::ALTITUDE_REFERENCE_W84);
}

void SetLatLng(const geo::LatLng& p, v1::LatLng* out) {
  out->set_lat_deg(p.lat_deg);
  out->set_lng_deg(p.lng_deg);
}

// A position of a shown flight's track, copied out of the core.
struct ShownPoint {
  absl::Time time;
  geo::LatLng position;
  std::optional<double> altitude_m;
};
// A shown flight, copied out of the core: its track is
// points[first_point, end_point) of the copy's points.
struct ShownFlight {
  std::string id;
  v1::RidSource source = v1::RID_SOURCE_UNSPECIFIED;
  Fix latest;
  std::optional<geo::LatLng> operator_location;  // when shown publicly
  size_t first_point = 0;
  size_t end_point = 0;
};
struct PointRange {
  const ShownPoint* first;
  const ShownPoint* last;
  const ShownPoint* begin() const { return first; }
  const ShownPoint* end() const { return last; }
};

// A flight as the display shows it: its latest state and the positions of
// `track` (time, position, altitude_m; oldest first) since `oldest`.
// `operator_location`: null or empty unless shown publicly.
template <typename Track>
void FlightToProto(const std::string& id, v1::RidSource source, const Fix& fix,
                   const std::optional<geo::LatLng>* operator_location,
                   const Track& track, absl::Time oldest, v1::RidFlight* out) {
  out->set_id(id);
  out->set_source(source);
  *out->mutable_time() = TimeToProto(fix.time);
  SetLatLng(fix.position, out->mutable_position());
  if (fix.altitude_m) SetAltitude(*fix.altitude_m, out->mutable_altitude());
  out->set_has_velocity(fix.has_velocity);
  out->set_track_deg(fix.track_deg);
  out->set_speed_mps(fix.speed_mps);
  out->set_vertical_speed_mps(fix.vertical_speed_mps);
  out->set_horizontal_accuracy_m(fix.horizontal_accuracy_m);
  out->set_vertical_accuracy_m(fix.vertical_accuracy_m);
  out->set_status(fix.status);
  if (operator_location != nullptr && operator_location->has_value()) {
    SetLatLng(**operator_location, out->mutable_operator_location());
  }
  for (const auto& p : track) {
    if (p.time < oldest) continue;
    v1::RidPosition* pos = out->add_recent_positions();
    *pos->mutable_time() = TimeToProto(p.time);
    SetLatLng(p.position, pos->mutable_position());
    if (p.altitude_m) SetAltitude(*p.altitude_m, pos->mutable_altitude());
  }
}

// A telemetry report as a Remote ID state.
Fix FixOfReport(const v1::PositionReport& r) {
  Fix fix;
  fix.time = FromTimestamp(r.time());
  fix.position = {r.position().lat_deg(), r.position().lng_deg()};
  fix.altitude_m = r.altitude().value_m();
  fix.has_velocity = r.has_velocity();
  const double north = r.velocity().north_mps(), east = r.velocity().east_mps();
  fix.speed_mps = std::hypot(north, east);
  double track = std::atan2(east, north) / kRad;
  if (track < 0) track += 360;
  if (track >= 360) track -= 360;
  fix.track_deg = fix.speed_mps > 0 ? track : 0;
  fix.vertical_speed_mps = r.velocity().up_mps();
  fix.horizontal_accuracy_m = r.accuracy().horizontal_m();
  fix.vertical_accuracy_m = r.accuracy().vertical_m();
  // A report under utmd's tactical service comes from an aircraft in
  // flight; F3411 has no finer state to derive from it.
  fix.status = v1::RID_OPERATIONAL_STATUS_AIRBORNE;
  return fix;
}

}  // namespace

RemoteIdCore::RemoteIdCore(RemoteIdOptions options, const Clock* clock)
    : options_(std::move(options)),
      clock_(clock),
      grid_geometry_(options_.grid_cell_m) {}

absl::Status RemoteIdCore::CheckOptions(const RemoteIdOptions& o) {
  if (o.details_retention > absl::Hours(24)) {
    return absl::InvalidArgumentError(
        "details_retention: at most 24 h (ASTM F3411-22a "
        "NetDpMaxDataRetentionPeriod)");
  }
  if (o.near_real_time <= absl::ZeroDuration() ||
      o.details_retention < o.near_real_time) {
    return absl::InvalidArgumentError(
        "details_retention: at least near_real_time, which must be > 0");
  }
  if (o.session_key.size() < 16) {
    return absl::InvalidArgumentError("session_key: at least 16 bytes");
  }
  if (o.display.details_diagonal_m > o.display.max_diagonal_m ||
      o.display.max_diagonal_m > 7000 ||
      o.display.min_cluster_fraction < 0.15 ||
      o.display.min_obfuscation_m < 300) {
    return absl::InvalidArgumentError(
        "display: the F3411-22a limits may only be tightened (diagonals at "
        "most 7 km and details within it, clusters at least 15 % of the "
        "view, obfuscation at least 300 m)");
  }
  return absl::OkStatus();
}

std::string RemoteIdCore::SessionId(const std::string& flight_key) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), options_.session_key.data(),
       static_cast<int>(options_.session_key.size()),
       reinterpret_cast<const unsigned char*>(flight_key.data()),
       flight_key.size(), mac, &len);
  return absl::StrCat(
      "utm-", absl::BytesToHexString(absl::string_view(
                  reinterpret_cast<const char*>(mac), kSessionIdBytes)));
}

RemoteIdCore::Flight* RemoteIdCore::FindOrCreate(const std::string& id,
                                                 v1::RidSource source) {
  auto it = flights_.find(id);
  if (it != flights_.end()) return it->second.get();
  if (flights_.size() >= options_.max_flights) return nullptr;
  auto flight = std::make_unique<Flight>();
  flight->id = id;
  flight->source = source;
  flight->latest.time = absl::InfinitePast();
  Flight* f = flight.get();
  flights_.emplace(id, std::move(flight));
  return f;
}

bool RemoteIdCore::Advance(Flight* flight, const Fix& fix) {
  if (fix.time <= flight->latest.time) return false;
  flight->latest = fix;
  Point& p = flight->track.emplace_back();
  p.time = fix.time;
  p.position = fix.position;
  p.altitude_m = fix.altitude_m;
  const absl::Time oldest = fix.time - options_.near_real_time;
  while (flight->track.size() > options_.max_track_points ||
         flight->track.front().time < oldest) {
    flight->track.pop_front();
  }
  const telemetry::SurfaceGrid::Key cell = grid_geometry_.CellOf(fix.position);
  if (!flight->in_grid || flight->cell != cell) {
    if (flight->in_grid) {
      auto it = grid_.find(flight->cell);
      it->second.erase(flight);
      if (it->second.empty()) grid_.erase(it);
    }
    grid_[cell].insert(flight);
    flight->cell = cell;
    flight->in_grid = true;
  }
  return true;
}

RemoteIdCore::Flight* RemoteIdCore::SameAircraft(const std::string& aircraft_id,
                                                 const Fix& fix) {
  auto it = by_aircraft_id_.find(aircraft_id);
  if (it == by_aircraft_id_.end()) return nullptr;
  for (const std::string& id : it->second) {
    auto f = flights_.find(id);
    if (f == flights_.end()) continue;
    Flight* flight = f->second.get();
    if (absl::AbsDuration(flight->latest.time - fix.time) <=
            options_.same_aircraft_time &&
        geo::GeodesicDistance(flight->latest.position, fix.position) <=
            options_.same_aircraft_m) {
      return flight;
    }
  }
  return nullptr;
}

void RemoteIdCore::Erase(const std::string& id) {
  auto it = flights_.find(id);
  if (it == flights_.end()) return;
  Flight* flight = it->second.get();
  if (flight->in_grid) {
    auto cell = grid_.find(flight->cell);
    cell->second.erase(flight);
    if (cell->second.empty()) grid_.erase(cell);
  }
  if (flight->source == v1::RID_SOURCE_NETWORK) {
    const Identity& who = flight->identity;
    sessions_.erase(absl::StrCat(who.operator_account, "\n", who.aircraft_id,
                                 "\n", who.intent_id));
    auto a = by_aircraft_id_.find(who.aircraft_id);
    if (a != by_aircraft_id_.end()) {
      a->second.erase(id);
      if (a->second.empty()) by_aircraft_id_.erase(a);
    }
    auto o = by_operator_.find(who.operator_account);
    if (o != by_operator_.end()) {
      o->second.erase(id);
      if (o->second.empty()) by_operator_.erase(o);
    }
  }
  flights_.erase(it);
}

void RemoteIdCore::AddNetworkReport(const std::string& operator_id,
                                    const v1::PositionReport& report,
                                    Origin origin) {
  if (ApplyNetworkReport(operator_id, report) && origin == Origin::kClient &&
      replicator_ != nullptr) {
    replicator_->OnNetworkReport(operator_id, report);
  }
}

bool RemoteIdCore::ApplyNetworkReport(const std::string& operator_id,
                                      const v1::PositionReport& report) {
  const Fix fix = FixOfReport(report);
  std::string key = absl::StrCat(operator_id, "\n", report.aircraft_id(), "\n",
                                 report.intent_id());
  absl::MutexLock lock(&mu_);
  auto s = sessions_.find(key);
  Flight* flight = nullptr;
  if (s != sessions_.end()) {
    flight = flights_.at(s->second).get();
  } else {
    std::string id = SessionId(key);
    if (flights_.contains(id)) {  // taken by a broadcast claiming it
      ++dropped_;
      return false;
    }
    flight = FindOrCreate(id, v1::RID_SOURCE_NETWORK);
    if (flight == nullptr) {
      ++dropped_;
      return false;
    }
    flight->identity.operator_account = operator_id;
    flight->identity.aircraft_id = report.aircraft_id();
    flight->identity.intent_id = report.intent_id();
    by_aircraft_id_[report.aircraft_id()].insert(id);
    by_operator_[operator_id].insert(id);
    sessions_.emplace(std::move(key), std::move(id));
  }
  return Advance(flight, fix);
}

absl::StatusOr<RemoteIdCore::Published> RemoteIdCore::Publish(
    const std::string& account, const v1::PublishFlightsRequest& request,
    Origin origin) {
  absl::StatusOr<Published> out = ApplyPublish(account, request);
  if (!out.ok() && origin == Origin::kReplica) {
    absl::MutexLock lock(&mu_);
    ++dropped_;
  }
  if (out.ok() && origin == Origin::kClient && replicator_ != nullptr) {
    replicator_->OnPublish(account, request);
  }
  return out;
}

absl::StatusOr<RemoteIdCore::Published> RemoteIdCore::ApplyPublish(
    const std::string& account, const v1::PublishFlightsRequest& request) {
  const absl::Time now = clock_->Now();
  PublishLimits limits;
  limits.max_age = options_.max_age;
  limits.max_lead = options_.max_lead;
  UTM_RETURN_IF_ERROR(CheckPublishFlights(request, now, limits));
  if (options_.region != nullptr) {
    UTM_RETURN_IF_ERROR(CheckPublishRegion(request, *options_.region));
  }
  Published out;
  absl::MutexLock lock(&mu_);
  size_t new_flights = 0;
  for (int i = 0; i < request.flights_size(); ++i) {
    const v1::PublishedFlight& f = request.flights(i);
    auto it = flights_.find(f.uas_id());
    if (it == flights_.end()) {
      ++new_flights;
      continue;
    }
    const Flight& existing = *it->second;
    if (existing.source == v1::RID_SOURCE_NETWORK) {
      return absl::InvalidArgumentError(
          absl::StrCat("flights[", i, "].uas_id: ", QuoteForError(f.uas_id()),
                       " is the session id of another flight"));
    }
    if (existing.source == v1::RID_SOURCE_NETWORK_PUBLISHED &&
        existing.identity.operator_account != account) {
      return absl::PermissionDeniedError(
          absl::StrCat("flights[", i, "].uas_id: ", QuoteForError(f.uas_id()),
                       " is published by another account"));
    }
  }
  if (flights_.size() + new_flights > options_.max_flights) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the display holds ", flights_.size(), " flights, at most ",
        options_.max_flights, "; retry later"));
  }
  // Mostly one state a flight: room for all, so that the batch moves into
  // tactical deconfliction without regrowing.
  out.heard.reserve(request.flights_size());
  std::vector<Fix> fixes;  // one flight's, reused
  for (const v1::PublishedFlight& f : request.flights()) {
    fixes.clear();
    for (const v1::PublishedState& s : f.states()) {
      Fix& fix = fixes.emplace_back();
      fix.time = FromTimestamp(s.time());
      fix.position = {s.position().lat_deg(), s.position().lng_deg()};
      fix.altitude_m = s.altitude().value_m();
      fix.has_velocity = true;
      fix.track_deg = s.track_deg();
      fix.speed_mps = s.speed_mps();
      fix.vertical_speed_mps = s.vertical_speed_mps();
      fix.horizontal_accuracy_m = s.horizontal_accuracy_m();
      fix.vertical_accuracy_m = s.vertical_accuracy_m();
      fix.status = s.status();
    }
    if (Flight* same = SameAircraft(f.uas_id(), fixes.back()); same) {
      // A participant's aircraft, shown already from its own reports.
      out.states_accepted += f.states_size();
      continue;
    }
    Flight* flight = FindOrCreate(f.uas_id(), v1::RID_SOURCE_NETWORK_PUBLISHED);
    flight->source = v1::RID_SOURCE_NETWORK_PUBLISHED;
    Identity& who = flight->identity;
    who.ua_type = f.ua_type();
    who.serial_number.clear();
    who.registration_id.clear();
    if (f.uas_id_type() == v1::UAS_ID_TYPE_SERIAL_NUMBER) {
      who.serial_number = f.uas_id();
    } else if (f.uas_id_type() == v1::UAS_ID_TYPE_REGISTRATION) {
      who.registration_id = f.uas_id();
    }
    who.operator_id = f.operator_id();
    who.operator_location.reset();
    if (f.has_operator_location()) {
      who.operator_location = geo::LatLng{f.operator_location().lat_deg(),
                                          f.operator_location().lng_deg()};
    }
    who.operator_altitude_m.reset();
    if (f.has_operator_altitude()) {
      who.operator_altitude_m = f.operator_altitude().value_m();
    }
    who.operator_account = account;
    who.description = f.description();
    for (int k = 0; k < f.states_size(); ++k) {
      if (!Advance(flight, fixes[k])) continue;
      ++out.states_accepted;
      HeardState& heard = out.heard.emplace_back();
      heard.remote_id = f.uas_id();
      heard.fix = fixes[k];
      heard.latency = std::max(absl::ZeroDuration(), now - fixes[k].time) +
                      absl::Seconds(f.states(k).time_accuracy_s());
    }
  }
  return out;
}

std::optional<HeardState> RemoteIdCore::AddBroadcast(const BroadcastFix& b,
                                                     Origin origin) {
  bool kept = false;
  std::optional<HeardState> heard = ApplyBroadcast(b, &kept);
  if (kept && origin == Origin::kClient && replicator_ != nullptr) {
    replicator_->OnBroadcast(b);
  }
  return heard;
}

std::optional<HeardState> RemoteIdCore::ApplyBroadcast(const BroadcastFix& b,
                                                       bool* kept) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  if (b.fix.time < now - options_.max_age ||
      b.fix.time > now + options_.max_lead) {
    ++dropped_;
    return std::nullopt;
  }
  auto add_receiver = [&](Flight* flight) {
    std::vector<std::string>& r = flight->receivers;
    r.erase(std::remove(r.begin(), r.end(), b.receiver), r.end());
    r.push_back(b.receiver);
    if (r.size() > kMaxReceivers) r.erase(r.begin());
  };
  if (Flight* same = SameAircraft(b.uas_id, b.fix); same) {
    add_receiver(same);
    if (same->identity.serial_number.empty() &&
        b.uas_id_type == v1::UAS_ID_TYPE_SERIAL_NUMBER) {
      same->identity.serial_number = b.uas_id;
    }
    *kept = true;
    return std::nullopt;
  }
  auto it = flights_.find(b.uas_id);
  if (it != flights_.end() && it->second->source == v1::RID_SOURCE_NETWORK) {
    ++dropped_;  // a broadcast claiming a session id of ours
    return std::nullopt;
  }
  Flight* flight = FindOrCreate(b.uas_id, v1::RID_SOURCE_BROADCAST);
  if (flight == nullptr) {
    ++dropped_;
    return std::nullopt;
  }
  add_receiver(flight);
  *kept = true;
  if (flight->source == v1::RID_SOURCE_BROADCAST) {
    // What the air says; a provider's published identity stays.
    Identity& who = flight->identity;
    const Identity& heard = b.identity;
    if (heard.ua_type != v1::UA_TYPE_NONE) who.ua_type = heard.ua_type;
    if (b.uas_id_type == v1::UAS_ID_TYPE_SERIAL_NUMBER) {
      who.serial_number = b.uas_id;
    } else if (b.uas_id_type == v1::UAS_ID_TYPE_REGISTRATION) {
      who.registration_id = b.uas_id;
    }
    if (!heard.operator_id.empty()) who.operator_id = heard.operator_id;
    if (heard.operator_location)
      who.operator_location = heard.operator_location;
    if (heard.operator_altitude_m) {
      who.operator_altitude_m = heard.operator_altitude_m;
    }
    if (!heard.description.empty()) who.description = heard.description;
  }
  if (!Advance(flight, b.fix)) return std::nullopt;
  HeardState heard;
  heard.remote_id = b.uas_id;
  heard.fix = b.fix;
  heard.latency = std::max(absl::ZeroDuration(), b.received - b.fix.time) +
                  absl::Seconds(b.timestamp_accuracy_s);
  return heard;
}

void RemoteIdCore::ToProto(const Flight& flight, absl::Time now,
                           v1::RidFlight* out) const {
  const std::optional<geo::LatLng>* operator_location =
      options_.public_operator_location ? &flight.identity.operator_location
                                        : nullptr;
  FlightToProto(flight.id, flight.source, flight.latest, operator_location,
                flight.track, now - options_.near_real_time, out);
}

absl::StatusOr<v1::SearchFlightsResponse> RemoteIdCore::Search(
    const v1::LatLngRect& rect) const {
  UTM_ASSIGN_OR_RETURN(DisplayView view,
                       DisplayView::FromProto(rect, options_.display, "view"));
  return Search(view);
}

v1::SearchFlightsResponse RemoteIdCore::Search(const DisplayView& view) const {
  const absl::Time now = clock_->Now();
  const absl::Time oldest = now - options_.near_real_time;
  v1::SearchFlightsResponse out;
  *out.mutable_server_time() = TimeToProto(now);
  // What the answer shows is copied under the (reader) lock, and the answer
  // built after it: building a view's messages takes far longer than
  // copying its flat data, and publishers wait for the lock meanwhile.
  std::vector<ShownFlight> shown;
  std::vector<ShownPoint> points;
  std::vector<geo::LatLng> positions;  // clusters: all they need
  {
    absl::ReaderMutexLock lock(&mu_);
    std::vector<const Flight*> in_view;
    grid_geometry_.ForEachNear(
        view.centre(), view.radius_m(), [&](telemetry::SurfaceGrid::Key key) {
          auto cell = grid_.find(key);
          if (cell == grid_.end()) return;
          for (const Flight* f : cell->second) {
            if (f->latest.time >= oldest && view.Contains(f->latest.position)) {
              in_view.push_back(f);
            }
          }
        });
    if (!view.shows_flights()) {
      positions.reserve(in_view.size());
      for (const Flight* f : in_view) positions.push_back(f->latest.position);
    } else {
      std::sort(in_view.begin(), in_view.end(),
                [](const Flight* a, const Flight* b) { return a->id < b->id; });
      size_t track_points = 0;
      for (const Flight* f : in_view) track_points += f->track.size();
      shown.reserve(in_view.size());
      points.reserve(track_points);
      for (const Flight* f : in_view) {
        ShownFlight& s = shown.emplace_back();
        s.id = f->id;
        s.source = f->source;
        s.latest = f->latest;
        if (options_.public_operator_location) {
          s.operator_location = f->identity.operator_location;
        }
        s.first_point = points.size();
        for (const Point& p : f->track) {
          if (p.time < oldest) continue;
          ShownPoint& q = points.emplace_back();
          q.time = p.time;
          q.position = p.position;
          q.altitude_m = p.altitude_m;
        }
        s.end_point = points.size();
      }
    }
  }
  if (view.shows_flights()) {
    for (const ShownFlight& s : shown) {
      FlightToProto(s.id, s.source, s.latest, &s.operator_location,
                    PointRange{points.data() + s.first_point,
                               points.data() + s.end_point},
                    oldest, out.add_flights());
    }
  } else {
    for (v1::RidCluster& c : view.Cluster(positions)) {
      *out.add_clusters() = std::move(c);
    }
  }
  return out;
}

absl::StatusOr<v1::RidFlightDetails> RemoteIdCore::Details(
    const std::string& id) const {
  const absl::Time now = clock_->Now();
  absl::ReaderMutexLock lock(&mu_);
  auto it = flights_.find(id);
  if (it == flights_.end() ||
      it->second->latest.time < now - options_.details_retention) {
    return absl::NotFoundError(absl::StrCat(
        "id: no flight ", QuoteForError(id), " was shown in the last ",
        absl::FormatDuration(options_.details_retention)));
  }
  const Flight& f = *it->second;
  const Identity& who = f.identity;
  v1::RidFlightDetails d;
  d.set_id(f.id);
  d.set_source(f.source);
  d.set_ua_type(who.ua_type);
  d.set_serial_number(who.serial_number);
  d.set_registration_id(who.registration_id);
  d.set_operator_id(who.operator_id);
  if (who.operator_location) {
    SetLatLng(*who.operator_location, d.mutable_operator_location());
  }
  if (who.operator_altitude_m) {
    SetAltitude(*who.operator_altitude_m, d.mutable_operator_altitude());
  }
  d.set_operator_account(who.operator_account);
  d.set_intent_id(who.intent_id);
  d.set_aircraft_id(who.aircraft_id);
  d.set_description(who.description);
  for (const std::string& r : f.receivers) d.add_receivers(r);
  return d;
}

std::vector<RemoteIdCore::OperatorFlight> RemoteIdCore::OperatorFlights(
    const std::string& operator_id, size_t limit) const {
  const absl::Time now = clock_->Now();
  const absl::Time oldest = now - options_.near_real_time;
  std::vector<const Flight*> shown;
  absl::ReaderMutexLock lock(&mu_);
  auto it = by_operator_.find(operator_id);
  if (it == by_operator_.end()) return {};
  for (const std::string& id : it->second) {
    const Flight& f = *flights_.at(id);
    if (f.latest.time >= oldest) shown.push_back(&f);
  }
  std::sort(shown.begin(), shown.end(), [](const Flight* a, const Flight* b) {
    if (a->identity.aircraft_id != b->identity.aircraft_id) {
      return a->identity.aircraft_id < b->identity.aircraft_id;
    }
    return a->latest.time > b->latest.time;
  });
  if (shown.size() > limit) shown.resize(limit);
  std::vector<OperatorFlight> out(shown.size());
  for (size_t i = 0; i < shown.size(); ++i) {
    out[i].aircraft_id = shown[i]->identity.aircraft_id;
    out[i].intent_id = shown[i]->identity.intent_id;
    ToProto(*shown[i], now, &out[i].flight);
  }
  return out;
}

void RemoteIdCore::Expire() {
  const absl::Time now = clock_->Now();
  const absl::Time shown_since = now - options_.near_real_time;
  const absl::Time kept_since = now - options_.details_retention;
  absl::MutexLock lock(&mu_);
  std::vector<std::string> gone;
  for (auto& [id, flight] : flights_) {
    if (flight->latest.time < kept_since) {
      gone.push_back(id);
    } else if (flight->in_grid && flight->latest.time < shown_since) {
      auto cell = grid_.find(flight->cell);
      cell->second.erase(flight.get());
      if (cell->second.empty()) grid_.erase(cell);
      flight->in_grid = false;
      flight->track.clear();  // positions are near-real-time data only
    }
  }
  for (const std::string& id : gone) Erase(id);
}

size_t RemoteIdCore::flight_count() const {
  absl::ReaderMutexLock lock(&mu_);
  return flights_.size();
}

int64_t RemoteIdCore::dropped() const {
  absl::ReaderMutexLock lock(&mu_);
  return dropped_;
}

}  // namespace utm::remoteid
