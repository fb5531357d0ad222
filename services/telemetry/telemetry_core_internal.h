// The telemetry core's own types, shared by its translation units
// (telemetry_core.cc: tracks, alerts, participants' reports; lifecycle.cc:
// lost links and retirement; intruders.cc: aircraft heard by Remote ID;
// registration.cc: registration checks and revocations). Not for use
// outside the core.
#ifndef UTM_SERVICES_TELEMETRY_TELEMETRY_CORE_INTERNAL_H_
#define UTM_SERVICES_TELEMETRY_TELEMETRY_CORE_INTERNAL_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "geo/geodesy.h"
#include "geo/latlng.h"
#include "services/telemetry/telemetry_core.h"
#include "utm/v1/telemetry.pb.h"

namespace utm::telemetry {
namespace core_internal {

inline constexpr double kDegToRad = M_PI / 180.0;

// East, north and up unit vectors at a geodetic position, in ECEF.
struct Frame {
  geo::Vec3 east, north, up;
};

inline Frame FrameAt(const geo::LatLng& p) {
  const double phi = p.lat_deg * kDegToRad, lambda = p.lng_deg * kDegToRad;
  const double sp = std::sin(phi), cp = std::cos(phi);
  const double sl = std::sin(lambda), cl = std::cos(lambda);
  return Frame{{-sl, cl, 0}, {-sp * cl, -sp * sl, cp}, {cp * cl, cp * sl, sp}};
}

inline double Dot(const geo::Vec3& a, const geo::Vec3& b) {
  return a.x * b.x + a.y * b.y + a.z * b.z;
}

inline geo::Vec3 Axpy(double a, const geo::Vec3& x, const geo::Vec3& y) {
  return {a * x.x + y.x, a * x.y + y.y, a * x.z + y.z};
}

// A track's key: length-prefixed, as operator and aircraft ids may contain
// '/'.
inline std::string TrackKey(absl::string_view operator_id,
                            absl::string_view aircraft_id) {
  return absl::StrCat(operator_id.size(), ":", operator_id, "/", aircraft_id);
}

}  // namespace core_internal

struct TelemetryCore::Track {
  std::string key;  // "<length of operator>:<operator>/<aircraft>"
  std::string operator_id;
  std::string aircraft_id;
  std::string intent_id;
  bool intent_known = false;  // an activated intent of this operator
  absl::Time time;            // of the latest report
  double time_s = 0;          // the same, seconds since the Unix epoch
  absl::Time received;        // when it arrived (server clock)
  // The latest report's place in the order of reports: its time, or its
  // arrival if it was stamped ahead of the server clock.
  absl::Time order_time() const { return ReportOrderTime(time, received); }
  geo::LatLng position;
  double altitude_m = 0;
  // Horizontal: the surface point below the aircraft and the horizontal
  // velocity, in ECEF; vertical: altitude and climb rate. Keeping them apart
  // keeps the tangent plane's curvature drop (d²/2R) out of the vertical.
  geo::Vec3 ecef{0, 0, 0};
  geo::Vec3 velocity{0, 0, 0};
  double up_mps = 0;
  // The report's accuracy; for an intruder its whole extra uncertainty,
  // what widens the minima of a pair with it (see telemetry_core.h).
  double h_accuracy_m = 0, v_accuracy_m = 0;
  // A non-participating aircraft, heard by Remote ID (operator "").
  bool intruder() const { return operator_id.empty(); }
  // Where its Slot is: grid_[cell][slot_index] (cell_slots null when
  // not in the grid).
  CellKey cell = 0;
  std::vector<Slot>* cell_slots = nullptr;
  uint32_t slot_index = 0;
  double speed_mps = 0;   // horizontal
  bool fast = false;      // horizontally above the speed limit
  int speed_bucket = -1;  // in speed_buckets_, -1: not counted
  // Non-empty: its registration is no longer in force (revoked while it
  // flies): the REGISTRATION_REVOKED alert's message.
  std::string revocation;
  // Open alert keys that involve this track.
  std::vector<std::string> alert_keys;
  // Tracks this one has an open conflict alert with, so that the common
  // case — a neighbour with no conflict and no alert — costs no string work.
  absl::flat_hash_set<const Track*> partners;
};

struct TelemetryCore::OpenAlert {
  v1::Alert alert;
  std::vector<std::string> operators;
  std::vector<std::string> tracks;  // track keys involved
  std::vector<std::pair<std::string, std::string>>
      aircraft;  // as in AlertChange
  absl::Time last_sent;
};

// A track's kinematic state as the neighbour scan needs it.
struct TelemetryCore::Slot {
  geo::Vec3 ecef;
  geo::Vec3 velocity;
  double time_s;
  double altitude_m;
  double up_mps;
  Track* track;
};

struct TelemetryCore::Prepared {
  int index = 0;  // in the caller's batch
  const v1::PositionReport* report = nullptr;
  absl::Time t;
  geo::LatLng p;
  double alt = 0;
  // Accuracy; for an intruder, its whole extra uncertainty.
  double hacc = 0, vacc = 0;
  bool known = false, conforming = true;  // an intruder's are these
  std::vector<std::string> fences;
  // A forwarded report whose aircraft's registration check fails here: why.
  std::string lapsed;
};

}  // namespace utm::telemetry

#endif  // UTM_SERVICES_TELEMETRY_TELEMETRY_CORE_INTERNAL_H_
