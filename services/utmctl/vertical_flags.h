// The flags that say where mean sea level and the ground are, with one
// meaning in every command that reads altitudes (`geo`, `intent`,
// `geofence import|convert`):
//   --ground-m M     the ground's height above mean sea level (EGM96), metres,
//                    the same everywhere in the file
//   --dem FILE       a terrain model (GeoTIFF, latitude/longitude) instead
//   --dem-heights R  amsl (default: SRTM, Copernicus) or wgs84
//   --geoid-m N      override: this undulation instead of the EGM96 grid
//   --geoid-grid F   another .gtx grid than /usr/share/proj/egm96_15.gtx
// AMSL and flight levels always use the geoid; AGL needs --dem or
// --ground-m and is refused without one (docs/utmctl.md).
#ifndef UTM_SERVICES_UTMCTL_VERTICAL_FLAGS_H_
#define UTM_SERVICES_UTMCTL_VERTICAL_FLAGS_H_

#include <memory>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "services/constraint/import/earth_elevation.h"

namespace utm::ctl {

struct VerticalFlags {
  std::optional<double> ground_m;  // above mean sea level (EGM96)
  std::string dem;
  std::string dem_heights = "amsl";  // amsl or wgs84
  std::optional<double> geoid_m;
  std::string geoid_grid;
};

// Adds the flags above to `app`, writing into `flags` (not owned; must
// outlive parsing).
void AddVerticalFlags(CLI::App* app, VerticalFlags* flags);

// The elevation model the flags describe. Errors: both --dem and
// --ground-m (INVALID_ARGUMENT), or an unusable DEM (terrain.h).
absl::StatusOr<std::unique_ptr<zones::EarthElevation>> MakeElevation(
    const VerticalFlags& flags);

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_VERTICAL_FLAGS_H_
