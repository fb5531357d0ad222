#include "services/map/map_feed.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "services/common/proto_json.h"
#include "services/common/uuid.h"
#include "utm/v1/strategic.pb.h"

namespace utm::map {

using nlohmann::json;

// One browser's view: its viewer, area, constraint watcher and the
// tactical updates waiting for it.
class MapClient {
 public:
  MapViewer viewer;
  MapArea area;
  std::shared_ptr<constraint::Watcher> watcher;  // null without constraints

  absl::Mutex mu;
  // Waiting tactical events; an entry with a key is replaced by a newer
  // event of the same key while unsent.
  std::deque<std::pair<std::string, MapEvent>> pending ABSL_GUARDED_BY(mu);
  // Index in `pending` of the entry of each key.
  absl::flat_hash_map<std::string, size_t> slot ABSL_GUARDED_BY(mu);
  // The constraint watcher has events (its notify ran).
  bool constraint_ready ABSL_GUARDED_BY(mu) = true;
  // Owes the client hello (first time), reset and a snapshot.
  bool needs_snapshot ABSL_GUARDED_BY(mu) = true;
  bool said_hello ABSL_GUARDED_BY(mu) = false;
  bool closed ABSL_GUARDED_BY(mu) = false;

  // The Remote ID layer as last queued (the feed's mu_ guards these; a
  // snapshot repeats them): each flight's JSON by id, and the rid_view.
  std::map<std::string, std::string> rid_flights;
  std::string rid_view;
};

struct MapFeed::Track {
  std::string opaque_id;
  std::string operator_id;
  std::string aircraft_id;
  v1::PositionReport latest;
  std::deque<std::pair<double, double>> track;
  absl::Time last_seen;
};

struct MapFeed::OpenAlert {
  v1::Alert alert;
  std::vector<std::pair<std::string, std::string>> aircraft;
};

struct MapFeed::IntentEntry {
  IntentInput intent;
};

namespace {

std::string TrackKey(const std::string& op, const std::string& aircraft) {
  return absl::StrCat(op, "/", aircraft);
}

bool Terminal(v1::IntentState s) {
  return s == v1::INTENT_STATE_ENDED || s == v1::INTENT_STATE_CANCELLED ||
         s == v1::INTENT_STATE_UNSPECIFIED;
}

// The bounding box as the constraint watch's area: a polygon of geodesic
// edges between the corners, every altitude and time.
v1::WatchConstraintsRequest WatchRequest(const MapArea& a) {
  v1::WatchConstraintsRequest request;
  v1::Polygon* p =
      request.mutable_area()->mutable_volume()->mutable_outline_polygon();
  const double corners[4][2] = {{a.min_lat, a.min_lng},
                                {a.min_lat, a.max_lng},
                                {a.max_lat, a.max_lng},
                                {a.max_lat, a.min_lng}};
  for (const auto& c : corners) {
    v1::LatLng* v = p->add_vertices();
    v->set_lat_deg(c[0]);
    v->set_lng_deg(c[1]);
  }
  request.mutable_heartbeat_interval()->set_seconds(60);
  return request;
}

std::string TimeText(const google::protobuf::Timestamp& t) {
  return absl::FormatTime(
      absl::RFC3339_full,
      absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos()),
      absl::UTCTimeZone());
}

// A Remote ID flight as the map shows it: the fields it draws, copied one by
// one, so that nothing of who flies it (the display's operator_location
// included) can reach the map.
std::string RidFlightJson(const v1::RidFlight& f) {
  const std::string& source_name = v1::RidSource_Name(f.source());
  absl::string_view source = source_name;
  absl::ConsumePrefix(&source, "RID_SOURCE_");
  json j = {{"id", f.id()},
            {"source", std::string(source)},
            {"lat", f.position().lat_deg()},
            {"lng", f.position().lng_deg()},
            {"time", TimeText(f.time())},
            {"has_velocity", f.has_velocity()},
            {"track_deg", f.track_deg()},
            {"speed_mps", f.speed_mps()},
            {"vertical_speed_mps", f.vertical_speed_mps()},
            {"status", v1::RidOperationalStatus_Name(f.status())}};
  if (f.has_altitude()) j["alt_m"] = f.altitude().value_m();
  json track = json::array();
  for (const v1::RidPosition& p : f.recent_positions()) {
    track.push_back({p.position().lat_deg(), p.position().lng_deg()});
  }
  j["track"] = std::move(track);
  return j.dump();
}

// The display's clusters of a view, or why it shows nothing there.
std::string RidViewJson(
    const absl::StatusOr<v1::SearchFlightsResponse>& picture) {
  json clusters = json::array();
  json j;
  if (picture.ok()) {
    for (const v1::RidCluster& c : picture->clusters()) {
      json corners = json::array();
      for (const v1::LatLng& p : c.corners()) {
        corners.push_back({p.lat_deg(), p.lng_deg()});
      }
      clusters.push_back({{"corners", std::move(corners)},
                          {"aircraft_count", c.aircraft_count()}});
    }
  } else {
    j["refused"] = std::string(picture.status().message());
  }
  j["clusters"] = std::move(clusters);
  return j.dump();
}

}  // namespace

