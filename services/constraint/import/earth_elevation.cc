#include "services/constraint/import/earth_elevation.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/constraint/import/geoid.h"
#include "services/constraint/import/terrain.h"

namespace utm::zones {

using elevation::HeightGrid;
using elevation::HeightRange;

absl::StatusOr<std::unique_ptr<EarthElevation>> EarthElevation::Create(
    EarthElevationOptions options) {
  if (!options.dem.empty() && options.ground_amsl_m) {
    return absl::InvalidArgumentError(
        "give the ground either as a DEM or as one height, not both");
  }
  if (options.geoid_grid.empty()) {
    options.geoid_grid = elevation::DefaultGeoidGridPath();
  }
  std::unique_ptr<EarthElevation> out(new EarthElevation(std::move(options)));
  if (!out->options_.dem.empty()) {
    absl::StatusOr<HeightGrid> dem = elevation::LoadDem(out->options_.dem);
    if (!dem.ok()) return dem.status();
    out->dem_.emplace(*std::move(dem));
  }
  return out;
}

absl::StatusOr<const HeightGrid*> EarthElevation::Geoid() const {
  absl::call_once(geoid_once_, [this] {
    geoid_.emplace(elevation::LoadGtx(options_.geoid_grid));
  });
  if (!geoid_->ok()) return geoid_->status();
  return &**geoid_;
}

absl::StatusOr<HeightRange> EarthElevation::GeoidRangeM(
    const geo::Footprint& footprint) const {
  if (options_.geoid_m)
    return HeightRange{*options_.geoid_m, *options_.geoid_m};
  absl::StatusOr<const HeightGrid*> geoid = Geoid();
  if (!geoid.ok()) return geoid.status();
  return (*geoid)->RangeM(footprint);
}

absl::StatusOr<HeightRange> EarthElevation::GroundRangeM(
    const geo::Footprint& footprint) const {
  if (!dem_ && !options_.ground_amsl_m) {
    return absl::FailedPreconditionError(
        absl::StrCat("no terrain source: ", options_.no_terrain_hint));
  }
  HeightRange ground;
  if (dem_) {
    absl::StatusOr<HeightRange> r = dem_->RangeM(footprint);
    if (!r.ok()) return r.status();
    ground = *r;
    if (options_.dem_heights_wgs84) return ground;
  } else {
    ground = {*options_.ground_amsl_m, *options_.ground_amsl_m};
  }
  absl::StatusOr<HeightRange> n = GeoidRangeM(footprint);
  if (!n.ok()) return n.status();
  return HeightRange{ground.min_m + n->min_m, ground.max_m + n->max_m};
}

std::string EarthElevation::Describe() const {
  std::string geoid =
      options_.geoid_m
          ? absl::StrFormat("geoid undulation %g m everywhere (override)",
                            *options_.geoid_m)
          : absl::StrCat("EGM96 geoid from ", options_.geoid_grid);
  std::string ground =
      dem_ ? absl::StrCat("ground from DEM ", options_.dem,
                          options_.dem_heights_wgs84
                              ? " (heights above WGS84)"
                              : " (heights above mean sea level)")
      : options_.ground_amsl_m
          ? absl::StrFormat("ground %g m above mean sea level everywhere",
                            *options_.ground_amsl_m)
          : std::string("no terrain source");
  return absl::StrCat(geoid, "; ", ground);
}

}  // namespace utm::zones
