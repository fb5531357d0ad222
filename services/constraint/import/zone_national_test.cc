// What national data sets need of the importers beyond geometry: all-day
// periods ("00:00"-"00:00"), the EUROCONTROL geofencing service's
// provisioning file ({"uas_zones": [...]}, testdata/eurocontrol-uas-zones.json,
// written from its published UASZone schema), and error paths that name the
// member at fault.
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/constraint/import/zone_import.h"

namespace utm::zones {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

ImportOptions FlatGround() {
  static const ConstantElevation* const flat = new ConstantElevation(0, 0);
  ImportOptions options;
  options.elevation = flat;
  return options;
}

std::string Fixture(const std::string& name) {
  std::ifstream in(absl::StrCat(UTM_ZONE_TESTDATA_DIR, "/", name),
                   std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// An ED-269 circle zone with the given daily period.
std::string Ed269WithPeriod(const std::string& start, const std::string& end) {
  return absl::StrCat(R"({"UASZoneList": [{"identifier": "D",
    "restriction": "PROHIBITED",
    "applicability": [{"schedule": [{"day": ["SAT", "SUN"],
      "startTime": ")",
                      start, R"(", "endTime": ")", end, R"("}]}],
    "geometry": [{"uomDimensions": "M", "lowerLimit": 0,
      "lowerVerticalReference": "AGL", "upperLimit": 120,
      "upperVerticalReference": "AGL", "horizontalProjection":
      {"type": "Circle", "center": [7, 46], "radius": 100}}]}]})");
}

TEST(AllDayPeriods, MidnightToMidnightIsTheWholeDay) {
  struct Case {
    const char* start;
    const char* end;
    int start_s, end_s;
    const char* zone;
  };
  for (const Case& c : {
           Case{"00:00", "00:00", 0, 86400, "UTC"},
           Case{"00:00:00Z", "24:00:00Z", 0, 86400, "UTC"},
           Case{"00:00:00.00+01:00", "00:00:00.00+01:00", 0, 86400,
                "Etc/GMT-1"},
           // An evening to the midnight that ends it.
           Case{"18:00Z", "00:00Z", 18 * 3600, 86400, "UTC"},
           // An end before the start still runs overnight.
           Case{"22:00Z", "06:00Z", 22 * 3600, 6 * 3600, "UTC"},
       }) {
    SCOPED_TRACE(absl::StrCat(c.start, "-", c.end));
    absl::StatusOr<ImportResult> r =
        ImportZones(Ed269WithPeriod(c.start, c.end), FlatGround());
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_THAT(r->errors, SizeIs(0)) << ToString(r->errors[0]);
    ASSERT_THAT(r->zones, SizeIs(1));
    const v1::Schedule& s = r->zones[0].constraint.schedule();
    ASSERT_EQ(s.weekly_size(), 1);
    EXPECT_EQ(s.weekly(0).start_second_of_day(), c.start_s);
    EXPECT_EQ(s.weekly(0).end_second_of_day(), c.end_s);
    EXPECT_EQ(s.weekly(0).days_size(), 2);
    EXPECT_EQ(s.time_zone(), c.zone);
  }
}

TEST(AllDayPeriods, ATimePastMidnightIsRefusedNamingTheMember) {
  absl::StatusOr<ImportResult> r =
      ImportZones(Ed269WithPeriod("00:00", "24:01"), FlatGround());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->zones, SizeIs(0));
  ASSERT_THAT(r->errors, SizeIs(1));
  EXPECT_EQ(r->errors[0].field,
            "UASZoneList[0].applicability[0].schedule[0].endTime");
  EXPECT_THAT(r->errors[0].message, HasSubstr("\"24:01\" is not a time"));
}

TEST(EurocontrolProvisioning, IsDetectedAsEd269) {
  EXPECT_EQ(*DetectZoneFormat(Fixture("eurocontrol-uas-zones.json")),
            ZoneFormat::kEd269);
  // An empty provisioning file is still one (with no zones).
  EXPECT_EQ(*DetectZoneFormat(R"({"uas_zones": []})"), ZoneFormat::kEd269);
  EXPECT_THAT(DetectZoneFormat(R"({"uas_zones": 7})").status().message(),
              HasSubstr("not a zone file"));
}

