// The importers on the published sample files in ../shared/data/geozones
// (skipped when that folder is absent) and on hand-made bad zones.
#include "services/constraint/import/zone_import.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/common/volume_convert.h"

namespace utm::zones {

// Readable ZoneErrors in gtest failure messages.
inline void PrintTo(const ZoneError& e, std::ostream* os) {
  *os << ToString(e);
}

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr double kFt = 0.3048;

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string SharedPath(const std::string& relative) {
  return absl::StrCat(UTM_SHARED_DATA_DIR, "/geozones/", relative);
}

#define LOAD_SHARED_OR_SKIP(var, relative)                                   \
  const std::optional<std::string> var = ReadFile(SharedPath(relative));     \
  if (!var) {                                                                \
    GTEST_SKIP() << "shared sample data not found: " << SharedPath(relative) \
                 << " (expected beside the repository in ../shared/data)";   \
  }

const ImportedZone* Find(const ImportResult& r, const std::string& id) {
  for (const ImportedZone& z : r.zones) {
    if (z.constraint.source().original_id() == id) return &z;
  }
  return nullptr;
}

absl::Time Utc(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds());
}

absl::Time Rfc(const char* text) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, text, &t, &error)) << error;
  return t;
}

bool AnyWarningHas(const ImportResult& r, const std::string& fragment) {
  for (const std::string& w : r.warnings) {
    if (w.find(fragment) != std::string::npos) return true;
  }
  return false;
}

// Ground and mean sea level on the ellipsoid, for the tests of everything
// but altitudes.
ImportOptions FlatGround() {
  static const ConstantElevation* const flat = new ConstantElevation(0, 0);
  ImportOptions options;
  options.elevation = flat;
  return options;
}

// Ground 500 m AMSL, geoid 48 m: AGL adds 548 m, AMSL 48 m.
class SampleTest : public ::testing::Test {
 protected:
  ImportOptions Options(const std::string& dataset) {
    ImportOptions options;
    options.dataset = dataset;
    options.elevation = &elevation_;
    return options;
  }
  ConstantElevation elevation_{500, 48};
};

