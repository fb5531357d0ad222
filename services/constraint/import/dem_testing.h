// Test helper: writes small GeoTIFF DEMs through GDAL whose heights are known
// everywhere (a tilted plane), with an optional hole.
#ifndef UTM_SERVICES_CONSTRAINT_IMPORT_DEM_TESTING_H_
#define UTM_SERVICES_CONSTRAINT_IMPORT_DEM_TESTING_H_

#include <cpl_conv.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include <string>
#include <vector>

namespace utm::elevation::testing {

// h(lat, lng) = base_m + east_m_per_deg * (lng - west) + north_m_per_deg *
// (lat - south), sampled at pixel centres.
struct TiltedDem {
  double west = 30.10, south = -2.00;  // outer corner, degrees
  double pixel_deg = 0.001;
  int cols = 100, rows = 100;
  double base_m = 1400, east_m_per_deg = 2000, north_m_per_deg = 1000;
  int epsg = 4326;    // 0: no CRS at all
  bool hole = false;  // nodata in pixels [40, 45) x [40, 45)
  float nodata = -9999;

  double HeightAt(double lat, double lng) const {
    return base_m + east_m_per_deg * (lng - west) +
           north_m_per_deg * (lat - south);
  }
  double North() const { return south + rows * pixel_deg; }
  double East() const { return west + cols * pixel_deg; }

  // Writes the GeoTIFF; false (with GDAL's message on stderr) on failure.
  bool Write(const std::string& path) const {
    GDALAllRegister();
    GDALDriverH driver = GDALGetDriverByName("GTiff");
    if (driver == nullptr) return false;
    GDALDatasetH d =
        GDALCreate(driver, path.c_str(), cols, rows, 1, GDT_Float32, nullptr);
    if (d == nullptr) return false;
    double transform[6] = {west, pixel_deg, 0, North(), 0, -pixel_deg};
    GDALSetGeoTransform(d, transform);
    if (epsg != 0) {
      OGRSpatialReferenceH srs = OSRNewSpatialReference(nullptr);
      OSRImportFromEPSG(srs, epsg);
      GDALSetSpatialRef(d, srs);
      OSRDestroySpatialReference(srs);
    }
    std::vector<float> h(static_cast<size_t>(cols) * rows);
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < cols; ++c) {
        const double lat = North() - (r + 0.5) * pixel_deg;
        const double lng = west + (c + 0.5) * pixel_deg;
        const bool in_hole = hole && r >= 40 && r < 45 && c >= 40 && c < 45;
        h[static_cast<size_t>(r) * cols + c] =
            in_hole ? nodata : static_cast<float>(HeightAt(lat, lng));
      }
    }
    GDALRasterBandH band = GDALGetRasterBand(d, 1);
    GDALSetRasterNoDataValue(band, nodata);
    const bool ok = GDALRasterIO(band, GF_Write, 0, 0, cols, rows, h.data(),
                                 cols, rows, GDT_Float32, 0, 0) == CE_None;
    GDALClose(d);
    return ok;
  }
};

}  // namespace utm::elevation::testing

#endif  // UTM_SERVICES_CONSTRAINT_IMPORT_DEM_TESTING_H_
