// Shape builders shared by geo/'s tests and benchmarks (test-only library
// utm_geo_testing; never linked into the product).
#ifndef UTM_GEO_GEO_TESTING_H_
#define UTM_GEO_GEO_TESTING_H_

#include <random>
#include <vector>

#include "geo/geodesy.h"
#include "geo/volume.h"

namespace utm::geo::test_util {

inline const LatLng kZurich{47.3769, 8.5417};

// Uniform draws, as the generators of tests and benchmarks use them.
inline double Uniform(std::mt19937_64& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}
inline int UniformInt(std::mt19937_64& rng, int lo, int hi) {  // closed
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

// A polygon given by metres east/north on the gnomonic plane at `origin`.
// Straight lines there are geodesics (exactly through the origin, to well
// under a millimetre elsewhere within 100 km), so the edges are what the
// offsets draw.
Polygon LocalPolygon(const LatLng& origin, const std::vector<Vec2>& xy);

// n vertices on the geodesic circle of `radius_m` around `centre`, running
// counter-clockwise from azimuth `first_azimuth_deg`.
Polygon RegularPolygon(const LatLng& centre, double radius_m, int n,
                       double first_azimuth_deg = 0);

// A square with sides of about 2 * half_side_m facing north/south/east/west.
Polygon SquareAround(const LatLng& centre, double half_side_m);

// Vertices at jittered, increasing angles around `centre`: on one circle
// (convex, 3-12 vertices) or at random distances (generally concave, 5-20
// vertices); either winding. Star-shaped, hence simple.
Polygon RandomStar(std::mt19937_64& rng, const LatLng& centre, double radius_m,
                   bool convex);

// A border-like ring of n vertices around `centre`, counter-clockwise: one
// vertex per equal step of azimuth (jittered), at a distance that wanders
// between about 0.6 and 1.4 × radius_m at every scale, as a national
// border's does (sinusoids of falling amplitude up to a frequency of about
// n / 8, and noise). Star-shaped, hence simple for steps of a few degrees
// or less.
std::vector<LatLng> BorderRing(std::mt19937_64& rng, const LatLng& centre,
                               double radius_m, int n);

}  // namespace utm::geo::test_util

#endif  // UTM_GEO_GEO_TESTING_H_
