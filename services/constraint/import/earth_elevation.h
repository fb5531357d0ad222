// The elevation model utmctl uses: the EGM96 geoid (geoid.h) for mean sea
// level, and for the ground either a DEM (terrain.h) or one ground height
// given explicitly — or no ground at all, in which case AGL limits fail with
// a message saying how to give one. Nothing is assumed: there is no default
// ground height and no default undulation.
//
// Typical usage:
//   EarthElevationOptions options;
//   options.dem = "kigali-dem.tif";
//   absl::StatusOr<std::unique_ptr<EarthElevation>> earth =
//       EarthElevation::Create(options);
//   if (!earth.ok()) ... the DEM is unusable ...
//   ImportOptions import;
//   import.elevation = earth->get();
#ifndef UTM_SERVICES_CONSTRAINT_IMPORT_EARTH_ELEVATION_H_
#define UTM_SERVICES_CONSTRAINT_IMPORT_EARTH_ELEVATION_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/base/call_once.h"
#include "absl/status/statusor.h"
#include "services/constraint/import/height_grid.h"
#include "services/constraint/import/zone_import.h"

namespace utm::zones {

struct EarthElevationOptions {
  // The geoid grid (.gtx). DEFAULT (empty): elevation::DefaultGeoidGridPath(),
  // EGM96 from proj-data. Read on first use, so files with WGS84 limits only
  // convert on a machine without it.
  std::string geoid_grid;
  // A constant undulation instead of the grid: an explicit override for a
  // model other than EGM96 over a small area. DEFAULT: the grid.
  std::optional<double> geoid_m;
  // The ground: a DEM file, or one height above mean sea level (EGM96) for
  // every point. REQUIRES: not both. DEFAULT: none (AGL and SFC fail).
  std::string dem;
  std::optional<double> ground_amsl_m;
  // Whether the DEM's heights are above the WGS84 ellipsoid rather than
  // above mean sea level (EGM96/EGM2008, SRTM, Copernicus). DEFAULT: false.
  bool dem_heights_wgs84 = false;
  // What the AGL error tells the user to do when there is no ground.
  // DEFAULT: utmctl's flags.
  std::string no_terrain_hint = "pass --dem FILE.tif or --ground-m M";
};

class EarthElevation final : public ElevationModel {
 public:
  // Loads the DEM, if any (LoadDem's errors). INVALID_ARGUMENT for both a
  // DEM and a ground height.
  static absl::StatusOr<std::unique_ptr<EarthElevation>> Create(
      EarthElevationOptions options);

  // The grid's range over the footprint (or the override); the grid's load
  // error (NOT_FOUND: install proj-data) when it cannot be read.
  absl::StatusOr<elevation::HeightRange> GeoidRangeM(
      const geo::Footprint& footprint) const override;
  // DEM or ground height + geoid. For a DEM above mean sea level the range
  // is [lowest ground + lowest N, highest ground + highest N]: a little
  // wider than the exact one (N varies by metres over tens of km), never
  // narrower. FAILED_PRECONDITION "no terrain source: <hint>" without
  // ground.
  absl::StatusOr<elevation::HeightRange> GroundRangeM(
      const geo::Footprint& footprint) const override;
  std::string Describe() const override;

 private:
  explicit EarthElevation(EarthElevationOptions options)
      : options_(std::move(options)) {}
  absl::StatusOr<const elevation::HeightGrid*> Geoid() const;

  EarthElevationOptions options_;
  std::optional<elevation::HeightGrid> dem_;
  mutable absl::once_flag geoid_once_;
  mutable std::optional<absl::StatusOr<elevation::HeightGrid>> geoid_;
};

}  // namespace utm::zones

#endif  // UTM_SERVICES_CONSTRAINT_IMPORT_EARTH_ELEVATION_H_
