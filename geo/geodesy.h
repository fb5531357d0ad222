// Geodesy on the WGS84 ellipsoid: distances, destinations, areas and a local
// gnomonic projection, all exact to GeographicLib's round-off (nanometres).
//
// This is the only header in geo/ that speaks of geodesics directly; it keeps
// GeographicLib out of every other header. All angles are degrees, all
// distances metres along the ellipsoid surface.
//
// Typical usage:
//   double s = GeodesicDistance({47.0, 8.0}, {47.1, 8.1});
//   GnomonicProjection proj({47.05, 8.05});
//   Vec2 p = proj.Forward({47.0, 8.0});   // metres on the tangent plane
#ifndef UTM_GEO_GEODESY_H_
#define UTM_GEO_GEODESY_H_

#include <vector>

#include "geo/latlng.h"

namespace utm::geo {

// Mean radius of the WGS84 ellipsoid (IUGG R1), metres. Only for estimates
// and error bounds; every exact computation uses the ellipsoid itself.
inline constexpr double kEarthMeanRadiusM = 6371008.8;
// Smallest radius of curvature of the WGS84 ellipsoid (meridional, at the
// equator), metres. Dividing a surface distance by it over-estimates the
// corresponding angle on the unit sphere, which makes coverings conservative.
inline constexpr double kEarthMinCurvatureRadiusM = 6335439.0;

struct Vec2 {
  double x;
  double y;
};

struct Vec3 {
  double x;
  double y;
  double z;
};

// Geodesic (shortest path) distance between a and b on WGS84, metres.
double GeodesicDistance(const LatLng& a, const LatLng& b);

// Initial azimuth of the geodesic from a to b, degrees clockwise from north.
double GeodesicAzimuth(const LatLng& a, const LatLng& b);

// The point reached from `origin` after `distance_m` along the geodesic that
// leaves it at `azimuth_deg` (clockwise from north).
LatLng GeodesicDestination(const LatLng& origin, double azimuth_deg,
                           double distance_m);

// The point `distance_m` along the geodesic from a towards b (may lie beyond
// b, or before a for a negative distance).
LatLng GeodesicInterpolate(const LatLng& a, const LatLng& b, double distance_m);

// Earth-centred, earth-fixed coordinates of a point on the ellipsoid surface,
// metres.
Vec3 ToEcef(const LatLng& p);

// Straight-line (chord) distance between two ECEF points, metres. Never
// longer than the geodesic between the surface points.
double ChordLength(const Vec3& a, const Vec3& b);

// An upper bound on the geodesic length between two surface points whose
// chord is `chord_m`: c·(1 + c²/(24ρ²)) with ρ ≥ 6,335 km the smallest
// radius of curvature, computed with 20 and 6,300 km to stay a bound (15 cm
// over at 50 km). Costs nothing next to a geodesic solution (0.65 µs).
double GeodesicUpperBoundFromChord(double chord_m);

// The surface point nearest to an ECEF position (which may lie inside the
// Earth, as the mean of surface points does).
LatLng FromEcef(const Vec3& v);

// Shortest distance, metres, from p to the geodesic segment a-b (geodesic
// edge model). Exact: the foot of the perpendicular is found by iterating a
// gnomonic projection centred on the current estimate (Karney 2013, §8), in
// which the segment is exactly straight through the origin.
// REQUIRES: p, a, b within a few thousand km of each other; a != b.
double DistanceToGeodesicSegment(const LatLng& p, const LatLng& a,
                                 const LatLng& b);

// Signed area, square metres, of the polygon whose edges are the geodesics
// between consecutive vertices (closed implicitly). Positive when the
// vertices run counter-clockwise seen from above.
double GeodesicPolygonArea(const std::vector<LatLng>& vertices);

// The ellipsoidal gnomonic projection centred on a point (Karney 2013, §8).
// Geodesics through the centre map to exactly straight lines, and all other
// geodesics to lines that are straight within 0.14 mm for points within
// 100 km of the centre (9 µm within 50 km; measured, see docs/geometry.md).
// The projection is conformal at the centre and stretches distances away
// from it by about 1 + (d/R)².
//
// Thread-safe: immutable after construction.
class GnomonicProjection {
 public:
  explicit GnomonicProjection(const LatLng& centre);

  const LatLng& centre() const { return centre_; }

  // Metres east (x) and north (y) on the tangent plane at the centre.
  // REQUIRES: p less than 90° of arc from the centre.
  Vec2 Forward(const LatLng& p) const;
  LatLng Reverse(const Vec2& v) const;

 private:
  LatLng centre_;
};

// A local Cartesian frame tangent to the ellipsoid at an origin: x east,
// y north, z up along the ellipsoid normal at the origin, metres (what
// GeographicLib::LocalCartesian computes). Exact: a rotation and translation
// of earth-centred coordinates, so straight-line distances are preserved.
// "Up" is the origin's: a point at the origin's altitude `d` metres away lies
// about d²/2R below the x-y plane (7.8 mm at 316 m, 7.8 m at 10 km).
//
// Thread-safe: immutable after construction.
class LocalCartesianFrame {
 public:
  // `altitude_m` above the WGS84 ellipsoid.
  explicit LocalCartesianFrame(const LatLng& origin, double altitude_m = 0);

  const LatLng& origin() const { return origin_; }

  // The point at `p`, `altitude_m` above the ellipsoid, in this frame.
  Vec3 Forward(const LatLng& p, double altitude_m) const;

  // A vector given in the east-north-up frame at `p` (a velocity, say),
  // expressed in this frame. Preserves length.
  Vec3 Rotate(const LatLng& p, const Vec3& enu_at_p) const;

 private:
  LatLng origin_;
  Vec3 origin_ecef_;
  double enu_to_ecef_[9];  // row-major; columns are east, north, up in ECEF
};

}  // namespace utm::geo

#endif  // UTM_GEO_GEODESY_H_
