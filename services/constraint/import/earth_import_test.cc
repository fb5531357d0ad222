// The importers with the real EGM96 geoid and a DEM (EarthElevation): AGL
// zones placed over the terrain, refused without one; AMSL zones at limit +
// undulation (flight levels take the same path: xnotam_test.cc).
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/constraint/import/dem_testing.h"
#include "services/constraint/import/earth_elevation.h"
#include "services/constraint/import/geoid.h"
#include "services/constraint/import/zone_import.h"

namespace utm::zones {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

// The Kigali geofence of the shared samples: 100 to 500 m above the ground.
constexpr char kKigali[] = R"({"type":"FeatureCollection","features":[
  {"type":"Feature","properties":{"upper_limit":500,"lower_limit":100},
   "geometry":{"type":"Polygon","coordinates":[[[30.142621994018555,-1.985209815625593],[30.156269073486328,-1.985209815625593],[30.156269073486328,-1.9534712184928378],[30.142621994018555,-1.9534712184928378],[30.142621994018555,-1.985209815625593]]]}},
  {"type":"Feature","id":"w84","properties":{"altitude_lower_m":1500,"altitude_upper_m":2000},
   "geometry":{"type":"Polygon","coordinates":[[[30.11,-1.99],[30.12,-1.99],[30.12,-1.98],[30.11,-1.99]]]}}]})";

// South-west and north-east corners of the Kigali polygon.
constexpr double kSouth = -1.985209815625593, kWest = 30.142621994018555;
constexpr double kNorth = -1.9534712184928378, kEast = 30.156269073486328;

double Undulation(double lat, double lng) {
  static const elevation::HeightGrid* grid = [] {
    absl::StatusOr<elevation::HeightGrid> g =
        elevation::LoadGtx(elevation::DefaultGeoidGridPath());
    EXPECT_TRUE(g.ok()) << g.status();
    return new elevation::HeightGrid(*std::move(g));
  }();
  return *grid->HeightM({lat, lng});
}

absl::StatusOr<ImportResult> Import(const std::string& text,
                                    const EarthElevationOptions& earth) {
  absl::StatusOr<std::unique_ptr<EarthElevation>> model =
      EarthElevation::Create(earth);
  if (!model.ok()) return model.status();
  ImportOptions options;
  options.dataset = "kigali.geojson";
  options.elevation = model->get();
  return ImportZones(text, options);
}

class KigaliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = absl::StrCat("/tmp/utm_earth_import_test_", getpid(), ".tif");
    ASSERT_TRUE(dem_.Write(path_));
  }
  void TearDown() override { std::remove(path_.c_str()); }
  elevation::testing::TiltedDem dem_;  // 1500-1600 m under the zone
  std::string path_;
};

TEST_F(KigaliTest, AglZoneStandsOnTheDem) {
  EarthElevationOptions earth;
  earth.dem = path_;
  absl::StatusOr<ImportResult> r = Import(kKigali, earth);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->errors, SizeIs(0));
  ASSERT_THAT(r->zones, SizeIs(2));
  const v1::Volume3D& v = r->zones[0].constraint.volumes(0).volume();
  // Floor over the lowest ground (the south-west corner of a plane rising
  // to the north-east), ceiling over the highest; within two DEM pixels
  // (6 m of slope) and the geoid's variation (< 0.5 m here).
  const double low = dem_.HeightAt(kSouth, kWest) + Undulation(kSouth, kWest);
  const double high = dem_.HeightAt(kNorth, kEast) + Undulation(kNorth, kEast);
  EXPECT_NEAR(low, 1500 - 8.5, 1);  // the scenario: ~1.5 km up
  EXPECT_LE(v.altitude_lower().value_m(), 100 + low + 0.01);
  EXPECT_GE(v.altitude_lower().value_m(), 100 + low - 7);
  EXPECT_GE(v.altitude_upper().value_m(), 500 + high - 0.01);
  EXPECT_LE(v.altitude_upper().value_m(), 500 + high + 7);
  EXPECT_EQ(r->zones[0].constraint.source().original_altitude_lower(),
            "100 M AGL");
  // The WGS84 zone is untouched.
  EXPECT_DOUBLE_EQ(
      r->zones[1].constraint.volumes(0).volume().altitude_lower().value_m(),
      1500);
}

TEST_F(KigaliTest, AglZoneOnAnExplicitGroundHeight) {
  EarthElevationOptions earth;
  earth.ground_amsl_m = 1567;
  absl::StatusOr<ImportResult> r = Import(kKigali, earth);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->zones, SizeIs(2));
  const v1::Volume3D& v = r->zones[0].constraint.volumes(0).volume();
  const double n = Undulation(-1.97, 30.15);
  EXPECT_NEAR(v.altitude_lower().value_m(), 100 + 1567 + n, 0.5);
  EXPECT_NEAR(v.altitude_upper().value_m(), 500 + 1567 + n, 0.5);
}

