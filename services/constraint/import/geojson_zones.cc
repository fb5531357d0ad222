// Plain GeoJSON geofences (e.g. openutm Flight Blender's), and the GeoJSON
// that ExportGeoJson writes. Whatever the file does not say comes from
// ImportOptions (type, altitude reference and limits).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/volume_convert.h"
#include "services/constraint/import/zone_import_internal.h"

namespace utm::zones::internal {
namespace {

std::optional<v1::ConstraintType> GeoJsonType(absl::string_view text) {
  const std::string upper = absl::AsciiStrToUpper(text);
  absl::string_view t = upper;
  absl::ConsumePrefix(&t, "CONSTRAINT_TYPE_");
  if (t == "PROHIBITED") return v1::CONSTRAINT_TYPE_PROHIBITED;
  if (t == "REQUIRES_AUTHORISATION" || t == "REQUIRES_AUTHORIZATION" ||
      t == "REQ_AUTHORISATION" || t == "REQ_AUTHORIZATION") {
    return v1::CONSTRAINT_TYPE_REQUIRES_AUTHORISATION;
  }
  if (t == "CONDITIONAL") return v1::CONSTRAINT_TYPE_CONDITIONAL;
  if (t == "ADVISORY" || t == "NO_RESTRICTION") {
    return v1::CONSTRAINT_TYPE_ADVISORY;
  }
  return std::nullopt;
}

// A member holding proto JSON (our export's schedule, authority, ...).
template <typename Message>
void ProtoMember(const Json& props, const char* name, const std::string& field,
                 Message* out, ZoneBuilder* b) {
  const Json* value = Member(props, name);
  if (value == nullptr) return;
  const auto status =
      google::protobuf::util::JsonStringToMessage(value->dump(), out);
  if (!status.ok()) {
    b->Error(absl::StrCat(field, ".", name), status.ToString());
  }
}

void ReadMeta(const Json& props, const std::string& field,
              const ImportOptions& options, ZoneBuilder* b) {
  v1::Constraint& c = b->constraint();
  c.set_type(options.geojson_type);
  if (const Json* type = Member(props, "type")) {
    const std::optional<v1::ConstraintType> t =
        GeoJsonType(String(type).value_or(""));
    if (!t) {
      b->Error(field + ".type",
               absl::StrCat(type->dump(),
                            " is not PROHIBITED, REQUIRES_AUTHORISATION, "
                            "CONDITIONAL or ADVISORY"));
    } else {
      c.set_type(*t);
    }
  }
  c.set_reason(Text(Member(props, "reason"))
                   .value_or(Text(Member(props, "name")).value_or("")));
  c.set_message_for_pilots(
      Text(Member(props, "message_for_pilots"))
          .value_or(Text(Member(props, "message")).value_or("")));
  if (const Json* unlock = Member(props, "self_unlock_allowed");
      unlock != nullptr && unlock->is_boolean()) {
    c.set_self_unlock_allowed(unlock->get<bool>());
  }
  ProtoMember(props, "authority", field, c.mutable_authority(), b);
  ProtoMember(props, "conditions", field, c.mutable_conditions(), b);
  ProtoMember(props, "schedule", field, c.mutable_schedule(), b);
  // Passing mutable_*() creates the member even when the property is
  // absent; an empty one is not there (and the server refuses conditions
  // on a zone that is not CONDITIONAL).
  if (c.authority().ByteSizeLong() == 0) c.clear_authority();
  if (c.conditions().ByteSizeLong() == 0) c.clear_conditions();
  if (c.schedule().ByteSizeLong() == 0) c.clear_schedule();
  // Flight Blender: the geofence's validity.
  for (const char* bound : {"start_datetime", "end_datetime"}) {
    const Json* value = Member(props, bound);
    if (value == nullptr) continue;
    const std::optional<absl::Time> t =
        value->is_string() ? ParseDateTime(value->get<std::string>())
                           : std::nullopt;
    if (!t) {
      b->Error(absl::StrCat(field, ".", bound),
               absl::StrCat(value->dump(), " is not an RFC 3339 date-time"));
      continue;
    }
    v1::TimeWindow* absolute = c.mutable_schedule()->mutable_absolute();
    *(bound[0] == 's' ? absolute->mutable_start() : absolute->mutable_end()) =
        TimeToProto(*t);
  }
}

// A bare number of metres above `reference`.
Limit Metres(double value, VerticalReference reference, std::string field) {
  Limit limit;
  limit.kind = Limit::Kind::kValue;
  limit.value = value;
  limit.reference = reference;
  limit.field = std::move(field);
  limit.original = absl::StrCat(value, " M ", ReferenceName(reference));
  return limit;
}

// The altitude limits of a feature: ours (altitude_lower_m / _upper_m,
// WGS84 unless altitude_reference says otherwise), Flight Blender's
// (lower_limit / upper_limit), utmctl volume files' (min_altitude /
// max_altitude {meters, datum}), else the options.
bool ReadLimits(const Json& props, const std::string& field,
                const ImportOptions& options, Limit* lower, Limit* upper,
                ZoneBuilder* b) {
  VerticalReference reference = options.geojson_reference;
  bool ours =
      props.contains("altitude_lower_m") || props.contains("altitude_upper_m");
  if (ours) reference = VerticalReference::kWgs84;
  if (const Json* ref = Member(props, "altitude_reference")) {
    const std::optional<VerticalReference> r =
        ParseReference(String(ref).value_or(""));
    if (!r) {
      b->Error(field + ".altitude_reference",
               absl::StrCat(ref->dump(), " is not AGL, AMSL or WGS84"));
      return false;
    }
    reference = *r;
  }
  bool ok = true;
  for (auto [limit, names, fallback] :
       {std::tuple{lower,
                   std::vector<const char*>{"altitude_lower_m", "lower_limit",
                                            "min_altitude"},
                   options.geojson_lower_m},
        std::tuple{upper,
                   std::vector<const char*>{"altitude_upper_m", "upper_limit",
                                            "max_altitude"},
                   options.geojson_upper_m}}) {
    const Json* value = nullptr;
    const char* name = nullptr;
    for (const char* n : names) {
      if ((value = Member(props, n)) != nullptr) {
        name = n;
        break;
      }
    }
    const std::string at = name != nullptr ? absl::StrCat(field, ".", name)
                                           : absl::StrCat(field, ".", names[1]);
    if (value == nullptr) {
      if (fallback) {
        *limit = Metres(*fallback, options.geojson_reference, at);
      } else {
        limit->field = at;
      }
      continue;
    }
    if (value->is_object()) {  // {"meters": 120, "datum": "agl"}
      const Json* m = Member(*value, "meters");
      if (m == nullptr) m = Member(*value, "metres");
      if (m == nullptr) m = Member(*value, "value");
      const std::optional<VerticalReference> datum =
          ParseReference(String(Member(*value, "datum")).value_or("w84"));
      if (m == nullptr || !m->is_number() || !datum) {
        b->Error(at,
                 "expected {\"meters\": number, \"datum\": w84, amsl or agl}");
        ok = false;
        continue;
      }
      *limit = Metres(m->get<double>(), *datum, at);
      continue;
    }
    const std::optional<double> v = Number(value);
    if (!v) {
      b->Error(at, absl::StrCat(value->dump(), " is not a number of metres"));
      ok = false;
      continue;
    }
    *limit = Metres(*v, reference, at);
  }
  return ok;
}

// `props` are the Feature's properties, at `props_field` (a Point's radius
// is there, not in the geometry at `field`).
void Geometry(const Json& g, const Json& props, const std::string& props_field,
              const std::string& field, const Limit& lower, const Limit& upper,
              ZoneBuilder* b, int depth) {
  if (!g.is_object()) {
    b->Error(field, absl::StrCat("expected an object, got ", TypeName(g)));
    return;
  }
  const std::string type = String(Member(g, "type")).value_or("");
  const Json* coordinates = Member(g, "coordinates");
  if (type == "GeometryCollection" && depth == 0) {
    const Json* parts = Member(g, "geometries");
    if (parts == nullptr || !parts->is_array()) {
      b->Error(field + ".geometries", "required: an array");
      return;
    }
    for (size_t i = 0; i < parts->size(); ++i) {
      Geometry((*parts)[i], props, props_field,
               absl::StrCat(field, ".geometries[", i, "]"), lower, upper, b,
               depth + 1);
    }
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
      if (std::optional<geo::Polygon> p = b->Rings(*rings, at)) {
        b->AddVolume(*p, field, "", lower, upper);
      }
    }
    return;
  }
  if (type == "Point") {
    if (coordinates == nullptr || !coordinates->is_array() ||
        coordinates->size() < 2 || !(*coordinates)[0].is_number() ||
        !(*coordinates)[1].is_number()) {
      b->Error(field + ".coordinates", "required: [longitude, latitude]");
      return;
    }
    const char* radius_name = "radius_m";
    const Json* radius = Member(props, radius_name);
    if (radius == nullptr) radius = Member(props, radius_name = "radius");
    if (radius == nullptr || !radius->is_number()) {
      b->Error(props_field + ".radius_m", "a Point needs a radius in metres");
      return;
    }
    geo::Circle circle;
    circle.center = {(*coordinates)[1].get<double>(),
                     (*coordinates)[0].get<double>()};
    circle.radius_m = radius->get<double>();
    b->AddVolume(circle, field, absl::StrCat(props_field, ".", radius_name),
                 lower, upper);
    return;
  }
  b->Error(field + ".type",
           absl::StrCat("\"", type,
                        "\" is not supported (Polygon, MultiPolygon, Point "
                        "with properties.radius_m, GeometryCollection)"));
}

}  // namespace

