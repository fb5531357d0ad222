// Polygons with holes across the wire: conversion both ways and the errors
// that name a hole by its path.
#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "services/common/volume_convert.h"

namespace utm {
namespace {

using ::testing::HasSubstr;

v1::Volume4D Parse(const std::string& text) {
  v1::Volume4D proto;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &proto));
  return proto;
}

// About 1.1 km × 0.75 km with a 0.2 × 0.15 km hole in the middle.
constexpr char kHoled[] = R"pb(
  volume {
    outline_polygon {
      vertices { lat_deg: 47.0 lng_deg: 8.0 }
      vertices { lat_deg: 47.0 lng_deg: 8.01 }
      vertices { lat_deg: 47.01 lng_deg: 8.01 }
      vertices { lat_deg: 47.01 lng_deg: 8.0 }
      holes {
        vertices { lat_deg: 47.004 lng_deg: 8.004 }
        vertices { lat_deg: 47.006 lng_deg: 8.004 }
        vertices { lat_deg: 47.006 lng_deg: 8.006 }
        vertices { lat_deg: 47.004 lng_deg: 8.006 }
      }
    }
    altitude_lower { value_m: 500 reference: ALTITUDE_REFERENCE_W84 }
    altitude_upper { value_m: 620 reference: ALTITUDE_REFERENCE_W84 }
  }
  time_start { seconds: 1800000000 }
  time_end { seconds: 1800003600 }
)pb";

TEST(VolumeFromProtoHoles, ConvertsAndRoundTrips) {
  const auto v = VolumeFromProto(Parse(kHoled), {}, "volumes[0]");
  ASSERT_TRUE(v.ok()) << v.status();
  const auto& polygon = std::get<geo::Polygon>(v->volume.footprint);
  ASSERT_EQ(polygon.vertices.size(), 4u);
  ASSERT_EQ(polygon.holes.size(), 1u);
  ASSERT_EQ(polygon.holes[0].size(), 4u);
  EXPECT_EQ(polygon.holes[0][2].lat_deg, 47.006);
  EXPECT_EQ(polygon.holes[0][2].lng_deg, 8.006);
  const v1::Volume4D back = VolumeToProto(*v);
  EXPECT_EQ(back.SerializeAsString(), Parse(kHoled).SerializeAsString());
}

TEST(VolumeFromProtoHoles, HoleErrorsNameTheHole) {
  v1::Volume4D proto = Parse(kHoled);
  // Move the hole's third vertex beyond the outer ring's east edge.
  proto.mutable_volume()
      ->mutable_outline_polygon()
      ->mutable_holes(0)
      ->mutable_vertices(2)
      ->set_lng_deg(8.012);
  auto v = VolumeFromProto(proto, {}, "volumes[3]");
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(v.status().message()),
              HasSubstr("volumes[3].volume.outline_polygon.holes[0]: edge 1 "
                        "crosses the outer ring at edge 1"));

  proto = Parse(kHoled);
  proto.mutable_volume()->mutable_outline_polygon()->add_holes();
  v = VolumeFromProto(proto, {}, "volumes[3]");
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(v.status().message()),
            "volumes[3].volume.outline_polygon.holes[1]: has 0 vertices; a "
            "ring needs at least 3");
}

TEST(VolumeFromProtoHoles, HoleCountIsCappedBeforeConversion) {
  v1::Volume4D proto = Parse(kHoled);
  VolumeConvertOptions options;
  options.limits.max_vertices = 30;
  for (int i = 0; i < 11; ++i) {
    proto.mutable_volume()->mutable_outline_polygon()->add_holes();
  }
  const auto v = VolumeFromProto(proto, options, "volumes[0]");
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(v.status().message()),
            "volumes[0].volume.outline_polygon.holes: 12 entries, at most 10");
}

TEST(VolumeFromProtoHoles, VertexLimitCountsHoles) {
  VolumeConvertOptions options;
  options.limits.max_vertices = 7;
  const auto v = VolumeFromProto(Parse(kHoled), options, "volumes[0]");
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(v.status().message()),
              HasSubstr("outline_polygon: has 8 vertices (all rings "
                        "together); at most 7 are allowed"));
}

}  // namespace
}  // namespace utm