TEST(EurocontrolProvisioning, ImportsZonesWithObjectApplicability) {
  absl::StatusOr<ImportResult> r =
      ImportZones(Fixture("eurocontrol-uas-zones.json"), FlatGround());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->format, ZoneFormat::kEd269);
  EXPECT_EQ(r->zones_in_file, 3);
  ASSERT_THAT(r->zones, SizeIs(2));

  const v1::Constraint& park = r->zones[0].constraint;
  EXPECT_EQ(park.source().original_id(), "BXL0001");
  EXPECT_EQ(park.type(), v1::CONSTRAINT_TYPE_PROHIBITED);
  EXPECT_EQ(park.authority().name(),
            "Brussels Airspace Authority (UAS office)");
  EXPECT_EQ(park.authority().contact(), "+32 2 000 00 00");
  EXPECT_THAT(park.message_for_pilots(),
              HasSubstr("Conditions: special conditions"));
  ASSERT_EQ(park.volumes_size(), 1);
  const v1::Polygon& outline = park.volumes(0).volume().outline_polygon();
  ASSERT_EQ(outline.vertices_size(), 5);  // the closing repeat dropped
  EXPECT_DOUBLE_EQ(outline.vertices(0).lat_deg(), 50.8441);
  EXPECT_DOUBLE_EQ(outline.vertices(0).lng_deg(), 4.3873);
  EXPECT_DOUBLE_EQ(park.volumes(0).volume().altitude_lower().value_m(), 0);
  EXPECT_DOUBLE_EQ(park.volumes(0).volume().altitude_upper().value_m(), 250);
  EXPECT_EQ(park.source().original_altitude_upper(), "250 M WGS84");
  // applicability is one object: its dates and both daily periods, one of
  // them the whole Saturday.
  const v1::Schedule& s = park.schedule();
  EXPECT_EQ(s.absolute().start().seconds(), 1798761600);  // 2027-01-01
  EXPECT_EQ(s.absolute().end().seconds(), 1830297600);    // 2028-01-01
  EXPECT_EQ(s.time_zone(), "UTC");
  ASSERT_EQ(s.weekly_size(), 2);
  EXPECT_EQ(s.weekly(0).days(0), v1::DAY_OF_WEEK_MONDAY);
  EXPECT_EQ(s.weekly(0).start_second_of_day(), 12 * 3600);
  EXPECT_EQ(s.weekly(0).end_second_of_day(), 18 * 3600);
  EXPECT_EQ(s.weekly(1).days(0), v1::DAY_OF_WEEK_SATURDAY);
  EXPECT_EQ(s.weekly(1).start_second_of_day(), 0);
  EXPECT_EQ(s.weekly(1).end_second_of_day(), 86400);

  // No lower limit: the surface; numbers as numbers; NOTIFICATION only:
  // self-unlock.
  const v1::Constraint& royal = r->zones[1].constraint;
  EXPECT_EQ(royal.source().original_id(), "BXL0002");
  EXPECT_EQ(royal.type(), v1::CONSTRAINT_TYPE_REQUIRES_AUTHORISATION);
  EXPECT_TRUE(royal.self_unlock_allowed());
  EXPECT_EQ(royal.volumes(0).volume().outline_polygon().vertices_size(), 4);
  EXPECT_FALSE(royal.has_schedule());

  // The third zone's faults, each at its own path, and nothing else of it.
  std::vector<std::string> errors;
  for (const ZoneError& e : r->errors) errors.push_back(ToString(e));
  EXPECT_THAT(
      errors,
      ::testing::UnorderedElementsAre(
          "zone BXL0003: uas_zones[2].applicability.dailySchedule[0].endTime: "
          "the times of one zone are in different UTC offsets",
          "zone BXL0003: uas_zones[2].geometry.upperLimit: \"high\" is not a "
          "number",
          "zone BXL0003: uas_zones[2].geometry.polygon[1]: expected "
          "{\"LAT\": degrees, \"LON\": degrees}, got {\"LAT\":\"50.81\"}"));
}

