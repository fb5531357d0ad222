#include "geo/geodesy.h"

#include <GeographicLib/Geocentric.hpp>
#include <GeographicLib/Geodesic.hpp>
#include <GeographicLib/GeodesicLine.hpp>
#include <GeographicLib/Gnomonic.hpp>
#include <GeographicLib/PolygonArea.hpp>
#include <algorithm>
#include <cmath>

namespace utm::geo {
namespace {

using GeographicLib::Geodesic;
using GeographicLib::GeodesicLine;

const Geodesic& Wgs84() { return Geodesic::WGS84(); }

const GeographicLib::Gnomonic& Gnomonic() {
  static const GeographicLib::Gnomonic* const kGnomonic =
      new GeographicLib::Gnomonic(Geodesic::WGS84());
  return *kGnomonic;
}

constexpr double kDegToRad = M_PI / 180.0;

}  // namespace

double GeodesicDistance(const LatLng& a, const LatLng& b) {
  double s12;
  Wgs84().Inverse(a.lat_deg, a.lng_deg, b.lat_deg, b.lng_deg, s12);
  return s12;
}

double GeodesicAzimuth(const LatLng& a, const LatLng& b) {
  double azi1, azi2;
  Wgs84().Inverse(a.lat_deg, a.lng_deg, b.lat_deg, b.lng_deg, azi1, azi2);
  return azi1;
}

LatLng GeodesicDestination(const LatLng& origin, double azimuth_deg,
                           double distance_m) {
  LatLng out;
  Wgs84().Direct(origin.lat_deg, origin.lng_deg, azimuth_deg, distance_m,
                 out.lat_deg, out.lng_deg);
  return out;
}

LatLng GeodesicInterpolate(const LatLng& a, const LatLng& b,
                           double distance_m) {
  return GeodesicDestination(a, GeodesicAzimuth(a, b), distance_m);
}

Vec3 ToEcef(const LatLng& p) {
  Vec3 v;
  GeographicLib::Geocentric::WGS84().Forward(p.lat_deg, p.lng_deg, 0.0, v.x,
                                             v.y, v.z);
  return v;
}

double ChordLength(const Vec3& a, const Vec3& b) {
  return std::sqrt((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y) +
                   (a.z - b.z) * (a.z - b.z));
}

double GeodesicUpperBoundFromChord(double chord_m) {
  const double x = chord_m / 6.3e6;
  return chord_m * (1 + x * x / 20);
}

LatLng FromEcef(const Vec3& v) {
  LatLng p;
  double h;
  GeographicLib::Geocentric::WGS84().Reverse(v.x, v.y, v.z, p.lat_deg,
                                             p.lng_deg, h);
  return p;
}

double DistanceToGeodesicSegment(const LatLng& p, const LatLng& a,
                                 const LatLng& b) {
  double s12, azi1, azi2;
  Wgs84().Inverse(a.lat_deg, a.lng_deg, b.lat_deg, b.lng_deg, s12, azi1, azi2);
  const GeodesicLine line =
      Wgs84().Line(a.lat_deg, a.lng_deg, azi1,
                   Geodesic::LATITUDE | Geodesic::LONGITUDE |
                       Geodesic::AZIMUTH | Geodesic::DISTANCE_IN);
  // t is the distance from a along the (unbounded) geodesic of the current
  // estimate of the foot of the perpendicular from p. In the gnomonic
  // projection centred on the estimate, the geodesic is exactly the straight
  // line through the origin along its azimuth, and the projection is
  // conformal there, so the along-track coordinate of p is zero exactly at
  // the foot. Each step moves by that coordinate; the error shrinks by a
  // factor of about (d/R)² per step, so two or three steps reach nanometres.
  double t = 0.5 * s12;
  for (int i = 0; i < 50; ++i) {
    double lat, lng, azi;
    line.Position(t, lat, lng, azi);
    double x, y, azi_unused, rk_unused;
    Gnomonic().Forward(lat, lng, p.lat_deg, p.lng_deg, x, y, azi_unused,
                       rk_unused);
    const double u =
        x * std::sin(azi * kDegToRad) + y * std::cos(azi * kDegToRad);
    if (!std::isfinite(u)) break;
    t += u;
    if (std::fabs(u) < 1e-9) break;
  }
  if (t > 0 && t < s12) {
    double lat, lng;
    line.Position(t, lat, lng);
    return GeodesicDistance(p, {lat, lng});
  }
  // The foot lies beyond an end, so the nearest point of the segment is an
  // end point; take the nearer to be safe against a foot found just outside.
  return std::min(GeodesicDistance(p, a), GeodesicDistance(p, b));
}

double GeodesicPolygonArea(const std::vector<LatLng>& vertices) {
  GeographicLib::PolygonArea poly(Wgs84(), /*polyline=*/false);
  for (const LatLng& v : vertices) poly.AddPoint(v.lat_deg, v.lng_deg);
  double perimeter, area;
  poly.Compute(/*reverse=*/false, /*sign=*/true, perimeter, area);
  return area;
}

GnomonicProjection::GnomonicProjection(const LatLng& centre)
    : centre_(centre) {}

Vec2 GnomonicProjection::Forward(const LatLng& p) const {
  Vec2 v;
  double azi, rk;
  Gnomonic().Forward(centre_.lat_deg, centre_.lng_deg, p.lat_deg, p.lng_deg,
                     v.x, v.y, azi, rk);
  return v;
}

LatLng GnomonicProjection::Reverse(const Vec2& v) const {
  LatLng p;
  double azi, rk;
  Gnomonic().Reverse(centre_.lat_deg, centre_.lng_deg, v.x, v.y, p.lat_deg,
                     p.lng_deg, azi, rk);
  return p;
}

namespace {

// ECEF position of (p, altitude_m) and, in m, the row-major rotation from the
// east-north-up frame at p to ECEF.
Vec3 EcefWithRotation(const LatLng& p, double altitude_m, double m[9]) {
  std::vector<double> rotation(9);
  Vec3 v;
  GeographicLib::Geocentric::WGS84().Forward(p.lat_deg, p.lng_deg, altitude_m,
                                             v.x, v.y, v.z, rotation);
  std::copy(rotation.begin(), rotation.end(), m);
  return v;
}

}  // namespace

LocalCartesianFrame::LocalCartesianFrame(const LatLng& origin,
                                         double altitude_m)
    : origin_(origin) {
  origin_ecef_ = EcefWithRotation(origin, altitude_m, enu_to_ecef_);
}

Vec3 LocalCartesianFrame::Forward(const LatLng& p, double altitude_m) const {
  Vec3 v;
  GeographicLib::Geocentric::WGS84().Forward(p.lat_deg, p.lng_deg, altitude_m,
                                             v.x, v.y, v.z);
  const double d[3] = {v.x - origin_ecef_.x, v.y - origin_ecef_.y,
                       v.z - origin_ecef_.z};
  // The inverse of a rotation is its transpose.
  const double* m = enu_to_ecef_;
  return {m[0] * d[0] + m[3] * d[1] + m[6] * d[2],
          m[1] * d[0] + m[4] * d[1] + m[7] * d[2],
          m[2] * d[0] + m[5] * d[1] + m[8] * d[2]};
}

Vec3 LocalCartesianFrame::Rotate(const LatLng& p, const Vec3& enu_at_p) const {
  double r[9];
  EcefWithRotation(p, 0, r);
  const double e[3] = {
      r[0] * enu_at_p.x + r[1] * enu_at_p.y + r[2] * enu_at_p.z,
      r[3] * enu_at_p.x + r[4] * enu_at_p.y + r[5] * enu_at_p.z,
      r[6] * enu_at_p.x + r[7] * enu_at_p.y + r[8] * enu_at_p.z};
  const double* m = enu_to_ecef_;
  return {m[0] * e[0] + m[3] * e[1] + m[6] * e[2],
          m[1] * e[0] + m[4] * e[1] + m[7] * e[2],
          m[2] * e[0] + m[5] * e[1] + m[8] * e[2]};
}

}  // namespace utm::geo
