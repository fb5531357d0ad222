#include "services/telemetry/report_check.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "geo/volume.h"
#include "services/common/input_limits.h"
#include "services/common/volume_convert.h"

namespace utm::telemetry {
namespace {

absl::Status Fail(absl::string_view field, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", message));
}

}  // namespace

absl::StatusOr<CheckedReport> CheckReport(const v1::PositionReport& r,
                                          const TelemetryOptions& o,
                                          absl::Time now) {
  // Ids are echoed in alerts and kept with the track.
  absl::Status ids = CheckRequiredId(r.aircraft_id(), "aircraft_id");
  if (ids.ok()) ids = CheckId(r.intent_id(), "intent_id");
  if (!ids.ok()) return ids;
  if (!r.has_time()) {
    return Fail("time", "required");
  }
  absl::StatusOr<absl::Time> t = TimeFromProto(r.time(), "time");
  if (!t.ok()) {
    return Fail("time", t.status().message());
  }
  if (*t < now - o.max_report_age) {
    return Fail("time", absl::StrCat("older than ",
                                     absl::FormatDuration(o.max_report_age)));
  }
  if (*t > now + o.max_report_lead) {
    return Fail("time", "in the future");
  }
  if (!r.has_position()) {
    return Fail("position", "required");
  }
  const geo::LatLng p{r.position().lat_deg(), r.position().lng_deg()};
  if (absl::Status s = geo::ValidateLatLng(p, "position"); !s.ok()) {
    return Fail("position", s.message());
  }
  if (!r.has_altitude() ||
      r.altitude().reference() != v1::ALTITUDE_REFERENCE_W84) {
    return Fail("altitude.reference",
                absl::StrCat("must be W84 (metres above WGS84), not ",
                             r.altitude().reference()));
  }
  const double alt = r.altitude().value_m();
  if (!(alt > -1000 && alt < 50000)) {
    return Fail("altitude.value_m", "outside [-1000, 50000]");
  }
  const v1::Velocity& v = r.velocity();
  if (!std::isfinite(v.north_mps())) {
    return Fail("velocity.north_mps", "not finite");
  }
  if (!std::isfinite(v.east_mps())) {
    return Fail("velocity.east_mps", "not finite");
  }
  if (!std::isfinite(v.up_mps())) {
    return Fail("velocity.up_mps", "not finite");
  }
  // Above the speed limit is tracked (and flagged); only a speed no
  // aircraft flies is refused.
  if (const double h = std::hypot(v.north_mps(), v.east_mps());
      h > o.max_plausible_speed_mps) {
    return Fail("velocity",
                absl::StrFormat("horizontal speed %.1f m/s is above %.0f m/s, "
                                "faster than any aircraft near drones flies",
                                h, o.max_plausible_speed_mps));
  }
  if (std::abs(v.up_mps()) > o.max_plausible_speed_mps) {
    return Fail(
        "velocity.up_mps",
        absl::StrFormat("vertical speed %.1f m/s is above %.0f m/s, "
                        "faster than any aircraft near drones climbs or "
                        "descends",
                        std::abs(v.up_mps()), o.max_plausible_speed_mps));
  }
  const double hacc = r.accuracy().horizontal_m();
  const double vacc = r.accuracy().vertical_m();
  if (!(hacc >= 0 && hacc < 10000) || !(vacc >= 0 && vacc < 10000)) {
    return Fail("accuracy", "negative, not finite or over 10 km");
  }
  CheckedReport out;
  out.time = *t;
  out.position = p;
  out.altitude_m = alt;
  out.h_accuracy_m = hacc;
  out.v_accuracy_m = vacc;
  return out;
}

}  // namespace utm::telemetry
