#include "services/constraint/schedule.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/common/input_limits.h"

namespace utm::constraint {
namespace {

// Local civil second -> instant: skipped times move forward by the gap (the
// pre-transition offset), repeated times take the earlier instant.
absl::Time Resolve(const absl::TimeZone& zone, absl::CivilSecond local) {
  return zone.At(local).pre;
}

}  // namespace

absl::StatusOr<Schedule> MakeSchedule(geo::TimeWindow absolute,
                                      std::vector<WeeklyWindow> weekly,
                                      const std::string& time_zone) {
  Schedule s;
  if (absolute.end < absolute.start) {
    return absl::InvalidArgumentError(
        "schedule.absolute: the end is before the start");
  }
  s.absolute = absolute;
  s.time_zone = time_zone.empty() ? "UTC" : time_zone;
  if (!absl::LoadTimeZone(s.time_zone, &s.zone)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "schedule.time_zone: ", QuoteForError(s.time_zone),
        " is not an IANA time zone known here (e.g. \"Europe/Zurich\")"));
  }
  for (size_t i = 0; i < weekly.size(); ++i) {
    const std::string field = absl::StrCat("schedule.weekly[", i, "]");
    const WeeklyWindow& w = weekly[i];
    if (w.days.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".days: at least one day is required"));
    }
    if (w.start_second_of_day < 0 || w.start_second_of_day > 86399) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".start_second_of_day: ", w.start_second_of_day,
                       " is outside [0, 86399]"));
    }
    if (w.end_second_of_day < 1 || w.end_second_of_day > 86400) {
      // 0 would be an unset end as often as the midnight ending the day:
      // that midnight is written 86400, so an all-day window is 0-86400.
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".end_second_of_day: ", w.end_second_of_day,
          " is outside [1, 86400]",
          w.end_second_of_day == 0
              ? " (the midnight that ends the day is 86400; a whole day is "
                "0-86400)"
              : ""));
    }
  }
  s.weekly = std::move(weekly);
  return s;
}

std::vector<geo::TimeWindow> ActiveWindows(const Schedule& s,
                                           const geo::TimeWindow& range,
                                           size_t max_windows) {
  const absl::Time from = std::max(range.start, s.absolute.start);
  const absl::Time to = std::min(range.end, s.absolute.end);
  std::vector<geo::TimeWindow> out;
  if (from > to) return out;
  if (s.weekly.empty()) {
    out.push_back({from, to});
    return out;
  }
  // Local days from the day before `from` (an overnight window may reach
  // in) to the day of `to`.
  const absl::CivilDay first = absl::ToCivilDay(from, s.zone) - 1;
  const absl::CivilDay last = absl::ToCivilDay(to, s.zone);
  std::vector<geo::TimeWindow> windows;
  for (absl::CivilDay day = first; day <= last; ++day) {
    const absl::Weekday weekday = absl::GetWeekday(day);
    for (const WeeklyWindow& w : s.weekly) {
      if (std::find(w.days.begin(), w.days.end(), weekday) == w.days.end()) {
        continue;
      }
      const absl::CivilSecond midnight(day);
      const absl::Time start =
          Resolve(s.zone, midnight + w.start_second_of_day);
      const absl::CivilSecond end_local =
          w.end_second_of_day > w.start_second_of_day
              ? midnight + w.end_second_of_day
              : absl::CivilSecond(day + 1) + w.end_second_of_day;
      const absl::Time end = Resolve(s.zone, end_local);
      const absl::Time a = std::max(start, from), b = std::min(end, to);
      if (a <= b) windows.push_back({a, b});
    }
    if (windows.size() > 4 * max_windows) break;
  }
  std::sort(windows.begin(), windows.end(),
            [](const geo::TimeWindow& x, const geo::TimeWindow& y) {
              return x.start < y.start;
            });
  for (const geo::TimeWindow& w : windows) {
    if (!out.empty() && w.start <= out.back().end) {
      out.back().end = std::max(out.back().end, w.end);
    } else {
      if (out.size() == max_windows) break;
      out.push_back(w);
    }
  }
  return out;
}

bool ActiveAt(const Schedule& s, absl::Time t) {
  return !ActiveWindows(s, {t, t}, 1).empty();
}

absl::Time NextChange(const Schedule& s, absl::Time t) {
  const absl::Time horizon =
      s.weekly.empty() ? s.absolute.end : t + absl::Hours(24 * 16);
  if (s.weekly.empty()) {
    if (t < s.absolute.start) return s.absolute.start;
    if (t <= s.absolute.end && s.absolute.end != absl::InfiniteFuture()) {
      return s.absolute.end + absl::Nanoseconds(1);
    }
    return absl::InfiniteFuture();
  }
  for (const geo::TimeWindow& w : ActiveWindows(s, {t, horizon}, 64)) {
    if (w.start > t) return w.start;  // the next window opens
    if (w.end < horizon) return w.end + absl::Nanoseconds(1);  // this closes
    // Windows that join up for the whole horizon cover every day: only the
    // absolute end can stop them.
    return s.absolute.end == absl::InfiniteFuture()
               ? absl::InfiniteFuture()
               : s.absolute.end + absl::Nanoseconds(1);
  }
  return absl::InfiniteFuture();
}

}  // namespace utm::constraint
