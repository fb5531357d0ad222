// The XNOTAM (FAA TFR) reader on the fixtures in testdata/, written from the
// structure in ../shared/data/README.md (no public sample exists).
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/constraint/import/zone_import.h"

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
constexpr double kNm = 1852;

std::string Fixture(const std::string& name) {
  std::ifstream in(absl::StrCat(UTM_ZONE_TESTDATA_DIR, "/", name));
  EXPECT_TRUE(in) << name;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
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

class XnotamTest : public ::testing::Test {
 protected:
  absl::StatusOr<ImportResult> Import(const std::string& name) {
    ImportOptions options;
    options.dataset = name;
    options.elevation = &elevation_;
    return ImportZones(Fixture(name), options);
  }
  // Ground 300 m AMSL, geoid -20 m.
  ConstantElevation elevation_{300, -20};
};

TEST_F(XnotamTest, CircleFromSurfaceToFeetMsl) {
  absl::StatusOr<ImportResult> r = Import("tfr-circle.xml");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->format, ZoneFormat::kXnotam);
  EXPECT_THAT(r->errors, SizeIs(0));
  ASSERT_THAT(r->zones, SizeIs(1));
  const v1::Constraint& c = r->zones[0].constraint;
  EXPECT_EQ(r->zones[0].field, "Group[0].Add[0].Not[0]");
  EXPECT_EQ(c.type(), v1::CONSTRAINT_TYPE_PROHIBITED);
  EXPECT_EQ(c.source().format(), v1::SOURCE_FORMAT_XNOTAM);
  EXPECT_EQ(c.source().original_id(), "4/0811");
  EXPECT_EQ(c.source().dataset(), "tfr-circle.xml");
  EXPECT_EQ(c.source().original_altitude_lower(), "SFC");
  EXPECT_EQ(c.source().original_altitude_upper(), "3000 FT AMSL");
  ASSERT_THAT(c.volumes(), SizeIs(1));
  const v1::Volume3D& v = c.volumes(0).volume();
  EXPECT_DOUBLE_EQ(v.outline_circle().center().lat_deg(), 41.2);
  EXPECT_DOUBLE_EQ(v.outline_circle().center().lng_deg(), -119.3);
  EXPECT_DOUBLE_EQ(v.outline_circle().radius_m(), 3 * kNm);
  EXPECT_DOUBLE_EQ(v.altitude_lower().value_m(), 300 - 20);
  EXPECT_DOUBLE_EQ(v.altitude_upper().value_m(), 3000 * kFt - 20);
  EXPECT_EQ(Utc(c.schedule().absolute().start()), Rfc("2026-06-10T14:00:00Z"));
  EXPECT_EQ(Utc(c.schedule().absolute().end()), Rfc("2026-06-10T22:30:00Z"));
  EXPECT_EQ(c.schedule().time_zone(), "UTC");
  EXPECT_THAT(c.schedule().weekly(), SizeIs(0));
  EXPECT_EQ(c.reason(), "VIP: VIP MOVEMENT");
  EXPECT_THAT(c.message_for_pilots(), HasSubstr("WITHIN 3 NM"));
  EXPECT_EQ(c.authority().name(), "FAA (ZOA)");
}

TEST_F(XnotamTest, PolygonInDmsToFlightLevelWithLocalTimes) {
  absl::StatusOr<ImportResult> r = Import("tfr-polygon.xml");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->zones, SizeIs(1));
  const v1::Constraint& c = r->zones[0].constraint;
  EXPECT_EQ(c.source().original_id(), "6/2230");
  const v1::Polygon& p = c.volumes(0).volume().outline_polygon();
  ASSERT_THAT(p.vertices(), SizeIs(4));  // closing vertex dropped
  EXPECT_DOUBLE_EQ(p.vertices(0).lat_deg(), 40 + 42.0 / 60);
  EXPECT_DOUBLE_EQ(p.vertices(0).lng_deg(), -(74 + 1.0 / 60));
  EXPECT_DOUBLE_EQ(p.vertices(2).lat_deg(), 40 + 40.0 / 60);
  // FL180: 18,000 ft of pressure altitude, taken as feet above sea level.
  EXPECT_DOUBLE_EQ(c.volumes(0).volume().altitude_upper().value_m(),
                   18000 * kFt - 20);
  EXPECT_EQ(c.source().original_altitude_upper(), "FL180");
  EXPECT_EQ(c.source().original_altitude_lower(), "0 FT AGL");
  // 20:00 to 02:00 EDT (UTC-4).
  EXPECT_EQ(c.schedule().time_zone(), "America/New_York");
  EXPECT_EQ(Utc(c.schedule().absolute().start()), Rfc("2026-07-05T00:00:00Z"));
  EXPECT_EQ(Utc(c.schedule().absolute().end()), Rfc("2026-07-05T06:00:00Z"));
}

