#include "geo/geo_testing.h"

#include <algorithm>
#include <cmath>

namespace utm::geo::test_util {

Polygon LocalPolygon(const LatLng& origin, const std::vector<Vec2>& xy) {
  const GnomonicProjection proj(origin);
  Polygon p;
  for (const Vec2& v : xy) p.vertices.push_back(proj.Reverse(v));
  return p;
}

Polygon RegularPolygon(const LatLng& centre, double radius_m, int n,
                       double first_azimuth_deg) {
  Polygon p;
  for (int i = 0; i < n; ++i) {
    p.vertices.push_back(GeodesicDestination(
        centre, first_azimuth_deg - 360.0 * i / n, radius_m));
  }
  return p;
}

Polygon SquareAround(const LatLng& centre, double half_side_m) {
  return RegularPolygon(centre, half_side_m * std::sqrt(2.0), 4, 45);
}

Polygon RandomStar(std::mt19937_64& rng, const LatLng& centre, double radius_m,
                   bool convex) {
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
  };
  const int n = convex ? std::uniform_int_distribution<int>(3, 12)(rng)
                       : std::uniform_int_distribution<int>(5, 20)(rng);
  const double rotation = uniform(0.0, 360.0);
  Polygon p;
  for (int i = 0; i < n; ++i) {
    const double azimuth = rotation + (i + uniform(-0.4, 0.4)) * 360.0 / n;
    const double r = convex ? radius_m : radius_m * uniform(0.2, 1.0);
    p.vertices.push_back(GeodesicDestination(centre, azimuth, r));
  }
  if (uniform(0, 1) < 0.5) std::reverse(p.vertices.begin(), p.vertices.end());
  return p;
}

}  // namespace utm::geo::test_util
