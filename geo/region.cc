#include "geo/region.h"

#include <algorithm>
#include <boost/geometry.hpp>
#include <boost/geometry/geometries/point.hpp>
#include <boost/geometry/geometries/polygon.hpp>
#include <boost/geometry/geometries/segment.hpp>
#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "geo/geodesy.h"
#include "geo/region_index.h"

namespace utm::geo {
namespace {

namespace bg = boost::geometry;
using GPoint = bg::model::point<double, 2, bg::cs::geographic<bg::degree>>;
using GSegment = bg::model::segment<GPoint>;
using GBox = bg::model::box<GPoint>;
// Counter-clockwise and open, like our rings; bg::correct() orients them.
using GPolygon = bg::model::polygon<GPoint, /*ClockWise=*/false,
                                    /*Closed=*/false>;
using GRing = GPolygon::ring_type;

// Vincenty's geodesic solution: Boost's default (Andoyer's) places a
// 700 km edge some 30 m off the geodesic; this one to well under a
// millimetre.
using SegmentStrategy =
    bg::strategy::intersection::geographic_segments<bg::strategy::vincenty>;
using PointStrategy =
    bg::strategy::within::geographic_winding<GPoint, GPoint,
                                             bg::strategy::vincenty>;

using SideStrategy = bg::strategy::side::geographic<bg::strategy::vincenty>;

// Sides of the polygon that circumscribes a circle.
constexpr int kCircleSides = 64;

GPoint ToPoint(const LatLng& p) { return GPoint(p.lng_deg, p.lat_deg); }

GRing ToRing(const std::vector<LatLng>& vertices) {
  GRing ring;
  ring.reserve(vertices.size());
  for (const LatLng& v : vertices) ring.push_back(ToPoint(v));
  return ring;
}

// The polygon with the outer ring only: a footprint lies inside a region
// exactly when its outer ring does.
GPolygon OuterOnly(const std::vector<LatLng>& vertices) {
  GPolygon polygon;
  polygon.outer() = ToRing(vertices);
  bg::correct(polygon);
  return polygon;
}

// The 64-gon whose edges touch the circle from outside (a little farther,
// for the geodesic edges' sag), so that inside it means inside the circle.
GPolygon Circumscribed(const Circle& circle) {
  const double reach_m =
      circle.radius_m / std::cos(M_PI / kCircleSides) * 1.0001 + 0.01;
  GPolygon polygon;
  for (int i = 0; i < kCircleSides; ++i) {
    polygon.outer().push_back(ToPoint(
        GeodesicDestination(circle.center, 360.0 * i / kCircleSides, reach_m)));
  }
  bg::correct(polygon);
  return polygon;
}

std::string RingPath(absl::string_view field, size_t polygon, size_t ring) {
  return absl::StrCat(field, ": polygon ", polygon, " ring ", ring);
}

// How far, metres, beyond the geodesic's own box the indexed sweep below
// looks for an edge's partners (and a further 1e-4 of the edge's length):
// more than Boost's segment tests snap (decimetres were seen), so that no
// pair of edges they find meeting is left out.
constexpr double kSweepMarginM = 5.0;
// Fewer metres than any degree of latitude, or of longitude on the equator.
constexpr double kMetresPerDegree = 110000.0;

// The sweep's boxes of the edge from a to b, for MeetingBoxPairs as item k:
// the geodesic's boxes (GeodesicEdgeBoxes) widened by the margin above,
// wrapped at the antimeridian.
void AddSweepBoxes(uint32_t k, const LatLng& a, const LatLng& b,
                   std::vector<ItemBox>* out) {
  LngLatBox geodesic[2];
  const int count = GeodesicEdgeBoxes(a, b, geodesic);
  const double margin_m = kSweepMarginM + 1e-4 * GeodesicDistance(a, b);
  const double dlat = margin_m / kMetresPerDegree;
  for (int i = 0; i < count; ++i) {
    const double lat_lo = std::max(-90.0, geodesic[i].lat_lo - dlat);
    const double lat_hi = std::min(90.0, geodesic[i].lat_hi + dlat);
    const double cos_lat =
        std::cos(std::max(std::abs(lat_lo), std::abs(lat_hi)) * M_PI / 180.0);
    const double dlng =
        cos_lat > 1e-9 ? margin_m / (kMetresPerDegree * cos_lat) : 360.0;
    double lng_lo = geodesic[i].lng_lo - dlng;
    double lng_hi = geodesic[i].lng_hi + dlng;
    if (lng_hi - lng_lo >= 360) {
      lng_lo = -180;
      lng_hi = 180;
    }
    out->push_back(
        {k,
         {std::max(lng_lo, -180.0), std::min(lng_hi, 180.0), lat_lo, lat_hi}});
    if (lng_lo < -180) out->push_back({k, {lng_lo + 360, 180, lat_lo, lat_hi}});
    if (lng_hi > 180) out->push_back({k, {-180, lng_hi - 360, lat_lo, lat_hi}});
  }
}

// The first two edges of `ring` that share a point without being
// neighbours (or, for neighbours, overlap beyond their common vertex), as
// "edges i and j cross" for the least such (i, j); empty for a simple ring.
// Edges are paired by their latitude extent (the geodesic's, which may
// bulge beyond its ends, as Boost's envelope has it, with a margin of a
// kilometre) and swept in that order; when `indexed`, the pairs come from
// an R-tree of the edges' boxes instead (MeetingBoxPairs), still only those
// whose latitude extents overlap: O(n log n) for a border of n vertices
// rather than the sweep's near-quadratic count of pairs. Any two edges
// that meet have meeting boxes, so both find the same first pair.
std::string FindCrossing(const std::vector<LatLng>& ring, bool indexed) {
  const size_t n = ring.size();
  struct Edge {
    double lat_lo, lat_hi;
    GSegment segment;
  };
  std::vector<Edge> edges;
  edges.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    GSegment s(ToPoint(ring[i]), ToPoint(ring[(i + 1) % n]));
    GBox box;
    bg::envelope(s, box);
    // A margin for the envelope's approximate geodesic (Andoyer's).
    edges.push_back({bg::get<bg::min_corner, 1>(box) - 1e-2,
                     bg::get<bg::max_corner, 1>(box) + 1e-2, s});
  }
  // Whether edges i < j share a point as above. The edge lower in
  // latitude goes first, as the sweep by latitude has always put it.
  auto meet = [&](size_t i, size_t j) {
    const bool i_first = edges[i].lat_lo <= edges[j].lat_lo;
    const GSegment& first = edges[i_first ? i : j].segment;
    const GSegment& second = edges[i_first ? j : i].segment;
    if (j == i + 1 || (i == 0 && j == n - 1)) {
      // Neighbours meet at their common vertex; a crossing elsewhere shows
      // as more than one intersection point (or a collinear overlap).
      std::vector<GPoint> points;
      bg::intersection(first, second, points, SegmentStrategy());
      return points.size() >= 2;
    }
    return bg::intersects(first, second, SegmentStrategy());
  };
  std::pair<size_t, size_t> found = {n, n};
  if (indexed) {
    std::vector<ItemBox> boxes;
    boxes.reserve(n + n / 8);
    for (size_t i = 0; i < n; ++i) {
      AddSweepBoxes(static_cast<uint32_t>(i), ring[i], ring[(i + 1) % n],
                    &boxes);
    }
    // Sorted: the first pair that meets is the least.
    for (const auto& [i, j] : MeetingBoxPairs(boxes)) {
      const bool swept = edges[i].lat_lo <= edges[j].lat_hi &&
                         edges[j].lat_lo <= edges[i].lat_hi;
      if (swept && meet(i, j)) {
        found = {i, j};
        break;
      }
    }
  } else {
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return edges[a].lat_lo < edges[b].lat_lo;
    });
    for (size_t a = 0; a < n; ++a) {
      const Edge& ea = edges[order[a]];
      for (size_t b = a + 1; b < n && edges[order[b]].lat_lo <= ea.lat_hi;
           ++b) {
        const size_t i = std::min(order[a], order[b]);
        const size_t j = std::max(order[a], order[b]);
        if (std::make_pair(i, j) < found && meet(i, j)) found = {i, j};
      }
    }
  }
  if (found.first == n) return "";
  return absl::StrCat("edges ", found.first, " and ", found.second, " cross");
}