TEST_F(SampleTest, Ed269GeoAwarenessFeatures) {
  LOAD_SHARED_OR_SKIP(text, "ed269/che-geo-awareness-1.json");
  absl::StatusOr<ImportResult> r =
      ImportZones(*text, Options("che-geo-awareness-1.json"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->format, ZoneFormat::kEd269);
  EXPECT_EQ(r->zones_in_file, 6);
  EXPECT_THAT(r->errors, SizeIs(0));
  ASSERT_THAT(r->zones, SizeIs(6));
  std::vector<std::string> ids;
  for (const ImportedZone& z : r->zones) {
    ids.push_back(z.constraint.source().original_id());
  }
  // The file repeats "Gantrisch Nature Park"; the server would refuse the
  // second under the same original_id.
  EXPECT_THAT(ids,
              ElementsAre("Montreux Concert Area", "Flugplatz Reichenbach",
                          "Lausanne Airport", "MONTREUX Wildlife Preserve",
                          "Gantrisch Nature Park", "Gantrisch Nature Park#2"));
  EXPECT_TRUE(AnyWarningHas(*r, "imported as \"Gantrisch Nature Park#2\""));

  // A circle, 0 M AGL to 6259 M AMSL, weekends 17:00-23:59:59 UTC within a
  // year.
  const v1::Constraint& concert = r->zones[0].constraint;
  EXPECT_EQ(concert.type(), v1::CONSTRAINT_TYPE_PROHIBITED);
  ASSERT_THAT(concert.volumes(), SizeIs(1));
  const v1::Volume3D& c = concert.volumes(0).volume();
  ASSERT_TRUE(c.has_outline_circle());
  EXPECT_DOUBLE_EQ(c.outline_circle().center().lat_deg(), 46.430758);
  EXPECT_DOUBLE_EQ(c.outline_circle().center().lng_deg(), 6.913146);
  EXPECT_DOUBLE_EQ(c.outline_circle().radius_m(), 3000);
  EXPECT_DOUBLE_EQ(c.altitude_lower().value_m(), 0 + 500 + 48);
  EXPECT_DOUBLE_EQ(c.altitude_upper().value_m(), 6259 + 48);
  EXPECT_EQ(c.altitude_lower().reference(), v1::ALTITUDE_REFERENCE_W84);
  EXPECT_FALSE(concert.volumes(0).has_time_start());
  EXPECT_FALSE(concert.volumes(0).has_time_end());
  EXPECT_EQ(concert.source().format(), v1::SOURCE_FORMAT_ED269);
  EXPECT_EQ(concert.source().dataset(), "che-geo-awareness-1.json");
  EXPECT_EQ(concert.source().original_altitude_lower(), "0 M AGL");
  EXPECT_EQ(concert.source().original_altitude_upper(), "6259 M AMSL");
  const v1::Schedule& s = concert.schedule();
  EXPECT_EQ(Utc(s.absolute().start()), Rfc("2022-06-15T09:00:00Z"));
  EXPECT_EQ(Utc(s.absolute().end()), Rfc("2023-06-15T09:00:00Z"));
  EXPECT_EQ(s.time_zone(), "UTC");
  ASSERT_THAT(s.weekly(), SizeIs(1));
  EXPECT_THAT(s.weekly(0).days(),
              ElementsAre(v1::DAY_OF_WEEK_SATURDAY, v1::DAY_OF_WEEK_SUNDAY));
  EXPECT_EQ(s.weekly(0).start_second_of_day(), 17 * 3600);
  EXPECT_EQ(s.weekly(0).end_second_of_day(), 86399);
  EXPECT_EQ(concert.reason(),
            "Sample protected area active during evening — OTHER: Concert "
            "Area");
  EXPECT_EQ(concert.message_for_pilots(),
            "Concert area - prohibited flights during active times");
  EXPECT_EQ(concert.authority().name(), "Local Canton");
  EXPECT_EQ(concert.authority().contact(), "https://www.montreux.ch/accueil");

  // Three circles, one volume each; an absolute window, no weekly one.
  const v1::Constraint& reichenbach = r->zones[1].constraint;
  ASSERT_THAT(reichenbach.volumes(), SizeIs(3));
  EXPECT_DOUBLE_EQ(reichenbach.volumes(1).volume().altitude_lower().value_m(),
                   50 + 548);
  EXPECT_DOUBLE_EQ(reichenbach.volumes(2).volume().outline_circle().radius_m(),
                   3500);
  EXPECT_THAT(reichenbach.schedule().weekly(), SizeIs(0));
  EXPECT_EQ(reichenbach.source().original_altitude_lower(),
            "0 M AGL; 50 M AGL; 100 M AGL");
  EXPECT_EQ(reichenbach.authority().contact(), "079 642 17 61");

  // Polygons: the closing vertex dropped; two rings repeat a vertex, which
  // is dropped with a warning. Permanent: no schedule.
  const v1::Constraint& lausanne = r->zones[2].constraint;
  ASSERT_THAT(lausanne.volumes(), SizeIs(3));
  const v1::Polygon& p0 = lausanne.volumes(0).volume().outline_polygon();
  ASSERT_THAT(p0.vertices(), SizeIs(4));
  EXPECT_DOUBLE_EQ(p0.vertices(1).lat_deg(), 46.532886);
  EXPECT_DOUBLE_EQ(p0.vertices(1).lng_deg(), 6.624755);
  EXPECT_THAT(lausanne.volumes(1).volume().outline_polygon().vertices(),
              SizeIs(3));
  EXPECT_TRUE(AnyWarningHas(*r,
                            "geometry[1].horizontalProjection."
                            "coordinates[0]: dropped 1 position"));
  EXPECT_FALSE(lausanne.has_schedule());

  const v1::Constraint& preserve = r->zones[3].constraint;
  EXPECT_EQ(preserve.type(), v1::CONSTRAINT_TYPE_REQUIRES_AUTHORISATION);
  EXPECT_FALSE(preserve.self_unlock_allowed());
  EXPECT_THAT(preserve.volumes(0).volume().outline_polygon().vertices(),
              SizeIs(6));

  // Feet: 250 FT AGL = 76.2 m above the ground.
  const v1::Constraint& gantrisch = r->zones[4].constraint;
  EXPECT_EQ(gantrisch.type(), v1::CONSTRAINT_TYPE_ADVISORY);
  EXPECT_DOUBLE_EQ(gantrisch.volumes(0).volume().altitude_upper().value_m(),
                   250 * kFt + 548);
  EXPECT_EQ(gantrisch.source().original_altitude_upper(), "250 FT AGL");
  EXPECT_EQ(r->zones[5].constraint.type(),
            v1::CONSTRAINT_TYPE_REQUIRES_AUTHORISATION);

  EXPECT_EQ(r->zones_using_ground, 6);
  EXPECT_EQ(r->zones_using_geoid, 6);
  EXPECT_TRUE(AnyWarningHas(*r, "6 zone(s) have AGL or SFC limits"));
}

TEST_F(SampleTest, Ed269CisWrapperWithNullUpperLimit) {
  LOAD_SHARED_OR_SKIP(text, "ed269/che-cis-source-sample.json");
  absl::StatusOr<ImportResult> r = ImportZones(*text, Options("cis.json"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->format, ZoneFormat::kEd269);
  EXPECT_THAT(r->errors, SizeIs(0));
  ASSERT_THAT(r->zones, SizeIs(1));
  const v1::Constraint& z = r->zones[0].constraint;
  EXPECT_EQ(r->zones[0].field, "UASZoneList[0]");
  EXPECT_EQ(z.source().original_id(), "LSXX");
  EXPECT_EQ(z.type(), v1::CONSTRAINT_TYPE_REQUIRES_AUTHORISATION);
  const v1::Volume3D& v = z.volumes(0).volume();
  EXPECT_THAT(v.outline_polygon().vertices(), SizeIs(4));
  // lowerLimit "0" (a string) AGL; upperLimit null: the default top.
  EXPECT_DOUBLE_EQ(v.altitude_lower().value_m(), 548);
  EXPECT_DOUBLE_EQ(v.altitude_upper().value_m(), 50000);
  EXPECT_EQ(z.source().original_altitude_lower(), "0 M AGL");
  EXPECT_EQ(z.source().original_altitude_upper(), "null");
  // permanent YES with an empty daily period: no schedule at all.
  EXPECT_FALSE(z.has_schedule());
  EXPECT_EQ(z.message_for_pilots(), "MSG01\nConditions: RST02");
  EXPECT_EQ(z.authority().name(), "LSXX City Sample (Supervisor)");
  EXPECT_EQ(z.authority().contact(), "0041221234567");
}

TEST_F(SampleTest, Ed318CollectionWithLayersCircleAndSchedule) {
  LOAD_SHARED_OR_SKIP(text, "ed318/Example_Collection.json");
  absl::StatusOr<ImportResult> r = ImportZones(*text, Options("c.json"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->format, ZoneFormat::kEd318);
  EXPECT_THAT(r->errors, SizeIs(0));
  ASSERT_THAT(r->zones, SizeIs(2));
  const v1::Constraint& layered = r->zones[0].constraint;
  EXPECT_EQ(layered.source().original_id(), "NFZ6547");
  EXPECT_EQ(layered.source().format(), v1::SOURCE_FORMAT_ED318);
  EXPECT_EQ(layered.type(), v1::CONSTRAINT_TYPE_REQUIRES_AUTHORISATION);
  ASSERT_THAT(layered.volumes(), SizeIs(2));
  EXPECT_THAT(layered.volumes(0).volume().outline_polygon().vertices(),
              SizeIs(4));
  EXPECT_THAT(layered.volumes(1).volume().outline_polygon().vertices(),
              SizeIs(3));
  EXPECT_DOUBLE_EQ(layered.volumes(0).volume().altitude_lower().value_m(),
                   50 + 548);
  EXPECT_DOUBLE_EQ(layered.volumes(0).volume().altitude_upper().value_m(),
                   150 + 548);
  EXPECT_DOUBLE_EQ(layered.volumes(1).volume().altitude_lower().value_m(), 548);
  EXPECT_EQ(layered.source().original_altitude_lower(), "50 M AGL; 0 M AGL");
  const v1::Schedule& s = layered.schedule();
  EXPECT_EQ(Utc(s.absolute().start()), Rfc("2018-12-31T15:59:59Z"));
  EXPECT_EQ(Utc(s.absolute().end()), Rfc("2019-12-31T15:59:59Z"));
  ASSERT_THAT(s.weekly(), SizeIs(2));
  EXPECT_THAT(s.weekly(0).days(), SizeIs(7));  // ANY
  EXPECT_EQ(s.weekly(0).start_second_of_day(), 16 * 3600);
  EXPECT_EQ(s.weekly(0).end_second_of_day(), 17 * 3600);
  EXPECT_THAT(s.weekly(1).days(), ElementsAre(v1::DAY_OF_WEEK_SUNDAY));
  EXPECT_EQ(layered.reason(),
            "LFPG-2 — AIR_TRAFFIC, OTHER: Flying Whales - part 2");
  EXPECT_EQ(layered.authority().name(), "LFPG-UASZoneManager");
  EXPECT_EQ(layered.authority().contact(), "UASZoneManager@lfpg.fr");

  const v1::Constraint& circle = r->zones[1].constraint;
  EXPECT_EQ(circle.source().original_id(), "ABC1234");
  EXPECT_EQ(circle.type(), v1::CONSTRAINT_TYPE_PROHIBITED);
  const v1::Circle& c = circle.volumes(0).volume().outline_circle();
  EXPECT_DOUBLE_EQ(c.center().lat_deg(), 50.122901);
  EXPECT_DOUBLE_EQ(c.center().lng_deg(), 2.636866);
  EXPECT_DOUBLE_EQ(c.radius_m(), 3500);
}

TEST_F(SampleTest, Ed318SingleExamples) {
  for (const char* file : {"ed318/Example_GeoZone_2_Layers.json",
                           "ed318/Example_GeoZone_Circle.json",
                           "ed318/Example_GeoZone_with_extension.json",
                           "ed318/PartialExample_featureGeoJSON.json"}) {
    SCOPED_TRACE(file);
    const std::optional<std::string> text = ReadFile(SharedPath(file));
    if (!text) GTEST_SKIP() << "shared sample data not found: " << file;
    absl::StatusOr<ImportResult> r = ImportZones(*text, Options(file));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->format, ZoneFormat::kEd318);
    EXPECT_THAT(r->errors, SizeIs(0));
    ASSERT_THAT(r->zones, SizeIs(1));
    const bool circle =
        std::string(file).find("2_Layers") == std::string::npos &&
        std::string(file).find("feature") == std::string::npos;
    EXPECT_EQ(r->zones[0].constraint.source().original_id(),
              circle ? "ABC1234" : "NFZ6547");
    EXPECT_EQ(r->zones[0].constraint.volumes_size(), circle ? 1 : 2);
  }
}

TEST_F(SampleTest, Ed318InvalidExampleGivesZoneErrors) {
  LOAD_SHARED_OR_SKIP(text, "ed318/InvalidExample_GeoZone_2_Layers.json");
  absl::StatusOr<ImportResult> r = ImportZones(*text, Options("inv.json"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->format, ZoneFormat::kEd318);
  EXPECT_EQ(r->zones_in_file, 1);
  EXPECT_THAT(r->zones, SizeIs(0));
  ASSERT_THAT(r->errors, SizeIs(1));
  EXPECT_EQ(r->errors[0].zone_id, "NFZ6547");
  EXPECT_EQ(r->errors[0].field, "features[0].properties.type");
  EXPECT_THAT(r->errors[0].message,
              HasSubstr("ED-318 spells it REQ_AUTHORIZATION"));
  EXPECT_TRUE(AnyWarningHas(*r, "metadata.validFrom"));
}

TEST_F(SampleTest, Ed318SwissSampleClampsUnlimitedCeiling) {
  LOAD_SHARED_OR_SKIP(text, "ed318/che-cis-source-sample.json");
  absl::StatusOr<ImportResult> r = ImportZones(*text, Options("ch.json"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->errors, SizeIs(0));
  ASSERT_THAT(r->zones, SizeIs(3));
  const ImportedZone* belp = Find(*r, "LSZB003");
  ASSERT_NE(belp, nullptr);
  const v1::Volume3D& v = belp->constraint.volumes(0).volume();
  EXPECT_THAT(v.outline_polygon().vertices(), SizeIs(27));
  EXPECT_DOUBLE_EQ(v.altitude_lower().value_m(), 60 + 548);
  // 99999 m AGL, the customary "unlimited": clamped to the default top.
  EXPECT_DOUBLE_EQ(v.altitude_upper().value_m(), 50000);
  EXPECT_EQ(belp->constraint.source().original_altitude_upper(), "99999 M AGL");
  EXPECT_TRUE(AnyWarningHas(*r, "clamped"));
  EXPECT_EQ(belp->constraint.reason(), "LSZB Bern-Belp 2 — AIR_TRAFFIC");
  EXPECT_THAT(belp->constraint.message_for_pilots(),
              HasSubstr("Conditions: The operation of unmanned aircraft "
                        "weighing more than 250 g"));
  EXPECT_EQ(belp->constraint.authority().name(),
            "Skyguide (Special Flight Office (SFO))");
  EXPECT_EQ(belp->constraint.authority().contact(),
            "https://skyguide.ch/services/special-flights");
  const ImportedZone* langmatt = Find(*r, "BLns058");
  ASSERT_NE(langmatt, nullptr);
  EXPECT_EQ(langmatt->constraint.authority().contact(), "+41 61 552 21 21");
}

TEST_F(SampleTest, PartialExamplesAreNotZoneFiles) {
  for (const char* file : {"ed318/PartialExample_GeoZoneProperties.json",
                           "ed318/PartialExample_TimePeriod.json",
                           "ed318/PartialExample_ZoneAuthority.json"}) {
    SCOPED_TRACE(file);
    const std::optional<std::string> text = ReadFile(SharedPath(file));
    if (!text) GTEST_SKIP() << "shared sample data not found: " << file;
    absl::StatusOr<ImportResult> r = ImportZones(*text, Options(file));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(r.status().message()),
                HasSubstr("not a zone file"));
  }
}

TEST_F(SampleTest, PlainGeoJsonGeofenceUsesDefaults) {
  LOAD_SHARED_OR_SKIP(text, "geojson/kigali-geofence.geojson");
  absl::StatusOr<ImportResult> r = ImportZones(*text, Options("k.geojson"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->format, ZoneFormat::kGeoJson);
  ASSERT_THAT(r->zones, SizeIs(1));
  const v1::Constraint& z = r->zones[0].constraint;
  EXPECT_EQ(z.source().original_id(), "#0");
  EXPECT_EQ(z.source().format(), v1::SOURCE_FORMAT_GEOJSON);
  EXPECT_EQ(z.type(), v1::CONSTRAINT_TYPE_PROHIBITED);
  const v1::Volume3D& v = z.volumes(0).volume();
  ASSERT_THAT(v.outline_polygon().vertices(), SizeIs(4));
  EXPECT_DOUBLE_EQ(v.outline_polygon().vertices(0).lat_deg(),
                   -1.985209815625593);
  EXPECT_DOUBLE_EQ(v.outline_polygon().vertices(0).lng_deg(),
                   30.142621994018555);
  // lower_limit / upper_limit are bare metres: AGL by default.
  EXPECT_DOUBLE_EQ(v.altitude_lower().value_m(), 100 + 548);
  EXPECT_DOUBLE_EQ(v.altitude_upper().value_m(), 500 + 548);

  ImportOptions options = Options("k.geojson");
  options.geojson_type = v1::CONSTRAINT_TYPE_ADVISORY;
  options.geojson_reference = VerticalReference::kWgs84;
  r = ImportZones(*text, options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->zones[0].constraint.type(), v1::CONSTRAINT_TYPE_ADVISORY);
  EXPECT_DOUBLE_EQ(
      r->zones[0].constraint.volumes(0).volume().altitude_lower().value_m(),
      100);
  EXPECT_EQ(r->zones_using_ground, 0);
}

TEST_F(SampleTest, EverySharedZoneFileImportsOrFailsCleanly) {
  for (const char* file :
       {"ed269/che-geo-awareness-1.json", "ed269/che-cis-source-sample.json",
        "ed318/Example_Collection.json", "ed318/che-cis-source-sample.json",
        "geojson/kigali-geofence.geojson"}) {
    SCOPED_TRACE(file);
    const std::optional<std::string> text = ReadFile(SharedPath(file));
    if (!text) GTEST_SKIP() << "shared sample data not found: " << file;
    absl::StatusOr<ImportResult> r = ImportZones(*text, Options(file));
    ASSERT_TRUE(r.ok()) << r.status();
    // Every imported volume passes the server's own conversion.
    VolumeConvertOptions convert;
    convert.limits = ConstraintValidationLimits();
    convert.open_bounds = false;
    convert.allow_open_end = true;
    convert.allow_open_start = true;
    for (const ImportedZone& z : r->zones) {
      for (int i = 0; i < z.constraint.volumes_size(); ++i) {
        EXPECT_TRUE(VolumeFromProto(z.constraint.volumes(i), convert,
                                    absl::StrCat("volumes[", i, "]"))
                        .ok())
            << z.constraint.source().original_id();
      }
    }
  }
}

// ---- Hand-made bad zones
// ------------------------------------------------------

// An ED-269 file with one zone whose first geometry is replaced by `geometry`.
std::string Ed269With(const std::string& geometry,
                      const std::string& restriction = "\"PROHIBITED\"") {
  return absl::StrCat(R"({"UASZoneList": [
    {"identifier": "GOOD", "restriction": "PROHIBITED",
     "geometry": [{"uomDimensions": "M", "lowerLimit": 0,
       "lowerVerticalReference": "AGL", "upperLimit": 120,
       "upperVerticalReference": "AGL",
       "horizontalProjection": {"type": "Circle", "center": [7.0, 46.0],
                                "radius": 500}}]},
    {"identifier": "BAD", "restriction": )",
                      restriction, R"(, "geometry": [)", geometry, "]}]}");
}

struct BadCase {
  const char* name;
  std::string geometry;
  std::string restriction;
  std::string field;    // expected ZoneError::field
  std::string message;  // fragment of ZoneError::message
};

class BadZoneTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadZoneTest, NamesZoneAndField) {
  const BadCase& c = GetParam();
  absl::StatusOr<ImportResult> r =
      ImportZones(Ed269With(c.geometry, c.restriction), FlatGround());
  ASSERT_TRUE(r.ok()) << r.status();
  // The good zone still imports.
  ASSERT_THAT(r->zones, SizeIs(1));
  EXPECT_EQ(r->zones[0].constraint.source().original_id(), "GOOD");
  EXPECT_EQ(r->zones_in_file, 2);
  ASSERT_THAT(r->errors, ::testing::Not(::testing::IsEmpty()));
  EXPECT_EQ(r->errors[0].zone_id, "BAD");
  EXPECT_EQ(r->errors[0].field, c.field);
  EXPECT_THAT(r->errors[0].message, HasSubstr(c.message));
}

std::string Circle(const std::string& radius) {
  return absl::StrCat(
      R"({"uomDimensions": "M", "lowerLimit": 0, "lowerVerticalReference": "AGL",
          "upperLimit": 120, "upperVerticalReference": "AGL",
          "horizontalProjection": {"type": "Circle", "center": [7, 46], "radius": )",
      radius, "}}");
}

std::string Limits(const std::string& limits) {
  return absl::StrCat(
      R"({"uomDimensions": "M", )", limits,
      R"(, "horizontalProjection": {"type": "Circle", "center": [7, 46], "radius": 100}})");
}

const char kG[] = "UASZoneList[1].geometry[0]";

INSTANTIATE_TEST_SUITE_P(
    Ed269, BadZoneTest,
    ::testing::Values(
        BadCase{"RadiusZero", Circle("0"), "\"PROHIBITED\"",
                absl::StrCat(kG, ".horizontalProjection.radius"),
                "must be positive"},
        BadCase{"RadiusNegative", Circle("-5"), "\"PROHIBITED\"",
                absl::StrCat(kG, ".horizontalProjection.radius"),
                "must be positive, got -5"},
        BadCase{"RadiusString", Circle("\"big\""), "\"PROHIBITED\"",
                absl::StrCat(kG, ".horizontalProjection.radius"),
                "required: a number"},
        BadCase{"CrossingEdges",
                R"({"uomDimensions": "M", "lowerLimit": 0,
                    "lowerVerticalReference": "AGL", "upperLimit": 120,
                    "upperVerticalReference": "AGL",
                    "horizontalProjection": {"type": "Polygon", "coordinates":
                      [[[7.0, 46.0], [7.01, 46.01], [7.01, 46.0], [7.0, 46.01],
                        [7.0, 46.0]]]}})",
                "\"PROHIBITED\"", absl::StrCat(kG, ".horizontalProjection"),
                "edges 0 and 2 cross"},
        BadCase{"VertexNotPair",
                R"({"uomDimensions": "M", "lowerLimit": 0,
                    "lowerVerticalReference": "AGL", "upperLimit": 120,
                    "upperVerticalReference": "AGL",
                    "horizontalProjection": {"type": "Polygon", "coordinates":
                      [[[7.0, 46.0], [7.01], [7.01, 46.0], [7.0, 46.0]]]}})",
                "\"PROHIBITED\"",
                absl::StrCat(kG, ".horizontalProjection.coordinates[0][1]"),
                "expected [longitude, latitude]"},
        BadCase{"LatitudeOutOfRange",
                R"({"uomDimensions": "M", "lowerLimit": 0,
                    "lowerVerticalReference": "AGL", "upperLimit": 120,
                    "upperVerticalReference": "AGL",
                    "horizontalProjection": {"type": "Circle",
                      "center": [7, 91], "radius": 100}})",
                "\"PROHIBITED\"",
                absl::StrCat(kG, ".horizontalProjection.center.lat_deg"),
                "outside [-90, 90]"},
        BadCase{"UnknownUnit",
                R"({"uomDimensions": "YD", "lowerLimit": 0,
                    "lowerVerticalReference": "AGL", "upperLimit": 120,
                    "upperVerticalReference": "AGL",
                    "horizontalProjection": {"type": "Circle",
                      "center": [7, 46], "radius": 100}})",
                "\"PROHIBITED\"", absl::StrCat(kG, ".uomDimensions"),
                "is not M or FT"},
        BadCase{"UnknownReference",
                Limits(R"("lowerLimit": 0, "lowerVerticalReference": "QNH",
                          "upperLimit": 120, "upperVerticalReference": "AGL")"),
                "\"PROHIBITED\"", absl::StrCat(kG, ".lowerVerticalReference"),
                "is not AGL, AMSL or WGS84"},
        BadCase{"MissingReference",
                Limits(R"("lowerLimit": 0, "upperLimit": 120,
                          "upperVerticalReference": "AGL")"),
                "\"PROHIBITED\"", absl::StrCat(kG, ".lowerVerticalReference"),
                "required"},
        BadCase{"LimitNotNumber",
                Limits(R"("lowerLimit": [1], "lowerVerticalReference": "AGL",
                          "upperLimit": 120, "upperVerticalReference": "AGL")"),
                "\"PROHIBITED\"", absl::StrCat(kG, ".lowerLimit"),
                "is not a number"},
        BadCase{"LowerAboveUpper",
                Limits(R"("lowerLimit": 200, "lowerVerticalReference": "AGL",
                          "upperLimit": 120, "upperVerticalReference": "AGL")"),
                "\"PROHIBITED\"", absl::StrCat(kG, ".lowerLimit"),
                "is above the upper limit 120 M AGL"},
        BadCase{"MissingProjection",
                R"({"uomDimensions": "M", "lowerLimit": 0,
                    "lowerVerticalReference": "AGL", "upperLimit": 1,
                    "upperVerticalReference": "AGL"})",
                "\"PROHIBITED\"", absl::StrCat(kG, ".horizontalProjection"),
                "required"},
        BadCase{"GeometryNotObject", "42", "\"PROHIBITED\"", kG,
                "expected an object, got number"},
        BadCase{"UnknownRestriction", Circle("100"), "\"FORBIDDEN\"",
                "UASZoneList[1].restriction", "is not a restriction type"},
        BadCase{"RestrictionWrongType", Circle("100"), "7",
                "UASZoneList[1].restriction", "7 is not a restriction type"},
        BadCase{"AmericanSpelling", Circle("100"), "\"REQ_AUTHORIZATION\"",
                "UASZoneList[1].restriction",
                "ED-269 spells it REQ_AUTHORISATION"}),
    [](const ::testing::TestParamInfo<BadCase>& info) {
      return info.param.name;
    });

