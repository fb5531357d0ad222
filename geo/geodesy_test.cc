#include "geo/geodesy.h"

#include <cmath>
#include <random>

#include "gtest/gtest.h"

namespace utm::geo {
namespace {

const LatLng kZurich{47.3769, 8.5417};

TEST(GeodesicDistance, KnownValues) {
  // One degree of longitude on the equator: a·π/180 with a = 6378137 m.
  EXPECT_NEAR(GeodesicDistance({0, 0}, {0, 1}), 111319.4908, 1e-4);
  // Pole to pole along a meridian: twice the WGS84 meridian quadrant.
  EXPECT_NEAR(GeodesicDistance({90, 0}, {-90, 0}), 2 * 10001965.7293, 1e-3);
  // Across the anti-meridian.
  EXPECT_NEAR(GeodesicDistance({0, 179.9999}, {0, -179.9999}), 22.2639, 1e-4);
}

TEST(GeodesicDestination, RoundTrips) {
  const LatLng p = GeodesicDestination(kZurich, 37, 12345.678);
  EXPECT_NEAR(GeodesicDistance(kZurich, p), 12345.678, 1e-8);
  EXPECT_NEAR(GeodesicAzimuth(kZurich, p), 37, 1e-9);
  const LatLng q = GeodesicInterpolate(kZurich, p, 1000);
  EXPECT_NEAR(GeodesicDistance(kZurich, q), 1000, 1e-8);
  EXPECT_NEAR(GeodesicDistance(q, p), 11345.678, 1e-8);
}

TEST(Ecef, RoundTripsOnTheSurface) {
  for (const LatLng& p : {kZurich, LatLng{-89.9, 45}, LatLng{0, 180}}) {
    const LatLng back = FromEcef(ToEcef(p));
    EXPECT_NEAR(GeodesicDistance(p, back), 0, 1e-6);
  }
}

TEST(GnomonicProjection, GeodesicsThroughTheCentreAreStraight) {
  const GnomonicProjection proj(kZurich);
  const Vec2 origin = proj.Forward(kZurich);
  EXPECT_NEAR(origin.x, 0, 1e-9);
  EXPECT_NEAR(origin.y, 0, 1e-9);
  // Points along one geodesic from the centre keep one bearing on the plane.
  const Vec2 a = proj.Forward(GeodesicDestination(kZurich, 60, 10000));
  const Vec2 b = proj.Forward(GeodesicDestination(kZurich, 60, 40000));
  EXPECT_NEAR(std::atan2(a.x, a.y), std::atan2(b.x, b.y), 1e-12);
  EXPECT_NEAR(std::atan2(a.x, a.y), 60 * M_PI / 180, 1e-12);
  const LatLng back = proj.Reverse(b);
  EXPECT_NEAR(GeodesicDistance(back, GeodesicDestination(kZurich, 60, 40000)),
              0, 1e-6);
}

TEST(GnomonicProjection, OtherGeodesicsAreStraightToATenthOfAMillimetre) {
  // The measured bound that the intersection code relies on: within 100 km
  // of the centre, a projected geodesic strays < 0.14 mm from its chord.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  double worst = 0;
  for (int k = 0; k < 2000; ++k) {
    const LatLng c{-80 + 160 * u(rng), -180 + 360 * u(rng)};
    const GnomonicProjection proj(c);
    const LatLng a =
        GeodesicDestination(c, 360 * u(rng), 100e3 * std::sqrt(u(rng)));
    const LatLng b =
        GeodesicDestination(c, 360 * u(rng), 100e3 * std::sqrt(u(rng)));
    const Vec2 pa = proj.Forward(a), pb = proj.Forward(b);
    const double len = std::hypot(pb.x - pa.x, pb.y - pa.y);
    if (len < 1) continue;
    const double s = GeodesicDistance(a, b);
    for (int j = 1; j < 8; ++j) {
      const Vec2 p = proj.Forward(GeodesicInterpolate(a, b, s * j / 8));
      const double off = std::fabs((p.x - pa.x) * (pb.y - pa.y) -
                                   (p.y - pa.y) * (pb.x - pa.x)) /
                         len;
      worst = std::max(worst, off);
    }
  }
  EXPECT_LT(worst, 0.14e-3);
  EXPECT_GT(worst, 0);  // a straight line everywhere would be suspicious
}

TEST(DistanceToGeodesicSegment, MatchesDenseSampling) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0, 1);
  for (int k = 0; k < 200; ++k) {
    const LatLng a{-75 + 150 * u(rng), -180 + 360 * u(rng)};
    const LatLng b = GeodesicDestination(a, 360 * u(rng), 50 + 50e3 * u(rng));
    const LatLng p = GeodesicDestination(
        GeodesicInterpolate(a, b,
                            GeodesicDistance(a, b) * (-0.3 + 1.6 * u(rng))),
        360 * u(rng), 30e3 * u(rng));
    // Dense sampling followed by a local refinement with a 1 µm step.
    const double s = GeodesicDistance(a, b);
    double best_t = 0, best = GeodesicDistance(p, a);
    for (int i = 0; i <= 2000; ++i) {
      const double t = s * i / 2000;
      const double d = GeodesicDistance(p, GeodesicInterpolate(a, b, t));
      if (d < best) best = d, best_t = t;
    }
    for (double step = s / 2000; step > 1e-6; step /= 2) {
      for (double t : {best_t - step, best_t + step}) {
        if (t < 0 || t > s) continue;
        const double d = GeodesicDistance(p, GeodesicInterpolate(a, b, t));
        if (d < best) best = d, best_t = t;
      }
    }
    EXPECT_NEAR(DistanceToGeodesicSegment(p, a, b), best, 1e-6) << "k=" << k;
  }
}

