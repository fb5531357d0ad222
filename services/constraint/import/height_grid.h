// A regular latitude/longitude grid of heights — a geoid model or a terrain
// model (DEM) — with bilinear lookups and the range of heights under a whole
// footprint. Pure: no file formats here (geoid.h reads NOAA .gtx grids,
// terrain.h reads DEMs through GDAL).
//
// Heights are given at grid nodes (cell centres of a "pixel is area"
// raster). Between nodes the surface is bilinear. RangeM() gives the exact
// range of that surface over a footprint, not a sample of it: inside a cell
// a bilinear surface has no extremum of its own, so its extremes under a
// footprint lie at the nodes inside it or on its boundary — and along each
// short piece of boundary within one cell the surface is a quadratic, whose
// extremes are its ends and its vertex.
//
// Typical usage:
//   GridGeometry g{.lng0_deg = -180, .lat0_deg = -90, .dlng_deg = 0.25,
//                  .dlat_deg = 0.25, .cols = 1440, .rows = 721,
//                  .wraps_longitude = true};
//   HeightGrid grid("egm96_15.gtx", g, std::move(heights), std::nullopt);
//   absl::StatusOr<double> n = grid.HeightM({46.9, 7.5});
//   absl::StatusOr<HeightRange> r = grid.RangeM(footprint);
#ifndef UTM_SERVICES_CONSTRAINT_IMPORT_HEIGHT_GRID_H_
#define UTM_SERVICES_CONSTRAINT_IMPORT_HEIGHT_GRID_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "geo/latlng.h"
#include "geo/volume.h"

namespace utm::elevation {

// Lowest and highest height, metres.
struct HeightRange {
  double min_m = 0;
  double max_m = 0;
};

// Where the nodes of a grid are. Node (col, row) sits at longitude
// lng0_deg + col * dlng_deg and latitude lat0_deg + row * dlat_deg.
struct GridGeometry {
  double lng0_deg = 0;
  double lat0_deg = 0;
  double dlng_deg = 1;  // REQUIRES: > 0
  double dlat_deg = 1;  // REQUIRES: != 0 (negative for north-up rasters)
  int cols = 0;         // REQUIRES: >= 1
  int rows = 0;         // REQUIRES: >= 1
  // A global grid: column `cols` is column 0 again (geoid models). Otherwise
  // the grid covers its nodes plus half a cell around them (a DEM's pixels),
  // and points beyond are outside it.
  bool wraps_longitude = false;
};

class HeightGrid {
 public:
  // `heights` holds rows * cols values, row after row. Values equal to
  // `nodata`, and NaNs, are holes. `name` appears in error messages (a file
  // name). REQUIRES: heights.size() == rows * cols.
  HeightGrid(std::string name, GridGeometry geometry,
             std::vector<float> heights, std::optional<float> nodata);

  // The bilinear height at `p`. OUT_OF_RANGE when `p` is outside the grid;
  // NOT_FOUND when a node it needs is a hole. Messages name the grid and the
  // point. Thread-safe.
  absl::StatusOr<double> HeightM(const geo::LatLng& p) const;

  // The lowest and highest height of the bilinear surface over every point
  // of `footprint` (a validated polygon or circle): along its boundary
  // (densified to half a cell) and at every node inside it (a scan-line
  // fill). Errors as HeightM (the hole or the point outside is named), and
  // RESOURCE_EXHAUSTED when the footprint's bounding box spans more than
  // kMaxCells nodes. Thread-safe.
  absl::StatusOr<HeightRange> RangeM(const geo::Footprint& footprint) const;

  // Largest number of nodes RangeM() reads for one footprint.
  static constexpr double kMaxCells = 50e6;

  const std::string& name() const { return name_; }
  const GridGeometry& geometry() const { return geometry_; }

 private:
  // Fractional column and row of `p`; OUT_OF_RANGE outside the grid.
  absl::Status ToGrid(const geo::LatLng& p, double* x, double* y) const;
  // The bilinear height at fractional column x and row y (inside the
  // grid); NOT_FOUND naming the hole.
  absl::StatusOr<double> Bilinear(double x, double y) const;
  // The node's height; NOT_FOUND for a hole. `col` may be any integer on a
  // wrapping grid; REQUIRES a row and (otherwise) column inside the grid.
  absl::StatusOr<double> Node(long col, long row) const;
  geo::LatLng NodePosition(long col, long row) const;
  // Smallest cell side in metres around latitude `lat_deg`.
  double CellSideM(double lat_deg) const;

  std::string name_;
  GridGeometry geometry_;
  std::vector<float> heights_;
  std::optional<float> nodata_;
};

}  // namespace utm::elevation

#endif  // UTM_SERVICES_CONSTRAINT_IMPORT_HEIGHT_GRID_H_
