#include "services/constraint/import/terrain.h"

#include <cpl_error.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include <cmath>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace utm::elevation {
namespace {

// GDAL's last error message on this thread, or `fallback`.
std::string GdalError(const char* fallback) {
  const char* m = CPLGetLastErrorMsg();
  return m != nullptr && *m != '\0' ? m : fallback;
}

struct DatasetCloser {
  void operator()(void* d) const { GDALClose(d); }
};

}  // namespace

absl::StatusOr<HeightGrid> LoadDem(const std::string& path) {
  static std::once_flag registered;
  std::call_once(registered, [] { GDALAllRegister(); });
  // Errors come back as Status; GDAL's default handler would print them.
  CPLPushErrorHandler(CPLQuietErrorHandler);
  struct PopHandler {
    ~PopHandler() { CPLPopErrorHandler(); }
  } pop;
  CPLErrorReset();
  std::unique_ptr<void, DatasetCloser> dataset(
      GDALOpen(path.c_str(), GA_ReadOnly));
  const std::string where = absl::StrCat("DEM ", path);
  if (dataset == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(where, ": cannot open: ", GdalError("not a raster")));
  }
  if (GDALGetRasterCount(dataset.get()) < 1) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": no raster band"));
  }
  OGRSpatialReferenceH srs = GDALGetSpatialRef(dataset.get());
  if (srs == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        where,
        ": no coordinate reference system; assign one (gdal_edit.py -a_srs "
        "EPSG:4326) rather than let the ground be placed on a guess"));
  }
  if (!OSRIsGeographic(srs)) {
    const char* name = OSRGetName(srs);
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": CRS \"", name != nullptr ? name : "?",
        "\" is not geographic; warp it first: gdalwarp -t_srs EPSG:4326 ", path,
        " OUT.tif"));
  }
  double t[6];
  if (GDALGetGeoTransform(dataset.get(), t) != CE_None) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": no geotransform (georeferencing)"));
  }
  if (t[2] != 0 || t[4] != 0 || !(t[1] > 0) || t[5] == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": rotated or flipped geotransform; warp it north-up first"));
  }
  GridGeometry g;
  g.cols = GDALGetRasterXSize(dataset.get());
  g.rows = GDALGetRasterYSize(dataset.get());
  if (static_cast<double>(g.cols) * g.rows > kMaxDemCells) {
    return absl::ResourceExhaustedError(absl::StrCat(
        where, ": ", g.cols, " x ", g.rows,
        " pixels is more than this importer reads; crop it to the zones "
        "(gdal_translate -projwin)"));
  }
  // The geotransform gives the outer corner of pixel (0, 0); heights are
  // taken at pixel centres.
  g.dlng_deg = t[1];
  g.dlat_deg = t[5];
  g.lng0_deg = t[0] + 0.5 * t[1];
  g.lat0_deg = t[3] + 0.5 * t[5];
  g.wraps_longitude = false;

  GDALRasterBandH band = GDALGetRasterBand(dataset.get(), 1);
  double scale = GDALGetRasterScale(band, nullptr);
  const double offset = GDALGetRasterOffset(band, nullptr);
  const std::string unit = absl::AsciiStrToLower(GDALGetRasterUnitType(band));
  if (unit == "ft" || unit == "foot" || unit == "feet" || unit == "us-ft") {
    scale *= unit == "us-ft" ? 1200.0 / 3937 : 0.3048;
  } else if (!unit.empty() && unit != "m" && unit != "metre" &&
             unit != "meter" && unit != "metres" && unit != "meters") {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": heights in \"", unit, "\"; expected metres or feet"));
  }
  int has_nodata = 0;
  const double nodata = GDALGetRasterNoDataValue(band, &has_nodata);
  std::vector<float> heights(static_cast<size_t>(g.cols) * g.rows);
  if (GDALRasterIO(band, GF_Read, 0, 0, g.cols, g.rows, heights.data(), g.cols,
                   g.rows, GDT_Float32, 0, 0) != CE_None) {
    return absl::DataLossError(
        absl::StrCat(where, ": cannot read band 1: ", GdalError("I/O error")));
  }
  const float nodata_f = static_cast<float>(nodata);
  for (float& h : heights) {
    if (has_nodata && h == nodata_f) {
      h = NAN;  // a hole stays a hole after scaling
    } else {
      h = static_cast<float>(h * scale + offset);
    }
  }
  return HeightGrid(path, g, std::move(heights), std::nullopt);
}

}  // namespace utm::elevation
