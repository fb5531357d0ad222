#include "geo/s2_covering.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "absl/random/distributions.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "geo/intersect.h"
#include "geo/latlng.h"
#include "geo/volume.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::geo {
namespace {

using test_util::LocalPolygon;
using test_util::RegularPolygon;
using test_util::SquareAround;

using ::testing::Each;
using ::testing::Ge;
using ::testing::IsEmpty;
using ::testing::Le;
using ::testing::Not;
using ::testing::SizeIs;

// S2 cell metrics of the quadratic projection S2 uses (s2/s2metrics.cc), at
// level 0 on the unit sphere; a level-k value is this / 2^k (lengths, in
// radians) or / 4^k (areas, in steradians).
constexpr double kS2MinWidth = 0.942809041582063;  // 2√2/3
constexpr double kS2MaxDiag = 2.43865459443402;
constexpr double kS2MinArea = 1.25707872210942;  // 8√2/9
constexpr double kS2MaxArea = 2.63579925696316;
// S2 places a point at its geodetic latitude and longitude on the sphere.
// One radian there spans between the smallest and the largest radius of
// curvature of WGS84 on the ellipsoid, and one steradian between the
// products of the principal radii at the equator and at the pole.
constexpr double kMinCurvatureRadiusM = 6335439.0;  // Meridional, equator.
constexpr double kMaxCurvatureRadiusM = 6399593.6;  // a²/b, at the poles.
constexpr double kMinAreaPerSteradianM2 = 6335439.0 * 6378137.0;
constexpr double kMaxAreaPerSteradianM2 = 6399593.6 * 6399593.6;

// The seed of a randomised test: UTM_TEST_SEED when set, else `fallback`.
uint64_t TestSeed(uint64_t fallback) {
  const char* env = std::getenv("UTM_TEST_SEED");
  uint64_t seed = 0;
  if (env != nullptr && absl::SimpleAtoi(env, &seed)) return seed;
  return fallback;
}

// The level of a valid S2 cell id, from the position of its lowest set bit
// (2 * (30 - level)); -1 when `id` is not a valid cell id.
int CellLevel(uint64_t id) {
  if (id == 0 || (id >> 61) > 5) return -1;
  int lsb = 0;
  while (((id >> lsb) & 1) == 0) ++lsb;
  if (lsb % 2 != 0) return -1;
  return 30 - lsb / 2;
}

// The ancestor of `id` at `level` (S2CellId::parent).
uint64_t Parent(uint64_t id, int level) {
  const uint64_t lsb = uint64_t{1} << (2 * (30 - level));
  return (id & (~lsb + 1)) | lsb;
}

bool Covers(const std::vector<uint64_t>& cells, const LatLng& p, int level) {
  return std::binary_search(cells.begin(), cells.end(), CellIdAt(p, level));
}

bool ShareACell(const std::vector<uint64_t>& a,
                const std::vector<uint64_t>& b) {
  std::vector<uint64_t> common;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(),
                        std::back_inserter(common));
  return !common.empty();
}

bool IsValid(const Footprint& footprint) {
  return ValidateVolume3D(Volume3D{footprint, {0, 100}}, ValidationLimits(),
                          "volume")
      .ok();
}

// Points the checks below use as "must be covered" anchors: the centre of
// a circle, the vertices of a polygon.
std::vector<LatLng> Anchors(const Footprint& footprint) {
  if (const Circle* c = std::get_if<Circle>(&footprint)) return {c->center};
  return std::get<Polygon>(footprint).vertices;
}

// A region of the globe the randomised tests draw footprints from.
struct Region {
  std::string name;
  LatLng centre;
};

const std::vector<Region>& Regions() {
  static const auto* const kRegions = new std::vector<Region>{
      {"mid-latitude", {47.3769, 8.5417}},
      {"anti-meridian, south", {-16.8, 180}},
      {"anti-meridian, north", {52.0, -179.99}},
      {"high latitude", {85.5, -120}},
      {"North Pole", {89.9, 40}},
      {"South Pole", {-89.95, 0}},
      {"cube face edge", {0, 45}},
      {"cube corner", {35.2643896828, 45}},
  };
  return *kRegions;
}