IntentInput IntentInputOf(const v1::FlightIntent& proto) {
  IntentInput in;
  in.id = proto.id();
  in.owner = proto.owner();
  in.state = proto.state();
  in.priority = proto.priority();
  in.aircraft = proto.aircraft().serial_number();
  in.volumes.assign(proto.volumes().begin(), proto.volumes().end());
  return in;
}

MapViewer MapViewer::Of(const auth::Principal& p) {
  MapViewer v;
  v.subject = p.subject;
  const bool admin = p.Has(auth::Scope::kAdmin);
  v.all_alerts = admin || p.Has(auth::Scope::kConformanceMonitoring) ||
                 p.Has(auth::Scope::kLawEnforcement);
  v.all_aircraft = v.all_alerts || p.Has(auth::Scope::kRemoteIdDisplay);
  v.identities = admin;
  v.remote_id = p.Has(auth::Scope::kRemoteIdDisplay);
  return v;
}

absl::StatusOr<MapArea> ParseMapArea(absl::string_view text,
                                     absl::string_view field) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, ',');
  double n[4];
  if (parts.size() != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": want min_lat,min_lng,max_lat,max_lng, got ",
                     parts.size(), " value(s)"));
  }
  for (int i = 0; i < 4; ++i) {
    if (!absl::SimpleAtod(parts[i], &n[i]) || !std::isfinite(n[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, "[", i, "]: not a number"));
    }
  }
  MapArea a{n[0], n[1], n[2], n[3]};
  for (double lat : {a.min_lat, a.max_lat}) {
    if (lat < -90 || lat > 90) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": latitude ", lat, " is outside [-90, 90]"));
    }
  }
  for (double lng : {a.min_lng, a.max_lng}) {
    if (lng < -180 || lng > 180) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": longitude ", lng, " is outside [-180, 180]"));
    }
  }
  if (a.min_lat >= a.max_lat || a.min_lng >= a.max_lng) {
    return absl::InvalidArgumentError(
        absl::StrCat(field,
                     ": min_lat < max_lat and min_lng < max_lng "
                     "are required"));
  }
  return a;
}

MapFeed::MapFeed(MapFeedOptions options, const Clock* clock,
                 constraint::ConstraintCore* constraints)
    : options_(options), clock_(clock), constraints_(constraints) {}

MapFeed::~MapFeed() {
  CloseAll();
  std::vector<std::shared_ptr<MapClient>> clients;
  {
    absl::MutexLock lock(&mu_);
    clients.swap(clients_);
  }
  for (const auto& c : clients) {
    if (c->watcher != nullptr) constraints_->Unwatch(c->watcher.get());
  }
}

bool MapFeed::Sees(const MapViewer& viewer, const Track& track,
                   const MapArea& area) const {
  if (!viewer.all_aircraft && track.operator_id != viewer.subject) {
    return false;
  }
  const double lat = track.latest.position().lat_deg();
  const double lng = track.latest.position().lng_deg();
  return lat >= area.min_lat - kAreaMarginDeg &&
         lat <= area.max_lat + kAreaMarginDeg &&
         lng >= area.min_lng - kAreaMarginDeg &&
         lng <= area.max_lng + kAreaMarginDeg;
}

