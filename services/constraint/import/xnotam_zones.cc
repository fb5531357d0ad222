// FAA temporary flight restrictions in XNOTAM XML (AIXM-derived):
//   XNOTAM-Update/Group/Add/Not/{NotUid, dateEffective, dateExpire,
//   codeTimeZone, TfrNot/{codeType, TFRAreaGroup/{aseTFRArea{...limits},
//   abdMergedArea/Avx*, aseShapes/Abd/Avx*}}}
// Every TFR becomes a PROHIBITED constraint, one volume per area shape.
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "pugixml.hpp"
#include "services/common/volume_convert.h"
#include "services/constraint/import/zone_import_internal.h"

namespace utm::zones::internal {
namespace {

// RFC 3629 UTF-8: no overlong forms, surrogates or code points past
// U+10FFFF.
bool IsUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = s[i];
    int more = 0;
    uint32_t cp = 0, min = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      more = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      more = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      more = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i <= static_cast<size_t>(more)) return false;
    for (int k = 1; k <= more; ++k) {
      const unsigned char d = s[i + k];
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += more + 1;
  }
  return true;
}

// The first element whose name, attributes or text are not UTF-8 (pugixml
// does not check; protobuf strings and the JSON export must be UTF-8), or
// null.
pugi::xml_node FirstNonUtf8(const pugi::xml_node& node) {
  bool ok = IsUtf8(node.name()) && IsUtf8(node.value());
  for (const pugi::xml_attribute& a : node.attributes()) {
    ok = ok && IsUtf8(a.name()) && IsUtf8(a.value());
  }
  if (!ok) return node;
  for (const pugi::xml_node& child : node.children()) {
    if (pugi::xml_node bad = FirstNonUtf8(child)) return bad;
  }
  return pugi::xml_node();
}

std::string Trimmed(const pugi::xml_node& node) {
  return std::string(absl::StripAsciiWhitespace(node.text().as_string()));
}

// "41.20N" (degrees), "4112.00N" (degrees, minutes) or "411200.00N"
// (degrees, minutes, seconds); longitudes have one more degree digit.
std::optional<double> Coordinate(absl::string_view text, bool latitude) {
  text = absl::StripAsciiWhitespace(text);
  if (text.size() < 2) return std::nullopt;
  const char hemisphere = absl::ascii_toupper(text.back());
  text.remove_suffix(1);
  double sign;
  if (latitude && (hemisphere == 'N' || hemisphere == 'S')) {
    sign = hemisphere == 'N' ? 1 : -1;
  } else if (!latitude && (hemisphere == 'E' || hemisphere == 'W')) {
    sign = hemisphere == 'E' ? 1 : -1;
  } else {
    return std::nullopt;
  }
  double value;
  if (text.empty() || text[0] == '-' || text[0] == '+' ||
      !absl::SimpleAtod(text, &value)) {
    return std::nullopt;
  }
  const size_t integer_digits = std::min(text.find('.'), text.size());
  const size_t degree_digits = latitude ? 2 : 3;
  double degrees;
  if (integer_digits <= degree_digits) {
    degrees = value;
  } else if (integer_digits == degree_digits + 2) {  // DDMM.mm
    const double d = std::floor(value / 100);
    const double m = value - d * 100;
    if (m >= 60) return std::nullopt;
    degrees = d + m / 60;
  } else if (integer_digits == degree_digits + 4) {  // DDMMSS.ss
    const double d = std::floor(value / 10000);
    const double m = std::floor((value - d * 10000) / 100);
    const double s = value - d * 10000 - m * 100;
    if (m >= 60 || s >= 60) return std::nullopt;
    degrees = d + m / 60 + s / 3600;
  } else {
    return std::nullopt;
  }
  return sign * degrees;
}

std::optional<geo::LatLng> Vertex(const pugi::xml_node& avx,
                                  const std::string& field, ZoneBuilder* b) {
  const std::optional<double> lat =
      Coordinate(avx.child("geoLat").text().as_string(), true);
  const std::optional<double> lng =
      Coordinate(avx.child("geoLong").text().as_string(), false);
  if (!lat) {
    b->Error(field + ".geoLat",
             absl::StrCat("\"", Trimmed(avx.child("geoLat")),
                          "\" is not a latitude like 41.20N or 411200.00N"));
  }
  if (!lng) {
    b->Error(field + ".geoLong",
             absl::StrCat("\"", Trimmed(avx.child("geoLong")),
                          "\" is not a longitude like 119.30W or "
                          "1191800.00W"));
  }
  if (!lat || !lng) return std::nullopt;
  return geo::LatLng{*lat, *lng};
}