TEST_F(XnotamTest, SeveralNotamsOneBroken) {
  absl::StatusOr<ImportResult> r = Import("tfr-multi.xml");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->zones_in_file, 3);
  ASSERT_THAT(r->zones, SizeIs(2));

  const v1::Constraint& stadium = r->zones[0].constraint;
  EXPECT_EQ(stadium.source().original_id(), "5/1001");
  ASSERT_THAT(stadium.volumes(), SizeIs(2));  // one per TFRAreaGroup
  EXPECT_DOUBLE_EQ(stadium.volumes(0).volume().outline_circle().radius_m(),
                   kNm);
  EXPECT_DOUBLE_EQ(stadium.volumes(1).volume().altitude_lower().value_m(),
                   2000 * kFt - 20);
  EXPECT_DOUBLE_EQ(stadium.volumes(1).volume().altitude_upper().value_m(),
                   10000 * kFt - 20);
  EXPECT_EQ(stadium.source().original_altitude_upper(), "2000 FT AMSL; FL100");
  EXPECT_EQ(stadium.schedule().time_zone(), "America/New_York");  // EDT
  EXPECT_EQ(Utc(stadium.schedule().absolute().start()),
            Rfc("2026-09-12T16:00:00Z"));

  const v1::Constraint& launch = r->zones[1].constraint;
  EXPECT_EQ(launch.source().original_id(), "5/1002");
  EXPECT_THAT(launch.volumes(0).volume().outline_polygon().vertices(),
              SizeIs(3));
  EXPECT_DOUBLE_EQ(launch.volumes(0).volume().altitude_lower().value_m(), -20);
  EXPECT_DOUBLE_EQ(launch.volumes(0).volume().altitude_upper().value_m(), 500);
  EXPECT_EQ(Utc(launch.schedule().absolute().start()),
            Rfc("2026-01-01T00:00:00Z"));
  EXPECT_FALSE(launch.schedule().absolute().has_end());  // PERM

  std::vector<std::string> fields;
  for (const ZoneError& e : r->errors) {
    EXPECT_EQ(e.zone_id, "5/1003");
    fields.push_back(e.field);
  }
  const std::string n = "Group[0].Add[0].Not[2]";
  const std::string g = n + ".TfrNot.TFRAreaGroup";
  // Area 0's limits (5000 FT over 1000 FT AMSL) are not checked: its
  // footprint is invalid, so there is no geoid under it to look up.
  EXPECT_THAT(fields, ElementsAre(n + ".codeTimeZone", n + ".dateEffective",
                                  g + "[0].aseShapes.Abd[0].center.lat_deg",
                                  g + "[1].aseTFRArea.uomDistVerUpper",
                                  g + "[2].aseTFRArea.valDistVerLower"));
  EXPECT_THAT(r->errors[0].message, HasSubstr("is not a time zone"));
  EXPECT_THAT(r->errors[2].message, HasSubstr("95 is outside [-90, 90]"));
  EXPECT_THAT(r->errors[3].message, HasSubstr("\"YD\" is not FT, FL or M"));
  EXPECT_THAT(r->errors[4].message, HasSubstr("is above the upper limit"));
}

TEST_F(XnotamTest, BrokenXmlIsAFileError) {
  absl::StatusOr<ImportResult> r = Import("tfr-broken.xml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("not valid XML at line 10"));
}

// pugixml passes bytes through unchecked; strings that are not UTF-8 would
// fail protobuf's wire form and threw from the GeoJSON export (found by
// fuzz/zone_file.cc).
TEST_F(XnotamTest, TextThatIsNotUtf8IsAFileError) {
  std::string xml = Fixture("tfr-circle.xml");
  const size_t at = xml.find("VIP MOVEMENT");
  ASSERT_NE(at, std::string::npos);
  xml.replace(at, 3, "\xFF\xC0\x80");
  absl::StatusOr<ImportResult> r = ImportZones(xml, ImportOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("<txtDescrPurpose> holds bytes that are not UTF-8"));
  // Latin-1 text is fine when the document says so: pugixml converts it.
  std::string latin1 = Fixture("tfr-circle.xml");
  latin1.replace(latin1.find("UTF-8"), 5, "ISO-8859-1");
  latin1.replace(latin1.find("VIP MOVEMENT"), 1, "\xC9");
  ImportOptions with_ground;
  with_ground.elevation = &elevation_;
  r = ImportZones(latin1, with_ground);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->zones.size(), 1u);
}

TEST_F(XnotamTest, OtherXmlIsNotXnotam) {
  absl::StatusOr<ImportResult> r =
      ImportZones("<kml><Document/></kml>", ImportOptions());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("<kml>"));
}

TEST_F(XnotamTest, MissingPiecesNameTheirElement) {
  const std::string xml = R"(<XNOTAM-Update><Group><Add>
    <Not><TfrNot><TFRAreaGroup>
      <aseTFRArea><valDistVerUpper>abc</valDistVerUpper></aseTFRArea>
      <aseShapes><Abd><Avx><codeType>CIR</codeType><geoLat>41N</geoLat>
        <geoLong>119.30</geoLong><valRadiusArc>-1</valRadiusArc>
        <uomRadiusArc>NM</uomRadiusArc></Avx></Abd></aseShapes>
    </TFRAreaGroup></TfrNot></Not>
    <Not><NotUid>X1</NotUid></Not>
  </Add></Group></XNOTAM-Update>)";
  absl::StatusOr<ImportResult> r = ImportZones(xml, ImportOptions());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->zones, SizeIs(0));
  std::vector<std::string> fields;
  for (const ZoneError& e : r->errors) fields.push_back(ToString(e));
  const std::string g = "Group[0].Add[0].Not[0].TfrNot.TFRAreaGroup[0]";
  EXPECT_THAT(
      fields,
      ElementsAre("zone #0: Group[0].Add[0].Not[0].NotUid: required",
                  "zone #0: " + g +
                      ".aseTFRArea.valDistVerUpper: \"ABC\" is not a number",
                  "zone #0: " + g +
                      ".aseShapes.Abd[0].Avx[0].geoLong: \"119.30\" is not a "
                      "longitude like 119.30W or 1191800.00W",
                  "zone X1: Group[0].Add[0].Not[1].TfrNot: required"));
}

}  // namespace
}  // namespace utm::zones
