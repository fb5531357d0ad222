// Polygons with interior rings (holes): validation, area, intersection with
// polygons and circles, coverings and bounding caps.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "geo/intersect.h"
#include "geo/s2_covering.h"
#include "geo/volume.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::geo {
namespace {

using test_util::kZurich;
using test_util::LocalPolygon;
using ::testing::HasSubstr;

const std::string kField = "volumes[1].volume.outline_polygon";

// A ring of metres east/north on the gnomonic plane at kZurich.
std::vector<LatLng> Ring(const std::vector<Vec2>& xy) {
  return LocalPolygon(kZurich, xy).vertices;
}

// The axis-aligned square [x0, x1] × [y0, y1], counter-clockwise.
std::vector<LatLng> Box(double x0, double y0, double x1, double y1) {
  return Ring({{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}});
}

LatLng At(double x, double y) {
  return GnomonicProjection(kZurich).Reverse({x, y});
}

// A 1 km square with a 200 m square hole in its middle.
Polygon Frame() {
  Polygon p;
  p.vertices = Box(0, 0, 1000, 1000);
  p.holes.push_back(Box(400, 400, 600, 600));
  return p;
}

Polygon Plain(std::vector<LatLng> ring) { return Polygon{std::move(ring), {}}; }

// Whether the footprints meet, asserting that the one-off test (exact path)
// and the prepared one (with the edge index every polygon with holes gets)
// agree.
bool Meets(const Footprint& a, const Footprint& b) {
  const bool plain = FootprintsIntersect(a, b);
  const bool prepared =
      FootprintsIntersect(PrepareFootprint(a), PrepareFootprint(b));
  EXPECT_EQ(plain, prepared) << DebugString(a) << "\n" << DebugString(b);
  return plain;
}

absl::Status Validate(const Polygon& p,
                      const ValidationLimits& limits = ValidationLimits()) {
  return ValidatePolygon(p, limits, kField);
}

void ExpectInvalid(const Polygon& p, const std::string& message) {
  const absl::Status status = Validate(p);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << message;
  EXPECT_EQ(std::string(status.message()), message);
}

TEST(PolygonWithHoles, ValidHolesAreAccepted) {
  Polygon p = Frame();
  EXPECT_TRUE(Validate(p).ok()) << Validate(p);
  // Either winding, for each ring.
  std::reverse(p.holes[0].begin(), p.holes[0].end());
  EXPECT_TRUE(Validate(p).ok()) << Validate(p);
  std::reverse(p.vertices.begin(), p.vertices.end());
  EXPECT_TRUE(Validate(p).ok()) << Validate(p);
  // Several holes, apart from each other and from the outer ring.
  p.holes.push_back(Box(100, 100, 200, 200));
  p.holes.push_back(Ring({{700, 700}, {900, 700}, {800, 900}}));
  EXPECT_TRUE(Validate(p).ok()) << Validate(p);
}

TEST(PolygonWithHoles, AreaIsOuterLessHoles) {
  const Polygon p = Frame();
  const double outer = std::fabs(GeodesicPolygonArea(p.vertices));
  EXPECT_NEAR(outer, 1e6, 1e6 * 1e-4);
  EXPECT_NEAR(PolygonArea(p), outer - 4e4, 1.0);
  EXPECT_NEAR(PolygonArea(Plain(p.vertices)), outer, 1e-6);
}

TEST(PolygonWithHoles, AreaLimitsApplyToTheRegion) {
  ValidationLimits limits;
  limits.max_area_m2 = 0.99e6;  // the outer ring is too big, the region not
  EXPECT_FALSE(Validate(Plain(Frame().vertices), limits).ok());
  EXPECT_TRUE(Validate(Frame(), limits).ok()) << Validate(Frame(), limits);
}

TEST(PolygonWithHoles, VertexLimitCountsEveryRing) {
  ValidationLimits limits;
  limits.max_vertices = 7;
  const absl::Status status = Validate(Frame(), limits);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      std::string(status.message()),
      kField + ": has 8 vertices (all rings together); at most 7 are allowed");
  limits.max_vertices = 8;
  EXPECT_TRUE(Validate(Frame(), limits).ok());
}

