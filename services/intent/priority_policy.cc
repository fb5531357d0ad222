#include "services/intent/priority_policy.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace utm::intent {
namespace {

// "100-199", or "200" for a band of one.
std::string Values(int32_t low, int32_t high) {
  return low == high ? absl::StrCat(low) : absl::StrCat(low, "-", high);
}

// "100-199 need scope <scope>", or "200 needs scope <scope>".
std::string Needs(int32_t low, int32_t high, auth::Scope scope) {
  return absl::StrCat(Values(low, high), low == high ? " needs" : " need",
                      " scope ", auth::ScopeName(scope));
}

}  // namespace

absl::StatusOr<PriorityPolicy> PriorityPolicy::Create(PriorityBands bands) {
  if (bands.max_operator < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max operator priority ", bands.max_operator, " is negative"));
  }
  if (bands.max_public_safety < bands.max_operator) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max public-safety priority ", bands.max_public_safety,
        " is below the max operator priority ", bands.max_operator));
  }
  if (bands.max_priority < bands.max_public_safety) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max priority ", bands.max_priority,
        " is below the max public-safety priority ", bands.max_public_safety));
  }
  return PriorityPolicy(bands);
}

int32_t PriorityPolicy::MaxFor(const auth::Principal& caller) const {
  if (caller.Has(auth::Scope::kPriorityEmergency)) return bands_.max_priority;
  if (caller.Has(auth::Scope::kPriorityPublicSafety)) {
    return bands_.max_public_safety;
  }
  return bands_.max_operator;
}

absl::Status PriorityPolicy::Check(const auth::Principal& caller,
                                   int32_t priority,
                                   absl::string_view field) const {
  if (priority < 0 || priority > bands_.max_priority) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", priority, " is outside [0, ", bands_.max_priority, "]"));
  }
  const int32_t limit = MaxFor(caller);
  if (priority <= limit) return absl::OkStatus();

  const bool public_safety = limit == bands_.max_public_safety &&
                             caller.Has(auth::Scope::kPriorityPublicSafety);
  const absl::string_view whose = public_safety
                                      ? "a utm.priority.public_safety token"
                                      : "an operator token";
  // The bands above the caller's, each with the scope that opens it.
  std::vector<std::string> above;
  if (!public_safety && bands_.max_public_safety > bands_.max_operator) {
    above.push_back(Needs(bands_.max_operator + 1, bands_.max_public_safety,
                          auth::Scope::kPriorityPublicSafety));
  }
  if (bands_.max_priority > bands_.max_public_safety) {
    const int32_t low = bands_.max_public_safety + 1;
    // After a first band the verb is understood: "..., 200-1000 <scope>".
    above.push_back(
        above.empty()
            ? Needs(low, bands_.max_priority, auth::Scope::kPriorityEmergency)
            : absl::StrCat(Values(low, bands_.max_priority), " ",
                           auth::ScopeName(auth::Scope::kPriorityEmergency)));
  }
  return absl::PermissionDeniedError(
      absl::StrCat(field, ": ", priority, " exceeds ", limit, ", the most ",
                   whose, " may take; ", absl::StrJoin(above, ", ")));
}

}  // namespace utm::intent
