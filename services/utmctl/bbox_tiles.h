// Splitting a latitude/longitude box into tiles small enough for one query.
// utmd limits a query area like a constraint (120 km from its centre), so a
// country-sized `constraint query --bbox` is asked tile by tile, each tile
// page by page, and the answers merged by id.
//
// Typical usage:
//   std::vector<LatLngBox> tiles = TileBox(box, kQueryTileDeg);
#ifndef UTM_SERVICES_UTMCTL_BBOX_TILES_H_
#define UTM_SERVICES_UTMCTL_BBOX_TILES_H_

#include <cstddef>
#include <vector>

#include "utm/v1/common.pb.h"

namespace utm::ctl {

// Degrees WGS84; min < max.
struct LatLngBox {
  double min_lat = 0, min_lng = 0, max_lat = 0, max_lng = 0;
};

// A 1° x 1° tile reaches at most ~79 km from its centre (at the equator)
// and covers at most ~12,400 km²: inside utmd's query limits (120 km,
// 100,000 km²) with room for the geodesic edges.
inline constexpr double kQueryTileDeg = 1.0;
// Most tiles one listing asks for (a 50° x 50° box).
inline constexpr size_t kMaxQueryTiles = 2500;

// The box as a grid of equal tiles, none wider or taller than `max_deg`
// (REQUIRES: > 0), row by row from the south-west; the tiles share their
// edges and together are exactly the box. One tile (the box) when it fits.
std::vector<LatLngBox> TileBox(const LatLngBox& box, double max_deg);

// The box's outline as a query area: its four corners (geodesic edges), all
// altitudes and times.
v1::Volume4D BoxArea(const LatLngBox& box);

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_BBOX_TILES_H_
