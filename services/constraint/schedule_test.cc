#include "services/constraint/schedule.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::constraint {
namespace {

using ::testing::HasSubstr;

absl::Time Utc(const char* rfc3339) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &error))
      << error;
  return t;
}

constexpr int kHour = 3600;
const geo::TimeWindow kAlways{absl::InfinitePast(), absl::InfiniteFuture()};

Schedule Weekly(std::vector<WeeklyWindow> weekly,
                const std::string& zone = "Europe/Zurich") {
  absl::StatusOr<Schedule> s = MakeSchedule(kAlways, std::move(weekly), zone);
  EXPECT_TRUE(s.ok()) << s.status();
  return *s;
}

TEST(Schedule, NoWeeklyWindowsMeansTheAbsoluteWindow) {
  const Schedule s = *MakeSchedule(
      {Utc("2027-06-01T10:00:00Z"), Utc("2027-06-01T12:00:00Z")}, {}, "UTC");
  EXPECT_FALSE(ActiveAt(s, Utc("2027-06-01T09:59:59Z")));
  EXPECT_TRUE(ActiveAt(s, Utc("2027-06-01T10:00:00Z")));  // closed
  EXPECT_TRUE(ActiveAt(s, Utc("2027-06-01T12:00:00Z")));
  EXPECT_FALSE(ActiveAt(s, Utc("2027-06-01T12:00:01Z")));
  EXPECT_EQ(NextChange(s, Utc("2027-06-01T08:00:00Z")),
            Utc("2027-06-01T10:00:00Z"));
  EXPECT_EQ(NextChange(s, Utc("2027-06-01T11:00:00Z")),
            Utc("2027-06-01T12:00:00Z") + absl::Nanoseconds(1));
}

TEST(Schedule, WeekdayWindowsInLocalTime) {
  // Monday to Friday, 08:00-18:00 in Zurich (UTC+2 in June).
  const Schedule s = Weekly({{{absl::Weekday::monday, absl::Weekday::tuesday,
                               absl::Weekday::wednesday,
                               absl::Weekday::thursday, absl::Weekday::friday},
                              8 * kHour,
                              18 * kHour}});
  // 2027-06-07 is a Monday.
  EXPECT_FALSE(ActiveAt(s, Utc("2027-06-07T05:59:59Z")));
  EXPECT_TRUE(ActiveAt(s, Utc("2027-06-07T06:00:00Z")));
  EXPECT_TRUE(ActiveAt(s, Utc("2027-06-07T16:00:00Z")));
  EXPECT_FALSE(ActiveAt(s, Utc("2027-06-07T16:00:01Z")));
  EXPECT_FALSE(ActiveAt(s, Utc("2027-06-12T10:00:00Z")));  // Saturday
  // A flight across two days meets two windows.
  const std::vector<geo::TimeWindow> w = ActiveWindows(
      s, {Utc("2027-06-07T12:00:00Z"), Utc("2027-06-08T12:00:00Z")});
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].start, Utc("2027-06-07T12:00:00Z"));
  EXPECT_EQ(w[0].end, Utc("2027-06-07T16:00:00Z"));
  EXPECT_EQ(w[1].start, Utc("2027-06-08T06:00:00Z"));
  EXPECT_EQ(w[1].end, Utc("2027-06-08T12:00:00Z"));
  // From Friday evening the next change is Monday morning.
  EXPECT_EQ(NextChange(s, Utc("2027-06-11T17:00:00Z")),
            Utc("2027-06-14T06:00:00Z"));
}

TEST(Schedule, OvernightWindowRunsIntoTheNextDay) {
  // Saturdays 22:00 to 06:00 (UTC, to keep the arithmetic plain).
  const Schedule s =
      Weekly({{{absl::Weekday::saturday}, 22 * kHour, 6 * kHour}}, "UTC");
  EXPECT_TRUE(ActiveAt(s, Utc("2027-06-12T23:00:00Z")));  // Saturday night
  EXPECT_TRUE(ActiveAt(s, Utc("2027-06-13T05:00:00Z")));  // Sunday morning
  EXPECT_FALSE(ActiveAt(s, Utc("2027-06-13T06:00:01Z")));
  EXPECT_FALSE(ActiveAt(s, Utc("2027-06-13T23:00:00Z")));  // Sunday night
}