bool MapFeed::SeesAlert(const MapViewer& viewer, const OpenAlert& a) const {
  if (viewer.all_alerts) return true;
  for (const auto& [op, id] : a.aircraft) {
    if (op == viewer.subject) return true;
  }
  return false;
}

bool MapFeed::Touches(const IntentInput& intent, const MapArea& area) {
  constexpr double kMetresPerDegree = 111320;
  for (const v1::Volume4D& v : intent.volumes) {
    double lo_lat = 90, hi_lat = -90, lo_lng = 180, hi_lng = -180;
    const v1::Volume3D& vol = v.volume();
    if (vol.has_outline_circle()) {
      const v1::LatLng& c = vol.outline_circle().center();
      const double dlat = vol.outline_circle().radius_m() / kMetresPerDegree;
      const double cos_lat =
          std::max(0.01, std::cos(c.lat_deg() * M_PI / 180.0));
      const double dlng = dlat / cos_lat;
      lo_lat = c.lat_deg() - dlat;
      hi_lat = c.lat_deg() + dlat;
      lo_lng = c.lng_deg() - dlng;
      hi_lng = c.lng_deg() + dlng;
    } else if (vol.has_outline_polygon()) {
      for (const v1::LatLng& p : vol.outline_polygon().vertices()) {
        lo_lat = std::min(lo_lat, p.lat_deg());
        hi_lat = std::max(hi_lat, p.lat_deg());
        lo_lng = std::min(lo_lng, p.lng_deg());
        hi_lng = std::max(hi_lng, p.lng_deg());
      }
    } else {
      continue;
    }
    if (hi_lat >= area.min_lat - kAreaMarginDeg &&
        lo_lat <= area.max_lat + kAreaMarginDeg &&
        hi_lng >= area.min_lng - kAreaMarginDeg &&
        lo_lng <= area.max_lng + kAreaMarginDeg) {
      return true;
    }
  }
  return false;
}

std::string MapFeed::AircraftJson(const Track& t,
                                  const MapViewer& viewer) const {
  const v1::PositionReport& r = t.latest;
  json j = {{"id", t.opaque_id},
            {"lat", r.position().lat_deg()},
            {"lng", r.position().lng_deg()},
            {"alt_m", r.altitude().value_m()},
            {"north_mps", r.velocity().north_mps()},
            {"east_mps", r.velocity().east_mps()},
            {"up_mps", r.velocity().up_mps()},
            {"time", TimeText(r.time())}};
  json track = json::array();
  for (const auto& [lat, lng] : t.track) track.push_back({lat, lng});
  j["track"] = std::move(track);
  const bool own = t.operator_id == viewer.subject;
  j["own"] = own;
  if (own || viewer.identities) {
    j["operator"] = t.operator_id;
    j["aircraft_id"] = t.aircraft_id;
    j["intent_id"] = r.intent_id();
  }
  return j.dump();
}

std::string MapFeed::AlertJson(const OpenAlert& a,
                               const MapViewer& viewer) const {
  json j = {{"id", a.alert.id()},
            {"kind", v1::AlertKind_Name(a.alert.kind())},
            {"state", v1::AlertState_Name(a.alert.state())},
            {"lat", a.alert.position().lat_deg()},
            {"lng", a.alert.position().lng_deg()}};
  json aircraft = json::array();
  bool owns_all = true;
  for (const auto& [op, id] : a.aircraft) {
    auto it = tracks_.find(TrackKey(op, id));
    // An aircraft no longer tracked (or not yet) has no id on the map.
    aircraft.push_back(it == tracks_.end() ? "" : it->second->opaque_id);
    owns_all = owns_all && op == viewer.subject;
  }
  j["aircraft"] = std::move(aircraft);
  if (owns_all || viewer.identities) j["message"] = a.alert.message();
  return j.dump();
}