// Approximate edge length, metres, of a level-k cell.
double CellEdgeM(int level) {
  return 1.459 / std::ldexp(1.0, level) * kEarthMeanRadiusM;
}

class RandomFootprints {
 public:
  explicit RandomFootprints(uint64_t seed) : rng_(seed) {}

  std::mt19937_64& rng() { return rng_; }

  // A valid footprint of 50 m to `max_size_m` (circle radius or greatest
  // vertex distance from `centre`). Circles stop at 28 km, the largest
  // radius whose area passes validation; the largest polygons need
  // concavities to pass.
  Footprint Next(const LatLng& centre, double max_size_m) {
    for (int attempt = 0; attempt < 200; ++attempt) {
      const double size_m =
          std::exp(absl::Uniform(rng_, std::log(50.0), std::log(max_size_m)));
      Footprint f;
      switch (absl::Uniform(rng_, 0, 3)) {
        case 0:
          f = Circle{centre, std::min(size_m, 28000.0)};
          break;
        case 1:
          f = test_util::RandomStar(rng_, centre, size_m, /*convex=*/true);
          break;
        default:
          f = test_util::RandomStar(rng_, centre, size_m, /*convex=*/false);
      }
      if (IsValid(f)) return f;
    }
    ADD_FAILURE() << "could not make a valid random footprint";
    return Circle{centre, 50};
  }

  // A point within `radius_m` of `centre`, uniform by area.
  LatLng PointNear(const LatLng& centre, double radius_m) {
    return GeodesicDestination(
        centre, absl::Uniform(rng_, 0.0, 360.0),
        radius_m * std::sqrt(absl::Uniform(rng_, 0.0, 1.0)));
  }

  // A random level whose cells are no smaller than 1/25 of the footprint's
  // reach, so that coverings stay at a few thousand cells.
  int LevelFor(double reach_m) {
    std::vector<int> levels;
    for (int level : {4, 6, 8, 10, 11, 12, 13, 14, 15, 16}) {
      if (reach_m / CellEdgeM(level) <= 25) levels.push_back(level);
    }
    return levels[absl::Uniform<size_t>(rng_, 0, levels.size())];
  }

  double Uniform(double lo, double hi) { return absl::Uniform(rng_, lo, hi); }

  std::mt19937_64 rng_;
};

// Whether p lies in the footprint (or within the 1 mm contact tolerance).
bool Contains(const Footprint& footprint, const LatLng& p) {
  return FootprintsIntersect(footprint, Circle{p, 1e-3});
}

TEST(S2Covering, CellIdAtLevelZeroIsTheCubeFace) {
  struct Case {
    LatLng p;
    uint64_t face_cell;
  };
  // Face f at level 0 is (f << 61) | (1 << 60).
  const std::vector<Case> cases = {
      {{0, 0}, 0x1000000000000000},    {{0, 90}, 0x3000000000000000},
      {{90, 0}, 0x5000000000000000},   {{0, 180}, 0x7000000000000000},
      {{0, -180}, 0x7000000000000000}, {{0, -90}, 0x9000000000000000},
      {{-90, 0}, 0xb000000000000000},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(CellIdAt(c.p, 0), c.face_cell)
        << c.p.lat_deg << ", " << c.p.lng_deg;
  }
}

TEST(S2Covering, CellIdAtIsAtTheLevelAndNested) {
  const uint64_t seed = TestSeed(7);
  std::cout << "[   SEED   ] UTM_TEST_SEED=" << seed << std::endl;
  SCOPED_TRACE(absl::StrCat("UTM_TEST_SEED=", seed));
  std::mt19937_64 rng(seed);
  std::vector<LatLng> points = {
      {90, 0}, {-90, 0}, {0, 180}, {0, -180}, {35.2643896828, 45}};
  for (int i = 0; i < 200; ++i) {
    points.push_back({absl::Uniform(absl::IntervalClosed, rng, -90.0, 90.0),
                      absl::Uniform(absl::IntervalClosed, rng, -180.0, 180.0)});
  }
  for (const LatLng& p : points) {
    SCOPED_TRACE(absl::StrCat(p.lat_deg, ", ", p.lng_deg));
    EXPECT_EQ(CellIdAt(p), CellIdAt(p, kDefaultCellLevel));
    for (int level = 0; level <= 30; ++level) {
      const uint64_t id = CellIdAt(p, level);
      ASSERT_EQ(CellLevel(id), level);
      if (level > 0) {
        EXPECT_EQ(Parent(id, level - 1), CellIdAt(p, level - 1));
      }
    }
  }
}

