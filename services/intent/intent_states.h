// The lifecycle of a flight intent (ASTM F3548-21 operational intent states,
// as the InterUSS reference USS implements them), without gRPC or storage.
//
// Transitions (anything else is FAILED_PRECONDITION):
//
//   from \ to      ACTIVATED  NONCONFORMING  CONTINGENT  ENDED  CANCELLED
//   ACCEPTED       yes (1)    yes (2)        yes (2)     -      yes
//   ACTIVATED      -          yes (2)        yes (2)     yes    -
//   NONCONFORMING  yes (3)    yes (2)(4)     yes (2)     yes    -
//   CONTINGENT     -          -              yes (2)(4)  yes    -
//   ENDED, CANCELLED: final.
//
//   (1) Take-off: deconflicted again, as a filing is, against the intents
//       and constraints live now; may carry new volumes and priority, checked
//       like a modification of an ACCEPTED intent and applied in the same
//       write (one new version).
//   (2) A declaration of fact: needs at least one off-nominal volume (where
//       the aircraft is), never refused for conflicts; what those volumes
//       meet comes back as advisories. From ACCEPTED: the aircraft is flying
//       off its plan before the plan was activated (F3548 allows it).
//   (3) Back in conformance: off-nominal volumes are dropped; not
//       deconflicted (the aircraft is already in its volumes).
//   (4) Re-declaration with new off-nominal volumes replacing the old ones.
//
// Off-nominal volumes go only with NONCONFORMING and CONTINGENT (F3548: a
// nominal intent has none); new nominal volumes and priority only with
// activation of an ACCEPTED intent.
#ifndef UTM_SERVICES_INTENT_INTENT_STATES_H_
#define UTM_SERVICES_INTENT_INTENT_STATES_H_

#include <string>

#include "absl/status/status.h"
#include "services/intent/intent_core.h"

namespace utm::intent {

// Whether the table above has `from` -> `to`.
bool TransitionAllowed(IntentState from, IntentState to);

// The states `from` may become, "ACTIVATED, CANCELLED", or "none: it is
// final".
std::string AllowedTransitions(IntentState from);

// Whether `state` is NONCONFORMING or CONTINGENT.
bool IsOffNominal(IntentState state);

// OK unless `intent` is a flight in progress (activated, nonconforming or
// contingent): then FAILED_PRECONDITION "intent ID is STATE: a flight in
// progress must end first". What an erasure of the intent's owner checks.
absl::Status CheckNotFlying(const Intent& intent);

// The checks of a TransitionRequest that need no stored intent: its
// off-nominal volumes against its target state, and new nominal volumes or
// priority only with ACTIVATED. INVALID_ARGUMENT naming the field.
absl::Status CheckTransitionRequest(const TransitionRequest& request);

// The checks against the intent as stored (`intent` is live): the table
// above, and new volumes or priority only when activating an ACCEPTED
// intent. FAILED_PRECONDITION naming the allowed transitions.
absl::Status CheckTransition(const Intent& intent,
                             const TransitionRequest& request);

}  // namespace utm::intent

#endif  // UTM_SERVICES_INTENT_INTENT_STATES_H_
