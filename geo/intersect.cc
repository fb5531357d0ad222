#include "geo/intersect.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <boost/geometry.hpp>
#include <boost/geometry/geometries/point_xy.hpp>
#include <boost/geometry/geometries/ring.hpp>

#include "geo/planar.h"

namespace utm::geo {
namespace {

namespace bg = boost::geometry;
using BPoint = bg::model::d2::point_xy<double>;
// Counter-clockwise, open (the first vertex is not repeated).
using BRing = bg::model::ring<BPoint, /*ClockWise=*/false, /*Closed=*/false>;

// Each footprint is projected onto the gnomonic plane at a point near the
// pair, where geodesic edges are straight to within 0.14 mm (all points lie
// within 100 km of the centre for footprints that pass validation). Planar
// distances there exceed true ones by a relative 1e-4 at most, which is far
// below the contact tolerance at the distances that matter.
BRing ProjectRing(const GnomonicProjection& proj,
                  const std::vector<LatLng>& vertices) {
  BRing ring;
  ring.reserve(vertices.size());
  for (const LatLng& v : vertices) {
    const Vec2 p = proj.Forward(v);
    ring.emplace_back(p.x, p.y);
  }
  if (bg::area(ring) < 0) std::reverse(ring.begin(), ring.end());
  return ring;
}

bool PolygonsIntersect(const Polygon& a, const Polygon& b,
                       const LatLng& centre) {
  const GnomonicProjection proj(centre);
  const BRing ra = ProjectRing(proj, a.vertices);
  const BRing rb = ProjectRing(proj, b.vertices);
  if (bg::intersects(ra, rb)) return true;
  return bg::distance(ra, rb) <= kContactToleranceM;
}

// Upper bound on the gnomonic radius ρ of a point at geodesic distance s from
// the centre: ρ = m12/M21 ≈ s + K s³/3 with Gaussian curvature
// K ≤ 1/(6335 km · 6378 km); 1/2 instead of 1/3 and a millimetre for the
// straightness of projected edges keep it an upper bound.
double GnomonicRadiusUpperBound(double s) {
  const double x = s / kEarthMinCurvatureRadiusM;
  return s * (1 + 0.5 * x * x) + 1e-3;
}

bool PolygonCircleIntersect(const Polygon& polygon, const Circle& circle) {
  const GnomonicProjection proj(circle.center);
  std::vector<Vec2> ring;
  ring.reserve(polygon.vertices.size());
  for (const LatLng& v : polygon.vertices) ring.push_back(proj.Forward(v));
  const Vec2 origin{0, 0};
  if (RingContains(ring, origin)) return true;
  const double reach = circle.radius_m + kContactToleranceM;
  const double rho_limit = GnomonicRadiusUpperBound(reach);
  const size_t n = ring.size();
  for (size_t i = 0; i < n; ++i) {
    const size_t j = (i + 1) % n;
    // The planar test only discards edges that are certainly out of reach;
    // the decision is made on the true geodesic distance.
    if (PointSegmentDistance(origin, ring[i], ring[j]) > rho_limit) continue;
    if (DistanceToGeodesicSegment(circle.center, polygon.vertices[i],
                                  polygon.vertices[j]) <= reach) {
      return true;
    }
  }
  return false;
}

double Chord(const Vec3& a, const Vec3& b) {
  return std::sqrt((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y) +
                   (a.z - b.z) * (a.z - b.z));
}

}  // namespace

std::optional<TimeWindow> TimeOverlap(const TimeWindow& a,
                                      const TimeWindow& b) {
  const absl::Time start = std::max(a.start, b.start);
  const absl::Time end = std::min(a.end, b.end);
  if (start > end) return std::nullopt;
  return TimeWindow{start, end};
}

std::optional<AltitudeBand> AltitudeOverlap(const AltitudeBand& a,
                                            const AltitudeBand& b) {
  const double lower = std::max(a.lower_m, b.lower_m);
  const double upper = std::min(a.upper_m, b.upper_m);
  if (lower > upper) return std::nullopt;
  return AltitudeBand{lower, upper};
}

PreparedFootprint PrepareFootprint(Footprint footprint) {
  PreparedFootprint p;
  p.cap = ComputeBoundingCap(footprint);
  p.cap_center_ecef = ToEcef(p.cap.center);
  p.footprint = std::move(footprint);
  return p;
}

bool FootprintsIntersect(const PreparedFootprint& a,
                         const PreparedFootprint& b) {
  // A chord is never longer than the geodesic between its ends, so caps
  // whose centres are farther apart than the radii by chord are disjoint.
  if (Chord(a.cap_center_ecef, b.cap_center_ecef) >
      a.cap.radius_m + b.cap.radius_m + kContactToleranceM) {
    return false;
  }
  const Circle* ca = std::get_if<Circle>(&a.footprint);
  const Circle* cb = std::get_if<Circle>(&b.footprint);
  if (ca != nullptr && cb != nullptr) {
    return GeodesicDistance(ca->center, cb->center) <=
           ca->radius_m + cb->radius_m + kContactToleranceM;
  }
  if (ca != nullptr) {
    return PolygonCircleIntersect(std::get<Polygon>(b.footprint), *ca);
  }
  if (cb != nullptr) {
    return PolygonCircleIntersect(std::get<Polygon>(a.footprint), *cb);
  }
  const Vec3 mid{0.5 * (a.cap_center_ecef.x + b.cap_center_ecef.x),
                 0.5 * (a.cap_center_ecef.y + b.cap_center_ecef.y),
                 0.5 * (a.cap_center_ecef.z + b.cap_center_ecef.z)};
  return PolygonsIntersect(std::get<Polygon>(a.footprint),
                           std::get<Polygon>(b.footprint), FromEcef(mid));
}

bool FootprintsIntersect(const Footprint& a, const Footprint& b) {
  return FootprintsIntersect(PrepareFootprint(a), PrepareFootprint(b));
}

std::optional<Overlap4D> Intersect(const Volume4D& a, const Volume4D& b) {
  std::optional<TimeWindow> time = TimeOverlap(a.time, b.time);
  if (!time) return std::nullopt;
  std::optional<AltitudeBand> altitude =
      AltitudeOverlap(a.volume.altitude, b.volume.altitude);
  if (!altitude) return std::nullopt;
  if (!FootprintsIntersect(a.volume.footprint, b.volume.footprint)) {
    return std::nullopt;
  }
  return Overlap4D{*time, *altitude};
}

}  // namespace utm::geo
