#include "services/operator/track_codec.h"

#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::fleet {
namespace {

using ::testing::HasSubstr;

const absl::Time kT0 = absl::FromUnixMillis(1'800'000'000'123);

// An hour at 1 Hz flying east at 5 m/s, climbing 0.5 m/s for a minute.
std::vector<TrackPoint> Flight(int n) {
  std::vector<TrackPoint> points;
  for (int i = 0; i < n; ++i) {
    TrackPoint p;
    p.time = kT0 + absl::Seconds(i);
    p.lat_deg = 47.3706123;
    p.lng_deg = 8.4881234 + i * 5 / (111320 * std::cos(47.37 * M_PI / 180));
    p.altitude_m = 500 + 0.5 * std::min(i, 60);
    p.east_mps = 5;
    p.up_mps = i < 60 ? 0.5 : 0;
    p.horizontal_accuracy_m = 3;
    p.vertical_accuracy_m = 4.5;
    points.push_back(p);
  }
  return points;
}

TEST(TrackCodec, RoundTripsWithinTheQuanta) {
  const std::vector<TrackPoint> in = Flight(3600);
  absl::StatusOr<std::vector<TrackPoint>> out = DecodeTrack(EncodeTrack(in));
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const TrackPoint& a = in[i];
    const TrackPoint& b = (*out)[i];
    EXPECT_EQ(b.time, a.time);
    EXPECT_NEAR(b.lat_deg, a.lat_deg, 0.5e-7);
    EXPECT_NEAR(b.lng_deg, a.lng_deg, 0.5e-7);
    EXPECT_NEAR(b.altitude_m, a.altitude_m, 0.005);
    EXPECT_NEAR(b.east_mps, a.east_mps, 0.005);
    EXPECT_NEAR(b.up_mps, a.up_mps, 0.005);
    EXPECT_NEAR(b.horizontal_accuracy_m, a.horizontal_accuracy_m, 0.05);
    EXPECT_NEAR(b.vertical_accuracy_m, a.vertical_accuracy_m, 0.05);
  }
}

TEST(TrackCodec, AFlightAt1HzTakesAtMostEightBytesAPoint) {
  const std::string one_hour = EncodeTrack(Flight(3600));
  // The first point is whole; the minute of climbing changes altitude and
  // velocity too.
  EXPECT_LE(one_hour.size(), 3600u * 8);
  EXPECT_GE(one_hour.size(), 3600u * 6);
  // Every field changing every point: at most 20 bytes a point.
  std::vector<TrackPoint> jittery = Flight(1000);
  for (size_t i = 0; i < jittery.size(); ++i) {
    jittery[i].north_mps = (i % 2) ? 0.3 : -0.3;
    jittery[i].horizontal_accuracy_m = (i % 2) ? 3 : 5;
  }
  EXPECT_LE(EncodeTrack(jittery).size(), 1000u * 20);
}

TEST(TrackCodec, EveryCutIsRefusedNamingTheByte) {
  const std::string chunk = EncodeTrack(Flight(20));
  for (size_t n = 0; n < chunk.size(); ++n) {
    absl::StatusOr<std::vector<TrackPoint>> r =
        DecodeTrack(absl::string_view(chunk).substr(0, n));
    ASSERT_FALSE(r.ok()) << "cut at " << n;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr("byte "));
  }
  EXPECT_THAT(DecodeTrack(chunk + "x").status().message(),
              HasSubstr("1 bytes after the last point"));
}

TEST(TrackCodec, MalformedChunksNameTheProblem) {
  std::vector<TrackPoint> two = Flight(2);
  std::string chunk = EncodeTrack(two);
  struct Case {
    std::string bytes;
    std::string message;
  };
  std::string bad_mask = chunk;
  // The second point's mask follows the first point: find it by encoding
  // the first point alone (count byte aside).
  const size_t first = EncodeTrack({two[0]}).size() - 1;
  bad_mask[1 + first] = static_cast<char>(0x40);
  std::string no_time = chunk;
  no_time[1 + first] = static_cast<char>(0x02);
  for (const Case& c : std::vector<Case>{
           {"", "byte 0: no point count"},
           {std::string(1, '\0'), "point count 0 is outside [1, 36000]"},
           {"\x80\x80\x04", "point count 65536 is outside"},
           {"\x05\x01", "point count 5 exceeds what 2 bytes can hold"},
           {bad_mask, "point 1, byte"},
           {no_time, "mask 0x02 is not a valid mask"},
       }) {
    absl::StatusOr<std::vector<TrackPoint>> r = DecodeTrack(c.bytes);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message));
  }
  // One encoding per track: an overlong varint (the count 2 as 0x82 0x00),
  // and a mask marking the accuracy changed with zero differences.
  std::string overlong = chunk;
  overlong.replace(0, 1, std::string("\x82\x00", 2));
  EXPECT_THAT(DecodeTrack(overlong).status().message(),
              HasSubstr("a varint longer than its value"));
  std::string marked = chunk;
  marked[1 + first] = static_cast<char>(marked[1 + first] | 0x10);
  marked.append(2, '\0');  // the accuracy group comes last
  EXPECT_THAT(DecodeTrack(marked).status().message(),
              HasSubstr("marks a field that did not change"));
  // Time going back, and a latitude beyond the pole.
  std::vector<TrackPoint> back = Flight(2);
  back[1].time = back[0].time - absl::Milliseconds(1);
  EXPECT_THAT(DecodeTrack(EncodeTrack(back)).status().message(),
              HasSubstr("point 1, byte"));
  EXPECT_THAT(DecodeTrack(EncodeTrack(back)).status().message(),
              HasSubstr("time does not increase"));
  TrackPoint beyond = two[0];
  beyond.lat_deg = 90.5;
  EXPECT_THAT(DecodeTrack(EncodeTrack({beyond})).status().message(),
              HasSubstr("point 0, byte 7: latitude 90.5000000 is outside "
                        "[-90, 90]"));
}

TEST(TrackCodec, PointsOutsideTheRangesAreNamedBeforeEncoding) {
  TrackPoint p = Flight(1)[0];
  EXPECT_TRUE(CheckTrackPoint(p).ok());
  p.altitude_m = 200000;
  EXPECT_THAT(CheckTrackPoint(p).message(),
              HasSubstr("altitude 200000.0000000 is outside [-1000, 100000]"));
  p = Flight(1)[0];
  p.east_mps = std::nan("");
  EXPECT_THAT(CheckTrackPoint(p).message(), HasSubstr("east velocity nan"));
}

}  // namespace
}  // namespace utm::fleet
