#include "geo/edge_index.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "geo/intersect.h"
#include "geo/planar.h"

namespace utm::geo {
namespace {

// Cells per edge the grid aims at, and its largest side in cells.
constexpr double kEdgesPerCell = 2.0;
constexpr int kMaxCellsPerSide = 2048;

// The gnomonic projection stretches distances by at most 1/cos²(d/R) ≤
// 1.0005 within the cap of the largest polygon validation accepts plus the
// slack, so a planar distance beyond reach·kStretch + 1 m (the metre for the
// straightness of projected edges, with room) is a true distance beyond
// reach.
constexpr double kStretch = 1.001;

}  // namespace

EdgeIndex::EdgeIndex(const Polygon& polygon, const LatLng& centre)
    : projection_(centre) {
  const size_t n = VertexCount(polygon);
  vertices_.reserve(n);
  xy_.reserve(n);
  next_.reserve(n);
  auto add_ring = [&](const std::vector<LatLng>& ring) {
    const int start = static_cast<int>(xy_.size());
    ring_starts_.push_back(start);
    for (size_t i = 0; i < ring.size(); ++i) {
      vertices_.push_back(ring[i]);
      xy_.push_back(projection_.Forward(ring[i]));
      next_.push_back(i + 1 == ring.size() ? start
                                           : start + static_cast<int>(i) + 1);
    }
  };
  add_ring(polygon.vertices);
  for (const std::vector<LatLng>& hole : polygon.holes) add_ring(hole);

  // The outer ring's box holds every ring.
  x0_ = y0_ = std::numeric_limits<double>::infinity();
  x1_ = y1_ = -std::numeric_limits<double>::infinity();
  for (const Vec2& p : xy_) {
    x0_ = std::min(x0_, p.x);
    y0_ = std::min(y0_, p.y);
    x1_ = std::max(x1_, p.x);
    y1_ = std::max(y1_, p.y);
  }
  const double width = std::max(x1_ - x0_, 1e-3);
  const double height = std::max(y1_ - y0_, 1e-3);
  const double cells = std::max(1.0, static_cast<double>(n) / kEdgesPerCell);
  cell_m_ = std::sqrt(width * height / cells);
  cell_m_ =
      std::max({cell_m_, width / kMaxCellsPerSide, height / kMaxCellsPerSide});
  nx_ = std::clamp(static_cast<int>(std::ceil(width / cell_m_)), 1,
                   kMaxCellsPerSide);
  ny_ = std::clamp(static_cast<int>(std::ceil(height / cell_m_)), 1,
                   kMaxCellsPerSide);

  // Counting pass, then filling (compressed rows).
  cell_start_.assign(static_cast<size_t>(nx_) * ny_ + 1, 0);
  auto for_each_cell = [&](int e, auto fn) {
    const Vec2& a = xy_[e];
    const Vec2& b = xy_[next_[e]];
    const int cx0 = CellX(std::min(a.x, b.x)), cx1 = CellX(std::max(a.x, b.x));
    const int cy0 = CellY(std::min(a.y, b.y)), cy1 = CellY(std::max(a.y, b.y));
    for (int cy = cy0; cy <= cy1; ++cy) {
      for (int cx = cx0; cx <= cx1; ++cx) fn(cy * nx_ + cx);
    }
  };
  const int edges = static_cast<int>(n);
  for (int e = 0; e < edges; ++e) {
    for_each_cell(e, [&](int c) { ++cell_start_[c + 1]; });
  }
  for (size_t c = 1; c < cell_start_.size(); ++c) {
    cell_start_[c] += cell_start_[c - 1];
  }
  cell_edges_.resize(cell_start_.back());
  std::vector<uint32_t> fill(cell_start_.begin(), cell_start_.end() - 1);
  for (int e = 0; e < edges; ++e) {
    for_each_cell(e, [&](int c) { cell_edges_[fill[c]++] = e; });
  }
}

int EdgeIndex::CellX(double x) const {
  const double c = std::floor((x - x0_) / cell_m_);
  return static_cast<int>(std::clamp(c, 0.0, nx_ - 1.0));
}

int EdgeIndex::CellY(double y) const {
  const double c = std::floor((y - y0_) / cell_m_);
  return static_cast<int>(std::clamp(c, 0.0, ny_ - 1.0));
}

void EdgeIndex::EdgesNear(const Vec2& lo, const Vec2& hi,
                          std::vector<int>* out) const {
  out->clear();
  if (hi.x < x0_ || lo.x > x1_ || hi.y < y0_ || lo.y > y1_) return;
  const int cx0 = CellX(lo.x), cx1 = CellX(hi.x);
  const int cy0 = CellY(lo.y), cy1 = CellY(hi.y);
  for (int cy = cy0; cy <= cy1; ++cy) {
    for (int cx = cx0; cx <= cx1; ++cx) {
      const int c = cy * nx_ + cx;
      out->insert(out->end(), cell_edges_.begin() + cell_start_[c],
                  cell_edges_.begin() + cell_start_[c + 1]);
    }
  }
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
}

bool EdgeIndex::Contains(const Vec2& p) const {
  if (p.x < x0_ || p.x > x1_ || p.y < y0_ || p.y > y1_) return false;
  // Every edge the ray from p to +x crosses spans p.y, so it is filed in
  // p's row at p's column or right of it.
  std::vector<int> edges;
  EdgesNear(p, {x1_, p.y}, &edges);
  bool inside = false;
  for (const int e : edges) {
    const Vec2& a = xy_[e];
    const Vec2& b = xy_[next_[e]];
    if (PointSegmentDistance(p, a, b) == 0) return true;
    // Crossing number with the half-open rule on y, as RingContains().
    if ((a.y > p.y) != (b.y > p.y)) {
      const double x = a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y);
      if (p.x < x) inside = !inside;
    }
  }
  return inside;
}

