// Exact intersection of 4-D volumes on the WGS84 ellipsoid.
//
// Two volumes intersect when their time windows, altitude bands and
// footprints all intersect. Time windows and altitude bands are closed
// intervals, so touching counts. Footprints are closed regions bounded by
// geodesics (polygons, less their open holes) or geodesic circles, and are
// treated as intersecting when they share a point or come within
// kContactToleranceM of each other (erring towards a conflict, never away
// from one). A footprint wholly inside a hole of a polygon, apart from the
// hole's edge, does not intersect it.
//
// Accuracy: the answer is exact for every pair whose overlap or gap exceeds
// 1 mm, for footprints that pass validation (reach ≤ 50 km). The edge model
// and the error budget are in docs/geometry.md.
//
// Typical usage:
//   if (std::optional<Overlap4D> o = Intersect(a, b)) {
//     report(o->time, o->altitude);
//   }
#ifndef UTM_GEO_INTERSECT_H_
#define UTM_GEO_INTERSECT_H_

#include <memory>
#include <optional>
#include <vector>

#include "geo/geodesy.h"
#include "geo/volume.h"

namespace utm::geo {

// Footprints closer than this, metres, are treated as touching.
inline constexpr double kContactToleranceM = 1e-3;

// The overlap of two closed intervals, or nullopt when they are disjoint.
std::optional<TimeWindow> TimeOverlap(const TimeWindow& a, const TimeWindow& b);
std::optional<AltitudeBand> AltitudeOverlap(const AltitudeBand& a,
                                            const AltitudeBand& b);

class EdgeIndex;  // geo/edge_index.h

// A footprint with the data repeated tests need, computed once.
struct PreparedFootprint {
  Footprint footprint;
  BoundingCap cap;
  Vec3 cap_center_ecef;  // ECEF of cap.center, metres.
  // Polygons only: ECEF of each vertex of the outer ring, metres, and the
  // longest outer edge's chord, for the bounding cap and the fast filter
  // (docs/geometry.md, "Fast path"), which polygons with holes skip.
  std::vector<Vec3> vertices_ecef;
  double max_edge_m = 0;
  // Polygons of many vertices only: their edges bucketed on a plane, so that
  // checks against footprints within the polygon's cap touch only nearby
  // edges (geo/edge_index.h). Null otherwise; shared by copies.
  std::shared_ptr<const EdgeIndex> edge_index;
};

struct PrepareOptions {
  // Build an edge index for polygons of at least this many vertices, all
  // rings together. DEFAULT: kEdgeIndexMinVertices (geo/edge_index.h); 0
  // for every polygon, INT_MAX for none (with index_holes false).
  int edge_index_min_vertices;
  // Build one for every polygon with holes too: the fast filter does not
  // handle holes, and the index decides against small footprints in
  // microseconds where the exact path projects every vertex. DEFAULT: true.
  bool index_holes = true;
  PrepareOptions();
};

// REQUIRES: a validated footprint.
PreparedFootprint PrepareFootprint(Footprint footprint,
                                   const PrepareOptions& options = {});

// Whether two footprints intersect (see the file comment).
// REQUIRES: validated footprints. Thread-safe.
bool FootprintsIntersect(const PreparedFootprint& a,
                         const PreparedFootprint& b);
// The same for a one-off test: prepares both without an edge index, whose
// construction costs more than one scan of the edges.
bool FootprintsIntersect(const Footprint& a, const Footprint& b);

// Geodesic distance, metres, from p to the nearest edge of any ring of the
// polygon (outer or hole). REQUIRES: a validated polygon. O(vertices).
double DistanceToPolygonBoundary(const LatLng& p, const Polygon& polygon);

// Where two volumes overlap: the common time window and altitude band.
struct Overlap4D {
  TimeWindow time;
  AltitudeBand altitude;
};

// The overlap of two volumes, or nullopt when they do not intersect.
// REQUIRES: validated volumes. Thread-safe.
std::optional<Overlap4D> Intersect(const Volume4D& a, const Volume4D& b);

}  // namespace utm::geo

#endif  // UTM_GEO_INTERSECT_H_