std::string MapFeed::IntentJson(const IntentEntry& e,
                                const MapViewer& viewer) const {
  const IntentInput& in = e.intent;
  const bool own = in.owner == viewer.subject;
  json volumes = json::array();
  for (const v1::Volume4D& v : in.volumes) volumes.push_back(ProtoToJson(v));
  json j = {{"id", in.id},
            {"state", v1::IntentState_Name(in.state)},
            {"own", own},
            {"volumes", std::move(volumes)}};
  if (own || viewer.identities) {
    j["owner"] = in.owner;
    j["aircraft"] = in.aircraft;
    j["priority"] = in.priority;
  }
  return j.dump();
}

void MapFeed::Push(MapClient* c, const std::string& key, MapEvent event) {
  absl::MutexLock lock(&c->mu);
  if (c->closed || c->needs_snapshot) return;  // the snapshot will show it
  if (!key.empty()) {
    auto it = c->slot.find(key);
    if (it != c->slot.end()) {
      c->pending[it->second].second = std::move(event);
      return;
    }
  }
  if (c->pending.size() >= options_.max_pending) {
    // Too slow: drop what waits; it reads a reset and a new snapshot.
    c->pending.clear();
    c->slot.clear();
    c->needs_snapshot = true;
    return;
  }
  if (!key.empty()) c->slot[key] = c->pending.size();
  c->pending.emplace_back(key, std::move(event));
}

void MapFeed::OnReport(const std::string& operator_id,
                       const v1::PositionReport& report) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  const std::string key = TrackKey(operator_id, report.aircraft_id());
  std::unique_ptr<Track>& slot = tracks_[key];
  if (slot == nullptr) {
    slot = std::make_unique<Track>();
    slot->opaque_id = absl::StrCat("ac-", RandomUuid().substr(0, 13));
    slot->operator_id = operator_id;
    slot->aircraft_id = report.aircraft_id();
  }
  Track& t = *slot;
  t.latest = report;
  t.last_seen = now;
  t.track.emplace_back(report.position().lat_deg(),
                       report.position().lng_deg());
  while (t.track.size() > options_.track_points) t.track.pop_front();
  // Rendered at most twice: with identity and without.
  std::string with_id, without_id;
  for (const auto& c : clients_) {
    if (!Sees(c->viewer, t, c->area)) continue;
    const bool identity =
        c->viewer.identities || t.operator_id == c->viewer.subject;
    std::string& text = identity ? with_id : without_id;
    if (text.empty()) text = AircraftJson(t, c->viewer);
    Push(c.get(), "a:" + t.opaque_id, MapEvent{"aircraft", text});
  }
}

void MapFeed::OnAlerts(const std::vector<AlertInput>& changes) {
  absl::MutexLock lock(&mu_);
  for (const AlertInput& change : changes) {
    OpenAlert a{change.alert, change.aircraft};
    const bool cleared = change.alert.state() == v1::ALERT_STATE_CLEARED;
    for (const auto& c : clients_) {
      if (!SeesAlert(c->viewer, a)) continue;
      // RAISED and CLEARED are never coalesced away; UPDATED replaces an
      // unsent UPDATED of the same alert.
      const std::string key = change.alert.state() == v1::ALERT_STATE_UPDATED
                                  ? "u:" + change.alert.id()
                                  : "";
      Push(c.get(), key, MapEvent{"alert", AlertJson(a, c->viewer)});
    }
    if (cleared) {
      alerts_.erase(change.alert.id());
    } else {
      alerts_[change.alert.id()] = std::move(a);
    }
  }
}

void MapFeed::OnIntent(const IntentInput& intent) {
  absl::MutexLock lock(&mu_);
  const bool over = Terminal(intent.state);
  auto it = intents_.find(intent.id);
  if (over && it == intents_.end()) return;  // never shown
  if (it == intents_.end()) {
    intent_order_.push_back(intent.id);
    while (intent_order_.size() > options_.max_intents) {
      intents_.erase(intent_order_.front());
      intent_order_.pop_front();
    }
  }
  IntentEntry entry{intent};
  for (const auto& c : clients_) {
    if (!Touches(intent, c->area)) continue;
    Push(c.get(), "i:" + intent.id,
         MapEvent{"intent", IntentJson(entry, c->viewer)});
  }
  if (over) {
    intents_.erase(intent.id);
    intent_order_.erase(
        std::find(intent_order_.begin(), intent_order_.end(), intent.id));
  } else {
    intents_[intent.id] = std::move(entry);
  }
}

