// National-scale zone sets through the importer: a generated set of 1,200+
// zones (sim/zone_set.h) in which every zone must be accounted for, and,
// when ../shared/data is present, 47 zones of the Swiss national ED-318 set
// with their features unmodified.
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/constraint/import/zone_import.h"
#include "sim/zone_set.h"

namespace utm {
namespace {

using sim::GeneratedZone;
using sim::ZoneDefect;
using sim::ZoneSchedule;
using sim::ZoneShape;
using zones::ImportedZone;
using zones::ImportResult;
using zones::ZoneError;

// Ground 500 m above mean sea level, geoid 48 m: about the Swiss Plateau.
const zones::ConstantElevation kPlateau(500, 48);

ImportResult Import(const std::string& text) {
  zones::ImportOptions options;
  options.dataset = "national.json";
  options.elevation = &kPlateau;
  absl::StatusOr<ImportResult> result = zones::ImportZones(text, options);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *std::move(result) : ImportResult();
}

// Messages of each refused zone, by zone id.
std::map<std::string, std::vector<std::string>> Refusals(
    const ImportResult& r) {
  std::map<std::string, std::vector<std::string>> out;
  for (const ZoneError& e : r.errors) {
    out[e.zone_id].push_back(zones::ToString(e));
  }
  return out;
}

bool AllContain(const std::vector<std::string>& messages,
                absl::string_view fragment) {
  for (const std::string& m : messages) {
    if (!absl::StrContains(m, fragment)) return false;
  }
  return !messages.empty();
}

TEST(NationalImport, EveryGeneratedZoneIsImportedOrRefusedForItsDefect) {
  sim::ZoneSetOptions o;
  o.zones = 1250;
  o.seed = 20261206;
  SCOPED_TRACE(absl::StrCat("seed ", o.seed));
  const sim::ZoneSet set = sim::GenerateZoneSet(o);
  ASSERT_EQ(set.manifest.size(), 1250u);
  const ImportResult r = Import(set.json);
  EXPECT_EQ(r.format, zones::ZoneFormat::kEd318);
  EXPECT_EQ(r.zones_in_file, 1250);

  std::map<std::string, const ImportedZone*> imported;
  for (const ImportedZone& z : r.zones) {
    EXPECT_TRUE(
        imported.emplace(z.constraint.source().original_id(), &z).second)
        << "imported twice: " << z.constraint.source().original_id();
  }
  const std::map<std::string, std::vector<std::string>> refused = Refusals(r);
  // Counts add up: each zone is exactly one of imported, refused.
  EXPECT_EQ(imported.size() + refused.size(), set.manifest.size());

  int large_refused = 0, all_day = 0, weekdays = 0;
  std::map<ZoneShape, int> shapes;
  for (const GeneratedZone& g : set.manifest) {
    SCOPED_TRACE(g.id);
    const bool in = imported.count(g.id) > 0;
    const auto errors = refused.find(g.id);
    ASSERT_NE(in, errors != refused.end()) << "neither or both";
    switch (g.defect) {
      case ZoneDefect::kCrossingEdges:
        EXPECT_TRUE(!in && AllContain(errors->second, "edges 0 and 2 cross"))
            << (in ? "imported" : absl::StrJoin(errors->second, "\n"));
        continue;
      case ZoneDefect::kSunrise:
        EXPECT_TRUE(!in && AllContain(errors->second,
                                      "daylight events (sunrise, sunset, "
                                      "twilight) are not supported"))
            << (in ? "imported" : absl::StrJoin(errors->second, "\n"));
        continue;
      case ZoneDefect::kHole:
      case ZoneDefect::kNone:
        break;
    }
    if (!in && g.shape == ZoneShape::kLargePolygon) {
      // Polygons of thousands of vertices are within the constraint
      // service's 20,000-vertex limit: none may be refused.
      ADD_FAILURE() << g.id << ": " << absl::StrJoin(errors->second, "\n");
      ++large_refused;
      continue;
    }
    if (!in && g.defect == ZoneDefect::kHole) {
      EXPECT_TRUE(AllContain(errors->second, "holes"))
          << absl::StrJoin(errors->second, "\n");
      continue;
    }
    ASSERT_TRUE(in) << absl::StrJoin(errors->second, "\n");
    ++shapes[g.shape];
    const v1::Constraint& c = imported[g.id]->constraint;
    ASSERT_EQ(c.volumes_size(), 1);
    EXPECT_EQ(c.volumes(0).volume().has_outline_circle(),
              g.shape == ZoneShape::kCircle);
    if (g.shape != ZoneShape::kCircle) {
      EXPECT_EQ(c.volumes(0).volume().outline_polygon().vertices_size(),
                g.vertices);
    }
    switch (g.schedule) {
      case ZoneSchedule::kAllDay: {
        ++all_day;
        // "00:00"-"00:00" every day in UTC+1: the whole day.
        ASSERT_EQ(c.schedule().weekly_size(), 1);
        const v1::WeeklyWindow& w = c.schedule().weekly(0);
        EXPECT_EQ(w.days_size(), 7);
        EXPECT_EQ(w.start_second_of_day(), 0);
        EXPECT_EQ(w.end_second_of_day(), 86400);
        EXPECT_EQ(c.schedule().time_zone(), "Etc/GMT-1");
        break;
      }
      case ZoneSchedule::kWeekdays:
        ++weekdays;
        ASSERT_EQ(c.schedule().weekly_size(), 1);
        EXPECT_EQ(c.schedule().weekly(0).days_size(), 5);
        EXPECT_EQ(c.schedule().weekly(0).end_second_of_day(), 18 * 3600);
        break;
      case ZoneSchedule::kDated:
        EXPECT_TRUE(c.schedule().absolute().has_start());
        EXPECT_EQ(c.schedule().weekly_size(), 0);
        break;
      case ZoneSchedule::kPermanent:
        EXPECT_FALSE(c.has_schedule());
        break;
    }
    EXPECT_FALSE(c.source().original_altitude_lower().empty());
  }
  // The set has what it claims: a mix, every kind present.
  EXPECT_GT(shapes[ZoneShape::kCircle], 300);
  EXPECT_GT(shapes[ZoneShape::kPolygon], 500);
  EXPECT_GT(all_day, 200);
  EXPECT_GT(weekdays, 100);
  EXPECT_EQ(shapes[ZoneShape::kLargePolygon], 6);
  EXPECT_EQ(large_refused, 0);
  // Nothing is refused for its schedule but the sunrise-bound zones.
  for (const ZoneError& e : r.errors) {
    if (absl::StrContains(e.field, "limitedApplicability")) {
      EXPECT_THAT(e.message, ::testing::HasSubstr("daylight events"))
          << zones::ToString(e);
    }
  }
}

TEST(NationalImport, GenerationIsDeterministic) {
  sim::ZoneSetOptions o;
  o.zones = 200;
  o.large_polygons = 1;
  o.polygons_with_holes = 3;
  o.seed = 7;
  EXPECT_EQ(sim::GenerateZoneSet(o).json, sim::GenerateZoneSet(o).json);
  const sim::ZoneSet other = [&] {
    sim::ZoneSetOptions p = o;
    p.seed = 8;
    return sim::GenerateZoneSet(p);
  }();
  EXPECT_NE(sim::GenerateZoneSet(o).json, other.json);
  // The holed polygons carry an inner ring.
  const nlohmann::json root =
      nlohmann::json::parse(sim::GenerateZoneSet(o).json);
  int holed = 0;
  for (const nlohmann::json& f : root["features"]) {
    if (f["geometry"]["type"] == "Polygon" &&
        f["geometry"]["coordinates"].size() == 2) {
      ++holed;
    }
  }
  EXPECT_EQ(holed, 3);
}

// Polygons with holes (inner rings) import like any other.
TEST(NationalImport, HoledPolygonsImport) {
  sim::ZoneSetOptions o;
  o.zones = 60;
  o.large_polygons = 0;
  o.malformed = 0;
  o.polygons_with_holes = 5;
  o.seed = 11;
  const sim::ZoneSet set = sim::GenerateZoneSet(o);
  const ImportResult r = Import(set.json);
  const auto refused = Refusals(r);
  EXPECT_EQ(r.zones.size() + refused.size(), 60u);
  int holed = 0;
  for (const GeneratedZone& g : set.manifest) {
    if (g.defect != ZoneDefect::kHole) {
      EXPECT_EQ(refused.count(g.id), 0u) << g.id;
      continue;
    }
    ++holed;
    if (const auto it = refused.find(g.id); it != refused.end()) {
      ADD_FAILURE() << g.id << ": " << absl::StrJoin(it->second, "\n");
    }
  }
  EXPECT_EQ(holed, 5);
}

std::optional<std::string> ReadShared(const std::string& relative) {
  std::ifstream in(absl::StrCat(UTM_SHARED_DATA_DIR, "/", relative),
                   std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(NationalImport, SwissNationalSubsetImportsWhole) {
  const std::string path = "geozones/ed318/che-swiss-national-subset.json";
  const std::optional<std::string> text = ReadShared(path);
  if (!text) {
    GTEST_SKIP() << "shared sample data not found: " << UTM_SHARED_DATA_DIR
                 << "/" << path << " (expected beside the repository)";
  }
  const ImportResult r = Import(*text);
  EXPECT_EQ(r.format, zones::ZoneFormat::kEd318);
  ASSERT_EQ(r.zones_in_file, 47);
  const auto refused = Refusals(r);
  EXPECT_EQ(r.zones.size() + refused.size(), 47u);

  // The zones whose daily period is "00:00"-"00:00", from the file itself.
  const nlohmann::json root = nlohmann::json::parse(*text);
  std::set<std::string> all_day;
  for (const nlohmann::json& f : root["features"]) {
    for (const nlohmann::json& a : f["properties"].value(
             "limitedApplicability", nlohmann::json::array())) {
      for (const nlohmann::json& d :
           a.value("schedule", nlohmann::json::array())) {
        if (absl::StartsWith(d.value("startTime", ""), "00:00") &&
            absl::StartsWith(d.value("endTime", ""), "00:00")) {
          all_day.insert(f["properties"]["identifier"].get<std::string>());
        }
      }
    }
  }
  EXPECT_EQ(all_day.size(), 7u);
  // Every zone imports: all-day schedules, polygons with holes, polygons of
  // up to 4,695 vertices included.
  for (const ZoneError& e : r.errors) ADD_FAILURE() << zones::ToString(e);
  EXPECT_EQ(r.zones.size(), 47u);
  int all_day_imported = 0;
  for (const ImportedZone& z : r.zones) {
    if (all_day.count(z.constraint.source().original_id()) == 0) continue;
    ++all_day_imported;
    ASSERT_EQ(z.constraint.schedule().weekly_size(), 1);
    EXPECT_EQ(z.constraint.schedule().weekly(0).start_second_of_day(), 0);
    EXPECT_EQ(z.constraint.schedule().weekly(0).end_second_of_day(), 86400);
    EXPECT_EQ(z.constraint.schedule().weekly(0).days_size(), 7);
    EXPECT_EQ(z.constraint.schedule().time_zone(), "Etc/GMT-1");
  }
  EXPECT_EQ(all_day_imported, 7);
}

}  // namespace
}  // namespace utm
