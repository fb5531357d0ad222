// The live airspace map's feed, without HTTP: what each browser showing the
// map is sent, as a stream of small JSON events — a snapshot, then deltas.
//
// Sources. Restrictions come from the constraint core's own watch machinery
// (ConstraintCore::Watch, the one WatchConstraints streams use): each client
// is one watcher of its area, with the hub's bounded queue, resync and
// snapshot. Aircraft and alerts come from the telemetry service's report
// and alert observers (OnReport, OnAlerts); intents from the intent core's
// filings and changes (OnIntent). Remote ID flights come from the public
// display (RemoteIdCore::Search, set with SetRemoteIdSearch): each Remote
// ID viewer's area is searched once a second (Tick) and only what changed
// is sent. The feed keeps the live tactical picture (each
// aircraft's latest state and recent track, the open alerts, the intents
// that are not over) so that a new client starts from a snapshot.
//
// Redaction, as the API does it (docs/map.md):
//   - restrictions: every signed-in caller with a known scope (as
//     WatchConstraints);
//   - aircraft: an operator sees its own; utm.rid_display,
//     utm.conformance_monitoring, utm.law_enforcement and utm.admin see
//     every aircraft. Each aircraft is named by an opaque id that lives as
//     long as its track; its operator, aircraft id and intent reach only
//     its operator and utm.admin;
//   - alerts: utm.conformance_monitoring, utm.law_enforcement and utm.admin
//     see every alert (as WatchAlerts), others those involving their own
//     aircraft; aircraft in alerts are named by the same opaque ids, and an
//     alert's text (which names aircraft) reaches only the owners of every
//     aircraft it involves and utm.admin;
//   - intents: every caller sees every intent that is not over (as
//     QueryIntents: a snapshot of the client's area from SetIntentQuery,
//     then every filing and state change) whose volumes touch the
//     client's area, another operator's without its owner, aircraft or
//     priority;
//   - Remote ID flights: utm.rid_display callers (as SearchFlights), and
//     exactly what the public display shows of the client's area: flights
//     under their Remote ID (session id or UAS id) for views up to 2 km
//     across, clusters for wider ones, nothing past 7 km (the display's
//     refusal is sent instead). Only the fields the map draws are copied
//     (id, source, position, altitude, velocity, status, recent track):
//     never an operator, registration, serial or pilot position, even
//     where the display makes the pilot's position public.
//
// Bounds. At most `max_clients` clients. Each client's tactical updates
// wait in a queue where an aircraft's newer state replaces its unsent older
// one; past `max_pending` waiting updates the client is resynced (its queue
// dropped, a "reset" and a new snapshot sent when it next reads), so a slow
// browser never makes the feed grow. The constraint watcher has the hub's
// own bound and resync.
//
// Events (the SSE event name, then its JSON data):
//   hello      {subject, sees_all_aircraft, sees_all_alerts, remote_id,
//              server_time}; remote_id: whether this client gets the
//              Remote ID layer
//   reset      {} — forget aircraft, alerts, intents and Remote ID flights;
//              a snapshot follows
//   constraint a utm.v1.ConstraintEvent in proto JSON (snapshot_begin,
//              upsert, removed, activity_changed, resync_required, ...)
//   aircraft   {id, lat, lng, alt_m, north_mps, east_mps, up_mps, time,
//              track: [[lat, lng], ...], own, operator?, aircraft_id?,
//              intent_id?}
//   aircraft_gone {id}
//   alert      {id, kind, state, aircraft: [opaque ids], lat, lng,
//              message?}; state CLEARED removes it
//   intent     {id, state, own, volumes: [Volume4D proto JSON], owner?,
//              aircraft?, priority?}; a terminal state removes it
//   rid_flight {id, source, lat, lng, alt_m?, time, has_velocity,
//              track_deg, speed_mps, vertical_speed_mps, status,
//              track: [[lat, lng], ...]}
//   rid_flight_gone {id}
//   rid_view   {clusters: [{corners: [[lat, lng], ...], aircraft_count}],
//              refused?}: the display's clusters of the area, or why it
//              shows nothing there (refused: "view: diagonal ... zoom in")
//
// Thread-safety: every method may be called from any thread. Lock order:
// the feed's mu_, then a client's mu; the constraint core is never called
// under either.
//
// Typical usage (the HTTP adapter):
//   MapFeed feed(options, clock, &constraint_core);
//   telemetry_service->SetReportObserver(... feed.OnReport(op, report) ...);
//   auto client = feed.Connect(MapViewer::Of(principal), area);
//   while (feed.Next(client->get(), absl::Seconds(15), &events)) send(events);
//   feed.Disconnect(client->get());
#ifndef UTM_SERVICES_MAP_MAP_FEED_H_
#define UTM_SERVICES_MAP_MAP_FEED_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/constraint/constraint_core.h"
#include "utm/v1/common.pb.h"
#include "utm/v1/remote_id.pb.h"
#include "utm/v1/strategic.pb.h"
#include "utm/v1/telemetry.pb.h"