void MapFeed::Retire(const std::string& key) {
  auto it = tracks_.find(key);
  if (it == tracks_.end()) return;
  const std::string data = json{{"id", it->second->opaque_id}}.dump();
  for (const auto& c : clients_) {
    if (!Sees(c->viewer, *it->second, c->area)) continue;
    Push(c.get(), "a:" + it->second->opaque_id,
         MapEvent{"aircraft_gone", data});
  }
  tracks_.erase(it);
}

void MapFeed::Tick() {
  const absl::Time now = clock_->Now();
  {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> silent;
    for (const auto& [key, track] : tracks_) {
      if (now - track->last_seen >= options_.aircraft_ttl) {
        silent.push_back(key);
      }
    }
    for (const std::string& key : silent) Retire(key);
  }
  RefreshRemoteId();
}

void MapFeed::RefreshRemoteId() {
  if (!remote_id_search_) return;
  std::vector<std::shared_ptr<MapClient>> viewers;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& c : clients_) {
      if (c->viewer.remote_id) viewers.push_back(c);
    }
  }
  for (const auto& c : viewers) {
    // The client's area never changes: searched without the feed's lock.
    v1::LatLngRect view;
    view.mutable_south_west()->set_lat_deg(c->area.min_lat);
    view.mutable_south_west()->set_lng_deg(c->area.min_lng);
    view.mutable_north_east()->set_lat_deg(c->area.max_lat);
    view.mutable_north_east()->set_lng_deg(c->area.max_lng);
    const absl::StatusOr<v1::SearchFlightsResponse> picture =
        remote_id_search_(view);
    std::map<std::string, std::string> flights;
    if (picture.ok()) {
      for (const v1::RidFlight& f : picture->flights()) {
        flights[f.id()] = RidFlightJson(f);
      }
    }
    std::string view_json = RidViewJson(picture);
    absl::MutexLock lock(&mu_);
    if (view_json != c->rid_view) {
      Push(c.get(), "rv", MapEvent{"rid_view", view_json});
      c->rid_view = std::move(view_json);
    }
    for (const auto& [id, text] : c->rid_flights) {
      if (flights.count(id) == 0) {
        Push(c.get(), "r:" + id,
             MapEvent{"rid_flight_gone", json{{"id", id}}.dump()});
      }
    }
    for (const auto& [id, text] : flights) {
      auto old = c->rid_flights.find(id);
      if (old == c->rid_flights.end() || old->second != text) {
        Push(c.get(), "r:" + id, MapEvent{"rid_flight", text});
      }
    }
    c->rid_flights = std::move(flights);
  }
}

void MapFeed::Snapshot(const MapClient& c, std::vector<MapEvent>* out) const {
  out->push_back({"reset", "{}"});
  for (const auto& [key, track] : tracks_) {
    if (Sees(c.viewer, *track, c.area)) {
      out->push_back({"aircraft", AircraftJson(*track, c.viewer)});
    }
  }
  for (const auto& [id, alert] : alerts_) {
    if (SeesAlert(c.viewer, alert)) {
      out->push_back({"alert", AlertJson(alert, c.viewer)});
    }
  }
  if (intent_query_) {
    for (IntentInput& intent : intent_query_(c.area)) {
      if (Terminal(intent.state)) continue;
      out->push_back({"intent", IntentJson({std::move(intent)}, c.viewer)});
    }
  } else {
    for (const auto& [id, intent] : intents_) {
      if (!Touches(intent.intent, c.area)) continue;
      out->push_back({"intent", IntentJson(intent, c.viewer)});
    }
  }
  // The Remote ID layer as last refreshed (a new client's comes with the
  // next refresh).
  if (!c.rid_view.empty()) out->push_back({"rid_view", c.rid_view});
  for (const auto& [id, text] : c.rid_flights) {
    out->push_back({"rid_flight", text});
  }
}