std::optional<double> RadiusM(const pugi::xml_node& avx,
                              const std::string& field, ZoneBuilder* b) {
  double value;
  const std::string text = Trimmed(avx.child("valRadiusArc"));
  if (!absl::SimpleAtod(text, &value)) {
    b->Error(field + ".valRadiusArc",
             absl::StrCat("\"", text, "\" is not a number"));
    return std::nullopt;
  }
  const std::string uom =
      absl::AsciiStrToUpper(Trimmed(avx.child("uomRadiusArc")));
  double factor;
  if (uom == "NM") {
    factor = 1852;
  } else if (uom == "KM") {
    factor = 1000;
  } else if (uom == "M") {
    factor = 1;
  } else if (uom == "FT") {
    factor = 0.3048;
  } else if (uom == "MI") {
    factor = 1609.344;
  } else {
    b->Error(field + ".uomRadiusArc",
             absl::StrCat("\"", uom, "\" is not NM, KM, M, FT or MI"));
    return std::nullopt;
  }
  return value * factor;
}

// codeDistVer* / valDistVer* / uomDistVer* of an aseTFRArea.
std::optional<Limit> TfrLimit(const pugi::xml_node& area, const char* which,
                              const std::string& field, ZoneBuilder* b) {
  const std::string code_name = absl::StrCat("codeDistVer", which);
  const std::string val_name = absl::StrCat("valDistVer", which);
  const std::string uom_name = absl::StrCat("uomDistVer", which);
  Limit limit;
  limit.field = absl::StrCat(field, ".", val_name);
  const pugi::xml_node val = area.child(val_name.c_str());
  const std::string value = absl::AsciiStrToUpper(Trimmed(val));
  const std::string code =
      absl::AsciiStrToUpper(Trimmed(area.child(code_name.c_str())));
  const std::string uom =
      absl::AsciiStrToUpper(Trimmed(area.child(uom_name.c_str())));
  if (!val) return limit;  // missing: SFC below, the default top above
  if (value == "SFC" || value == "GND" || code == "SFC") {
    limit.kind = Limit::Kind::kSurface;
    limit.original = "SFC";
    return limit;
  }
  if (value == "UNL" || value == "UNLTD") {
    limit.kind = Limit::Kind::kUnlimited;
    limit.original = value;
    return limit;
  }
  double v;
  if (!absl::SimpleAtod(value, &v) || !std::isfinite(v)) {
    b->Error(limit.field, absl::StrCat("\"", value, "\" is not a number"));
    return std::nullopt;
  }
  const std::optional<Unit> unit = ParseUnit(uom);
  if (!unit) {
    b->Error(absl::StrCat(field, ".", uom_name),
             absl::StrCat("\"", uom, "\" is not FT, FL or M"));
    return std::nullopt;
  }
  limit.kind = Limit::Kind::kValue;
  limit.value = v;
  limit.unit = *unit;
  if (*unit == Unit::kFlightLevel) {
    limit.reference = VerticalReference::kAmsl;
    limit.original = absl::StrCat("FL", value);
    return limit;
  }
  if (code == "ALT" || code == "STD") {  // STD in feet: pressure altitude
    limit.reference = VerticalReference::kAmsl;
  } else if (code == "HEI") {
    limit.reference = VerticalReference::kAgl;
  } else if (code == "W84") {
    limit.reference = VerticalReference::kWgs84;
  } else {
    b->Error(absl::StrCat(field, ".", code_name),
             absl::StrCat("\"", code, "\" is not ALT, HEI, STD or W84"));
    return std::nullopt;
  }
  limit.original = absl::StrCat(value, " ", UnitName(*unit), " ",
                                ReferenceName(limit.reference));
  return limit;
}