namespace utm::map {

// Who is looking at the map, from a verified token.
struct MapViewer {
  std::string subject;
  bool all_aircraft = false;  // rid_display, monitoring, police, admin
  bool all_alerts = false;    // monitoring, police, admin
  bool identities = false;    // admin: every aircraft's operator and id
  bool remote_id = false;     // rid_display: the Remote ID layer
  static MapViewer Of(const auth::Principal& principal);
};

// The part of the map a client shows, degrees WGS84. Restrictions are
// watched in it (so it must be within the constraint core's reach, 120 km);
// aircraft are sent within it and a margin of `kAreaMarginDeg`.
struct MapArea {
  double min_lat = 0, min_lng = 0, max_lat = 0, max_lng = 0;
};
inline constexpr double kAreaMarginDeg = 0.05;

// "min_lat,min_lng,max_lat,max_lng" -> MapArea. INVALID_ARGUMENT naming
// `field` for anything else (not four numbers, out of range, min > max).
absl::StatusOr<MapArea> ParseMapArea(absl::string_view text,
                                     absl::string_view field);

// One event for a client: its name and its JSON text.
struct MapEvent {
  std::string type;
  std::string data;
};

// An alert change as the telemetry service routes it.
struct AlertInput {
  v1::Alert alert;
  // (operator, aircraft id) of each aircraft, in the order of
  // alert.aircraft_ids.
  std::vector<std::pair<std::string, std::string>> aircraft;
};

// An intent as it now is (filed, changed, or over).
struct IntentInput {
  std::string id;
  std::string owner;
  v1::IntentState state = v1::INTENT_STATE_UNSPECIFIED;
  int32_t priority = 0;
  std::string aircraft;  // the intent's aircraft serial, may be empty
  std::vector<v1::Volume4D> volumes;
};

// The IntentInput of an intent in its wire form (IntentToProto's).
IntentInput IntentInputOf(const v1::FlightIntent& proto);

struct MapFeedOptions {
  // Clients at once; Connect() says RESOURCE_EXHAUSTED past it. DEFAULT: 32.
  size_t max_clients = 32;
  // Tactical updates waiting per client before it is resynced.
  // DEFAULT: 2,000.
  size_t max_pending = 2000;
  // Positions kept per aircraft's track. DEFAULT: 60.
  size_t track_points = 60;
  // An aircraft silent this long is dropped from the map (telemetry
  // retires it after 60 s too). DEFAULT: 60 s.
  absl::Duration aircraft_ttl = absl::Seconds(60);
  // Intents kept (not over); past it the oldest are dropped. DEFAULT: 50,000.
  size_t max_intents = 50000;
};

class MapClient;

class MapFeed {
 public:
  // Not owned; outlive the feed. `constraints` may be null (no
  // restrictions are shown).
  MapFeed(MapFeedOptions options, const Clock* clock,
          constraint::ConstraintCore* constraints);
  ~MapFeed();

  // Inputs. Thread-safe; quick (no I/O, no waiting on clients).
  void OnReport(const std::string& operator_id,
                const v1::PositionReport& report);
  void OnAlerts(const std::vector<AlertInput>& changes);
  void OnIntent(const IntentInput& intent);
  // Drops aircraft silent for aircraft_ttl and refreshes the Remote ID
  // layer (RefreshRemoteId). Call about once a second.
  void Tick();

