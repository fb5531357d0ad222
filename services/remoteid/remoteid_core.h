// The Remote ID display, without gRPC: who is flying where, from three
// sources merged into one picture, and who flies them for those entitled to
// know (ASTM F3411-22a's display-provider side; docs/remoteid.md).
//
// Sources:
//   - network: aircraft streaming positions to this server (telemetry),
//     shown under a session id this server derives from the operator,
//     aircraft and intent with a secret key, so the display never shows
//     an operator's aircraft id and one flight cannot be linked to the next;
//   - published: flights a network Remote ID service provider (or an
//     operator's ground station) publishes with their F3411 states, shown
//     under their UAS id;
//   - broadcast: what ground receivers hear, shown under the UAS id
//     broadcast.
// An aircraft heard on the air (or published) under an aircraft id that a
// participant's streaming aircraft also uses, close to it in space and time,
// is that aircraft: it is not shown twice, and not taken for an intruder.
// Every other broadcast or published state is returned as a HeardState so
// that tactical deconfliction can treat the aircraft as an intruder.
//
// Retention (F3411-22a): a flight is shown while its latest fix is at most
// `near_real_time` old (NetMaxNearRealTimeDataPeriod, 60 s), with the
// positions of that period; its identity is kept for `details_retention`
// after its last fix (at most NetDpMaxDataRetentionPeriod, 24 h), then
// forgotten. Bounded: at most `max_flights` flights, `max_track_points`
// positions each.
//
// Replicas (--store redis): every replica holds the whole display. What a
// replica's clients bring (reports, published flights, receptions) is
// applied here and offered to a DisplayReplicator (display_cluster.h), which
// brings it to the other replicas' cores as Origin::kReplica inputs.
//
// Thread-safe: one mutex.
//
// Typical usage:
//   RemoteIdCore core(options, RealClock::Get());
//   core.AddNetworkReport("op-1", report);           // from telemetry
//   UTM_ASSIGN_OR_RETURN(auto r, core.Search(view)); // the display
//   UTM_ASSIGN_OR_RETURN(auto d, core.Details(id));  // audited by the caller
//   ... core.Expire() every second ...
#ifndef UTM_SERVICES_REMOTEID_REMOTEID_CORE_H_
#define UTM_SERVICES_REMOTEID_REMOTEID_CORE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "geo/latlng.h"
#include "services/common/clock.h"
#include "services/common/region.h"
#include "services/remoteid/display_view.h"
#include "services/telemetry/surface_grid.h"
#include "utm/v1/remote_id.pb.h"
#include "utm/v1/telemetry.pb.h"