// IANA name for codeTimeZone: IANA names and "UTC"/"Z"/"GMT" as they are,
// US abbreviations to their zone.
std::optional<std::string> TimeZoneName(const std::string& code) {
  static const std::pair<const char*, const char*> kAbbreviations[] = {
      {"Z", "UTC"},
      {"GMT", "UTC"},
      {"UTC", "UTC"},
      {"EDT", "America/New_York"},
      {"CST", "America/Chicago"},
      {"CDT", "America/Chicago"},
      {"MDT", "America/Denver"},
      {"PST", "America/Los_Angeles"},
      {"PDT", "America/Los_Angeles"},
      {"AKST", "America/Anchorage"},
      {"AKDT", "America/Anchorage"},
      {"HST", "Pacific/Honolulu"},
  };
  const std::string upper = absl::AsciiStrToUpper(code);
  for (const auto& [abbreviation, zone] : kAbbreviations) {
    if (upper == abbreviation) return std::string(zone);
  }
  absl::TimeZone zone;
  if (absl::LoadTimeZone(code, &zone)) return code;  // EST, MST: fixed
  return std::nullopt;
}

// dateEffective / dateExpire: RFC 3339, or a local date-time without offset
// in `zone`. nullopt: open ("PERM" for dateExpire, or absent).
bool TfrTime(const pugi::xml_node& not_node, const char* name,
             const absl::TimeZone& zone, const std::string& field,
             std::optional<absl::Time>* out, ZoneBuilder* b) {
  const pugi::xml_node node = not_node.child(name);
  if (!node) return true;
  const std::string text = Trimmed(node);
  if (text.empty() || absl::AsciiStrToUpper(text) == "PERM") return true;
  if (std::optional<absl::Time> t = ParseDateTime(text)) {
    *out = t;
    return true;
  }
  absl::CivilSecond local;
  if (absl::ParseCivilTime(text, &local)) {
    *out = zone.At(local).pre;
    return true;
  }
  b->Error(absl::StrCat(field, ".", name),
           absl::StrCat("\"", text,
                        "\" is not a date-time (2024-03-01T15:00:00, with "
                        "or without an offset)"));
  return false;
}

void ReadNot(const pugi::xml_node& n, const std::string& field,
             ZoneBuilder* b) {
  v1::Constraint& c = b->constraint();
  c.set_type(v1::CONSTRAINT_TYPE_PROHIBITED);
  const pugi::xml_node uid = n.child("NotUid");
  if (!uid) b->Error(field + ".NotUid", "required");

  // Times.
  std::string zone_name = "UTC";
  const pugi::xml_node tz = n.child("codeTimeZone");
  if (tz) {
    const std::optional<std::string> name = TimeZoneName(Trimmed(tz));
    if (!name) {
      b->Error(field + ".codeTimeZone",
               absl::StrCat("\"", Trimmed(tz),
                            "\" is not a time zone (UTC, an IANA name or a "
                            "US abbreviation such as EST, EDT, PST)"));
    } else {
      zone_name = *name;
    }
  }
  absl::TimeZone zone = absl::UTCTimeZone();
  absl::LoadTimeZone(zone_name, &zone);
  std::optional<absl::Time> effective, expire;
  TfrTime(n, "dateEffective", zone, field, &effective, b);
  TfrTime(n, "dateExpire", zone, field, &expire, b);
  if (effective || expire) {
    v1::Schedule* schedule = c.mutable_schedule();
    schedule->set_time_zone(zone_name);
    if (effective) {
      *schedule->mutable_absolute()->mutable_start() = TimeToProto(*effective);
    }
    if (expire) {
      *schedule->mutable_absolute()->mutable_end() = TimeToProto(*expire);
    }
  }

  const pugi::xml_node tfr = n.child("TfrNot");
  const std::string tfr_field = field + ".TfrNot";
  if (!tfr) {
    b->Error(tfr_field, "required");
    return;
  }
  std::string reason = Trimmed(tfr.child("codeType"));
  if (const std::string purpose = Trimmed(n.child("txtDescrPurpose"));
      !purpose.empty()) {
    reason = reason.empty() ? purpose : absl::StrCat(reason, ": ", purpose);
  }
  c.set_reason(reason);
  for (const char* text : {"txtDescrUSNS", "txtDescrTraditional"}) {
    if (std::string t = Trimmed(n.child(text)); !t.empty()) {
      c.set_message_for_pilots(t);
      break;
    }
  }
  const std::string facility = Trimmed(uid.child("codeFacility"));
  c.mutable_authority()->set_name(
      facility.empty() ? "FAA" : absl::StrCat("FAA (", facility, ")"));

  int group_index = 0;
  for (const pugi::xml_node& group : tfr.children("TFRAreaGroup")) {
    const std::string gfield =
        absl::StrCat(tfr_field, ".TFRAreaGroup[", group_index++, "]");
    const pugi::xml_node area = group.child("aseTFRArea");
    const std::string afield = gfield + ".aseTFRArea";
    if (!area) {
      b->Error(afield, "required (the altitude limits)");
      continue;
    }
    const std::optional<Limit> lower = TfrLimit(area, "Lower", afield, b);
    const std::optional<Limit> upper = TfrLimit(area, "Upper", afield, b);
    // Shapes: each aseShapes/Abd is a circle (an Avx of codeType CIR) or a
    // polygon; without them, abdMergedArea is the outline.
    std::vector<std::pair<pugi::xml_node, std::string>> shapes;
    int abd_index = 0;
    for (const pugi::xml_node& abd : group.child("aseShapes").children("Abd")) {
      shapes.push_back(
          {abd, absl::StrCat(gfield, ".aseShapes.Abd[", abd_index++, "]")});
    }
    if (shapes.empty() && group.child("abdMergedArea")) {
      shapes.push_back(
          {group.child("abdMergedArea"), gfield + ".abdMergedArea"});
    }
    if (shapes.empty()) {
      b->Error(gfield, "no shape: expected aseShapes/Abd or abdMergedArea");
      continue;
    }
    for (const auto& [shape, sfield] : shapes) {
      std::vector<geo::LatLng> vertices;
      std::optional<geo::Footprint> footprint;
      std::string radius_field;
      int avx_index = 0;
      bool ok = true;
      for (const pugi::xml_node& avx : shape.children("Avx")) {
        const std::string vfield =
            absl::StrCat(sfield, ".Avx[", avx_index++, "]");
        const std::optional<geo::LatLng> v = Vertex(avx, vfield, b);
        if (!v) {
          ok = false;
          continue;
        }
        if (absl::AsciiStrToUpper(Trimmed(avx.child("codeType"))) == "CIR") {
          const std::optional<double> radius = RadiusM(avx, vfield, b);
          if (!radius) {
            ok = false;
            continue;
          }
          footprint = geo::Circle{*v, *radius};
          radius_field = vfield + ".valRadiusArc";
          break;
        }
        vertices.push_back(*v);
      }
      if (!ok) continue;
      if (!footprint) footprint = b->Clean(std::move(vertices), sfield);
      if (lower && upper) {
        b->AddVolume(*footprint, sfield, radius_field, *lower, *upper);
      }
    }
  }
  if (group_index == 0) {
    b->Error(tfr_field + ".TFRAreaGroup", "required: at least one area");
  }
}

}  // namespace

