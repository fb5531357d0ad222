#include "services/intent/intent_codec.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"
#include "services/common/volume_convert.h"

namespace utm::intent {
namespace {

void AddVolumes(const std::vector<geo::Volume4D>& volumes,
                google::protobuf::RepeatedPtrField<v1::Volume4D>* out) {
  for (const geo::Volume4D& v : volumes) *out->Add() = VolumeToProto(v);
}

absl::StatusOr<std::vector<geo::Volume4D>> VolumesFromProto(
    const google::protobuf::RepeatedPtrField<v1::Volume4D>& volumes,
    absl::string_view field) {
  std::vector<geo::Volume4D> out;
  for (int i = 0; i < volumes.size(); ++i) {
    UTM_ASSIGN_OR_RETURN(
        geo::Volume4D v,
        VolumeFromProto(volumes[i], {}, absl::StrCat(field, "[", i, "]")));
    out.push_back(std::move(v));
  }
  return out;
}

absl::Time TimeOf(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

v1::Altitude W84(double value_m) {
  v1::Altitude a;
  a.set_value_m(value_m);
  a.set_reference(v1::ALTITUDE_REFERENCE_W84);
  return a;
}

}  // namespace

v1::IntentState StateToProto(IntentState state) {
  switch (state) {
    case IntentState::kAccepted:
      return v1::INTENT_STATE_ACCEPTED;
    case IntentState::kActivated:
      return v1::INTENT_STATE_ACTIVATED;
    case IntentState::kNonconforming:
      return v1::INTENT_STATE_NONCONFORMING;
    case IntentState::kContingent:
      return v1::INTENT_STATE_CONTINGENT;
    case IntentState::kEnded:
      return v1::INTENT_STATE_ENDED;
    case IntentState::kCancelled:
      return v1::INTENT_STATE_CANCELLED;
  }
  return v1::INTENT_STATE_UNSPECIFIED;
}

absl::StatusOr<IntentState> StateFromProto(v1::IntentState state) {
  switch (state) {
    case v1::INTENT_STATE_ACCEPTED:
      return IntentState::kAccepted;
    case v1::INTENT_STATE_ACTIVATED:
      return IntentState::kActivated;
    case v1::INTENT_STATE_NONCONFORMING:
      return IntentState::kNonconforming;
    case v1::INTENT_STATE_CONTINGENT:
      return IntentState::kContingent;
    case v1::INTENT_STATE_ENDED:
      return IntentState::kEnded;
    case v1::INTENT_STATE_CANCELLED:
      return IntentState::kCancelled;
    default:
      // IntentState_Name is empty for a number the enum does not know.
      return absl::InvalidArgumentError(absl::StrCat(
          "state: ",
          v1::IntentState_IsValid(state) ? v1::IntentState_Name(state)
                                         : absl::StrCat(state),
          " is not a state an intent can be in"));
  }
}

void IntentToProto(const Intent& intent, v1::FlightIntent* out) {
  out->set_id(intent.id);
  out->set_owner(intent.owner);
  out->set_priority(intent.priority);
  out->set_state(StateToProto(intent.state));
  AddVolumes(intent.volumes, out->mutable_volumes());
  AddVolumes(intent.off_nominal_volumes, out->mutable_off_nominal_volumes());
  out->set_version(intent.version);
  *out->mutable_create_time() = TimeToProto(intent.created);
  *out->mutable_update_time() = TimeToProto(intent.updated);
  out->set_no_retention(!intent.retained);
  if (!intent.aircraft_serial.empty() || intent.aircraft_mass_g != 0) {
    out->mutable_aircraft()->set_serial_number(intent.aircraft_serial);
    out->mutable_aircraft()->set_mass_g(intent.aircraft_mass_g);
  }
}

absl::StatusOr<Intent> IntentFromProto(const v1::FlightIntent& proto) {
  Intent intent;
  intent.id = proto.id();
  intent.owner = proto.owner();
  intent.priority = proto.priority();
  UTM_ASSIGN_OR_RETURN(intent.state, StateFromProto(proto.state()));
  UTM_ASSIGN_OR_RETURN(intent.volumes,
                       VolumesFromProto(proto.volumes(), "volumes"));
  UTM_ASSIGN_OR_RETURN(
      intent.off_nominal_volumes,
      VolumesFromProto(proto.off_nominal_volumes(), "off_nominal_volumes"));
  intent.version = proto.version();
  intent.retained = !proto.no_retention();
  intent.created = TimeOf(proto.create_time());
  intent.updated = TimeOf(proto.update_time());
  intent.aircraft_serial = proto.aircraft().serial_number();
  intent.aircraft_mass_g = proto.aircraft().mass_g();
  return intent;
}

void ViewToProto(const IntentView& view, v1::FlightIntentView* out) {
  const Intent& intent = view.intent;
  out->set_id(intent.id);
  out->set_priority(intent.priority);
  out->set_state(StateToProto(intent.state));
  AddVolumes(intent.volumes, out->mutable_volumes());
  AddVolumes(intent.off_nominal_volumes, out->mutable_off_nominal_volumes());
  out->set_version(intent.version);
  out->set_owned_by_caller(view.owned_by_caller);
}

void ConflictsToProto(const std::vector<Conflict>& conflicts,
                      int32_t own_priority,
                      google::protobuf::RepeatedPtrField<v1::Conflict>* out) {
  for (const Conflict& c : conflicts) {
    v1::Conflict* conflict = out->Add();
    if (c.is_constraint()) {
      conflict->mutable_constraint()->set_id(c.constraint_id);
      conflict->mutable_constraint()->set_type(c.constraint_type);
      conflict->set_reason(c.constraint_reason);
    } else {
      v1::IntentRef* ref = conflict->mutable_intent();
      ref->set_id(c.intent_id);
      ref->set_priority(c.priority);
      ref->set_state(StateToProto(c.state));
      conflict->set_reason(c.priority < own_priority
                               ? v1::CONFLICT_REASON_INTENT_LOWER_PRIORITY
                               : v1::CONFLICT_REASON_INTENT_PRIORITY);
    }
    for (const VolumeOverlap& o : c.overlaps) {
      v1::VolumeOverlap* overlap = conflict->add_overlaps();
      overlap->set_volume_index(o.volume_index);
      overlap->set_other_volume_index(o.other_volume_index);
      overlap->set_other_off_nominal(o.other_off_nominal);
      *overlap->mutable_time_overlap()->mutable_start() =
          TimeToProto(o.time.start);
      *overlap->mutable_time_overlap()->mutable_end() = TimeToProto(o.time.end);
      *overlap->mutable_altitude_overlap()->mutable_lower() =
          W84(o.altitude.lower_m);
      *overlap->mutable_altitude_overlap()->mutable_upper() =
          W84(o.altitude.upper_m);
    }
  }
}

absl::StatusOr<std::vector<Conflict>> ConflictsFromProto(
    const google::protobuf::RepeatedPtrField<v1::Conflict>& conflicts) {
  std::vector<Conflict> out;
  for (const v1::Conflict& c : conflicts) {
    Conflict conflict;
    if (c.has_constraint()) {
      conflict.constraint_id = c.constraint().id();
      conflict.constraint_type = c.constraint().type();
      conflict.constraint_reason = c.reason();
    } else {
      conflict.intent_id = c.intent().id();
      conflict.priority = c.intent().priority();
      UTM_ASSIGN_OR_RETURN(conflict.state, StateFromProto(c.intent().state()));
    }
    for (const v1::VolumeOverlap& o : c.overlaps()) {
      conflict.overlaps.push_back(VolumeOverlap{
          o.volume_index(),
          o.other_volume_index(),
          o.other_off_nominal(),
          {TimeOf(o.time_overlap().start()), TimeOf(o.time_overlap().end())},
          {o.altitude_overlap().lower().value_m(),
           o.altitude_overlap().upper().value_m()}});
    }
    out.push_back(std::move(conflict));
  }
  return out;
}

}  // namespace utm::intent
