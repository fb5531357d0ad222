// A deployment's region: the area of the Earth one utmd deployment serves,
// as polygons on the WGS84 ellipsoid, and the test "does this footprint (or
// point) lie entirely inside it".
//
// A region is one or more polygons (each an outer ring and any number of
// holes) with geodesic edges, as geo/volume.h models a footprint, but with
// no limit on reach: a region may be a country or a continent. The
// polygons should not overlap; a footprint must lie entirely inside one of
// them (regions drawn as several touching polygons refuse a footprint that
// straddles the line where two of them meet: draw such a region as one
// polygon).
//
// Containment is exact for polygons: every point of the footprint, its
// edges included, lies in the region's closed area (touching the boundary
// from inside counts as inside; a footprint touching a hole's edge from
// outside the hole is inside too, as the hole is open). A circle is tested
// as the 64-gon that circumscribes it (its vertices 0.12 % farther out than
// the radius), so a circle within about a thousandth of its radius of the
// boundary is refused although it does not cross it: refusing is the safe
// side for residency. Edges crossing the antimeridian are supported.
// Boost.Geometry's geographic strategies with Vincenty's geodesics decide,
// behind this interface: its polygon-in-polygon test, and, because that one
// can miss where a very short edge crosses a long one, its point tests too
// (every vertex of the footprint in the polygon, no vertex of the polygon
// strictly inside the footprint). Where they disagree, within centimetres
// of the boundary, the footprint is refused.
//
// Create() files the boundary's edges in an index (geo/region_index.h), so
// a check costs O(log n + k) for n vertices, k of them near the footprint
// (or in the point's column of longitude), and gives the answer the
// unindexed test gives. Only a footprint that touches the boundary without
// clearly crossing it (an end on it, or within a metre of crossing it) is
// decided against every edge of the polygon it touches.
//
// Typical usage:
//   UTM_ASSIGN_OR_RETURN(Region region, Region::Create(polygons, {},
//   "eu.json")); if (!region.Contains(volume.volume.footprint)) { ... refuse
//   ... }
#ifndef UTM_GEO_REGION_H_
#define UTM_GEO_REGION_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "geo/latlng.h"
#include "geo/volume.h"

namespace utm::geo {

struct RegionLimits {
  // Most polygons in one region. DEFAULT: 1,000.
  int max_polygons = 1000;
  // Most vertices in all rings of all polygons together. DEFAULT: 100,000
  // (a detailed national border).
  int max_vertices = 100000;
};

// Immutable once created; cheap to copy (the prepared geometry is shared).
// Thread-safe.
class Region {
 public:
  // Validates `polygons` and prepares them. INVALID_ARGUMENT with a message
  // starting with `field` and naming the polygon, ring (0 the outer ring,
  // 1.. the holes) and vertex or edges at fault: no polygon, too many
  // polygons or vertices, a ring of fewer than 3 distinct vertices, a
  // latitude or longitude out of range or not finite, two edges of a ring
  // crossing or touching (edge k runs from vertex k to vertex k+1), a hole
  // not inside its outer ring, a ring enclosing no area.
  static absl::StatusOr<Region> Create(std::vector<Polygon> polygons,
                                       const RegionLimits& limits,
                                       absl::string_view field);

  // Whether p lies in the region (its boundary included).
  bool Contains(const LatLng& p) const;
  // Whether the whole footprint lies in one polygon of the region (see the
  // file comment). REQUIRES: a validated footprint (geo/volume.h).
  bool Contains(const Footprint& footprint) const;

  const std::vector<Polygon>& polygons() const;
  // Vertices in all rings of all polygons.
  int vertex_count() const;

 private:
  struct Prepared;
  // Tests and benchmarks compare the indexed checks above with these:
  // the same answers from every edge of the region (linear in its
  // vertices), as Boost.Geometry decides them.
  friend class RegionTestPeer;
  bool ContainsLinear(const LatLng& p) const;
  bool ContainsLinear(const Footprint& footprint) const;
  // Create() as it was before its ring check used an index: the same
  // answer (the same region or the same error), with each ring's edges
  // swept by latitude alone, which is near-quadratic for a national border.
  static absl::StatusOr<Region> CreateLinear(std::vector<Polygon> polygons,
                                             const RegionLimits& limits,
                                             absl::string_view field);
  // Create() (indexed) or CreateLinear().
  static absl::StatusOr<Region> Build(std::vector<Polygon> polygons,
                                      const RegionLimits& limits,
                                      absl::string_view field, bool indexed);

  explicit Region(std::shared_ptr<const Prepared> prepared);
  std::shared_ptr<const Prepared> prepared_;
};

}  // namespace utm::geo

#endif  // UTM_GEO_REGION_H_
