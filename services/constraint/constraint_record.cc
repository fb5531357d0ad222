#include "services/constraint/constraint_record.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"
#include "services/common/volume_convert.h"

namespace utm::constraint {

namespace {

absl::StatusOr<absl::Weekday> WeekdayFromProto(v1::DayOfWeek d,
                                               absl::string_view field) {
  switch (d) {
    case v1::DAY_OF_WEEK_MONDAY:
      return absl::Weekday::monday;
    case v1::DAY_OF_WEEK_TUESDAY:
      return absl::Weekday::tuesday;
    case v1::DAY_OF_WEEK_WEDNESDAY:
      return absl::Weekday::wednesday;
    case v1::DAY_OF_WEEK_THURSDAY:
      return absl::Weekday::thursday;
    case v1::DAY_OF_WEEK_FRIDAY:
      return absl::Weekday::friday;
    case v1::DAY_OF_WEEK_SATURDAY:
      return absl::Weekday::saturday;
    case v1::DAY_OF_WEEK_SUNDAY:
      return absl::Weekday::sunday;
    default:
      return Invalid(field, "set a day of the week (MONDAY..SUNDAY)");
  }
}

}  // namespace

absl::Status Invalid(absl::string_view field, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", message));
}

absl::Time TimeOf(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

absl::StatusOr<std::shared_ptr<const Record>> MakeRecord(
    const v1::Constraint& input, absl::string_view field,
    const geo::ValidationLimits& limits, int max_volumes, bool trusted) {
  auto record = std::make_shared<Record>();
  const std::string prefix = absl::StrCat(field, ".");
  if (input.type() == v1::CONSTRAINT_TYPE_UNSPECIFIED ||
      !v1::ConstraintType_IsValid(input.type())) {
    return Invalid(absl::StrCat(prefix, "type"),
                   "set PROHIBITED, REQUIRES_AUTHORISATION, CONDITIONAL or "
                   "ADVISORY");
  }
  if (input.volumes().empty()) {
    return Invalid(absl::StrCat(prefix, "volumes"), "at least one is required");
  }
  if (input.volumes_size() > max_volumes) {
    return Invalid(absl::StrCat(prefix, "volumes"),
                   absl::StrCat(input.volumes_size(), " volumes; at most ",
                                max_volumes, " are allowed"));
  }
  VolumeConvertOptions convert;
  convert.limits = limits;
  convert.allow_open_start = true;
  convert.allow_open_end = true;
  convert.validate = !trusted;
  absl::Time last_end = absl::InfinitePast();
  for (int i = 0; i < input.volumes_size(); ++i) {
    UTM_ASSIGN_OR_RETURN(
        geo::Volume4D v,
        VolumeFromProto(input.volumes(i), convert,
                        absl::StrCat(prefix, "volumes[", i, "]")));
    last_end = std::max(last_end, v.time.end);
    record->volumes.push_back(std::move(v));
  }
  // Schedule.
  geo::TimeWindow absolute{absl::InfinitePast(), absl::InfiniteFuture()};
  std::vector<WeeklyWindow> weekly;
  std::string zone = "UTC";
  if (input.has_schedule()) {
    const v1::Schedule& s = input.schedule();
    const std::string sp = absl::StrCat(prefix, "schedule.");
    if (s.absolute().has_start()) {
      UTM_ASSIGN_OR_RETURN(absolute.start,
                           TimeFromProto(s.absolute().start(),
                                         absl::StrCat(sp, "absolute.start")));
    }
    if (s.absolute().has_end()) {
      UTM_ASSIGN_OR_RETURN(
          absolute.end,
          TimeFromProto(s.absolute().end(), absl::StrCat(sp, "absolute.end")));
    }
    for (int i = 0; i < s.weekly_size(); ++i) {
      const v1::WeeklyWindow& w = s.weekly(i);
      WeeklyWindow out;
      for (int d = 0; d < w.days_size(); ++d) {
        UTM_ASSIGN_OR_RETURN(
            absl::Weekday day,
            WeekdayFromProto(
                w.days(d), absl::StrCat(sp, "weekly[", i, "].days[", d, "]")));
        out.days.push_back(day);
      }
      out.start_second_of_day = w.start_second_of_day();
      out.end_second_of_day = w.end_second_of_day();
      weekly.push_back(std::move(out));
    }
    if (!s.time_zone().empty()) zone = s.time_zone();
    if (!s.weekly().empty() && s.time_zone().empty()) {
      return Invalid(absl::StrCat(sp, "time_zone"),
                     "required with weekly windows (an IANA name such as "
                     "\"Europe/Zurich\" or \"UTC\")");
    }
  }
  absl::StatusOr<constraint::Schedule> schedule =
      MakeSchedule(absolute, std::move(weekly), zone);
  if (!schedule.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, schedule.status().message()));
  }
  record->schedule = *std::move(schedule);
  record->last_active = std::min(last_end, record->schedule.absolute.end);
  // Type-specific fields.
  if (input.has_conditions()) {
    if (input.type() != v1::CONSTRAINT_TYPE_CONDITIONAL) {
      return Invalid(absl::StrCat(prefix, "conditions"),
                     "only for CONDITIONAL constraints");
    }
    if (input.conditions().has_altitude_ceiling()) {
      const v1::Altitude& c = input.conditions().altitude_ceiling();
      if (c.reference() != v1::ALTITUDE_REFERENCE_W84) {
        return Invalid(
            absl::StrCat(prefix, "conditions.altitude_ceiling.reference"),
            "must be W84 (metres above the WGS84 ellipsoid)");
      }
      if (!(c.value_m() >= limits.min_altitude_m &&
            c.value_m() <= limits.max_altitude_m)) {
        return Invalid(
            absl::StrCat(prefix, "conditions.altitude_ceiling.value_m"),
            absl::StrCat(c.value_m(), " is outside [", limits.min_altitude_m,
                         ", ", limits.max_altitude_m, "]"));
      }
      record->ceiling_m = c.value_m();
    }
  }
  if (input.self_unlock_allowed() &&
      input.type() != v1::CONSTRAINT_TYPE_REQUIRES_AUTHORISATION) {
    return Invalid(absl::StrCat(prefix, "self_unlock_allowed"),
                   "only REQUIRES_AUTHORISATION constraints can be "
                   "self-unlocked");
  }
  // Strings and repeated fields were checked by CheckFields(). Fields this
  // server does not know are neither stored nor sent to anyone.
  record->proto = input;
  record->proto.clear_active();
  // Output only: a constraint held here is in force (WithdrawnHistory keeps
  // the withdrawn ones).
  record->proto.set_state(v1::CONSTRAINT_STATE_PUBLISHED);
  record->proto.clear_withdraw_time();
  record->proto.clear_withdrawn_by();
  record->proto.clear_withdraw_reason();
  record->proto.DiscardUnknownFields();
  return std::shared_ptr<const Record>(std::move(record));
}

v1::Constraint View(const Record& record, absl::Time t) {
  v1::Constraint out = record.proto;
  out.set_active(record.ActiveAt(t));
  return out;
}

}  // namespace utm::constraint
