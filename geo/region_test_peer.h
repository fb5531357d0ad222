// Test-only access to Region's unindexed paths (declared a friend in
// geo/region.h): the same answers from every edge of the region, which the
// indexed paths are compared with in tests and benchmarks.
#ifndef UTM_GEO_REGION_TEST_PEER_H_
#define UTM_GEO_REGION_TEST_PEER_H_

#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "geo/latlng.h"
#include "geo/region.h"
#include "geo/volume.h"

namespace utm::geo {

class RegionTestPeer {
 public:
  static bool ContainsLinear(const Region& r, const LatLng& p) {
    return r.ContainsLinear(p);
  }
  static bool ContainsLinear(const Region& r, const Footprint& f) {
    return r.ContainsLinear(f);
  }
  // Region::Create with each ring's crossing check swept by latitude
  // alone, as before it was indexed.
  static absl::StatusOr<Region> CreateLinear(std::vector<Polygon> polygons,
                                             const RegionLimits& limits,
                                             absl::string_view field) {
    return Region::CreateLinear(std::move(polygons), limits, field);
  }
};

}  // namespace utm::geo

#endif  // UTM_GEO_REGION_TEST_PEER_H_
