// The live picture of the airspace, without gRPC: position reports in,
// tactical alerts out.
//
// Each report updates its aircraft's track (keyed by operator and aircraft
// id). Tracks within the speed limit live in a hash grid over the Earth's
// surface (surface_grid.h), so a report only meets the tracks within reach:
// D + H + (own speed + v)·(T + |age|) + v·report_gap, with v the fastest
// speed of any track in the grid and age how old the report is on the
// server clock (negative when stamped ahead of it) — the farthest two
// aircraft can be and still lose separation within the look-ahead T from
// now, with the neighbour's latest report up to report_gap older or newer
// than this one. Tracks above the speed limit (fast movers: a light aircraft
// or a drone out of its envelope) are kept apart, in one list that every
// report scans whole, so one fast aircraft neither escapes a slow search
// nor widens every search while it flies. For each neighbour the detector
// (detector.h) predicts a loss of separation from the alert's own instant:
// both aircraft's latest states are extrapolated at constant velocity to
// the server's clock when the report is processed (the alert's
// update_time), so a late or early report gives the same times as a
// timely one. The same report is checked against its intent (conformance),
// against active constraints (geofences) and against the speed limit.
// Reports of an aircraft are ordered by time, or by arrival when stamped
// ahead of the server clock (see max_report_lead).
//
// Non-participating aircraft ("intruders"): aircraft utmd only hears, by
// broadcast Remote ID through ground receivers or network Remote ID from
// other service providers (ASTM F3411-22a). They have no operator account
// and no intent; IngestIntruders() tracks them under the empty operator id
// "" (no verified token has an empty subject: auth::Verifier refuses a
// missing or empty `sub`, and Ingest() refuses "" all the same), with their
// Remote ID (UAS id) as the aircraft id. A participant on a collision
// course with one is alerted (PREDICTED, IMMINENT, SEPARATION_LOST); an
// intruder takes part in no other alert (no operator to tell of an unknown
// intent, a nonconformance, a geofence, a lost link or its speed), and two
// intruders raise nothing between them (nobody to tell). A silent intruder
// is retired after lost_link_after, without an alert.
//
// An intruder's position is less certain than a participant's, whose GNSS
// error is already inside the minima D and H (detector.h): its declared
// accuracy (95 %), or intruder_default_*_accuracy_m where it declared none,
// plus how far it can have moved during the report's latency (speed ×
// latency horizontally, |vertical speed| × latency vertically). A pair with
// an intruder is judged with minima widened by that extra uncertainty,
// D' = D + h_extra and H' = H + v_extra, and searched for with the reach
// widened by h_extra. Intruders live in a grid of their own, so the
// participant-to-participant scan is the same as without them.
//
// Alerts have a lifecycle: RAISED once, UPDATED when their kind or figures
// change materially (never more often than `update_interval` for the same
// kind, so 1 Hz reports do not make an alert storm), CLEARED when resolved.
// The core returns alert changes; the adapter routes them to the aircraft's
// streams and to area watchers.
//
// Thread-safe: one mutex, taken once per batch (after the reports are
// validated and looked up in the airspace without it); Ingest() is the hot
// path.
//
// Typical usage:
//   TelemetryCore core(options, RealClock::Get(), &intents, &geofences);
//   TelemetryCore::Result r = core.Ingest("op-1", reports);
//   for (const AlertChange& a : r.alerts) route(a);
//   ... a thread calls core.Tick() every second (lost links) ...
//   // Remote ID: what the receivers heard.
//   r = core.IngestIntruders({{"FA3ABCDEF1234", heard_report, latency}});
//
// Registration (registration.cc): with a RegistrationChecker
// (services/common/registration_check.h), a participant's report is checked
// when the core starts tracking its aircraft and when it names another
// intent than before, never per report; a refused report is a ReportError
// (the checker's message, "reports[i].aircraft_id: ...") and its aircraft is
// not tracked. A registration revoked while its aircraft flies does not cut
// the aircraft off (that would hide it from everyone else's deconfliction):
// the track gets a REGISTRATION_REVOKED alert, to its operator and the area's
// watchers, until it goes away or is registered again.
#ifndef UTM_SERVICES_TELEMETRY_TELEMETRY_CORE_H_
#define UTM_SERVICES_TELEMETRY_TELEMETRY_CORE_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "geo/latlng.h"
#include "geo/volume.h"
#include "services/common/clock.h"
#include "services/common/registration_check.h"
#include "services/common/volume_convert.h"
#include "services/telemetry/detector.h"
#include "services/telemetry/surface_grid.h"
#include "utm/v1/registry.pb.h"
#include "utm/v1/telemetry.pb.h"

