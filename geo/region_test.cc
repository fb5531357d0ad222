// Region: validation of a deployment's boundary and the containment test.
#include "geo/region.h"

#include <string>
#include <vector>

#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "geo/volume.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::geo {
namespace {

using test_util::SquareAround;
using ::testing::HasSubstr;

// A quadrilateral of geodesic edges, counter-clockwise: lat [47, 55] and
// lng [6, 15] at its corners, about the size of Germany.
Polygon Country() { return Polygon{{{47, 6}, {47, 15}, {55, 15}, {55, 6}}}; }

// The same with a hole around (51, 10), lat [50.5, 51.5], lng [9, 11].
Polygon CountryWithHole() {
  Polygon p = Country();
  p.holes.push_back({{50.5, 9}, {50.5, 11}, {51.5, 11}, {51.5, 9}});
  return p;
}

Region Make(std::vector<Polygon> polygons) {
  absl::StatusOr<Region> region = Region::Create(polygons, {}, "test.json");
  EXPECT_TRUE(region.ok()) << region.status();
  return *region;
}

TEST(Region, PolygonInsideOutsideStraddling) {
  const Region r = Make({Country()});
  EXPECT_TRUE(r.Contains(Footprint(SquareAround({52, 10}, 5000))));
  EXPECT_FALSE(r.Contains(Footprint(SquareAround({45, 10}, 5000))));
  // The southern edge is the geodesic between (47, 6) and (47, 15), which
  // runs north of latitude 47 between its ends: exact, not a rhumb line.
  const LatLng a{47, 6}, b{47, 15};
  const LatLng mid = GeodesicInterpolate(a, b, GeodesicDistance(a, b) / 2);
  EXPECT_GT(mid.lat_deg, 47.08);
  EXPECT_FALSE(r.Contains(LatLng{47.01, mid.lng_deg}));
  EXPECT_TRUE(r.Contains(GeodesicDestination(mid, 0, 10)));
  EXPECT_FALSE(r.Contains(GeodesicDestination(mid, 180, 10)));
  // Straddles the southern edge.
  EXPECT_FALSE(r.Contains(Footprint(SquareAround(mid, 5000))));
  EXPECT_TRUE(
      r.Contains(Footprint(SquareAround(GeodesicDestination(mid, 0, 60), 50))));
  EXPECT_FALSE(
      r.Contains(Footprint(SquareAround(GeodesicDestination(mid, 0, 40), 50))));
  // Just inside the western edge by about 1.5 km, 1 km half side: inside.
  EXPECT_TRUE(r.Contains(Footprint(SquareAround({51, 6.035}, 1000))));
  EXPECT_FALSE(r.Contains(Footprint(SquareAround({51, 6.01}, 1000))));
}

TEST(Region, ExactNotBoundingBox) {
  // A triangle: the bounding box holds points the triangle does not.
  const Region r = Make({Polygon{{{47, 6}, {47, 15}, {55, 6}}}});
  EXPECT_TRUE(r.Contains(LatLng{48, 7}));
  EXPECT_FALSE(r.Contains(LatLng{54, 14}));  // in the box, not the triangle
  EXPECT_FALSE(r.Contains(Footprint(SquareAround({54, 14}, 1000))));
}

TEST(Region, Holes) {
  const Region r = Make({CountryWithHole()});
  EXPECT_FALSE(r.Contains(LatLng{51, 10}));  // inside the hole
  EXPECT_FALSE(r.Contains(Footprint(SquareAround({51, 10}, 1000))));
  // Straddles the hole's southern edge.
  EXPECT_FALSE(r.Contains(Footprint(SquareAround({50.5, 10}, 1000))));
  // Wholly around the hole: its area includes the hole, which is not ours.
  EXPECT_FALSE(r.Contains(Footprint(SquareAround({51, 10}, 150000))));
  EXPECT_TRUE(r.Contains(Footprint(SquareAround({49, 10}, 1000))));
}

TEST(Region, Circles) {
  const Region r = Make({CountryWithHole()});
  EXPECT_TRUE(r.Contains(Footprint(Circle{{52, 13}, 2000})));
  // The western edge is at lng 6, about 69 km per degree at lat 51.5:
  // centre 0.05° (3.5 km) inside, radius 3 km inside, 4 km across.
  EXPECT_TRUE(r.Contains(Footprint(Circle{{51.5, 6.05}, 3000})));
  EXPECT_FALSE(r.Contains(Footprint(Circle{{51.5, 6.05}, 4000})));
  EXPECT_FALSE(r.Contains(Footprint(Circle{{51, 10}, 100})));  // in the hole
  EXPECT_FALSE(r.Contains(Footprint(Circle{{45, 10}, 100})));
}

TEST(Region, SeveralPolygons) {
  Polygon island{{{40, 20}, {40, 21}, {41, 21}, {41, 20}}};
  const Region r = Make({Country(), island});
  EXPECT_TRUE(r.Contains(Footprint(SquareAround({40.5, 20.5}, 1000))));
  EXPECT_TRUE(r.Contains(Footprint(SquareAround({52, 10}, 1000))));
  EXPECT_FALSE(r.Contains(Footprint(SquareAround({44, 17}, 1000))));
  EXPECT_EQ(r.vertex_count(), 8);
}

TEST(Region, Antimeridian) {
  // Lat [-20, -10], lng 175 east across 180 to -175.
  const Region r =
      Make({Polygon{{{-20, 175}, {-20, -175}, {-10, -175}, {-10, 175}}}});
  EXPECT_TRUE(r.Contains(LatLng{-15, 179.9}));
  EXPECT_TRUE(r.Contains(LatLng{-15, -179.9}));
  EXPECT_FALSE(r.Contains(LatLng{-15, 0}));
  EXPECT_FALSE(r.Contains(LatLng{-15, 170}));
  // A footprint across the antimeridian itself.
  EXPECT_TRUE(r.Contains(Footprint(SquareAround({-15, 180}, 5000))));
  EXPECT_TRUE(r.Contains(Footprint(Circle{{-15, -180}, 5000})));
  EXPECT_FALSE(r.Contains(Footprint(SquareAround({-15, 175}, 5000))));
}

TEST(Region, ValidationNamesTheFault) {
  struct Case {
    std::vector<Polygon> polygons;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{}, "test.json: no polygon"},
      {{Polygon{{{47, 6}, {47, 15}}}},
       "test.json: polygon 0 ring 0: 2 distinct vertices; a ring needs at "
       "least 3"},
      {{Polygon{{{47, 6}, {47, 15}, {95, 15}}}},
       "test.json: polygon 0 ring 0 vertex 2: latitude 95 out of [-90, 90]"},
      {{Country(), Polygon{{{47, 6}, {47, 195}, {55, 15}}}},
       "test.json: polygon 1 ring 0 vertex 1: longitude 195 out of "
       "[-180, 180]"},
      // A bow tie: edges 0 and 2 cross.
      {{Polygon{{{47, 6}, {55, 15}, {47, 15}, {55, 6}}}},
       "test.json: polygon 0 ring 0: edges 0 and 2 cross"},
      {{Polygon{{{47, 6}, {47, 15}, {55, 15}, {55, 6}, {47, 6}}}},
       "test.json: polygon 0 ring 0: the last vertex repeats the first"},
      {{Polygon{Country().vertices,
                {{{50.5, 9}, {51.5, 11}, {50.5, 11}, {51.5, 9}}}}},
       "test.json: polygon 0 ring 1: edges 0 and 2 cross"},
      {{Polygon{Country().vertices, {{{40, 9}, {40, 11}, {41, 11}}}}},
       "test.json: polygon 0: "},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Region> r = Region::Create(c.polygons, {}, "test.json");
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument)
        << c.message;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message));
  }
}

TEST(Region, BoundedSize) {
  RegionLimits limits;
  limits.max_vertices = 7;
  absl::StatusOr<Region> r =
      Region::Create({Country(), Country()}, limits, "big.json");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(),
              HasSubstr("big.json: 8 vertices; at most 7"));
  limits = RegionLimits();
  limits.max_polygons = 1;
  r = Region::Create({Country(), Country()}, limits, "big.json");
  EXPECT_THAT(r.status().message(), HasSubstr("2 polygons; at most 1"));
}

}  // namespace
}  // namespace utm::geo