TEST(S2Covering, CellsAreAtTheLevelSortedUniqueAndHoldTheAnchors) {
  constexpr LatLng kZurich{47.3769, 8.5417};
  const Polygon square = SquareAround(kZurich, 1000);
  struct Case {
    std::string name;
    Footprint footprint;
    int level;
  };
  const std::vector<Case> cases = {
      {"100 m circle, level 16", Circle{kZurich, 100}, 16},
      {"100 m circle, level 13", Circle{kZurich, 100}, 13},
      {"100 m circle, level 0", Circle{kZurich, 100}, 0},
      {"2 km square, level 16", square, 16},
      {"2 km square, clockwise, level 14",
       Polygon{{square.vertices.rbegin(), square.vertices.rend()}}, 14},
      {"10 km hexagon, level 13", RegularPolygon(kZurich, 10000, 6), 13},
      {"28 km circle, level 10", Circle{kZurich, 28000}, 10},
      {"50 km concave star, level 8",
       Polygon{{GeodesicDestination(kZurich, 0, 49000),
                GeodesicDestination(kZurich, 120, 5000),
                GeodesicDestination(kZurich, 240, 49000)}},
       8},
      {"circle on the North Pole, level 13", Circle{{90, 0}, 3000}, 13},
      {"triangle around the South Pole, level 12",
       Polygon{{{-89.9, 0}, {-89.9, -120}, {-89.9, 120}}}, 12},
      {"square on the anti-meridian, level 13",
       SquareAround({-16.8, 180}, 2000), 13},
      {"circle on a cube corner, level 15", Circle{{35.2643896828, 45}, 500},
       15},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(IsValid(c.footprint)) << DebugString(c.footprint);
    const std::vector<uint64_t> cells = CoverFootprint(c.footprint, c.level);
    ASSERT_THAT(cells, Not(IsEmpty()));
    for (uint64_t id : cells) ASSERT_EQ(CellLevel(id), c.level) << id;
    EXPECT_TRUE(std::adjacent_find(cells.begin(), cells.end(),
                                   [](uint64_t a, uint64_t b) {
                                     return a >= b;
                                   }) == cells.end())
        << "not strictly ascending";
    for (const LatLng& p : Anchors(c.footprint)) {
      EXPECT_TRUE(Covers(cells, p, c.level)) << p.lat_deg << ", " << p.lng_deg;
    }
  }
}

TEST(S2Covering, DefaultLevelIs13) {
  const Footprint f = Circle{{47.3769, 8.5417}, 2000};
  EXPECT_EQ(CoverFootprint(f), CoverFootprint(f, 13));
  EXPECT_THAT(
      CoverFootprint(f),
      Each(::testing::Truly([](uint64_t id) { return CellLevel(id) == 13; })));
}

TEST(S2Covering, WindingDoesNotChangeTheCovering) {
  for (const Region& region : Regions()) {
    SCOPED_TRACE(region.name);
    Polygon ccw = RegularPolygon(region.centre, 3000, 7, 10);
    ccw.vertices[3] = GeodesicDestination(region.centre, 10 - 360.0 * 3 / 7,
                                          800);  // A concavity.
    ASSERT_TRUE(IsValid(ccw));
    Polygon cw{{ccw.vertices.rbegin(), ccw.vertices.rend()}};
    const std::vector<uint64_t> cells = CoverFootprint(ccw, 13);
    EXPECT_EQ(CoverFootprint(cw, 13), cells);
    // The inside is the small side: about 40 km², not the rest of the globe.
    EXPECT_THAT(cells, SizeIs(Le(200)));
  }
}

