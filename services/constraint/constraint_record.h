// One immutable version of a constraint as the core holds it: the checked
// wire form plus what deconfliction needs decoded (volumes, schedule,
// CONDITIONAL ceiling, the instant after which it is never active again).
// Records are shared (std::shared_ptr<const Record>) between the registry,
// the change log and the events built from it; a new version is a new
// Record.
//
// Also the small helpers the constraint core's files share.
//
// Typical usage:
//   UTM_ASSIGN_OR_RETURN(std::shared_ptr<const Record> r,
//                        MakeRecord(request.constraint(), "constraint",
//                                   options.limits, options.max_volumes));
//   if (r->ActiveAt(now)) ...
#ifndef UTM_SERVICES_CONSTRAINT_CONSTRAINT_RECORD_H_
#define UTM_SERVICES_CONSTRAINT_CONSTRAINT_RECORD_H_

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "geo/volume.h"
#include "google/protobuf/timestamp.pb.h"
#include "services/constraint/schedule.h"
#include "utm/v1/constraint.pb.h"

namespace utm::constraint {

// INVALID_ARGUMENT "<field>: <message>".
absl::Status Invalid(absl::string_view field, absl::string_view message);

// A stored (already validated) timestamp.
absl::Time TimeOf(const google::protobuf::Timestamp& t);

// Whether the closed window `w` contains `t`.
inline bool Contains(const geo::TimeWindow& w, absl::Time t) {
  return w.start <= t && t <= w.end;
}

// One immutable version of a constraint.
struct Record {
  v1::Constraint proto;  // every field but `active`
  std::vector<geo::Volume4D> volumes;
  constraint::Schedule schedule;
  std::optional<double> ceiling_m;  // CONDITIONAL altitude ceiling
  absl::Time last_active;           // after it, never active again

  const std::string& id() const { return proto.id(); }
  v1::ConstraintType type() const { return proto.type(); }

  bool ActiveAt(absl::Time t) const {
    if (!constraint::ActiveAt(schedule, t)) return false;
    for (const geo::Volume4D& v : volumes) {
      if (Contains(v.time, t)) return true;
    }
    return false;
  }
  // The first instant after `t` at which ActiveAt() may change.
  absl::Time NextCandidate(absl::Time t) const {
    absl::Time next = NextChange(schedule, t);
    for (const geo::Volume4D& v : volumes) {
      if (v.time.start > t) next = std::min(next, v.time.start);
      if (v.time.end != absl::InfiniteFuture() && v.time.end >= t) {
        next = std::min(next, v.time.end + absl::Nanoseconds(1));
      }
    }
    return next;
  }
};

// Checks and builds a record. INVALID_ARGUMENT naming the field under
// `field` ("constraint.volumes[2]...."). `trusted`: read back from the
// store, where it was written after these checks, so its geometry is not
// checked again (a restart stays linear in the vertices stored).
absl::StatusOr<std::shared_ptr<const Record>> MakeRecord(
    const v1::Constraint& input, absl::string_view field,
    const geo::ValidationLimits& limits, int max_volumes, bool trusted = false);

// The record as clients read it at `t` (with `active`).
v1::Constraint View(const Record& record, absl::Time t);

}  // namespace utm::constraint

#endif  // UTM_SERVICES_CONSTRAINT_CONSTRAINT_RECORD_H_
