// When a constraint (geofence, TFR) is in force: an absolute window and/or
// weekly recurring windows in an IANA time zone, as ED-269 zones and FAA
// TFRs publish them (the wire form is utm.v1.Schedule).
//
// A constraint is active at instant t iff t is in `absolute` and either
// there are no weekly windows or one of them contains t. Weekly windows are
// closed intervals of local time starting on the listed days; one whose end
// is not after its start runs overnight into the next day. Local times that
// a DST change skips move forward by the gap; local times it repeats take
// the earlier instant.
//
// Typical usage:
//   UTM_ASSIGN_OR_RETURN(Schedule s, MakeSchedule(absolute, weekly,
//   "Europe/Zurich")); if (ActiveAt(s, now)) ... for (geo::TimeWindow w :
//   ActiveWindows(s, flight.time)) ...
#ifndef UTM_SERVICES_CONSTRAINT_SCHEDULE_H_
#define UTM_SERVICES_CONSTRAINT_SCHEDULE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "geo/volume.h"

namespace utm::constraint {

struct WeeklyWindow {
  std::vector<absl::Weekday> days;  // days on which the window starts
  int start_second_of_day = 0;      // 0-86399, local
  int end_second_of_day = 86400;    // 1-86400, local; <= start: next day
  // 86400 is the midnight that ends the day: 0-86400 is the whole day, the
  // ED-269 / ED-318 daily period "00:00"-"00:00" (or "24:00").
};

struct Schedule {
  geo::TimeWindow absolute{absl::InfinitePast(), absl::InfiniteFuture()};
  std::vector<WeeklyWindow> weekly;
  std::string time_zone = "UTC";
  absl::TimeZone zone = absl::UTCTimeZone();
};

// Checks and builds a schedule. INVALID_ARGUMENT naming the field
// ("schedule.weekly[1].days: ...", "schedule.time_zone: ...").
absl::StatusOr<Schedule> MakeSchedule(geo::TimeWindow absolute,
                                      std::vector<WeeklyWindow> weekly,
                                      const std::string& time_zone);

// Whether the schedule is in force at `t`.
bool ActiveAt(const Schedule& schedule, absl::Time t);

// The closed windows, in order and merged, in which the schedule is in force
// during `range` (clipped to it). At most `max_windows`; a flight intent
// spans at most a day, so a handful is typical.
std::vector<geo::TimeWindow> ActiveWindows(const Schedule& schedule,
                                           const geo::TimeWindow& range,
                                           size_t max_windows = 1000);

// The first instant after `t` at which ActiveAt() changes, or
// absl::InfiniteFuture() when it never does.
absl::Time NextChange(const Schedule& schedule, absl::Time t);

}  // namespace utm::constraint

#endif  // UTM_SERVICES_CONSTRAINT_SCHEDULE_H_