TEST(PolygonWithHoles, DefectiveHolesNameTheRing) {
  const std::string hole0 = kField + ".holes[0]";
  const std::string hole1 = kField + ".holes[1]";
  Polygon p = Frame();

  p.holes[0] = Ring({{400, 400}, {600, 600}});
  ExpectInvalid(p, hole0 + ": has 2 vertices; a ring needs at least 3");

  p = Frame();
  p.holes[0][1].lat_deg = 95;
  ExpectInvalid(p, hole0 + ".vertices[1].lat_deg: 95 is outside [-90, 90]");

  p = Frame();
  p.holes[0].push_back(p.holes[0][0]);
  ExpectInvalid(p, hole0 +
                       ": vertices[0] and vertices[4] are the same point "
                       "(0.0000 m apart); the ring closes itself, so do not "
                       "repeat the first vertex at the end");

  p = Frame();  // a bow tie
  p.holes[0] = Ring({{400, 400}, {600, 400}, {400, 600}, {600, 600}});
  ExpectInvalid(p, hole0 + ": edges 1 and 3 cross");

  p = Frame();  // edge 1 (x = 1100) crosses the outer ring's edge 1 (x = 1000)
  p.holes[0] = Box(900, 400, 1100, 600);
  ExpectInvalid(p, hole0 + ": edge 0 crosses the outer ring at edge 1");

  p = Frame();  // a vertex on the outer ring's edge 1
  p.holes[0] = Ring({{800, 400}, {1000, 500}, {800, 600}});
  ExpectInvalid(p, hole0 + ": edge 0 touches the outer ring at edge 1");

  p = Frame();  // beside the polygon, within its bounding cap
  p.holes[0] = Box(1100, 400, 1200, 600);
  ExpectInvalid(p, hole0 + ": lies outside the outer ring");

  p = Frame();  // far away
  p.holes[0] = {GeodesicDestination(kZurich, 0, 50e3),
                GeodesicDestination(kZurich, 90, 50e3),
                GeodesicDestination(kZurich, 45, 60e3)};
  ExpectInvalid(p, hole0 + ": vertices[0] lies outside the outer ring");

  p = Frame();
  p.holes.push_back(Box(550, 550, 700, 700));
  ExpectInvalid(p, hole1 + ": edge 0 crosses holes[0] at edge 1");

  p = Frame();
  p.holes.push_back(Box(450, 450, 550, 550));
  ExpectInvalid(p, hole1 + ": lies inside holes[0]");

  p = Frame();
  p.holes.push_back(Box(300, 300, 700, 700));
  ExpectInvalid(p, hole1 + ": contains holes[0]");

  p = Frame();  // sharing holes[0]'s edge 1
  p.holes.push_back(Box(600, 400, 700, 600));
  EXPECT_THAT(std::string(Validate(p).message()),
              HasSubstr(hole1 + ": edge 0 touches holes[0] at edge"));

  p = Frame();
  p.holes[0] = Box(500, 500, 500.5, 500.0015);  // a sliver
  EXPECT_THAT(std::string(Validate(p).message()),
              ::testing::MatchesRegex(
                  ".*holes\\[0\\]: encloses 0\\.000[0-9]+ m²; at least 1 m² is "
                  "required"));
}

// Intersection. The frame's hole is [400, 600]² on the plane.

TEST(PolygonWithHoles, FootprintInsideTheHoleDoesNotIntersect) {
  const Polygon frame = Frame();
  const Polygon inside = Plain(Box(450, 450, 550, 550));
  EXPECT_FALSE(Meets(frame, inside));
  EXPECT_FALSE(Meets(inside, frame));
  const Circle circle{At(500, 500), 50};
  EXPECT_FALSE(Meets(frame, circle));
  EXPECT_FALSE(Meets(circle, frame));
  // Without the hole both are in the polygon.
  EXPECT_TRUE(Meets(Plain(frame.vertices), inside));
  EXPECT_TRUE(Meets(Plain(frame.vertices), circle));
}

TEST(PolygonWithHoles, FootprintStraddlingTheHoleEdgeIntersects) {
  const Polygon frame = Frame();
  const Polygon straddle = Plain(Box(550, 450, 650, 550));
  EXPECT_TRUE(Meets(frame, straddle));
  EXPECT_TRUE(Meets(straddle, frame));
  const Circle circle{At(590, 500), 20};
  EXPECT_TRUE(Meets(frame, circle));
  // A footprint that covers the whole hole meets the ring around it.
  EXPECT_TRUE(Meets(frame, Plain(Box(300, 300, 700, 700))));
  EXPECT_TRUE(Meets(frame, Circle{At(500, 500), 200}));
  // And one that covers the whole polygon.
  EXPECT_TRUE(Meets(frame, Plain(Box(-10, -10, 1010, 1010))));
}