// Properties a plain GeoJSON zone does not have are not set as empty
// messages (the server refuses conditions on a zone that is not
// CONDITIONAL); those it has are kept.
// Without an elevation model nothing is assumed: WGS84 limits convert, AGL
// and AMSL ones are zone errors naming the limit.
TEST(ZoneImport, WithoutElevationModelOnlyWgs84Converts) {
  const std::string zones = R"({"type": "FeatureCollection", "features": [
    {"type": "Feature", "id": "w84",
     "geometry": {"type": "Point", "coordinates": [8.5, 47.3]},
     "properties": {"radius_m": 300, "altitude_lower_m": 500,
                    "altitude_upper_m": 600}},
    {"type": "Feature", "id": "amsl",
     "geometry": {"type": "Point", "coordinates": [8.5, 47.3]},
     "properties": {"radius_m": 300, "altitude_reference": "AMSL",
                    "altitude_lower_m": 500, "altitude_upper_m": 600}},
    {"type": "Feature", "id": "agl",
     "geometry": {"type": "Point", "coordinates": [8.5, 47.3]},
     "properties": {"radius_m": 300, "upper_limit": 120}}]})";
  absl::StatusOr<ImportResult> r = ImportZones(zones, ImportOptions());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->zones, SizeIs(1));
  EXPECT_EQ(r->zones[0].constraint.source().original_id(), "w84");
  ASSERT_THAT(r->errors, SizeIs(2));
  EXPECT_EQ(ToString(r->errors[0]),
            "zone amsl: features[1].properties.altitude_lower_m: AMSL needs "
            "the geoid: no geoid model given");
  // The missing lower limit is the surface: SFC needs the ground too.
  EXPECT_EQ(ToString(r->errors[1]),
            "zone agl: features[2].properties.lower_limit: SFC needs terrain: "
            "no terrain source given");
}

