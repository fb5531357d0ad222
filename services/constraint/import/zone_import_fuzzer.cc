// libFuzzer entry point for the zone importers (clang only):
//   cmake -DCMAKE_CXX_COMPILER=clang++-14 ... && ninja zone_import_fuzzer
//   zone_import_fuzzer -max_total_time=60 CORPUS_DIR ../shared/data/geozones/*/
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "services/constraint/import/zone_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string content(reinterpret_cast<const char*>(data), size);
  utm::zones::ImportOptions options;
  const absl::StatusOr<utm::zones::ImportResult> result =
      utm::zones::ImportZones(content, options);
  if (result.ok()) {
    std::vector<utm::v1::Constraint> constraints;
    for (const auto& z : result->zones) constraints.push_back(z.constraint);
    (void)utm::zones::ImportZones(utm::zones::ExportGeoJson(constraints),
                                  options);
  }
  return 0;
}
