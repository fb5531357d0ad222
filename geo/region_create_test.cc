// Region::Create's validation: the indexed check of a ring's edges
// (MeetingBoxPairs) refuses exactly what the latitude sweep refused
// (Region::CreateLinear), with the same message, on valid and broken
// borders.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "geo/region.h"
#include "geo/region_index.h"
#include "geo/region_test_peer.h"
#include "geo/volume.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::geo {

namespace {

using test_util::BorderRing;
using test_util::Uniform;
using test_util::UniformInt;
using ::testing::HasSubstr;

// The seed of a randomised test: UTM_TEST_SEED if set (to reproduce a
// failure), else a fresh one. Tests print it.
uint64_t Seed() {
  if (const char* s = std::getenv("UTM_TEST_SEED")) {
    return std::strtoull(s, nullptr, 10);
  }
  return std::random_device()();
}

LatLng Wrapped(LatLng p) {
  if (p.lng_deg > 180) p.lng_deg -= 360;
  if (p.lng_deg < -180) p.lng_deg += 360;
  return p;
}

// A point on edge k of `ring`, a fraction t along it, moved `offset_m`
// square to it (either side by sign).
LatLng Beside(const std::vector<LatLng>& ring, size_t k, double t,
              double offset_m) {
  const LatLng& a = ring[k];
  const LatLng& b = ring[(k + 1) % ring.size()];
  const LatLng on = GeodesicInterpolate(a, b, GeodesicDistance(a, b) * t);
  if (offset_m == 0) return Wrapped(on);
  return Wrapped(
      GeodesicDestination(on, GeodesicAzimuth(a, b) + (offset_m > 0 ? 90 : -90),
                          std::abs(offset_m)));
}

// Breaks (or nearly breaks) `ring` in one of the ways a border file does:
// a vertex moved across its neighbours' edges or onto, or within a hair of,
// another edge; two vertices swapped; a stretch reversed; a vertex repeated
// away from its neighbours; a spike back along an edge.
void Perturb(std::mt19937_64& rng, std::vector<LatLng>* ring) {
  std::vector<LatLng>& r = *ring;
  const size_t n = r.size();
  const size_t k = UniformInt(rng, 0, n - 1);
  const size_t near = (k + UniformInt(rng, 2, std::min<int>(40, n - 2))) % n;
  switch (UniformInt(rng, 0, 6)) {
    case 0:  // moved 10 m to 50 km, anywhere
      r[k] = Wrapped(GeodesicDestination(r[k], Uniform(rng, 0, 360),
                                         std::pow(10, Uniform(rng, 1, 4.7))));
      break;
    case 1: {  // onto or beside a nearby edge: 0, 1 mm to 30 m either side
      const double offset = UniformInt(rng, 0, 3) == 0
                                ? 0.0
                                : std::pow(10, Uniform(rng, -3, 1.5)) *
                                      (UniformInt(rng, 0, 1) ? 1 : -1);
      r[k] = Beside(r, near, Uniform(rng, 0, 1), offset);
      break;
    }
    case 2:  // two vertices swapped
      std::swap(r[k], r[near]);
      break;
    case 3: {  // a stretch reversed
      const size_t lo = std::min(k, near), hi = std::max(k, near);
      std::reverse(r.begin() + lo, r.begin() + hi + 1);
      break;
    }
    case 4:  // a vertex repeated away from its neighbours
      r[k] = r[near];
      break;
    case 5: {  // a spike: back along the edge before it
      const LatLng& prev = r[(k + n - 1) % n];
      r.insert(r.begin() + k + 1,
               Wrapped(GeodesicInterpolate(
                   r[k], prev,
                   GeodesicDistance(r[k], prev) * Uniform(rng, 0.1, 0.9))));
      break;
    }
    default:  // on a vertex of a nearby edge, a hair off
      r[k] = Wrapped(GeodesicDestination(r[near], Uniform(rng, 0, 360),
                                         std::pow(10, Uniform(rng, -3, 0))));
      break;
  }
  // Rings must not repeat a vertex next to itself (refused before the
  // crossing check either way): undo that rare draw.
  for (size_t i = 0; i < r.size(); ++i) {
    if (r[i] == r[(i + 1) % r.size()]) {
      r[i] = Wrapped(GeodesicDestination(r[i], 45, 1));
    }
  }
}

// Creates `polygons` both ways and expects the same answer; returns
// whether it was a refusal (1), an acceptance (0), and its message.
struct Outcome {
  bool refused = false;
  std::string message;
};

Outcome ExpectSame(const std::vector<Polygon>& polygons,
                   const std::string& what) {
  const absl::StatusOr<Region> indexed =
      Region::Create(polygons, {}, "border.json");
  const absl::StatusOr<Region> linear =
      RegionTestPeer::CreateLinear(polygons, {}, "border.json");
  EXPECT_EQ(indexed.status(), linear.status()) << what;
  if (indexed.ok() && linear.ok()) {
    EXPECT_EQ(indexed->vertex_count(), linear->vertex_count()) << what;
  }
  return {!indexed.ok(), std::string(indexed.status().message())};
}

// A border of `n` vertices around `centre` with `holes` holes of `hole_n`
// vertices inside it.
Polygon Country(std::mt19937_64& rng, const LatLng& centre, double radius_m,
                int n, int holes, int hole_n) {
  Polygon p{BorderRing(rng, centre, radius_m, n)};
  for (int h = 0; h < holes; ++h) {
    const LatLng at =
        GeodesicDestination(centre, 360.0 * h / holes + 10, radius_m * 0.35);
    p.holes.push_back(BorderRing(rng, at, radius_m * 0.08, hole_n));
  }
  return p;
}

// Where countries are drawn: mid-latitudes, across the antimeridian, near
// the pole, south of the equator.
LatLng Place(std::mt19937_64& rng, int i) {
  switch (i % 4) {
    case 0:
      return {Uniform(rng, 35, 60), Uniform(rng, -10, 30)};
    case 1:
      return {Uniform(rng, -30, 10), Uniform(rng, 179.5, 180) - 0.25};
    case 2:
      return {Uniform(rng, 75, 80), Uniform(rng, -180, 180)};
    default:
      return {Uniform(rng, -45, -20), Uniform(rng, -75, 150)};
  }
}

TEST(RegionCreate, IndexedCrossingCheckAgreesWithTheSweep) {
  const uint64_t seed = Seed();
  std::mt19937_64 rng(seed);
  SCOPED_TRACE(absl::StrCat("seed ", seed));
  int refused = 0, accepted = 0, crossings = 0;
  constexpr int kCases = 60;
  for (int i = 0; i < kCases; ++i) {
    const LatLng centre = Place(rng, i);
    const double radius = std::pow(10, Uniform(rng, 3.5, 5.5));  // 3-300 km
    Polygon p = Country(rng, centre, radius, UniformInt(rng, 50, 800),
                        UniformInt(rng, 0, 2), UniformInt(rng, 8, 200));
    // Most cases are broken, in the outer ring or a hole, once or twice;
    // a quarter are left valid.
    if (i % 4 != 3) {
      const int ring = UniformInt(rng, 0, p.holes.size());
      std::vector<LatLng>& r = ring == 0 ? p.vertices : p.holes[ring - 1];
      for (int k = UniformInt(rng, 1, 2); k > 0; --k) Perturb(rng, &r);
    }
    const Outcome o =
        ExpectSame({p}, absl::StrCat("case ", i, " at (", centre.lat_deg, ", ",
                                     centre.lng_deg, "), radius ", radius));
    (o.refused ? refused : accepted)++;
    if (o.message.find(" cross") != std::string::npos) ++crossings;
  }
  // Both answers came up, and most refusals named crossing edges: the
  // agreement is that of the crossing check, not of a constant.
  EXPECT_GE(accepted, kCases / 4);
  EXPECT_GE(refused, kCases / 3);
  EXPECT_GE(crossings, kCases / 4);
}

TEST(RegionCreate, IndexedAgreesOnHoleDefects) {
  // Holes the ring checks pass and the polygon check refuses (or
  // accepts): across the outer ring, outside it, inside another hole,
  // touching another hole or the outer ring, and across the antimeridian.
  const uint64_t seed = Seed();
  std::mt19937_64 rng(seed);
  SCOPED_TRACE(absl::StrCat("seed ", seed));
  int refused = 0, accepted = 0;
  constexpr int kCases = 40;
  for (int i = 0; i < kCases; ++i) {
    const LatLng centre = Place(rng, i);
    const double radius = std::pow(10, Uniform(rng, 4, 5.5));
    Polygon p{BorderRing(rng, centre, radius, UniformInt(rng, 100, 1000))};
    const LatLng inside = GeodesicDestination(centre, Uniform(rng, 0, 360),
                                              radius * Uniform(rng, 0, 0.3));
    std::vector<LatLng> hole = BorderRing(rng, inside, radius * 0.1, 60);
    switch (i % 6) {
      case 0:  // across the outer ring
        hole = BorderRing(
            rng,
            Beside(p.vertices, UniformInt(rng, 0, p.vertices.size() - 1), 0.5,
                   0),
            radius * Uniform(rng, 0.01, 0.1), 40);
        break;
      case 1:  // outside it
        hole = BorderRing(
            rng, GeodesicDestination(centre, Uniform(rng, 0, 360), radius * 2),
            radius * 0.1, 40);
        break;
      case 2:  // inside another hole
        p.holes.push_back(BorderRing(rng, inside, radius * 0.2, 80));
        hole = BorderRing(rng, inside, radius * 0.05, 30);
        break;
      case 3: {  // touching another hole at a vertex, or nearly
        p.holes.push_back(hole);
        const LatLng& tip = hole[0];
        const LatLng beyond = GeodesicDestination(
            tip, GeodesicAzimuth(inside, tip), radius * 0.06);
        std::vector<LatLng> other = BorderRing(rng, beyond, radius * 0.05, 40);
        size_t nearest = 0;
        for (size_t k = 1; k < other.size(); ++k) {
          if (GeodesicDistance(other[k], tip) <
              GeodesicDistance(other[nearest], tip)) {
            nearest = k;
          }
        }
        other[nearest] = tip;
        hole = other;
        break;
      }
      case 4:  // overlapping another hole
        p.holes.push_back(hole);
        hole = BorderRing(rng, GeodesicDestination(inside, 90, radius * 0.1),
                          radius * 0.1, 50);
        break;
      default:  // valid: a second hole well apart
        p.holes.push_back(hole);
        hole = BorderRing(rng, GeodesicDestination(inside, 180, radius * 0.4),
                          radius * 0.05, 50);
        break;
    }
    p.holes.push_back(hole);
    const Outcome o = ExpectSame({p}, absl::StrCat("case ", i));
    (o.refused ? refused : accepted)++;
  }
  EXPECT_GE(accepted, kCases / 6);
  EXPECT_GE(refused, kCases / 2);
}

TEST(RegionCreate, NamesTheLeastCrossingPair) {
  // Edges 0 and 2 cross, and so do 4 and 6 (two bow ties joined): the
  // message names the least pair, indexed as swept.
  const Polygon p{{{47, 6},
                   {48, 7},
                   {47, 7},
                   {48, 6},
                   {49, 6},
                   {50, 7},
                   {49, 7},
                   {50, 6.5},
                   {51, 5}}};
  for (const bool indexed : {true, false}) {
    const absl::StatusOr<Region> r =
        indexed ? Region::Create({p}, {}, "test.json")
                : RegionTestPeer::CreateLinear({p}, {}, "test.json");
    EXPECT_THAT(r.status().message(),
                HasSubstr("test.json: polygon 0 ring 0: edges 0 and 2 cross"))
        << indexed;
  }
}

TEST(RegionCreate, NationalBorderScale) {
  // 66,000 vertices in an outer ring and a hole (convex, so that the fault
  // below is where it is put): accepted; and two neighbouring vertices
  // swapped half-way round are found where they are. (The sweep takes tens
  // of seconds at this size.)
  Polygon p = test_util::RegularPolygon({50, 10}, 400e3, 60000);
  p.holes.push_back(
      test_util::RegularPolygon({50.5, 10.5}, 40e3, 6000).vertices);
  const absl::StatusOr<Region> valid = Region::Create({p}, {}, "big.json");
  ASSERT_TRUE(valid.ok()) << valid.status();
  EXPECT_EQ(valid->vertex_count(), 66000);
  // Edges 30,000 (to the old vertex 30,002) and 30,002 (from the old
  // vertex 30,001) cross; edge 30,001 runs back almost along edge 30,000.
  std::swap(p.vertices[30001], p.vertices[30002]);
  const absl::StatusOr<Region> r = Region::Create({p}, {}, "big.json");
  EXPECT_THAT(r.status().message(),
              HasSubstr("big.json: polygon 0 ring 0: edges 30000 and 3000"));
}

TEST(MeetingBoxPairs, AgreesWithEveryPair) {
  const uint64_t seed = Seed();
  std::mt19937_64 rng(seed);
  SCOPED_TRACE(absl::StrCat("seed ", seed));
  std::vector<ItemBox> boxes;
  for (uint32_t item = 0; item < 400; ++item) {
    for (int k = UniformInt(rng, 1, 2); k > 0; --k) {
      const double lng = Uniform(rng, -180, 179), lat = Uniform(rng, -90, 89);
      // Some boxes are points, some share an edge with another exactly.
      const double w = UniformInt(rng, 0, 5) == 0 ? 0 : Uniform(rng, 0, 20);
      const double h = UniformInt(rng, 0, 5) == 0 ? 0 : Uniform(rng, 0, 20);
      boxes.push_back(
          {item,
           {lng, std::min(180.0, lng + w), lat, std::min(90.0, lat + h)}});
      if (UniformInt(rng, 0, 9) == 0) {
        boxes.push_back(
            {item + 1,
             {boxes.back().box.lng_hi, boxes.back().box.lng_hi + 1, lat, lat}});
      }
    }
  }
  std::vector<std::pair<uint32_t, uint32_t>> expected;
  for (const ItemBox& a : boxes) {
    for (const ItemBox& b : boxes) {
      if (a.item < b.item && a.box.lng_lo <= b.box.lng_hi &&
          b.box.lng_lo <= a.box.lng_hi && a.box.lat_lo <= b.box.lat_hi &&
          b.box.lat_lo <= a.box.lat_hi) {
        expected.emplace_back(a.item, b.item);
      }
    }
  }
  std::sort(expected.begin(), expected.end());
  expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
  EXPECT_GT(expected.size(), 100u);
  EXPECT_EQ(MeetingBoxPairs(boxes), expected);
}

}  // namespace
}  // namespace utm::geo
