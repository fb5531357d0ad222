// Importers for regulators' zone files: EUROCAE ED-269 JSON, EUROCAE ED-318
// GeoJSON, plain GeoJSON geofences and FAA TFRs in XNOTAM XML, converted to
// utm.v1.Constraint messages ready for PublishConstraint; and the reverse, a
// GeoJSON export of constraints for aircraft to carry offline.
//
// The importer is a pure function of the file's bytes and its options: no
// gRPC, no server, no clock. Each zone either converts completely or yields
// ZoneErrors naming it and the offending field, so one bad zone never keeps
// the others out. Only a file that cannot be read as its format at all is an
// error Status (with the line and column the parser stopped at).
//
// Altitudes become metres above the WGS84 ellipsoid: M, FT (0.3048 m) and
// flight levels (100 ft of pressure altitude, taken as feet above mean sea
// level in the standard atmosphere); WGS84 values as they are, AMSL + geoid
// undulation, AGL + ground height above WGS84, both from an ElevationModel
// and taken over the whole footprint (floor at the lowest, ceiling at the
// highest). A limit the model cannot convert (AGL without a terrain source)
// is a zone error, never a guess. The original limits are kept, as written,
// in Constraint.source. docs/zones.md has the field-by-field mapping.
//
// Typical usage:
//   EarthElevationOptions earth;
//   earth.dem = "terrain.tif";
//   absl::StatusOr<std::unique_ptr<EarthElevation>> elevation =
//       EarthElevation::Create(earth);
//   ImportOptions options;
//   options.dataset = "zones.json";
//   options.elevation = elevation->get();
//   absl::StatusOr<ImportResult> result = ImportZones(text, options);
//   if (!result.ok()) ... the file is unusable ...
//   for (const ImportedZone& z : result->zones) Publish(z.constraint);
//   for (const ZoneError& e : result->errors) Report(e);
#ifndef UTM_SERVICES_CONSTRAINT_IMPORT_ZONE_IMPORT_H_
#define UTM_SERVICES_CONSTRAINT_IMPORT_ZONE_IMPORT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "geo/latlng.h"
#include "geo/volume.h"
#include "services/constraint/import/height_grid.h"
#include "utm/v1/constraint.pb.h"

namespace utm::zones {

enum class ZoneFormat { kAuto, kEd269, kEd318, kGeoJson, kXnotam };

// "auto", "ed269", "ed318", "geojson", "xnotam" (case-insensitive);
// INVALID_ARGUMENT otherwise.
absl::StatusOr<ZoneFormat> ParseZoneFormat(absl::string_view name);
// The name ParseZoneFormat reads.
const char* ZoneFormatName(ZoneFormat format);
// The wire enum for Constraint.source.format (UNSPECIFIED for kAuto).
v1::SourceFormat ToSourceFormat(ZoneFormat format);

// Which format `content` is in, from its content alone: XML whose root is
// XNOTAM-Update; JSON with UASZoneList, or with features that carry ED-269
// zone members (restriction, geometry lists); a GeoJSON Feature or
// FeatureCollection whose properties carry ED-318 members (identifier and
// zoneAuthority, or layer geometries); any other GeoJSON. INVALID_ARGUMENT
// (with line and column) for a syntax error, or when it is none of these.
absl::StatusOr<ZoneFormat> DetectZoneFormat(absl::string_view content);

// Heights of the ground and of mean sea level above the WGS84 ellipsoid,
// as ranges over a whole footprint, to turn AGL, AMSL and flight-level
// limits into heights above WGS84. A zone's floor is placed at the lowest
// and its ceiling at the highest value under its footprint, so that the
// WGS84 band contains the stated one everywhere over the footprint (see
// docs/zones.md). Implementations must be thread-compatible (const methods
// callable concurrently).
class ElevationModel {
 public:
  virtual ~ElevationModel() = default;
  // Range of the geoid undulation N (height of mean sea level above the
  // WGS84 ellipsoid: about +48 m in Switzerland, -30 m in Florida) over the
  // footprint. An error (no geoid model) makes AMSL and FL limits fail.
  virtual absl::StatusOr<elevation::HeightRange> GeoidRangeM(
      const geo::Footprint& footprint) const = 0;
  // Range of the ground's height above the WGS84 ellipsoid over the
  // footprint. An error (no terrain source, a point outside the DEM, a hole
  // in it) makes AGL and SFC limits fail; its message says why and how to
  // give one.
  virtual absl::StatusOr<elevation::HeightRange> GroundRangeM(
      const geo::Footprint& footprint) const = 0;
  // One line for the import summary, e.g. "EGM96 geoid (...); ground from
  // DEM kigali.tif".
  virtual std::string Describe() const = 0;
};

// The same ground height and geoid undulation everywhere: for tests, and for
// one small area whose figures are known. Without a ground height, AGL and
// SFC limits fail ("no terrain source").
class ConstantElevation final : public ElevationModel {
 public:
  ConstantElevation(std::optional<double> ground_amsl_m, double geoid_m)
      : ground_amsl_m_(ground_amsl_m), geoid_m_(geoid_m) {}
  absl::StatusOr<elevation::HeightRange> GeoidRangeM(
      const geo::Footprint&) const override {
    return elevation::HeightRange{geoid_m_, geoid_m_};
  }
  absl::StatusOr<elevation::HeightRange> GroundRangeM(
      const geo::Footprint&) const override;
  std::string Describe() const override;

