// Conflict detection between two aircraft flying straight at constant
// velocity, with a cylindrical protected zone: the semantics of NASA
// DAIDALUS's CDCylinder detector (CD3D::detection), on local Cartesian input.
//
// Separation is lost at time t when the aircraft are closer than D
// horizontally AND closer than H vertically:
//   |s + t·v| < D   and   |sz + t·vz| < H
// with s, v the horizontal relative position and velocity (ownship minus
// intruder) and sz, vz the vertical ones. Both inequalities are strict, so
// each holds on an open interval of t:
//   - horizontal: between the roots of |v|²t² + 2(s·v)t + |s|² − D² = 0, when
//     the discriminant D²|v|² − (s×v)² is > 0 (a tangent pass, = 0, never
//     loses separation); when v = 0, for every t if |s| < D, else never;
//   - vertical: between (±H − sz)/vz; when vz = 0, for every t if |sz| < H,
//     else never.
// There is a conflict when the intersection of both intervals with the
// look-ahead [0, T] has a non-empty interior: max(entries, 0) < min(exits, T).
// A loss beginning exactly at T, or ending exactly at 0, is not a conflict
// (DAIDALUS's LossData::conflict(): time_in < time_out).
//
// Differences from DAIDALUS, all deliberate and all confined to inputs within
// rounding error of a boundary: DAIDALUS compares with a few ULPs of
// tolerance (Util::almost_equals) where we compare exactly, and treats
// velocities equal to within a few ULPs as equal where we treat relative
// speeds under 1 nm/s as zero. Its ConflictData reports the time of closest
// approach in the cylinder's scaled norm; we report the horizontal time of
// closest approach, as the Alert contract specifies (telemetry.proto).
//
// The hot path is header-inline and allocation-free: two square roots, four
// divisions and a few branches: about 7 ns, 11 times the cost of computing
// just |s|² (docs/benchmarks.md, "Conflict detector"). A select-based version
// without branches measured a quarter slower.
//
// Typical usage:
//   State own{...}, intruder{...};           // same local ENU frame
//   Detection d = Detect(own, intruder, Separation());
//   if (d.conflict) Alert(d.time_in_s, d.tcpa_s, d.horizontal_at_cpa_m);
//
// From geodetic reports (latitude, longitude, altitude, ENU velocity):
//   State rel = RelativeLocalState(own_report, intruder_report);
//   Detection d = Detect(rel, separation);
//
// Thread-safe: pure functions.
#ifndef UTM_SERVICES_TELEMETRY_DETECTOR_H_
#define UTM_SERVICES_TELEMETRY_DETECTOR_H_

#include <algorithm>
#include <cmath>
#include <limits>

#include "geo/latlng.h"