TEST(Schedule, DaylightSavingGapsAndRepeats) {
  // Daily 02:30-03:30 local in Zurich. On 2027-03-28 clocks jump from 02:00
  // to 03:00: 02:30 does not exist and moves forward by the gap to 03:30
  // (01:30Z); 03:30 is 01:30Z as well, so the window shrinks to an instant.
  const Schedule s = Weekly(
      {{{absl::Weekday::monday, absl::Weekday::tuesday,
         absl::Weekday::wednesday, absl::Weekday::thursday,
         absl::Weekday::friday, absl::Weekday::saturday, absl::Weekday::sunday},
        2 * kHour + 1800,
        3 * kHour + 1800}});
  const std::vector<geo::TimeWindow> spring = ActiveWindows(
      s, {Utc("2027-03-28T00:00:00Z"), Utc("2027-03-28T03:00:00Z")});
  ASSERT_EQ(spring.size(), 1u);
  EXPECT_EQ(spring[0].start, Utc("2027-03-28T01:30:00Z"));
  EXPECT_EQ(spring[0].end, Utc("2027-03-28T01:30:00Z"));
  // On 2027-10-31 clocks fall back from 03:00 to 02:00: 02:30 happens twice
  // and takes the earlier instant (00:30Z); 03:30 is 02:30Z.
  const std::vector<geo::TimeWindow> autumn = ActiveWindows(
      s, {Utc("2027-10-30T23:00:00Z"), Utc("2027-10-31T04:00:00Z")});
  ASSERT_EQ(autumn.size(), 1u);
  EXPECT_EQ(autumn[0].start, Utc("2027-10-31T00:30:00Z"));
  EXPECT_EQ(autumn[0].end, Utc("2027-10-31T02:30:00Z"));
}

TEST(Schedule, AbsoluteWindowClipsWeeklyWindows) {
  const Schedule s =
      *MakeSchedule({Utc("2027-06-07T07:00:00Z"), Utc("2027-06-07T09:00:00Z")},
                    {{{absl::Weekday::monday}, 8 * kHour, 18 * kHour}}, "UTC");
  const std::vector<geo::TimeWindow> w = ActiveWindows(s, kAlways);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].start, Utc("2027-06-07T08:00:00Z"));
  EXPECT_EQ(w[0].end, Utc("2027-06-07T09:00:00Z"));
  EXPECT_EQ(NextChange(s, Utc("2027-06-07T10:00:00Z")), absl::InfiniteFuture());
}

TEST(Schedule, EveryDayAllDayIsAlwaysActive) {
  const Schedule s = Weekly(
      {{{absl::Weekday::monday, absl::Weekday::tuesday,
         absl::Weekday::wednesday, absl::Weekday::thursday,
         absl::Weekday::friday, absl::Weekday::saturday, absl::Weekday::sunday},
        0,
        86400}},
      "UTC");
  EXPECT_TRUE(ActiveAt(s, Utc("2027-06-09T12:34:56Z")));
  EXPECT_EQ(NextChange(s, Utc("2027-06-09T12:34:56Z")), absl::InfiniteFuture());
  EXPECT_EQ(ActiveWindows(
                s, {Utc("2027-06-01T00:00:00Z"), Utc("2027-06-20T00:00:00Z")})
                .size(),
            1u);
}

