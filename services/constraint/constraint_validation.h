// The size and enum checks of every ConstraintService request: each string
// and repeated field against its cap in services/common/input_limits.h, each
// enum against the values this server knows. They run first, before any
// lookup, conversion or storage, so nothing unbounded is stored, compared or
// echoed. Errors are INVALID_ARGUMENT with the field path as on the wire
// ("constraint.source.dataset: 4194304 bytes, at most 1024").
//
// Output-only fields are checked too: they are ignored, but a request with a
// request_id is remembered whole for its retries.
//
// What needs more than the request (geometry, schedules, times, permissions)
// is ConstraintCore's to check.
//
// Typical usage:
//   UTM_RETURN_IF_ERROR(CheckFields(request));
#ifndef UTM_SERVICES_CONSTRAINT_CONSTRAINT_VALIDATION_H_
#define UTM_SERVICES_CONSTRAINT_CONSTRAINT_VALIDATION_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "utm/v1/constraint.pb.h"

namespace utm::constraint {

// The strings, repeated fields and enums of `constraint`, named under
// `field` (e.g. "constraint"). A zero `type` is left to the caller, which
// explains what to set.
absl::Status CheckConstraintFields(const v1::Constraint& constraint,
                                   absl::string_view field);

absl::Status CheckFields(const v1::PublishConstraintRequest& request);
absl::Status CheckFields(const v1::UpdateConstraintRequest& request);
absl::Status CheckFields(const v1::WithdrawConstraintRequest& request);
absl::Status CheckFields(const v1::GetConstraintRequest& request);
absl::Status CheckFields(const v1::QueryConstraintsRequest& request);
absl::Status CheckFields(const v1::GrantAuthorisationRequest& request);
absl::Status CheckFields(const v1::SelfUnlockRequest& request);
absl::Status CheckFields(const v1::ListAuthorisationsRequest& request);
absl::Status CheckFields(const v1::RevokeAuthorisationRequest& request);

}  // namespace utm::constraint

#endif  // UTM_SERVICES_CONSTRAINT_CONSTRAINT_VALIDATION_H_
