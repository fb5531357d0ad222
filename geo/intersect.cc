#include "geo/intersect.h"

#include <algorithm>
#include <boost/geometry.hpp>
#include <boost/geometry/geometries/point_xy.hpp>
#include <boost/geometry/geometries/polygon.hpp>
#include <boost/geometry/geometries/ring.hpp>
#include <cmath>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "geo/edge_index.h"
#include "geo/planar.h"

namespace utm::geo {
namespace {

namespace bg = boost::geometry;
using BPoint = bg::model::d2::point_xy<double>;
// Counter-clockwise, open (the first vertex is not repeated).
using BRing = bg::model::ring<BPoint, /*ClockWise=*/false, /*Closed=*/false>;
using BPolygon =
    bg::model::polygon<BPoint, /*ClockWise=*/false, /*Closed=*/false>;

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

// ---------------------------------------------------------------------------
// Fast path: a central projection (from the Earth's centre onto the plane
// tangent at a point near the pair). It maps every great ellipse (plane
// section through the centre) to a straight line, costs a few multiplications
// per vertex from precomputed ECEF coordinates, and decides most pairs. Its
// straight edges are great ellipses, not geodesics, so each decision needs a
// margin; a pair within the margin goes to the exact gnomonic path below.
//
// Error terms, measured on 20,000 random cases each (docs/geometry.md):
//  - a geodesic of length L strays from the great ellipse through its ends by
//    at most 6.6e-11·L² metres (0.66 mm at 1 km... 0.66 m at 100 km); we use
//    kGreatEllipseK = 1.5e-10 per metre;
//  - a point at geodesic distance s from the plane's tangent point lies at
//    planar radius ρ with |ρ/s − 1| ≤ 2.6e-10·s + 0.35·(s/6.3e6)²; we use
//    twice that (CentralScaleError).

enum class Decision { kIntersect, kDisjoint, kUnsure };

constexpr double kGreatEllipseK = 1.5e-10;
// Fast-path verdicts stay this far (metres) from the contact tolerance.
constexpr double kFastSlackM = 1e-3;
// Above this many edge pairs the O(n·m) fast path (mostly box rejections at
// ~2 ns each) would cost more than the sweep-based exact path.
constexpr size_t kFastMaxEdgePairs = 1 << 16;

double CentralScaleError(double s) {
  const double x = s / 6.3e6;
  return 6e-10 * s + 0.7 * x * x + 1e-9;
}

double Dot(const Vec3& a, const Vec3& b) {
  return a.x * b.x + a.y * b.y + a.z * b.z;
}

class CentralPlane {
 public:
  explicit CentralPlane(const LatLng& tangent_point) {
    const double lat = tangent_point.lat_deg * M_PI / 180;
    const double lng = tangent_point.lng_deg * M_PI / 180;
    up_ = {std::cos(lat) * std::cos(lng), std::cos(lat) * std::sin(lng),
           std::sin(lat)};
    east_ = {-std::sin(lng), std::cos(lng), 0};
    north_ = {-std::sin(lat) * std::cos(lng), -std::sin(lat) * std::sin(lng),
              std::cos(lat)};
    centre_ = ToEcef(tangent_point);
    height_ = Dot(centre_, up_);
  }

  Vec2 Project(const Vec3& p) const {
    const double f = height_ / Dot(p, up_);
    const Vec3 q{f * p.x - centre_.x, f * p.y - centre_.y, f * p.z - centre_.z};
    return {Dot(q, east_), Dot(q, north_)};
  }

