// An index of a region's boundary edges (geo/region.h), so that a
// containment check looks at the edges near the footprint, or in the
// point's column of longitude, instead of every edge of a national border.
//
// Each edge is a geodesic on WGS84. Its bounding box (GeodesicEdgeBoxes)
// holds every point of the geodesic, not only its ends: a long east-west
// edge bulges towards the pole between its ends (a 700 km edge along 47°N
// passes 0.08° north of its ends' latitude), which the box includes, with a
// margin of about a metre in latitude for the difference between the
// geodesic solutions (Vincenty's in Boost, Karney's here). An edge across
// the antimeridian has two boxes, one each side. An edge ending at a pole,
// or joining two meridians 180° apart (it runs over a pole), has a box of
// every longitude and every latitude, so no query misses it.
//
// The boxes go into a packed R-tree (Boost.Geometry, behind this
// interface) over plain (longitude, latitude) degrees. Queries return edge
// ids, which number the edges polygon by polygon, ring by ring (0 the
// outer ring), edge k of a ring running from its vertex k to vertex k + 1
// (the last back to vertex 0): sorting ids groups them by polygon and ring.
//
// Typical usage (Region::Create builds one from its oriented rings):
//   RegionEdgeIndex index(rings);
//   std::vector<uint32_t> ids;
//   index.EdgesAtLongitude(p.lng_deg, &ids);   // the winding count's edges
//
// Thread-safe: immutable after construction.
#ifndef UTM_GEO_REGION_INDEX_H_
#define UTM_GEO_REGION_INDEX_H_

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "geo/latlng.h"

namespace utm::geo {

// A box of plain degrees: lng_lo <= lng_hi within [-180, 180], lat_lo <=
// lat_hi within [-90, 90]. Boxes never wrap; an area across the antimeridian
// is two boxes.
struct LngLatBox {
  double lng_lo = 0, lng_hi = 0;
  double lat_lo = 0, lat_hi = 0;
};

// Latitude margin of every edge box, degrees (about 1.1 m).
inline constexpr double kEdgeBoxLatMarginDeg = 1e-5;
// Longitude margin of every edge box, degrees: more than the rounding of
// the winding count's longitude comparisons.
inline constexpr double kEdgeBoxLngMarginDeg = 1e-7;

// Writes to out[0] (and out[1] across the antimeridian) boxes that together
// hold every point of the geodesic from a to b, margins included; returns
// how many (1 or 2). REQUIRES: a and b valid and distinct.
int GeodesicEdgeBoxes(const LatLng& a, const LatLng& b, LngLatBox out[2]);

// As GeodesicEdgeBoxes, looser (by up to half the edge's length in
// latitude) and some twenty times cheaper for short edges: what a small
// footprint's edges need.
int ShortGeodesicEdgeBoxes(const LatLng& a, const LatLng& b, LngLatBox out[2]);

// Boxes holding every point of a small closed ring of geodesic edges (a
// footprint: at most a few hundred km across) as up to two boxes; returns
// how many, or 0 when the ring is not small enough to bound that way (it
// reaches a pole, or spans more than 90° of longitude).
int SmallRingBoxes(const std::vector<LatLng>& ring, LngLatBox out[2]);

// A box of an item (an item may have several boxes, as an edge across the
// antimeridian has).
struct ItemBox {
  uint32_t item = 0;
  LngLatBox box;
};

// Every pair of distinct items a box of one of which meets (or touches) a
// box of the other, as (i, j) with i < j, each pair once, sorted. A packed
// R-tree of the boxes finds them in O(n log n + k) for n boxes and k
// meeting box pairs, where comparing every box with every other is
// quadratic: Region::Create's check for a ring's crossing edges.
std::vector<std::pair<uint32_t, uint32_t>> MeetingBoxPairs(
    const std::vector<ItemBox>& boxes);

class RegionEdgeIndex {
 public:
  // One ring of the region: its polygon and its number in the polygon (0
  // the outer ring), and its vertices (open: the last joins the first).
  struct Ring {
    uint32_t polygon = 0;
    uint32_t ring = 0;
    std::vector<LatLng> vertices;
  };
  // Where edge id e lies: edge `vertex` of ring `ring` of `polygon`.
  struct EdgeRef {
    uint32_t polygon;
    uint32_t ring;
    uint32_t vertex;
  };

  // REQUIRES: rings of 3 or more distinct valid vertices, ordered by
  // polygon and then ring.
  explicit RegionEdgeIndex(const std::vector<Ring>& rings);
  ~RegionEdgeIndex();
  RegionEdgeIndex(const RegionEdgeIndex&) = delete;
  RegionEdgeIndex& operator=(const RegionEdgeIndex&) = delete;

  size_t edge_count() const { return edges_.size(); }
  const EdgeRef& edge(uint32_t id) const { return edges_[id]; }

  // Appends to `out` the ids of every edge whose box holds longitude
  // `lng_deg` (either spelling of ±180 counts as both), at any latitude.
  void EdgesAtLongitude(double lng_deg, std::vector<uint32_t>* out) const;
  // Appends to `out` the ids of every edge whose box meets `box`.
  void EdgesInBox(const LngLatBox& box, std::vector<uint32_t>* out) const;
  // Appends to `out`, as edge ids of their vertex 0, the holes (rings
  // numbered 1 and up) whose vertex 0 lies in `box`.
  void HolesInBox(const LngLatBox& box, std::vector<uint32_t>* out) const;

 private:
  struct Trees;
  std::vector<EdgeRef> edges_;
  std::unique_ptr<Trees> trees_;
};

}  // namespace utm::geo

#endif  // UTM_GEO_REGION_INDEX_H_
