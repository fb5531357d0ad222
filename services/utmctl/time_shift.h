// `--start` for utmctl's volume files: move a whole flight plan in time so
// that its first volume starts at a chosen instant, keeping every volume's
// duration and the gaps between them. It lets example files (and yesterday's
// plan) be filed as they are, whatever their dates, within the server's
// planning horizon.
//
// Typical usage:
//   absl::StatusOr<absl::Time> start = ParseStartTime("+5m", absl::Now());
//   if (!start.ok()) ...;  // INVALID_ARGUMENT naming --start
//   UTM_RETURN_IF_ERROR(ShiftVolumes(*start, &request));
#ifndef UTM_SERVICES_UTMCTL_TIME_SHIFT_H_
#define UTM_SERVICES_UTMCTL_TIME_SHIFT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "utm/v1/strategic.pb.h"

namespace utm::ctl {

// "now", "+DURATION" after `now` (an Abseil duration: "+5m", "+1h30m",
// "+90s"; at most 400 days) or an RFC 3339 time ("2027-01-15T09:00:00Z").
// INVALID_ARGUMENT otherwise, the message naming --start and the forms.
absl::StatusOr<absl::Time> ParseStartTime(const std::string& text,
                                          absl::Time now);

// Shifts every volume's time_start and time_end by the same amount, so the
// earliest time_start becomes `start`. Volumes without a time_start do not
// count for the earliest; an unset bound stays unset. INVALID_ARGUMENT
// ("volumes: no volume has a time_start to shift from") if none has one.
absl::Status ShiftVolumes(absl::Time start, v1::FileIntentRequest* request);

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_TIME_SHIFT_H_
