// Zones whose polygons have holes or many vertices: ED-269, ED-318 and
// plain GeoJSON read the later rings of a Polygon as holes, the export
// writes them back, and the real Swiss national subset's holed and large
// zones pass the geometry checks (skipped when ../shared/data is absent).
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/volume.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/common/volume_convert.h"
#include "services/constraint/import/zone_import.h"

namespace utm::zones {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using Json = nlohmann::json;

ImportOptions Flat(ZoneFormat format) {
  static const ConstantElevation* const flat = new ConstantElevation(0, 0);
  ImportOptions options;
  options.elevation = flat;
  options.format = format;
  return options;
}

// A 0.02° square with a 0.004° square hole, closed rings, [lng, lat].
const char kOuter[] =
    "[[8.0, 47.0], [8.02, 47.0], [8.02, 47.02], [8.0, 47.02], [8.0, 47.0]]";
const char kHole[] =
    "[[8.008, 47.008], [8.008, 47.012], [8.012, 47.012], [8.012, 47.008], "
    "[8.008, 47.008]]";
// A hole crossing the outer ring's east edge (ring 1, edge 1 of the outer).
const char kBadHole[] =
    "[[8.015, 47.008], [8.025, 47.008], [8.025, 47.012], [8.015, 47.012], "
    "[8.015, 47.008]]";

std::string Ed318(const std::string& rings) {
  return absl::StrCat(
      R"({"type": "FeatureCollection", "features": [{"type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [)",
      rings, R"(],
          "layer": {"upper": 120, "upperReference": "AGL", "lower": 0,
                    "lowerReference": "AGL", "uom": "m"}},
        "properties": {"identifier": "CTR1", "country": "CHE",
                       "type": "PROHIBITED", "variant": "COMMON"}}]})");
}

std::string Ed269(const std::string& rings) {
  return absl::StrCat(
      R"({"UASZoneList": [{"identifier": "CTR1", "restriction": "PROHIBITED",
        "geometry": [{"uomDimensions": "M", "lowerLimit": 0,
          "lowerVerticalReference": "AGL", "upperLimit": 120,
          "upperVerticalReference": "AGL",
          "horizontalProjection": {"type": "Polygon", "coordinates": [)",
      rings, "]}}]}]}");
}

std::string GeoJson(const std::string& geometry) {
  return absl::StrCat(
      R"({"type": "FeatureCollection", "features": [{"type": "Feature",
        "id": "CTR1", "geometry": )",
      geometry, R"(, "properties": {"type": "PROHIBITED"}}]})");
}

// The one zone's polygons.
std::vector<geo::Polygon> Polygons(const ImportResult& r) {
  std::vector<geo::Polygon> out;
  for (const ImportedZone& z : r.zones) {
    for (const v1::Volume4D& v : z.constraint.volumes()) {
      out.push_back(PolygonFromProto(v.volume().outline_polygon()));
    }
  }
  return out;
}

void ExpectFrame(const geo::Polygon& p) {
  ASSERT_EQ(p.vertices.size(), 4u);  // the closing repeat dropped
  ASSERT_THAT(p.holes, SizeIs(1));
  ASSERT_EQ(p.holes[0].size(), 4u);
  EXPECT_EQ(p.holes[0][1].lat_deg, 47.012);
  EXPECT_EQ(p.holes[0][1].lng_deg, 8.008);
}

TEST(ZoneHoles, Ed318PolygonWithHole) {
  absl::StatusOr<ImportResult> r = ImportZones(
      Ed318(absl::StrCat(kOuter, ", ", kHole)), Flat(ZoneFormat::kEd318));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->errors, IsEmpty());
  const std::vector<geo::Polygon> polygons = Polygons(*r);
  ASSERT_THAT(polygons, SizeIs(1));
  ExpectFrame(polygons[0]);
}

TEST(ZoneHoles, Ed269PolygonWithHole) {
  absl::StatusOr<ImportResult> r = ImportZones(
      Ed269(absl::StrCat(kOuter, ", ", kHole)), Flat(ZoneFormat::kEd269));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->errors, IsEmpty());
  const std::vector<geo::Polygon> polygons = Polygons(*r);
  ASSERT_THAT(polygons, SizeIs(1));
  ExpectFrame(polygons[0]);
}

TEST(ZoneHoles, GeoJsonPolygonAndMultiPolygonWithHoles) {
  absl::StatusOr<ImportResult> r = ImportZones(
      GeoJson(absl::StrCat(R"({"type": "Polygon", "coordinates": [)", kOuter,
                           ", ", kHole, "]}")),
      Flat(ZoneFormat::kGeoJson));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->errors, IsEmpty());
  std::vector<geo::Polygon> polygons = Polygons(*r);
  ASSERT_THAT(polygons, SizeIs(1));
  ExpectFrame(polygons[0]);

  // Two polygons, the first with its hole: two volumes.
  r = ImportZones(
      GeoJson(absl::StrCat(
          R"({"type": "MultiPolygon", "coordinates": [[)", kOuter, ", ", kHole,
          R"(], [[[8.1, 47.0], [8.11, 47.0], [8.11, 47.01], [8.1, 47.0]]]]})")),
      Flat(ZoneFormat::kGeoJson));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->errors, IsEmpty());
  polygons = Polygons(*r);
  ASSERT_THAT(polygons, SizeIs(2));
  ExpectFrame(polygons[0]);
  EXPECT_THAT(polygons[1].holes, IsEmpty());
}