TEST(ZoneImport, PlainGeoJsonLeavesAbsentMembersUnset) {
  const std::string zones = R"({"type": "FeatureCollection", "features": [
    {"type": "Feature", "id": "bare",
     "geometry": {"type": "Point", "coordinates": [8.5, 47.3]},
     "properties": {"type": "PROHIBITED", "radius_m": 300}},
    {"type": "Feature", "id": "full",
     "geometry": {"type": "Point", "coordinates": [8.6, 47.3]},
     "properties": {"type": "CONDITIONAL", "radius_m": 300,
       "conditions": {"text": ["below 60 m only"]},
       "authority": {"name": "FOCA"}}}]})";
  absl::StatusOr<ImportResult> r = ImportZones(zones, FlatGround());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->zones.size(), 2u);
  const v1::Constraint& bare = r->zones[0].constraint;
  EXPECT_FALSE(bare.has_conditions());
  EXPECT_FALSE(bare.has_authority());
  EXPECT_FALSE(bare.has_schedule());
  const v1::Constraint& full = r->zones[1].constraint;
  ASSERT_TRUE(full.has_conditions());
  EXPECT_EQ(full.conditions().text(0), "below 60 m only");
  EXPECT_EQ(full.authority().name(), "FOCA");
}

TEST(ZoneImport, SchedulesAreCheckedLikeTheServer) {
  const std::string zone = R"({"UASZoneList": [
    {"identifier": "DAYS", "restriction": "PROHIBITED",
     "applicability": [{"schedule": [{"day": ["MON", "XYZ"]}]}],
     "geometry": [{"uomDimensions": "M", "lowerLimit": 0,
       "lowerVerticalReference": "AGL", "upperLimit": 120,
       "upperVerticalReference": "AGL", "horizontalProjection":
       {"type": "Circle", "center": [7, 46], "radius": 100}}]},
    {"identifier": "TIMES", "restriction": "PROHIBITED",
     "applicability": [{"permanent": "NO",
       "startDateTime": "2026-05-01T00:00:00Z",
       "endDateTime": "2026-04-01T00:00:00Z",
       "schedule": [{"day": ["MON"], "startTime": "25:00"},
                    {"day": ["TUE"], "startTime": "24:00"}]}],
     "geometry": [{"uomDimensions": "M", "lowerLimit": 0,
       "lowerVerticalReference": "AGL", "upperLimit": 120,
       "upperVerticalReference": "AGL", "horizontalProjection":
       {"type": "Circle", "center": [7, 46], "radius": 100}}]},
    {"identifier": "ORDER", "restriction": "PROHIBITED",
     "applicability": [{"permanent": "NO",
       "startDateTime": "2026-05-01T00:00:00Z",
       "endDateTime": "2026-04-01T00:00:00Z"}],
     "geometry": [{"uomDimensions": "M", "lowerLimit": 0,
       "lowerVerticalReference": "AGL", "upperLimit": 120,
       "upperVerticalReference": "AGL", "horizontalProjection":
       {"type": "Circle", "center": [7, 46], "radius": 100}}]}]})";
  absl::StatusOr<ImportResult> r = ImportZones(zone, FlatGround());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->zones, SizeIs(0));
  ASSERT_THAT(r->errors, SizeIs(3));
  EXPECT_EQ(ToString(r->errors[0]),
            "zone DAYS: UASZoneList[0].applicability[0].schedule[0].day: "
            "expected a non-empty array of MON, TUE, WED, THU, FRI, SAT, SUN "
            "or ANY");
  EXPECT_EQ(r->errors[1].field,
            "UASZoneList[1].applicability[0].schedule[0].startTime");
  EXPECT_THAT(r->errors[1].message, HasSubstr("\"25:00\" is not a time"));
  // 24:00 parses (end of day), but a window cannot start there: the
  // server's own check (MakeSchedule) says so.
  EXPECT_EQ(r->errors[2].zone_id, "ORDER");
  EXPECT_EQ(r->errors[2].field, "UASZoneList[2]");
  EXPECT_THAT(r->errors[2].message, HasSubstr("the end is before the start"));
}

