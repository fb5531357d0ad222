// What an import produces, the server accepts: every zone the importers make
// from the sample files and fixtures passes the server's field caps and enum
// checks (constraint_validation.h), so a real zone file never meets a cap
// only at publish time.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/constraint/constraint_validation.h"
#include "services/constraint/import/zone_import.h"

namespace utm::zones {
namespace {

TEST(ZoneCaps, SampleZonesFitTheServersCaps) {
  int zones = 0;
  for (const std::string& dir :
       {absl::StrCat(UTM_SHARED_DATA_DIR, "/geozones/ed269"),
        absl::StrCat(UTM_SHARED_DATA_DIR, "/geozones/ed318"),
        absl::StrCat(UTM_SHARED_DATA_DIR, "/geozones/geojson"),
        std::string(UTM_ZONE_TESTDATA_DIR)}) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      ImportOptions options;
      options.dataset = entry.path().string();
      absl::StatusOr<ImportResult> r = ImportZones(text.str(), options);
      if (!r.ok()) continue;  // not a zone file (schemas, licences)
      for (const ImportedZone& z : r->zones) {
        ++zones;
        const absl::Status s =
            constraint::CheckConstraintFields(z.constraint, "constraint");
        EXPECT_TRUE(s.ok()) << entry.path() << " " << z.field << ": " << s;
      }
    }
  }
  if (zones == 0) GTEST_SKIP() << "no sample zones found";
  std::cout << zones << " zones checked\n";
}

}  // namespace
}  // namespace utm::zones