absl::Status ValidateRing(const std::vector<LatLng>& ring,
                          absl::string_view path, bool indexed) {
  for (size_t k = 0; k < ring.size(); ++k) {
    const LatLng& v = ring[k];
    if (!std::isfinite(v.lat_deg) || v.lat_deg < -90 || v.lat_deg > 90) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, " vertex ", k, ": latitude ", v.lat_deg, " out of [-90, 90]"));
    }
    if (!std::isfinite(v.lng_deg) || v.lng_deg < -180 || v.lng_deg > 180) {
      return absl::InvalidArgumentError(absl::StrCat(path, " vertex ", k,
                                                     ": longitude ", v.lng_deg,
                                                     " out of [-180, 180]"));
    }
    if (k > 0 && v == ring[k - 1]) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " vertex ", k, " repeats vertex ", k - 1));
    }
  }
  if (ring.size() < 3) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", ring.size(),
                     " distinct vertices; a ring needs at least 3"));
  }
  if (ring.front() == ring.back()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": the last vertex repeats the first (rings close themselves)"));
  }
  if (std::string crossing = FindCrossing(ring, indexed); !crossing.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", crossing));
  }
  GPolygon alone;
  alone.outer() = ToRing(ring);
  bg::correct(alone);
  if (!(std::abs(bg::area(alone)) > 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the ring encloses no area"));
  }
  return absl::OkStatus();
}

