// Operators' flight logs, recorded without gRPC: what each flight was — its
// intent as filed, the intent's state changes, every position reported and
// the alerts raised and cleared about the aircraft — kept for the operator
// (OperatorService.ListFlights / GetFlightLog) until its retention is over.
//
// What a flight is:
//  - An intent flight: from the intent's activation (or the first report
//    naming it, if that came first) to its end or cancellation, or to its
//    last report when reports naming it stop for more than `gap` (5
//    minutes). Reports naming it again after that start a new flight. A
//    flight activated but with no report yet stays open until its intent
//    ends, is cancelled, or is past its last volume's end by `gap`. An
//    intent filed without retention is not recorded at all.
//  - A free flight: the reports of one aircraft naming no intent, until a
//    gap of more than `gap` between two of them (on the server's clock).
//  - On replicas sharing Redis (`intents_start_flights` false): a flight is
//    recorded by the replica its reports reach, from the first of them
//    (taking the intent's state then from `intent_lookup`); the intent's
//    later state changes reach it whichever replica made them. Reports
//    that move to another replica start a new flight there; the first
//    replica's ends after `gap`.
//
// Recording costs little per report: a policy lookup, a hash lookup and an
// append to the flight's buffer under one mutex. A flight's buffered points
// are encoded (track_codec.h) and written as one chunk every `chunk_points`
// points, `chunk_period` after the first of them (Tick), and when the
// flight ends, with the flight's record in the same batch; nothing waits
// for the disk. Before anything about a flight is written the operator's
// DataPolicy is asked: under `local_only` nothing of the flight is written
// or kept (a flight under way when the operator turns it on is discarded,
// what was written of it removed).
//
// Retention: a flight log is removed, record and chunks, from memory and
// from the store, once `end + DataPolicies::For(operator).flight_log_retention`
// has passed (Tick, every `retention_sweep`). The embedded store drops the
// bytes from its files at its next compaction.
//
// Bounds: points per flight (`max_points`; later ones are not kept and the
// flight says `truncated`), state changes (100) and alert events (1000) per
// flight, flights per operator (`max_flights_per_operator`: the oldest is
// removed to make room), flights being recorded (`max_open_flights`: reports
// that would open more are not recorded, counted in stats()).
//
// Thread-safe: one mutex; the store is called under it (it never calls
// back), except for the reads of every flight a retention sweep or an
// erasure makes (FlightLogStore::ForEach), which are made without it.
//
// Typical usage:
//   FlightLogs logs(FlightLogOptions(), clock, &policies, store.get());
//   telemetry.SetReportObserver([&](auto& op, auto& r) { logs.OnReport(op, r);
//   }); PeriodicThread ticker(absl::Seconds(1), [&] { logs.Tick(); });
//   ... at a stop: logs.CloseAll();
#ifndef UTM_SERVICES_OPERATOR_FLIGHT_LOG_H_
#define UTM_SERVICES_OPERATOR_FLIGHT_LOG_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/operator/data_policy.h"
#include "services/operator/flight_log_store.h"
#include "services/operator/track_codec.h"
#include "utm/v1/operator.pb.h"
#include "utm/v1/strategic.pb.h"
#include "utm/v1/telemetry.pb.h"

namespace utm::fleet {

// Points in one stored chunk, and in one GetFlightLog message, at most.
inline constexpr int kMaxFlightChunkPoints = 600;
// State changes and alert events a flight keeps.
inline constexpr int kMaxFlightStates = 100;
inline constexpr int kMaxFlightAlerts = 1000;

struct FlightLogOptions {
  // The data-residency region every recorded flight names
  // (StoredFlight.region; services/common/region.h). DEFAULT: none.
  std::string region;
  // A chunk is written every this many points. REQUIRES: 1 to 600.
  // DEFAULT: 600.
  int chunk_points = kMaxFlightChunkPoints;
  // ... or this long after the first point not yet written. DEFAULT: 60 s.
  absl::Duration chunk_period = absl::Seconds(60);
  // A flight ends after this long without a report. DEFAULT: 5 minutes.
  absl::Duration gap = absl::Minutes(5);
  // Points one flight keeps. DEFAULT: 360,000 (10 hours at 10 Hz).
  int64_t max_points = 360000;
  // Flight logs one operator keeps. DEFAULT: 10,000.
  size_t max_flights_per_operator = 10000;
  // Flights being recorded at once. DEFAULT: 100,000.
  size_t max_open_flights = 100000;
  // How often Tick looks for logs past their retention. DEFAULT: 1 minute.
  absl::Duration retention_sweep = absl::Minutes(1);
  // Whether `operator_id`'s intent `intent_id` may be kept: false for an
  // intent filed without retention (FileIntentRequest.no_retention), whose
  // flight is then not recorded at all. Asked once when reports naming an
  // intent start a flight; thread-safe, must not call into FlightLogs.
  // DEFAULT (null): every intent may.
  std::function<bool(const std::string& operator_id,
                     const std::string& intent_id)>
      intent_retained;
  // Whether an intent's activation (OnIntent) starts its flight before any
  // report names it. False on replicas sharing Redis, where every replica
  // learns every state change: only the replica the aircraft's reports
  // reach records its flight, from its first report (which asks
  // `intent_lookup`). DEFAULT: true.
  bool intents_start_flights = true;
  // `operator_id`'s intent `intent_id` as it stands (its state, version,
  // volumes, aircraft); nullopt when unknown. Asked when a report naming an
  // intent starts a flight, so that the flight's header has the intent as
  // filed and its activation. Thread-safe, quick, must not call into
  // FlightLogs. DEFAULT (null): not asked.
  std::function<std::optional<v1::FlightIntent>(const std::string& operator_id,
                                                const std::string& intent_id)>
      intent_lookup;
};

// Appends `p` to `out` as the API shows a point.
void AddPoint(const TrackPoint& p, v1::FlightTrackChunk* out);

// What a flight log's alert says in place of the id of an aircraft whose
// operator is in Local Data Mode.
inline constexpr char kWithheldAircraft[] = "(an aircraft in Local Data Mode)";

class FlightLogs {
 public:
  // Not owned; must outlive this.
  FlightLogs(FlightLogOptions options, const Clock* clock,
             const DataPolicies* policies, FlightLogStore* store);

