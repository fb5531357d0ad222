// A hash-grid geometry over the Earth's surface for neighbour searches:
// rows of equal latitude height, each split into columns at least one cell
// wide at every latitude in the row. Two dimensions, not three: aircraft
// fly in a shell a few kilometres thick, so an ECEF cube grid would look up
// 27 cells (most empty or nearly so) where this looks up about 9.
//
// Guarantee: every point within `radius_m` (geodesic) of p lies in one of
// the cells ForEachNear(p, radius_m) visits, each visited once. Near the
// poles whole rows are visited. Pure; thread-compatible.
//
//   SurfaceGrid grid(1000);
//   cells[grid.CellOf(p)].push_back(x);
//   grid.ForEachNear(q, 700, [&](SurfaceGrid::Key k) { ... cells.find(k) ...
//   });
#ifndef UTM_SERVICES_TELEMETRY_SURFACE_GRID_H_
#define UTM_SERVICES_TELEMETRY_SURFACE_GRID_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "geo/latlng.h"

namespace utm::telemetry {

class SurfaceGrid {
 public:
  using Key = uint64_t;

  // Cells at least `cell_m` (at least 10 m) on a side.
  explicit SurfaceGrid(double cell_m);

  double cell_m() const { return cell_m_; }
  int64_t rows() const { return static_cast<int64_t>(columns_.size()); }
  int columns(int64_t row) const { return columns_[row]; }

  // The cell holding `p` (latitude in [-90, 90], longitude in [-180, 180]).
  Key CellOf(const geo::LatLng& p) const {
    const int64_t row = RowOf(p.lat_deg);
    return KeyOf(row, ColumnOf(row, p.lng_deg));
  }

  // Calls fn(Key) once for each cell that may hold a point within
  // `radius_m` of `p`. About (2·radius/cell + 1)² cells.
  template <typename Fn>
  void ForEachNear(const geo::LatLng& p, double radius_m, Fn&& fn) const {
    const int64_t r0 = RowOf(p.lat_deg);
    // Rows are at least cell_m tall.
    const int64_t k = std::max<int64_t>(
        1, static_cast<int64_t>(std::ceil(radius_m / cell_m_)));
    // The reach's most poleward latitude bounds its longitude span.
    const double poleward =
        std::abs(p.lat_deg) + radius_m / kMinMetresPerDegLat;
    const bool whole_rows = poleward >= kPolarDeg;
    const double span_deg =
        whole_rows ? 360
                   : kMargin * radius_m /
                         (kMinMetresPerDegLng * std::cos(poleward * kRad));
    for (int64_t r = std::max<int64_t>(r0 - k, 0);
         r <= std::min<int64_t>(r0 + k, rows() - 1); ++r) {
      const int cols = columns_[r];
      const double width = 360.0 / cols;
      if (whole_rows || 2 * span_deg + width >= 360) {
        for (int c = 0; c < cols; ++c) fn(KeyOf(r, c));
        continue;
      }
      const int64_t lo = static_cast<int64_t>(
          std::floor((p.lng_deg - span_deg + 180) / width));
      const int64_t hi = static_cast<int64_t>(
          std::floor((p.lng_deg + span_deg + 180) / width));
      for (int64_t c = lo; c <= hi; ++c) {
        fn(KeyOf(r, static_cast<int>(((c % cols) + cols) % cols)));
      }
    }
  }

 private:
  static constexpr double kRad = M_PI / 180;
  // Metres per degree of latitude at the equator: the fewest anywhere.
  static constexpr double kMinMetresPerDegLat = 110574.0;
  // Metres per degree of longitude at latitude φ are N(φ)·cos φ·π/180 with
  // N ≥ a: at least a·cos φ·π/180.
  static constexpr double kMinMetresPerDegLng = 6378137.0 * M_PI / 180;
  // Rows reaching this far from the equator are searched whole.
  static constexpr double kPolarDeg = 89.0;
  // Allowance for the flat approximation of a few kilometres.
  static constexpr double kMargin = 1.01;

  static Key KeyOf(int64_t row, int col) {
    return (static_cast<uint64_t>(row) << 32) | static_cast<uint32_t>(col);
  }
  int64_t RowOf(double lat_deg) const {
    return std::clamp<int64_t>(
        static_cast<int64_t>(std::floor((lat_deg + 90) / row_deg_)), 0,
        rows() - 1);
  }
  int ColumnOf(int64_t row, double lng_deg) const {
    const int cols = columns_[row];
    return std::clamp(
        static_cast<int>(std::floor((lng_deg + 180) / (360.0 / cols))), 0,
        cols - 1);
  }

  double cell_m_;
  double row_deg_;            // row height, degrees of latitude
  std::vector<int> columns_;  // per row
};

}  // namespace utm::telemetry

#endif  // UTM_SERVICES_TELEMETRY_SURFACE_GRID_H_
