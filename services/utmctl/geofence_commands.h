// `utmctl geofence ...`: import regulators' zone files (ED-269, ED-318,
// GeoJSON, XNOTAM) into utmd as constraints, convert them offline, and
// export the constraints of an area as GeoJSON for aircraft to carry.
// docs/utmctl.md lists the flags and exit codes; docs/zones.md the formats.
#ifndef UTM_SERVICES_UTMCTL_GEOFENCE_COMMANDS_H_
#define UTM_SERVICES_UTMCTL_GEOFENCE_COMMANDS_H_

#include <optional>
#include <string>

#include "services/utmctl/connection.h"
#include "services/utmctl/vertical_flags.h"

namespace utm::ctl {

// Exit codes beyond those in intent_commands.h.
inline constexpr int kExitZonesFailed = 7;  // some zones failed; rest done
inline constexpr int kExitDataErr = 65;     // EX_DATAERR: unparseable file

// The connection flags (import, export), and how zone files are read.
struct GeofenceOptions : ConnectionOptions {
  // Reading zone files (import, convert).
  std::string format = "auto";  // auto, ed269, ed318, geojson, xnotam
  VerticalFlags vertical;       // geoid, DEM or ground height
  // Plain GeoJSON defaults: type, reference of bare heights, limits.
  std::string geojson_type = "prohibited";
  std::string geojson_reference = "agl";
  std::optional<double> lower_m, upper_m;
  bool dry_run = false;  // import: parse and validate only
  bool geojson = false;  // convert: GeoJSON instead of proto JSON
};

// Publishes every zone of FILE; idempotent per (file name, zone id).
int GeofenceImport(const GeofenceOptions& options, const std::string& file);
// Prints the constraints FILE converts to, one proto JSON per line (or a
// GeoJSON FeatureCollection); no server.
int GeofenceConvert(const GeofenceOptions& options, const std::string& file);
// Queries the constraints in an area (the first volume of `area_file`, or
// `bbox` "minlat,minlng,maxlat,maxlng") and writes GeoJSON to `out` ("" or
// "-": stdout).
int GeofenceExport(const GeofenceOptions& options, const std::string& area_file,
                   const std::string& bbox, const std::string& out);

// The request_id for publishing a zone: a name-based UUID (RFC 4122 version
// 5) of the data set and the zone's original id, so a re-run is idempotent.
std::string ZoneRequestId(const std::string& dataset,
                          const std::string& original_id);

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_GEOFENCE_COMMANDS_H_
