#include "geo/volume.h"

#include <cmath>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::geo {
namespace {

using test_util::LocalPolygon;

using ::testing::HasSubstr;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
const LatLng kZurich{47.3769, 8.5417};

Polygon Square(double side_m) {
  return LocalPolygon(kZurich,
                      {{0, 0}, {side_m, 0}, {side_m, side_m}, {0, side_m}});
}

Volume4D ValidVolume() {
  Volume4D v;
  v.volume.footprint = Square(100);
  v.volume.altitude = {500, 620};
  v.time = {absl::FromUnixSeconds(1'800'000'000),
            absl::FromUnixSeconds(1'800'003'600)};
  return v;
}

TEST(ValidateVolume4D, AcceptsValidVolumes) {
  const ValidationLimits limits;
  Volume4D v = ValidVolume();
  EXPECT_TRUE(ValidateVolume4D(v, limits, "volumes[0]").ok());
  // Clockwise winding is as valid as counter-clockwise.
  std::reverse(std::get<Polygon>(v.volume.footprint).vertices.begin(),
               std::get<Polygon>(v.volume.footprint).vertices.end());
  EXPECT_TRUE(ValidateVolume4D(v, limits, "volumes[0]").ok());
  // Collinear vertices along one edge.
  v.volume.footprint = LocalPolygon(
      kZurich, {{0, 0}, {50, 0}, {100, 0}, {100, 100}, {0, 100}, {0, 50}});
  EXPECT_TRUE(ValidateVolume4D(v, limits, "volumes[0]").ok());
  v.volume.footprint = Circle{kZurich, 250};
  EXPECT_TRUE(ValidateVolume4D(v, limits, "volumes[0]").ok());
  // A permanent restriction has no end.
  v.time.end = absl::InfiniteFuture();
  EXPECT_TRUE(ValidateVolume4D(v, limits, "volumes[0]").ok());
  // Poles and the anti-meridian are ordinary places.
  v.volume.footprint = Circle{{90, 0}, 1000};
  EXPECT_TRUE(ValidateVolume4D(v, limits, "volumes[0]").ok());
  v.volume.footprint = Polygon{{{-16.0, 179.999},
                                {-16.0, -179.999},
                                {-16.001, -179.999},
                                {-16.001, 179.999}}};
  EXPECT_TRUE(ValidateVolume4D(v, limits, "volumes[0]").ok());
}

struct InvalidCase {
  std::string name;
  std::function<void(Volume4D&)> mutate;
  std::string message;  // expected full message
};

// Names the case in test output (instead of a byte dump).
void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.name; }

class ValidateVolume4DInvalid : public testing::TestWithParam<InvalidCase> {};

TEST_P(ValidateVolume4DInvalid, NamesFieldAndProblem) {
  Volume4D v = ValidVolume();
  GetParam().mutate(v);
  const absl::Status status =
      ValidateVolume4D(v, ValidationLimits(), "volumes[1]");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(status.message()), GetParam().message);
}

Polygon& Poly(Volume4D& v) { return std::get<Polygon>(v.volume.footprint); }

const std::string kPoly = "volumes[1].volume.outline_polygon";
const std::string kCircle = "volumes[1].volume.outline_circle";

INSTANTIATE_TEST_SUITE_P(
    AllErrors, ValidateVolume4DInvalid,
    testing::Values(
        InvalidCase{"LatitudeAbove90",
                    [](Volume4D& v) { Poly(v).vertices[2].lat_deg = 91; },
                    kPoly + ".vertices[2].lat_deg: 91 is outside [-90, 90]"},
        InvalidCase{"LatitudeBelowMinus90",
                    [](Volume4D& v) { Poly(v).vertices[0].lat_deg = -90.5; },
                    kPoly + ".vertices[0].lat_deg: -90.5 is outside [-90, 90]"},
        InvalidCase{
            "LongitudeOutOfRange",
            [](Volume4D& v) { Poly(v).vertices[1].lng_deg = 180.25; },
            kPoly + ".vertices[1].lng_deg: 180.25 is outside [-180, 180]"},
        InvalidCase{"LatitudeNaN",
                    [](Volume4D& v) { Poly(v).vertices[3].lat_deg = kNaN; },
                    kPoly + ".vertices[3].lat_deg: nan is not a finite number"},
        InvalidCase{
            "LongitudeInfinite",
            [](Volume4D& v) { Poly(v).vertices[3].lng_deg = -kInf; },
            kPoly + ".vertices[3].lng_deg: -inf is not a finite number"},
        InvalidCase{"TwoVertices",
                    [](Volume4D& v) { Poly(v).vertices.resize(2); },
                    kPoly + ": has 2 vertices; a polygon needs at least 3"},
        InvalidCase{"NoVertices", [](Volume4D& v) { Poly(v).vertices.clear(); },
                    kPoly + ": has 0 vertices; a polygon needs at least 3"},
        InvalidCase{"TooManyVertices",
                    [](Volume4D& v) {
                      Polygon p;
                      for (int i = 0; i < 1001; ++i) {
                        p.vertices.push_back(GeodesicDestination(
                            kZurich, 360.0 * i / 1001, 500));
                      }
                      v.volume.footprint = p;
                    },
                    kPoly + ": has 1001 vertices; at most 1000 are allowed"},
        InvalidCase{"RepeatedVertex",
                    [](Volume4D& v) {
                      auto& vs = Poly(v).vertices;
                      vs.insert(vs.begin() + 2, vs[2]);
                    },
                    kPoly + ": vertices[2] and vertices[3] are the same point "
                            "(0.0000 m apart)"},
        InvalidCase{"ClosingVertexRepeated",
                    [](Volume4D& v) {
                      Poly(v).vertices.push_back(Poly(v).vertices[0]);
                    },
                    kPoly +
                        ": vertices[0] and vertices[4] are the same point "
                        "(0.0000 m apart); the ring closes itself, so do not "
                        "repeat the first vertex at the end"},
        InvalidCase{"BowTie",
                    [](Volume4D& v) {
                      v.volume.footprint = LocalPolygon(
                          kZurich, {{0, 0}, {100, 100}, {100, 0}, {0, 100}});
                    },
                    kPoly + ": edges 0 and 2 cross"},
        InvalidCase{"EdgesCrossLater",
                    [](Volume4D& v) {
                      // A pentagon whose edge 4 (v4 -> v0) cuts edge 2.
                      v.volume.footprint = LocalPolygon(
                          kZurich,
                          {{0, 0}, {100, 0}, {100, 100}, {50, 100}, {150, 50}});
                    },
                    kPoly + ": edges 1 and 3 cross"},
        InvalidCase{
            "VertexTouchesEdge",
            [](Volume4D& v) {
              // Vertex 4 lies on edge 0: a pinched ring.
              v.volume.footprint = LocalPolygon(
                  kZurich,
                  {{0, 0}, {100, 0}, {100, 100}, {60, 100}, {50, 0}, {0, 100}});
            },
            kPoly + ": edges 0 and 3 touch"},
        InvalidCase{"DoublesBack",
                    [](Volume4D& v) {
                      // The ring runs out along y = 0 and back over itself.
                      v.volume.footprint = LocalPolygon(
                          kZurich, {{0, 0}, {100, 0}, {50, 0}, {50, 100}});
                    },
                    kPoly + ": edges 0 and 1 overlap (the ring doubles back on "
                            "itself)"},
        InvalidCase{"ZeroArea",
                    [](Volume4D& v) {
                      v.volume.footprint = LocalPolygon(
                          kZurich, {{0, 0}, {100, 0}, {100, 0.005}});
                    },
                    kPoly + ": encloses 0.25 m²; at least 1 m² is required"},
        InvalidCase{"AreaTooLarge",
                    [](Volume4D& v) { v.volume.footprint = Square(60'000); },
                    kPoly + ": encloses 3599.682 km²; at most 2500.000 km² is "
                            "allowed"},
        InvalidCase{"CircleRadiusZero",
                    [](Volume4D& v) {
                      v.volume.footprint = Circle{kZurich, 0};
                    },
                    kCircle + ".radius_m: must be positive, got 0"},
        InvalidCase{"CircleRadiusNegative",
                    [](Volume4D& v) {
                      v.volume.footprint = Circle{kZurich, -5};
                    },
                    kCircle + ".radius_m: must be positive, got -5"},
        InvalidCase{"CircleRadiusNaN",
                    [](Volume4D& v) {
                      v.volume.footprint = Circle{kZurich, kNaN};
                    },
                    kCircle + ".radius_m: nan is not a finite number"},
        InvalidCase{"CircleTooLarge",
                    [](Volume4D& v) {
                      v.volume.footprint = Circle{kZurich, 30'000};
                    },
                    kCircle +
                        ".radius_m: 30000 m encloses 2827.433 km²; at most "
                        "2500.000 km² is allowed"},
        InvalidCase{"CircleCentreOutOfRange",
                    [](Volume4D& v) {
                      v.volume.footprint = Circle{{47, 200}, 10};
                    },
                    kCircle + ".center.lng_deg: 200 is outside [-180, 180]"},
        InvalidCase{"LowerAboveUpper",
                    [](Volume4D& v) {
                      v.volume.altitude = {700.4, 600.4};
                    },
                    "volumes[1].volume.altitude_lower: (700.4 m) must be below "
                    "altitude_upper (600.4 m)"},
        InvalidCase{"EqualAltitudes",
                    [](Volume4D& v) {
                      v.volume.altitude = {120, 120};
                    },
                    "volumes[1].volume.altitude_lower: (120 m) must be below "
                    "altitude_upper (120 m)"},
        InvalidCase{"AltitudeNaN",
                    [](Volume4D& v) { v.volume.altitude.upper_m = kNaN; },
                    "volumes[1].volume.altitude_upper: nan is not a finite "
                    "number"},
        InvalidCase{"AltitudeOutOfRange",
                    [](Volume4D& v) { v.volume.altitude.upper_m = 90'000; },
                    "volumes[1].volume.altitude_upper: 90000 m is outside "
                    "[-1000, 50000] m above the WGS84 ellipsoid"},
        InvalidCase{"TimeInverted",
                    [](Volume4D& v) { std::swap(v.time.start, v.time.end); },
                    "volumes[1].time_end: (2027-01-15T08:00:00+00:00) must be "
                    "after time_start (2027-01-15T09:00:00+00:00)"},
        InvalidCase{"TimeEmpty", [](Volume4D& v) { v.time.end = v.time.start; },
                    "volumes[1].time_end: (2027-01-15T08:00:00+00:00) must be "
                    "after time_start (2027-01-15T08:00:00+00:00)"},
        InvalidCase{"TimeStartInfinite",
                    [](Volume4D& v) {
                      v.time = {absl::InfiniteFuture(), absl::InfiniteFuture()};
                    },
                    "volumes[1].time_start: must not be infinite"}),
    [](const testing::TestParamInfo<InvalidCase>& info) {
      return info.param.name;
    });

TEST(ValidatePolygon, AreaLimitIsConfigurable) {
  ValidationLimits limits;
  limits.max_area_m2 = 5000;
  const absl::Status status = ValidatePolygon(Square(100), limits, "p");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("p: encloses 0.010 km²; at most 0.005 km² is allowed"));
  limits.max_vertices = 3;
  EXPECT_EQ(ValidatePolygon(Square(10), limits, "p").message(),
            "p: has 4 vertices; at most 3 are allowed");
}

TEST(ValidatePolygon, LongThinPolygonWithinAreaButBeyondReach) {
  // 2,000 km² but 200 km long: beyond the reach in which intersection is
  // guaranteed exact, so it is refused.
  const absl::Status status = ValidatePolygon(
      LocalPolygon(kZurich, {{0, 0}, {200e3, 0}, {200e3, 10e3}, {0, 10e3}}),
      ValidationLimits(), "p");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("from its centre"));
  EXPECT_THAT(status.message(), HasSubstr("at most 50.000 km is allowed"));
}

TEST(BoundingCap, ContainsEveryVertexAndTheRim) {
  const Polygon p = LocalPolygon(kZurich, {{0, 0}, {3000, 0}, {3000, 1000}});
  const BoundingCap cap = ComputeBoundingCap(p);
  for (const LatLng& v : p.vertices) {
    EXPECT_LE(GeodesicDistance(cap.center, v), cap.radius_m);
  }
  // The cap is tight: the farthest vertex lies within the 1 m margin (plus
  // the chord bound's 1e-5 relative slack) of the rim.
  double farthest = 0;
  for (const LatLng& v : p.vertices) {
    farthest = std::max(farthest, GeodesicDistance(cap.center, v));
  }
  EXPECT_GE(cap.radius_m, farthest + 1.0);
  EXPECT_LE(cap.radius_m, farthest + 1.0 + 1e-5 * farthest);
  const BoundingCap c = ComputeBoundingCap(Circle{kZurich, 300});
  EXPECT_EQ(c.center, kZurich);
  EXPECT_GE(c.radius_m, 300);
}

}  // namespace
}  // namespace utm::geo
