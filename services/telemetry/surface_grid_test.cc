#include "services/telemetry/surface_grid.h"

#include <random>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "gtest/gtest.h"

namespace utm::telemetry {
namespace {

using geo::test_util::Uniform;

std::vector<SurfaceGrid::Key> Near(const SurfaceGrid& grid,
                                   const geo::LatLng& p, double radius_m) {
  std::vector<SurfaceGrid::Key> keys;
  grid.ForEachNear(p, radius_m, [&](SurfaceGrid::Key k) { keys.push_back(k); });
  return keys;
}

// Every point within reach is in a visited cell, and no cell is visited
// twice: anywhere on Earth, poles and the antimeridian included.
void CheckCovering(double cell_m, double lat_lo, double lat_hi, int points,
                   uint64_t seed) {
  const SurfaceGrid grid(cell_m);
  std::mt19937_64 rng(seed);
  for (int i = 0; i < points; ++i) {
    const geo::LatLng p{Uniform(rng, lat_lo, lat_hi), Uniform(rng, -180, 180)};
    // Radii below, at and well above the cell size.
    const double radius = cell_m * (i % 3 == 0   ? Uniform(rng, 0.05, 1)
                                    : i % 3 == 1 ? 1
                                                 : Uniform(rng, 1, 4.5));
    const std::vector<SurfaceGrid::Key> keys = Near(grid, p, radius);
    const absl::flat_hash_set<SurfaceGrid::Key> set(keys.begin(), keys.end());
    ASSERT_EQ(set.size(), keys.size())
        << "a cell visited twice near " << p.lat_deg << "," << p.lng_deg;
    ASSERT_TRUE(set.contains(grid.CellOf(p)));
    for (int j = 0; j < 20; ++j) {
      const double d = radius * std::sqrt(Uniform(rng, 0, 1)) * 0.9999;
      const geo::LatLng q =
          geo::GeodesicDestination(p, Uniform(rng, 0, 360), d);
      ASSERT_TRUE(set.contains(grid.CellOf(q)))
          << "missed " << q.lat_deg << "," << q.lng_deg << " at " << d
          << " m from " << p.lat_deg << "," << p.lng_deg;
    }
    // The edge of the reach, in the four worst directions.
    for (double az : {0.0, 90.0, 180.0, 270.0, 45.0, 315.0}) {
      const geo::LatLng q = geo::GeodesicDestination(p, az, radius * 0.9999);
      ASSERT_TRUE(set.contains(grid.CellOf(q)))
          << "missed the edge at azimuth " << az << ", radius " << radius
          << " from " << p.lat_deg << "," << p.lng_deg;
    }
  }
}

TEST(SurfaceGridTest, CoversTheReachEverywhere) {
  CheckCovering(1000, -90, 90, 20000, 1);
}

TEST(SurfaceGridTest, CoversTheReachNearThePolesAndWithSmallCells) {
  CheckCovering(1000, 85, 90, 5000, 2);
  CheckCovering(1000, -90, -85, 5000, 3);
  CheckCovering(100, -80, 80, 5000, 4);
  CheckCovering(50000, -90, 90, 5000, 5);
}

TEST(SurfaceGridTest, AcrossTheAntimeridian) {
  const SurfaceGrid grid(1000);
  const geo::LatLng west{10, 179.99}, east{10, -179.99};  // 2.2 km apart
  const std::vector<SurfaceGrid::Key> keys = Near(grid, west, 2500);
  EXPECT_NE(std::find(keys.begin(), keys.end(), grid.CellOf(east)), keys.end());
}

TEST(SurfaceGridTest, VisitsAboutNineCellsAtMidLatitudes) {
  const SurfaceGrid grid(1000);
  std::mt19937_64 rng(6);
  size_t most = 0;
  for (int i = 0; i < 1000; ++i) {
    const geo::LatLng p{Uniform(rng, -60, 60), Uniform(rng, -180, 180)};
    most = std::max(most, Near(grid, p, 1000).size());
  }
  // Three rows of two to four columns.
  EXPECT_LE(most, 12u);
  EXPECT_GE(Near(grid, geo::test_util::kZurich, 1000).size(), 6u);
  // A reach of three cells: seven rows.
  EXPECT_LE(Near(grid, geo::test_util::kZurich, 3000).size(), 7u * 9);
}

TEST(SurfaceGridTest, ColumnsAreAtLeastACellWide) {
  const SurfaceGrid grid(3080);
  for (int64_t r = 0; r < grid.rows(); r += 97) {
    const double lat = -90 + (r + 0.5) * 180.0 / grid.rows();
    if (std::abs(lat) > 88) continue;
    const double width_deg = 360.0 / grid.columns(r);
    // Along the parallel at the row's poleward edge, roughly.
    const double edge = std::min(89.9, std::abs(lat) + 90.0 / grid.rows());
    const double metres = geo::GeodesicDistance({edge, 0}, {edge, width_deg});
    EXPECT_GE(metres, 3080 * 0.999) << "row " << r;
  }
}

}  // namespace
}  // namespace utm::telemetry