// Points inside, on the boundary of, and within half the covering margin
// outside a footprint. The half leaves room for the metre-scale difference
// between S2's edges and ours that the margin exists to absorb.
std::vector<LatLng> SamplePoints(const Footprint& footprint,
                                 RandomFootprints& gen) {
  const double kNear = 0.5 * kCoveringMarginM;
  std::vector<LatLng> out;
  if (const Circle* c = std::get_if<Circle>(&footprint)) {
    out.push_back(c->center);
    for (int i = 0; i < 40; ++i) {
      out.push_back(GeodesicDestination(c->center, gen.Uniform(0, 360),
                                        c->radius_m));       // Rim.
      out.push_back(gen.PointNear(c->center, c->radius_m));  // Inside.
      out.push_back(GeodesicDestination(
          c->center, gen.Uniform(0, 360),
          c->radius_m + gen.Uniform(0, kNear)));  // Just outside.
    }
    return out;
  }
  const std::vector<LatLng>& v = std::get<Polygon>(footprint).vertices;
  const size_t n = v.size();
  out.insert(out.end(), v.begin(), v.end());
  std::mt19937_64& rng = gen.rng();
  for (int i = 0; i < 40; ++i) {
    const size_t k = absl::Uniform<size_t>(rng, 0, n);
    const LatLng& a = v[k];
    const LatLng& b = v[(k + 1) % n];
    const double length = GeodesicDistance(a, b);
    // On the geodesic edge.
    const LatLng e = GeodesicInterpolate(a, b, gen.Uniform(0, 1) * length);
    out.push_back(e);
    // Within kNear of the edge, on either side.
    const LatLng f = GeodesicInterpolate(a, b, gen.Uniform(0, 0.99) * length);
    out.push_back(GeodesicDestination(
        f, GeodesicAzimuth(f, b) + (absl::Bernoulli(rng, 0.5) ? 90 : -90),
        gen.Uniform(0, kNear)));
  }
  // Inside, by rejection from the bounding cap.
  const BoundingCap cap = ComputeBoundingCap(footprint);
  for (int i = 0, found = 0; i < 200 && found < 40; ++i) {
    const LatLng p = gen.PointNear(cap.center, cap.radius_m);
    if (Contains(footprint, p)) {
      out.push_back(p);
      ++found;
    }
  }
  return out;
}

TEST(S2Covering, CoversEverySampledPointOfRandomFootprints) {
  const uint64_t seed = TestSeed(13);
  std::cout << "[   SEED   ] UTM_TEST_SEED=" << seed << std::endl;
  SCOPED_TRACE(absl::StrCat("UTM_TEST_SEED=", seed));
  RandomFootprints gen(seed);
  int64_t samples = 0;
  int failures = 0;
  for (const Region& region : Regions()) {
    SCOPED_TRACE(region.name);
    for (int i = 0; i < 40 && failures < 5; ++i) {
      const Footprint f =
          gen.Next(gen.PointNear(region.centre, 30000), /*max_size_m=*/49000);
      const int level = gen.LevelFor(ComputeBoundingCap(f).radius_m);
      const std::vector<uint64_t> cells = CoverFootprint(f, level);
      for (const LatLng& p : SamplePoints(f, gen)) {
        ++samples;
        if (!Covers(cells, p, level)) {
          ++failures;
          ADD_FAILURE() << "level " << level << ": " << DebugString(f)
                        << "\n  does not cover (" << p.lat_deg << ", "
                        << p.lng_deg << ")";
          break;
        }
      }
    }
  }
  EXPECT_GT(samples, 8 * 40 * 100);
}