TEST(DistanceToGeodesicSegment, PointOnTheSegmentIsAtZero) {
  const LatLng a = kZurich, b = GeodesicDestination(kZurich, 10, 30000);
  EXPECT_NEAR(DistanceToGeodesicSegment(GeodesicInterpolate(a, b, 12345), a, b),
              0, 1e-7);
  EXPECT_NEAR(DistanceToGeodesicSegment(a, a, b), 0, 1e-7);
  // Beyond the end the nearest point is the end.
  const LatLng beyond = GeodesicInterpolate(a, b, 31000);
  EXPECT_NEAR(DistanceToGeodesicSegment(beyond, a, b), 1000, 1e-6);
}

TEST(GeodesicPolygonArea, SignFollowsWinding) {
  const LatLng a = kZurich;
  const LatLng b = GeodesicDestination(a, 90, 1000);
  const LatLng c = GeodesicDestination(b, 0, 1000);
  const LatLng d = GeodesicDestination(a, 0, 1000);
  const double ccw = GeodesicPolygonArea({a, b, c, d});
  EXPECT_NEAR(ccw, 1e6, 1e3);
  EXPECT_GT(ccw, 0);
  EXPECT_NEAR(GeodesicPolygonArea({d, c, b, a}), -ccw, 1e-6);
}

TEST(LocalCartesianFrame, IsEcefRotatedAndTranslated) {
  const LocalCartesianFrame frame(kZurich, 400);
  const Vec3 o = frame.Forward(kZurich, 400);
  EXPECT_NEAR(std::hypot(o.x, o.y, o.z), 0, 1e-9);
  // A point 1 km due east along the surface at the same altitude: x = 1 km
  // scaled by (R + 400 m)/R, and below the plane by the curvature drop d²/2R
  // (R the radius of curvature in the prime vertical, 6,389 km here): 7.8 cm.
  const LatLng east = GeodesicDestination(kZurich, 90, 1000);
  const Vec3 e = frame.Forward(east, 400);
  EXPECT_NEAR(e.x, 1000 * (1 + 400 / 6389e3), 1e-3);
  EXPECT_NEAR(e.y, 0, 1e-2);  // the geodesic bends south of the parallel
  EXPECT_NEAR(e.z, -1000.0 * 1000 / (2 * 6389e3), 1e-3);
  // Straight-line distances are those between the ECEF points.
  const LatLng q = GeodesicDestination(kZurich, 211, 7300);
  const Vec3 a = frame.Forward(east, 0), b = frame.Forward(q, 0);
  EXPECT_NEAR(std::hypot(a.x - b.x, a.y - b.y, a.z - b.z),
              ChordLength(ToEcef(east), ToEcef(q)), 1e-6);
}

TEST(LocalCartesianFrame, RotatesVectorsFromOtherPoints) {
  const LocalCartesianFrame frame(kZurich);
  // At the origin, nothing changes.
  const Vec3 v = frame.Rotate(kZurich, {3, 4, 5});
  EXPECT_NEAR(v.x, 3, 1e-12);
  EXPECT_NEAR(v.y, 4, 1e-12);
  EXPECT_NEAR(v.z, 5, 1e-12);
  // Due north along the meridian, "north" tilts down by the arc angle and
  // "east" stays east.
  const LatLng north = GeodesicDestination(kZurich, 0, 10000);
  const Vec3 n = frame.Rotate(north, {0, 1, 0});
  const double tilt = 10000 / 6370e3;  // meridional radius of curvature here
  EXPECT_NEAR(n.x, 0, 1e-12);
  EXPECT_NEAR(n.z, -std::sin(tilt), 1e-5);
  EXPECT_NEAR(std::hypot(n.x, n.y, n.z), 1, 1e-12);
  const Vec3 e = frame.Rotate(north, {1, 0, 0});
  EXPECT_NEAR(e.x, 1, 1e-12);
}

}  // namespace
}  // namespace utm::geo
