// RegionPolicy: the boundary file and the checks services make before a
// write.
#include "services/common/region.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::region {
namespace {

using ::testing::HasSubstr;

// lat [47, 55], lng [6, 15], with a hole lat [50.5, 51.5], lng [9, 11].
constexpr char kBoundary[] = R"({"type": "FeatureCollection", "features": [
  {"type": "Feature", "properties": {"name": "de"}, "geometry": {
    "type": "Polygon", "coordinates": [
      [[6, 47], [15, 47], [15, 55], [6, 55], [6, 47]],
      [[9, 50.5], [11, 50.5], [11, 51.5], [9, 51.5], [9, 50.5]]]}},
  {"type": "Feature", "geometry": {
    "type": "MultiPolygon", "coordinates": [
      [[[20, 40], [21, 40], [21, 41], [20, 41], [20, 40]]]]}}]})";

std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

geo::Volume4D Square(double lat, double lng, double d) {
  geo::Volume4D v;
  v.volume.footprint = geo::Polygon{{{lat - d, lng - d},
                                     {lat - d, lng + d},
                                     {lat + d, lng + d},
                                     {lat + d, lng - d}}};
  return v;
}

TEST(ParseBoundaryGeoJson, ReadsPolygonsHolesAndMultiPolygons) {
  absl::StatusOr<std::vector<geo::Polygon>> p =
      ParseBoundaryGeoJson(kBoundary, "de.json");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ((*p)[0].vertices.size(), 4u);  // the closing position dropped
  EXPECT_EQ((*p)[0].holes.size(), 1u);
  EXPECT_EQ((*p)[0].vertices[1], (geo::LatLng{47, 15}));
}

TEST(ParseBoundaryGeoJson, NamesTheFileAndPlace) {
  struct Case {
    std::string text, message;
  };
  const std::vector<Case> cases = {
      {"{", "b.json: not JSON"},
      {R"({"type": "Point", "coordinates": [1, 2]})",
       "b.json: type: \"Point\": a boundary is a Polygon"},
      {R"({"type": "Polygon", "coordinates": [[[6, 47], [15, 47], [6, 47]]]})",
       "b.json: coordinates[0]: 3 positions; a ring needs at least 4"},
      {R"({"type": "Polygon", "coordinates":
          [[[6, 47], [15, 47], [15, 55], [6, 55]]]})",
       "b.json: coordinates[0]: the ring does not close"},
      {R"({"type": "FeatureCollection", "features": [{"type": "Feature",
          "geometry": {"type": "Polygon", "coordinates":
          [[[6, 47], [15, "x"], [15, 55], [6, 47]]]}}]})",
       "b.json: features[0].geometry.coordinates[0][1]: a position holds "
       "numbers only"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<geo::Polygon>> p =
        ParseBoundaryGeoJson(c.text, "b.json");
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(p.status().message(), HasSubstr(c.message));
  }
}

TEST(RegionPolicy, LoadValidatesCodeAndFile) {
  const std::string good = WriteTemp("good.json", kBoundary);
  absl::StatusOr<RegionPolicy> policy =
      RegionPolicy::Load("EU-DE", good, false);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->code(), "EU-DE");

  EXPECT_THAT(RegionPolicy::Load("eu-de", good, false).status().message(),
              HasSubstr("--region \"eu-de\" is not a region code"));
  EXPECT_EQ(
      RegionPolicy::Load("EU-DE", good + ".missing", false).status().code(),
      absl::StatusCode::kNotFound);
  // A bow tie: the file and the edges.
  const std::string bow = WriteTemp("bow.json",
                                    R"({"type": "Polygon", "coordinates":
          [[[6, 47], [15, 55], [15, 47], [6, 55], [6, 47]]]})");
  absl::StatusOr<RegionPolicy> bad = RegionPolicy::Load("EU-DE", bow, false);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(),
              HasSubstr("bow.json: polygon 0 ring 0: edges 0 and 2 cross"));
}

TEST(RegionPolicy, ChecksCallersHomeRegion) {
  absl::StatusOr<RegionPolicy> policy =
      RegionPolicy::Load("EU-DE", WriteTemp("caller.json", kBoundary), false);
  ASSERT_TRUE(policy.ok()) << policy.status();
  auth::Principal caller;
  caller.subject = "op-1";
  EXPECT_TRUE(policy->CheckCaller(caller).ok());  // no home region
  caller.home_region = "EU-DE";
  EXPECT_TRUE(policy->CheckCaller(caller).ok());
  caller.home_region = "US-CA";
  const absl::Status s = policy->CheckCaller(caller);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "operator home region US-CA differs from this deployment's "
            "region EU-DE; use the US-CA region's endpoint");

  RegionPolicy strict(policy->code(), policy->boundary(),
                      /*require_home_region=*/true);
  caller.home_region = "";
  EXPECT_EQ(strict.CheckCaller(caller).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(strict.CheckCaller(caller).message(),
              HasSubstr("requires tokens naming their home region"));
  caller.home_region = "EU-DE";
  EXPECT_TRUE(strict.CheckCaller(caller).ok());
}

TEST(RegionPolicy, ChecksVolumesAndPositions) {
  absl::StatusOr<RegionPolicy> policy =
      RegionPolicy::Load("EU-DE", WriteTemp("volumes.json", kBoundary), false);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(
      policy
          ->CheckVolumes({Square(52, 13, 0.01), Square(40.5, 20.5, 0.01)},
                         "volumes")
          .ok());
  const absl::Status s = policy->CheckVolumes(
      {Square(52, 13, 0.01), Square(52, 13.1, 0.01), Square(51, 10, 0.01)},
      "volumes");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "volumes[2] lies outside region EU-DE (deployment boundary)");
  EXPECT_TRUE(policy->CheckPosition({52, 13}, "reports[0].position").ok());
  EXPECT_EQ(policy->CheckPosition({30, 13}, "reports[0].position").message(),
            "reports[0].position lies outside region EU-DE (deployment "
            "boundary)");
}

}  // namespace
}  // namespace utm::region
