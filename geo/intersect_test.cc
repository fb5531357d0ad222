#include "geo/intersect.h"

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "gtest/gtest.h"

namespace utm::geo {
namespace {

using test_util::LocalPolygon;

const LatLng kZurich{47.3769, 8.5417};

// A square with counter-clockwise vertices, side in metres.
Polygon Square(const LatLng& origin, double side_m) {
  return LocalPolygon(origin,
                      {{0, 0}, {side_m, 0}, {side_m, side_m}, {0, side_m}});
}

// A triangle whose tip is `tip` and whose base lies 500 m away in the
// direction `away_azimuth_deg`.
Polygon TriangleWithTip(const LatLng& tip, double away_azimuth_deg) {
  return Polygon{{tip, GeodesicDestination(tip, away_azimuth_deg - 20, 500),
                  GeodesicDestination(tip, away_azimuth_deg + 20, 500)}};
}

struct EdgeCase {
  std::string name;
  double edge_length_m;
};

// Names the case in test output (instead of a byte dump).
void PrintTo(const EdgeCase& c, std::ostream* os) { *os << c.name; }

class TipAtEdge : public testing::TestWithParam<EdgeCase> {};

// A vertex tip that reaches 1.1 cm into the middle of another polygon's
// geodesic edge intersects it; one that stops 1.1 cm short does not. On a
// 45 km edge the geodesic bows 16 cm away from the straight chord (great
// ellipse), so only an exact edge model gets both right.
TEST_P(TipAtEdge, OneCentimetreDecides) {
  const double side = GetParam().edge_length_m;
  const Polygon square = Square(kZurich, side);
  const LatLng& a = square.vertices[0];
  const LatLng& b = square.vertices[1];
  const double length = GeodesicDistance(a, b);
  const LatLng mid = GeodesicInterpolate(a, b, length / 2);
  const double along = GeodesicAzimuth(mid, b);
  // The square runs counter-clockwise, so its inside is on the left.
  const double inward = along - 90, outward = along + 90;

  const Polygon in =
      TriangleWithTip(GeodesicDestination(mid, inward, 0.011), outward);
  const Polygon out =
      TriangleWithTip(GeodesicDestination(mid, outward, 0.011), outward);
  EXPECT_TRUE(FootprintsIntersect(in, square));
  EXPECT_TRUE(FootprintsIntersect(square, in));
  EXPECT_FALSE(FootprintsIntersect(out, square));
  EXPECT_FALSE(FootprintsIntersect(square, out));

  // A circle whose rim reaches 1.1 cm over the edge, or stops 1.1 cm short.
  for (double radius : {1.0, 250.0, 5000.0}) {
    SCOPED_TRACE(radius);
    const Circle over{GeodesicDestination(mid, outward, radius - 0.011),
                      radius};
    const Circle short_of{GeodesicDestination(mid, outward, radius + 0.011),
                          radius};
    EXPECT_TRUE(FootprintsIntersect(over, square));
    EXPECT_FALSE(FootprintsIntersect(short_of, square));
    EXPECT_FALSE(FootprintsIntersect(square, short_of));
  }
}

INSTANTIATE_TEST_SUITE_P(EdgeLengths, TipAtEdge,
                         testing::Values(EdgeCase{"Edge10m", 10},
                                         EdgeCase{"Edge1km", 1000},
                                         EdgeCase{"Edge20km", 20000},
                                         EdgeCase{"Edge45km", 45000}),
                         [](const auto& info) { return info.param.name; });

TEST(FootprintsIntersect, TipAtCorner) {
  const Polygon square = Square(kZurich, 2000);
  const LatLng corner = square.vertices[2];  // north-east corner
  const double diagonal = GeodesicAzimuth(corner, square.vertices[0]);
  const Polygon in = TriangleWithTip(
      GeodesicDestination(corner, diagonal, 0.011), diagonal + 180);
  const Polygon out = TriangleWithTip(
      GeodesicDestination(corner, diagonal + 180, 0.011), diagonal + 180);
  EXPECT_TRUE(FootprintsIntersect(in, square));
  EXPECT_FALSE(FootprintsIntersect(out, square));
}

TEST(FootprintsIntersect, InterleavedConcaveCombsDoNotTouch) {
  // Two combs whose teeth interleave with 1 m between neighbours: their
  // bounding boxes and convex hulls overlap almost entirely.
  // Lower comb: a base y in [0, 50] with teeth x in [20k, 20k + 10] up to
  // y = 150.
  std::vector<Vec2> lower = {{0, 0}, {100, 0}, {100, 50}};
  for (int k = 4; k >= 0; --k) {
    const double x = 20.0 * k;
    lower.insert(lower.end(), {{x + 10, 50}, {x + 10, 150}, {x, 150}, {x, 50}});
  }
  // Upper comb: a top y in [160, 200] with teeth x in [20k + 11, 20k + 19]
  // down to y = 60.
  std::vector<Vec2> upper = {{-1, 200}, {-1, 160}};
  for (int k = 0; k < 5; ++k) {
    const double x = 20.0 * k + 11;
    upper.insert(upper.end(), {{x, 160}, {x, 60}, {x + 8, 60}, {x + 8, 160}});
  }
  upper.insert(upper.end(), {{101, 160}, {101, 200}});
  const Polygon a = LocalPolygon(kZurich, lower);
  const Polygon b = LocalPolygon(kZurich, upper);
  ASSERT_TRUE(ValidatePolygon(a, ValidationLimits(), "a").ok())
      << ValidatePolygon(a, ValidationLimits(), "a");
  ASSERT_TRUE(ValidatePolygon(b, ValidationLimits(), "b").ok())
      << ValidatePolygon(b, ValidationLimits(), "b");
  EXPECT_FALSE(FootprintsIntersect(a, b));
  EXPECT_FALSE(FootprintsIntersect(b, a));
  // Widen the upper comb's first tooth by 1 m to the left, so that its side
  // lies along the side of the lower comb's first tooth.
  std::vector<Vec2> touching = upper;
  touching[2].x = 10;
  touching[3].x = 10;
  const Polygon c = LocalPolygon(kZurich, touching);
  ASSERT_TRUE(ValidatePolygon(c, ValidationLimits(), "c").ok());
  EXPECT_TRUE(FootprintsIntersect(a, c));
  EXPECT_TRUE(FootprintsIntersect(c, a));
}

TEST(FootprintsIntersect, TouchingEdgesAndCorners) {
  const Polygon west =
      LocalPolygon(kZurich, {{0, 0}, {100, 0}, {100, 100}, {0, 100}});
  const Polygon east =
      LocalPolygon(kZurich, {{100, 0}, {200, 0}, {200, 100}, {100, 100}});
  const Polygon north_east =
      LocalPolygon(kZurich, {{100, 100}, {200, 100}, {200, 200}, {100, 200}});
  const Polygon apart = LocalPolygon(
      kZurich, {{100.011, 0}, {200, 0}, {200, 100}, {100.011, 100}});
  EXPECT_TRUE(FootprintsIntersect(west, east));        // shared edge
  EXPECT_TRUE(FootprintsIntersect(west, north_east));  // shared corner
  EXPECT_FALSE(FootprintsIntersect(west, apart));      // 1.1 cm gap
  // Edge-to-edge contact between a circle and a square.
  const LatLng on_edge = GeodesicInterpolate(
      west.vertices[1], west.vertices[2],
      0.5 * GeodesicDistance(west.vertices[1], west.vertices[2]));
  const double east_az =
      GeodesicAzimuth(west.vertices[1], west.vertices[2]) + 90;
  EXPECT_TRUE(FootprintsIntersect(
      west, Circle{GeodesicDestination(on_edge, east_az, 30), 30}));
  EXPECT_FALSE(FootprintsIntersect(
      west, Circle{GeodesicDestination(on_edge, east_az, 30.011), 30}));
}

TEST(FootprintsIntersect, CollinearVertices) {
  // Extra vertices along straight edges change nothing.
  const Polygon plain =
      LocalPolygon(kZurich, {{0, 0}, {100, 0}, {100, 100}, {0, 100}});
  const Polygon collinear = LocalPolygon(
      kZurich,
      {{0, 0}, {25, 0}, {50, 0}, {75, 0}, {100, 0}, {100, 100}, {0, 100}});
  const Polygon below = LocalPolygon(kZurich, {{40, -50}, {60, -50}, {50, 0}});
  const Polygon below_gap =
      LocalPolygon(kZurich, {{40, -50}, {60, -50}, {50, -0.011}});
  EXPECT_TRUE(FootprintsIntersect(plain, below));
  EXPECT_TRUE(FootprintsIntersect(collinear, below));  // tip on a vertex
  EXPECT_FALSE(FootprintsIntersect(plain, below_gap));
  EXPECT_FALSE(FootprintsIntersect(collinear, below_gap));
}

TEST(FootprintsIntersect, Containment) {
  const Polygon big = Square(kZurich, 10000);
  const Polygon small =
      LocalPolygon(kZurich, {{4000, 4000}, {4100, 4000}, {4000, 4100}});
  const LatLng centre = GnomonicProjection(kZurich).Reverse({5000, 5000});
  EXPECT_TRUE(FootprintsIntersect(big, small));
  EXPECT_TRUE(FootprintsIntersect(small, big));
  EXPECT_TRUE(FootprintsIntersect(big, Circle{centre, 10}));
  EXPECT_TRUE(FootprintsIntersect(Circle{centre, 20000}, small));
  EXPECT_TRUE(FootprintsIntersect(Circle{centre, 20000}, Circle{centre, 1}));
}

TEST(FootprintsIntersect, CirclesAcrossTheAntimeridian) {
  const LatLng west{-16.5, 179.99995};  // 5 m west of the anti-meridian
  const double east_az = 90;
  for (double r : {10.0, 100.0, 1000.0}) {
    SCOPED_TRACE(r);
    // Centre of the second circle 2r + 1.1 cm east, then 2r - 1.1 cm.
    const Circle a{west, r};
    const Circle apart{GeodesicDestination(west, east_az, 2 * r + 0.011), r};
    const Circle over{GeodesicDestination(west, east_az, 2 * r - 0.011), r};
    EXPECT_LT(over.center.lng_deg, 0);  // really across the anti-meridian
    EXPECT_TRUE(FootprintsIntersect(a, over));
    EXPECT_FALSE(FootprintsIntersect(a, apart));
  }
  // A polygon straddling the anti-meridian and a circle on either side.
  const Polygon straddle{
      {{-16.6, 179.99}, {-16.6, -179.99}, {-16.4, -179.99}, {-16.4, 179.99}}};
  EXPECT_TRUE(FootprintsIntersect(straddle, Circle{{-16.5, -179.995}, 5}));
  EXPECT_TRUE(FootprintsIntersect(straddle, Circle{{-16.5, 179.995}, 5}));
  EXPECT_FALSE(FootprintsIntersect(straddle, Circle{{-16.5, -179.9}, 5}));
}

TEST(FootprintsIntersect, NearThePoles) {
  // Two circles on opposite meridians, 111 m apart across the North Pole.
  const Circle a{{89.9995, 0}, 60};
  const Circle b{{89.9995, 180}, 60};
  const double gap = GeodesicDistance(a.center, b.center);
  ASSERT_NEAR(gap, 111.7, 0.5);
  EXPECT_TRUE(FootprintsIntersect(a, b));
  EXPECT_FALSE(FootprintsIntersect(Circle{a.center, gap / 2 - 0.011},
                                   Circle{b.center, gap / 2 - 0.011}));
  EXPECT_TRUE(FootprintsIntersect(Circle{a.center, gap / 2 - 0.004},
                                  Circle{b.center, gap / 2 + 0.005}));
  // A square around the South Pole contains a circle at the pole, and a
  // circle just beyond one of its geodesic edges stays out.
  const Polygon around{
      {{-89.99, 0}, {-89.99, 90}, {-89.99, 180}, {-89.99, -90}}};
  EXPECT_TRUE(FootprintsIntersect(around, Circle{{-90, 0}, 1}));
  const LatLng v0 = around.vertices[0], v1 = around.vertices[1];
  const double s = GeodesicDistance(v0, v1);
  const LatLng mid = GeodesicInterpolate(v0, v1, s / 2);
  // The edge's midpoint is closer to the pole than its ends: walk outwards
  // (away from the pole) from it.
  const double outward = GeodesicAzimuth(mid, {-90, 0}) + 180;
  EXPECT_TRUE(FootprintsIntersect(
      around, Circle{GeodesicDestination(mid, outward, 100 - 0.011), 100}));
  EXPECT_FALSE(FootprintsIntersect(
      around, Circle{GeodesicDestination(mid, outward, 100 + 0.011), 100}));
}

Volume4D At(Footprint f, double lower, double upper, int64_t t0, int64_t t1) {
  return Volume4D{Volume3D{std::move(f), {lower, upper}},
                  {absl::FromUnixSeconds(t0), absl::FromUnixSeconds(t1)}};
}

TEST(Intersect, SeparatedByAltitudeAlone) {
  const Polygon p = Square(kZurich, 500);
  EXPECT_FALSE(Intersect(At(p, 400, 500, 0, 100), At(p, 500.001, 600, 0, 100)));
  EXPECT_FALSE(Intersect(At(p, 500.001, 600, 0, 100), At(p, 400, 500, 0, 100)));
  const auto touching =
      Intersect(At(p, 400, 500, 0, 100), At(p, 500, 600, 0, 100));
  ASSERT_TRUE(touching);
  EXPECT_EQ(touching->altitude.lower_m, 500);
  EXPECT_EQ(touching->altitude.upper_m, 500);
}

TEST(Intersect, SeparatedByTimeAlone) {
  const Circle c{kZurich, 100};
  EXPECT_FALSE(Intersect(At(c, 0, 100, 0, 100), At(c, 0, 100, 101, 200)));
  Volume4D a = At(c, 0, 100, 0, 100), b = At(c, 0, 100, 100, 200);
  b.time.start += absl::Nanoseconds(1);
  EXPECT_FALSE(Intersect(a, b));
  const auto touching =
      Intersect(At(c, 0, 100, 0, 100), At(c, 0, 100, 100, 200));
  ASSERT_TRUE(touching);
  EXPECT_EQ(touching->time.start, absl::FromUnixSeconds(100));
  EXPECT_EQ(touching->time.end, absl::FromUnixSeconds(100));
}

TEST(Intersect, ReportsTheOverlap) {
  const auto o = Intersect(At(Square(kZurich, 500), 100, 300, 0, 1000),
                           At(Circle{kZurich, 50}, 250, 400, 600, 5000));
  ASSERT_TRUE(o);
  EXPECT_EQ(o->altitude.lower_m, 250);
  EXPECT_EQ(o->altitude.upper_m, 300);
  EXPECT_EQ(o->time.start, absl::FromUnixSeconds(600));
  EXPECT_EQ(o->time.end, absl::FromUnixSeconds(1000));
  // Overlapping in time and altitude but 1 km apart on the ground.
  EXPECT_FALSE(Intersect(At(Square(kZurich, 500), 100, 300, 0, 1000),
                         At(Circle{GeodesicDestination(kZurich, 225, 1000), 50},
                            250, 400, 600, 5000)));
}

TEST(Intersect, PermanentRestrictionMeetsFutureFlight) {
  Volume4D zone = At(Circle{kZurich, 5000}, -1000, 50000, 0, 1);
  zone.time.end = absl::InfiniteFuture();
  const auto o = Intersect(
      zone, At(Square(kZurich, 10), 400, 500, 4'000'000'000, 4'000'000'600));
  ASSERT_TRUE(o);
  EXPECT_EQ(o->time.end, absl::FromUnixSeconds(4'000'000'600));
}

}  // namespace
}  // namespace utm::geo