LatLng ToLatLng(const GPoint& p) {
  return LatLng{bg::get<1>(p), bg::get<0>(p)};
}

const GRing& RingOf(const GPolygon& polygon, uint32_t ring) {
  return ring == 0 ? polygon.outer() : polygon.inners()[ring - 1];
}

// How far, metres, each end of two crossing edges must lie from the other
// edge for a crossing to count: Boost's segment tests snap points closer
// than that (decimetres were seen) and may call the pair touching.
constexpr double kCrossingClearanceM = 1.0;

// Whether edges a and b cross clearly: they meet at one point inside both,
// each having its ends strictly on the two sides of the other and at least
// kCrossingClearanceM from it. Then the footprint edge has points strictly
// outside the boundary's polygon: that polygon does not hold it. Touching
// (an end on or near the other edge, or collinear) is not crossing.
bool Crosses(const GSegment& a, const GSegment& b) {
  const SideStrategy side;
  if (side.apply(b.first, b.second, a.first) *
              side.apply(b.first, b.second, a.second) >=
          0 ||
      side.apply(a.first, a.second, b.first) *
              side.apply(a.first, a.second, b.second) >=
          0) {
    return false;
  }
  std::vector<GPoint> points;
  bg::intersection(a, b, points, SegmentStrategy());
  if (points.size() != 1) return false;
  const LatLng at = ToLatLng(points[0]);
  const LatLng a1 = ToLatLng(a.first), a2 = ToLatLng(a.second);
  const LatLng b1 = ToLatLng(b.first), b2 = ToLatLng(b.second);
  // An end at distance d from the crossing lies d·sin(angle) from the
  // other edge.
  const double angle =
      (GeodesicAzimuth(at, a2) - GeodesicAzimuth(at, b2)) * M_PI / 180.0;
  const double reach =
      std::min({GeodesicDistance(at, a1), GeodesicDistance(at, a2),
                GeodesicDistance(at, b1), GeodesicDistance(at, b2)});
  return reach * std::abs(std::sin(angle)) >= kCrossingClearanceM;
}

}  // namespace