bool IndexedIntersectsCircle(const EdgeIndex& index, const Circle& circle) {
  const Vec2 p = index.projection().Forward(circle.center);
  const double reach = circle.radius_m + kContactToleranceM;
  const double limit = reach * kStretch + 1.0;
  std::vector<int> near;
  index.EdgesNear({p.x - limit, p.y - limit}, {p.x + limit, p.y + limit},
                  &near);
  for (const int e : near) {
    const int f = index.next(e);
    // The plane discards edges certainly out of reach and accepts edges
    // certainly within it (the projection never shrinks distances by more
    // than a relative 10⁻⁵ within the cap, and projected edges are straight
    // to 0.4 mm); the band between is decided on the true geodesic
    // distance.
    const double d = PointSegmentDistance(p, index.xy(e), index.xy(f));
    if (d > limit) continue;
    if (d * kStretch + 0.01 < reach) return true;
    if (DistanceToGeodesicSegment(circle.center, index.vertex(e),
                                  index.vertex(f)) <= reach) {
      return true;
    }
  }
  // No edge within reach, so the centre is more than a millimetre from every
  // edge, far beyond the straightness error: the planar parity is right.
  return index.Contains(p);
}

bool IndexedIntersectsPolygon(const EdgeIndex& index, const Polygon& polygon) {
  const GnomonicProjection& proj = index.projection();
  std::vector<std::vector<Vec2>> rings;
  rings.reserve(1 + polygon.holes.size());
  auto project = [&](const std::vector<LatLng>& ring) {
    std::vector<Vec2>& out = rings.emplace_back();
    out.reserve(ring.size());
    for (const LatLng& v : ring) out.push_back(proj.Forward(v));
  };
  project(polygon.vertices);
  for (const std::vector<LatLng>& hole : polygon.holes) project(hole);
  // Boundaries within the contact tolerance: they touch or cross.
  const double tol = kContactToleranceM;
  std::vector<int> near;
  for (const std::vector<Vec2>& ring : rings) {
    for (size_t i = 0, n = ring.size(); i < n; ++i) {
      const Vec2& p0 = ring[i];
      const Vec2& p1 = ring[(i + 1) % n];
      const Vec2 lo{std::min(p0.x, p1.x) - tol, std::min(p0.y, p1.y) - tol};
      const Vec2 hi{std::max(p0.x, p1.x) + tol, std::max(p0.y, p1.y) + tol};
      index.EdgesNear(lo, hi, &near);
      for (const int e : near) {
        const Vec2& q0 = index.xy(e);
        const Vec2& q1 = index.xy(index.next(e));
        if (std::max(q0.x, q1.x) < lo.x || std::min(q0.x, q1.x) > hi.x ||
            std::max(q0.y, q1.y) < lo.y || std::min(q0.y, q1.y) > hi.y) {
          continue;
        }
        if (SegmentSegmentDistance(p0, p1, q0, q1) <= tol) return true;
      }
    }
  }
  // The boundaries are apart, so each ring lies wholly inside or wholly
  // outside the other region, and the regions meet iff some ring of one
  // lies inside the other.
  for (const std::vector<Vec2>& ring : rings) {
    if (index.Contains(ring[0])) return true;
  }
  for (const int start : index.ring_starts()) {
    if (RingsContain(rings, index.xy(start))) return true;
  }
  return false;
}

}  // namespace utm::geo
