#include "services/common/volume_convert.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"
#include "services/common/input_limits.h"

namespace utm {
namespace {

// google.protobuf.Timestamp's documented range: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59Z.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

absl::StatusOr<double> AltitudeFromProto(const v1::Volume3D& volume, bool lower,
                                         absl::string_view prefix,
                                         const VolumeConvertOptions& options) {
  const std::string field =
      absl::StrCat(prefix, lower ? "altitude_lower" : "altitude_upper");
  const bool has =
      lower ? volume.has_altitude_lower() : volume.has_altitude_upper();
  if (!has && options.open_bounds) {
    return lower ? options.limits.min_altitude_m
                 : options.limits.max_altitude_m;
  }
  if (!has) return Invalid(field, "required");
  const v1::Altitude& altitude =
      lower ? volume.altitude_lower() : volume.altitude_upper();
  if (altitude.reference() != v1::ALTITUDE_REFERENCE_W84) {
    return Invalid(
        absl::StrCat(field, ".reference"),
        absl::StrCat("must be ALTITUDE_REFERENCE_W84 (metres above "
                     "the WGS84 ellipsoid)",
                     altitude.reference() == 0
                         ? ""
                         : absl::StrCat(", not ", altitude.reference())));
  }
  return altitude.value_m();
}

}  // namespace

absl::StatusOr<absl::Time> TimeFromProto(
    const google::protobuf::Timestamp& proto, absl::string_view field) {
  if (proto.seconds() < kMinTimestampSeconds ||
      proto.seconds() > kMaxTimestampSeconds) {
    return Invalid(field, absl::StrCat("seconds ", proto.seconds(),
                                       " is outside years 1 to 9999"));
  }
  if (proto.nanos() < 0 || proto.nanos() >= 1'000'000'000) {
    return Invalid(field, absl::StrCat("nanos ", proto.nanos(),
                                       " is outside [0, 999999999]"));
  }
  return absl::FromUnixSeconds(proto.seconds()) +
         absl::Nanoseconds(proto.nanos());
}

google::protobuf::Timestamp TimeToProto(absl::Time t) {
  google::protobuf::Timestamp proto;
  const int64_t seconds = absl::ToUnixSeconds(t);
  proto.set_seconds(seconds);
  proto.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
  return proto;
}

std::string TimeToRfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

geo::Polygon PolygonFromProto(const v1::Polygon& proto) {
  geo::Polygon polygon;
  polygon.vertices.reserve(proto.vertices_size());
  for (const v1::LatLng& p : proto.vertices()) {
    polygon.vertices.push_back({p.lat_deg(), p.lng_deg()});
  }
  polygon.holes.reserve(proto.holes_size());
  for (const v1::Ring& ring : proto.holes()) {
    std::vector<geo::LatLng>& hole = polygon.holes.emplace_back();
    hole.reserve(ring.vertices_size());
    for (const v1::LatLng& p : ring.vertices()) {
      hole.push_back({p.lat_deg(), p.lng_deg()});
    }
  }
  return polygon;
}

v1::Polygon PolygonToProto(const geo::Polygon& polygon) {
  v1::Polygon proto;
  auto add = [](const geo::LatLng& p, v1::LatLng* vertex) {
    vertex->set_lat_deg(p.lat_deg);
    vertex->set_lng_deg(p.lng_deg);
  };
  proto.mutable_vertices()->Reserve(static_cast<int>(polygon.vertices.size()));
  for (const geo::LatLng& p : polygon.vertices) add(p, proto.add_vertices());
  for (const std::vector<geo::LatLng>& hole : polygon.holes) {
    v1::Ring* ring = proto.add_holes();
    for (const geo::LatLng& p : hole) add(p, ring->add_vertices());
  }
  return proto;
}

absl::StatusOr<geo::Volume4D> VolumeFromProto(
    const v1::Volume4D& proto, const VolumeConvertOptions& options,
    absl::string_view field) {
  const std::string prefix = field.empty() ? "" : absl::StrCat(field, ".");
  const std::string volume_field = absl::StrCat(prefix, "volume");
  if (!proto.has_volume()) return Invalid(volume_field, "required");
  const v1::Volume3D& v3 = proto.volume();
  geo::Volume4D out;
  switch (v3.footprint_case()) {
    case v1::Volume3D::kOutlinePolygon: {
      // Each hole has at least 3 vertices, so more holes than a third of
      // the vertex limit cannot pass validation; refuse them before copying.
      const int max_holes = options.limits.max_vertices / 3;
      UTM_RETURN_IF_ERROR(CheckCount(
          v3.outline_polygon().holes_size(),
          absl::StrCat(volume_field, ".outline_polygon.holes"), max_holes));
      out.volume.footprint = PolygonFromProto(v3.outline_polygon());
      break;
    }
    case v1::Volume3D::kOutlineCircle: {
      const v1::Circle& c = v3.outline_circle();
      if (!c.has_center()) {
        return Invalid(absl::StrCat(volume_field, ".outline_circle.center"),
                       "required");
      }
      out.volume.footprint = geo::Circle{
          {c.center().lat_deg(), c.center().lng_deg()}, c.radius_m()};
      break;
    }
    case v1::Volume3D::FOOTPRINT_NOT_SET:
      return Invalid(volume_field, "set outline_polygon or outline_circle");
  }
  const std::string volume_prefix = absl::StrCat(volume_field, ".");
  UTM_ASSIGN_OR_RETURN(
      out.volume.altitude.lower_m,
      AltitudeFromProto(v3, /*lower=*/true, volume_prefix, options));
  UTM_ASSIGN_OR_RETURN(
      out.volume.altitude.upper_m,
      AltitudeFromProto(v3, /*lower=*/false, volume_prefix, options));
  const std::string start_field = absl::StrCat(prefix, "time_start");
  const std::string end_field = absl::StrCat(prefix, "time_end");
  if (proto.has_time_start()) {
    UTM_ASSIGN_OR_RETURN(out.time.start,
                         TimeFromProto(proto.time_start(), start_field));
  } else if (options.open_bounds || options.allow_open_start) {
    out.time.start = absl::InfinitePast();
  } else {
    return Invalid(start_field, "required");
  }
  if (proto.has_time_end()) {
    UTM_ASSIGN_OR_RETURN(out.time.end,
                         TimeFromProto(proto.time_end(), end_field));
  } else if (options.allow_open_end || options.open_bounds) {
    out.time.end = absl::InfiniteFuture();
  } else {
    return Invalid(end_field, "required");
  }
  if (options.validate) {
    UTM_RETURN_IF_ERROR(geo::ValidateVolume4D(out, options.limits, field));
  }
  return out;
}

v1::Volume4D VolumeToProto(const geo::Volume4D& volume) {
  v1::Volume4D proto;
  v1::Volume3D* v3 = proto.mutable_volume();
  if (const geo::Circle* c =
          std::get_if<geo::Circle>(&volume.volume.footprint)) {
    v1::Circle* circle = v3->mutable_outline_circle();
    circle->mutable_center()->set_lat_deg(c->center.lat_deg);
    circle->mutable_center()->set_lng_deg(c->center.lng_deg);
    circle->set_radius_m(c->radius_m);
  } else {
    *v3->mutable_outline_polygon() =
        PolygonToProto(std::get<geo::Polygon>(volume.volume.footprint));
  }
  v3->mutable_altitude_lower()->set_value_m(volume.volume.altitude.lower_m);
  v3->mutable_altitude_lower()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  v3->mutable_altitude_upper()->set_value_m(volume.volume.altitude.upper_m);
  v3->mutable_altitude_upper()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  if (volume.time.start != absl::InfinitePast()) {
    *proto.mutable_time_start() = TimeToProto(volume.time.start);
  }
  if (volume.time.end != absl::InfiniteFuture()) {
    *proto.mutable_time_end() = TimeToProto(volume.time.end);
  }
  return proto;
}

}  // namespace utm
