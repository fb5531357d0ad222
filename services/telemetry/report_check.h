// The checks a position report passes before the telemetry core uses it:
// ids, time (not too old, not too far ahead of the server clock), position,
// altitude reference and range, finite and plausible velocity, accuracy.
// The same for every report, whichever replica receives it.
//
// Thread-safe: a pure function.
#ifndef UTM_SERVICES_TELEMETRY_REPORT_CHECK_H_
#define UTM_SERVICES_TELEMETRY_REPORT_CHECK_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "geo/latlng.h"
#include "services/telemetry/telemetry_core.h"
#include "utm/v1/telemetry.pb.h"

namespace utm::telemetry {

// What a valid report says, parsed.
struct CheckedReport {
  absl::Time time;
  geo::LatLng position;
  double altitude_m = 0;  // W84
  double h_accuracy_m = 0, v_accuracy_m = 0;
};

// Checks `r` against the options at server time `now`. INVALID_ARGUMENT
// whose message is "<field>: <problem>" (the caller prefixes the report's
// place, "reports[3]."), e.g. "altitude.reference: must be W84 ...".
absl::StatusOr<CheckedReport> CheckReport(const v1::PositionReport& r,
                                          const TelemetryOptions& o,
                                          absl::Time now);

}  // namespace utm::telemetry

#endif  // UTM_SERVICES_TELEMETRY_REPORT_CHECK_H_