// Years past 9999 parse as RFC 3339 but are no Timestamp the server (or the
// GeoJSON export, which wrote `"schedule": <discarded>`) accepts.
TEST(ZoneImport, DateTimesPastYear9999AreRefused) {
  const std::string zone = R"({"UASZoneList": [{"identifier": "Y",
    "restriction": "PROHIBITED",
    "applicability": [{"permanent": "NO",
      "startDateTime": "20270-03-01T00:00:00Z",
      "endDateTime": "20270-04-01T00:00:00Z"}],
    "geometry": [{"uomDimensions": "M", "lowerLimit": 0,
      "lowerVerticalReference": "AGL", "upperLimit": 120,
      "upperVerticalReference": "AGL", "horizontalProjection":
      {"type": "Circle", "center": [7, 46], "radius": 100}}]}]})";
  absl::StatusOr<ImportResult> r = ImportZones(zone, FlatGround());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->zones, SizeIs(0));
  ASSERT_THAT(r->errors, SizeIs(2));
  EXPECT_EQ(r->errors[0].field,
            "UASZoneList[0].applicability[0].startDateTime");
  EXPECT_THAT(r->errors[0].message,
              HasSubstr("\"20270-03-01T00:00:00Z\" is not an RFC 3339"));
}

TEST(ZoneImport, StartAtEndOfDayIsRefusedByTheServerRules) {
  const std::string zone = R"({"UASZoneList": [{"identifier": "E",
    "restriction": "PROHIBITED",
    "applicability": [{"schedule": [{"day": ["TUE"], "startTime": "24:00"}]}],
    "geometry": [{"uomDimensions": "M", "lowerLimit": 0,
      "lowerVerticalReference": "AGL", "upperLimit": 120,
      "upperVerticalReference": "AGL", "horizontalProjection":
      {"type": "Circle", "center": [7, 46], "radius": 100}}]}]})";
  absl::StatusOr<ImportResult> r = ImportZones(zone, FlatGround());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->errors, SizeIs(1));
  EXPECT_EQ(r->errors[0].field, "UASZoneList[0]");
  EXPECT_THAT(r->errors[0].message,
              HasSubstr("schedule.weekly[0].start_second_of_day: 86400"));
}

