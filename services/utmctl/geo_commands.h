// `utmctl geo ...`: offline checks of volume files against the geometry core,
// with no server involved.
//
// A volume file is the protobuf JSON of a FileIntentRequest, e.g.
//   {"priority": 0, "volumes": [{"volume": {...}, "timeStart": "...", ...}]}
// or GeoJSON with altitude and time properties (volume_file.h).
#ifndef UTM_SERVICES_UTMCTL_GEO_COMMANDS_H_
#define UTM_SERVICES_UTMCTL_GEO_COMMANDS_H_

#include <string>
#include <vector>

#include "services/utmctl/volume_file.h"

namespace utm::ctl {

// Exit codes scripts can rely on (also in docs/utmctl.md).
inline constexpr int kExitOk = 0;        // valid / no conflict
inline constexpr int kExitConflict = 1;  // the volumes intersect
inline constexpr int kExitInvalid = 2;   // a file failed validation
inline constexpr int kExitUsage = 64;    // bad command line (CLI11)
inline constexpr int kExitIo = 66;       // a file could not be read/parsed

struct GeoOptions {
  bool json = false;
  VolumeFileOptions input;
};

// Validates every volume of every file.
int GeoCheck(const std::vector<std::string>& files, const GeoOptions& options);

// Reports every pair of intersecting volumes between two files, with the
// overlapping time window and altitude band.
int GeoIntersect(const std::string& a, const std::string& b,
                 const GeoOptions& options);

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_GEO_COMMANDS_H_
