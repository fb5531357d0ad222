// An index of a large polygon's edges, so that checks against a small
// footprint touch only the edges near it instead of all of them.
//
// Every ring (outer and holes) is projected once onto the ellipsoidal
// gnomonic plane at the polygon's bounding-cap centre, where geodesic edges
// are straight to well under a millimetre (docs/geometry.md, "Edge index"),
// and each edge is filed in the cells of a uniform grid that its bounding box
// meets (about two edges per cell). Then:
//  - a box query returns the edges that may come near a small footprint;
//  - point-in-region counts crossings of a ray to +x through the edges
//    filed in the point's row of cells only.
// IndexedIntersects*() decide intersection exactly with it, under the same
// edge model and 1 mm contact tolerance as FootprintsIntersect(), for
// footprints within the indexed polygon's cap (grown by kIndexSlackM).
//
// Typical usage (PrepareFootprint() does this for polygons of
// kEdgeIndexMinVertices or more):
//   auto index = std::make_shared<const EdgeIndex>(zone, cap.center);
//   if (IndexedIntersectsCircle(*index, Circle{position, 0.001})) ...
//
// Thread-safe: immutable after construction.
#ifndef UTM_GEO_EDGE_INDEX_H_
#define UTM_GEO_EDGE_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "geo/geodesy.h"
#include "geo/volume.h"

namespace utm::geo {

// Polygons with at least this many vertices (all rings) get an edge index
// when prepared (and every polygon with holes). Below it the fast filter
// costs a few microseconds per check, and building the index (one gnomonic
// projection per vertex, ~0.8 µs each) would cost more than it saves for
// flight volumes, which are prepared once per query (docs/benchmarks.md).
inline constexpr int kEdgeIndexMinVertices = 1024;

// How far, metres, a footprint may reach beyond the indexed polygon's
// bounding cap for the index to decide: it keeps every point within the
// range where projected edges are straight to a fraction of a millimetre.
inline constexpr double kIndexSlackM = 1000.0;

class EdgeIndex {
 public:
  // REQUIRES: a validated polygon; `centre` its bounding cap's centre.
  EdgeIndex(const Polygon& polygon, const LatLng& centre);

  const GnomonicProjection& projection() const { return projection_; }
  size_t edge_count() const { return xy_.size(); }

  // Edge e runs from vertex e to vertex next(e) of its ring; vertices are
  // numbered over all rings, the outer ring first.
  int next(int e) const { return next_[e]; }
  const Vec2& xy(int v) const { return xy_[v]; }
  const LatLng& vertex(int v) const { return vertices_[v]; }
  // The first vertex of each ring.
  const std::vector<int>& ring_starts() const { return ring_starts_; }

  // True when p (on the plane) lies inside the region or on an edge:
  // inside the outer ring and not strictly inside a hole.
  bool Contains(const Vec2& p) const;

  // Replaces `out` with the edges, ascending, filed in the cells that the
  // box [lo, hi] meets: every edge whose bounding box meets it, and some
  // more.
  void EdgesNear(const Vec2& lo, const Vec2& hi, std::vector<int>* out) const;

 private:
  int CellX(double x) const;
  int CellY(double y) const;

  GnomonicProjection projection_;
  std::vector<LatLng> vertices_;
  std::vector<Vec2> xy_;
  std::vector<int> next_;
  std::vector<int> ring_starts_;
  // The grid: nx_ × ny_ square cells of side cell_m_ from (x0_, y0_); the
  // edges of cell (cx, cy) are cell_edges_[cell_start_[c] ..
  // cell_start_[c + 1]) with c = cy·nx_ + cx.
  double x0_ = 0, y0_ = 0, x1_ = 0, y1_ = 0, cell_m_ = 1;
  int nx_ = 1, ny_ = 1;
  std::vector<uint32_t> cell_start_;
  std::vector<uint32_t> cell_edges_;
};

// Whether the indexed polygon's region and the footprint intersect, as
// FootprintsIntersect() decides it. REQUIRES: the footprint validated and
// within the indexed polygon's bounding cap grown by kIndexSlackM.
bool IndexedIntersectsCircle(const EdgeIndex& index, const Circle& circle);
bool IndexedIntersectsPolygon(const EdgeIndex& index, const Polygon& polygon);

}  // namespace utm::geo

#endif  // UTM_GEO_EDGE_INDEX_H_
