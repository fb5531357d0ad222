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

std::vector<LatLng> BorderRing(std::mt19937_64& rng, const LatLng& centre,
                               double radius_m, int n) {
  struct Wave {
    double frequency, amplitude, phase;
  };
  std::vector<Wave> waves;
  for (double f = 2; f <= std::max(2, n / 8); f *= 2.3) {
    waves.push_back(
        {std::floor(f), 0.12 / std::sqrt(f), Uniform(rng, 0, 2 * M_PI)});
  }
  std::vector<LatLng> ring;
  ring.reserve(n);
  for (int i = 0; i < n; ++i) {
    const double azimuth = (i + Uniform(rng, -0.3, 0.3)) * 360.0 / n;
    double scale = 1 + 0.002 * Uniform(rng, -1, 1);
    for (const Wave& w : waves) {
      scale +=
          w.amplitude * std::sin(w.frequency * azimuth * M_PI / 180 + w.phase);
    }
    // Azimuth falls as i rises: counter-clockwise seen from above.
    ring.push_back(GeodesicDestination(centre, -azimuth, radius_m * scale));
  }
  return ring;
}

}  // namespace utm::geo::test_util