TEST(ZoneImport, OffsetTimesBecomeFixedZones) {
  const std::string zone = R"({"UASZoneList": [{"identifier": "T",
    "restriction": "CONDITIONAL", "restrictionConditions": ["below 50 m"],
    "applicability": [{"schedule": [
       {"day": ["MON", "TUE"], "startTime": "08:00:00+02:00",
        "endTime": "18:00:00+02:00"}]}],
    "zoneAuthority": [{"name": "A", "purpose": "NOTIFICATION",
                       "email": "a@example.org"}],
    "geometry": [{"uomDimensions": "FT", "lowerLimit": "SFC",
      "upperLimit": 400, "upperVerticalReference": "AMSL",
      "horizontalProjection": {"type": "Circle", "center": [7, 46],
                               "radius": 1000}}]}]})";
  const ConstantElevation elevation(100, 50);
  ImportOptions options;
  options.elevation = &elevation;
  absl::StatusOr<ImportResult> r = ImportZones(zone, options);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->errors, SizeIs(0)) << ToString(r->errors[0]);
  const v1::Constraint& c = r->zones[0].constraint;
  EXPECT_EQ(c.type(), v1::CONSTRAINT_TYPE_CONDITIONAL);
  EXPECT_THAT(c.conditions().text(), ElementsAre("below 50 m"));
  EXPECT_EQ(c.schedule().time_zone(), "Etc/GMT-2");  // UTC+2
  EXPECT_EQ(c.schedule().weekly(0).start_second_of_day(), 8 * 3600);
  EXPECT_FALSE(c.self_unlock_allowed());  // only for REQ_AUTHORISATION
  const v1::Volume3D& v = c.volumes(0).volume();
  EXPECT_DOUBLE_EQ(v.outline_circle().radius_m(), 1000 * kFt);  // in FT
  EXPECT_DOUBLE_EQ(v.altitude_lower().value_m(), 150);          // SFC
  EXPECT_DOUBLE_EQ(v.altitude_upper().value_m(), 400 * kFt + 50);
  EXPECT_EQ(c.source().original_altitude_lower(), "SFC");
  EXPECT_EQ(c.source().original_altitude_upper(), "400 FT AMSL");
}