TEST(S2Covering, CoversASpikeThatS2SeesCrossingAnotherEdge) {
  // A 90 km edge A-B and a spike from the south whose tip stops 1 cm short
  // of it: a valid polygon. S2's great-circle edge A-B runs about half a
  // metre south of our geodesic at the middle, so in S2's model the spike
  // crosses it (the loop is invalid there). The margin must absorb that.
  const LatLng c{45, 10};
  const LatLng a = GeodesicDestination(c, 270, 45000);
  const LatLng b = GeodesicDestination(c, 90, 45000);
  const double length = GeodesicDistance(a, b);
  const LatLng mid = GeodesicInterpolate(a, b, length / 2);
  const double south = GeodesicAzimuth(mid, b) + 90;  // Right of A->B.
  const LatLng base = GeodesicDestination(mid, south, 10000);
  const Polygon spike{{a, GeodesicDestination(a, 180, 10000),
                       GeodesicDestination(base, 270, 200),
                       GeodesicDestination(mid, south, 0.01),
                       GeodesicDestination(base, 90, 200),
                       GeodesicDestination(b, 180, 10000), b}};
  ASSERT_TRUE(IsValid(spike)) << DebugString(spike);
  for (int level : {13, 15}) {
    SCOPED_TRACE(absl::StrCat("level ", level));
    const std::vector<uint64_t> cells = CoverFootprint(spike, level);
    for (int i = -100; i <= 100; ++i) {
      const LatLng on_edge = GeodesicInterpolate(a, b, length / 2 + i * 10.0);
      for (double offset : {-20.0, -1.0, 0.0, 0.005, 0.5, 1.0, 20.0}) {
        // Negative offsets go north, outside; all are within 20 m.
        const LatLng p = GeodesicDestination(
            on_edge, offset < 0 ? south + 180 : south, std::fabs(offset));
        ASSERT_TRUE(Covers(cells, p, level))
            << i << " " << offset << " (" << p.lat_deg << ", " << p.lng_deg
            << ")";
      }
    }
  }
}

TEST(S2Covering, IntersectingFootprintsShareACell) {
  const uint64_t seed = TestSeed(17);
  std::cout << "[   SEED   ] UTM_TEST_SEED=" << seed << std::endl;
  SCOPED_TRACE(absl::StrCat("UTM_TEST_SEED=", seed));
  RandomFootprints gen(seed);
  int intersecting = 0;
  int touching = 0;
  int failures = 0;
  for (const Region& region : Regions()) {
    SCOPED_TRACE(region.name);
    for (int i = 0; i < 60 && failures < 5; ++i) {
      const Footprint a =
          gen.Next(gen.PointNear(region.centre, 20000), /*max_size_m=*/20000);
      const BoundingCap cap_a = ComputeBoundingCap(a);
      Footprint b;
      if (i % 2 == 0) {
        // Somewhere around a: intersecting about half the time.
        const double size_b =
            std::exp(gen.Uniform(std::log(50.0), std::log(20000.0)));
        b = gen.Next(gen.PointNear(cap_a.center, cap_a.radius_m + size_b),
                     std::max(size_b, 51.0));
      } else {
        // A circle touching a's boundary from outside at a point e.
        LatLng e;
        double outward;
        if (const Circle* c = std::get_if<Circle>(&a)) {
          e = GeodesicDestination(c->center, gen.Uniform(0, 360), c->radius_m);
          // Straight on from the centre through e.
          outward = GeodesicAzimuth(
              e, GeodesicInterpolate(c->center, e, c->radius_m + 1));
        } else {
          const std::vector<LatLng>& v = std::get<Polygon>(a).vertices;
          const size_t k = absl::Uniform<size_t>(gen.rng(), 0, v.size());
          const LatLng& p = v[k];
          const LatLng& q = v[(k + 1) % v.size()];
          e = GeodesicInterpolate(
              p, q, gen.Uniform(0.1, 0.9) * GeodesicDistance(p, q));
          const double along = GeodesicAzimuth(e, q);
          const LatLng left = GeodesicDestination(e, along - 90, 0.5);
          outward = Contains(a, left) ? along + 90 : along - 90;
        }
        const double r =
            std::exp(gen.Uniform(std::log(50.0), std::log(5000.0)));
        b = Circle{GeodesicDestination(e, outward, r), r};
      }
      if (!IsValid(b) || !FootprintsIntersect(a, b)) continue;
      ++intersecting;
      if (i % 2 == 1) ++touching;
      const int level = gen.LevelFor(std::max(ComputeBoundingCap(a).radius_m,
                                              ComputeBoundingCap(b).radius_m));
      const std::vector<uint64_t> cells_a = CoverFootprint(a, level);
      const std::vector<uint64_t> cells_b = CoverFootprint(b, level);
      if (!ShareACell(cells_a, cells_b)) {
        ++failures;
        ADD_FAILURE() << "level " << level << ": no common cell for\n  "
                      << DebugString(a) << "\n  " << DebugString(b);
      }
    }
  }
  std::cout << "[   INFO   ] " << intersecting << " intersecting pairs, "
            << touching << " touching" << std::endl;
  // Both kinds of pair must actually occur for the test to mean anything.
  EXPECT_GT(intersecting, 8 * 60 / 3);
  EXPECT_GT(touching, 8 * 60 / 4);
}

