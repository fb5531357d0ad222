#include "services/utmctl/bbox_tiles.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace utm::ctl {

std::vector<LatLngBox> TileBox(const LatLngBox& box, double max_deg) {
  const int rows = std::max(
      1, static_cast<int>(std::ceil((box.max_lat - box.min_lat) / max_deg)));
  const int cols = std::max(
      1, static_cast<int>(std::ceil((box.max_lng - box.min_lng) / max_deg)));
  const double dlat = (box.max_lat - box.min_lat) / rows;
  const double dlng = (box.max_lng - box.min_lng) / cols;
  std::vector<LatLngBox> tiles;
  tiles.reserve(static_cast<size_t>(rows) * static_cast<size_t>(cols));
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      // The last row and column end exactly on the box.
      tiles.push_back(
          {box.min_lat + r * dlat, box.min_lng + c * dlng,
           r + 1 == rows ? box.max_lat : box.min_lat + (r + 1) * dlat,
           c + 1 == cols ? box.max_lng : box.min_lng + (c + 1) * dlng});
    }
  }
  return tiles;
}

v1::Volume4D BoxArea(const LatLngBox& box) {
  v1::Volume4D area;
  v1::Polygon* polygon = area.mutable_volume()->mutable_outline_polygon();
  for (const auto& [lat, lng] : {std::pair{box.min_lat, box.min_lng},
                                 std::pair{box.min_lat, box.max_lng},
                                 std::pair{box.max_lat, box.max_lng},
                                 std::pair{box.max_lat, box.min_lng}}) {
    v1::LatLng* p = polygon->add_vertices();
    p->set_lat_deg(lat);
    p->set_lng_deg(lng);
  }
  return area;
}

}  // namespace utm::ctl