TEST(ZoneImport, NotificationOnlyAuthorityAllowsSelfUnlock) {
  const std::string zone = R"({"UASZoneList": [{"identifier": "N",
    "restriction": "REQ_AUTHORISATION",
    "zoneAuthority": [{"name": "Park", "purpose": "NOTIFICATION",
                       "phone": "+41000"}],
    "geometry": [{"uomDimensions": "M", "lowerLimit": 0,
      "lowerVerticalReference": "AGL", "upperLimit": 120,
      "upperVerticalReference": "AGL", "horizontalProjection":
      {"type": "Circle", "center": [7, 46], "radius": 100}}]}]})";
  absl::StatusOr<ImportResult> r = ImportZones(zone, FlatGround());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->zones, SizeIs(1));
  EXPECT_TRUE(r->zones[0].constraint.self_unlock_allowed());
}

TEST(ZoneImport, UnparseableFilesGivePositions) {
  absl::StatusOr<ImportResult> r =
      ImportZones("{\n  \"UASZoneList\": [\n    {,\n", FlatGround());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("line 3, column 6"));
  r = ImportZones("[1, 2]", FlatGround());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  r = ImportZones("\"just a string\"", FlatGround());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ZoneImport, FormatOverride) {
  ImportOptions options;
  options.format = ZoneFormat::kEd318;
  absl::StatusOr<ImportResult> r =
      ImportZones(R"({"UASZoneList": []})", options);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("not ED-318"));
  EXPECT_EQ(ParseZoneFormat("ED269").value(), ZoneFormat::kEd269);
  EXPECT_FALSE(ParseZoneFormat("kml").ok());
}

