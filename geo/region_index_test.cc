// The region edge index: its boxes hold the whole geodesic, and Region's
// indexed checks answer as the linear (every-edge) checks do.
#include "geo/region_index.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "geo/region.h"
#include "geo/region_test_peer.h"
#include "geo/volume.h"
#include "gtest/gtest.h"

namespace utm::geo {

namespace {

using test_util::BorderRing;
using test_util::SquareAround;
using test_util::Uniform;
using test_util::UniformInt;

// The seed of a randomised test: UTM_TEST_SEED if set (to reproduce a
// failure), else a fresh one. Tests print it.
uint64_t Seed() {
  if (const char* s = std::getenv("UTM_TEST_SEED")) {
    return std::strtoull(s, nullptr, 10);
  }
  return std::random_device()();
}

bool InBox(const LngLatBox& b, const LatLng& p) {
  return p.lng_deg >= b.lng_lo && p.lng_deg <= b.lng_hi &&
         p.lat_deg >= b.lat_lo && p.lat_deg <= b.lat_hi;
}

// Whether every one of `samples` points along the geodesic a→b (ends
// included) lies in the edge's boxes; the first that does not, if any, in
// *why.
using BoxesFn = int (*)(const LatLng&, const LatLng&, LngLatBox[2]);

bool BoxesHoldGeodesic(const LatLng& a, const LatLng& b, int samples,
                       std::string* why, BoxesFn boxes_of = GeodesicEdgeBoxes) {
  LngLatBox boxes[2];
  const int count = boxes_of(a, b, boxes);
  const double length = GeodesicDistance(a, b);
  for (int i = 0; i <= samples; ++i) {
    LatLng p =
        i == samples ? b : GeodesicInterpolate(a, b, length * i / samples);
    if (p.lng_deg > 180) p.lng_deg -= 360;
    if (p.lng_deg < -180) p.lng_deg += 360;
    bool in = false;
    for (int k = 0; k < count; ++k) in = in || InBox(boxes[k], p);
    // ±180 are one meridian.
    if (!in && std::abs(p.lng_deg) == 180) {
      p.lng_deg = -p.lng_deg;
      for (int k = 0; k < count; ++k) in = in || InBox(boxes[k], p);
    }
    if (!in) {
      *why = absl::StrCat("point ", i, "/", samples, " (", p.lat_deg, ", ",
                          p.lng_deg, ") of edge (", a.lat_deg, ", ", a.lng_deg,
                          ") -> (", b.lat_deg, ", ", b.lng_deg,
                          ") outside its box [", boxes[0].lat_lo, ", ",
                          boxes[0].lat_hi, "] x [", boxes[0].lng_lo, ", ",
                          boxes[0].lng_hi, "]");
      return false;
    }
  }
  return true;
}

TEST(RegionIndex, EdgeBoxHoldsTheBulge) {
  // Along 47°N from 6°E to 15°E the geodesic runs 0.08° north of its ends.
  const LatLng a{47, 6}, b{47, 15};
  LngLatBox boxes[2];
  ASSERT_EQ(GeodesicEdgeBoxes(a, b, boxes), 1);
  EXPECT_GT(boxes[0].lat_hi, 47.08);
  EXPECT_LT(boxes[0].lat_hi, 47.2);  // and not much more
  std::string why;
  EXPECT_TRUE(BoxesHoldGeodesic(a, b, 1000, &why)) << why;
  // Southern hemisphere, westwards: the bulge is towards the south pole.
  EXPECT_TRUE(BoxesHoldGeodesic({-60, 30}, {-60, -20}, 1000, &why)) << why;
  ASSERT_EQ(GeodesicEdgeBoxes({-60, 30}, {-60, -20}, boxes), 1);
  EXPECT_LT(boxes[0].lat_lo, -62.38);  // Clairaut: 62.39°S
  // Across the antimeridian: two boxes, one each side.
  ASSERT_EQ(GeodesicEdgeBoxes({70, 170}, {70, -160}, boxes), 2);
  EXPECT_TRUE(BoxesHoldGeodesic({70, 170}, {70, -160}, 1000, &why)) << why;
  // Over the pole (meridians 180° apart) and from the pole: everywhere.
  ASSERT_EQ(GeodesicEdgeBoxes({80, 10}, {80, -170}, boxes), 1);
  EXPECT_EQ(boxes[0].lat_hi, 90);
  EXPECT_EQ(boxes[0].lng_hi - boxes[0].lng_lo, 360);
  EXPECT_TRUE(BoxesHoldGeodesic({80, 10}, {80, -170}, 1000, &why)) << why;
  EXPECT_TRUE(BoxesHoldGeodesic({90, 0}, {60, 45}, 1000, &why)) << why;
}

TEST(RegionIndex, EdgeBoxesAreConservative) {
  const uint64_t seed = Seed();
  std::mt19937_64 rng(seed);
  SCOPED_TRACE(absl::StrCat("seed ", seed));
  for (int i = 0; i < 1000; ++i) {
    // Short to very long edges, anywhere, many near the poles and across
    // the antimeridian.
    const double lat =
        i % 4 == 0 ? Uniform(rng, 80, 89.99) * (UniformInt(rng, 0, 1) ? 1 : -1)
                   : Uniform(rng, -85, 85);
    const double lng =
        i % 3 == 0 ? Uniform(rng, 170, 180) : Uniform(rng, -180, 180);
    const LatLng a{lat, lng};
    const double length = std::pow(10, Uniform(rng, 0, 6.8));  // 1 m-6,300 km
    const LatLng b = GeodesicDestination(a, Uniform(rng, 0, 360), length);
    if (a == b) continue;
    std::string why;
    ASSERT_TRUE(BoxesHoldGeodesic(a, b, 200, &why)) << why;
    // The cheap boxes for footprints' edges (which hand long edges to the
    // exact ones).
    ASSERT_TRUE(BoxesHoldGeodesic(a, b, 200, &why, ShortGeodesicEdgeBoxes))
        << "short: " << why;
  }
}

// A region and the points and footprints to ask it about.
struct Case {
  std::string name;
  std::vector<Polygon> polygons;
};

LatLng Near(std::mt19937_64& rng, const std::vector<Polygon>& polygons) {
  const Polygon& p = polygons[UniformInt(rng, 0, polygons.size() - 1)];
  const int ring = UniformInt(rng, 0, p.holes.size());
  const std::vector<LatLng>& v = ring == 0 ? p.vertices : p.holes[ring - 1];
  const int k = UniformInt(rng, 0, v.size() - 1);
  const LatLng& a = v[k];
  const LatLng& b = v[(k + 1) % v.size()];
  switch (UniformInt(rng, 0, 3)) {
    case 0:
      return a;  // a vertex, exactly
    case 1:      // on the edge (to Boost's rounding)
      return GeodesicInterpolate(a, b,
                                 GeodesicDistance(a, b) * Uniform(rng, 0, 1));
    default: {  // beside it, either side, 1 mm to 3 km
      const LatLng on = GeodesicInterpolate(
          a, b, GeodesicDistance(a, b) * Uniform(rng, 0, 1));
      const double side = UniformInt(rng, 0, 1) ? 90 : -90;
      return GeodesicDestination(on, GeodesicAzimuth(a, b) + side,
                                 std::pow(10, Uniform(rng, -3, 3.5)));
    }
  }
}

void ExpectAgreement(const Case& c, uint64_t seed, int points, int footprints) {
  SCOPED_TRACE(absl::StrCat(c.name, ", seed ", seed));
  absl::StatusOr<Region> created = Region::Create(c.polygons, {}, c.name);
  ASSERT_TRUE(created.ok()) << created.status();
  const Region& region = *created;
  std::mt19937_64 rng(seed);
  // Where to throw random points: around the first vertices of each ring.
  int inside = 0, outside = 0;
  for (int i = 0; i < points + footprints; ++i) {
    LatLng p = Near(rng, c.polygons);
    if (i % 4 == 0) {
      p = GeodesicDestination(p, Uniform(rng, 0, 360), Uniform(rng, 0, 300e3));
    }
    if (i < points) {
      const bool indexed = region.Contains(p);
      ASSERT_EQ(indexed, RegionTestPeer::ContainsLinear(region, p))
          << "point " << i << " (" << p.lat_deg << ", " << p.lng_deg << ")";
      (indexed ? inside : outside)++;
      continue;
    }
    const double size = std::pow(10, Uniform(rng, -1, 4.5));  // 0.1 m-30 km
    const Footprint f = UniformInt(rng, 0, 1) ? Footprint(SquareAround(p, size))
                                              : Footprint(Circle{p, size});
    const bool indexed = region.Contains(f);
    ASSERT_EQ(indexed, RegionTestPeer::ContainsLinear(region, f))
        << "footprint " << i << " around (" << p.lat_deg << ", " << p.lng_deg
        << "), size " << size << " m, "
        << (std::holds_alternative<Circle>(f) ? "circle" : "square");
    (indexed ? inside : outside)++;
  }
  // Both answers came up: the agreement is not that of a constant.
  EXPECT_GT(inside, (points + footprints) / 10);
  EXPECT_GT(outside, (points + footprints) / 10);
}

// Holes: small borders well inside the outer ring.
void AddHoles(std::mt19937_64& rng, const LatLng& centre, double radius_m,
              int holes, int vertices, Polygon* p) {
  for (int h = 0; h < holes; ++h) {
    const LatLng at =
        GeodesicDestination(centre, 360.0 * h / holes + 10, radius_m * 0.4);
    p->holes.push_back(BorderRing(rng, at, radius_m * 0.1, vertices));
  }
}

TEST(RegionIndex, AgreesWithLinearOnBorders) {
  const uint64_t seed = Seed();
  std::mt19937_64 rng(seed);
  std::vector<Case> cases;
  {
    Polygon p{BorderRing(rng, {50, 10}, 400e3, 4000)};
    AddHoles(rng, {50, 10}, 400e3, 3, 300, &p);
    cases.push_back({"country with holes", {p}});
  }
  {
    // Across the antimeridian, with a hole across it too.
    Polygon p{BorderRing(rng, {-17, 179.9}, 300e3, 3000)};
    p.holes.push_back(BorderRing(rng, {-17.2, -179.95}, 40e3, 200));
    Polygon island{BorderRing(rng, {-12, 176}, 60e3, 500)};
    cases.push_back({"antimeridian islands", {p, island}});
  }
  {
    // Long edges: 1,000-3,000 km, bulging far from their ends' latitude,
    // one region across the antimeridian near the pole.
    Polygon wide{{{55, -20}, {55, 40}, {72, 40}, {72, 10}, {66, -5}}};
    Polygon arctic{{{70, 150}, {70, -150}, {84, -150}, {84, 150}}};
    Polygon south{BorderRing(rng, {-50, -70}, 2000e3, 12)};
    cases.push_back({"long edges", {wide, arctic, south}});
  }
  {
    Polygon polar{BorderRing(rng, {83, 40}, 500e3, 2000)};
    cases.push_back({"near the pole", {polar}});
  }
  for (const Case& c : cases) ExpectAgreement(c, seed, 200, 100);
}

// Both answers for a footprint, which must agree.
bool ContainsBoth(const Region& region, const Footprint& f) {
  const bool indexed = region.Contains(f);
  EXPECT_EQ(indexed, RegionTestPeer::ContainsLinear(region, f));
  return indexed;
}

TEST(RegionIndex, ShortEdgeAcrossALongOneIsACrossing) {
  // Found by AgreesWithLinearOnBorders: a 30 cm square across a 630 m
  // boundary edge, 14 cm clear on each side. Boost's segment test finds no
  // crossing there and its polygon test then called the square inside.
  const LatLng a{-12.228286376976245, 176.590390906951370};
  const LatLng b{-12.222573432609543, 176.590339236088084};
  const Region region =
      *Region::Create({Polygon{{a, b, {-12.2255, 176.585}}}}, {}, "test");
  const LatLng on{-12.226064952434694, 176.59037081495731};
  const double half = 0.14453766408246629;
  EXPECT_FALSE(ContainsBoth(region, Footprint(SquareAround(on, half))));
  EXPECT_FALSE(ContainsBoth(region, Footprint(Circle{on, half})));
  // A metre inside (west of the edge) it is held; a metre outside not.
  const double azimuth = GeodesicAzimuth(a, b);
  EXPECT_TRUE(ContainsBoth(
      region,
      Footprint(SquareAround(GeodesicDestination(on, azimuth - 90, 1), half))));
  EXPECT_FALSE(ContainsBoth(
      region,
      Footprint(SquareAround(GeodesicDestination(on, azimuth + 90, 1), half))));
}

TEST(RegionIndex, BoundaryPokingIntoTheFootprintIsACrossing) {
  // A notch in the boundary, 10 cm wide, whose tip reaches 3 cm into a
  // 200 m square that otherwise lies inside, 2 cm clear of the edge. Boost
  // finds no crossing of the notch's edges with the square's.
  const LatLng sw{47, 8}, se{47, 8.05}, ne{47.05, 8.05}, nw{47.05, 8};
  const LatLng mid = GeodesicInterpolate(sw, se, GeodesicDistance(sw, se) / 2);
  const double east = GeodesicAzimuth(sw, se);
  const LatLng notch_w = GeodesicDestination(mid, east + 180, 0.05);
  const LatLng notch_e = GeodesicDestination(mid, east, 0.05);
  const LatLng tip = GeodesicDestination(mid, east - 90, 0.05);
  const Region region = *Region::Create(
      {Polygon{{sw, notch_w, tip, notch_e, se, ne, nw}}}, {}, "test");
  const LatLng centre = GeodesicDestination(mid, east - 90, 100.02);
  EXPECT_FALSE(ContainsBoth(region, Footprint(SquareAround(centre, 100))));
  // Moved half a metre north, clear of the tip, it is held.
  EXPECT_TRUE(ContainsBoth(
      region, Footprint(SquareAround(
                  GeodesicDestination(centre, east - 90, 0.5), 100))));
}

TEST(RegionIndex, AgreesWithLinearAroundThePole) {
  // A ring around the north pole: the winding count hears from the
  // opposite meridian too.
  const uint64_t seed = Seed();
  std::mt19937_64 rng(seed);
  Polygon cap;
  for (int i = 0; i < 400; ++i) {
    cap.vertices.push_back(
        {80 + 3 * std::sin(i * 0.1) + Uniform(rng, -0.01, 0.01),
         -180 + 360.0 * (i + 0.5) / 400});
  }
  ExpectAgreement({"around the pole", {cap}}, seed, 400, 100);
}

TEST(RegionIndex, NoFootprintOrPointMissesAnEdge) {
  // Footprints right on the boundary (the intersections the index must
  // find) are refused, as the linear check refuses them.
  std::mt19937_64 rng(7);
  const Polygon p{BorderRing(rng, {47, 8}, 100e3, 2000)};
  absl::StatusOr<Region> region = Region::Create({p}, {}, "test");
  ASSERT_TRUE(region.ok()) << region.status();
  for (size_t k = 0; k < p.vertices.size(); k += 7) {
    const LatLng& a = p.vertices[k];
    const LatLng& b = p.vertices[(k + 1) % p.vertices.size()];
    const LatLng mid = GeodesicInterpolate(a, b, GeodesicDistance(a, b) / 2);
    EXPECT_FALSE(region->Contains(Footprint(SquareAround(mid, 1)))) << k;
    EXPECT_FALSE(region->Contains(Footprint(Circle{a, 0.5}))) << k;
    EXPECT_TRUE(region->Contains(a)) << k;  // the boundary is the region's
  }
}

}  // namespace
}  // namespace utm::geo