struct Region::Prepared {
  std::vector<Polygon> polygons;
  std::vector<GPolygon> shapes;  // polygons, oriented for Boost
  int vertex_count = 0;
  // The edges of `shapes`, as oriented there.
  std::unique_ptr<const RegionEdgeIndex> index;
};

namespace {

// For each polygon of the region whose edges the index files in the
// point's columns, the point's place: 1 inside, 0 on the boundary, -1
// outside; polygons left out are those the point lies outside of.
//
// This is Boost.Geometry's point-in-polygon test (covered_by with the
// winding strategy: the outer ring, then each hole) run over the edges the
// winding count can hear from: those whose longitude range holds the
// point's longitude or the opposite one (it counts crossings of both, for
// rings around a pole). Every other edge adds nothing to the count, so the
// answer is the one from all edges.
void PointPlaces(const std::vector<GPolygon>& shapes,
                 const RegionEdgeIndex& index, const GPoint& point,
                 std::vector<std::pair<uint32_t, int>>* out) {
  std::vector<uint32_t> ids;
  const double lng = bg::get<0>(point);
  index.EdgesAtLongitude(lng, &ids);
  index.EdgesAtLongitude(lng + (lng <= 0 ? 180 : -180), &ids);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const PointStrategy strategy;
  size_t i = 0;
  while (i < ids.size()) {
    const uint32_t polygon = index.edge(ids[i]).polygon;
    const GPolygon& shape = shapes[polygon];
    // No edge of the outer ring in the columns: its count is 0, outside.
    int place = index.edge(ids[i]).ring == 0 ? 1 : -1;
    bool decided = place == -1;
    while (i < ids.size() && index.edge(ids[i]).polygon == polygon) {
      const uint32_t ring = index.edge(ids[i]).ring;
      const GRing& points = RingOf(shape, ring);
      PointStrategy::state_type state;
      bool counting = true;
      for (; i < ids.size() && index.edge(ids[i]).polygon == polygon &&
             index.edge(ids[i]).ring == ring;
           ++i) {
        if (!counting || decided) continue;
        const uint32_t k = index.edge(ids[i]).vertex;
        // Boost walks our counter-clockwise rings backwards (its winding
        // count expects clockwise ones), so each edge from its end to its
        // start. False once the point is found on the edge: the ring's
        // answer is then 0 whatever follows.
        counting = strategy.apply(point, points[(k + 1) % points.size()],
                                  points[k], state);
      }
      if (decided) continue;
      const int ring_place = PointStrategy::result(state);
      if (ring == 0) {
        place = ring_place;
        decided = place != 1;
      } else if (ring_place != -1) {
        // Inside a hole is outside; on its edge is on the boundary.
        place = -ring_place;
        decided = true;
      }
    }
    out->emplace_back(polygon, place);
  }
}

// Whether a point lies in one of the boxes (longitudes compared modulo
// 360°).
bool InBoxes(const GPoint& p, const LngLatBox* boxes, int count) {
  const double lat = bg::get<1>(p), lng = bg::get<0>(p);
  for (int b = 0; b < count; ++b) {
    const LngLatBox& box = boxes[b];
    if (lat < box.lat_lo || lat > box.lat_hi) continue;
    for (double l : {lng, lng - 360, lng + 360}) {
      if (l >= box.lng_lo && l <= box.lng_hi) return true;
    }
  }
  return false;
}

// Boost's polygon-in-polygon test can miss where a very short edge crosses
// a long one (a 30 cm footprint edge across a 600 m boundary edge, 14 cm
// clear on each side, was seen): finding no crossing, it decides from one
// point of the footprint and may call a footprint that straddles the
// boundary inside. A boundary that crosses the footprint leaves a vertex of
// the footprint outside the polygon or a vertex of the polygon strictly
// inside the footprint, and Boost's point tests see those. So a polygon
// holds a footprint only when its point tests agree: this, for the
// unindexed test (the indexed one asks the same of the edges near the
// footprint). `around`: boxes holding the footprint (count 0: none known,
// every vertex of the polygon is tried).
bool PointTestsAgree(const GPolygon& footprint, const LngLatBox* around,
                     int around_count, const GPolygon& region) {
  const PointStrategy strategy;
  for (const GPoint& v : footprint.outer()) {
    if (!bg::covered_by(v, region, strategy)) return false;
  }
  for (uint32_t r = 0; r <= region.inners().size(); ++r) {
    for (const GPoint& v : RingOf(region, r)) {
      if (around_count > 0 && !InBoxes(v, around, around_count)) continue;
      if (bg::within(v, footprint, strategy)) return false;
    }
  }
  return true;
}

}  // namespace