  // Where a snapshot finds the live intents of an area (normally the
  // intent core's Query), so that a new client sees every intent, not only
  // those whose state changed since the feed started. Called under the
  // feed's lock: must not call back into the feed. Set before the first
  // Connect; unset, snapshots show the intents OnIntent reported.
  using IntentQuery =
      std::function<std::vector<IntentInput>(const MapArea& area)>;
  void SetIntentQuery(IntentQuery query) { intent_query_ = std::move(query); }

  // The public Remote ID display's picture of a view (normally
  // RemoteIdCore::Search): flights, clusters, or INVALID_ARGUMENT for a
  // view the display refuses. Not called under the feed's lock. Set before
  // the first Connect; unset (utmd without the Remote ID service), no
  // client gets the Remote ID layer.
  using RemoteIdSearch =
      std::function<absl::StatusOr<v1::SearchFlightsResponse>(
          const v1::LatLngRect& view)>;
  void SetRemoteIdSearch(RemoteIdSearch search) {
    remote_id_search_ = std::move(search);
  }
  // Searches each Remote ID client's area and queues what changed since
  // its last refresh (rid_flight, rid_flight_gone, rid_view). Tick calls it.
  void RefreshRemoteId();

  // A new client of `viewer` watching `area`: its first events are hello,
  // reset and the snapshot. RESOURCE_EXHAUSTED past max_clients;
  // INVALID_ARGUMENT ("area...") for an area the constraint core refuses.
  absl::StatusOr<std::shared_ptr<MapClient>> Connect(const MapViewer& viewer,
                                                     const MapArea& area);
  // Appends the client's waiting events to `out`, waiting up to `wait` for
  // one. False once the client is closed (Disconnect or CloseAll); the
  // caller then ends its stream. One thread at a time per client.
  bool Next(MapClient* client, absl::Duration wait, std::vector<MapEvent>* out);
  // Ends a client; it no longer counts against max_clients.
  void Disconnect(MapClient* client);
  // Closes every client (their Next returns false) and refuses new ones.
  void CloseAll();

  size_t client_count() const;
  size_t aircraft_count() const;

 private:
  struct Track;
  struct OpenAlert;
  struct IntentEntry;

  // The JSON of `track` as `viewer` may see it.
  std::string AircraftJson(const Track& track, const MapViewer& viewer) const;
  std::string AlertJson(const OpenAlert& alert, const MapViewer& viewer) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string IntentJson(const IntentEntry& intent,
                         const MapViewer& viewer) const;
  bool Sees(const MapViewer& viewer, const Track& track,
            const MapArea& area) const;
  bool SeesAlert(const MapViewer& viewer, const OpenAlert& alert) const;
  // Whether `intent`'s volumes come near `area` (their bounding boxes
  // within kAreaMarginDeg).
  static bool Touches(const IntentInput& intent, const MapArea& area);
  // Queues an event for `client` (coalescing by `key` when not empty);
  // resyncs the client past max_pending.
  void Push(MapClient* client, const std::string& key, MapEvent event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The client's snapshot of the tactical picture.
  void Snapshot(const MapClient& client, std::vector<MapEvent>* out) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Retire(const std::string& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const MapFeedOptions options_;
  const Clock* const clock_;
  constraint::ConstraintCore* const constraints_;
  IntentQuery intent_query_;         // set before the first Connect
  RemoteIdSearch remote_id_search_;  // set before the first Connect

  mutable absl::Mutex mu_;
  // Aircraft by "operator/aircraft id".
  absl::flat_hash_map<std::string, std::unique_ptr<Track>> tracks_
      ABSL_GUARDED_BY(mu_);
  // Open alerts by id, in id order.
  std::map<std::string, OpenAlert> alerts_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, IntentEntry> intents_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> intent_order_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<MapClient>> clients_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace utm::map

#endif  // UTM_SERVICES_MAP_MAP_FEED_H_
