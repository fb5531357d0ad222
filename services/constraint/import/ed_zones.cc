// EUROCAE ED-269 (JSON) and ED-318 (GeoJSON) UAS geographical zones.
// Both carry the same zone members (restriction type, reason, message,
// authority, applicability); they differ in geometry and altitude layout.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/constraint/import/zone_import_internal.h"

namespace utm::zones::internal {
namespace {

std::string ValueText(const Json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

void ReadAuthority(const Json& authorities, const std::string& field,
                   v1::ConstraintType type, ZoneBuilder* b) {
  if (!authorities.is_array() && !authorities.is_object()) {
    b->Error(field, absl::StrCat("expected an array or an object, got ",
                                 TypeName(authorities)));
    return;
  }
  // The EUROCONTROL geofencing service gives one authority object.
  Json wrapped = Json::array();
  if (authorities.is_object()) wrapped.push_back(authorities);
  const Json& list = authorities.is_object() ? wrapped : authorities;
  const Json* first = nullptr;
  const Json* grants = nullptr;  // the first authority that authorises
  bool authorization = false, notification = false;
  for (const Json& a : list) {
    if (!a.is_object()) continue;
    const std::string purpose = String(Member(a, "purpose")).value_or("");
    if (purpose == "AUTHORIZATION" || purpose == "AUTHORISATION") {
      authorization = true;
      if (grants == nullptr) grants = &a;
    }
    if (purpose == "NOTIFICATION") notification = true;
    if (first == nullptr) first = &a;
  }
  const Json* chosen = grants != nullptr ? grants : first;
  if (chosen == nullptr) return;
  v1::Authority* authority = b->constraint().mutable_authority();
  std::string name = Text(Member(*chosen, "name")).value_or("");
  if (const std::optional<std::string> service =
          Text(Member(*chosen, "service"))) {
    name = name.empty() ? *service : absl::StrCat(name, " (", *service, ")");
  }
  authority->set_name(name);
  for (const char* contact : {"phone", "email", "siteURL"}) {
    if (const std::optional<std::string> c = String(Member(*chosen, contact))) {
      authority->set_contact(*c);
      break;
    }
  }
  // Only notification is asked for: the operator may unlock the zone
  // themselves by acknowledging it. Anything else needs a grant.
  b->constraint().set_self_unlock_allowed(
      type == v1::CONSTRAINT_TYPE_REQUIRES_AUTHORISATION && notification &&
      !authorization);
}

// ED-269 lowerLimit/upperLimit with their references, in `unit`.
std::optional<Limit> Ed269Limit(const Json& g, const char* value_name,
                                const char* ref_name, std::optional<Unit> unit,
                                const std::string& field, ZoneBuilder* b) {
  Limit limit;
  limit.field = absl::StrCat(field, ".", value_name);
  const Json* value = Member(g, value_name);
  if (value == nullptr) {
    limit.original = g.is_object() && g.contains(value_name) ? "null" : "";
    return limit;
  }
  const std::string text = ValueText(*value);
  if (text == "SFC" || text == "GND") {
    limit.kind = Limit::Kind::kSurface;
    limit.original = text;
    return limit;
  }
  if (text == "UNL") {
    limit.kind = Limit::Kind::kUnlimited;
    limit.original = text;
    return limit;
  }
  const std::optional<double> v = Number(value);
  if (!v) {
    b->Error(limit.field, absl::StrCat(value->dump(), " is not a number"));
    return std::nullopt;
  }
  const std::string ref_field = absl::StrCat(field, ".", ref_name);
  const Json* ref = Member(g, ref_name);
  const std::optional<VerticalReference> reference =
      ParseReference(String(ref).value_or(""));
  if (!reference) {
    b->Error(ref_field,
             ref == nullptr
                 ? std::string("required: AGL, AMSL or WGS84")
                 : absl::StrCat(ref->dump(), " is not AGL, AMSL or WGS84"));
    return std::nullopt;
  }
  if (!unit) return std::nullopt;  // reported by the caller
  limit.kind = Limit::Kind::kValue;
  limit.value = *v;
  limit.unit = *unit;
  limit.reference = *reference;
  limit.original =
      absl::StrCat(text, " ", UnitName(*unit), " ", ReferenceName(*reference));
  return limit;
}

void Ed269Geometry(const Json& g, const std::string& field, ZoneBuilder* b) {
  if (!g.is_object()) {
    b->Error(field, absl::StrCat("expected an object, got ", TypeName(g)));
    return;
  }
  std::optional<Unit> unit;
  const Json* uom = Member(g, "uomDimensions");
  if (uom == nullptr) {
    b->Error(field + ".uomDimensions", "required: M or FT");
  } else {
    unit = ParseUnit(String(uom).value_or(""));
    if (!unit || *unit == Unit::kFlightLevel) {
      b->Error(field + ".uomDimensions",
               absl::StrCat(uom->dump(), " is not M or FT"));
      unit.reset();
    }
  }
  const std::optional<Limit> lower =
      Ed269Limit(g, "lowerLimit", "lowerVerticalReference", unit, field, b);
  const std::optional<Limit> upper =
      Ed269Limit(g, "upperLimit", "upperVerticalReference", unit, field, b);
  const std::string hp_field = field + ".horizontalProjection";
  const Json* hp = Member(g, "horizontalProjection");
  if (hp == nullptr || !hp->is_object()) {
    b->Error(hp_field, "required: an object (Polygon or Circle)");
    return;
  }
  const std::string type = String(Member(*hp, "type")).value_or("");
  geo::Footprint footprint;
  std::string radius_field;
  if (type == "Polygon") {
    const Json* coordinates = Member(*hp, "coordinates");
    if (coordinates == nullptr || !coordinates->is_array() ||
        coordinates->empty()) {
      b->Error(hp_field + ".coordinates", "required: an array of rings");
      return;
    }
    std::optional<geo::Polygon> polygon =
        b->Rings(*coordinates, hp_field + ".coordinates");
    if (!polygon) return;
    footprint = std::move(*polygon);
  } else if (type == "Circle") {
    const Json* center = Member(*hp, "center");
    if (center == nullptr || !center->is_array() || center->size() < 2 ||
        !(*center)[0].is_number() || !(*center)[1].is_number()) {
      b->Error(hp_field + ".center", "required: [longitude, latitude]");
      return;
    }
    radius_field = hp_field + ".radius";
    const Json* radius_json = Member(*hp, "radius");
    const std::optional<double> radius =
        radius_json != nullptr && radius_json->is_number()
            ? std::optional<double>(radius_json->get<double>())
            : std::nullopt;
    if (!radius) {
      b->Error(radius_field, "required: a number, in uomDimensions");
      return;
    }
    geo::Circle circle;
    circle.center = {(*center)[1].get<double>(), (*center)[0].get<double>()};
    circle.radius_m = *radius * (unit == Unit::kFoot ? 0.3048 : 1.0);
    footprint = circle;
  } else {
    b->Error(hp_field + ".type",
             absl::StrCat("\"", type, "\" is not Polygon or Circle"));
    return;
  }
  if (!lower || !upper) return;
  b->AddVolume(footprint, hp_field, radius_field, *lower, *upper);
}

// ED-318 layer {upper, upperReference, lower, lowerReference, uom}.
bool Ed318Layer(const Json* layer, const std::string& field, Limit* lower,
                Limit* upper, ZoneBuilder* b) {
  lower->field = field + ".lower";
  upper->field = field + ".upper";
  if (layer == nullptr) {
    b->Warn(absl::StrCat(field,
                         ": no layer; imported from the surface to the "
                         "default top"));
    return true;
  }
  if (!layer->is_object()) {
    b->Error(field, absl::StrCat("expected an object, got ", TypeName(*layer)));
    return false;
  }
  Unit unit = Unit::kMetre;  // the schema's default
  if (const Json* uom = Member(*layer, "uom")) {
    const std::optional<Unit> u = ParseUnit(String(uom).value_or(""));
    if (!u || *u == Unit::kFlightLevel) {
      b->Error(field + ".uom", absl::StrCat(uom->dump(), " is not m or ft"));
      return false;
    }
    unit = *u;
  }
  bool ok = true;
  for (auto [name, ref_name, limit] :
       {std::tuple{"lower", "lowerReference", lower},
        std::tuple{"upper", "upperReference", upper}}) {
    const Json* value = Member(*layer, name);
    if (value == nullptr) continue;  // missing: surface / default top
    if (!value->is_number()) {
      b->Error(limit->field, absl::StrCat(value->dump(), " is not a number"));
      ok = false;
      continue;
    }
    const std::optional<VerticalReference> reference =
        b->Reference(*layer, ref_name, field);
    if (!reference) {
      ok = false;
      continue;
    }
    limit->kind = Limit::Kind::kValue;
    limit->value = value->get<double>();
    limit->unit = unit;
    limit->reference = *reference;
    limit->original = absl::StrCat(value->dump(), " ", UnitName(unit), " ",
                                   ReferenceName(*reference));
  }
  return ok;
}

void Ed318Geometry(const Json& g, const std::string& field, const Json* layer,
                   std::string layer_field, ZoneBuilder* b, int depth) {
  if (!g.is_object()) {
    b->Error(field, absl::StrCat("expected an object, got ", TypeName(g)));
    return;
  }
  if (const Json* own = Member(g, "layer")) {
    layer = own;
    layer_field = field + ".layer";
  }
  const std::string type = String(Member(g, "type")).value_or("");
  const Json* coordinates = Member(g, "coordinates");
  if (type == "GeometryCollection") {
    const Json* parts = Member(g, "geometries");
    if (depth > 0) {
      b->Error(field, "nested GeometryCollections are not supported");
    } else if (parts == nullptr || !parts->is_array() || parts->empty()) {
      b->Error(field + ".geometries", "required: a non-empty array");
    } else {
      for (size_t i = 0; i < parts->size(); ++i) {
        Ed318Geometry((*parts)[i], absl::StrCat(field, ".geometries[", i, "]"),
                      layer, layer_field, b, depth + 1);
      }
    }
    return;
  }
  Limit lower, upper;
  if (!Ed318Layer(layer, layer_field.empty() ? field + ".layer" : layer_field,
                  &lower, &upper, b)) {
    return;
  }
  if (type == "Polygon" || type == "MultiPolygon") {
    if (coordinates == nullptr || !coordinates->is_array() ||
        coordinates->empty()) {
      b->Error(field + ".coordinates", "required: a non-empty array");
      return;
    }
    std::vector<std::pair<const Json*, std::string>> polygons;
    if (type == "Polygon") {
      polygons.push_back({coordinates, field + ".coordinates"});
    } else {
      for (size_t i = 0; i < coordinates->size(); ++i) {
        polygons.push_back(
            {&(*coordinates)[i], absl::StrCat(field, ".coordinates[", i, "]")});
      }
    }
    for (const auto& [rings, at] : polygons) {
      std::optional<geo::Polygon> polygon = b->Rings(*rings, at);
      if (polygon) b->AddVolume(*polygon, field, "", lower, upper);
    }
    return;
  }
  if (type == "Point") {
    const Json* extent = Member(g, "extent");
    if (extent == nullptr || String(Member(*extent, "subType")) != "Circle") {
      b->Error(field + ".extent",
               "a Point zone needs extent {subType: Circle, radius}");
      return;
    }
    if (coordinates == nullptr || !coordinates->is_array() ||
        coordinates->size() < 2 || !(*coordinates)[0].is_number() ||
        !(*coordinates)[1].is_number()) {
      b->Error(field + ".coordinates", "required: [longitude, latitude]");
      return;
    }
    const Json* radius = Member(*extent, "radius");
    if (radius == nullptr || !radius->is_number()) {
      b->Error(field + ".extent.radius", "required: a number of metres");
      return;
    }
    geo::Circle circle;
    circle.center = {(*coordinates)[1].get<double>(),
                     (*coordinates)[0].get<double>()};
    circle.radius_m = radius->get<double>();
    b->AddVolume(circle, field, field + ".extent.radius", lower, upper);
    return;
  }
  b->Error(field + ".type",
           absl::StrCat("\"", type,
                        "\" is not supported (Polygon, MultiPolygon, Point "
                        "with a Circle extent, GeometryCollection)"));
}

}  // namespace

void ReadZoneProperties(const Json& props, const std::string& field, bool ed318,
                        ZoneBuilder* b) {
  v1::Constraint& c = b->constraint();
  const char* type_name = ed318 ? "type" : "restriction";
  const std::string type_field = absl::StrCat(field, ".", type_name);
  const Json* type_json = Member(props, type_name);
  const std::optional<std::string> type_text = String(type_json);
  const std::optional<v1::ConstraintType> type =
      type_text ? RestrictionType(*type_text, ed318) : std::nullopt;
  if (!type) {
    std::string message =
        type_json == nullptr
            ? "required"
            : absl::StrCat(type_json->dump(), " is not a restriction type");
    absl::StrAppend(&message,
                    ed318 ? " (USPACE, PROHIBITED, REQ_AUTHORIZATION, "
                            "CONDITIONAL, NO_RESTRICTION)"
                          : " (PROHIBITED, REQ_AUTHORISATION, CONDITIONAL, "
                            "NO_RESTRICTION)");
    if (type_text == (ed318 ? "REQ_AUTHORISATION" : "REQ_AUTHORIZATION")) {
      absl::StrAppend(&message, ed318 ? "; ED-318 spells it REQ_AUTHORIZATION"
                                      : "; ED-269 spells it REQ_AUTHORISATION");
    }
    b->Error(type_field, message);
  } else {
    c.set_type(*type);
  }

  std::vector<std::string> reason;
  if (const Json* codes = Member(props, "reason")) {
    if (codes->is_array()) {
      for (const Json& code : *codes) {
        if (code.is_string()) reason.push_back(code.get<std::string>());
      }
    } else if (codes->is_string()) {
      reason.push_back(codes->get<std::string>());
    }
  }
  std::string why = absl::StrJoin(reason, ", ");
  if (const std::optional<std::string> other =
          Text(Member(props, "otherReasonInfo"))) {
    why = why.empty() ? *other : absl::StrCat(why, ": ", *other);
  }
  if (const std::optional<std::string> name = Text(Member(props, "name"))) {
    why = why.empty() ? *name : absl::StrCat(*name, " — ", why);
  }
  c.set_reason(why);

  std::string message = Text(Member(props, "message")).value_or("");
  if (const std::optional<std::string> conditions =
          Text(Member(props, "restrictionConditions"))) {
    if (c.type() == v1::CONSTRAINT_TYPE_CONDITIONAL) {
      c.mutable_conditions()->add_text(*conditions);
    } else {
      absl::StrAppend(&message, message.empty() ? "" : "\n",
                      "Conditions: ", *conditions);
    }
  }
  if (ed318 && type_text == "USPACE") {
    c.mutable_conditions()->add_text(
        "U-space airspace: fly only with U-space services");
  }
  c.set_message_for_pilots(message);

  if (const Json* authority = Member(props, "zoneAuthority")) {
    ReadAuthority(*authority, field + ".zoneAuthority", c.type(), b);
  }
  const char* applicability = ed318 ? "limitedApplicability" : "applicability";
  if (const Json* list = Member(props, applicability)) {
    b->Applicability(*list, absl::StrCat(field, ".", applicability));
  }
}

absl::Status ReadEd269(const Json& root, FileContext* context) {
  const Json* list = nullptr;
  std::string list_name;
  if (root.is_array()) {
    list = &root;
  } else {
    for (const char* name : {"UASZoneList", "features", "uas_zones"}) {
      list = Member(root, name);
      list_name = name;
      if (list != nullptr) break;
    }
  }
  if (list == nullptr || !list->is_array()) {
    return absl::InvalidArgumentError(
        "not ED-269: expected an array \"UASZoneList\", \"features\" or "
        "\"uas_zones\"");
  }
  for (size_t i = 0; i < list->size(); ++i) {
    const Json& zone = (*list)[i];
    const std::string field = absl::StrCat(list_name, "[", i, "]");
    ZoneBuilder b(context, String(Member(zone, "identifier")).value_or(""),
                  static_cast<int>(i), field);
    if (!zone.is_object()) {
      b.Error(field, absl::StrCat("expected an object, got ", TypeName(zone)));
      b.Finish();
      continue;
    }
    ReadZoneProperties(zone, field, /*ed318=*/false, &b);
    const Json* geometry = Member(zone, "geometry");
    if (geometry != nullptr && geometry->is_object() &&
        geometry->contains("horizontalProjection")) {
      // One ED-269 geometry not wrapped in its array.
      Ed269Geometry(*geometry, field + ".geometry", &b);
    } else if (geometry != nullptr && geometry->is_object()) {
      // The EUROCONTROL geofencing service's single AirspaceVolume.
      EurocontrolVolume(*geometry, field + ".geometry", &b);
    } else if (geometry == nullptr || !geometry->is_array() ||
               geometry->empty()) {
      b.Error(field + ".geometry", "required: a non-empty array");
    } else {
      for (size_t j = 0; j < geometry->size(); ++j) {
        Ed269Geometry((*geometry)[j], absl::StrCat(field, ".geometry[", j, "]"),
                      &b);
      }
    }
    b.Finish();
  }
  return absl::OkStatus();
}

absl::Status ReadEd318(const Json& root, FileContext* context) {
  std::vector<const Json*> features;
  std::string list_name = "features";
  const std::string type = String(Member(root, "type")).value_or("");
  if (type == "Feature") {
    features.push_back(&root);
    list_name.clear();
  } else if (const Json* list = Member(root, "features");
             list != nullptr && list->is_array()) {
    for (const Json& f : *list) features.push_back(&f);
  } else {
    return absl::InvalidArgumentError(
        "not ED-318: expected a FeatureCollection with \"features\" or a "
        "Feature");
  }
  if (const Json* metadata = Member(root, "metadata")) {
    for (const char* member : {"validFrom", "validTo", "issued"}) {
      const Json* value = Member(*metadata, member);
      if (value != nullptr &&
          (!value->is_string() || !ParseDateTime(value->get<std::string>()))) {
        context->result->warnings.push_back(
            absl::StrCat("metadata.", member, ": ", value->dump(),
                         " is not an RFC 3339 date-time (ignored)"));
      }
    }
  }
  for (size_t i = 0; i < features.size(); ++i) {
    const Json& f = *features[i];
    const std::string field =
        list_name.empty() ? "" : absl::StrCat(list_name, "[", i, "]");
    const Json* props = Member(f, "properties");
    ZoneBuilder b(context,
                  props != nullptr
                      ? String(Member(*props, "identifier")).value_or("")
                      : "",
                  static_cast<int>(i), field);
    const std::string prefix = field.empty() ? "" : field + ".";
    if (props == nullptr || !props->is_object()) {
      b.Error(prefix + "properties", "required: the zone's properties");
    } else {
      ReadZoneProperties(*props, prefix + "properties", /*ed318=*/true, &b);
    }
    const Json* geometry = Member(f, "geometry");
    if (geometry == nullptr) {
      b.Error(prefix + "geometry", "required");
    } else {
      Ed318Geometry(*geometry, prefix + "geometry", nullptr, "", &b, 0);
    }
    b.Finish();
  }
  return absl::OkStatus();
}

}  // namespace utm::zones::internal