absl::StatusOr<std::shared_ptr<MapClient>> MapFeed::Connect(
    const MapViewer& viewer, const MapArea& area) {
  auto client = std::make_shared<MapClient>();
  client->viewer = viewer;
  client->viewer.remote_id = viewer.remote_id && remote_id_search_ != nullptr;
  client->area = area;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return absl::UnavailableError("the map is shutting down");
    if (clients_.size() >= options_.max_clients) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the map already has ", clients_.size(),
                       " viewers (the most it serves at once)"));
    }
    // Holds the place while the watch opens.
    clients_.push_back(client);
  }
  if (constraints_ != nullptr) {
    constraint::Caller caller;
    caller.id = viewer.subject;
    MapClient* raw = client.get();
    absl::StatusOr<std::shared_ptr<constraint::Watcher>> watcher =
        constraints_->Watch(caller, WatchRequest(area), [raw] {
          absl::MutexLock lock(&raw->mu);
          raw->constraint_ready = true;
        });
    if (!watcher.ok()) {
      absl::MutexLock lock(&mu_);
      clients_.erase(std::find(clients_.begin(), clients_.end(), client));
      return watcher.status();
    }
    absl::MutexLock lock(&mu_);
    client->watcher = *std::move(watcher);
  }
  return client;
}

bool MapFeed::Next(MapClient* c, absl::Duration wait,
                   std::vector<MapEvent>* out) {
  const absl::Time deadline = absl::Now() + wait;
  // The client's watcher is set before Connect returns and never changes.
  constraint::Watcher* watcher;
  {
    absl::MutexLock lock(&mu_);
    watcher = c->watcher.get();
  }
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      absl::MutexLock client_lock(&c->mu);
      if (c->closed) return false;
      if (!c->said_hello) {
        c->said_hello = true;
        out->push_back(
            {"hello", json{{"subject", c->viewer.subject},
                           {"sees_all_aircraft", c->viewer.all_aircraft},
                           {"sees_all_alerts", c->viewer.all_alerts},
                           {"remote_id", c->viewer.remote_id},
                           {"server_time",
                            absl::FormatTime(absl::RFC3339_full, clock_->Now(),
                                             absl::UTCTimeZone())}}
                          .dump()});
      }
      if (c->needs_snapshot) {
        c->needs_snapshot = false;
        Snapshot(*c, out);
      }
      for (auto& [key, event] : c->pending) out->push_back(std::move(event));
      c->pending.clear();
      c->slot.clear();
      c->constraint_ready = false;
    }
    // Constraint events, outside the locks (the core takes its own).
    if (watcher != nullptr) {
      constraint::EventPtr event;
      while (constraints_->NextEvent(watcher, &event)) {
        if (event->has_heartbeat()) continue;
        out->push_back({"constraint", ProtoToJson(*event).dump()});
      }
    }
    if (!out->empty()) return true;
    absl::MutexLock client_lock(&c->mu);
    auto ready = [c]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu) {
      return c->closed || c->constraint_ready || c->needs_snapshot ||
             !c->pending.empty();
    };
    if (!c->mu.AwaitWithDeadline(absl::Condition(&ready), deadline)) {
      return true;  // nothing within `wait`: the caller keeps the line alive
    }
  }
}

void MapFeed::Disconnect(MapClient* c) {
  std::shared_ptr<MapClient> held;
  {
    absl::MutexLock lock(&mu_);
    auto it = std::find_if(clients_.begin(), clients_.end(),
                           [c](const auto& p) { return p.get() == c; });
    if (it == clients_.end()) return;
    held = *it;
    clients_.erase(it);
  }
  {
    absl::MutexLock lock(&c->mu);
    c->closed = true;
  }
  if (held->watcher != nullptr) constraints_->Unwatch(held->watcher.get());
}

void MapFeed::CloseAll() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  for (const auto& c : clients_) {
    absl::MutexLock client_lock(&c->mu);
    c->closed = true;
  }
}

size_t MapFeed::client_count() const {
  absl::MutexLock lock(&mu_);
  return clients_.size();
}

size_t MapFeed::aircraft_count() const {
  absl::MutexLock lock(&mu_);
  return tracks_.size();
}

}  // namespace utm::map
