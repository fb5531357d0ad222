// Reading volume files for utmctl: our protobuf JSON (a FileIntentRequest)
// or GeoJSON — a FeatureCollection, a Feature, or an openutm Flight Blender
// flight declaration (`flight_declaration_geo_json`) — with altitude and time
// properties per feature:
//   "min_altitude": {"meters": 100, "datum": "w84"}   ("metres" also read)
//   "max_altitude": {"meters": 150, "datum": "agl"}   (needs --ground-m)
//   "start_datetime" / "end_datetime"  (or start_time / end_time; RFC 3339)
// Geometry: Polygon (one ring; the closing vertex is dropped) or Point with
// "radius_m". AGL altitudes become metres above WGS84 by adding the ground
// elevation the caller gives (one value for the whole file: a simple model,
// stated on purpose); AMSL needs a geoid model and is refused.
#ifndef UTM_SERVICES_UTMCTL_VOLUME_FILE_H_
#define UTM_SERVICES_UTMCTL_VOLUME_FILE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "utm/v1/strategic.pb.h"

namespace utm::ctl {

struct VolumeFileOptions {
  // Ground elevation, metres above WGS84, for AGL altitudes.
  std::optional<double> ground_m;
};

struct VolumeFile {
  v1::FileIntentRequest request;
  // How the file names its volumes in error messages: "volumes" for our
  // JSON, "features" for GeoJSON (same order).
  std::string list_name = "volumes";
};

// NOT_FOUND: cannot open. DATA_LOSS: neither format. INVALID_ARGUMENT: a
// field is missing or unusable (the message names it).
absl::StatusOr<VolumeFile> ReadVolumeFile(const std::string& path,
                                          const VolumeFileOptions& options);

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_VOLUME_FILE_H_
