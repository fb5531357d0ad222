#include "geo/planar.h"

#include <algorithm>
#include <cmath>

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

bool RingContains(const std::vector<Vec2>& ring, const Vec2& p) {
  const size_t n = ring.size();
  bool inside = false;
  for (size_t i = 0, j = n - 1; i < n; j = i++) {
    const Vec2& a = ring[j];
    const Vec2& b = ring[i];
    if (PointSegmentDistance(p, a, b) == 0) return true;
    // Crossing number with the half-open rule on y.
    if ((a.y > p.y) != (b.y > p.y)) {
      const double x = a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y);
      if (p.x < x) inside = !inside;
    }
  }
  return inside;
}

std::optional<EdgeDefect> FindRingDefect(const std::vector<Vec2>& ring,
                                         double tolerance) {
  const int n = static_cast<int>(ring.size());
  auto vertex = [&](int i) -> const Vec2& { return ring[i % n]; };
  for (int i = 0; i < n; ++i) {
    const Vec2& a = vertex(i);
    const Vec2& b = vertex(i + 1);
    for (int j = i + 1; j < n; ++j) {
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
        const double dot =
            (p.x - s.x) * (q.x - s.x) + (p.y - s.y) * (q.y - s.y);
        if (dot > 0 && (PointSegmentDistance(p, s, q) < tolerance ||
                        PointSegmentDistance(q, s, p) < tolerance)) {
          return EdgeDefect{EdgeDefect::kOverlap, i, j};
        }
        continue;
      }
      if (SegmentsIntersect(a, b, c, d)) {
        // Where an end of one edge lies on the other (within the tolerance)
        // the edges touch; otherwise they cross.
        const bool touch = PointSegmentDistance(a, c, d) < tolerance ||
                           PointSegmentDistance(b, c, d) < tolerance ||
                           PointSegmentDistance(c, a, b) < tolerance ||
                           PointSegmentDistance(d, a, b) < tolerance;
        return EdgeDefect{touch ? EdgeDefect::kTouch : EdgeDefect::kCross, i,
                          j};
      }
      if (SegmentSegmentDistance(a, b, c, d) < tolerance) {
        return EdgeDefect{EdgeDefect::kTouch, i, j};
      }
    }
  }
  return std::nullopt;
}

}  // namespace utm::geo