TEST(PolygonWithHoles, TouchingTheHoleEdgeIntersects) {
  // The region is closed: the hole's edge belongs to it. Within the 1 cm
  // precision, 0.5 mm short of the edge counts as touching and 1.1 cm does
  // not.
  const Polygon frame = Frame();
  for (const double gap : {0.0, 0.0005}) {
    SCOPED_TRACE(gap);
    const Polygon touching = Plain(Box(500, 450, 600 - gap, 550));
    EXPECT_TRUE(Meets(frame, touching));
    EXPECT_TRUE(Meets(touching, frame));
  }
  const Polygon apart = Plain(Box(500, 450, 600 - 0.011, 550));
  EXPECT_FALSE(Meets(frame, apart));
  EXPECT_FALSE(Meets(apart, frame));
  // A triangle whose tip reaches into the ring from the hole.
  const Polygon tip = Plain(Ring({{500, 450}, {600.011, 500}, {500, 550}}));
  EXPECT_TRUE(Meets(frame, tip));
}

TEST(PolygonWithHoles, CircleInTheHoleDecidesAtOneCentimetre) {
  // The nearest hole edge is x = 600, 100 m from the centre.
  const Polygon frame = Frame();
  const LatLng centre = At(500, 500);
  const double to_edge =
      DistanceToGeodesicSegment(centre, At(600, 400), At(600, 600));
  EXPECT_NEAR(to_edge, 100, 0.01);
  EXPECT_FALSE(Meets(frame, Circle{centre, to_edge - 0.011}));
  EXPECT_TRUE(Meets(frame, Circle{centre, to_edge + 0.011}));
  EXPECT_TRUE(Meets(Circle{centre, to_edge}, frame));
}

TEST(PolygonWithHoles, HoledAgainstHoled) {
  const Polygon frame = Frame();
  // Another frame wholly inside the first one's hole.
  Polygon small;
  small.vertices = Box(420, 420, 580, 580);
  small.holes.push_back(Box(480, 480, 520, 520));
  ASSERT_TRUE(Validate(small).ok()) << Validate(small);
  EXPECT_FALSE(Meets(frame, small));
  EXPECT_FALSE(Meets(small, frame));
  // A frame whose hole holds the first frame entirely.
  Polygon big;
  big.vertices = Box(-2000, -2000, 3000, 3000);
  big.holes.push_back(Box(-100, -100, 1100, 1100));
  ASSERT_TRUE(Validate(big).ok()) << Validate(big);
  EXPECT_FALSE(Meets(frame, big));
  EXPECT_FALSE(Meets(big, frame));
  // Two frames whose rings overlap.
  Polygon shifted;
  shifted.vertices = Box(800, 800, 1800, 1800);
  shifted.holes.push_back(Box(1200, 1200, 1400, 1400));
  EXPECT_TRUE(Meets(frame, shifted));
  EXPECT_TRUE(Meets(shifted, frame));
  // Shifted so that one's ring lies in the other's hole only.
  Polygon in_hole;
  in_hole.vertices = Box(450, 450, 550, 550);
  in_hole.holes.push_back(Box(460, 460, 540, 540));
  EXPECT_FALSE(Meets(frame, in_hole));
  // Two identical frames.
  EXPECT_TRUE(Meets(frame, Frame()));
}

TEST(PolygonWithHoles, VolumeIntersectSkipsTheHole) {
  Volume4D zone;
  zone.volume = {Frame(), {0, 120}};
  zone.time = {absl::FromUnixSeconds(0), absl::InfiniteFuture()};
  Volume4D flight = zone;
  flight.volume.footprint = Plain(Box(450, 450, 550, 550));
  flight.time = {absl::FromUnixSeconds(100), absl::FromUnixSeconds(200)};
  EXPECT_FALSE(Intersect(zone, flight).has_value());
  flight.volume.footprint = Plain(Box(450, 450, 650, 550));
  EXPECT_TRUE(Intersect(zone, flight).has_value());
}

TEST(PolygonWithHoles, CapAndCoveringIgnoreHolesConservatively) {
  const Polygon frame = Frame();
  const BoundingCap with = ComputeBoundingCap(frame);
  const BoundingCap without = ComputeBoundingCap(Plain(frame.vertices));
  EXPECT_EQ(with.center, without.center);
  EXPECT_EQ(with.radius_m, without.radius_m);
  const std::vector<uint64_t> cells = CoverFootprint(frame, 16);
  EXPECT_EQ(cells, CoverFootprint(Plain(frame.vertices), 16));
  // The hole's centre is covered too (a covering may over-cover).
  EXPECT_TRUE(std::binary_search(cells.begin(), cells.end(),
                                 CellIdAt(At(500, 500), 16)));
}

}  // namespace
}  // namespace utm::geo
