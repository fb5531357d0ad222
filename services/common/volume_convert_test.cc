#include "services/common/volume_convert.h"

#include <ostream>
#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace utm {
namespace {

v1::Volume4D Parse(const std::string& text) {
  v1::Volume4D proto;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &proto));
  return proto;
}

const char kValid[] = R"pb(
  volume {
    outline_polygon {
      vertices { lat_deg: 47.0 lng_deg: 8.0 }
      vertices { lat_deg: 47.0 lng_deg: 8.01 }
      vertices { lat_deg: 47.01 lng_deg: 8.01 }
    }
    altitude_lower { value_m: 500 reference: ALTITUDE_REFERENCE_W84 }
    altitude_upper { value_m: 620 reference: ALTITUDE_REFERENCE_W84 }
  }
  time_start { seconds: 1800000000 }
  time_end { seconds: 1800003600 nanos: 500 }
)pb";

TEST(VolumeFromProto, ConvertsAndRoundTrips) {
  const auto v = VolumeFromProto(Parse(kValid), {}, "volumes[0]");
  ASSERT_TRUE(v.ok()) << v.status();
  const auto& polygon = std::get<geo::Polygon>(v->volume.footprint);
  ASSERT_EQ(polygon.vertices.size(), 3u);
  EXPECT_EQ(polygon.vertices[1].lng_deg, 8.01);
  EXPECT_EQ(v->volume.altitude.lower_m, 500);
  EXPECT_EQ(v->time.end,
            absl::FromUnixSeconds(1800003600) + absl::Nanoseconds(500));
  const v1::Volume4D back = VolumeToProto(*v);
  EXPECT_EQ(back.SerializeAsString(), Parse(kValid).SerializeAsString());
}

struct BadCase {
  std::string name;
  std::string text;
  std::string message;
};

// Names the case in test output (instead of a byte dump).
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class VolumeFromProtoInvalid : public testing::TestWithParam<BadCase> {};

TEST_P(VolumeFromProtoInvalid, NamesTheField) {
  const auto v = VolumeFromProto(Parse(GetParam().text), {}, "volumes[2]");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(v.status().message()), GetParam().message);
}

std::string Replace(std::string s, const std::string& from,
                    const std::string& to) {
  s.replace(s.find(from), from.size(), to);
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    All, VolumeFromProtoInvalid,
    testing::Values(
        BadCase{"NoVolume", "time_start { seconds: 1 }",
                "volumes[2].volume: required"},
        BadCase{"NoFootprint",
                "volume { altitude_lower { value_m: 1 } } time_start { "
                "seconds: 1 }",
                "volumes[2].volume: set outline_polygon or outline_circle"},
        BadCase{"NoAltitudeLower",
                Replace(kValid,
                        "altitude_lower { value_m: 500 reference: "
                        "ALTITUDE_REFERENCE_W84 }",
                        ""),
                "volumes[2].volume.altitude_lower: required"},
        BadCase{
            "UnsetReference",
            Replace(kValid, "value_m: 620 reference: ALTITUDE_REFERENCE_W84",
                    "value_m: 620"),
            "volumes[2].volume.altitude_upper.reference: must be "
            "ALTITUDE_REFERENCE_W84 (metres above the WGS84 ellipsoid)"},
        BadCase{
            "NoEnd",
            Replace(kValid, "time_end { seconds: 1800003600 nanos: 500 }", ""),
            "volumes[2].time_end: required"},
        BadCase{"BadNanos", Replace(kValid, "nanos: 500", "nanos: -1"),
                "volumes[2].time_end: nanos -1 is outside [0, 999999999]"},
        BadCase{"GeometryErrorKeepsThePath",
                Replace(kValid, "lat_deg: 47.01", "lat_deg: 147.01"),
                "volumes[2].volume.outline_polygon.vertices[2].lat_deg: 147.01 "
                "is outside [-90, 90]"}),
    [](const auto& info) { return info.param.name; });

TEST(VolumeFromProto, CircleWithoutCentre) {
  v1::Volume4D proto = Parse(kValid);
  proto.mutable_volume()->mutable_outline_circle()->set_radius_m(5);
  const auto v = VolumeFromProto(proto, {}, "v");
  EXPECT_EQ(std::string(v.status().message()),
            "v.volume.outline_circle.center: required");
}

TEST(VolumeFromProto, QueryAreasMayLeaveBoundsOpen) {
  v1::Volume4D proto = Parse(kValid);
  proto.mutable_volume()->clear_altitude_lower();
  proto.mutable_volume()->clear_altitude_upper();
  proto.clear_time_start();
  proto.clear_time_end();
  EXPECT_EQ(std::string(VolumeFromProto(proto, {}, "area").status().message()),
            "area.volume.altitude_lower: required");
  VolumeConvertOptions options;
  options.open_bounds = true;
  const auto v = VolumeFromProto(proto, options, "area");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->volume.altitude.lower_m, options.limits.min_altitude_m);
  EXPECT_EQ(v->volume.altitude.upper_m, options.limits.max_altitude_m);
  EXPECT_EQ(v->time.start, absl::InfinitePast());
  EXPECT_EQ(v->time.end, absl::InfiniteFuture());
}

TEST(VolumeFromProto, OpenEndOnlyWhenAllowed) {
  v1::Volume4D proto = Parse(kValid);
  proto.clear_time_end();
  EXPECT_FALSE(VolumeFromProto(proto, {}, "v").ok());
  VolumeConvertOptions options;
  options.allow_open_end = true;
  const auto v = VolumeFromProto(proto, options, "v");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->time.end, absl::InfiniteFuture());
  EXPECT_FALSE(VolumeToProto(*v).has_time_end());
}

// A restart reads back volumes this server checked when it wrote them: the
// geometry is not checked again, the wire form still is.
TEST(VolumeFromProto, WithoutValidationOnlyTheWireFormIsChecked) {
  v1::Volume4D bow_tie = Parse(kValid);
  v1::LatLng* v =
      bow_tie.mutable_volume()->mutable_outline_polygon()->add_vertices();
  v->set_lat_deg(47.01);
  v->set_lng_deg(8.0);
  std::swap(
      *bow_tie.mutable_volume()->mutable_outline_polygon()->mutable_vertices(1),
      *bow_tie.mutable_volume()->mutable_outline_polygon()->mutable_vertices(
          2));
  EXPECT_THAT(std::string(VolumeFromProto(bow_tie, {}, "v").status().message()),
              ::testing::HasSubstr("cross"));
  VolumeConvertOptions trusted;
  trusted.validate = false;
  const auto read = VolumeFromProto(bow_tie, trusted, "v");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(std::get<geo::Polygon>(read->volume.footprint).vertices.size(), 4u);
  v1::Volume4D no_reference = Parse(kValid);
  no_reference.mutable_volume()->mutable_altitude_lower()->clear_reference();
  EXPECT_EQ(VolumeFromProto(no_reference, trusted, "v").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace utm
