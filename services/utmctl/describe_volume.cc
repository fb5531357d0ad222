#include "services/utmctl/describe_volume.h"

#include "absl/strings/str_format.h"
#include "services/utmctl/channel.h"

namespace utm::ctl {

std::string DescribeVolume(const v1::Volume4D& v) {
  std::string where;
  if (v.volume().has_outline_circle()) {
    const v1::Circle& c = v.volume().outline_circle();
    where = absl::StrFormat("circle of %.1f m around %.6f,%.6f", c.radius_m(),
                            c.center().lat_deg(), c.center().lng_deg());
  } else {
    const v1::Polygon& p = v.volume().outline_polygon();
    where = absl::StrFormat("polygon of %d vertices", p.vertices_size());
    if (p.holes_size() > 0) {
      absl::StrAppendFormat(&where, " with %d hole%s", p.holes_size(),
                            p.holes_size() == 1 ? "" : "s");
    }
  }
  return absl::StrFormat(
      "%s, %.1f m to %.1f m above WGS84, from %s to %s", where,
      v.volume().altitude_lower().value_m(),
      v.volume().altitude_upper().value_m(),
      v.has_time_start() ? Rfc3339(v.time_start()) : "(unbounded)",
      v.has_time_end() ? Rfc3339(v.time_end()) : "(unbounded)");
}

}  // namespace utm::ctl
