// Fuzz target: a regulator's zone file in one format (UTM_FUZZ_ZONE_FORMAT,
// set per target in CMakeLists.txt), as `utmctl geofence import` reads it.
// Whatever converts must export to GeoJSON and import back, every zone.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "services/constraint/import/zone_import.h"

#ifndef UTM_FUZZ_ZONE_FORMAT
#error "UTM_FUZZ_ZONE_FORMAT must name a utm::zones::ZoneFormat"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string content(reinterpret_cast<const char*>(data), size);
  (void)utm::zones::DetectZoneFormat(content);
  utm::zones::ImportOptions options;
  options.format = utm::zones::ZoneFormat::UTM_FUZZ_ZONE_FORMAT;
  const absl::StatusOr<utm::zones::ImportResult> result =
      utm::zones::ImportZones(content, options);
  if (result.ok() && !result->zones.empty()) {
    std::vector<utm::v1::Constraint> constraints;
    for (const auto& z : result->zones) constraints.push_back(z.constraint);
    utm::zones::ImportOptions again;
    again.format = utm::zones::ZoneFormat::kGeoJson;
    const std::string exported = utm::zones::ExportGeoJson(constraints);
    const absl::StatusOr<utm::zones::ImportResult> back =
        utm::zones::ImportZones(exported, again);
    if (!back.ok() || back->zones.size() != result->zones.size()) {
      std::fprintf(stderr, "export does not import back (%zu zones): %s\n%s\n",
                   result->zones.size(), back.status().ToString().c_str(),
                   exported.c_str());
      std::abort();
    }
  }
  return 0;
}
