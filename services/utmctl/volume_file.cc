#include "services/utmctl/volume_file.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "geo/status_macros.h"
#include "geo/volume.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "services/common/volume_convert.h"
#include "services/constraint/import/height_grid.h"

namespace utm::ctl {
namespace {

using Json = nlohmann::json;

absl::Status Bad(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

const Json* Find(const Json& object, std::initializer_list<const char*> names) {
  if (!object.is_object()) return nullptr;
  for (const char* name : names) {
    auto it = object.find(name);
    if (it != object.end() && !it->is_null()) return &*it;
  }
  return nullptr;
}

// The string member `name` of `object`; empty when it is absent or not a
// string (Json::value() would throw).
std::string StringMember(const Json& object, const char* name) {
  const Json* member = Find(object, {name});
  return member != nullptr && member->is_string() ? member->get<std::string>()
                                                  : "";
}

// The heights under one feature's footprint, looked up on first need.
struct Heights {
  const zones::ElevationModel* model;
  geo::Footprint footprint;
  std::string field;  // the geometry's, for validation errors
  std::optional<absl::StatusOr<elevation::HeightRange>> ground, geoid;
};

// Metres above WGS84. The lower altitude goes over the lowest and the upper
// over the highest surface under the footprint, so the volume holds the
// stated band everywhere (the intent reserves all the airspace its flight at
// that height above ground or sea level can use).
absl::StatusOr<double> Altitude(const Json& properties, const char* name,
                                const std::string& field, bool upper,
                                Heights* heights) {
  const std::string where = absl::StrCat(field, ".properties.", name);
  const Json* altitude = Find(properties, {name});
  if (altitude == nullptr) return Bad(where, "required");
  const Json* value = Find(*altitude, {"meters", "metres", "value"});
  if (value == nullptr || !value->is_number()) {
    return Bad(where, "needs a number in \"meters\"");
  }
  const Json* datum = Find(*altitude, {"datum", "reference"});
  const std::string d = datum != nullptr && datum->is_string()
                            ? absl::AsciiStrToLower(datum->get<std::string>())
                            : "w84";
  const double m = value->get<double>();
  if (d == "w84" || d == "wgs84") return m;
  const bool agl = d == "agl";
  if (!agl && d != "amsl" && d != "msl") {
    return Bad(where, absl::StrCat("datum \"", d,
                                   "\" is not supported: w84, amsl or agl"));
  }
  if (heights->model == nullptr) {
    return Bad(where, absl::StrCat("datum ", d,
                                   " is not read here; give W84 altitudes"));
  }
  std::optional<absl::StatusOr<elevation::HeightRange>>& range =
      agl ? heights->ground : heights->geoid;
  if (!range) {
    // The ground under a footprint is looked up only once it is valid.
    const absl::Status valid =
        std::holds_alternative<geo::Circle>(heights->footprint)
            ? geo::ValidateCircle(std::get<geo::Circle>(heights->footprint),
                                  geo::ValidationLimits(), heights->field)
            : geo::ValidatePolygon(std::get<geo::Polygon>(heights->footprint),
                                   geo::ValidationLimits(), heights->field);
    if (!valid.ok()) return valid;
    range = agl ? heights->model->GroundRangeM(heights->footprint)
                : heights->model->GeoidRangeM(heights->footprint);
  }
  if (!range->ok()) {
    return Bad(where, absl::StrCat(agl ? "AGL needs terrain: "
                                       : "AMSL needs the geoid: ",
                                   range->status().message()));
  }
  return m + (upper ? (*range)->max_m : (*range)->min_m);
}

absl::StatusOr<google::protobuf::Timestamp> Time(
    const Json& properties, const Json& root,
    std::initializer_list<const char*> names, const std::string& where) {
  const Json* t = Find(properties, names);
  if (t == nullptr) t = Find(root, names);
  if (t == nullptr || !t->is_string()) return Bad(where, "required (RFC 3339)");
  absl::Time parsed;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, t->get<std::string>(), &parsed,
                       &error)) {
    return Bad(where, absl::StrCat("\"", t->get<std::string>(),
                                   "\" is not RFC 3339: ", error));
  }
  return TimeToProto(parsed);
}

absl::Status AddFeature(const Json& feature, const Json& root,
                        const std::string& field,
                        const VolumeFileOptions& options,
                        v1::FileIntentRequest* request) {
  const Json* geometry = Find(feature, {"geometry"});
  if (geometry == nullptr) return Bad(field + ".geometry", "required");
  if (!geometry->is_object()) return Bad(field + ".geometry", "not an object");
  const Json empty = Json::object();
  const Json* props = Find(feature, {"properties"});
  const Json& properties = props != nullptr ? *props : empty;
  v1::Volume4D* volume = request->add_volumes();
  v1::Volume3D* v3 = volume->mutable_volume();
  Heights heights{options.elevation, geo::Polygon{}, field + ".geometry",
                  std::nullopt, std::nullopt};
  const std::string type = StringMember(*geometry, "type");
  const Json* coordinates = Find(*geometry, {"coordinates"});
  if (coordinates == nullptr || !coordinates->is_array()) {
    return Bad(field + ".geometry.coordinates", "required");
  }
  if (type == "Polygon") {
    // The first ring is the outer one, later rings are holes.
    if (coordinates->empty()) {
      return Bad(field + ".geometry.coordinates", "expected at least one ring");
    }
    v1::Polygon* out = v3->mutable_outline_polygon();
    for (size_t r = 0; r < coordinates->size(); ++r) {
      const Json& ring = (*coordinates)[r];
      const std::string ring_field =
          absl::StrCat(field, ".geometry.coordinates[", r, "]");
      if (!ring.is_array()) {
        return Bad(ring_field,
                   "expected a ring of [longitude, latitude] positions");
      }
      auto* vertices = r == 0 ? out->mutable_vertices()
                              : out->add_holes()->mutable_vertices();
      for (size_t i = 0; i < ring.size(); ++i) {
        const Json& p = ring[i];
        if (!p.is_array() || p.size() < 2 || !p[0].is_number() ||
            !p[1].is_number()) {
          return Bad(absl::StrCat(ring_field, "[", i, "]"),
                     "expected [longitude, latitude]");
        }
        // GeoJSON closes the ring by repeating the first position.
        if (i + 1 == ring.size() && i > 0 && p == ring[0]) break;
        v1::LatLng* vertex = vertices->Add();
        vertex->set_lng_deg(p[0].get<double>());
        vertex->set_lat_deg(p[1].get<double>());
      }
    }
    geo::Polygon polygon = PolygonFromProto(*out);
    heights.footprint = std::move(polygon);
  } else if (type == "Point") {
    const Json* radius = Find(properties, {"radius_m", "radius"});
    if (radius == nullptr || !radius->is_number()) {
      return Bad(field + ".properties.radius_m", "required for a Point");
    }
    if (coordinates->size() < 2 || !(*coordinates)[0].is_number() ||
        !(*coordinates)[1].is_number()) {
      return Bad(field + ".geometry.coordinates",
                 "expected [longitude, latitude]");
    }
    v1::Circle* circle = v3->mutable_outline_circle();
    circle->mutable_center()->set_lng_deg((*coordinates)[0].get<double>());
    circle->mutable_center()->set_lat_deg((*coordinates)[1].get<double>());
    circle->set_radius_m(radius->get<double>());
    heights.footprint =
        geo::Circle{{circle->center().lat_deg(), circle->center().lng_deg()},
                    circle->radius_m()};
  } else {
    return Bad(field + ".geometry.type",
               absl::StrCat("\"", type,
                            "\" is not supported (Polygon, or Point with "
                            "properties.radius_m)"));
  }
  UTM_ASSIGN_OR_RETURN(double lower, Altitude(properties, "min_altitude", field,
                                              /*upper=*/false, &heights));
  UTM_ASSIGN_OR_RETURN(double upper, Altitude(properties, "max_altitude", field,
                                              /*upper=*/true, &heights));
  v3->mutable_altitude_lower()->set_value_m(lower);
  v3->mutable_altitude_lower()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  v3->mutable_altitude_upper()->set_value_m(upper);
  v3->mutable_altitude_upper()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  UTM_ASSIGN_OR_RETURN(*volume->mutable_time_start(),
                       Time(properties, root, {"start_datetime", "start_time"},
                            field + ".properties.start_datetime"));
  UTM_ASSIGN_OR_RETURN(*volume->mutable_time_end(),
                       Time(properties, root, {"end_datetime", "end_time"},
                            field + ".properties.end_datetime"));
  return absl::OkStatus();
}

absl::Status ParseJson(const std::string& path, const std::string& text,
                       Json* out) {
  try {
    *out = Json::parse(text);
  } catch (const Json::parse_error& e) {
    const auto [line, column] = LineColumn(text, e.byte);
    // what(): "[json.exception.parse_error.101] parse error at ...: <why>".
    const absl::string_view what = e.what();
    const size_t why = what.find("syntax error");
    return absl::DataLossError(
        absl::StrCat(path, ":", line, ":", column, ": not JSON: ",
                     why == absl::string_view::npos ? what : what.substr(why)));
  } catch (const Json::exception& e) {  // a number out of range
    return absl::DataLossError(absl::StrCat(path, ": not JSON: ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckJsonSyntax(const std::string& path, const std::string& text) {
  Json ignored;
  return ParseJson(path, text, &ignored);
}

std::pair<int, int> LineColumn(absl::string_view text, size_t byte) {
  // `byte` counts from 1; past the end it means "at the end".
  const size_t at = std::min(byte == 0 ? 0 : byte - 1, text.size());
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {line, static_cast<int>(at - line_start) + 1};
}

absl::StatusOr<VolumeFile> ReadVolumeFile(const std::string& path,
                                          const VolumeFileOptions& options) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::stringstream text;
  text << in.rdbuf();
  Json root;
  if (absl::Status s = ParseJson(path, text.str(), &root); !s.ok()) return s;
  const Json* collection = Find(root, {"flight_declaration_geo_json"});
  const Json& geo = collection != nullptr ? *collection : root;
  const std::string type = StringMember(geo, "type");
  VolumeFile out;
  if (type == "FeatureCollection" || type == "Feature") {
    out.list_name = "features";
    std::vector<const Json*> features;
    if (type == "Feature") {
      features.push_back(&geo);
    } else if (const Json* list = Find(geo, {"features"});
               list != nullptr && list->is_array()) {
      for (const Json& f : *list) features.push_back(&f);
    }
    for (size_t i = 0; i < features.size(); ++i) {
      absl::Status s =
          AddFeature(*features[i], root, absl::StrCat("features[", i, "]"),
                     options, &out.request);
      if (!s.ok()) {
        return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
      }
    }
    return out;
  }
  const auto parsed =
      google::protobuf::util::JsonStringToMessage(text.str(), &out.request);
  if (!parsed.ok()) {
    return absl::DataLossError(absl::StrCat(
        path,
        ": neither a utm.v1 volume file nor GeoJSON: ", parsed.ToString()));
  }
  return out;
}

}  // namespace utm::ctl