namespace utm::remoteid {

struct RemoteIdOptions {
  DisplayRules display;
  // NetMaxNearRealTimeDataPeriod: a flight is shown while its latest fix is
  // at most this old, with the positions of this period. DEFAULT: 60 s.
  absl::Duration near_real_time = absl::Seconds(60);
  // How long a flight's identity (for GetFlightDetails) is kept after its
  // last fix. DEFAULT: 1 h. REQUIRES: <= 24 h (F3411-22a
  // NetDpMaxDataRetentionPeriod) and >= near_real_time.
  absl::Duration details_retention = absl::Hours(1);
  // Flights kept at once (shown or remembered); a state of a new flight
  // beyond it is refused (RESOURCE_EXHAUSTED). DEFAULT: 1,000,000.
  size_t max_flights = 1000000;
  // Positions kept per flight. DEFAULT: 120 (60 s at 2 Hz).
  size_t max_track_points = 120;
  // Published and broadcast states older or further ahead than these are
  // refused. DEFAULT: 60 s / 2 s.
  absl::Duration max_age = absl::Seconds(60);
  absl::Duration max_lead = absl::Seconds(2);
  // A broadcast or published state is the same aircraft as a participant's
  // streaming aircraft with its aircraft id when at most this far from its
  // latest report, in space and time. DEFAULT: 1 km, 10 s.
  double same_aircraft_m = 1000;
  absl::Duration same_aircraft_time = absl::Seconds(10);
  // Edge of the display's grid cells, metres. DEFAULT: 1000 m.
  double grid_cell_m = 1000;
  // Whether the display shows where each remote pilot is (as US 14 CFR
  // Part 89 makes public); otherwise only GetFlightDetails does. DEFAULT:
  // false.
  bool public_operator_location = false;
  // Keys the session ids of network flights (HMAC-SHA-256). REQUIRES: at
  // least 16 bytes; the same on every replica of one deployment.
  std::string session_key;
  // Data residency (services/common/region.h): the region the deployment
  // serves. Published states must lie inside it (Publish), and so must the
  // positions receivers report (BroadcastFeed); RemoteIdService checks the
  // callers' home region against it. Network reports are the telemetry
  // service's to check. Null (DEFAULT): no region. Not owned; outlives the
  // core.
  const region::RegionPolicy* region = nullptr;
};

// One state of an aircraft.
struct Fix {
  absl::Time time;
  geo::LatLng position;              // Degrees WGS84.
  std::optional<double> altitude_m;  // Metres above the WGS84 ellipsoid.
  bool has_velocity = false;
  double track_deg = 0;              // Clockwise from true north, [0, 360).
  double speed_mps = 0;              // Over ground.
  double vertical_speed_mps = 0;     // + climbs.
  double horizontal_accuracy_m = 0;  // 95 %; 0 unknown.
  double vertical_accuracy_m = 0;    // 95 %; 0 unknown.
  v1::RidOperationalStatus status = v1::RID_OPERATIONAL_STATUS_UNDECLARED;
};

// Who flies an aircraft: privileged.
struct Identity {
  v1::UaType ua_type = v1::UA_TYPE_NONE;
  std::string serial_number;
  std::string registration_id;
  std::string operator_id;
  std::optional<geo::LatLng> operator_location;
  std::optional<double> operator_altitude_m;
  std::string operator_account;  // token subject (network, published)
  std::string intent_id;         // network
  std::string aircraft_id;       // network: telemetry's aircraft id
  std::string description;
};

// A broadcast state, decoded, with what was heard of the aircraft.
struct BroadcastFix {
  std::string uas_id;  // As broadcast (Basic ID).
  v1::UasIdType uas_id_type = v1::UAS_ID_TYPE_UNSPECIFIED;
  Fix fix;
  Identity identity;                // What the broadcast said (no account).
  std::string receiver;             // The receiver's token subject.
  absl::Time received;              // When heard.
  double timestamp_accuracy_s = 0;  // As broadcast; 0 unknown.
};

// A state of an aircraft with no intent here (broadcast or published), for
// tactical deconfliction.
struct HeardState {
  std::string remote_id;
  Fix fix;
  // How stale the state may be beyond its own time stamp: receive time
  // minus the state's time, plus its time stamp accuracy (>= 0).
  absl::Duration latency;
};

// Where an input came from.
enum class Origin {
  kClient,   // this replica's clients: offered to the replicator
  kReplica,  // another replica, which offered it already
};

// Takes what the core kept from this replica's clients to the other
// replicas. Called after the core applied the input, without its lock, on
// the caller's thread. Implementations must be thread-safe and quick (they
// queue).
class DisplayReplicator {
 public:
  virtual ~DisplayReplicator() = default;
  virtual void OnNetworkReport(const std::string& operator_id,
                               const v1::PositionReport& report) = 0;
  virtual void OnPublish(const std::string& account,
                         const v1::PublishFlightsRequest& request) = 0;
  virtual void OnBroadcast(const BroadcastFix& fix) = 0;
};

class RemoteIdCore {
 public:
  // `clock` is not owned and must outlive the core.
  RemoteIdCore(RemoteIdOptions options, const Clock* clock);

  // Checks `options` (INVALID_ARGUMENT naming the option).
  static absl::Status CheckOptions(const RemoteIdOptions& options);

  // Where the inputs of Origin::kClient go too. Not owned; must outlive the
  // core's last input. Set before the first input. DEFAULT: none.
  void SetReplicator(DisplayReplicator* replicator) {
    replicator_ = replicator;
  }

  // A valid position report of `operator_id`'s aircraft (the telemetry
  // core accepted it). Never fails: a report of a new flight beyond
  // max_flights is not shown (counted in dropped()).
  void AddNetworkReport(const std::string& operator_id,
                        const v1::PositionReport& report,
                        Origin origin = Origin::kClient);

  struct Published {
    int states_accepted = 0;
    std::vector<HeardState> heard;  // For tactical deconfliction.
  };
  // A provider's flights. Checked whole first: INVALID_ARGUMENT naming the
  // field (`flights[0].states[2].speed_mps: -5 is outside [0, 254.25]`),
  // FAILED_PRECONDITION for a state outside options().region
  // (`flights[1].states[0].position lies outside region EU-CH (deployment
  // boundary)`), PERMISSION_DENIED for a UAS id another account publishes,
  // RESOURCE_EXHAUSTED beyond max_flights; nothing is kept then. A
  // replica's request is checked again here (its states may have aged past
  // max_age on the way, or another account's flight may hold its UAS id
  // here): refused whole the same way, counted in dropped().
  absl::StatusOr<Published> Publish(const std::string& account,
                                    const v1::PublishFlightsRequest& request,
                                    Origin origin = Origin::kClient);

