// A terrain model (DEM) read through GDAL: band 1 of any raster GDAL opens,
// in practice a GeoTIFF such as an SRTM or Copernicus DEM tile the provider
// supplies, as a HeightGrid of ground heights.
//
// Requirements, each refused with a message naming the file: a geographic
// (latitude/longitude) CRS — a projected DEM must be warped first, e.g.
// `gdalwarp -t_srs EPSG:4326 in.tif out.tif` — a north-up geotransform with
// no rotation, heights in metres or feet, at most kMaxDemCells pixels. The
// band's nodata value marks holes; scale and offset are applied.
//
// GDAL cannot tell reliably which vertical datum a DEM's heights are in, so
// the caller says (DemHeights): SRTM and Copernicus DEMs are orthometric
// (EGM96 / EGM2008: above mean sea level); a few products are ellipsoidal.
//
// Typical usage:
//   absl::StatusOr<HeightGrid> dem = LoadDem("kigali.tif");
//   absl::StatusOr<HeightRange> ground = dem->RangeM(footprint);
#ifndef UTM_SERVICES_CONSTRAINT_IMPORT_TERRAIN_H_
#define UTM_SERVICES_CONSTRAINT_IMPORT_TERRAIN_H_

#include <string>

#include "absl/status/statusor.h"
#include "services/constraint/import/height_grid.h"

namespace utm::elevation {

// Largest DEM read into memory (4 bytes per pixel): 1 GB.
inline constexpr double kMaxDemCells = 250e6;

// Opens `path` and reads band 1. NOT_FOUND when GDAL cannot open it,
// INVALID_ARGUMENT for a DEM outside the requirements above (the message
// says which and how to fix it), RESOURCE_EXHAUSTED above kMaxDemCells.
// Thread-safe.
absl::StatusOr<HeightGrid> LoadDem(const std::string& path);

}  // namespace utm::elevation

#endif  // UTM_SERVICES_CONSTRAINT_IMPORT_TERRAIN_H_
