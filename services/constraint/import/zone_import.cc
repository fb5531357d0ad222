#include "services/constraint/import/zone_import.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "services/common/volume_convert.h"
#include "services/constraint/import/zone_import_internal.h"
#include "services/constraint/limits.h"
#include "services/constraint/schedule.h"

namespace utm::zones {
namespace internal {

const Json* Member(const Json& object, const char* name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<double> Number(const Json* value) {
  if (value == nullptr) return std::nullopt;
  if (value->is_number()) return value->get<double>();
  if (value->is_string()) {
    double d;
    if (absl::SimpleAtod(value->get_ref<const std::string&>(), &d) &&
        std::isfinite(d)) {
      return d;
    }
  }
  return std::nullopt;
}

std::optional<std::string> String(const Json* value) {
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return value->get<std::string>();
}

std::optional<std::string> Text(const Json* value) {
  if (value == nullptr) return std::nullopt;
  if (value->is_string()) return value->get<std::string>();
  if (!value->is_array()) return std::nullopt;
  // ED-318 localised texts: the first English one, else the first.
  const Json* chosen = nullptr;
  std::vector<std::string> plain;
  for (const Json& item : *value) {
    if (item.is_string()) {
      plain.push_back(item.get<std::string>());
    } else if (const std::optional<std::string> text =
                   String(Member(item, "text"))) {
      const std::optional<std::string> lang = String(Member(item, "lang"));
      if (chosen == nullptr ||
          (lang && absl::StartsWithIgnoreCase(*lang, "en") &&
           !absl::StartsWithIgnoreCase(
               String(Member(*chosen, "lang")).value_or(""), "en"))) {
        chosen = &item;
      }
    }
  }
  if (chosen != nullptr) {
    return std::string(absl::StripAsciiWhitespace(
        chosen->at("text").get_ref<const std::string&>()));
  }
  if (!plain.empty()) return absl::StrJoin(plain, "; ");
  return std::nullopt;
}

const char* TypeName(const Json& value) { return value.type_name(); }

std::optional<Unit> ParseUnit(absl::string_view text) {
  const std::string u = absl::AsciiStrToUpper(text);
  if (u == "M") return Unit::kMetre;
  if (u == "FT") return Unit::kFoot;
  if (u == "FL") return Unit::kFlightLevel;
  return std::nullopt;
}

std::optional<VerticalReference> ParseReference(absl::string_view text) {
  const std::string r = absl::AsciiStrToUpper(text);
  if (r == "AGL") return VerticalReference::kAgl;
  if (r == "AMSL" || r == "MSL") return VerticalReference::kAmsl;
  if (r == "WGS84" || r == "W84") return VerticalReference::kWgs84;
  return std::nullopt;
}

const char* UnitName(Unit unit) {
  switch (unit) {
    case Unit::kMetre:
      return "M";
    case Unit::kFoot:
      return "FT";
    case Unit::kFlightLevel:
      return "FL";
  }
  return "?";
}

const char* ReferenceName(VerticalReference reference) {
  switch (reference) {
    case VerticalReference::kWgs84:
      return "WGS84";
    case VerticalReference::kAmsl:
      return "AMSL";
    case VerticalReference::kAgl:
      return "AGL";
  }
  return "?";
}

std::string Describe(const Limit& limit) {
  return limit.original.empty() ? "(none)" : limit.original;
}

std::optional<absl::Time> ParseDateTime(absl::string_view text) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return std::nullopt;
  }
  // RFC 3339 parses years past 9999, which neither the wire's Timestamp
  // (nor its JSON form, in the export) nor the server accept.
  if (!TimeFromProto(TimeToProto(t), "").ok()) return std::nullopt;
  return t;
}

std::optional<TimeOfDay> ParseTimeOfDay(absl::string_view text) {
  // HH:MM[:SS[.fff]] then Z, +hh:mm, -hh:mm or nothing.
  auto digits = [&](size_t at, size_t n) -> std::optional<int> {
    if (at + n > text.size()) return std::nullopt;
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (!absl::ascii_isdigit(text[i])) return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  const std::optional<int> h = digits(0, 2), m = digits(3, 2);
  if (!h || !m || text.size() < 5 || text[2] != ':' || *h > 24 || *m > 59) {
    return std::nullopt;
  }
  size_t at = 5;
  int s = 0;
  if (at < text.size() && text[at] == ':') {
    const std::optional<int> sec = digits(at + 1, 2);
    if (!sec || *sec > 59) return std::nullopt;
    s = *sec;
    at += 3;
    if (at < text.size() && text[at] == '.') {
      ++at;  // fractions of a second are dropped
      while (at < text.size() && absl::ascii_isdigit(text[at])) ++at;
    }
  }
  TimeOfDay out;
  out.second_of_day = *h * 3600 + *m * 60 + s;
  if (out.second_of_day > 86400) return std::nullopt;
  const absl::string_view zone = text.substr(at);
  if (zone.empty() || zone == "Z" || zone == "z") return out;
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') ||
      zone[3] != ':') {
    return std::nullopt;
  }
  const std::optional<int> oh = digits(at + 1, 2), om = digits(at + 4, 2);
  if (!oh || !om || *oh > 14 || *om > 59) return std::nullopt;
  out.utc_offset_s = (zone[0] == '-' ? -1 : 1) * (*oh * 3600 + *om * 60);
  return out;
}

std::optional<v1::ConstraintType> RestrictionType(absl::string_view text,
                                                  bool ed318) {
  if (text == "PROHIBITED") return v1::CONSTRAINT_TYPE_PROHIBITED;
  if (text == (ed318 ? "REQ_AUTHORIZATION" : "REQ_AUTHORISATION")) {
    return v1::CONSTRAINT_TYPE_REQUIRES_AUTHORISATION;
  }
  if (text == "CONDITIONAL") return v1::CONSTRAINT_TYPE_CONDITIONAL;
  if (text == "NO_RESTRICTION") return v1::CONSTRAINT_TYPE_ADVISORY;
  // ED-318 U-space airspace: flight under U-space services, a condition.
  if (ed318 && text == "USPACE") return v1::CONSTRAINT_TYPE_CONDITIONAL;
  return std::nullopt;
}

std::string Position(absl::string_view content, size_t offset) {
  offset = std::min(offset, content.size());
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (content[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return absl::StrCat("line ", line, ", column ", column);
}

}  // namespace internal

using internal::Json;

absl::StatusOr<elevation::HeightRange> ConstantElevation::GroundRangeM(
    const geo::Footprint&) const {
  if (!ground_amsl_m_) {
    return absl::FailedPreconditionError(
        "no terrain source: give a ground height");
  }
  return elevation::HeightRange{*ground_amsl_m_ + geoid_m_,
                                *ground_amsl_m_ + geoid_m_};
}

std::string ConstantElevation::Describe() const {
  if (!ground_amsl_m_) {
    return absl::StrFormat(
        "geoid undulation %g m everywhere; no terrain source", geoid_m_);
  }
  return absl::StrFormat(
      "ground %g m above mean sea level and geoid undulation %g m, the same "
      "everywhere",
      *ground_amsl_m_, geoid_m_);
}

namespace {

// ImportOptions::elevation left null: nothing but WGS84 converts.
class NoElevation final : public ElevationModel {
 public:
  absl::StatusOr<elevation::HeightRange> GeoidRangeM(
      const geo::Footprint&) const override {
    return absl::FailedPreconditionError("no geoid model given");
  }
  absl::StatusOr<elevation::HeightRange> GroundRangeM(
      const geo::Footprint&) const override {
    return absl::FailedPreconditionError("no terrain source given");
  }
  std::string Describe() const override { return "no elevation model"; }
};

}  // namespace

geo::ValidationLimits ConstraintValidationLimits() {
  return constraint::ConstraintLimits();
}

absl::StatusOr<ZoneFormat> ParseZoneFormat(absl::string_view name) {
  const std::string n = absl::AsciiStrToLower(name);
  if (n == "auto") return ZoneFormat::kAuto;
  if (n == "ed269" || n == "ed-269") return ZoneFormat::kEd269;
  if (n == "ed318" || n == "ed-318") return ZoneFormat::kEd318;
  if (n == "geojson") return ZoneFormat::kGeoJson;
  if (n == "xnotam") return ZoneFormat::kXnotam;
  return absl::InvalidArgumentError(absl::StrCat(
      "format \"", name, "\": expected auto, ed269, ed318, geojson or xnotam"));
}

const char* ZoneFormatName(ZoneFormat format) {
  switch (format) {
    case ZoneFormat::kAuto:
      return "auto";
    case ZoneFormat::kEd269:
      return "ed269";
    case ZoneFormat::kEd318:
      return "ed318";
    case ZoneFormat::kGeoJson:
      return "geojson";
    case ZoneFormat::kXnotam:
      return "xnotam";
  }
  return "?";
}

v1::SourceFormat ToSourceFormat(ZoneFormat format) {
  switch (format) {
    case ZoneFormat::kAuto:
      return v1::SOURCE_FORMAT_UNSPECIFIED;
    case ZoneFormat::kEd269:
      return v1::SOURCE_FORMAT_ED269;
    case ZoneFormat::kEd318:
      return v1::SOURCE_FORMAT_ED318;
    case ZoneFormat::kGeoJson:
      return v1::SOURCE_FORMAT_GEOJSON;
    case ZoneFormat::kXnotam:
      return v1::SOURCE_FORMAT_XNOTAM;
  }
  return v1::SOURCE_FORMAT_UNSPECIFIED;
}

std::string ToString(const ZoneError& error) {
  return absl::StrCat("zone ", error.zone_id, ": ", error.field, ": ",
                      error.message);
}

namespace {

bool LooksLikeXml(absl::string_view content) {
  if (absl::StartsWith(content, "\xEF\xBB\xBF")) content.remove_prefix(3);
  content = absl::StripLeadingAsciiWhitespace(content);
  return absl::StartsWith(content, "<");
}

absl::StatusOr<Json> ParseJson(absl::string_view content) {
  try {
    return Json::parse(content.begin(), content.end());
  } catch (const Json::parse_error& e) {
    // e.byte is 1-based: the byte after which the error was found.
    return absl::InvalidArgumentError(
        absl::StrCat("not valid JSON at ",
                     internal::Position(content, e.byte > 0 ? e.byte - 1 : 0),
                     ": ", e.what()));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("not valid JSON: ", e.what()));
  }
}

bool IsEd269Zone(const Json& zone) {
  return zone.is_object() &&
         (zone.contains("restriction") ||
          (zone.contains("geometry") && zone["geometry"].is_array()) ||
          zone.contains("applicability"));
}

bool IsEd318Feature(const Json& feature) {
  const Json* properties = internal::Member(feature, "properties");
  if (properties != nullptr && properties->is_object() &&
      (properties->contains("zoneAuthority") ||
       properties->contains("limitedApplicability") ||
       (properties->contains("identifier") &&
        properties->contains("variant")))) {
    return true;
  }
  const Json* geometry = internal::Member(feature, "geometry");
  if (geometry == nullptr) return false;
  if (geometry->contains("layer") || geometry->contains("extent")) return true;
  const Json* parts = internal::Member(*geometry, "geometries");
  if (parts != nullptr && parts->is_array()) {
    for (const Json& g : *parts) {
      if (g.is_object() && g.contains("layer")) return true;
    }
  }
  return false;
}

absl::StatusOr<ZoneFormat> DetectJson(const Json& root) {
  if (root.is_array()) {
    if (!root.empty() && IsEd269Zone(root[0])) return ZoneFormat::kEd269;
    return absl::InvalidArgumentError(
        "a JSON array that is not a list of ED-269 zones");
  }
  if (!root.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a JSON ", root.type_name(), ", not a zone file"));
  }
  if (root.contains("UASZoneList")) return ZoneFormat::kEd269;
  // The EUROCONTROL geofencing service's provisioning file: ED-269 draft
  // zones (with `applicability` an object) under "uas_zones".
  if (const Json* zones = internal::Member(root, "uas_zones");
      zones != nullptr && zones->is_array()) {
    return ZoneFormat::kEd269;
  }
  const std::string type =
      internal::String(internal::Member(root, "type")).value_or("");
  const Json* features = internal::Member(root, "features");
  if (type == "Feature") {
    return IsEd318Feature(root) ? ZoneFormat::kEd318 : ZoneFormat::kGeoJson;
  }
  if (features != nullptr && features->is_array()) {
    if (type != "FeatureCollection") {
      for (const Json& f : *features) {
        if (IsEd269Zone(f)) return ZoneFormat::kEd269;
      }
    }
    for (const Json& f : *features) {
      if (IsEd318Feature(f)) return ZoneFormat::kEd318;
    }
    if (type == "FeatureCollection") return ZoneFormat::kGeoJson;
  }
  static const char* const kGeometries[] = {"Polygon", "MultiPolygon", "Point",
                                            "GeometryCollection"};
  for (const char* g : kGeometries) {
    if (type == g) return ZoneFormat::kGeoJson;
  }
  return absl::InvalidArgumentError(
      "not a zone file: expected ED-269 (UASZoneList or features of zones, "
      "or the EUROCONTROL geofencing service's uas_zones), ED-318 or GeoJSON "
      "(a FeatureCollection or Feature), or XNOTAM XML");
}

}  // namespace

absl::StatusOr<ZoneFormat> DetectZoneFormat(absl::string_view content) {
  if (LooksLikeXml(content)) return ZoneFormat::kXnotam;
  absl::StatusOr<Json> root = ParseJson(content);
  if (!root.ok()) return root.status();
  return DetectJson(*root);
}

absl::StatusOr<ImportResult> ImportZones(absl::string_view content,
                                         const ImportOptions& options) {
  const NoElevation none;
  internal::FileContext context;
  context.options = &options;
  context.elevation = options.elevation != nullptr ? options.elevation : &none;
  ImportResult result;
  context.result = &result;
  try {
    ZoneFormat format = options.format;
    absl::Status status;
    if (format == ZoneFormat::kXnotam ||
        (format == ZoneFormat::kAuto && LooksLikeXml(content))) {
      context.format = result.format = ZoneFormat::kXnotam;
      status = internal::ReadXnotam(content, &context);
    } else {
      absl::StatusOr<Json> root = ParseJson(content);
      if (!root.ok()) return root.status();
      if (format == ZoneFormat::kAuto) {
        absl::StatusOr<ZoneFormat> detected = DetectJson(*root);
        if (!detected.ok()) return detected.status();
        format = *detected;
      }
      context.format = result.format = format;
      switch (format) {
        case ZoneFormat::kEd269:
          status = internal::ReadEd269(*root, &context);
          break;
        case ZoneFormat::kEd318:
          status = internal::ReadEd318(*root, &context);
          break;
        default:
          status = internal::ReadGeoJson(*root, &context);
          break;
      }
    }
    if (!status.ok()) return status;
  } catch (const std::exception& e) {
    // The readers check types before every access; this is a safety net so
    // that no exception leaves the library.
    return absl::InternalError(absl::StrCat("zone import failed: ", e.what()));
  }
  const ElevationModel& elevation = *context.elevation;
  if (result.zones_using_ground > 0) {
    result.warnings.push_back(absl::StrCat(
        result.zones_using_ground,
        " zone(s) have AGL or SFC limits, placed over the lowest (floor) and "
        "highest (ceiling) ground under each footprint: ",
        elevation.Describe()));
  }
  if (result.zones_using_geoid > 0) {
    result.warnings.push_back(absl::StrCat(
        result.zones_using_geoid,
        " zone(s) have AMSL, AGL, SFC or FL limits, converted with the geoid "
        "undulation: ",
        elevation.Describe()));
  }
  return result;
}

}  // namespace utm::zones
