#include "services/utmctl/vertical_flags.h"

#include <utility>

namespace utm::ctl {

void AddVerticalFlags(CLI::App* app, VerticalFlags* flags) {
  CLI::Option* ground = app->add_option_function<double>(
      "--ground-m", [flags](double m) { flags->ground_m = m; },
      "Ground height above mean sea level (EGM96), metres, for AGL "
      "altitudes; the same everywhere");
  CLI::Option* dem =
      app->add_option("--dem", flags->dem,
                      "Terrain model for AGL altitudes: a GeoTIFF (or any "
                      "GDAL raster) in latitude/longitude")
          ->check(CLI::ExistingFile);
  ground->excludes(dem);
  app->add_option("--dem-heights", flags->dem_heights,
                  "Vertical datum of the DEM's heights: amsl (SRTM, "
                  "Copernicus) or wgs84")
      ->check(CLI::IsMember({"amsl", "wgs84"}))
      ->capture_default_str();
  app->add_option_function<double>(
      "--geoid-m", [flags](double m) { flags->geoid_m = m; },
      "Override: this geoid undulation (mean sea level above WGS84, metres) "
      "everywhere instead of the EGM96 grid");
  app->add_option("--geoid-grid", flags->geoid_grid,
                  "Geoid grid (.gtx) instead of EGM96 from proj-data");
}

absl::StatusOr<std::unique_ptr<zones::EarthElevation>> MakeElevation(
    const VerticalFlags& flags) {
  zones::EarthElevationOptions options;
  options.geoid_grid = flags.geoid_grid;
  options.geoid_m = flags.geoid_m;
  options.dem = flags.dem;
  options.ground_amsl_m = flags.ground_m;
  options.dem_heights_wgs84 = flags.dem_heights == "wgs84";
  return zones::EarthElevation::Create(std::move(options));
}

}  // namespace utm::ctl
