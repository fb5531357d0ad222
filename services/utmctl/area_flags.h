// The area of the utmctl commands that query or watch a region
// (`constraint query|watch`, `telemetry watch`): the first volume of a volume
// file, a "minlat,minlng,maxlat,maxlng" box or a "lat,lng,radius_m" circle,
// optionally limited to an altitude band. Unset bounds (altitudes, times) are
// left open: the servers read them as unbounded.
//
// Typical usage:
//   AreaFlags flags;
//   flags.bbox = "46.75,9.40,46.95,9.66";
//   v1::Volume4D area;
//   if (int code = ReadArea(flags, /*with_circle=*/false, &area); code != 0)
//     return code;
#ifndef UTM_SERVICES_UTMCTL_AREA_FLAGS_H_
#define UTM_SERVICES_UTMCTL_AREA_FLAGS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "utm/v1/common.pb.h"

namespace utm::ctl {

struct AreaFlags {
  std::string file;      // --area: volume file whose first volume is the area
  std::string bbox;      // --bbox: minlat,minlng,maxlat,maxlng (degrees)
  std::string circle;    // --circle: lat,lng,radius_m (degrees, metres)
  std::string altitude;  // --alt-m: lower,upper (metres above WGS84)
};

// Fills `area` from exactly one of file, bbox and circle (circle only when
// `with_circle`; the message names only the flags offered) and the altitude
// band when given. Returns 0, or the exit code after printing why on stderr
// (64 for a bad flag, 66 for an unreadable file, 2 for a file without a
// volume).
int ReadArea(const AreaFlags& flags, bool with_circle, v1::Volume4D* area);

// Parses exactly `n` comma-separated finite numbers ("47.4, 8.55,150").
bool ParseNumbers(const std::string& text, size_t n, std::vector<double>* out);

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_AREA_FLAGS_H_
