// 4-D airspace volumes: a footprint (polygon or circle on the WGS84
// ellipsoid), an altitude band and a time window, with validation.
//
// The model follows ASTM F3548-21:
//  - Positions are geodetic WGS84 latitude/longitude in degrees.
//  - A polygon's edges are the geodesics (shortest paths on the ellipsoid)
//    between consecutive vertices; the ring closes itself (the first vertex
//    is not repeated) and may run in either direction.
//  - A circle is every point within a geodesic distance of its centre.
//  - Altitudes are metres above the WGS84 ellipsoid; the band is closed.
//  - Time windows are closed: [start, end], so touching windows overlap.
//
// The value types are plain structs. Validate*() checks one against
// ValidationLimits and returns INVALID_ARGUMENT naming the offending field by
// its path in the wire contract, e.g.
//   "volumes[1].volume.outline_polygon: edges 2 and 4 cross".
// Every other function in geo/ REQUIRES validated input.
//
// Typical usage:
//   Volume4D v = ...;
//   UTM_RETURN_IF_ERROR(ValidateVolume4D(v, ValidationLimits(), "volumes[0]"));
#ifndef UTM_GEO_VOLUME_H_
#define UTM_GEO_VOLUME_H_

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "geo/geodesy.h"
#include "geo/latlng.h"

namespace utm::geo {

// A polygon with geodesic edges: an outer ring and any number of interior
// rings (holes). The region is the closed area inside the outer ring minus
// the open areas inside the holes, so a hole's edge belongs to the polygon.
// Every ring is simple and closes itself (its first vertex is not repeated)
// and may run in either direction; each hole lies strictly inside the outer
// ring and apart from the other holes (ValidatePolygon).
struct Polygon {
  // The outer ring.
  std::vector<LatLng> vertices;
  // The interior rings, each as `vertices`.
  std::vector<std::vector<LatLng>> holes = {};
};

// Vertices in all rings of the polygon.
size_t VertexCount(const Polygon& polygon);

// The polygon's area on the WGS84 ellipsoid, m²: the outer ring's minus the
// holes'. REQUIRES: a validated polygon.
double PolygonArea(const Polygon& polygon);

// All points within radius_m (geodesic distance) of the centre.
struct Circle {
  LatLng center;
  double radius_m = 0;
};

using Footprint = std::variant<Polygon, Circle>;

// Closed altitude interval, metres above the WGS84 ellipsoid.
struct AltitudeBand {
  double lower_m = 0;
  double upper_m = 0;
};

// Closed time interval [start, end]. end may be absl::InfiniteFuture() for a
// permanent restriction.
struct TimeWindow {
  absl::Time start;
  absl::Time end;
};

struct Volume3D {
  Footprint footprint;
  AltitudeBand altitude;
};

struct Volume4D {
  Volume3D volume;
  TimeWindow time;
};

// Limits applied by validation. The defaults are the deployment defaults.
struct ValidationLimits {
  // Largest footprint area, m². DEFAULT: 2,500 km², as the InterUSS DSS.
  double max_area_m2 = 2500e6;
  // Smallest polygon area, m²; below it the ring encloses (almost) nothing.
  // DEFAULT: 1 m².
  double min_area_m2 = 1.0;
  // Most vertices in one polygon, all rings together. DEFAULT: 1000.
  int max_vertices = 1000;
  // Greatest distance of any vertex (or a circle's rim) from the footprint's
  // centre, metres. Intersection is exact to well under 1 cm within it
  // (docs/geometry.md). DEFAULT: 50 km.
  double max_reach_m = 50e3;
  // Altitude bounds, metres above WGS84. DEFAULT: [-1,000 m, 50,000 m]: below
  // the lowest ground (Dead Sea shore, with geoid) and above any airspace a
  // UTM system manages.
  double min_altitude_m = -1000;
  double max_altitude_m = 50000;
};

// Each returns OK or INVALID_ARGUMENT with a message that starts with the
// path of the offending field. `field` is the path of the value checked
// (e.g. "volumes[0].volume.outline_polygon"); for AltitudeBand and TimeWindow,
// whose members sit directly in the enclosing wire message, it is that
// message's path ("volumes[0].volume" gives "volumes[0].volume.altitude_lower";
// "volumes[0]" gives "volumes[0].time_end").
absl::Status ValidateLatLng(const LatLng& p, absl::string_view field);
absl::Status ValidatePolygon(const Polygon& polygon,
                             const ValidationLimits& limits,
                             absl::string_view field);
absl::Status ValidateCircle(const Circle& circle,
                            const ValidationLimits& limits,
                            absl::string_view field);
absl::Status ValidateAltitudeBand(const AltitudeBand& band,
                                  const ValidationLimits& limits,
                                  absl::string_view field);
absl::Status ValidateTimeWindow(const TimeWindow& window,
                                absl::string_view field);
// Checks the footprint (as "<field>.outline_polygon" or
// "<field>.outline_circle") and the band ("<field>.altitude_lower/_upper").
absl::Status ValidateVolume3D(const Volume3D& volume,
                              const ValidationLimits& limits,
                              absl::string_view field);
// Checks "<field>.volume" and "<field>.time_start/time_end".
absl::Status ValidateVolume4D(const Volume4D& volume,
                              const ValidationLimits& limits,
                              absl::string_view field);

// A spherical cap that contains a footprint (for a polygon, its outer ring):
// every point of the footprint lies within radius_m (geodesic) of center.
// Conservative by a small margin.
struct BoundingCap {
  LatLng center;
  double radius_m = 0;
};

// REQUIRES: a validated footprint.
BoundingCap ComputeBoundingCap(const Footprint& footprint);

// The same for a polygon whose vertices' ECEF coordinates the caller already
// has (ToEcef of each vertex, in order).
BoundingCap PolygonBoundingCap(const std::vector<Vec3>& vertices_ecef);

std::string DebugString(const Footprint& footprint);

}  // namespace utm::geo

#endif  // UTM_GEO_VOLUME_H_
