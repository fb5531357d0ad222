// Data residency: a deployment that serves one region, and the one check
// every service makes before it stores anything.
//
// A deployment started with --region CODE --region-boundary FILE keeps only
// data of its region: every write that would store something (an intent's
// volumes, a constraint's volumes, a registration, a position report) is
// refused with FAILED_PRECONDITION when the airspace it names does not lie
// entirely inside the region's boundary, or when the caller's token names a
// home region (the "home_region" claim, auth.h) other than this
// deployment's. A token without home_region is accepted unless the
// deployment requires one (--require-home-region). Nothing is stored of a
// refused write: services check before they hand the write to their core.
//
// A deployment without a region has no RegionPolicy (services hold a null
// pointer) and serves everywhere.
//
// Typical usage (in a service adapter, before the write reaches the core):
//   if (region_ != nullptr) {
//     UTM_RETURN_IF_ERROR(region_->CheckCaller(caller));
//     UTM_RETURN_IF_ERROR(region_->CheckVolumes(volumes, "volumes"));
//   }
#ifndef UTM_SERVICES_COMMON_REGION_H_
#define UTM_SERVICES_COMMON_REGION_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "geo/latlng.h"
#include "geo/region.h"
#include "geo/volume.h"
#include "services/common/auth.h"

namespace utm::region {

// Largest boundary file read, bytes: a detailed national border in GeoJSON
// is a few MiB.
inline constexpr size_t kMaxBoundaryFileBytes = 32 << 20;

// The polygons of a GeoJSON text (RFC 7946): a Polygon, a MultiPolygon, a
// Feature holding one, or a FeatureCollection of such Features. Positions
// are [longitude, latitude] (a third number, an altitude, is ignored); each
// ring repeats its first position last, as RFC 7946 requires. INVALID_ARGUMENT
// starting with `file` and naming the place in the document
// ("features[2].geometry.coordinates[0][5]: ..."): not JSON, another
// geometry type, a position that is not two or three numbers, a ring that
// does not close or has fewer than 4 positions. The rings themselves are
// checked by geo::Region::Create().
absl::StatusOr<std::vector<geo::Polygon>> ParseBoundaryGeoJson(
    absl::string_view text, absl::string_view file);

class RegionPolicy {
 public:
  // Validates `code` (auth::ValidateRegionCode, as "--region") and reads
  // the boundary file (at most kMaxBoundaryFileBytes; ParseBoundaryGeoJson,
  // geo::Region::Create). Errors name the flag or the file and the place in
  // it; NOT_FOUND when the file cannot be read.
  static absl::StatusOr<RegionPolicy> Load(const std::string& code,
                                           const std::string& boundary_file,
                                           bool require_home_region);

  // REQUIRES: a valid code.
  RegionPolicy(std::string code, geo::Region boundary,
               bool require_home_region);

  // The region code, e.g. "EU-DE".
  const std::string& code() const { return code_; }
  const geo::Region& boundary() const { return boundary_; }
  bool require_home_region() const { return require_home_region_; }

  // OK when the caller may write here: its token names this region, or no
  // region and the deployment does not require one. FAILED_PRECONDITION
  // otherwise, naming both regions and where to go instead.
  absl::Status CheckCaller(const auth::Principal& caller) const;

  // OK when every volume's footprint lies entirely inside the region;
  // otherwise FAILED_PRECONDITION "<field>[i] lies outside region CODE
  // (deployment boundary)" for the first that does not. REQUIRES: validated
  // volumes.
  absl::Status CheckVolumes(const std::vector<geo::Volume4D>& volumes,
                            absl::string_view field) const;
  absl::Status CheckFootprint(const geo::Footprint& footprint,
                              absl::string_view field) const;
  // The same for one position (e.g. "reports[3].position").
  absl::Status CheckPosition(const geo::LatLng& position,
                             absl::string_view field) const;

 private:
  std::string code_;
  geo::Region boundary_;
  bool require_home_region_;
};

}  // namespace utm::region

#endif  // UTM_SERVICES_COMMON_REGION_H_