  // --- Recording. Quick; each takes the lock once.

  // A position report the telemetry tier accepted from `operator_id`.
  void OnReport(const std::string& operator_id, const v1::PositionReport& r);
  // An intent as it is after a state change (its owner, state, version,
  // update time; as filed: priority, volumes, aircraft). Repeats (same
  // version) are ignored.
  void OnIntent(const v1::FlightIntent& intent);
  // An alert change about the (operator, aircraft id) pairs `aircraft`:
  // RAISED and CLEARED go into the aircraft's flight being recorded, the
  // ids of aircraft whose operators are in Local Data Mode replaced in the
  // message by kWithheldAircraft.
  void OnAlert(
      const v1::Alert& alert,
      const std::vector<std::pair<std::string, std::string>>& aircraft);
  // Ends flights whose reports stopped, writes chunks due, and every
  // `retention_sweep` removes logs past their retention. Call every second
  // or so.
  void Tick();
  // Writes and ends every flight being recorded (a stop).
  void CloseAll();

  // --- Reading: only `operator_id`'s own flights.

  struct Page {
    std::vector<v1::FlightSummary> flights;
    std::string next_page_token;
  };
  // Newest first. INVALID_ARGUMENT naming page_size (outside [0, 1000]) or
  // page_token (not one List returned).
  absl::StatusOr<Page> List(const std::string& operator_id, int page_size,
                            const std::string& page_token) const;

  // A flight log as it stands: its header, its stored chunks' count and
  // the points not yet written (a flight in progress).
  struct Snapshot {
    v1::FlightLogHeader header;
    int chunks = 0;
    std::vector<TrackPoint> unwritten;
  };
  // NOT_FOUND ("flight_id: ...") when `flight_id` is not one of
  // `operator_id`'s flights; INVALID_ARGUMENT when it is empty or too long.
  absl::StatusOr<Snapshot> Open(const std::string& operator_id,
                                const std::string& flight_id) const;
  // The points of stored chunk `index`. NOT_FOUND when the log was removed
  // meanwhile; DATA_LOSS when the chunk does not decode.
  absl::StatusOr<std::vector<TrackPoint>> ReadChunk(
      const std::string& flight_id, int index) const;

  // An operator's erasure: every flight log of `operator_id`, recorded or
  // being recorded, removed from memory and from the store (waits for the
  // store to apply the removals: FlightLogStore::Sync). Returns how many;
  // the store's error (UNAVAILABLE on Redis) when it could not read or
  // remove them all (a retry removes what is left).
  absl::StatusOr<int64_t> EraseOperator(const std::string& operator_id);

  struct Stats {
    int64_t open_flights = 0;
    int64_t chunks_written = 0;
    int64_t points_dropped = 0;   // out of order, out of range, or over bounds
    int64_t flights_removed = 0;  // retention or room
    int64_t flights_discarded = 0;  // local_only
  };
  Stats stats() const;

 private:
  struct Flight {
    internal::StoredFlight record;
    std::vector<TrackPoint> pending;
    absl::Time pending_since;     // server time of pending's first point
    absl::Time last_seen;         // server time of the latest report
    absl::Time intent_end;        // the intent's last volume's end
    int64_t last_ms = INT64_MIN;  // time of the latest point kept
    int64_t intent_version = 0;
    bool written = false;  // something of it is in the store
  };
  using Key = std::pair<std::string, std::string>;

  Flight* Start(const std::string& operator_id, const std::string& aircraft_id,
                const std::string& intent_id, absl::Time start)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Append(Flight* f, TrackPoint p, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records the intent's state in its flight; ends the flight when the
  // intent is no longer live.
  void ApplyIntent(Flight* f, const v1::FlightIntent& intent)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes the pending points (if any) and the record.
  void Flush(Flight* f) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Close(const std::string& flight_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // local_only: forgets the flight and removes what was written of it.
  void Discard(const std::string& flight_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Forget(const Flight& f) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SweepRetention(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);

  const FlightLogOptions options_;
  const Clock* const clock_;
  const DataPolicies* const policies_;
  FlightLogStore* const store_;

  mutable absl::Mutex mu_;
  // Flights being recorded, by flight id.
  absl::flat_hash_map<std::string, Flight> open_ ABSL_GUARDED_BY(mu_);
  // (operator, intent id) -> intent flight; (operator, aircraft id) -> free
  // flight; (operator, aircraft id) -> the aircraft's latest flight (alerts).
  absl::flat_hash_map<Key, std::string> by_intent_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<Key, std::string> free_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<Key, std::string> by_aircraft_ ABSL_GUARDED_BY(mu_);
  // (operator, intent id) of intents filed without retention that reports
  // name: not recorded (and not asked about again until they end).
  absl::flat_hash_set<Key> not_retained_ ABSL_GUARDED_BY(mu_);
  absl::Time last_sweep_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace utm::fleet

#endif  // UTM_SERVICES_OPERATOR_FLIGHT_LOG_H_