// ---- Export
// ------------------------------------------------------------------

TEST(ZoneExport, RoundTripKeepsGeometryAltitudesAndSchedule) {
  const std::string zones = R"({"UASZoneList": [
    {"identifier": "P", "restriction": "PROHIBITED", "message": "keep out",
     "applicability": [{"startDateTime": "2026-01-01T00:00:00Z",
        "schedule": [{"day": ["SAT"], "startTime": "10:00Z",
                      "endTime": "12:00Z"}]}],
     "geometry": [
       {"uomDimensions": "M", "lowerLimit": 10, "lowerVerticalReference": "WGS84",
        "upperLimit": 300, "upperVerticalReference": "WGS84",
        "horizontalProjection": {"type": "Polygon", "coordinates":
          [[[7.1, 46.1], [7.2, 46.1], [7.2, 46.2], [7.1, 46.1]]]}},
       {"uomDimensions": "M", "lowerLimit": 0, "lowerVerticalReference": "WGS84",
        "upperLimit": 150.25, "upperVerticalReference": "WGS84",
        "horizontalProjection": {"type": "Circle", "center": [7.3, 46.3],
                                 "radius": 750.5}}]}]})";
  absl::StatusOr<ImportResult> first = ImportZones(zones, FlatGround());
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_THAT(first->zones, SizeIs(1));
  v1::Constraint original = first->zones[0].constraint;
  original.set_id("c-1");
  original.set_version(3);
  const std::string exported = ExportGeoJson({original});

  absl::StatusOr<ImportResult> back = ImportZones(exported, FlatGround());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->format, ZoneFormat::kGeoJson);
  ASSERT_THAT(back->errors, SizeIs(0)) << ToString(back->errors[0]);
  ASSERT_THAT(back->zones, SizeIs(1));  // the two volumes regrouped
  const v1::Constraint& c = back->zones[0].constraint;
  EXPECT_EQ(c.source().original_id(), "c-1");
  EXPECT_EQ(c.type(), v1::CONSTRAINT_TYPE_PROHIBITED);
  EXPECT_EQ(c.message_for_pilots(), "keep out");
  ASSERT_THAT(c.volumes(), SizeIs(2));
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(c.volumes(i).volume().SerializeAsString(),
              original.volumes(i).volume().SerializeAsString())
        << c.volumes(i).DebugString() << original.volumes(i).DebugString();
  }
  EXPECT_EQ(c.schedule().SerializeAsString(),
            original.schedule().SerializeAsString());
  EXPECT_EQ(back->zones_using_ground, 0);
}

TEST(ZoneExport, CircleDrawnAsContainingPolygon) {
  v1::Constraint c;
  c.set_id("x");
  c.set_type(v1::CONSTRAINT_TYPE_ADVISORY);
  v1::Volume3D* v = c.add_volumes()->mutable_volume();
  v->mutable_outline_circle()->mutable_center()->set_lat_deg(46);
  v->mutable_outline_circle()->mutable_center()->set_lng_deg(7);
  v->mutable_outline_circle()->set_radius_m(1000);
  v->mutable_altitude_lower()->set_value_m(0);
  v->mutable_altitude_upper()->set_value_m(100);
  const nlohmann::json out = nlohmann::json::parse(ExportGeoJson({c}));
  ASSERT_EQ(out["features"].size(), 1u);
  const nlohmann::json& f = out["features"][0];
  EXPECT_EQ(f["properties"]["type"], "ADVISORY");
  EXPECT_EQ(f["properties"]["circle"]["radius_m"], 1000.0);
  const nlohmann::json& ring = f["geometry"]["coordinates"][0];
  EXPECT_EQ(ring.size(), 65u);  // 64 vertices + closing
  EXPECT_EQ(ring[0], ring[64]);
}

}  // namespace
}  // namespace utm::zones
