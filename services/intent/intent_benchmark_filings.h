// Filings for the intent benchmarks: spot k of a grid, so that each filing
// pays the full path and none conflicts.
#ifndef UTM_SERVICES_INTENT_INTENT_BENCHMARK_FILINGS_H_
#define UTM_SERVICES_INTENT_INTENT_BENCHMARK_FILINGS_H_

#include <cstdint>

#include "absl/time/time.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "services/intent/intent_core.h"

namespace utm::intent::benchmarking {

inline const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

// Spot k of a 1,000 x 1,000 grid, 100 m apart (100 km x 100 km), 40 m
// circles, each million spots an hour later.
inline FileRequest GridFiling(int64_t k) {
  const double east = static_cast<double>(k % 1000) * 100.0;
  const double north = static_cast<double>((k / 1000) % 1000) * 100.0;
  const geo::LatLng centre = geo::GeodesicDestination(
      geo::GeodesicDestination(geo::test_util::kZurich, 90, east), 0, north);
  const absl::Time start = kNow + absl::Minutes(10 + (k / 1'000'000) * 60);
  FileRequest request;
  request.volumes.push_back(
      geo::Volume4D{geo::Volume3D{geo::Circle{centre, 40}, {500, 620}},
                    {start, start + absl::Minutes(30)}});
  return request;
}

}  // namespace utm::intent::benchmarking

#endif  // UTM_SERVICES_INTENT_INTENT_BENCHMARK_FILINGS_H_
