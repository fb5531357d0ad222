#include "services/utmctl/time_shift.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"
#include "services/common/volume_convert.h"

namespace utm::ctl {
namespace {

// Far enough for any plan, short of overflowing a Timestamp.
constexpr absl::Duration kMaxOffset = absl::Hours(24 * 400);

absl::Status BadStart(const std::string& text, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "--start \"", text, "\": ", why,
      " (want now, +DURATION such as +5m or +1h30m, or RFC 3339 such as "
      "2027-01-15T09:00:00Z)"));
}

}  // namespace

absl::StatusOr<absl::Time> ParseStartTime(const std::string& text,
                                          absl::Time now) {
  if (text == "now") return now;
  if (absl::StartsWith(text, "+")) {
    absl::Duration offset;
    if (!absl::ParseDuration(text.substr(1), &offset) ||
        offset == absl::InfiniteDuration()) {
      return BadStart(text, "not a duration");
    }
    if (offset < absl::ZeroDuration() || offset > kMaxOffset) {
      return BadStart(text, "out of range (0 to 400 days ahead)");
    }
    return now + offset;
  }
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return BadStart(text, "not a time");
  }
  return t;
}

absl::Status ShiftVolumes(absl::Time start, v1::FileIntentRequest* request) {
  std::optional<absl::Time> earliest;
  for (int i = 0; i < request->volumes_size(); ++i) {
    const v1::Volume4D& v = request->volumes(i);
    if (!v.has_time_start()) continue;
    UTM_ASSIGN_OR_RETURN(
        absl::Time t,
        TimeFromProto(v.time_start(),
                      absl::StrCat("volumes[", i, "].time_start")));
    if (!earliest || t < *earliest) earliest = t;
  }
  if (!earliest) {
    return absl::InvalidArgumentError(
        "volumes: no volume has a time_start to shift from (--start)");
  }
  const absl::Duration shift = start - *earliest;
  for (int i = 0; i < request->volumes_size(); ++i) {
    v1::Volume4D* v = request->mutable_volumes(i);
    if (v->has_time_start()) {
      UTM_ASSIGN_OR_RETURN(
          absl::Time t,
          TimeFromProto(v->time_start(),
                        absl::StrCat("volumes[", i, "].time_start")));
      *v->mutable_time_start() = TimeToProto(t + shift);
    }
    if (v->has_time_end()) {
      UTM_ASSIGN_OR_RETURN(
          absl::Time t,
          TimeFromProto(v->time_end(),
                        absl::StrCat("volumes[", i, "].time_end")));
      *v->mutable_time_end() = TimeToProto(t + shift);
    }
  }
  return absl::OkStatus();
}

}  // namespace utm::ctl