TEST(Schedule, AllDayWindowsEndAtTheMidnightThatEndsTheDay) {
  // Mondays and Wednesdays, the whole day (0-86400), in UTC: no daylight
  // saving, so each window is exactly 24 h. 2027-06-07 is a Monday.
  const Schedule s = Weekly(
      {{{absl::Weekday::monday, absl::Weekday::wednesday}, 0, 86400}}, "UTC");
  EXPECT_FALSE(ActiveAt(s, Utc("2027-06-06T23:59:59Z")));  // Sunday
  EXPECT_TRUE(ActiveAt(s, Utc("2027-06-07T00:00:00Z")));
  EXPECT_TRUE(ActiveAt(s, Utc("2027-06-07T23:59:59Z")));
  // Closed at the end: Tuesday's first instant is still Monday's window.
  EXPECT_TRUE(ActiveAt(s, Utc("2027-06-08T00:00:00Z")));
  EXPECT_FALSE(ActiveAt(s, Utc("2027-06-08T00:00:01Z")));
  EXPECT_TRUE(ActiveAt(s, Utc("2027-06-09T12:00:00Z")));  // Wednesday
  EXPECT_EQ(NextChange(s, Utc("2027-06-07T12:00:00Z")),
            Utc("2027-06-08T00:00:00Z") + absl::Nanoseconds(1));
  EXPECT_EQ(NextChange(s, Utc("2027-06-08T12:00:00Z")),
            Utc("2027-06-09T00:00:00Z"));
  const std::vector<geo::TimeWindow> w = ActiveWindows(
      s, {Utc("2027-06-06T12:00:00Z"), Utc("2027-06-10T12:00:00Z")});
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].start, Utc("2027-06-07T00:00:00Z"));
  EXPECT_EQ(w[0].end, Utc("2027-06-08T00:00:00Z"));
  EXPECT_EQ(w[1].start, Utc("2027-06-09T00:00:00Z"));
  EXPECT_EQ(w[1].end, Utc("2027-06-10T00:00:00Z"));
}

TEST(Schedule, ConsecutiveAllDayWindowsJoinAcrossMidnight) {
  // Saturday and Sunday all day in UTC+1 (the fixed zone the importers
  // give "+01:00"): one window from Friday 23:00Z to Sunday 23:00Z.
  const Schedule s =
      Weekly({{{absl::Weekday::saturday, absl::Weekday::sunday}, 0, 86400}},
             "Etc/GMT-1");
  const std::vector<geo::TimeWindow> w = ActiveWindows(
      s, {Utc("2027-06-10T00:00:00Z"), Utc("2027-06-16T00:00:00Z")});
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].start, Utc("2027-06-11T23:00:00Z"));
  EXPECT_EQ(w[0].end, Utc("2027-06-13T23:00:00Z"));
  EXPECT_TRUE(ActiveAt(s, Utc("2027-06-12T23:00:00Z")));  // local midnight
  EXPECT_FALSE(ActiveAt(s, Utc("2027-06-13T23:00:01Z")));
  EXPECT_EQ(NextChange(s, Utc("2027-06-12T12:00:00Z")),
            Utc("2027-06-13T23:00:00Z") + absl::Nanoseconds(1));
}

TEST(MakeSchedule, RejectsBadInputNamingTheField) {
  EXPECT_THAT(MakeSchedule(kAlways, {}, "Mars/Olympus_Mons").status().message(),
              HasSubstr("schedule.time_zone: \"Mars/Olympus_Mons\" is not"));
  EXPECT_EQ(MakeSchedule(kAlways, {{{}, 0, 100}}, "UTC").status().message(),
            "schedule.weekly[0].days: at least one day is required");
  EXPECT_EQ(
      MakeSchedule(kAlways, {{{absl::Weekday::monday}, 86400, 100}}, "UTC")
          .status()
          .message(),
      "schedule.weekly[0].start_second_of_day: 86400 is outside [0, "
      "86399]");
  EXPECT_EQ(MakeSchedule(kAlways, {{{absl::Weekday::monday}, 0, 0}}, "UTC")
                .status()
                .message(),
            "schedule.weekly[0].end_second_of_day: 0 is outside [1, 86400] "
            "(the midnight that ends the day is 86400; a whole day is "
            "0-86400)");
  EXPECT_EQ(MakeSchedule(kAlways, {{{absl::Weekday::monday}, 0, 86401}}, "UTC")
                .status()
                .message(),
            "schedule.weekly[0].end_second_of_day: 86401 is outside [1, "
            "86400]");
  EXPECT_EQ(MakeSchedule({absl::FromUnixSeconds(10), absl::FromUnixSeconds(5)},
                         {}, "UTC")
                .status()
                .message(),
            "schedule.absolute: the end is before the start");
}

}  // namespace
}  // namespace utm::constraint
