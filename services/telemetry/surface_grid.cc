#include "services/telemetry/surface_grid.h"

namespace utm::telemetry {

SurfaceGrid::SurfaceGrid(double cell_m)
    : cell_m_(std::max(cell_m, 10.0)), row_deg_(cell_m_ / kMinMetresPerDegLat) {
  const int64_t rows = static_cast<int64_t>(std::ceil(180 / row_deg_));
  columns_.resize(rows);
  for (int64_t r = 0; r < rows; ++r) {
    const double lo = -90 + r * row_deg_;
    const double hi = std::min(90.0, lo + row_deg_);
    const double poleward = std::max(std::abs(lo), std::abs(hi));
    if (poleward >= kPolarDeg) {
      columns_[r] = 1;
      continue;
    }
    // Columns at least cell_m wide at the row's poleward edge, so at every
    // latitude in it.
    const double metres_per_deg =
        kMinMetresPerDegLng * std::cos(poleward * kRad);
    columns_[r] = std::max(
        1, static_cast<int>(std::floor(360 * metres_per_deg / cell_m_)));
  }
}

}  // namespace utm::telemetry