absl::Status ReadXnotam(absl::string_view content, FileContext* context) {
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed =
      doc.load_buffer(content.data(), content.size());
  if (!parsed) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not valid XML at ",
        Position(content,
                 static_cast<size_t>(std::max<ptrdiff_t>(0, parsed.offset))),
        ": ", parsed.description()));
  }
  if (const pugi::xml_node bad = FirstNonUtf8(doc)) {
    const pugi::xml_node element =
        bad.type() == pugi::node_element ? bad : bad.parent();
    return absl::InvalidArgumentError(absl::StrCat(
        "not valid XML: <", IsUtf8(element.name()) ? element.name() : "?",
        "> holds bytes that are not UTF-8"));
  }
  const pugi::xml_node root = doc.document_element();
  if (std::strcmp(root.name(), "XNOTAM-Update") != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("not XNOTAM: the root element is <", root.name(),
                     ">, expected <XNOTAM-Update>"));
  }
  int index = 0, group_index = 0;
  for (const pugi::xml_node& group : root.children("Group")) {
    int add_index = 0;
    for (const pugi::xml_node& add : group.children("Add")) {
      int not_index = 0;
      for (const pugi::xml_node& n : add.children("Not")) {
        const std::string field =
            absl::StrCat("Group[", group_index, "].Add[", add_index, "].Not[",
                         not_index++, "]");
        const pugi::xml_node uid = n.child("NotUid");
        std::string id = Trimmed(uid.child("txtLocalName"));
        if (id.empty() && !uid.first_child().first_child()) id = Trimmed(uid);
        ZoneBuilder b(context, id, index++, field);
        ReadNot(n, field, &b);
        b.Finish();
      }
      ++add_index;
    }
    ++group_index;
  }
  if (index == 0) {
    context->result->warnings.push_back(
        "no Group/Add/Not element: the file holds no TFR");
  }
  return absl::OkStatus();
}

}  // namespace utm::zones::internal
