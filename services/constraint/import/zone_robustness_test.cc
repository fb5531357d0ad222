// Hostile input: every sample file and fixture, truncated at many points and
// with random bytes changed, must give a Status or a result — never a crash,
// a hang or an exception. (With clang, zone_import_fuzzer explores further.)
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/constraint/import/zone_import.h"

namespace utm::zones {
namespace {

std::vector<std::pair<std::string, std::string>> Corpus() {
  std::vector<std::pair<std::string, std::string>> files;
  const std::vector<std::string> dirs = {
      absl::StrCat(UTM_SHARED_DATA_DIR, "/geozones/ed269"),
      absl::StrCat(UTM_SHARED_DATA_DIR, "/geozones/ed318"),
      absl::StrCat(UTM_SHARED_DATA_DIR, "/geozones/geojson"),
      UTM_ZONE_TESTDATA_DIR};
  for (const std::string& dir : dirs) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
      if (!entry.is_regular_file()) continue;
      const std::string ext = entry.path().extension().string();
      if (ext != ".json" && ext != ".geojson" && ext != ".xml") continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      files.push_back({entry.path().filename().string(), text.str()});
    }
  }
  return files;
}

// Runs the importer in every format, so that each reader sees each input.
void ImportAllWays(const std::string& content) {
  for (ZoneFormat f :
       {ZoneFormat::kAuto, ZoneFormat::kEd269, ZoneFormat::kEd318,
        ZoneFormat::kGeoJson, ZoneFormat::kXnotam}) {
    ImportOptions options;
    options.format = f;
    absl::StatusOr<ImportResult> r = ImportZones(content, options);
    if (r.ok()) {
      // Whatever imported must export, and the export must read back.
      std::vector<v1::Constraint> constraints;
      for (const ImportedZone& z : r->zones)
        constraints.push_back(z.constraint);
      const absl::StatusOr<ImportResult> back =
          ImportZones(ExportGeoJson(constraints), ImportOptions());
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_EQ(back->zones.size(), r->zones.size());
    } else {
      EXPECT_NE(r.status().code(), absl::StatusCode::kInternal) << r.status();
    }
  }
}

TEST(ZoneRobustness, TruncatedFiles) {
  const auto corpus = Corpus();
  if (corpus.size() < 5) GTEST_SKIP() << "sample data not found";
  for (const auto& [name, content] : corpus) {
    SCOPED_TRACE(name);
    const size_t step = std::max<size_t>(1, content.size() / 150);
    for (size_t n = 0; n < content.size(); n += step) {
      ImportAllWays(content.substr(0, n));
    }
  }
}

TEST(ZoneRobustness, MutatedFiles) {
  const auto corpus = Corpus();
  if (corpus.size() < 5) GTEST_SKIP() << "sample data not found";
  unsigned seed = std::random_device()();
  if (const char* env = std::getenv("ZONE_FUZZ_SEED")) {
    seed = static_cast<unsigned>(std::strtoul(env, nullptr, 10));
  }
  std::cout << "seed " << seed << " (rerun with ZONE_FUZZ_SEED=" << seed
            << ")\n";
  std::mt19937 rng(seed);
  // Bytes that change structure or meaning.
  const std::string interesting = "{}[]<>/\",:-.0123456789eE \n\\NSEWZ+";
  for (const auto& [name, content] : corpus) {
    SCOPED_TRACE(absl::StrCat(name, " seed ", seed));
    if (content.empty()) continue;
    for (int round = 0; round < 200; ++round) {
      std::string mutated = content;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; ++e) {
        const size_t at = rng() % mutated.size();
        switch (rng() % 3) {
          case 0:
            mutated[at] = interesting[rng() % interesting.size()];
            break;
          case 1:
            mutated.erase(at, 1 + rng() % 8);
            break;
          default:
            mutated.insert(at, 1, interesting[rng() % interesting.size()]);
            break;
        }
        if (mutated.empty()) mutated = "{";
      }
      ImportAllWays(mutated);
    }
  }
}

TEST(ZoneRobustness, WrongTypesEverywhere) {
  // Each member of a zone replaced by values of every JSON type.
  const std::vector<std::string> values = {
      "null", "true", "0",  "-1e308", "1e308", "\"\"",     "\"x\"",
      "[]",   "[[]]", "{}", "[null]", "[1,2]", "{\"a\":1}"};
  const std::vector<std::string> templates = {
      R"({"UASZoneList":[{"identifier":"Z","restriction":"PROHIBITED",
         "applicability":[{"startDateTime":"2026-01-01T00:00:00Z",
           "schedule":[{"day":["MON"],"startTime":"10:00Z","endTime":"11:00Z"}]}],
         "zoneAuthority":[{"name":"A","purpose":"AUTHORIZATION"}],
         "geometry":[{"uomDimensions":"M","lowerLimit":0,
           "lowerVerticalReference":"AGL","upperLimit":120,
           "upperVerticalReference":"AGL","horizontalProjection":
           {"type":"Circle","center":[7,46],"radius":100}}]}]})",
      R"({"type":"FeatureCollection","features":[{"type":"Feature",
         "properties":{"identifier":"Z","type":"PROHIBITED","variant":"COMMON",
           "zoneAuthority":[{"purpose":"AUTHORIZATION"}],
           "limitedApplicability":[{"schedule":[{"day":["ANY"]}]}]},
         "geometry":{"type":"GeometryCollection","geometries":[
           {"type":"Point","coordinates":[7,46],
            "extent":{"subType":"Circle","radius":100},
            "layer":{"upper":100,"upperReference":"AGL","lower":0,
                     "lowerReference":"AGL","uom":"m"}}]}}]})",
  };
  for (const std::string& t : templates) {
    // Replace each scalar or container value after a ':' in turn.
    for (size_t at = t.find(':'); at != std::string::npos;
         at = t.find(':', at + 1)) {
      size_t end = at + 1, depth = 0;
      bool in_string = false;
      for (; end < t.size(); ++end) {
        const char ch = t[end];
        if (in_string) {
          if (ch == '"') in_string = false;
          continue;
        }
        if (ch == '"') in_string = true;
        if (ch == '[' || ch == '{') ++depth;
        if (ch == ']' || ch == '}') {
          if (depth == 0) break;
          --depth;
        }
        if (ch == ',' && depth == 0) break;
      }
      for (const std::string& v : values) {
        ImportAllWays(t.substr(0, at + 1) + v + t.substr(end));
      }
    }
  }
}

}  // namespace
}  // namespace utm::zones
