// ExportGeoJson: constraints as a GeoJSON FeatureCollection for aircraft to
// carry offline (format in docs/zones.md).
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "geo/geodesy.h"
#include "nlohmann/json.hpp"
#include "services/common/proto_json.h"
#include "services/common/volume_convert.h"
#include "services/constraint/import/zone_import.h"

namespace utm::zones {
namespace {

using Json = nlohmann::json;

Json Position(const v1::LatLng& p) {
  return Json::array({p.lng_deg(), p.lat_deg()});
}

std::string Rfc3339(const google::protobuf::Timestamp& t) {
  return TimeToRfc3339(absl::FromUnixSeconds(t.seconds()) +
                       absl::Nanoseconds(t.nanos()));
}

// A polygon that contains the circle: vertices on a circle of radius
// r / cos(pi / n), so every edge stays outside the true circle (to within
// the ellipsoid's curvature over one edge, millimetres for UTM radii).
Json CirclePolygon(const v1::Circle& circle, int n) {
  const geo::LatLng center{circle.center().lat_deg(),
                           circle.center().lng_deg()};
  const double r = circle.radius_m() / std::cos(M_PI / n);
  Json ring = Json::array();
  for (int i = 0; i < n; ++i) {
    const geo::LatLng p = geo::GeodesicDestination(center, 360.0 * i / n, r);
    ring.push_back(Json::array({p.lng_deg, p.lat_deg}));
  }
  ring.push_back(ring[0]);
  return Json{{"type", "Polygon"}, {"coordinates", Json::array({ring})}};
}

}  // namespace

std::string ExportGeoJson(const std::vector<v1::Constraint>& constraints,
                          const ExportOptions& options) {
  const int n = std::max(8, options.circle_vertices);
  Json features = Json::array();
  for (size_t k = 0; k < constraints.size(); ++k) {
    const v1::Constraint& c = constraints[k];
    for (int i = 0; i < c.volumes_size(); ++i) {
      const v1::Volume4D& v = c.volumes(i);
      const v1::Volume3D& v3 = v.volume();
      Json props = Json::object();
      // Constraints read from files have no id yet: the index groups their
      // volumes.
      if (!c.id().empty()) props["constraint_id"] = c.id();
      props["constraint_index"] = k;
      props["volume_index"] = i;
      props["type"] = v1::ConstraintType_Name(c.type()).substr(
          std::string("CONSTRAINT_TYPE_").size());
      props["altitude_lower_m"] = v3.altitude_lower().value_m();
      props["altitude_upper_m"] = v3.altitude_upper().value_m();
      props["altitude_reference"] = "WGS84";
      if (v.has_time_start()) props["time_start"] = Rfc3339(v.time_start());
      if (v.has_time_end()) props["time_end"] = Rfc3339(v.time_end());
      if (c.has_schedule()) props["schedule"] = ProtoToJson(c.schedule());
      if (c.has_authority()) props["authority"] = ProtoToJson(c.authority());
      if (!c.reason().empty()) props["reason"] = c.reason();
      if (!c.message_for_pilots().empty()) {
        props["message_for_pilots"] = c.message_for_pilots();
      }
      if (c.has_conditions()) props["conditions"] = ProtoToJson(c.conditions());
      if (c.type() == v1::CONSTRAINT_TYPE_REQUIRES_AUTHORISATION) {
        props["self_unlock_allowed"] = c.self_unlock_allowed();
      }
      if (c.has_source()) props["source"] = ProtoToJson(c.source());
      props["version"] = c.version();
      Json geometry;
      if (v3.has_outline_circle()) {
        const v1::Circle& circle = v3.outline_circle();
        props["circle"] = {{"center", Position(circle.center())},
                           {"radius_m", circle.radius_m()}};
        geometry = CirclePolygon(circle, n);
      } else {
        // GeoJSON: the outer ring first, then the holes, each closed by
        // repeating its first position.
        auto ring = [](const auto& vertices) {
          Json out = Json::array();
          for (const v1::LatLng& p : vertices) out.push_back(Position(p));
          if (!out.empty()) out.push_back(out[0]);
          return out;
        };
        Json rings = Json::array({ring(v3.outline_polygon().vertices())});
        for (const v1::Ring& hole : v3.outline_polygon().holes()) {
          rings.push_back(ring(hole.vertices()));
        }
        geometry = {{"type", "Polygon"}, {"coordinates", std::move(rings)}};
      }
      features.push_back({{"type", "Feature"},
                          {"geometry", std::move(geometry)},
                          {"properties", std::move(props)}});
    }
  }
  const Json out = {{"type", "FeatureCollection"},
                    {"generator", "utmd"},
                    {"features", std::move(features)}};
  return out.dump(1);
}

}  // namespace utm::zones
