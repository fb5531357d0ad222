#include "services/utmctl/volume_file.h"

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::ctl {
namespace {

using ::testing::HasSubstr;

std::string WriteFile(const std::string& name, const std::string& content) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << content;
  return path;
}

TEST(ReadVolumeFile, ReadsAGeoJsonPoint) {
  const std::string path = WriteFile("point.json", R"({
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [8.5, 47.3]},
    "properties": {"radius_m": 200,
      "min_altitude": {"meters": 400}, "max_altitude": {"meters": 500},
      "start_datetime": "2027-03-01T10:00:00Z",
      "end_datetime": "2027-03-01T11:00:00Z"}})");
  absl::StatusOr<VolumeFile> file = ReadVolumeFile(path, {});
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(file->request.volumes_size(), 1);
  EXPECT_EQ(file->request.volumes(0).volume().outline_circle().radius_m(), 200);
}

TEST(ReadVolumeFile, ReadsAGeoJsonPolygonWithAHole) {
  const std::string path = WriteFile("holed.json", R"({
    "type": "Feature",
    "geometry": {"type": "Polygon", "coordinates": [
      [[8.50, 47.30], [8.52, 47.30], [8.52, 47.32], [8.50, 47.32], [8.50, 47.30]],
      [[8.508, 47.308], [8.508, 47.312], [8.512, 47.312], [8.508, 47.308]]]},
    "properties": {
      "min_altitude": {"meters": 400}, "max_altitude": {"meters": 500},
      "start_datetime": "2027-03-01T10:00:00Z",
      "end_datetime": "2027-03-01T11:00:00Z"}})");
  absl::StatusOr<VolumeFile> file = ReadVolumeFile(path, {});
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(file->request.volumes_size(), 1);
  const v1::Polygon& p = file->request.volumes(0).volume().outline_polygon();
  EXPECT_EQ(p.vertices_size(), 4);  // closing repeats dropped
  ASSERT_EQ(p.holes_size(), 1);
  EXPECT_EQ(p.holes(0).vertices_size(), 3);
  EXPECT_EQ(p.holes(0).vertices(2).lng_deg(), 8.512);

  const std::string bad = WriteFile("bad-ring.json", R"({
    "type": "Feature",
    "geometry": {"type": "Polygon", "coordinates": [
      [[8.50, 47.30], [8.52, 47.30], [8.52, 47.32], [8.50, 47.30]], 7]},
    "properties": {
      "min_altitude": {"meters": 400}, "max_altitude": {"meters": 500},
      "start_datetime": "2027-03-01T10:00:00Z",
      "end_datetime": "2027-03-01T11:00:00Z"}})");
  file = ReadVolumeFile(bad, {});
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(file.status().message()),
              HasSubstr("geometry.coordinates[1]"));
}

// Members of the wrong JSON type are refused with the field's path; they
// used to throw nlohmann::json::type_error out of ReadVolumeFile, which
// ended utmctl with std::terminate (found by fuzz/volume_file.cc).
struct WrongType {
  const char* name;
  const char* content;
  absl::StatusCode code;
  const char* message;
};

class ReadVolumeFileWrongType : public ::testing::TestWithParam<WrongType> {};

TEST_P(ReadVolumeFileWrongType, IsAnErrorNotACrash) {
  const WrongType& c = GetParam();
  absl::StatusOr<VolumeFile> file =
      ReadVolumeFile(WriteFile(std::string(c.name) + ".json", c.content), {});
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), c.code) << file.status();
  EXPECT_THAT(file.status().message(), HasSubstr(c.message));
}

INSTANTIATE_TEST_SUITE_P(
    All, ReadVolumeFileWrongType,
    ::testing::Values(
        WrongType{"TopLevelTypeNumber", R"({"type": 7})",
                  absl::StatusCode::kDataLoss,
                  "neither a utm.v1 volume file nor GeoJSON"},
        WrongType{"GeometryNumber",
                  R"({"type": "Feature", "geometry": 5, "properties": {}})",
                  absl::StatusCode::kInvalidArgument,
                  "features[0].geometry: not an object"},
        WrongType{"GeometryTypeNumber",
                  R"({"type": "Feature", "properties": {},
                      "geometry": {"type": 1, "coordinates": [8, 47]}})",
                  absl::StatusCode::kInvalidArgument,
                  "features[0].geometry.type: \"\" is not supported"},
        WrongType{"RingNotAnArray",
                  R"({"type": "Feature", "properties": {},
                      "geometry": {"type": "Polygon", "coordinates": [7]}})",
                  absl::StatusCode::kInvalidArgument,
                  "features[0].geometry.coordinates[0]: expected a ring"}),
    [](const ::testing::TestParamInfo<WrongType>& info) {
      return info.param.name;
    });

TEST(LineColumn, CountsLinesAndColumnsFromOne) {
  EXPECT_EQ(LineColumn("abc", 1), std::make_pair(1, 1));
  EXPECT_EQ(LineColumn("abc", 3), std::make_pair(1, 3));
  EXPECT_EQ(LineColumn("ab\ncd", 3), std::make_pair(1, 3));  // the newline
  EXPECT_EQ(LineColumn("ab\ncd", 4), std::make_pair(2, 1));
  EXPECT_EQ(LineColumn("ab\n\ncd", 6), std::make_pair(3, 2));
  EXPECT_EQ(LineColumn("ab", 0), std::make_pair(1, 1));
  EXPECT_EQ(LineColumn("ab\n", 9), std::make_pair(2, 1));  // past the end
}

TEST(ReadVolumeFile, NamesLineAndColumnOfTextThatIsNotJson) {
  // The stray comma is on line 3, column 9.
  const std::string path = WriteFile("broken.json",
                                     "{\n"
                                     "  \"volumes\": [\n"
                                     "    {\"a\": 1,,\n"
                                     "  ]\n"
                                     "}\n");
  absl::StatusOr<VolumeFile> file = ReadVolumeFile(path, {});
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(file.status().message(),
              HasSubstr(path + ":3:13: not JSON: syntax error"));
}

TEST(CheckJsonSyntax, AcceptsJsonAndNamesThePlaceOfAnError) {
  EXPECT_TRUE(CheckJsonSyntax("c.json", R"({"type": "X"})").ok());
  const absl::Status s = CheckJsonSyntax("c.json", "{\n  \"type\": X\n}");
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("c.json:2:11: not JSON: syntax error"));
}

TEST(ReadVolumeFile, RefusesANumberOutOfRangeWithoutThrowing) {
  absl::StatusOr<VolumeFile> file =
      ReadVolumeFile(WriteFile("huge.json", R"({"priority": 1e999})"), {});
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(file.status().message(), HasSubstr("not JSON"));
}

}  // namespace
}  // namespace utm::ctl
