#include "geo/planar.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace utm::geo {

double PointSegmentDistance(const Vec2& p, const Vec2& a, const Vec2& b) {
  const double dx = b.x - a.x, dy = b.y - a.y;
  const double len2 = dx * dx + dy * dy;
  double t = 0;
  if (len2 > 0) {
    t = ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2;
    t = std::clamp(t, 0.0, 1.0);
  }
  return std::hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

namespace {

// For collinear a, b, p: is p within the bounding box of a-b?
bool OnSegmentBox(const Vec2& a, const Vec2& b, const Vec2& p) {
  return std::min(a.x, b.x) <= p.x && p.x <= std::max(a.x, b.x) &&
         std::min(a.y, b.y) <= p.y && p.y <= std::max(a.y, b.y);
}

int Sign(double v) { return (v > 0) - (v < 0); }

}  // namespace

bool SegmentsIntersect(const Vec2& a, const Vec2& b, const Vec2& c,
                       const Vec2& d) {
  const int o1 = Sign(Orient(a, b, c));
  const int o2 = Sign(Orient(a, b, d));
  const int o3 = Sign(Orient(c, d, a));
  const int o4 = Sign(Orient(c, d, b));
  if (o1 != o2 && o3 != o4) return true;
  if (o1 == 0 && OnSegmentBox(a, b, c)) return true;
  if (o2 == 0 && OnSegmentBox(a, b, d)) return true;
  if (o3 == 0 && OnSegmentBox(c, d, a)) return true;
  if (o4 == 0 && OnSegmentBox(c, d, b)) return true;
  return false;
}

double SegmentSegmentDistance(const Vec2& a, const Vec2& b, const Vec2& c,
                              const Vec2& d) {
  if (SegmentsIntersect(a, b, c, d)) return 0;
  return std::min(
      std::min(PointSegmentDistance(a, c, d), PointSegmentDistance(b, c, d)),
      std::min(PointSegmentDistance(c, a, b), PointSegmentDistance(d, a, b)));
}

namespace {

// The crossing-number step for one ring: flips *inside for each edge a ray
// from p towards +x crosses (half-open rule on y). Returns true when p lies
// on one of the ring's edges, which counts as inside.
bool CrossRing(const std::vector<Vec2>& ring, const Vec2& p, bool* inside) {
  const size_t n = ring.size();
  for (size_t i = 0, j = n - 1; i < n; j = i++) {
    const Vec2& a = ring[j];
    const Vec2& b = ring[i];
    if (PointSegmentDistance(p, a, b) == 0) return true;
    if ((a.y > p.y) != (b.y > p.y)) {
      const double x = a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y);
      if (p.x < x) *inside = !*inside;
    }
  }
  return false;
}

}  // namespace

bool RingContains(const std::vector<Vec2>& ring, const Vec2& p) {
  bool inside = false;
  return CrossRing(ring, p, &inside) || inside;
}

bool RingsContain(const std::vector<std::vector<Vec2>>& rings, const Vec2& p) {
  bool inside = false;
  for (const std::vector<Vec2>& ring : rings) {
    if (CrossRing(ring, p, &inside)) return true;
  }
  return inside;
}

double DistanceToRing(const std::vector<Vec2>& ring, const Vec2& p) {
  double best = std::numeric_limits<double>::infinity();
  for (size_t i = 0, n = ring.size(); i < n; ++i) {
    best = std::min(best, PointSegmentDistance(p, ring[i], ring[(i + 1) % n]));
  }
  return best;
}

std::optional<EdgePair> FindNearEdgePair(const std::vector<Vec2>& a,
                                         const std::vector<Vec2>& b,
                                         double tolerance) {
  struct Edge {
    double x0, x1, y0, y1;
    int index;
    int side;  // 0 for a, 1 for b
  };
  std::vector<Edge> edges;
  edges.reserve(a.size() + b.size());
  for (int side = 0; side < 2; ++side) {
    const std::vector<Vec2>& r = side == 0 ? a : b;
    const int n = static_cast<int>(r.size());
    for (int i = 0; i < n; ++i) {
      const Vec2& p = r[i];
      const Vec2& q = r[(i + 1) % n];
      edges.push_back({std::min(p.x, q.x) - tolerance,
                       std::max(p.x, q.x) + tolerance,
                       std::min(p.y, q.y) - tolerance,
                       std::max(p.y, q.y) + tolerance, i, side});
    }
  }
  std::sort(edges.begin(), edges.end(),
            [](const Edge& e, const Edge& f) { return e.x0 < f.x0; });
  // Edges of each side whose x extent may still reach the sweep line.
  std::vector<const Edge*> active[2];
  std::optional<EdgePair> best;
  auto better = [](const EdgePair& e, const EdgePair& f) {
    return std::make_pair(e.edge_a, e.edge_b) <
           std::make_pair(f.edge_a, f.edge_b);
  };
  for (const Edge& e : edges) {
    std::vector<const Edge*>& others = active[1 - e.side];
    for (size_t k = 0; k < others.size();) {
      const Edge& f = *others[k];
      if (f.x1 < e.x0) {
        others[k] = others.back();
        others.pop_back();
        continue;
      }
      ++k;
      if (f.y1 < e.y0 || f.y0 > e.y1) continue;
      const Edge& ea = e.side == 0 ? e : f;
      const Edge& eb = e.side == 0 ? f : e;
      const int na = static_cast<int>(a.size()),
                nb = static_cast<int>(b.size());
      const Vec2& p0 = a[ea.index];
      const Vec2& p1 = a[(ea.index + 1) % na];
      const Vec2& q0 = b[eb.index];
      const Vec2& q1 = b[(eb.index + 1) % nb];
      if (SegmentSegmentDistance(p0, p1, q0, q1) >= tolerance) continue;
      const bool touch = PointSegmentDistance(p0, q0, q1) < tolerance ||
                         PointSegmentDistance(p1, q0, q1) < tolerance ||
                         PointSegmentDistance(q0, p0, p1) < tolerance ||
                         PointSegmentDistance(q1, p0, p1) < tolerance;
      const EdgePair found{ea.index, eb.index,
                           !touch && SegmentsIntersect(p0, p1, q0, q1)};
      if (!best || better(found, *best)) best = found;
    }
    active[e.side].push_back(&e);
  }
  return best;
}

