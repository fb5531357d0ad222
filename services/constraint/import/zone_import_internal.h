// What the format readers of zone_import share: JSON accessors that never
// throw, altitude limits and their conversion, weekly schedules, and
// ZoneBuilder, which collects one zone's constraint or its errors. Internal
// to utm_zone_import.
#ifndef UTM_SERVICES_CONSTRAINT_IMPORT_ZONE_IMPORT_INTERNAL_H_
#define UTM_SERVICES_CONSTRAINT_IMPORT_ZONE_IMPORT_INTERNAL_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "geo/volume.h"
#include "nlohmann/json.hpp"
#include "services/constraint/import/zone_import.h"

namespace utm::zones::internal {

using Json = nlohmann::json;

// ---- JSON accessors: null when absent, null or of another type. ----------

// The member `name` of `object` unless absent or null.
const Json* Member(const Json& object, const char* name);
// A number, or a string holding one ("0" in some ED-269 files).
std::optional<double> Number(const Json* value);
std::optional<std::string> String(const Json* value);
// Human text: a string, an array of strings (joined by "; "), or ED-318
// text objects [{"text", "lang"}] (the first English one, else the first).
std::optional<std::string> Text(const Json* value);
// "string", "number", ... for messages.
const char* TypeName(const Json& value);

// ---- Altitude limits -------------------------------------------------------

enum class Unit { kMetre, kFoot, kFlightLevel };

struct Limit {
  enum class Kind {
    kMissing,    // absent or null: SFC for a lower limit, the default top
                 // for an upper one
    kSurface,    // SFC / GND
    kUnlimited,  // UNL
    kValue,
  };
  Kind kind = Kind::kMissing;
  double value = 0;
  Unit unit = Unit::kMetre;
  VerticalReference reference = VerticalReference::kAmsl;
  std::string original;  // as written, e.g. "400 FT AMSL", "FL180", "SFC"
  std::string field;     // path of the value in the file, for errors
};

// "M"/"m", "FT"/"ft", "FL" (case-insensitive).
std::optional<Unit> ParseUnit(absl::string_view text);
// "AGL", "AMSL" (also "MSL"), "WGS84" (also "W84") (case-insensitive).
std::optional<VerticalReference> ParseReference(absl::string_view text);
const char* UnitName(Unit unit);
const char* ReferenceName(VerticalReference reference);
// "0 M AGL", "400 FT AMSL", "FL180", "SFC", "UNL", "none".
std::string Describe(const Limit& limit);

// ---- Schedules -------------------------------------------------------------

// RFC 3339 date-time in years 1-9999 (as the server accepts); nullopt
// otherwise.
std::optional<absl::Time> ParseDateTime(absl::string_view text);
// "HH:MM[:SS[.fff]]" with an optional "Z" or "+hh:mm"/"-hh:mm" suffix: the
// second of the day (0-86400) and the UTC offset in seconds.
struct TimeOfDay {
  int second_of_day = 0;
  int utc_offset_s = 0;
};
std::optional<TimeOfDay> ParseTimeOfDay(absl::string_view text);

// ---- One zone --------------------------------------------------------------

// State shared by the zones of one file.
struct FileContext {
  const ImportOptions* options = nullptr;
  const ElevationModel* elevation = nullptr;
  ZoneFormat format = ZoneFormat::kAuto;
  ImportResult* result = nullptr;
  std::map<std::string, int> id_count;  // occurrences of each original id
};

// Builds one zone's Constraint, collecting every error; Finish() moves it
// into the result as a zone (no error) or as its errors.
class ZoneBuilder {
 public:
  // `id` may be empty: the zone is then "#<index>". `field` is the zone's
  // path in the file ("features[2]").
  ZoneBuilder(FileContext* context, const std::string& id, int index,
              std::string field);

  v1::Constraint& constraint() { return constraint_; }
  const std::string& zone_id() const { return zone_id_; }
  const std::string& field() const { return field_; }
  bool ok() const { return errors_.empty(); }