TEST(S2Covering, SmallCircleAtLevel13HasAtMostFourCells) {
  // A 100 m circle plus the 50 m margin is about 300 m across, under half
  // the 733 m minimum width of a level-13 cell: it meets at most two cells
  // in each direction.
  ASSERT_LT(2 * (100 + kCoveringMarginM) * 1.01,
            kS2MinWidth / std::ldexp(1.0, 13) * kMinCurvatureRadiusM);
  const uint64_t seed = TestSeed(100);
  std::cout << "[   SEED   ] UTM_TEST_SEED=" << seed << std::endl;
  SCOPED_TRACE(absl::StrCat("UTM_TEST_SEED=", seed));
  std::mt19937_64 rng(seed);
  std::vector<LatLng> centres = {{90, 0},
                                 {-90, 0},
                                 {0, 180},
                                 {0, 45},
                                 {0, 0},
                                 {35.2643896828, 45},
                                 {-35.2643896828, -135}};
  for (const Region& region : Regions()) centres.push_back(region.centre);
  for (int i = 0; i < 300; ++i) {
    // Uniform on the sphere.
    centres.push_back({std::asin(absl::Uniform(rng, -1.0, 1.0)) * 180 / M_PI,
                       absl::Uniform(rng, -180.0, 180.0)});
  }
  for (const LatLng& c : centres) {
    const std::vector<uint64_t> cells = CoverFootprint(Circle{c, 100}, 13);
    EXPECT_THAT(cells, SizeIs(Le(4))) << c.lat_deg << ", " << c.lng_deg;
    EXPECT_TRUE(Covers(cells, c, 13)) << c.lat_deg << ", " << c.lng_deg;
  }
}

TEST(S2Covering, TenKilometreSquareAtLevel13IsNotInflated) {
  constexpr int kLevel = 13;
  constexpr double kSideM = 10000;
  const double cell_scale = std::ldexp(1.0, kLevel);
  const double min_cell_area_m2 =
      kS2MinArea / (cell_scale * cell_scale) * kMinAreaPerSteradianM2;
  const double max_cell_area_m2 =
      kS2MaxArea / (cell_scale * cell_scale) * kMaxAreaPerSteradianM2;
  const double max_diag_m = kS2MaxDiag / cell_scale * kMaxCurvatureRadiusM;
  // Every cell of a sane covering touches the square grown by the margin
  // (plus a few metres for S2's edge model), so it lies within the square
  // grown by one more cell diagonal; count how many of the smallest cells
  // fit there. Sides of about 10 + 2 * 1.95 km: at most ~255 cells.
  const double grown_side_m = kSideM + 2 * (kCoveringMarginM + 10 + max_diag_m);
  const double max_cells = grown_side_m * grown_side_m / min_cell_area_m2;
  // And the square alone needs at least area / largest cell area.
  const double min_cells = kSideM * kSideM / max_cell_area_m2;
  std::cout << "[   INFO   ] bounds [" << min_cells << ", " << max_cells << "]"
            << std::endl;

  for (const Region& region : Regions()) {
    SCOPED_TRACE(region.name);
    const Polygon square = SquareAround(region.centre, kSideM / 2);
    ASSERT_TRUE(IsValid(square));
    ASSERT_NEAR(std::fabs(GeodesicPolygonArea(square.vertices)),
                kSideM * kSideM, 0.01 * kSideM * kSideM);
    const std::vector<uint64_t> cells = CoverFootprint(square, kLevel);
    std::cout << "[   INFO   ] " << region.name << ": " << cells.size()
              << " cells" << std::endl;
    EXPECT_THAT(cells, SizeIs(Ge(static_cast<size_t>(std::ceil(min_cells)))));
    EXPECT_THAT(cells, SizeIs(Le(static_cast<size_t>(std::floor(max_cells)))));
  }
}

}  // namespace
}  // namespace utm::geo