  // A broadcast state (checked by the decoder). Nullopt when it is a
  // participant's aircraft already shown, or was refused (counted in
  // dropped()); else the state for tactical deconfliction.
  std::optional<HeardState> AddBroadcast(const BroadcastFix& fix,
                                         Origin origin = Origin::kClient);

  // The display of a view: flights (views up to details_diagonal_m) or
  // clusters. INVALID_ARGUMENT for a bad or too wide view (field "view").
  absl::StatusOr<v1::SearchFlightsResponse> Search(
      const v1::LatLngRect& view) const;
  // The same for a checked view.
  v1::SearchFlightsResponse Search(const DisplayView& view) const;

  // Who flies the aircraft shown as `id`. NOT_FOUND when no flight of that
  // id had a fix within details_retention. The caller checks entitlement
  // and audits before the answer leaves.
  absl::StatusOr<v1::RidFlightDetails> Details(const std::string& id) const;

  // One of an operator's aircraft streaming to the deployment (a network
  // flight), as the display shows it now, with what only its operator may
  // see.
  struct OperatorFlight {
    std::string aircraft_id;
    std::string intent_id;
    v1::RidFlight flight;  // id (the session id), latest state, track
  };
  // The network flights of `operator_id` shown now (latest fix within
  // near_real_time), ordered by aircraft id, then latest first; at most
  // `limit`.
  std::vector<OperatorFlight> OperatorFlights(const std::string& operator_id,
                                              size_t limit) const;

  // Drops what retention no longer allows. Call about once a second.
  void Expire();

  size_t flight_count() const;
  int64_t dropped() const;
  const RemoteIdOptions& options() const { return options_; }

 private:
  struct Point {
    absl::Time time;
    geo::LatLng position;
    std::optional<double> altitude_m;
  };
  struct Flight {
    std::string id;
    v1::RidSource source = v1::RID_SOURCE_UNSPECIFIED;
    Fix latest;
    std::deque<Point> track;  // oldest first, ending with latest
    Identity identity;
    std::vector<std::string> receivers;  // bounded
    telemetry::SurfaceGrid::Key cell = 0;
    bool in_grid = false;
  };

  // The inputs, applied; whether (or what) they changed.
  bool ApplyNetworkReport(const std::string& operator_id,
                          const v1::PositionReport& report)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<Published> ApplyPublish(
      const std::string& account, const v1::PublishFlightsRequest& request)
      ABSL_LOCKS_EXCLUDED(mu_);
  std::optional<HeardState> ApplyBroadcast(const BroadcastFix& fix, bool* kept)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The flight of `id`, created with `source` if there is none and room.
  Flight* FindOrCreate(const std::string& id, v1::RidSource source)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Appends `fix` to `flight` if newer than its latest; false otherwise.
  bool Advance(Flight* flight, const Fix& fix)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The network flight with aircraft id `aircraft_id` near `fix`, if any.
  Flight* SameAircraft(const std::string& aircraft_id, const Fix& fix)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Erase(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The session id of a network flight.
  std::string SessionId(const std::string& flight_key) const;
  void ToProto(const Flight& flight, absl::Time now, v1::RidFlight* out) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const RemoteIdOptions options_;
  const Clock* const clock_;
  const telemetry::SurfaceGrid grid_geometry_;
  DisplayReplicator* replicator_ = nullptr;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Flight>> flights_
      ABSL_GUARDED_BY(mu_);
  // Network flights: "<operator>\n<aircraft>\n<intent>" -> session id.
  absl::flat_hash_map<std::string, std::string> sessions_ ABSL_GUARDED_BY(mu_);
  // Network flights by operator account, for OperatorFlights.
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>>
      by_operator_ ABSL_GUARDED_BY(mu_);
  // Network flights by telemetry aircraft id, for SameAircraft.
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>>
      by_aircraft_id_ ABSL_GUARDED_BY(mu_);
  // Shown flights by the grid cell of their latest position.
  absl::node_hash_map<telemetry::SurfaceGrid::Key, absl::flat_hash_set<Flight*>>
      grid_ ABSL_GUARDED_BY(mu_);
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace utm::remoteid

#endif  // UTM_SERVICES_REMOTEID_REMOTEID_CORE_H_