  void Error(std::string field, std::string message);
  // Records a geo:: validation status: "path: message".
  void Error(const absl::Status& status);
  void Warn(absl::string_view message);
  // The vertical reference in object[name] (ParseReference); when it is
  // missing or not one, records "<field>.<name>: required: AGL, AMSL or
  // WGS84" or "... is not AGL, AMSL or WGS84" and returns nullopt.
  std::optional<VerticalReference> Reference(const Json& object,
                                             const char* name,
                                             const std::string& field);

  // A polygon ring of GeoJSON positions [lng, lat]: drops the closing
  // position and repeated consecutive positions (with a warning). Errors
  // name `field` (the "coordinates" member) and return nullopt.
  std::optional<geo::Polygon> Ring(const Json& ring, const std::string& field);
  // A GeoJSON Polygon's coordinates: the first ring the outer one, later
  // rings holes, each read as by Ring(). Errors name `field[i]` (the ring).
  std::optional<geo::Polygon> Rings(const Json& rings,
                                    const std::string& field);
  // The same for vertices already read: drops a closing repeat of the first
  // vertex and repeated consecutive vertices (with a warning).
  geo::Polygon Clean(std::vector<geo::LatLng> vertices,
                     const std::string& field);

  // Converts, validates and appends one volume, with unbounded time. The
  // footprint's errors name `footprint_field`; a circle's radius
  // `radius_field` (if non-empty).
  void AddVolume(const geo::Footprint& footprint,
                 const std::string& footprint_field,
                 const std::string& radius_field, const Limit& lower,
                 const Limit& upper);

  // Adds weekly windows / an absolute window from ED-269 applicability or
  // ED-318 limitedApplicability (`list`, at `field`): an array of periods,
  // or one period object (the EUROCONTROL geofencing service's form).
  void Applicability(const Json& list, const std::string& field);

  // Checks the schedule as the server does (services/constraint/schedule.h)
  // and files the zone into the result.
  void Finish();

 private:
  // The heights under one volume's footprint, looked up on first need.
  struct VolumeHeights {
    const geo::Footprint& footprint;
    std::optional<absl::StatusOr<elevation::HeightRange>> ground, geoid;
  };
  // Metres above WGS84; nullopt after recording the error.
  std::optional<double> ToWgs84(const Limit& limit, bool upper,
                                VolumeHeights* heights);

  FileContext* context_;
  std::string zone_id_;
  std::string field_;
  v1::Constraint constraint_;
  std::vector<ZoneError> errors_;
  std::vector<std::string> lower_texts_, upper_texts_;
  bool uses_ground_ = false;
  bool uses_geoid_ = false;
};

// ---- Format readers
// ---------------------------------------------------------- Each fills
// context->result; the Status is for a file that is not the format at all.

absl::Status ReadEd269(const Json& root, FileContext* context);
// Members ED-269 zones and ED-318 properties share: restriction / type,
// conditions, reason, name, message, authority, (limited) applicability.
// `props` is at `field`.
void ReadZoneProperties(const Json& props, const std::string& field, bool ed318,
                        ZoneBuilder* builder);
absl::Status ReadEd318(const Json& root, FileContext* context);
// One EUROCONTROL geofencing-service AirspaceVolume (the `geometry` object of
// a zone in a {"uas_zones": [...]} file), at `field`: a polygon of
// {"LAT", "LON"} points with limits in metres. eurocontrol_zones.cc.
void EurocontrolVolume(const Json& volume, const std::string& field,
                       ZoneBuilder* builder);
absl::Status ReadGeoJson(const Json& root, FileContext* context);
absl::Status ReadXnotam(absl::string_view content, FileContext* context);

// ED-269 "restriction" / ED-318 "type" to the wire type; nullopt if unknown.
std::optional<v1::ConstraintType> RestrictionType(absl::string_view text,
                                                  bool ed318);

// Line and column (1-based) of a byte offset.
std::string Position(absl::string_view content, size_t offset);

}  // namespace utm::zones::internal

#endif  // UTM_SERVICES_CONSTRAINT_IMPORT_ZONE_IMPORT_INTERNAL_H_