namespace utm::telemetry {

// What the core needs to know about an intent.
struct IntentInfo {
  std::string owner;
  bool activated = false;  // ACTIVATED, NONCONFORMING or CONTINGENT
  std::vector<geo::Volume4D> volumes;
  // The aircraft it declares (FlightAircraft): serial number (may be
  // empty) and mass, grams (0: not declared).
  std::string aircraft_serial;
  int64_t aircraft_mass_g = 0;
};

// Where the core looks up intents and active restrictions, and tells the
// intent service about nonconforming flights. Implementations are
// thread-safe; the core calls them without its lock.
class Airspace {
 public:
  virtual ~Airspace() = default;
  // Null when there is no such intent. Called for every report: make it
  // cheap (LiveAirspace caches by version).
  virtual std::shared_ptr<const IntentInfo> Intent(
      const std::string& id) const = 0;
  // Constraints that block `operator_id` at the position (within the
  // accuracy) at `t`, by id.
  virtual std::vector<std::string> BlockingConstraints(
      const std::string& operator_id, const geo::LatLng& position,
      double altitude_m, double horizontal_accuracy_m,
      double vertical_accuracy_m, absl::Time t) const = 0;
  // The flight left its intent at `now`: make the intent NONCONFORMING.
  virtual void MarkNonconforming(const std::string& operator_id,
                                 const std::string& intent_id,
                                 absl::Time now) = 0;
};

// A report's place in its aircraft's order of reports: its time stamp, or
// its arrival if stamped ahead of the server clock, so that a skewed report
// does not lock out the correctly stamped ones that follow it. The core and
// the stream inbox order reports by it.
inline absl::Time ReportOrderTime(absl::Time stamp, absl::Time arrival) {
  return std::min(stamp, arrival);
}

struct TelemetryOptions {
  // Separation minima and look-ahead of the detector.
  Separation separation;
  // A predicted loss this close is IMMINENT rather than PREDICTED.
  // DEFAULT: 10 s.
  absl::Duration imminent = absl::Seconds(10);
  // The speed limit, m/s: an aircraft reporting a faster horizontal or
  // vertical speed is still tracked and alerted about (refusing it would
  // leave everyone near it unwarned), but it gets a SPEED_ABOVE_LIMIT alert
  // and is checked as a fast mover (see the file comment). DEFAULT: 50 m/s
  // (180 km/h, above every multirotor and most fixed-wing delivery drones).
  double max_speed_mps = 50;
  // Faster reports than this, horizontally or vertically, are refused as
  // implausible: no aircraft that shares the airspace with drones flies
  // this fast (crewed traffic is held to 250 kt, 129 m/s, below 10,000 ft;
  // this is twice that), so such a report is a unit or encoding error.
  // DEFAULT: 250 m/s. REQUIRES: >= max_speed_mps.
  double max_plausible_speed_mps = 250;
  // Edge of the neighbour-search grid's cells, metres. A report looks up
  // about (2·reach/cell + 1)² cells and scans every track in them, so
  // the cell should be near the usual reach (700 m for drones at 10 m/s
  // with the default minima). DEFAULT: 1000 m.
  double grid_cell_m = 1000;
  // The neighbour search is exact for neighbours whose latest report is at
  // most this far from the ownship's in time (ASTM F3411 requires 1 Hz, so
  // one report may go missing); farther ones are still found unless both
  // fly at the speed limit straight at each other from the edge of the
  // reach. Each second adds v·1 s to the reach (v: the fastest track within
  // the speed limit). DEFAULT: 2 s.
  absl::Duration report_gap = absl::Seconds(2);
  // No report for this long: LOST_LINK (for activated intents), and the
  // track no longer counts as an intruder (it is not extrapolated further).
  // A silent track whose intent is no longer active (ended, cancelled) is
  // retired at the next Tick() after report_gap instead: the flight is
  // over. DEFAULT: 10 s.
  absl::Duration lost_link_after = absl::Seconds(10);
  // No report for this long: the track is retired, its alerts cleared.
  // DEFAULT: 60 s.
  absl::Duration retire_after = absl::Seconds(60);
  // Reports older than this (by their own time) or further than this in the
  // future are refused. DEFAULT: 10 s / 2 s.
  //
  // Clock skew: a report is ordered by its time or, when that is ahead of
  // the server clock, by its arrival; it is refused as out of order only
  // when that instant is before the aircraft's latest report's. So a report
  // stamped up to max_report_lead ahead does not lock out the correctly
  // stamped ones that follow it, while each report still keeps (and is
  // extrapolated from) the time it reports.
  absl::Duration max_report_age = absl::Seconds(10);
  absl::Duration max_report_lead = absl::Seconds(2);
  // An open alert's figures are re-sent at most this often unless its kind
  // changes. DEFAULT: 5 s.
  absl::Duration update_interval = absl::Seconds(5);
  // The accuracy (95 %) assumed for a non-participating aircraft that
  // declares none (0: F3411's "unknown" accuracy category, which stands
  // for 10 NM or worse and would make every drone within 18 km a conflict).
  // DEFAULT: 30 m horizontally, 45 m vertically: the accuracy the FAA's
  // Remote ID rule requires of a broadcast (the minimum performance
  // requirements of 14 CFR Part 89: position within 100 ft, geometric
  // altitude within 150 ft, 95 %), so a compliant aircraft that leaves the
  // field unset is at least this accurate. REQUIRES: > 0.
  double intruder_default_h_accuracy_m = 30;
  double intruder_default_v_accuracy_m = 45;
  // Non-participating aircraft tracked at once; a new one beyond it is
  // refused (RESOURCE_EXHAUSTED in the result's errors) until others are
  // retired. Participants have no such bound: each comes with an operator's
  // authenticated stream. DEFAULT: 100,000.
  size_t max_intruders = 100000;
};

// A non-participating aircraft's state, as heard by Remote ID.
struct IntruderReport {
  std::string remote_id;      // UAS id as heard; 1..128 bytes, printable
  v1::PositionReport report;  // aircraft_id ignored (remote_id is used);
                              // intent_id must be empty; accuracy = the
                              // accuracy the aircraft declared (95 %), 0
                              // where unknown
  absl::Duration latency;     // receive time - the message's own time
                              // stamp (>= 0), plus the message's timestamp
                              // accuracy
};

// One alert change for routing: the alert and the operators whose
// aircraft it involves.
struct AlertChange {
  v1::Alert alert;
  // The core's key of the alert ("pair/...", "conf/...", ...): the same on
  // every core that sees the same aircraft, so replicas can tell that two
  // cores raise the same alert.
  std::string key;
  std::vector<std::string> operators;  // one or two, distinct
  // (operator, aircraft id) of each aircraft involved, in the order of
  // alert.aircraft_ids.
  std::vector<std::pair<std::string, std::string>> aircraft;
};

// What a core needs when it holds only part of the live picture: a replica
// of the telemetry tier (cluster.h) that owns some regions (regions.h).
// Implementations are thread-safe. The core calls Route() without its lock
// and the others with it: they must not call back into the core.
class ReplicaScope {
 public:
  virtual ~ReplicaScope() = default;
  // A valid report a client sent to this replica, at `position`: sends it to
  // every other replica that must see it, and answers whether this core
  // keeps it too. `received` is the server clock's now.
  virtual bool Route(const std::string& operator_id,
                     const v1::PositionReport& report,
                     const geo::LatLng& position, absl::Time received) = 0;
  // Whether this replica raises alerts about the aircraft with these track
  // keys at these latest positions (one for an alert about one aircraft, two
  // for a pair). Other replicas evaluate the same alerts without raising
  // them, so that one of them can take over with the same state.
  virtual bool Raises(
      const std::vector<std::pair<absl::string_view, geo::LatLng>>& aircraft)
      const = 0;
  // An alert open under `key`, raised by this or another replica (as the
  // replicas' alert feed told it): its id, raise time and latest update, so
  // that a core taking over an episode continues it under the same id (as
  // UPDATED, at the same update cadence). Nullopt when none.
  struct Episode {
    std::string id;
    google::protobuf::Timestamp raise_time;
    google::protobuf::Timestamp update_time;
  };
  virtual std::optional<Episode> OpenEpisode(const std::string& key) const = 0;
};

class TelemetryCore {
 public:
  // `clock` and `airspace` are not owned and must outlive the core.
  TelemetryCore(TelemetryOptions options, const Clock* clock,
                Airspace* airspace);
  ~TelemetryCore();

