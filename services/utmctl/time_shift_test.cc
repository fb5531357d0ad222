#include "services/utmctl/time_shift.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/volume_convert.h"

namespace utm::ctl {
namespace {

using ::testing::HasSubstr;

absl::Time Rfc(const std::string& text) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, text, &t, &error)) << error;
  return t;
}

std::string Format(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                          absl::FromUnixSeconds(t.seconds()),
                          absl::UTCTimeZone());
}

TEST(ParseStartTime, AcceptsNowOffsetsAndRfc3339) {
  const absl::Time now = Rfc("2026-12-06T12:00:00Z");
  struct Case {
    const char* text;
    const char* want;
  };
  for (const Case& c :
       {Case{"now", "2026-12-06T12:00:00Z"},
        Case{"+5m", "2026-12-06T12:05:00Z"},
        Case{"+1h30m", "2026-12-06T13:30:00Z"},
        Case{"+90s", "2026-12-06T12:01:30Z"},
        Case{"2027-01-15T09:00:00Z", "2027-01-15T09:00:00Z"},
        Case{"2027-01-15T10:00:00+01:00", "2027-01-15T09:00:00Z"}}) {
    absl::StatusOr<absl::Time> t = ParseStartTime(c.text, now);
    ASSERT_TRUE(t.ok()) << c.text << ": " << t.status();
    EXPECT_EQ(*t, Rfc(c.want)) << c.text;
  }
}

TEST(ParseStartTime, RefusesOtherTextNamingTheFlag) {
  const absl::Time now = Rfc("2026-12-06T12:00:00Z");
  for (const char* text : {"", "later", "+", "+5", "+-5m", "+inf", "+10000h",
                           "5m", "2027-01-15 09:00", "2027-13-01T00:00:00Z"}) {
    absl::StatusOr<absl::Time> t = ParseStartTime(text, now);
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(t.status().message(), HasSubstr("--start")) << text;
  }
}

v1::Volume4D Volume(const char* start, const char* end) {
  v1::Volume4D v;
  if (start != nullptr) *v.mutable_time_start() = TimeToProto(Rfc(start));
  if (end != nullptr) *v.mutable_time_end() = TimeToProto(Rfc(end));
  return v;
}

TEST(ShiftVolumes, MovesTheEarliestStartAndKeepsDurationsAndGaps) {
  v1::FileIntentRequest request;
  *request.add_volumes() =
      Volume("2027-01-15T09:20:00Z", "2027-01-15T09:40:00Z");
  *request.add_volumes() =
      Volume("2027-01-15T09:00:00Z", "2027-01-15T09:30:00Z");
  *request.add_volumes() = Volume(nullptr, "2027-01-15T10:00:00Z");
  ASSERT_TRUE(ShiftVolumes(Rfc("2026-12-06T12:05:00Z"), &request).ok());
  EXPECT_EQ(Format(request.volumes(0).time_start()), "2026-12-06T12:25:00Z");
  EXPECT_EQ(Format(request.volumes(0).time_end()), "2026-12-06T12:45:00Z");
  EXPECT_EQ(Format(request.volumes(1).time_start()), "2026-12-06T12:05:00Z");
  EXPECT_EQ(Format(request.volumes(1).time_end()), "2026-12-06T12:35:00Z");
  EXPECT_FALSE(request.volumes(2).has_time_start());
  EXPECT_EQ(Format(request.volumes(2).time_end()), "2026-12-06T13:05:00Z");
}

TEST(ShiftVolumes, RefusesAPlanWithoutAnyStart) {
  v1::FileIntentRequest request;
  *request.add_volumes() = Volume(nullptr, "2027-01-15T10:00:00Z");
  const absl::Status s = ShiftVolumes(Rfc("2026-12-06T12:05:00Z"), &request);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("no volume has a time_start"));
  EXPECT_EQ(Format(request.volumes(0).time_end()), "2027-01-15T10:00:00Z");
}

TEST(ShiftVolumes, RefusesAnUnrepresentableTimestampNamingIt) {
  v1::FileIntentRequest request;
  *request.add_volumes() = Volume("2027-01-15T09:00:00Z", nullptr);
  request.mutable_volumes(0)->mutable_time_start()->set_nanos(-1);
  const absl::Status s = ShiftVolumes(Rfc("2026-12-06T12:05:00Z"), &request);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("volumes[0].time_start"));
}

}  // namespace
}  // namespace utm::ctl
