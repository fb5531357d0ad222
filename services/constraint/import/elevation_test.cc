// Height grids, the EGM96 geoid (against PROJ's own vgridshift and published
// values) and DEMs read through GDAL (small GeoTIFFs written here).
#include <proj.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/constraint/import/dem_testing.h"
#include "services/constraint/import/earth_elevation.h"
#include "services/constraint/import/geoid.h"
#include "services/constraint/import/height_grid.h"
#include "services/constraint/import/terrain.h"

namespace utm::elevation {
namespace {

using ::testing::HasSubstr;
using testing::TiltedDem;

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/utm_elevation_test_",
                      ::getpid(), "_", name);
}

geo::Polygon Box(double south, double west, double north, double east) {
  return geo::Polygon{
      {{south, west}, {south, east}, {north, east}, {north, west}}};
}

// ---- Geoid ------------------------------------------------------------------

class GeoidTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<HeightGrid> g = LoadGtx(DefaultGeoidGridPath());
    ASSERT_TRUE(g.ok()) << g.status()
                        << " (scripts/install-deps.sh installs proj-data)";
    grid_ = new HeightGrid(*std::move(g));
  }
  static void TearDownTestSuite() {
    delete grid_;
    grid_ = nullptr;
  }
  static HeightGrid* grid_;
};
HeightGrid* GeoidTest::grid_ = nullptr;

TEST_F(GeoidTest, PublishedUndulations) {
  // EGM96 values as PROJ's cct prints them for these points (and as NGA's
  // EGM96 calculator gives them to a centimetre).
  struct Case {
    double lat, lng, n_m;
  } cases[] = {
      {0, 0, 17.1616},             // Gulf of Guinea
      {46.9141, 7.4991, 48.8090},  // Bern-Belp
      {27, -80, -29.5344},         // Florida
      {-1.95, 30.06, -8.4857},     // Kigali
  };
  for (const Case& c : cases) {
    absl::StatusOr<double> n = grid_->HeightM({c.lat, c.lng});
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_NEAR(*n, c.n_m, 1e-3) << c.lat << ", " << c.lng;
  }
}

TEST_F(GeoidTest, MatchesProjVgridshiftEverywhere) {
  PJ_CONTEXT* ctx = proj_context_create();
  PJ* p =
      proj_create(ctx, "+proj=vgridshift +grids=egm96_15.gtx +multiplier=1");
  ASSERT_NE(p, nullptr) << proj_context_errno_string(ctx,
                                                     proj_context_errno(ctx));
  const unsigned seed = std::random_device()();
  std::printf("seed %u\n", seed);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> lat(-89.9, 89.9), lng(-180, 180);
  for (int i = 0; i < 2000; ++i) {
    const double la = lat(rng), ln = lng(rng);
    const PJ_COORD out =
        proj_trans(p, PJ_FWD, proj_coord(proj_torad(ln), proj_torad(la), 0, 0));
    absl::StatusOr<double> n = grid_->HeightM({la, ln});
    ASSERT_TRUE(n.ok()) << n.status();
    ASSERT_NEAR(*n, out.xyz.z, 1e-3)
        << "at " << la << ", " << ln << " (seed " << seed << ")";
  }
  proj_destroy(p);
  proj_context_destroy(ctx);
}

TEST_F(GeoidTest, RangeAcrossTheAntimeridianWraps) {
  const geo::Polygon fiji = Box(-17, 179.5, -16, -179.5);
  absl::StatusOr<HeightRange> r = grid_->RangeM(fiji);
  ASSERT_TRUE(r.ok()) << r.status();
  for (double lng : {179.5, 179.9, -179.9, -179.5}) {
    const double n = *grid_->HeightM({-16.5, lng});
    EXPECT_LE(r->min_m, n);
    EXPECT_GE(r->max_m, n);
  }
  EXPECT_LT(r->max_m - r->min_m, 10);  // a degree of ocean, not the globe
}

TEST(Geoid, MissingOrBrokenGridIsAnError) {
  absl::StatusOr<HeightGrid> missing = LoadGtx("/nonexistent/egm96_15.gtx");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("proj-data"));
  const std::string path = TempPath("short.gtx");
  std::FILE* f = std::fopen(path.c_str(), "wb");
  std::fputs("not a grid", f);
  std::fclose(f);
  EXPECT_EQ(LoadGtx(path).status().code(), absl::StatusCode::kDataLoss);
  std::remove(path.c_str());
}

