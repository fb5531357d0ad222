// Exact intersection of 4-D volumes on the WGS84 ellipsoid.
//
// Two volumes intersect when their time windows, altitude bands and
// footprints all intersect. Time windows and altitude bands are closed
// intervals, so touching counts. Footprints are closed regions bounded by
// geodesics (polygons) or geodesic circles, and are treated as intersecting
// when they share a point or come within kContactToleranceM of each other
// (erring towards a conflict, never away from one).
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

// A footprint with the data repeated tests need, computed once.
struct PreparedFootprint {
  Footprint footprint;
  BoundingCap cap;
  Vec3 cap_center_ecef;  // ECEF of cap.center, metres.
  // Polygons only: ECEF of each vertex, metres, and the longest edge's chord,
  // for the fast filter (docs/geometry.md, "Fast path").
  std::vector<Vec3> vertices_ecef;
  double max_edge_m = 0;
};

// REQUIRES: a validated footprint.
PreparedFootprint PrepareFootprint(Footprint footprint);

// Whether two footprints intersect (see the file comment).
// REQUIRES: validated footprints. Thread-safe.
bool FootprintsIntersect(const PreparedFootprint& a,
                         const PreparedFootprint& b);
bool FootprintsIntersect(const Footprint& a, const Footprint& b);

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