Region::Region(std::shared_ptr<const Prepared> prepared)
    : prepared_(std::move(prepared)) {}

absl::StatusOr<Region> Region::Create(std::vector<Polygon> polygons,
                                      const RegionLimits& limits,
                                      absl::string_view field) {
  return Build(std::move(polygons), limits, field, /*indexed=*/true);
}

absl::StatusOr<Region> Region::CreateLinear(std::vector<Polygon> polygons,
                                            const RegionLimits& limits,
                                            absl::string_view field) {
  return Build(std::move(polygons), limits, field, /*indexed=*/false);
}

absl::StatusOr<Region> Region::Build(std::vector<Polygon> polygons,
                                     const RegionLimits& limits,
                                     absl::string_view field, bool indexed) {
  if (polygons.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": no polygon; a region needs at least one"));
  }
  if (polygons.size() > static_cast<size_t>(limits.max_polygons)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", polygons.size(),
                                                   " polygons; at most ",
                                                   limits.max_polygons));
  }
  size_t vertices = 0;
  for (const Polygon& p : polygons) vertices += VertexCount(p);
  if (vertices > static_cast<size_t>(limits.max_vertices)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", vertices, " vertices; at most ", limits.max_vertices));
  }
  auto prepared = std::make_shared<Prepared>();
  prepared->vertex_count = static_cast<int>(vertices);
  for (size_t i = 0; i < polygons.size(); ++i) {
    const Polygon& p = polygons[i];
    if (absl::Status s =
            ValidateRing(p.vertices, RingPath(field, i, 0), indexed);
        !s.ok()) {
      return s;
    }
    GPolygon shape;
    shape.outer() = ToRing(p.vertices);
    for (size_t h = 0; h < p.holes.size(); ++h) {
      if (absl::Status s =
              ValidateRing(p.holes[h], RingPath(field, i, h + 1), indexed);
          !s.ok()) {
        return s;
      }
      shape.inners().push_back(ToRing(p.holes[h]));
    }
    bg::correct(shape);
    // What the ring checks leave: holes outside or across the outer ring
    // or each other.
    std::string why;
    if (!bg::is_valid(shape, why)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": polygon ", i, ": ", why));
    }
    prepared->shapes.push_back(std::move(shape));
  }
  std::vector<RegionEdgeIndex::Ring> rings;
  for (size_t i = 0; i < prepared->shapes.size(); ++i) {
    const GPolygon& shape = prepared->shapes[i];
    for (size_t r = 0; r <= shape.inners().size(); ++r) {
      RegionEdgeIndex::Ring ring;
      ring.polygon = static_cast<uint32_t>(i);
      ring.ring = static_cast<uint32_t>(r);
      for (const GPoint& v : RingOf(shape, ring.ring)) {
        ring.vertices.push_back(ToLatLng(v));
      }
      rings.push_back(std::move(ring));
    }
  }
  prepared->index = std::make_unique<const RegionEdgeIndex>(rings);
  prepared->polygons = std::move(polygons);
  return Region(std::move(prepared));
}

