// The EUROCONTROL geofencing service's UASZone (an ED-269 draft): its
// provisioning files wrap the zones as {"uas_zones": [zone…]}. A zone's
// members are ED-269's (ReadZoneProperties reads them, with `applicability`
// and `zoneAuthority` as single objects); its `geometry` is one
// AirspaceVolume:
//   {"polygon": [{"LAT": "50.862525", "LON": "4.328120"}, …],
//    "lowerLimit": 0, "lowerVerticalReference": "AGL",
//    "upperLimit": 120, "upperVerticalReference": "AGL"}
// with limits in metres (absent: the surface / unlimited) and coordinates
// as strings or numbers.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/constraint/import/zone_import_internal.h"

namespace utm::zones::internal {
namespace {

// lowerLimit / upperLimit in metres with their reference; false after
// recording the error.
bool ReadMetres(const Json& volume, const char* value_name,
                const char* ref_name, const std::string& field, Limit* limit,
                ZoneBuilder* b) {
  limit->field = absl::StrCat(field, ".", value_name);
  const Json* value = Member(volume, value_name);
  if (value == nullptr) return true;  // the surface / unlimited
  const std::optional<double> metres = Number(value);
  if (!metres) {
    b->Error(limit->field, absl::StrCat(value->dump(), " is not a number"));
    return false;
  }
  const std::optional<VerticalReference> reference =
      b->Reference(volume, ref_name, field);
  if (!reference) return false;
  limit->kind = Limit::Kind::kValue;
  limit->value = *metres;
  limit->unit = Unit::kMetre;
  limit->reference = *reference;
  limit->original = absl::StrCat(
      value->is_string() ? value->get<std::string>() : value->dump(), " M ",
      ReferenceName(*reference));
  return true;
}

}  // namespace

void EurocontrolVolume(const Json& volume, const std::string& field,
                       ZoneBuilder* b) {
  if (!volume.is_object()) {
    b->Error(field, absl::StrCat("expected an object, got ", TypeName(volume)));
    return;
  }
  Limit lower, upper;
  // Both read, so that both limits' errors are reported.
  const bool lower_ok = ReadMetres(volume, "lowerLimit",
                                   "lowerVerticalReference", field, &lower, b);
  const bool upper_ok = ReadMetres(volume, "upperLimit",
                                   "upperVerticalReference", field, &upper, b);
  const bool limits_ok = lower_ok && upper_ok;
  const std::string polygon_field = field + ".polygon";
  const Json* points = Member(volume, "polygon");
  if (points == nullptr || !points->is_array()) {
    b->Error(polygon_field,
             "required: an array of points {\"LAT\": …, \"LON\": …}");
    return;
  }
  std::vector<geo::LatLng> vertices;
  vertices.reserve(points->size());
  bool points_ok = true;
  for (size_t i = 0; i < points->size(); ++i) {
    const Json& p = (*points)[i];
    const std::optional<double> lat = Number(Member(p, "LAT"));
    const std::optional<double> lng = Number(Member(p, "LON"));
    if (!lat || !lng) {
      b->Error(absl::StrCat(polygon_field, "[", i, "]"),
               absl::StrCat("expected {\"LAT\": degrees, \"LON\": degrees}, "
                            "got ",
                            p.dump().substr(0, 80)));
      points_ok = false;
      break;  // one message per polygon is enough
    }
    vertices.push_back({*lat, *lng});
  }
  if (!points_ok || !limits_ok) return;
  const geo::Polygon polygon = b->Clean(std::move(vertices), polygon_field);
  b->AddVolume(polygon, polygon_field, "", lower, upper);
}

}  // namespace utm::zones::internal
