// Traffic scenarios for utmsim: seeded, pure (no gRPC, no clock), with the
// ground truth a run is checked against.
//
// A Scenario is a set of drones, each with a flight intent (a 4-D volume
// around its planned path) and a trajectory that can be sampled at any time
// since the scenario's start (seconds, simulated). Generate() builds one
// from TrafficOptions:
//  - head-on pairs and crossing pairs: two drones converging on a point so
//    that their horizontal distance falls below the separation minimum D at
//    a known time (both are vertically within H for the whole encounter);
//  - strays: drones flying a circuit inside their intent's circle and, at a
//    known time, heading straight out of it;
//  - random drones: closed polygon circuits (multi-leg paths) that never come
//    near anyone, even extrapolated at constant velocity over the look-ahead.
// Each drone reports at k / rate + its phase (k = 0 ... ticks() - 1): with
// ReportPhase::kSpread every drone has its own seeded phase in [0, 1 / rate),
// as independent aircraft do, so a fleet's reports are spread over each
// interval instead of all falling on the same instant.
// Every encounter and stray is alone in its own cell of an "event" layer;
// random drones share up to `max_random_layers` altitude layers on a grid
// of cells. Cells are spaced so that two drones of different cells, each
// extrapolated along its velocity for the look-ahead, stay more than D apart,
// and layers are spaced more than H apart (all flight is level, so no
// extrapolation crosses layers). Hence the only conflicts are the generated
// ones and the only drones leaving their intents are the strays.
//
// LoadRemoteIdReplay() builds a Scenario from ASTM F3411 network Remote ID
// test flights instead (no ground truth).
//
// Positions: each cell has a local east-north plane tangent to the
// ellipsoid at its centre; a plane point maps to the surface point under it
// (nearest point of the ellipsoid), altitudes are WGS84 and set directly.
// Within a cell (under 2 km across) plane distances equal geodesic ones to
// well under a millimetre, so the stated loss times hold on the ellipsoid.
//
// Typical usage:
//   TrafficOptions o;
//   o.drones = 1000;
//   absl::StatusOr<Scenario> s = Scenario::Generate(o);
//   for (const Conflict& c : s->conflicts()) ... c.loss_s ...
//   DroneState st = s->StateAt(i, 12.0);
//
// Thread-safe: const methods may be called concurrently.
#ifndef UTM_SIM_TRAFFIC_H_
#define UTM_SIM_TRAFFIC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "geo/geodesy.h"
#include "geo/latlng.h"
#include "geo/volume.h"