// ---- HeightGrid ranges against brute force ----------------------------------

TEST(HeightGrid, RangeBoundsEveryPointOfRandomFootprints) {
  const unsigned seed = std::random_device()();
  std::printf("seed %u\n", seed);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  GridGeometry g;
  g.lng0_deg = 8.0005;
  g.lat0_deg = 47.0995;
  g.dlng_deg = 0.001;
  g.dlat_deg = -0.001;
  g.cols = g.rows = 100;
  std::vector<float> h(g.cols * g.rows);
  for (float& v : h) v = static_cast<float>(500 + 300 * u(rng));
  const HeightGrid grid("random.tif", g, h, std::nullopt);
  for (int trial = 0; trial < 50; ++trial) {
    // A random quadrilateral or circle well inside the grid.
    const geo::LatLng c{47.05 + 0.02 * (u(rng) - 0.5),
                        8.05 + 0.02 * (u(rng) - 0.5)};
    geo::Footprint f;
    if (trial % 2 == 0) {
      f = geo::Circle{c, 50 + 1500 * u(rng)};
    } else {
      geo::Polygon p;
      for (int k = 0; k < 4; ++k) {
        const double r = 0.002 + 0.015 * u(rng);
        const double a = (k + 0.8 * u(rng)) * M_PI / 2;
        p.vertices.push_back(
            {c.lat_deg + r * std::sin(a), c.lng_deg + r * std::cos(a)});
      }
      f = p;
    }
    absl::StatusOr<HeightRange> range = grid.RangeM(f);
    ASSERT_TRUE(range.ok()) << range.status();
    // Every point of the footprint (sampled densely, inside and on the
    // boundary) lies within the range.
    for (int i = 0; i < 3000; ++i) {
      geo::LatLng p;
      if (const auto* circle = std::get_if<geo::Circle>(&f)) {
        const double d = i % 3 == 0 ? circle->radius_m
                                    : circle->radius_m * std::sqrt(u(rng));
        p = geo::GeodesicDestination(circle->center, 360 * u(rng), d);
      } else {
        const auto& v = std::get<geo::Polygon>(f).vertices;
        const size_t e = i % v.size();
        p = geo::GeodesicInterpolate(
            v[e], v[(e + 1) % v.size()],
            u(rng) * geo::GeodesicDistance(v[e], v[(e + 1) % v.size()]));
      }
      absl::StatusOr<double> height = grid.HeightM(p);
      ASSERT_TRUE(height.ok()) << height.status();
      ASSERT_GE(*height, range->min_m - 1e-3) << "trial " << trial;
      ASSERT_LE(*height, range->max_m + 1e-3) << "trial " << trial;
    }
  }
}

TEST(HeightGrid, RangeIsTightOnAPlane) {
  // On a plane the bilinear surface is the plane, and the range is the
  // plane's own over the footprint.
  GridGeometry g;
  g.lng0_deg = 0.0005;
  g.lat0_deg = 0.0995;
  g.dlng_deg = 0.001;
  g.dlat_deg = -0.001;
  g.cols = g.rows = 100;
  std::vector<float> h(g.cols * g.rows);
  for (int r = 0; r < g.rows; ++r) {
    for (int c = 0; c < g.cols; ++c) h[r * g.cols + c] = 10.0f * c;  // east
  }
  const HeightGrid grid("plane", g, h, std::nullopt);
  absl::StatusOr<HeightRange> r = grid.RangeM(Box(0.03, 0.0305, 0.06, 0.0705));
  ASSERT_TRUE(r.ok()) << r.status();
  // Columns 30 (lng 0.0305) to 70 (0.0705): heights 300 to 700.
  EXPECT_NEAR(r->min_m, 300, 1e-3);
  EXPECT_NEAR(r->max_m, 700, 1e-3);
}