  struct Result {
    std::vector<v1::ReportError> errors;  // report_index set; batch_seq not
    std::vector<AlertChange> alerts;
  };
  // Processes one batch of `operator_id`'s reports, in order. With a
  // replica scope, each valid report is offered to ReplicaScope::Route and
  // kept only where it says so. An empty `operator_id` (the intruders'
  // namespace) has every report refused ("reports[i].operator: ...").
  Result Ingest(
      const std::string& operator_id,
      const google::protobuf::RepeatedPtrField<v1::PositionReport>& reports);
  // The same for reports another replica forwarded here: they are kept
  // whole and never routed again. Operator "": intruders in the form
  // IngestIntruders forwards them.
  Result IngestForwarded(
      const std::string& operator_id,
      const google::protobuf::RepeatedPtrField<v1::PositionReport>& reports);

  // Processes what Remote ID heard of non-participating aircraft (see the
  // file comment), in order: the same checks as Ingest's reports and the
  // same ordering by time per aircraft, errors naming "intruders[i].<field>"
  // ("intruders[2].report.altitude.value_m: ...", "intruders[0].latency:
  // ..."); report_index is i. Also refused: an intent id, a latency below 0
  // or above max_report_age, an uncertainty (accuracy + speed × latency) of
  // 10 km or more either way (no use for tactical deconfliction), and a new
  // aircraft beyond max_intruders (the message starts
  // "intruders[i].remote_id: RESOURCE_EXHAUSTED"). The alerts are
  // conflicts between an intruder and participants, routed like Ingest's.
  // With a replica scope each valid report is routed as operator "" with
  // aircraft_id = remote_id and accuracy = its whole extra uncertainty, the
  // form IngestForwarded("", ...) takes back. Thread-safe.
  Result IngestIntruders(const std::vector<IntruderReport>& reports);