namespace utm::sim {

// When in each report interval a generated drone reports.
enum class ReportPhase {
  // Every drone at k / rate: a fleet's reports fall on the same instants.
  kAligned,
  // Drone i at k / rate + phase_i, phase_i seeded and uniform in
  // [0, 1 / rate), drawn apart from the traffic (the same seed flies the
  // same paths either way).
  kSpread,
};

struct TrafficOptions {
  // Seed of every random choice. DEFAULT: 1.
  uint64_t seed = 1;
  // Part of every aircraft id, so that runs with the same seed do not share
  // aircraft ids: "sim<seed>-<run_id>-<role>-<index>" ("sim<seed>-<role>-
  // <index>" when empty). Not part of the randomness. DEFAULT: "".
  std::string run_id;
  // Drones in total, encounters and strays included. DEFAULT: 100.
  int drones = 100;
  // Head-on pairs, crossing pairs, strays; -1: N/100 each (at least one of
  // each when N >= 5, none below; no strays when the run is too short for
  // one to leave its intent clearly, about 30 s at the default speeds).
  // REQUIRES: strays 0 or -1 when the run is that short. DEFAULT: -1.
  int head_on_pairs = -1;
  int crossing_pairs = -1;
  int strays = -1;
  // Centre of the area. DEFAULT: Zurich.
  geo::LatLng centre{47.3769, 8.5417};
  // Radius of the area, metres; cells are spread over it. 0: the smallest
  // radius that holds every cell. DEFAULT: 0.
  double radius_m = 0;
  // Ground altitude, metres above WGS84 (Zurich: about 410 m above sea level
  // plus a 48 m geoid undulation). The lowest layer flies 60 m above it.
  // DEFAULT: 460.
  double ground_altitude_m = 460;
  // Scenario length, seconds, and reports per second per drone.
  // DEFAULT: 60 s, 1 Hz.
  double duration_s = 60;
  double report_rate_hz = 1;
  // Report phases of generated drones. DEFAULT: kSpread.
  ReportPhase phase = ReportPhase::kSpread;
  // Separation minima and look-ahead the layout guarantees (and the
  // encounters violate): D, H, T. DEFAULT: utmd's, 50 m, 30 m, 30 s.
  double horizontal_separation_m = 50;
  double vertical_separation_m = 30;
  double lookahead_s = 30;
  // Ground speeds, m/s. DEFAULT: 4-10.
  double min_speed_mps = 4;
  double max_speed_mps = 10;
  // Altitude layers shared by random drones. DEFAULT: 8.
  int max_random_layers = 8;
};

enum class DroneRole { kRandom, kHeadOn, kCrossing, kStray };
const char* RoleName(DroneRole role);

// One state of a drone: what a position report carries.
struct DroneState {
  geo::LatLng position;
  double altitude_m = 0;  // above WGS84
  double north_mps = 0, east_mps = 0, up_mps = 0;
  // 95 % accuracy, metres; 0: not stated. Generated drones: 3 m / 5 m.
  double horizontal_accuracy_m = 0, vertical_accuracy_m = 0;
};

struct Drone {
  std::string aircraft_id;
  DroneRole role = DroneRole::kRandom;
  // Intent: footprint and altitude band (time window given at filing).
  geo::Volume3D intent;
  int32_t priority = 0;
  // Seconds since the scenario's start during which the drone reports.
  // Generated drones: 0 to ticks() / rate (each report, phase included,
  // falls in it).
  double first_s = 0, last_s = 0;
  // Offset of its reports from the ticks, seconds, in [0, 1 / rate): see
  // ReportPhase. Replayed drones: 0 (their recorded times).
  double phase_s = 0;
};

// A generated loss of separation: drones a < b, horizontal distance below D
// on the open interval (loss_s, end_s), closest (miss_m) at cpa_s.
struct Conflict {
  int a = 0, b = 0;
  DroneRole kind = DroneRole::kHeadOn;
  double loss_s = 0, cpa_s = 0, end_s = 0;
  double miss_m = 0;       // horizontal distance at cpa_s
  double vertical_m = 0;   // constant vertical distance
  double closing_mps = 0;  // |relative horizontal velocity|
};

// A generated stray: the drone crosses its intent's boundary at exit_s and
// is more than its stated horizontal accuracy (plus 1 m) beyond it from
// clear_s on, for good. clear_s is at or before tick ticks() - 2, so at or
// before the second-to-last report whatever the drone's phase: every run
// reports the stray clearly out at least twice.
struct Stray {
  int drone = 0;
  double exit_s = 0;
  double clear_s = 0;
};

class Scenario {
 public:
  // INVALID_ARGUMENT naming the option when the options are inconsistent
  // (more encounter drones than drones, a radius too small for the cells,
  // speeds out of order, ...).
  static absl::StatusOr<Scenario> Generate(const TrafficOptions& options);

  const std::vector<Drone>& drones() const { return drones_; }
  const std::vector<Conflict>& conflicts() const { return conflicts_; }
  const std::vector<Stray>& strays() const { return strays_; }
  double duration_s() const { return duration_s_; }
  double report_rate_hz() const { return rate_hz_; }
  // Reports per drone: ticks at k / rate, k in [0, ticks()).
  int ticks() const;
  // Time of drone i's report of tick k, seconds since the start:
  // k / rate + its phase_s. Its state is StateAt(i, ReportTime(i, k)).
  double ReportTime(int i, int k) const {
    return k / rate_hz_ + drones_[static_cast<size_t>(i)].phase_s;
  }
  // Radius actually covered, metres (every cell's centre within it, less
  // half a cell).
  double radius_m() const { return radius_m_; }
  // Spacing of cells, metres: random layers, event layer.
  double random_pitch_m() const { return random_pitch_m_; }
  double event_pitch_m() const { return event_pitch_m_; }