 private:
  Vec3 up_, east_, north_, centre_;
  double height_;
};

std::vector<Vec2> ProjectAll(const CentralPlane& plane,
                             const std::vector<Vec3>& points) {
  std::vector<Vec2> out;
  out.reserve(points.size());
  for (const Vec3& p : points) out.push_back(plane.Project(p));
  return out;
}

// Some vertex of `ring` lies inside `other` farther than `margin` from its
// boundary.
bool HasDeepVertex(const std::vector<Vec2>& ring,
                   const std::vector<Vec2>& other, double margin) {
  for (const Vec2& p : ring) {
    if (RingContains(other, p) && DistanceToRing(other, p) > margin) {
      return true;
    }
  }
  return false;
}

Decision PolygonsFast(const PreparedFootprint& a, const PreparedFootprint& b,
                      const LatLng& centre) {
  const CentralPlane plane(centre);
  const std::vector<Vec2> pa = ProjectAll(plane, a.vertices_ecef);
  const std::vector<Vec2> pb = ProjectAll(plane, b.vertices_ecef);
  const double longest = std::max(a.max_edge_m, b.max_edge_m);
  // Each true edge lies within kGreatEllipseK·L² of its planar image (times
  // the scale, < 1.0002 within the reach limits); two edges may stray towards
  // each other.
  const double margin = 2.0005 * kGreatEllipseK * longest * longest +
                        kContactToleranceM + kFastSlackM;
  const size_t n = pa.size(), m = pb.size();
  // Edge bounding boxes of b grown by the margin: most edge pairs are told
  // apart by them without any arithmetic on lines.
  struct Box {
    double x0, y0, x1, y1;
  };
  std::vector<Box> boxes_b(m);
  for (size_t j = 0; j < m; ++j) {
    const Vec2& q0 = pb[j];
    const Vec2& q1 = pb[(j + 1) % m];
    boxes_b[j] = {std::min(q0.x, q1.x) - margin, std::min(q0.y, q1.y) - margin,
                  std::max(q0.x, q1.x) + margin, std::max(q0.y, q1.y) + margin};
  }
  bool near = false;  // some pair of edges within the margin
  for (size_t i = 0; i < n; ++i) {
    const Vec2& p0 = pa[i];
    const Vec2& p1 = pa[(i + 1) % n];
    const double px0 = std::min(p0.x, p1.x), px1 = std::max(p0.x, p1.x);
    const double py0 = std::min(p0.y, p1.y), py1 = std::max(p0.y, p1.y);
    double len_p = -1;
    for (size_t j = 0; j < m; ++j) {
      const Box& bq = boxes_b[j];
      if (px1 < bq.x0 || px0 > bq.x1 || py1 < bq.y0 || py0 > bq.y1) continue;
      const Vec2& q0 = pb[j];
      const Vec2& q1 = pb[(j + 1) % m];
      if (len_p < 0) len_p = std::hypot(p1.x - p0.x, p1.y - p0.y);
      const double len_q = std::hypot(q1.x - q0.x, q1.y - q0.y);
      // Signed distances of each segment's ends from the other's line. When
      // every end is beyond the margin, on opposite sides, the true edges
      // cross too: perturbing each by less than the margin cannot undo it.
      const double d1 = Orient(p0, p1, q0) / len_p;
      const double d2 = Orient(p0, p1, q1) / len_p;
      const double d3 = Orient(q0, q1, p0) / len_q;
      const double d4 = Orient(q0, q1, p1) / len_q;
      if (d1 * d2 < 0 && d3 * d4 < 0 &&
          std::min({std::fabs(d1), std::fabs(d2), std::fabs(d3),
                    std::fabs(d4)}) > margin) {
        return Decision::kIntersect;
      }
      if (!near && SegmentSegmentDistance(p0, p1, q0, q1) <= margin) {
        near = true;
      }
    }
  }
  if (!near) {
    // The boundaries are apart by more than any edge can stray, so the
    // footprints meet only if one holds the other, and each vertex is far
    // from the other boundary, so the planar containment test is right.
    return RingContains(pb, pa[0]) || RingContains(pa, pb[0])
               ? Decision::kIntersect
               : Decision::kDisjoint;
  }
  if (HasDeepVertex(pa, pb, margin) || HasDeepVertex(pb, pa, margin)) {
    return Decision::kIntersect;
  }
  return Decision::kUnsure;
}

Decision PolygonCircleFast(const PreparedFootprint& polygon,
                           const Circle& circle) {
  const CentralPlane plane(circle.center);
  const std::vector<Vec2> ring = ProjectAll(plane, polygon.vertices_ecef);
  const Vec2 origin{0, 0};
  const double rho = DistanceToRing(ring, origin);
  // The true boundary lies within `stray` of the planar one.
  const double stray =
      1.0002 * kGreatEllipseK * polygon.max_edge_m * polygon.max_edge_m;
  const bool inside = RingContains(ring, origin);
  if (inside && rho > stray + kFastSlackM) return Decision::kIntersect;
  // Bounds on the true distance from the centre to the boundary.
  const double eps =
      CentralScaleError(std::max(rho, circle.radius_m) + stray + 1);
  const double lo = (rho - stray) / (1 + eps);
  const double hi = (rho + stray) / (1 - eps);
  if (!inside && lo > circle.radius_m + kContactToleranceM + kFastSlackM) {
    return Decision::kDisjoint;
  }
  if (hi < circle.radius_m - kFastSlackM) return Decision::kIntersect;
  return Decision::kUnsure;
}

// ---------------------------------------------------------------------------
// Exact path.

// Holes run clockwise in a counter-clockwise polygon.
BPolygon ProjectPolygon(const GnomonicProjection& proj,
                        const Polygon& polygon) {
  BPolygon out;
  out.outer() = ProjectRing(proj, polygon.vertices);
  for (const std::vector<LatLng>& hole : polygon.holes) {
    out.inners().push_back(ProjectRing(proj, hole));
    std::reverse(out.inners().back().begin(), out.inners().back().end());
  }
  return out;
}

bool PolygonsIntersect(const Polygon& a, const Polygon& b,
                       const LatLng& centre) {
  const GnomonicProjection proj(centre);
  if (a.holes.empty() && b.holes.empty()) {
    const BRing ra = ProjectRing(proj, a.vertices);
    const BRing rb = ProjectRing(proj, b.vertices);
    if (bg::intersects(ra, rb)) return true;
    return bg::distance(ra, rb) <= kContactToleranceM;
  }
  // Distance between polygons with holes is the distance between their
  // boundaries, holes' included, once they do not intersect.
  const BPolygon pa = ProjectPolygon(proj, a);
  const BPolygon pb = ProjectPolygon(proj, b);
  if (bg::intersects(pa, pb)) return true;
  return bg::distance(pa, pb) <= kContactToleranceM;
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
  std::vector<const std::vector<LatLng>*> sources{&polygon.vertices};
  for (const std::vector<LatLng>& hole : polygon.holes) {
    sources.push_back(&hole);
  }
  std::vector<std::vector<Vec2>> rings(sources.size());
  for (size_t r = 0; r < sources.size(); ++r) {
    rings[r].reserve(sources[r]->size());
    for (const LatLng& v : *sources[r]) rings[r].push_back(proj.Forward(v));
  }
  const Vec2 origin{0, 0};
  // The centre in the region: they meet. Otherwise (outside the outer ring or
  // inside a hole) they meet when the rim reaches some boundary.
  if (RingsContain(rings, origin)) return true;
  const double reach = circle.radius_m + kContactToleranceM;
  const double rho_limit = GnomonicRadiusUpperBound(reach);
  for (size_t r = 0; r < rings.size(); ++r) {
    const std::vector<Vec2>& ring = rings[r];
    const std::vector<LatLng>& vertices = *sources[r];
    const size_t n = ring.size();
    for (size_t i = 0; i < n; ++i) {
      const size_t j = (i + 1) % n;
      // The planar test only discards edges that are certainly out of reach;
      // the decision is made on the true geodesic distance.
      if (PointSegmentDistance(origin, ring[i], ring[j]) > rho_limit) continue;
      if (DistanceToGeodesicSegment(circle.center, vertices[i], vertices[j]) <=
          reach) {
        return true;
      }
    }
  }
  return false;
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

PrepareOptions::PrepareOptions()
    : edge_index_min_vertices(kEdgeIndexMinVertices) {}

PreparedFootprint PrepareFootprint(Footprint footprint,
                                   const PrepareOptions& options) {
  PreparedFootprint p;
  if (const Polygon* polygon = std::get_if<Polygon>(&footprint)) {
    // ECEF once, for both the cap and the fast filter.
    p.vertices_ecef.reserve(polygon->vertices.size());
    for (const LatLng& v : polygon->vertices) {
      p.vertices_ecef.push_back(ToEcef(v));
    }
    p.cap = PolygonBoundingCap(p.vertices_ecef);
    double longest_chord = 0;
    for (size_t i = 0, n = p.vertices_ecef.size(); i < n; ++i) {
      longest_chord = std::max(
          longest_chord,
          ChordLength(p.vertices_ecef[i], p.vertices_ecef[(i + 1) % n]));
    }
    p.max_edge_m = GeodesicUpperBoundFromChord(longest_chord);
    if (VertexCount(*polygon) >=
            static_cast<size_t>(std::max(0, options.edge_index_min_vertices)) ||
        (options.index_holes && !polygon->holes.empty())) {
      p.edge_index = std::make_shared<const EdgeIndex>(*polygon, p.cap.center);
    }
  } else {
    p.cap = ComputeBoundingCap(footprint);
  }
  p.cap_center_ecef = ToEcef(p.cap.center);
  p.footprint = std::move(footprint);
  return p;
}

namespace {

// The index projects every vertex of the other footprint with the exact
// gnomonic projection (about 0.5 µs each, against a few ns for the fast
// filter's central projection), so it decides only against footprints of
// at most 1/kIndexVertexRatio of the indexed polygon's vertices.
constexpr size_t kIndexVertexRatio = 16;

// Which of the two, if either, has an edge index whose cap (grown by
// kIndexSlackM) holds the other, much smaller, footprint: the index then
// decides.
const PreparedFootprint* IndexedCover(const PreparedFootprint& a,
                                      const PreparedFootprint& b,
                                      double centre_distance_m) {
  const PreparedFootprint* best = nullptr;
  for (const auto& [x, y] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
    if (x->edge_index == nullptr) continue;
    if (centre_distance_m + y->cap.radius_m > x->cap.radius_m + kIndexSlackM) {
      continue;
    }
    if (const Polygon* other = std::get_if<Polygon>(&y->footprint);
        other != nullptr &&
        VertexCount(*other) * kIndexVertexRatio > x->edge_index->edge_count()) {
      continue;
    }
    if (best == nullptr || x->cap.radius_m > best->cap.radius_m) best = x;
  }
  return best;
}

}  // namespace

bool FootprintsIntersect(const PreparedFootprint& a,
                         const PreparedFootprint& b) {
  // A chord is never longer than the geodesic between its ends, so caps
  // whose centres are farther apart than the radii by chord are disjoint.
  const double chord = ChordLength(a.cap_center_ecef, b.cap_center_ecef);
  if (chord > a.cap.radius_m + b.cap.radius_m + kContactToleranceM) {
    return false;
  }
  if (a.edge_index != nullptr || b.edge_index != nullptr) {
    if (const PreparedFootprint* big =
            IndexedCover(a, b, GeodesicUpperBoundFromChord(chord))) {
      const PreparedFootprint& other = big == &a ? b : a;
      if (const Circle* c = std::get_if<Circle>(&other.footprint)) {
        return IndexedIntersectsCircle(*big->edge_index, *c);
      }
      return IndexedIntersectsPolygon(*big->edge_index,
                                      std::get<Polygon>(other.footprint));
    }
  }
  const Circle* ca = std::get_if<Circle>(&a.footprint);
  const Circle* cb = std::get_if<Circle>(&b.footprint);
  if (ca != nullptr && cb != nullptr) {
    const double reach = ca->radius_m + cb->radius_m;
    // The caps of circles are centred on them, so the chord joins the
    // centres and bounds their geodesic distance from above.
    if (GeodesicUpperBoundFromChord(ChordLength(
            a.cap_center_ecef, b.cap_center_ecef)) < reach - kFastSlackM) {
      return true;
    }
    return GeodesicDistance(ca->center, cb->center) <=
           reach + kContactToleranceM;
  }
  if (ca != nullptr || cb != nullptr) {
    const PreparedFootprint& polygon = ca != nullptr ? b : a;
    const Circle& circle = ca != nullptr ? *ca : *cb;
    const Polygon& p = std::get<Polygon>(polygon.footprint);
    // The fast filter knows the outer ring only.
    if (p.holes.empty()) {
      const Decision fast = PolygonCircleFast(polygon, circle);
      if (fast != Decision::kUnsure) return fast == Decision::kIntersect;
    }
    return PolygonCircleIntersect(p, circle);
  }
  const Vec3 mid{0.5 * (a.cap_center_ecef.x + b.cap_center_ecef.x),
                 0.5 * (a.cap_center_ecef.y + b.cap_center_ecef.y),
                 0.5 * (a.cap_center_ecef.z + b.cap_center_ecef.z)};
  const LatLng centre = FromEcef(mid);
  const Polygon& pa = std::get<Polygon>(a.footprint);
  const Polygon& pb = std::get<Polygon>(b.footprint);
  if (pa.holes.empty() && pb.holes.empty() &&
      a.vertices_ecef.size() * b.vertices_ecef.size() <= kFastMaxEdgePairs) {
    const Decision fast = PolygonsFast(a, b, centre);
    if (fast != Decision::kUnsure) return fast == Decision::kIntersect;
  }
  return PolygonsIntersect(pa, pb, centre);
}

bool FootprintsIntersect(const Footprint& a, const Footprint& b) {
  PrepareOptions options;
  options.edge_index_min_vertices = std::numeric_limits<int>::max();
  options.index_holes = false;
  return FootprintsIntersect(PrepareFootprint(a, options),
                             PrepareFootprint(b, options));
}

double DistanceToPolygonBoundary(const LatLng& p, const Polygon& polygon) {
  double best = std::numeric_limits<double>::infinity();
  auto ring_distance = [&](const std::vector<LatLng>& ring) {
    for (size_t i = 0, n = ring.size(); i < n; ++i) {
      best = std::min(best,
                      DistanceToGeodesicSegment(p, ring[i], ring[(i + 1) % n]));
    }
  };
  ring_distance(polygon.vertices);
  for (const std::vector<LatLng>& hole : polygon.holes) ring_distance(hole);
  return best;
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
