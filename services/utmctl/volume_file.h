// Reading volume files for utmctl: our protobuf JSON (a FileIntentRequest)
// or GeoJSON — a FeatureCollection, a Feature, or an openutm Flight Blender
// flight declaration (`flight_declaration_geo_json`) — with altitude and time
// properties per feature:
//   "min_altitude": {"meters": 100, "datum": "w84"}   ("metres" also read)
//   "max_altitude": {"meters": 150, "datum": "agl"}   (w84, amsl or agl)
//   "start_datetime" / "end_datetime"  (or start_time / end_time; RFC 3339)
// Geometry: Polygon (one ring; the closing vertex is dropped) or Point with
// "radius_m". AMSL and AGL altitudes become metres above WGS84 through the
// caller's ElevationModel (utmctl: the EGM96 geoid, and a DEM or --ground-m
// for the ground): the lower altitude over the lowest and the upper over the
// highest surface under the footprint, so the volume holds the stated band
// everywhere. Without a terrain source AGL is refused, never guessed.
#ifndef UTM_SERVICES_UTMCTL_VOLUME_FILE_H_
#define UTM_SERVICES_UTMCTL_VOLUME_FILE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/constraint/import/zone_import.h"
#include "utm/v1/strategic.pb.h"

namespace utm::ctl {

struct VolumeFileOptions {
  // Geoid and ground heights for AMSL and AGL altitudes. Not owned.
  // DEFAULT (null): only W84 altitudes are read.
  const zones::ElevationModel* elevation = nullptr;
};

struct VolumeFile {
  v1::FileIntentRequest request;
  // How the file names its volumes in error messages: "volumes" for our
  // JSON, "features" for GeoJSON (same order).
  std::string list_name = "volumes";
};

// NOT_FOUND: cannot open. DATA_LOSS: neither format; text that is not JSON
// at all is named by line and column ("f.json:3:7: not JSON: syntax error
// ..."). INVALID_ARGUMENT: a field is missing or unusable (the message names
// it).
absl::StatusOr<VolumeFile> ReadVolumeFile(const std::string& path,
                                          const VolumeFileOptions& options);

// OK if `text` (read from `path`) is JSON; else DATA_LOSS naming the place:
// "f.json:3:7: not JSON: syntax error ...".
absl::Status CheckJsonSyntax(const std::string& path, const std::string& text);

// The 1-based line and column of the `byte`-th byte (1-based, as
// nlohmann::json::parse_error::byte counts) of `text`; columns count bytes.
std::pair<int, int> LineColumn(absl::string_view text, size_t byte);

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_VOLUME_FILE_H_