TEST_F(KigaliTest, AglZoneWithoutTerrainIsRefusedOthersImport) {
  absl::StatusOr<ImportResult> r = Import(kKigali, EarthElevationOptions());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->zones, SizeIs(1));  // the WGS84 one
  EXPECT_EQ(r->zones[0].constraint.source().original_id(), "w84");
  ASSERT_THAT(r->errors, SizeIs(1));  // once per zone, at the first limit
  EXPECT_EQ(ToString(r->errors[0]),
            "zone #0: features[0].properties.lower_limit: AGL needs terrain: "
            "no terrain source: pass --dem FILE.tif or --ground-m M");
}

TEST_F(KigaliTest, ZoneOffTheDemIsRefusedNamingThePoint) {
  dem_.west = 30.15;  // the DEM now starts inside the zone
  ASSERT_TRUE(dem_.Write(path_));
  EarthElevationOptions earth;
  earth.dem = path_;
  absl::StatusOr<ImportResult> r = Import(kKigali, earth);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->errors, SizeIs(1));  // the WGS84 zone needs no ground
  EXPECT_THAT(ToString(r->errors[0]),
              HasSubstr("features[0].properties.lower_limit: AGL needs "
                        "terrain: (-1.985210, 30.142622) is outside " +
                        path_));
}

TEST(EarthImport, AmslLimitsUseTheGeoid) {
  // A box at Bern-Belp: 600 m to 3048 m AMSL.
  const std::string zone = R"({"type":"Feature","id":"belp","properties":{
    "lower_limit":{"meters":600,"datum":"amsl"},
    "upper_limit":{"meters":3048,"datum":"amsl"}},
    "geometry":{"type":"Polygon","coordinates":[[[7.48,46.90],[7.52,46.90],
    [7.52,46.93],[7.48,46.93],[7.48,46.90]]]}})";
  absl::StatusOr<ImportResult> r = Import(zone, EarthElevationOptions());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->errors, SizeIs(0));
  const v1::Volume3D& v = r->zones[0].constraint.volumes(0).volume();
  double n_min = 1e9, n_max = -1e9;
  for (double lat : {46.90, 46.93}) {
    for (double lng : {7.48, 7.52}) {
      n_min = std::min(n_min, Undulation(lat, lng));
      n_max = std::max(n_max, Undulation(lat, lng));
    }
  }
  EXPECT_NEAR(n_min, 48.8, 0.5);
  EXPECT_LE(v.altitude_lower().value_m(), 600 + n_min);
  EXPECT_GE(v.altitude_lower().value_m(), 600 + n_min - 0.5);
  EXPECT_GE(v.altitude_upper().value_m(), 3048 + n_max);
  EXPECT_LE(v.altitude_upper().value_m(), 3048 + n_max + 0.5);
}

std::optional<std::string> ReadShared(const std::string& relative) {
  std::ifstream in(absl::StrCat(UTM_SHARED_DATA_DIR, "/geozones/", relative));
  if (!in) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(EarthImport, BernBelpNeedsTerrainThenStandsOnIt) {
  const std::optional<std::string> text =
      ReadShared("ed318/che-cis-source-sample.json");
  if (!text) {
    GTEST_SKIP() << "shared sample data not found under " << UTM_SHARED_DATA_DIR
                 << "/geozones";
  }
  absl::StatusOr<ImportResult> r = Import(*text, EarthElevationOptions());
  ASSERT_TRUE(r.ok()) << r.status();
  // Every zone of the file is AGL: none is placed on a guess.
  EXPECT_THAT(r->zones, SizeIs(0));
  ASSERT_THAT(r->errors, SizeIs(3));
  EXPECT_EQ(r->errors[0].zone_id, "LSZB003");
  EXPECT_THAT(r->errors[0].message, HasSubstr("AGL needs terrain"));

  EarthElevationOptions earth;
  earth.ground_amsl_m = 510;  // the airfield
  r = Import(*text, earth);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->zones, SizeIs(3));
  const v1::Volume3D& v = r->zones[0].constraint.volumes(0).volume();
  EXPECT_EQ(r->zones[0].constraint.source().original_id(), "LSZB003");
  // 60 m above a 510 m ground and a ~49 m geoid, not 60 m above WGS84.
  EXPECT_NEAR(v.altitude_lower().value_m(), 60 + 510 + 49, 1.5);
}

}  // namespace
}  // namespace utm::zones