  // Whether drone i reports at t (first_s <= t <= last_s).
  bool Active(int i, double t_s) const;
  // The state of drone i at t seconds since the start. REQUIRES: Active.
  DroneState StateAt(int i, double t_s) const;
  // Drone i's intent volume for flights between `start` and `end`.
  geo::Volume4D IntentVolume(int i, absl::Time start, absl::Time end) const;

  // Local plane point (metres east, north of drone i's cell centre) at t,
  // for tests. nullopt for replayed drones.
  std::optional<geo::Vec2> LocalAt(int i, double t_s) const;

  // Internal representation, public for the generator's helpers.
  struct Cell {
    geo::Vec3 origin_ecef;
    geo::Vec3 east, north;  // unit vectors, ECEF
    geo::LatLng centre;
  };
  struct Waypoint {
    double t_s;
    geo::Vec2 p;
  };
  struct Path {
    int cell = 0;
    double altitude_m = 0;
    // Closed circuit flown until `circuit_until_s` (none if empty).
    std::vector<geo::Vec2> circuit;
    std::vector<double> circuit_cum_m;  // cumulative length at each vertex
    double circuit_speed_mps = 0, circuit_phase_m = 0;
    double circuit_until_s = 1e300;
    // Then piecewise-linear waypoints (hover before the first, after the
    // last).
    std::vector<Waypoint> legs;
  };
  struct Sample {  // replayed drones
    double t_s;
    DroneState state;
  };

 private:
  friend absl::StatusOr<Scenario> LoadRemoteIdReplay(const std::string&,
                                                     const std::string&,
                                                     const std::string&);
  Scenario() = default;
  // Plane position (and velocity, if not null) on a path at t.
  static geo::Vec2 PlaneAt(const Path& path, double t_s, geo::Vec2* velocity);
  static geo::Vec2 PlaneAtCircuit(const Path& path, double t_s,
                                  geo::Vec2* velocity);

  std::vector<Drone> drones_;
  std::vector<Path> paths_;                   // generated drones
  std::vector<std::vector<Sample>> samples_;  // replayed drones
  std::vector<Cell> cells_;
  std::vector<Conflict> conflicts_;
  std::vector<Stray> strays_;
  double duration_s_ = 0, rate_hz_ = 1;
  double radius_m_ = 0, random_pitch_m_ = 0, event_pitch_m_ = 0;
};

// Parses ASTM F3411 network Remote ID test flights as InterUSS publishes
// them ({"flights": [{"flight_details": {...}, "states": [{"timestamp",
// "position": {"lat", "lng", "alt"}, "track", "speed", "vertical_speed",
// ...}]}]}) into a Scenario: one drone per flight, aircraft id its
// serial number (else its flight id); times relative to the earliest state of
// any flight, states linearly interpolated in between. `position.alt` is
// F3411's geodetic altitude, metres above the WGS84 ellipsoid, used as is
// (`height`, above the take-off point, is ignored). Velocity from `track`
// (degrees clockwise from true north), `speed` (m/s over ground) and
// `vertical_speed` (m/s, up). Accuracy enums (HA10m, VA3m, ...) map to their
// metres; "Unknown" to 0 (not stated). Each flight's intent is a circle
// around its states (50 m beyond the farthest) and their altitudes +- 30 m;
// priorities 0, 1, ... so that intents of different flights may overlap.
// `content` is the file's text, `name` its name for error messages. A
// non-empty `run_id` prefixes every aircraft id ("<run_id>-<serial>").
absl::StatusOr<Scenario> LoadRemoteIdReplay(const std::string& content,
                                            const std::string& name,
                                            const std::string& run_id = "");

// Metres of an F3411 accuracy enum ("HA10m", "VA45m", "HA05NM", ...); 0 for
// "HAUnknown"/"VAUnknown" or anything unrecognised.
double F3411AccuracyM(const std::string& value);

}  // namespace utm::sim

#endif  // UTM_SIM_TRAFFIC_H_