absl::Status ReadGeoJson(const Json& root, FileContext* context) {
  const ImportOptions& options = *context->options;
  std::vector<const Json*> features;
  bool single = false;
  const std::string type = String(Member(root, "type")).value_or("");
  const Json bare = Json{{"type", "Feature"}, {"geometry", root}};
  if (type == "FeatureCollection") {
    const Json* list = Member(root, "features");
    if (list == nullptr || !list->is_array()) {
      return absl::InvalidArgumentError(
          "a FeatureCollection needs an array \"features\"");
    }
    for (const Json& f : *list) features.push_back(&f);
  } else if (type == "Feature") {
    features.push_back(&root);
    single = true;
  } else if (root.is_object() && root.contains("coordinates")) {
    features.push_back(&bare);  // a bare geometry
    single = true;
  } else {
    return absl::InvalidArgumentError(
        "not GeoJSON: expected a FeatureCollection, a Feature or a geometry");
  }
  // Our export writes one Feature per volume; those sharing a constraint_id
  // are one zone again.
  std::vector<std::unique_ptr<ZoneBuilder>> builders;
  std::map<std::string, ZoneBuilder*> by_constraint;
  const Json no_properties = Json::object();
  for (size_t i = 0; i < features.size(); ++i) {
    const Json& f = *features[i];
    const std::string field = single ? "" : absl::StrCat("features[", i, "]");
    const std::string prefix = single ? "" : field + ".";
    const Json* props_json = Member(f, "properties");
    const Json& props = props_json != nullptr && props_json->is_object()
                            ? *props_json
                            : no_properties;
    const std::optional<std::string> constraint_id =
        String(Member(props, "constraint_id"));
    std::optional<std::string> group = constraint_id;
    if (const Json* index = Member(props, "constraint_index");
        !group && index != nullptr && index->is_number_integer()) {
      group = absl::StrCat("#", index->get<int64_t>());
    }
    ZoneBuilder* b = nullptr;
    if (group && by_constraint.count(*group) > 0) {
      b = by_constraint[*group];
    } else {
      std::string id = constraint_id.value_or("");
      if (const Json* source = Member(props, "source"); id.empty() && source) {
        id = String(Member(*source, "original_id")).value_or("");
      }
      for (const char* name : {"id", "identifier", "name"}) {
        if (!id.empty()) break;
        id = String(Member(props, name)).value_or("");
      }
      if (id.empty()) {
        if (const Json* fid = Member(f, "id")) {
          id = fid->is_string() ? fid->get<std::string>() : fid->dump();
        }
      }
      builders.push_back(std::make_unique<ZoneBuilder>(
          context, id, static_cast<int>(i), field));
      b = builders.back().get();
      if (group) by_constraint[*group] = b;
      if (!f.is_object()) {
        b->Error(field, absl::StrCat("expected a Feature, got ", TypeName(f)));
        continue;
      }
      ReadMeta(props, prefix + "properties", options, b);
    }
    Limit lower, upper;
    if (!ReadLimits(props, prefix + "properties", options, &lower, &upper, b)) {
      continue;
    }
    const int before = b->constraint().volumes_size();
    // Our export: the exact circle beside its polygon drawing.
    const Json* circle = Member(props, "circle");
    const Json* geometry = Member(f, "geometry");
    if (circle != nullptr) {
      const Json* center = Member(*circle, "center");
      const Json* radius = Member(*circle, "radius_m");
      if (center == nullptr || !center->is_array() || center->size() < 2 ||
          !(*center)[0].is_number() || !(*center)[1].is_number() ||
          radius == nullptr || !radius->is_number()) {
        b->Error(prefix + "properties.circle",
                 "expected {\"center\": [longitude, latitude], \"radius_m\": "
                 "number}");
        continue;
      }
      geo::Circle c;
      c.center = {(*center)[1].get<double>(), (*center)[0].get<double>()};
      c.radius_m = radius->get<double>();
      b->AddVolume(c, prefix + "properties.circle",
                   prefix + "properties.circle.radius_m", lower, upper);
    } else if (geometry == nullptr) {
      b->Error(prefix + "geometry", "required");
      continue;
    } else {
      Geometry(*geometry, props, prefix + "properties", prefix + "geometry",
               lower, upper, b, 0);
    }
    // Our export: each volume's own time bounds.
    for (const char* bound : {"time_start", "time_end"}) {
      const Json* value = Member(props, bound);
      if (value == nullptr) continue;
      const std::optional<absl::Time> t =
          value->is_string() ? ParseDateTime(value->get<std::string>())
                             : std::nullopt;
      if (!t) {
        b->Error(absl::StrCat(prefix, "properties.", bound),
                 absl::StrCat(value->dump(), " is not an RFC 3339 date-time"));
        continue;
      }
      for (int v = before; v < b->constraint().volumes_size(); ++v) {
        v1::Volume4D* volume = b->constraint().mutable_volumes(v);
        *(bound[5] == 's' ? volume->mutable_time_start()
                          : volume->mutable_time_end()) = TimeToProto(*t);
      }
    }
  }
  for (const auto& b : builders) b->Finish();
  return absl::OkStatus();
}

}  // namespace utm::zones::internal
