// Who may take which intent priority.
//
// Priorities are the authority's to assign (ASTM F3548-21): a higher
// priority may overlap everyone below it, so a plain operator must not be
// able to claim the top of the range. The range [0, max_priority] is cut into
// three bands, each open only to tokens the identity provider granted the
// band's scope:
//
//   0 .. max_operator                 utm.strategic_coordination (any operator)
//   max_operator+1 .. max_public_safety   + utm.priority.public_safety
//   max_public_safety+1 .. max_priority   + utm.priority.emergency
//
// A token with a higher band's scope may also take every lower band. A band
// whose bounds coincide is empty (e.g. max_public_safety == max_operator
// leaves no public-safety band). Pure: knows tokens' scopes, no gRPC; the
// adapter checks every FileIntent and ModifyIntent with it before the core
// sees the request.
//
// Typical usage:
//   UTM_ASSIGN_OR_RETURN(PriorityPolicy policy, PriorityPolicy::Create(bands));
//   UTM_RETURN_IF_ERROR(policy.Check(caller, request.priority()));
#ifndef UTM_SERVICES_INTENT_PRIORITY_POLICY_H_
#define UTM_SERVICES_INTENT_PRIORITY_POLICY_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/auth.h"

namespace utm::intent {

struct PriorityBands {
  // Highest priority any operator token may take. DEFAULT: 99: a hundred
  // levels for operators to order their own flights, with everything from
  // 100 up left to the authority.
  int32_t max_operator = 99;
  // Highest priority a token with utm.priority.public_safety may take.
  // DEFAULT: 199.
  int32_t max_public_safety = 199;
  // Highest priority of all, for utm.priority.emergency tokens; also
  // IntentOptions::max_priority. DEFAULT: 1000.
  int32_t max_priority = 1000;
  // REQUIRES: 0 <= max_operator <= max_public_safety <= max_priority.
};

// Immutable; thread-safe.
class PriorityPolicy {
 public:
  // The default bands.
  PriorityPolicy() = default;

  // INVALID_ARGUMENT naming the bound unless 0 <= max_operator <=
  // max_public_safety <= max_priority.
  static absl::StatusOr<PriorityPolicy> Create(PriorityBands bands);

  // OK if `caller` may file or modify an intent at `priority`.
  // INVALID_ARGUMENT for a priority outside [0, max_priority] (no token can
  // take it); PERMISSION_DENIED naming the field, the value, the caller's
  // limit and the scope the next band needs, e.g. "priority: 150 exceeds 99,
  // the most an operator token may take; 100-199 need scope
  // utm.priority.public_safety, 200-1000 utm.priority.emergency".
  // `field` is the request field's path, for the message.
  absl::Status Check(const auth::Principal& caller, int32_t priority,
                     absl::string_view field = "priority") const;

  // The highest priority `caller` may take.
  int32_t MaxFor(const auth::Principal& caller) const;

  const PriorityBands& bands() const { return bands_; }

 private:
  explicit PriorityPolicy(PriorityBands bands) : bands_(bands) {}

  PriorityBands bands_;
};

}  // namespace utm::intent

#endif  // UTM_SERVICES_INTENT_PRIORITY_POLICY_H_
