// For tests: a deployment's region drawn as a box.
#ifndef UTM_SERVICES_COMMON_REGION_TESTING_H_
#define UTM_SERVICES_COMMON_REGION_TESTING_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "geo/latlng.h"
#include "geo/region.h"
#include "services/common/region.h"

namespace utm::region::test_util {

// The region `code` of the box from `south_west` to `north_east` (degrees,
// not across the antimeridian). REQUIRES: a valid code and box.
inline RegionPolicy BoxRegion(const std::string& code,
                              const geo::LatLng& south_west,
                              const geo::LatLng& north_east,
                              bool require_home_region = false) {
  absl::StatusOr<geo::Region> boundary = geo::Region::Create(
      {geo::Polygon{{south_west,
                     {south_west.lat_deg, north_east.lng_deg},
                     north_east,
                     {north_east.lat_deg, south_west.lng_deg}}}},
      {}, "test boundary");
  return RegionPolicy(code, *std::move(boundary), require_home_region);
}

}  // namespace utm::region::test_util

#endif  // UTM_SERVICES_COMMON_REGION_TESTING_H_