TEST(HeightGrid, RangeFindsTheCrestOfAQuadraticBetweenSamples) {
  // One cell, f = x + y - 2xy: along its diagonal f = 2t - 2t^2, whose
  // crest (0.5 at the centre) is above every boundary sample of a thin
  // triangle along the diagonal, and no node lies inside the triangle.
  GridGeometry g;
  g.dlng_deg = g.dlat_deg = 0.01;
  g.cols = g.rows = 2;
  const HeightGrid grid("saddle", g, {0, 1, 1, 0}, std::nullopt);
  const geo::Polygon thin{{{0.001, 0.001}, {0.009, 0.009}, {0.009, 0.0085}}};
  absl::StatusOr<HeightRange> r = grid.RangeM(thin);
  ASSERT_TRUE(r.ok()) << r.status();
  // (A saddle: just off the diagonal it rises a little above 0.5.)
  EXPECT_GE(r->max_m, 0.5 - 1e-9);
  EXPECT_LT(r->max_m, 0.51);
  EXPECT_NEAR(r->min_m, 2 * 0.1 - 2 * 0.01, 1e-3);
}

TEST(HeightGrid, TooManyCellsIsRefused) {
  GridGeometry g;
  g.dlng_deg = g.dlat_deg = 1e-5;
  g.cols = g.rows = 10;
  const HeightGrid grid("fine", g, std::vector<float>(100, 0), std::nullopt);
  // The count comes before any node is read: a footprint over ~10^10
  // nodes at this resolution is refused as such, not as "outside".
  absl::StatusOr<HeightRange> big = grid.RangeM(Box(0, 0, 1, 1));
  EXPECT_EQ(big.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(big.status().message(), HasSubstr("split the zone"));
}

// ---- DEMs through GDAL ------------------------------------------------------

class DemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dem_.hole = true;
    path_ = TempPath("tilted.tif");
    ASSERT_TRUE(dem_.Write(path_));
  }
  void TearDown() override { std::remove(path_.c_str()); }
  TiltedDem dem_;
  std::string path_;
};

TEST_F(DemTest, BilinearHeightsOfATiltedPlane) {
  absl::StatusOr<HeightGrid> grid = LoadDem(path_);
  ASSERT_TRUE(grid.ok()) << grid.status();
  for (const geo::LatLng p :
       {geo::LatLng{-1.95, 30.12}, {-1.9123, 30.1777}, {-1.99, 30.19}}) {
    absl::StatusOr<double> h = grid->HeightM(p);
    ASSERT_TRUE(h.ok()) << h.status();
    EXPECT_NEAR(*h, dem_.HeightAt(p.lat_deg, p.lng_deg), 1e-3);
  }
  // Within the outer half pixel: the edge pixel's height.
  absl::StatusOr<double> edge = grid->HeightM({-1.95, 30.1002});
  ASSERT_TRUE(edge.ok()) << edge.status();
  EXPECT_NEAR(*edge, dem_.HeightAt(-1.95, 30.1005), 1e-3);
}

