// Planar primitives on projected coordinates (metres on a tangent plane).
//
// Internal to geo/: the exact geodesic algorithms project onto a gnomonic
// plane, where geodesic edges are straight, and decide with these.
#ifndef UTM_GEO_PLANAR_H_
#define UTM_GEO_PLANAR_H_

#include <optional>
#include <vector>

#include "geo/geodesy.h"

namespace utm::geo {

// Twice the signed area of triangle (a, b, c): > 0 when counter-clockwise.
inline double Orient(const Vec2& a, const Vec2& b, const Vec2& c) {
  return (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
}

// Distance from p to segment a-b.
double PointSegmentDistance(const Vec2& p, const Vec2& a, const Vec2& b);

// True when segments a-b and c-d share at least one point.
bool SegmentsIntersect(const Vec2& a, const Vec2& b, const Vec2& c,
                       const Vec2& d);

// Distance between segments a-b and c-d (0 when they intersect).
double SegmentSegmentDistance(const Vec2& a, const Vec2& b, const Vec2& c,
                              const Vec2& d);

// True when p is inside or on the ring (closed implicitly, either direction).
bool RingContains(const std::vector<Vec2>& ring, const Vec2& p);

// True when p is inside or on the region bounded by `rings` (an outer ring
// and holes strictly inside it, apart from each other): inside the outer
// ring and not strictly inside any hole. Even-odd over all edges.
bool RingsContain(const std::vector<std::vector<Vec2>>& rings, const Vec2& p);

// Distance from p to the nearest edge of the ring.
double DistanceToRing(const std::vector<Vec2>& ring, const Vec2& p);

// The first pair (edge i of `a`, edge j of `b`; edge k runs from vertex k to
// vertex k+1 of its ring) that comes closer than `tolerance`, or nullopt.
// Sweeps edges by their extent in x, so rings apart cost O(n log n).
struct EdgePair {
  int edge_a;
  int edge_b;
  bool cross;  // the edges cross (neither touches the other's end)
};
std::optional<EdgePair> FindNearEdgePair(const std::vector<Vec2>& a,
                                         const std::vector<Vec2>& b,
                                         double tolerance);

// Why a ring is not simple: two of its edges (edge i runs from vertex i to
// vertex i+1) cross, touch, or overlap where they meet.
struct EdgeDefect {
  enum Kind { kCross, kTouch, kOverlap };
  Kind kind;
  int edge_a;
  int edge_b;
};

// The first defect in (edge_a, edge_b) order, or nullopt for a simple ring.
// Non-adjacent edges closer than `tolerance` touch; adjacent edges overlap
// when the ring doubles back so that one edge's far end lies within
// `tolerance` of the other edge. Sweeps edges by their extent in x: about
// O(n log n) for the rings of real zones, O(n²) at worst.
std::optional<EdgeDefect> FindRingDefect(const std::vector<Vec2>& ring,
                                         double tolerance);

}  // namespace utm::geo

#endif  // UTM_GEO_PLANAR_H_