TEST(EurocontrolProvisioning, BadVolumesAreZoneErrors) {
  const std::string file = R"({"uas_zones": [
    {"identifier": "A", "restriction": "PROHIBITED", "geometry": 5},
    {"identifier": "B", "restriction": "PROHIBITED", "geometry": {}},
    {"identifier": "C", "restriction": "PROHIBITED", "geometry": {
      "upperLimit": 100, "polygon": [{"LAT": 1, "LON": 1},
        {"LAT": 1.001, "LON": 1}, {"LAT": 1.001, "LON": 1.001}]}},
    {"identifier": "D", "restriction": "PROHIBITED", "geometry": {
      "polygon": [{"LAT": 1, "LON": 1}, {"LAT": 1.001, "LON": 1.001},
        {"LAT": 1.001, "LON": 1}, {"LAT": 1, "LON": 1.001}]}},
    {"identifier": "E", "restriction": "PROHIBITED",
     "applicability": [], "geometry": {
      "polygon": [{"LAT": 1, "LON": 1}, {"LAT": 1.001, "LON": 1},
        {"LAT": 1.001, "LON": 1.001}]}}]})";
  absl::StatusOr<ImportResult> r = ImportZones(file, FlatGround());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->zones, SizeIs(1));
  EXPECT_EQ(r->zones[0].constraint.source().original_id(), "E");
  std::vector<std::string> errors;
  for (const ZoneError& e : r->errors) errors.push_back(ToString(e));
  EXPECT_THAT(
      errors,
      ::testing::ElementsAre(
          "zone A: uas_zones[0].geometry: required: a non-empty array",
          "zone B: uas_zones[1].geometry.polygon: required: an array of "
          "points {\"LAT\": …, \"LON\": …}",
          "zone C: uas_zones[2].geometry.upperVerticalReference: required: "
          "AGL, AMSL or WGS84",
          "zone D: uas_zones[3].geometry.polygon: edges 0 and 2 cross"));
}

TEST(EurocontrolProvisioning, AnUnwrappedEd269GeometryIsReadAsOne) {
  const std::string file = R"({"UASZoneList": [{"identifier": "ONE",
    "restriction": "PROHIBITED",
    "geometry": {"uomDimensions": "M", "lowerLimit": 0,
      "lowerVerticalReference": "AGL", "upperLimit": 120,
      "upperVerticalReference": "AGL", "horizontalProjection":
      {"type": "Circle", "center": [7, 46], "radius": -1}}}]})";
  absl::StatusOr<ImportResult> r = ImportZones(file, FlatGround());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->errors, SizeIs(1));
  EXPECT_EQ(r->errors[0].field,
            "UASZoneList[0].geometry.horizontalProjection.radius");
}

TEST(GeoJsonPoints, AMissingRadiusNamesTheFeaturesProperties) {
  const std::string zones = R"({"type": "FeatureCollection", "features": [
    {"type": "Feature", "id": "ok",
     "geometry": {"type": "Point", "coordinates": [8.5, 47.3]},
     "properties": {"radius_m": 300}},
    {"type": "Feature", "id": "no-radius",
     "geometry": {"type": "Point", "coordinates": [8.5, 47.3]},
     "properties": {"message": "no radius"}},
    {"type": "Feature", "id": "in-collection",
     "geometry": {"type": "GeometryCollection", "geometries": [
       {"type": "Point", "coordinates": [8.5, 47.3]}]},
     "properties": {"radius": -5}}]})";
  absl::StatusOr<ImportResult> r = ImportZones(zones, FlatGround());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->zones, SizeIs(1));
  ASSERT_THAT(r->errors, SizeIs(2));
  EXPECT_EQ(ToString(r->errors[0]),
            "zone no-radius: features[1].properties.radius_m: a Point needs a "
            "radius in metres");
  // A radius that is there but wrong is named as written.
  EXPECT_EQ(r->errors[1].field, "features[2].properties.radius");
  EXPECT_THAT(r->errors[1].message, HasSubstr("must be positive"));
}

}  // namespace
}  // namespace utm::zones
