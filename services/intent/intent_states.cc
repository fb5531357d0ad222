#include "services/intent/intent_states.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace utm::intent {

bool TransitionAllowed(IntentState from, IntentState to) {
  using S = IntentState;
  switch (from) {
    case S::kAccepted:
      return to == S::kActivated || to == S::kNonconforming ||
             to == S::kContingent || to == S::kCancelled;
    case S::kActivated:
      return to == S::kNonconforming || to == S::kContingent || to == S::kEnded;
    case S::kNonconforming:
      return to == S::kActivated || to == S::kNonconforming ||
             to == S::kContingent || to == S::kEnded;
    case S::kContingent:
      return to == S::kContingent || to == S::kEnded;
    case S::kEnded:
    case S::kCancelled:
      return false;
  }
  return false;
}

std::string AllowedTransitions(IntentState from) {
  std::vector<std::string> names;
  for (IntentState to : {IntentState::kAccepted, IntentState::kActivated,
                         IntentState::kNonconforming, IntentState::kContingent,
                         IntentState::kEnded, IntentState::kCancelled}) {
    if (TransitionAllowed(from, to)) names.push_back(IntentStateName(to));
  }
  return names.empty() ? "none: it is final" : absl::StrJoin(names, ", ");
}

bool IsOffNominal(IntentState state) {
  return state == IntentState::kNonconforming ||
         state == IntentState::kContingent;
}

absl::Status CheckNotFlying(const Intent& intent) {
  if (intent.state == IntentState::kActivated || IsOffNominal(intent.state)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "intent ", intent.id, " is ", IntentStateName(intent.state),
        ": a flight in progress must end first"));
  }
  return absl::OkStatus();
}

absl::Status CheckTransitionRequest(const TransitionRequest& request) {
  const char* to = IntentStateName(request.to);
  if (IsOffNominal(request.to)) {
    // F3548: an off-nominal intent tells others where the aircraft actually
    // is; a declaration without that tells them nothing.
    if (request.off_nominal_volumes.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("off_nominal_volumes: ", to,
                       " needs at least one off-nominal volume (where the "
                       "aircraft is or will be)"));
    }
  } else if (!request.off_nominal_volumes.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "off_nominal_volumes: only for NONCONFORMING or CONTINGENT, not ", to));
  }
  if (request.to != IntentState::kActivated) {
    if (!request.volumes.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("volumes: only with activation, not ", to));
    }
    if (request.priority.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("priority: only with activation, not ", to));
    }
    if (request.aircraft.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("aircraft: only with activation, not ", to));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckTransition(const Intent& intent,
                             const TransitionRequest& request) {
  if (!TransitionAllowed(intent.state, request.to)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "intent ", intent.id, " is ", IntentStateName(intent.state),
        "; it cannot become ", IntentStateName(request.to),
        " (allowed: ", AllowedTransitions(intent.state), ")"));
  }
  if ((!request.volumes.empty() || request.priority.has_value() ||
       request.aircraft.has_value()) &&
      intent.state != IntentState::kAccepted) {
    return absl::FailedPreconditionError(absl::StrCat(
        "intent ", intent.id, " is ", IntentStateName(intent.state),
        "; new volumes, priority or aircraft go with the activation of an "
        "ACCEPTED intent only (use ModifyIntent)"));
  }
  return absl::OkStatus();
}

}  // namespace utm::intent
