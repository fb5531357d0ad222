// Intent domain types <-> their protobuf forms (utm.v1), shared by the gRPC
// adapter and the storage format.
#ifndef UTM_SERVICES_INTENT_INTENT_CODEC_H_
#define UTM_SERVICES_INTENT_INTENT_CODEC_H_

#include <vector>

#include "absl/status/statusor.h"
#include "services/intent/intent_core.h"
#include "utm/v1/strategic.pb.h"

namespace utm::intent {

v1::IntentState StateToProto(IntentState state);
// INVALID_ARGUMENT ("state: ...") for UNSPECIFIED or unknown values.
absl::StatusOr<IntentState> StateFromProto(v1::IntentState state);

void IntentToProto(const Intent& intent, v1::FlightIntent* out);
// For stored intents: geometry is checked (geo validation) but not against
// the clock, since stored intents may lie in the past.
absl::StatusOr<Intent> IntentFromProto(const v1::FlightIntent& proto);

void ViewToProto(const IntentView& view, v1::FlightIntentView* out);

// `own_priority` decides the reason: INTENT_LOWER_PRIORITY for conflicts
// with lower-priority intents, INTENT_PRIORITY otherwise.
void ConflictsToProto(const std::vector<Conflict>& conflicts,
                      int32_t own_priority,
                      google::protobuf::RepeatedPtrField<v1::Conflict>* out);
absl::StatusOr<std::vector<Conflict>> ConflictsFromProto(
    const google::protobuf::RepeatedPtrField<v1::Conflict>& conflicts);

}  // namespace utm::intent

#endif  // UTM_SERVICES_INTENT_INTENT_CODEC_H_