namespace {

// The defect between edges i < j of the ring, if any (FindRingDefect).
std::optional<EdgeDefect> PairDefect(const std::vector<Vec2>& ring, int i,
                                     int j, double tolerance) {
  const int n = static_cast<int>(ring.size());
  auto vertex = [&](int k) -> const Vec2& { return ring[k % n]; };
  const Vec2& a = vertex(i);
  const Vec2& b = vertex(i + 1);
  const Vec2& c = vertex(j);
  const Vec2& d = vertex(j + 1);
  const bool next = (j == i + 1);
  const bool wrap = (i == 0 && j == n - 1);
  if (next || wrap) {
    // Adjacent edges share one vertex s; they overlap when the far end of
    // either lies on the other (the ring doubles back through s).
    const Vec2& s = next ? b : a;
    const Vec2& p = next ? a : b;  // far end of edge i
    const Vec2& q = next ? d : c;  // far end of edge j
    const double dot = (p.x - s.x) * (q.x - s.x) + (p.y - s.y) * (q.y - s.y);
    if (dot > 0 && (PointSegmentDistance(p, s, q) < tolerance ||
                    PointSegmentDistance(q, s, p) < tolerance)) {
      return EdgeDefect{EdgeDefect::kOverlap, i, j};
    }
    return std::nullopt;
  }
  if (SegmentsIntersect(a, b, c, d)) {
    // Where an end of one edge lies on the other (within the tolerance)
    // the edges touch; otherwise they cross.
    const bool touch = PointSegmentDistance(a, c, d) < tolerance ||
                       PointSegmentDistance(b, c, d) < tolerance ||
                       PointSegmentDistance(c, a, b) < tolerance ||
                       PointSegmentDistance(d, a, b) < tolerance;
    return EdgeDefect{touch ? EdgeDefect::kTouch : EdgeDefect::kCross, i, j};
  }
  if (SegmentSegmentDistance(a, b, c, d) < tolerance) {
    return EdgeDefect{EdgeDefect::kTouch, i, j};
  }
  return std::nullopt;
}

}  // namespace

std::optional<EdgeDefect> FindRingDefect(const std::vector<Vec2>& ring,
                                         double tolerance) {
  // Only edges whose bounding boxes, grown by the tolerance, overlap can
  // have a defect: a sweep in x finds those pairs, and the first defect in
  // (edge_a, edge_b) order among them is the one an all-pairs scan finds.
  const int n = static_cast<int>(ring.size());
  struct Edge {
    double x0, x1, y0, y1;
    int index;
  };
  std::vector<Edge> edges(n);
  for (int i = 0; i < n; ++i) {
    const Vec2& p = ring[i];
    const Vec2& q = ring[(i + 1) % n];
    edges[i] = {std::min(p.x, q.x) - tolerance, std::max(p.x, q.x) + tolerance,
                std::min(p.y, q.y) - tolerance, std::max(p.y, q.y) + tolerance,
                i};
  }
  std::sort(edges.begin(), edges.end(),
            [](const Edge& e, const Edge& f) { return e.x0 < f.x0; });
  std::vector<const Edge*> active;
  std::optional<EdgeDefect> first;
  for (const Edge& e : edges) {
    for (size_t k = 0; k < active.size();) {
      const Edge& f = *active[k];
      if (f.x1 < e.x0) {
        active[k] = active.back();
        active.pop_back();
        continue;
      }
      ++k;
      if (f.y1 < e.y0 || f.y0 > e.y1) continue;
      const int i = std::min(e.index, f.index), j = std::max(e.index, f.index);
      if (first &&
          std::make_pair(first->edge_a, first->edge_b) < std::make_pair(i, j)) {
        continue;
      }
      if (std::optional<EdgeDefect> d = PairDefect(ring, i, j, tolerance)) {
        first = d;
      }
    }
    active.push_back(&e);
  }
  return first;
}

}  // namespace utm::geo