 private:
  std::optional<double> ground_amsl_m_;
  double geoid_m_;
};

// Vertical reference of a limit with no reference of its own (plain GeoJSON).
enum class VerticalReference { kWgs84, kAmsl, kAgl };

// The validation limits of constraint volumes, as the constraint service
// applies them (constraint::ConstraintLimits(), services/constraint/limits.h):
// 100,000 km², 120 km reach, 20,000 vertices, altitudes [-1 km, 50 km].
geo::ValidationLimits ConstraintValidationLimits();

struct ImportOptions {
  // Format of the content. DEFAULT: detected (DetectZoneFormat).
  ZoneFormat format = ZoneFormat::kAuto;
  // Data set name for Constraint.source.dataset, e.g. the file's name.
  std::string dataset;
  // Ground and geoid heights. Not owned; must outlive the call.
  // DEFAULT (null): none; only WGS84 limits convert, every AMSL, FL, AGL and
  // SFC limit is a zone error. utmctl passes an EarthElevation
  // (earth_elevation.h): EGM96 and a DEM or a ground height.
  const ElevationModel* elevation = nullptr;
  // Footprint and altitude limits each volume must meet.
  // DEFAULT: ConstraintValidationLimits().
  geo::ValidationLimits limits = ConstraintValidationLimits();
  // Top of a zone whose upper limit is missing, null or unlimited, metres
  // above WGS84; also the ceiling that higher upper limits are clamped to
  // (with a warning; 99999 is the customary "unlimited"). REQUIRES:
  // <= limits.max_altitude_m. DEFAULT: 50,000 m, the validation maximum.
  double default_upper_m = 50000;

  // Plain GeoJSON only; ED-269, ED-318 and XNOTAM always state these.
  // Type of features whose properties say none. DEFAULT: PROHIBITED.
  v1::ConstraintType geojson_type = v1::CONSTRAINT_TYPE_PROHIBITED;
  // Reference of bare altitude numbers (lower_limit / upper_limit).
  // DEFAULT: AGL — what drone geofence tools mean by a bare height.
  VerticalReference geojson_reference = VerticalReference::kAgl;
  // Limits, metres above `geojson_reference`, of features that state none.
  // DEFAULT: lower the surface, upper `default_upper_m` above WGS84.
  std::optional<double> geojson_lower_m;
  std::optional<double> geojson_upper_m;
};

// A zone that could not be converted. Several per zone are possible.
struct ZoneError {
  // The zone's id in the file, or "#<index>" when it has none.
  std::string zone_id;
  // JSON-pointer-like path of the offending member in the file, e.g.
  // "features[2].geometry[0].horizontalProjection.radius" or, for XNOTAM,
  // "Group[0].Add[0].Not[1].dateExpire".
  std::string field;
  std::string message;
};

// "zone ID: FIELD: message" (without the file name).
std::string ToString(const ZoneError& error);

struct ImportedZone {
  // Ready for PublishConstraint: type, volumes, schedule, authority, reason,
  // message, conditions, source; no output-only field set.
  v1::Constraint constraint;
  // Where the zone sits in the file, e.g. "features[2]".
  std::string field;
};

struct ImportResult {
  ZoneFormat format = ZoneFormat::kAuto;  // as detected or given
  int zones_in_file = 0;                  // zones seen, good or bad
  std::vector<ImportedZone> zones;        // in file order
  std::vector<ZoneError> errors;          // in file order
  // Things imported on an assumption: clamped ceilings, dropped repeated
  // vertices, renamed duplicate ids, unknown members ignored, and the
  // elevation model's part (below).
  std::vector<std::string> warnings;
  // Zones whose altitudes relied on the elevation model's ground height (an
  // AGL limit or SFC) and on its geoid undulation (AGL, AMSL or FL).
  int zones_using_ground = 0;
  int zones_using_geoid = 0;
};

// Converts every zone in `content`. INVALID_ARGUMENT (with line and column
// where the parser gives them) when the content is not the format at all;
// everything zone-specific goes into ImportResult::errors. Never crashes on
// hostile input. Thread-safe.
absl::StatusOr<ImportResult> ImportZones(absl::string_view content,
                                         const ImportOptions& options);

struct ExportOptions {
  // Vertices of the polygon drawn around each circle (circumscribed, so the
  // polygon contains the circle); fewer than 8 count as 8. DEFAULT: 64.
  int circle_vertices = 64;
};

// A GeoJSON FeatureCollection with one Feature per volume (docs/zones.md):
// polygons as Polygon; circles as a circumscribed Polygon with the exact
// circle in properties.circle {center: [lng, lat], radius_m}; properties with
// the constraint's id, type, altitudes in metres above WGS84, time bounds,
// schedule, authority, reason, message, conditions, source and version.
// ImportZones reads it back as plain GeoJSON (volumes regrouped by
// constraint_id). REQUIRES: constraints whose volumes passed validation.
std::string ExportGeoJson(const std::vector<v1::Constraint>& constraints,
                          const ExportOptions& options = ExportOptions());

}  // namespace utm::zones

#endif  // UTM_SERVICES_CONSTRAINT_IMPORT_ZONE_IMPORT_H_