  // Makes this core a replica's: reports go through `scope` and alerts are
  // raised only where it says, with deterministic ids (AlertIdFor in
  // regions.h, from the episode's start) instead of random ones, so that
  // two replicas raising one episode give it one id. Call before the first
  // Ingest; `scope` is not owned and must outlive the core's use of it.
  // Without a scope (the single process) every alert is raised here, under
  // a random id.
  void SetReplicaScope(ReplicaScope* scope);

  // Makes the core check participants' registrations (see the file comment
  // and PositionReport.aircraft_id in telemetry.proto). The declared mass
  // passed to the checker is the report's intent's aircraft_mass_g when that
  // intent exists, is the operator's, is activated and declares this
  // aircraft (aircraft_serial empty or equal to aircraft_id); 0 otherwise.
  // Intruders are never checked. Forwarded reports (IngestForwarded) are
  // not refused, the replica the client sent them to checked them; a
  // registration that fails here for a forwarded aircraft (revoked before
  // this replica held it) raises REGISTRATION_REVOKED instead. Null (the
  // default): no checks. Call before the first Ingest; `checker` is not
  // owned and must outlive the core's use of it. The checker is called
  // without the core's locks.
  void SetRegistrationChecker(const registration::RegistrationChecker* checker);

  // A registration as it now is (the registry's observer calls it after any
  // change, on any thread). Revoked (revoke_time set): each live track of
  // r.operator_id() named r.serial_number() gets REGISTRATION_REVOKED (the
  // serial, when and why), re-sent with its position like the other alerts
  // about one aircraft; it stays tracked and deconflicted. In force (not
  // revoked, not expired): that alert is cleared, and the next report is
  // checked again. The alert is also cleared when the track is retired.
  // The alert changes wait in the core (a replica's only those it raises:
  // ReplicaScope::Raises) until TakeRegistrationAlerts() or the next Tick()
  // returns them, so that an observer holding only the core loses none: they
  // reach the streams within a tick, or at once through
  // TelemetryService::OnRegistrationChanged. Thread-safe; must not be
  // called with a lock the checker takes.
  void OnRegistrationChanged(const v1::AircraftRegistration& registration);
  // The alert changes OnRegistrationChanged left waiting, each returned
  // once (here or by Tick), in order.
  std::vector<AlertChange> TakeRegistrationAlerts();

  // Lost links and retirements as of now, after the registration alerts
  // still waiting. Asks the airspace about the intents of silent tracks
  // (without the core's lock).
  std::vector<AlertChange> Tick();

  // Every open alert (for a new watcher's first batch).
  std::vector<AlertChange> OpenAlerts() const;