namespace utm::telemetry {

// A position and velocity in a local East-North-Up Cartesian frame: x east,
// y north, z up, metres; vx, vy, vz in m/s. Either one aircraft's state or
// the relative state of two (ownship minus intruder).
struct State {
  double x = 0, y = 0, z = 0;
  double vx = 0, vy = 0, vz = 0;
};

// The protected zone (a cylinder of radius D and half-height H around each
// aircraft) and how far ahead to look. There is no standard separation
// minimum between two small drones (ASTM F3442's small-UAS "well clear",
// 2,000 ft / 250 ft, protects crewed aircraft from drones; the near mid-air
// collision volume, 500 ft / 100 ft, is sized for crewed aircraft), so the
// defaults are built up from what a drone-to-drone alert must absorb; see
// docs/tactical.md for the arithmetic.
struct Separation {
  // D, metres. Two drones of up to 8 m (F3442's 25 ft) span 8 m; two
  // independent GNSS fixes (typically 5 m each at 95 %) add 7 m; a multirotor
  // turning at 1 g leaves a straight-line prediction by g·t²/2 = 5 m within
  // the second a 1 Hz report ages, 10 m for the two. That is 25 m, doubled
  // for latency, gusts and braking distance: 50 m, which still packs drones
  // in a 120 m-wide corridor.
  // DEFAULT: 50 m.
  double horizontal_m = 50;
  // H, metres. GNSS altitude is about twice as noisy as position (about 10 m
  // at 95 % each, 14 m for two), plus 8 m of airframe and rotor wash: 22 m;
  // 30 m (about the 100 ft of the crewed near-mid-air-collision volume)
  // leaves a margin and still fits four layers under the 120 m ceiling.
  // DEFAULT: 30 m.
  double vertical_m = 30;
  // T, seconds. Time for the report to arrive and be processed (1-2 s), for
  // a remote pilot or autopilot to react (we assume up to 10 s for a pilot)
  // and for a 15 m/s drone to move aside by D (about 5 s), with margin.
  // Much longer look-aheads mostly add false alarms: multirotors turn often,
  // and a 30 s straight-line prediction at 15 m/s already spans 450 m.
  // DEFAULT: 30 s. REQUIRES: > 0 for any conflict to be found.
  double lookahead_s = 30;
};

// The result of Detect(). Times are seconds from the states' time.
struct Detection {
  // Separation is lost at some time in [0, T] (see the file comment).
  bool conflict = false;
  // The loss within [0, T]: from time_in_s (0 if already lost) to time_out_s
  // (clipped to T, as DAIDALUS clips). +inf and -inf when there is no
  // conflict.
  double time_in_s = std::numeric_limits<double>::infinity();
  double time_out_s = -std::numeric_limits<double>::infinity();
  // Time of horizontal closest approach, −(s·v)/|v|² clamped to ≥ 0 (0 when
  // the aircraft diverge or their relative horizontal velocity is zero); not
  // clipped to T. Always set, conflict or not.
  double tcpa_s = 0;
  // Horizontal distance |s + tcpa·v| and vertical separation |sz + tcpa·vz|
  // then, metres. Always set.
  double horizontal_at_cpa_m = 0;
  double vertical_at_cpa_m = 0;
};

namespace detector_internal {
// Relative speeds below 1 nm/s are treated as zero: over a 30 s look-ahead
// they move the aircraft by 30 nm, far below any figure we report, while
// their squares (1e-18) stay far above the range where D²|v|² − (s×v)²
// underflows.
inline constexpr double kZeroSpeedSq = 1e-18;
inline constexpr double kZeroSpeed = 1e-9;
inline constexpr double kInf = std::numeric_limits<double>::infinity();
}  // namespace detector_internal

// Conflict detection on the relative state `rel` (ownship minus intruder),
// as the file comment defines it. REQUIRES: finite inputs, D > 0, H > 0.
inline Detection Detect(const State& rel, const Separation& sep) {
  using detector_internal::kInf;
  const double d2 = sep.horizontal_m * sep.horizontal_m;
  const double a = rel.vx * rel.vx + rel.vy * rel.vy;   // |v|²
  const double b = rel.x * rel.vx + rel.y * rel.vy;     // s·v
  const double c = rel.x * rel.x + rel.y * rel.y - d2;  // |s|² − D²

  // Horizontal loss interval (h_in, h_out); empty as (+inf, -inf).
  double h_in, h_out;
  if (a > detector_internal::kZeroSpeedSq) {
    // D²|v|² − (s×v)² equals (s·v)² − |v|²(|s|² − D²) but does not cancel
    // catastrophically when |s| >> D.
    const double cross = rel.x * rel.vy - rel.y * rel.vx;
    const double disc = d2 * a - cross * cross;
    if (disc > 0) {
      // The roots without cancellation: q/a and c/q (Numerical Recipes
      // §5.6); q != 0 because disc > 0.
      const double q = -(b + std::copysign(std::sqrt(disc), b));
      const double r1 = q / a, r2 = c / q;
      h_in = std::min(r1, r2);
      h_out = std::max(r1, r2);
    } else {
      h_in = kInf;
      h_out = -kInf;
    }
  } else {
    h_in = c < 0 ? -kInf : kInf;
    h_out = -h_in;
  }

  // Vertical loss interval (v_in, v_out).
  double v_in, v_out;
  if (std::fabs(rel.vz) > detector_internal::kZeroSpeed) {
    const double inv_vz = 1 / rel.vz;
    const double t1 = (-sep.vertical_m - rel.z) * inv_vz;
    const double t2 = (sep.vertical_m - rel.z) * inv_vz;
    v_in = std::min(t1, t2);
    v_out = std::max(t1, t2);
  } else {
    v_in = std::fabs(rel.z) < sep.vertical_m ? -kInf : kInf;
    v_out = -v_in;
  }

  Detection d;
  const double t_in = std::max(std::max(h_in, v_in), 0.0);
  const double t_out = std::min(std::min(h_out, v_out), sep.lookahead_s);
  d.conflict = t_in < t_out;
  d.time_in_s = d.conflict ? t_in : kInf;
  d.time_out_s = d.conflict ? t_out : -kInf;

  d.tcpa_s = a > detector_internal::kZeroSpeedSq ? std::max(0.0, -b / a) : 0.0;
  const double cx = rel.x + d.tcpa_s * rel.vx;
  const double cy = rel.y + d.tcpa_s * rel.vy;
  d.horizontal_at_cpa_m = std::sqrt(cx * cx + cy * cy);
  d.vertical_at_cpa_m = std::fabs(rel.z + d.tcpa_s * rel.vz);
  return d;
}

// The relative state of `own` with respect to `intruder`, both in one frame.
inline State Relative(const State& own, const State& intruder) {
  return {own.x - intruder.x,   own.y - intruder.y,   own.z - intruder.z,
          own.vx - intruder.vx, own.vy - intruder.vy, own.vz - intruder.vz};
}

// Conflict detection between `own` and `intruder`, in one frame. Symmetric:
// swapping them gives the same times and distances (bit for bit).
inline Detection Detect(const State& own, const State& intruder,
                        const Separation& sep) {
  return Detect(Relative(own, intruder), sep);
}

// Separation is lost now (t = 0): |s| < D and |sz| < H, strictly.
inline bool LossNow(const State& rel, const Separation& sep) {
  return rel.x * rel.x + rel.y * rel.y < sep.horizontal_m * sep.horizontal_m &&
         std::fabs(rel.z) < sep.vertical_m;
}

// One aircraft's report: where it is and how it moves.
struct GeodeticState {
  geo::LatLng position;
  double altitude_m = 0;  // above the WGS84 ellipsoid
  // Velocity in the east-north-up frame at `position`, m/s.
  double east_mps = 0, north_mps = 0, up_mps = 0;
};

// Where the tangent plane of RelativeLocalState touches the ellipsoid.
enum class TangentPoint {
  kOwnship,
  // Halfway between the two aircraft: horizontal errors shrink by 4 (the
  // chord's rather than the tangent plane's d³/6R² shortening) and the two
  // aircraft's velocity frames are rotated by the same half-angle.
  kMidpoint,
};

// The relative state (ownship minus intruder) for Detect() from two geodetic
// states at the same time. Horizontal: the points on the ellipsoid below the
// aircraft in the local Cartesian frame tangent at `tangent`, and the
// horizontal velocities rotated into it. Vertical: the altitude difference and
// the difference of the up velocities, unchanged; this is what vertical
// separation means, and it keeps the curvature drop of the tangent plane
// (d²/2R: 7.8 m at 10 km) out of sz, as DAIDALUS's projections keep altitude.
//
// Error against the geodesic distance: under 1 mm for aircraft 10 km apart
// with a midpoint tangent (4 mm at the ownship); see docs/tactical.md.
// Costs about 0.55 µs (GeographicLib), 75 times the detector itself: keep
// tracks in a Cartesian frame rather than converting every pair.
State RelativeLocalState(const GeodeticState& own,
                         const GeodeticState& intruder,
                         TangentPoint tangent = TangentPoint::kMidpoint);

}  // namespace utm::telemetry

#endif  // UTM_SERVICES_TELEMETRY_DETECTOR_H_