bool Region::Contains(const LatLng& p) const {
  // At a pole every edge's longitude is the point's: nothing to narrow.
  if (std::abs(p.lat_deg) >= 90) return ContainsLinear(p);
  std::vector<std::pair<uint32_t, int>> places;
  PointPlaces(prepared_->shapes, *prepared_->index, ToPoint(p), &places);
  for (const auto& [polygon, place] : places) {
    if (place >= 0) return true;
  }
  return false;
}

bool Region::Contains(const Footprint& footprint) const {
  const GPolygon shape = std::holds_alternative<Polygon>(footprint)
                             ? OuterOnly(std::get<Polygon>(footprint).vertices)
                             : Circumscribed(std::get<Circle>(footprint));
  const GRing& ring = shape.outer();
  std::vector<LatLng> vertices;
  vertices.reserve(ring.size());
  for (const GPoint& v : ring) vertices.push_back(ToLatLng(v));
  LngLatBox around[2];
  const int around_count = SmallRingBoxes(vertices, around);
  if (around_count == 0) return ContainsLinear(footprint);

  // The polygons whose boundary the footprint's boundary meets: edge pairs
  // whose boxes meet, tested as Boost tests them. A polygon the footprint
  // crosses does not hold it; one it only touches is decided by Boost from
  // all its edges (its point-in-polygon and polygon-in-polygon tests may
  // disagree by a rounding error about a point within a hair of the
  // boundary, so neither is taken for the other there).
  const RegionEdgeIndex& index = *prepared_->index;
  std::vector<uint32_t> met;      // polygons whose boundary it meets
  std::vector<uint32_t> crossed;  // of those, the ones it crosses
  std::vector<uint32_t> near_ids;
  // Most footprints lie away from the boundary: no edge near at all.
  for (int b = 0; b < around_count; ++b) index.EdgesInBox(around[b], &near_ids);
  const bool near = !near_ids.empty();
  std::vector<uint32_t> ids;
  for (size_t j = 0; near && j < ring.size(); ++j) {
    const size_t next = (j + 1) % ring.size();
    LngLatBox boxes[2];
    const int count =
        ShortGeodesicEdgeBoxes(vertices[j], vertices[next], boxes);
    ids.clear();
    for (int b = 0; b < count; ++b) index.EdgesInBox(boxes[b], &ids);
    const GSegment edge(ring[j], ring[next]);
    for (uint32_t id : ids) {
      const RegionEdgeIndex::EdgeRef& e = index.edge(id);
      if (std::find(crossed.begin(), crossed.end(), e.polygon) !=
          crossed.end()) {
        continue;
      }
      const GRing& points = RingOf(prepared_->shapes[e.polygon], e.ring);
      const GSegment boundary(points[e.vertex],
                              points[(e.vertex + 1) % points.size()]);
      if (!bg::intersects(edge, boundary, SegmentStrategy())) continue;
      if (std::find(met.begin(), met.end(), e.polygon) == met.end()) {
        met.push_back(e.polygon);
      }
      if (Crosses(edge, boundary)) crossed.push_back(e.polygon);
    }
  }
  // Near the boundary, Boost's point tests must agree too
  // (PointTestsAgree): every vertex of the footprint in the polygon, none of
  // the polygon's strictly inside the footprint. Only vertices of edges
  // near the footprint can be inside it.
  std::vector<uint32_t> pierced;  // polygons with a vertex inside it
  for (uint32_t id : near_ids) {
    const RegionEdgeIndex::EdgeRef& e = index.edge(id);
    if (std::find(pierced.begin(), pierced.end(), e.polygon) != pierced.end()) {
      continue;
    }
    const GPoint& v = RingOf(prepared_->shapes[e.polygon], e.ring)[e.vertex];
    if (bg::within(v, shape, PointStrategy())) pierced.push_back(e.polygon);
  }
  // Per polygon, how many of the footprint's vertices it covers (filled
  // when first asked).
  std::vector<std::pair<uint32_t, size_t>> covering;
  bool counted = false;
  const auto point_tests_agree = [&](uint32_t polygon) {
    if (!near) return true;
    if (std::find(pierced.begin(), pierced.end(), polygon) != pierced.end()) {
      return false;
    }
    if (!counted) {
      counted = true;
      std::vector<std::pair<uint32_t, int>> places;
      for (const GPoint& v : ring) {
        places.clear();
        PointPlaces(prepared_->shapes, index, v, &places);
        for (const auto& [p, place] : places) {
          if (place < 0) continue;
          auto it =
              std::find_if(covering.begin(), covering.end(),
                           [p = p](const auto& c) { return c.first == p; });
          if (it == covering.end()) {
            covering.emplace_back(p, 1);
          } else {
            ++it->second;
          }
        }
      }
    }
    for (const auto& [p, count] : covering) {
      if (p == polygon) return count == ring.size();
    }
    return false;
  };

  for (uint32_t polygon : met) {
    // A crossing settles it; a touch is left to Boost's test on all of the
    // polygon's edges (it decides which side of the boundary the footprint
    // lies on there).
    if (std::find(crossed.begin(), crossed.end(), polygon) != crossed.end()) {
      continue;
    }
    if (point_tests_agree(polygon) &&
        bg::covered_by(shape, prepared_->shapes[polygon], SegmentStrategy())) {
      return true;
    }
  }

  // Any other polygon holds the footprint when it holds the footprint's
  // first vertex and none of its holes lies inside the footprint, whole.
  std::vector<std::pair<uint32_t, int>> places;
  PointPlaces(prepared_->shapes, index, ring[0], &places);
  std::vector<uint32_t> holes;
  for (int b = 0; b < around_count; ++b) index.HolesInBox(around[b], &holes);
  for (const auto& [polygon, place] : places) {
    if (place < 0 || std::find(met.begin(), met.end(), polygon) != met.end()) {
      continue;
    }
    const GPolygon& region = prepared_->shapes[polygon];
    if (place == 0) {
      // On the boundary without meeting it: left to Boost, to be sure.
      if (point_tests_agree(polygon) &&
          bg::covered_by(shape, region, SegmentStrategy())) {
        return true;
      }
      continue;
    }
    bool holds_hole = false;
    for (uint32_t id : holes) {
      const RegionEdgeIndex::EdgeRef& e = index.edge(id);
      if (e.polygon != polygon) continue;
      if (bg::covered_by(RingOf(region, e.ring)[0], shape, PointStrategy())) {
        holds_hole = true;
        break;
      }
    }
    if (!holds_hole && point_tests_agree(polygon)) return true;
  }
  return false;
}

bool Region::ContainsLinear(const LatLng& p) const {
  const GPoint point = ToPoint(p);
  for (const GPolygon& shape : prepared_->shapes) {
    if (bg::covered_by(point, shape, PointStrategy())) return true;
  }
  return false;
}

bool Region::ContainsLinear(const Footprint& footprint) const {
  const GPolygon shape = std::holds_alternative<Polygon>(footprint)
                             ? OuterOnly(std::get<Polygon>(footprint).vertices)
                             : Circumscribed(std::get<Circle>(footprint));
  std::vector<LatLng> vertices;
  for (const GPoint& v : shape.outer()) vertices.push_back(ToLatLng(v));
  LngLatBox around[2];
  const int around_count = SmallRingBoxes(vertices, around);
  for (const GPolygon& region : prepared_->shapes) {
    if (bg::covered_by(shape, region, SegmentStrategy()) &&
        PointTestsAgree(shape, around, around_count, region)) {
      return true;
    }
  }
  return false;
}

const std::vector<Polygon>& Region::polygons() const {
  return prepared_->polygons;
}

int Region::vertex_count() const { return prepared_->vertex_count; }

}  // namespace utm::geo