  size_t track_count() const;  // participants and intruders
  size_t intruder_count() const;
  size_t open_alert_count() const;

  // Since the core was made, for metrics. Lock-free to read.
  struct Counters {
    int64_t reports_accepted = 0;  // by Ingest and IngestForwarded
    int64_t reports_refused = 0;
    // Neighbours the detector looked at (each report against each track
    // within reach): the tactical tier's work.
    int64_t pairs_considered = 0;
    // Alerts this core opened, by v1::AlertKind.
    std::array<int64_t, v1::AlertKind_ARRAYSIZE> alerts_raised{};
  };
  Counters counters() const;
  const TelemetryOptions& options() const { return options_; }

 private:
  struct Track;
  struct Slot;
  struct OpenAlert;
  using CellKey = SurfaceGrid::Key;
  // The grid_ entry holding the fast movers (no surface cell has this key:
  // rows are far fewer than 2^32).
  static constexpr CellKey kFastCell = ~CellKey{0};

  // Puts the track's latest state in its grid cell `to` (moving it there
  // from another cell if need be); kFastCell for a fast mover.
  void PlaceInGrid(Track* track, CellKey to) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveFromGrid(Track* track) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Raises, updates or clears the alert of `key` as `wanted` (nullopt:
  // clear) says, appending the change to `out`. `involved`: the tracks a
  // new alert is about (ignored otherwise).
  void SetAlert(const std::string& key, std::optional<v1::Alert> wanted,
                std::vector<const Track*> involved, absl::Time now,
                std::vector<AlertChange>* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Counts a batch of `reports` reports into the counters.
  void CountReports(int reports, const Result& result);
  Result IngestBatch(
      const std::string& operator_id,
      const google::protobuf::RepeatedPtrField<v1::PositionReport>& reports,
      bool forwarded);
  // A valid report, ready for the tracks (worked out without the lock).
  struct Prepared;
  // Applies `prepared` (of `operator_id`; "": intruders) under one
  // acquisition of the lock, appending to `result`; errors are named
  // "<list>[<index>].<item><field>".
  void Apply(const std::string& operator_id, std::vector<Prepared>* prepared,
             absl::string_view list, absl::string_view item, absl::Time now,
             Result* result);
  // Whether this core raises the alert about `tracks` (track keys); true
  // without a replica scope.
  bool RaisesLocked(const std::vector<std::string>& tracks) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // An alert about one aircraft, at its latest reported position.
  static v1::Alert AlertAbout(const Track& track, v1::AlertKind kind,
                              std::string message);
  // Detection against every track within reach and every fast mover, from
  // `now` (`east`, `north`: the track's local axes in ECEF); appends the
  // tracks with an open conflict alert it evaluated to `partners_seen`.
  void DetectAround(Track* track, const geo::Vec3& east, const geo::Vec3& north,
                    absl::Time now, std::vector<AlertChange>* out,
                    std::vector<const Track*>* partners_seen)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The intruders' part of DetectAround: a participant against the
  // intruders within reach, or an intruder against the participants, with
  // the minima widened by the intruder's extra uncertainty.
  void DetectIntruders(Track* track, const geo::Vec3& east,
                       const geo::Vec3& north, absl::Time now,
                       std::vector<AlertChange>* out,
                       std::vector<const Track*>* partners_seen)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The grid holding `track`: grid_, or intruder_grid_ for an intruder.
  absl::node_hash_map<CellKey, std::vector<Slot>>& GridOf(const Track& track)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Counts `track` at horizontal speed `speed` (negative: no longer).
  void CountSpeed(Track* track, double speed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The fastest horizontal speed of a live track in the grid (an upper
  // bound; fast movers are not counted), m/s.
  double FastestSpeed() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Raises, updates or clears the conflict alert of `own` and `other` as
  // `det` (between them, from `now`) says.
  void Evaluate(Track* own, Track* other, const Detection& det, absl::Time now,
                std::vector<AlertChange>* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Retire(const std::string& key, absl::Time now,
              std::vector<AlertChange>* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The registration check of a participant's report (registration.cc):
  // OK when the aircraft was checked already for this intent (a map
  // lookup), else the checker's answer, looking the intent up into
  // `*intent` (`*looked_up` set). `forwarded`: a failure is remembered
  // until the registration changes, rather than asked again per report.
  absl::Status CheckRegistration(const std::string& operator_id,
                                 const v1::PositionReport& report,
                                 absl::Time now, bool forwarded,
                                 std::shared_ptr<const IntentInfo>* intent,
                                 bool* looked_up)
      ABSL_LOCKS_EXCLUDED(mu_, registration_mu_);
  // Raises or updates the track's REGISTRATION_REVOKED alert, as its
  // report `prepared` (a forwarded one may find the registration lapsed)
  // and OnRegistrationChanged say.
  void RegistrationAlert(Track* track, const Prepared& prepared, absl::Time now,
                         std::vector<AlertChange>* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Forgets the registration checks of aircraft silent for retire_after.
  void PruneRegistrationChecks(absl::Time now)
      ABSL_LOCKS_EXCLUDED(registration_mu_);

  const TelemetryOptions options_;
  const Clock* const clock_;
  Airspace* const airspace_;
  const SurfaceGrid surface_;
  ReplicaScope* scope_ = nullptr;  // set before use, then read-only
  // Set before use, then read-only.
  const registration::RegistrationChecker* registration_ = nullptr;

  mutable absl::Mutex mu_;
  // Tracks by "<length of operator>:<operator>/<aircraft id>".
  absl::flat_hash_map<std::string, std::unique_ptr<Track>> tracks_
      ABSL_GUARDED_BY(mu_);
  // Each cell holds a copy of its tracks' kinematic state, so that the
  // neighbour scan reads contiguous memory and touches a Track only for a
  // conflict or an open alert. Node-based: a track points at its cell.
  absl::node_hash_map<CellKey, std::vector<Slot>> grid_ ABSL_GUARDED_BY(mu_);
  // Open alerts by key: "pair/<length of a>:<a>|<b>" (a, b: track keys in
  // (operator, aircraft id) order),
  // "conf/<track>", "fence/<track>/<c>", "link/<track>", "intent/<track>",
  // "speed/<track>", "reg/<track>".
  absl::flat_hash_map<std::string, OpenAlert> alerts_ ABSL_GUARDED_BY(mu_);
  // Grid tracks (fast movers aside) by horizontal speed, in 1 m/s buckets
  // (bucket i: speeds in [i, i+1)), and the highest bucket in use (-1: none).
  std::vector<int64_t> speed_buckets_ ABSL_GUARDED_BY(mu_);
  int top_speed_bucket_ ABSL_GUARDED_BY(mu_) = -1;
  // Intruders, apart from the participants so that the participants' scan
  // is unchanged by them: surface cells as grid_, and under kFastCell those
  // above the speed limit or whose extra horizontal uncertainty exceeds a
  // grid cell (every participant report scans them whole).
  absl::node_hash_map<CellKey, std::vector<Slot>> intruder_grid_
      ABSL_GUARDED_BY(mu_);
  size_t intruders_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<int64_t> reports_accepted_{0};
  std::atomic<int64_t> reports_refused_{0};
  std::atomic<int64_t> pairs_considered_{0};
  std::array<std::atomic<int64_t>, v1::AlertKind_ARRAYSIZE> alerts_raised_{};
  // Upper bounds of the horizontal speed and extra horizontal uncertainty
  // of the intruders in intruder_grid_'s surface cells: raised as reports
  // arrive, recomputed exactly by Tick().
  double intruder_fastest_mps_ ABSL_GUARDED_BY(mu_) = 0;
  double intruder_widest_m_ ABSL_GUARDED_BY(mu_) = 0;

  // Aircraft whose registration was checked, by track key: for which
  // intent, the latest report that found it, and the answer (kept only
  // for forwarded reports; a client's refused report is checked again).
  // Its own lock: the check precedes routing and Apply. Taken after mu_
  // where both are held (Retire).
  struct RegistrationCheck {
    std::string intent_id;
    absl::Time last_seen;
    absl::Status status;
  };
  mutable absl::Mutex registration_mu_ ABSL_ACQUIRED_AFTER(mu_);
  // OnRegistrationChanged's alert changes, until taken (at most a tick).
  std::vector<AlertChange> registration_alerts_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, RegistrationCheck> registration_checks_
      ABSL_GUARDED_BY(registration_mu_);
};

// How a WatchAlerts area converts: open time bounds, as wide as a
// constraint's (wide-area supervision), with a flight's vertex limit.
VolumeConvertOptions WatchAreaConvertOptions();

}  // namespace utm::telemetry

#endif  // UTM_SERVICES_TELEMETRY_TELEMETRY_CORE_H_