TEST(ZoneHoles, BadHoleIsAZoneErrorNamingTheHole) {
  for (const ZoneFormat format : {ZoneFormat::kEd318, ZoneFormat::kEd269}) {
    const std::string rings = absl::StrCat(kOuter, ", ", kBadHole);
    absl::StatusOr<ImportResult> r =
        ImportZones(format == ZoneFormat::kEd318 ? Ed318(rings) : Ed269(rings),
                    Flat(format));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_THAT(r->zones, IsEmpty());
    ASSERT_THAT(r->errors, SizeIs(1));
    EXPECT_EQ(r->errors[0].zone_id, "CTR1");
    EXPECT_THAT(r->errors[0].field, HasSubstr(".holes[0]"));
    EXPECT_EQ(r->errors[0].message, "edge 0 crosses the outer ring at edge 1");
  }
  // A ring that is not an array names the ring.
  absl::StatusOr<ImportResult> r =
      ImportZones(Ed318(absl::StrCat(kOuter, ", 5")), Flat(ZoneFormat::kEd318));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->errors, SizeIs(1));
  EXPECT_THAT(r->errors[0].field, HasSubstr("coordinates[1]"));
}

TEST(ZoneHoles, ExportWritesHolesAsLaterRingsAndReadsThemBack) {
  absl::StatusOr<ImportResult> r = ImportZones(
      Ed318(absl::StrCat(kOuter, ", ", kHole)), Flat(ZoneFormat::kEd318));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->zones, SizeIs(1));
  const std::string exported = ExportGeoJson({r->zones[0].constraint});
  const Json out = Json::parse(exported);
  const Json& coordinates = out["features"][0]["geometry"]["coordinates"];
  ASSERT_EQ(coordinates.size(), 2u);
  EXPECT_EQ(coordinates[1].size(), 5u);  // closed
  EXPECT_EQ(coordinates[1][0], coordinates[1][4]);
  EXPECT_EQ(coordinates[1][1], Json::parse("[8.008, 47.012]"));

  absl::StatusOr<ImportResult> back =
      ImportZones(exported, Flat(ZoneFormat::kAuto));
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_THAT(back->errors, IsEmpty());
  const std::vector<geo::Polygon> polygons = Polygons(*back);
  ASSERT_THAT(polygons, SizeIs(1));
  ExpectFrame(polygons[0]);
}

// ---- The real Swiss national subset

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ZoneHoles, SwissNationalSubsetHoledAndLargeZonesAreAccepted) {
  const std::string path = absl::StrCat(
      UTM_SHARED_DATA_DIR, "/geozones/ed318/che-swiss-national-subset.json");
  const std::optional<std::string> text = ReadFile(path);
  if (!text) {
    GTEST_SKIP() << "shared sample data not found: " << path
                 << " (expected beside the repository in ../shared/data)";
  }
  // The zones this test is about, straight from the file.
  const Json file = Json::parse(*text);
  std::set<std::string> holed, large;
  for (const Json& f : file["features"]) {
    const Json& g = f["geometry"];
    if (g["type"] != "Polygon") continue;
    size_t vertices = 0;
    for (const Json& ring : g["coordinates"]) vertices += ring.size();
    const std::string id = f["properties"]["identifier"];
    if (g["coordinates"].size() > 1) holed.insert(id);
    if (vertices >= 2000) large.insert(id);
  }
  EXPECT_EQ(holed.size(), 8u);
  EXPECT_EQ(large.size(), 3u);

  absl::StatusOr<ImportResult> r = ImportZones(*text, Flat(ZoneFormat::kAuto));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->format, ZoneFormat::kEd318);
  // Whatever else a zone may lack (schedules are another matter), nothing
  // about the geometry of these zones is refused...
  for (const ZoneError& e : r->errors) {
    if (holed.count(e.zone_id) || large.count(e.zone_id)) {
      EXPECT_THAT(e.field, ::testing::Not(HasSubstr("geometry")))
          << ToString(e);
      std::cout << "refused for another reason: " << ToString(e) << "\n";
    }
  }
  // ...and each one that imports keeps its rings.
  int seen = 0;
  for (const ImportedZone& z : r->zones) {
    const std::string& id = z.constraint.source().original_id();
    if (!holed.count(id) && !large.count(id)) continue;
    ++seen;
    const geo::Polygon p =
        PolygonFromProto(z.constraint.volumes(0).volume().outline_polygon());
    EXPECT_EQ(!p.holes.empty(), holed.count(id) > 0) << id;
    if (large.count(id)) {
      EXPECT_GE(geo::VertexCount(p), 2000u) << id;
    }
  }
  // The geometry of every such zone, checked directly with the server's
  // limits, whatever happens to the rest of the zone.
  for (const Json& f : file["features"]) {
    const std::string id = f["properties"]["identifier"];
    if (!holed.count(id) && !large.count(id)) continue;
    geo::Polygon p;
    const Json& rings = f["geometry"]["coordinates"];
    for (size_t i = 0; i < rings.size(); ++i) {
      std::vector<geo::LatLng> ring;
      for (const Json& pos : rings[i]) {
        const geo::LatLng v{pos[1].get<double>(), pos[0].get<double>()};
        if (ring.empty() || ring.back() != v) ring.push_back(v);
      }
      if (ring.size() > 1 && ring.back() == ring.front()) ring.pop_back();
      if (i == 0) {
        p.vertices = std::move(ring);
      } else {
        p.holes.push_back(std::move(ring));
      }
    }
    const absl::Status s = geo::ValidatePolygon(p, ConstraintValidationLimits(),
                                                absl::StrCat(id, ".geometry"));
    EXPECT_TRUE(s.ok()) << s;
  }
  std::cout << "holed and large zones imported: " << seen << " of "
            << holed.size() + large.size() << "\n";
}

}  // namespace
}  // namespace utm::zones