TEST_F(DemTest, OutsideAndHolesAreNamedErrors) {
  absl::StatusOr<HeightGrid> grid = LoadDem(path_);
  ASSERT_TRUE(grid.ok()) << grid.status();
  absl::StatusOr<double> outside = grid->HeightM({-1.95, 30.25});
  EXPECT_EQ(outside.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(outside.status().message(),
              HasSubstr("(-1.950000, 30.250000) is outside " + path_));
  // Pixels 40-44 are holes: centres lng 30.1405..30.1445, lat -1.9405..
  absl::StatusOr<double> hole = grid->HeightM({-1.9425, 30.1425});
  EXPECT_EQ(hole.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(hole.status().message(), HasSubstr("no height"));
  // A footprint over the hole fails; one beside it does not.
  EXPECT_EQ(grid->RangeM(Box(-1.95, 30.13, -1.93, 30.15)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(grid->RangeM(Box(-1.99, 30.11, -1.97, 30.13)).ok());
  // A footprint reaching out of the DEM fails, naming a point outside.
  absl::StatusOr<HeightRange> out =
      grid->RangeM(Box(-1.95, 30.19, -1.93, 30.21));
  EXPECT_EQ(out.status().code(), absl::StatusCode::kOutOfRange);
}

TEST_F(DemTest, FootprintRangeOfAPlaneSpansItsCorners) {
  absl::StatusOr<HeightGrid> grid = LoadDem(path_);
  ASSERT_TRUE(grid.ok()) << grid.status();
  absl::StatusOr<HeightRange> r = grid->RangeM(Box(-1.99, 30.11, -1.96, 30.13));
  ASSERT_TRUE(r.ok()) << r.status();
  const double lo = dem_.HeightAt(-1.99, 30.11),
               hi = dem_.HeightAt(-1.96, 30.13);
  // Two pixels of slope at most beyond the corners: 3 m per pixel here.
  EXPECT_LE(r->min_m, lo + 1e-3);
  EXPECT_GE(r->min_m, lo - 2 * 3 - 1e-3);
  EXPECT_GE(r->max_m, hi - 1e-3);
  EXPECT_LE(r->max_m, hi + 2 * 3 + 1e-3);
}

TEST(Dem, RefusesWhatItCannotPlace) {
  EXPECT_EQ(LoadDem("/nonexistent/dem.tif").status().code(),
            absl::StatusCode::kNotFound);
  TiltedDem no_crs;
  no_crs.epsg = 0;
  const std::string a = TempPath("nocrs.tif");
  ASSERT_TRUE(no_crs.Write(a));
  absl::StatusOr<HeightGrid> g = LoadDem(a);
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(g.status().message(), HasSubstr("no coordinate reference"));
  std::remove(a.c_str());
  TiltedDem projected;
  projected.epsg = 32736;  // UTM zone 36S, metres
  const std::string b = TempPath("utm.tif");
  ASSERT_TRUE(projected.Write(b));
  g = LoadDem(b);
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(g.status().message(), HasSubstr("gdalwarp -t_srs EPSG:4326"));
  std::remove(b.c_str());
}

// ---- EarthElevation ---------------------------------------------------------

TEST_F(DemTest, EarthElevationAddsTheGeoidToAnAmslDem) {
  zones::EarthElevationOptions options;
  options.dem = path_;
  absl::StatusOr<std::unique_ptr<zones::EarthElevation>> earth =
      zones::EarthElevation::Create(options);
  ASSERT_TRUE(earth.ok()) << earth.status();
  const geo::Polygon box = Box(-1.99, 30.11, -1.96, 30.13);
  absl::StatusOr<HeightRange> ground = (*earth)->GroundRangeM(box);
  ASSERT_TRUE(ground.ok()) << ground.status();
  const HeightRange dem = *LoadDem(path_)->RangeM(box);
  const HeightRange n = *(*earth)->GeoidRangeM(box);
  EXPECT_NEAR(n.min_m, -8.5, 0.5);  // EGM96 around Kigali
  EXPECT_DOUBLE_EQ(ground->min_m, dem.min_m + n.min_m);
  EXPECT_DOUBLE_EQ(ground->max_m, dem.max_m + n.max_m);
  EXPECT_THAT((*earth)->Describe(), HasSubstr("ground from DEM"));

  options.dem_heights_wgs84 = true;
  earth = zones::EarthElevation::Create(options);
  ASSERT_TRUE(earth.ok()) << earth.status();
  EXPECT_DOUBLE_EQ((*earth)->GroundRangeM(box)->min_m, dem.min_m);
}

TEST(EarthElevation, GroundIsGivenOrRefused) {
  const geo::Polygon box = Box(46.90, 7.49, 46.92, 7.51);
  zones::EarthElevationOptions options;
  absl::StatusOr<std::unique_ptr<zones::EarthElevation>> none =
      zones::EarthElevation::Create(options);
  ASSERT_TRUE(none.ok());
  absl::StatusOr<HeightRange> g = (*none)->GroundRangeM(box);
  EXPECT_EQ(g.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(g.status().message(),
            "no terrain source: pass --dem FILE.tif or --ground-m M");

  options.ground_amsl_m = 510;
  absl::StatusOr<std::unique_ptr<zones::EarthElevation>> flat =
      zones::EarthElevation::Create(options);
  ASSERT_TRUE(flat.ok());
  g = (*flat)->GroundRangeM(box);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_NEAR(g->min_m, 510 + 48.8, 0.3);

  options.dem = "x.tif";
  EXPECT_EQ(zones::EarthElevation::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.dem.clear();
  options.geoid_m = 40;  // explicit override
  flat = zones::EarthElevation::Create(options);
  EXPECT_DOUBLE_EQ((*flat)->GroundRangeM(box)->max_m, 550);
}

}  // namespace
}  // namespace utm::elevation
