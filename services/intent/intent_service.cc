#include "services/intent/intent_service.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"
#include "services/common/audit/case_reference.h"
#include "services/common/grpc_auth.h"
#include "services/common/grpc_status.h"
#include "services/common/input_limits.h"
#include "services/intent/intent_codec.h"

namespace utm::intent {
namespace {

AircraftDecl AircraftFromProto(const v1::FlightAircraft& aircraft) {
  AircraftDecl out;
  out.serial = aircraft.serial_number();
  out.mass_g = aircraft.mass_g();
  return out;
}

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

// Fills a response with an `intent` / `rejection` oneof and `advisories`.
template <typename Response>
void OutcomeToProto(const WriteOutcome& outcome, int32_t own_priority,
                    Response* response) {
  if (outcome.accepted()) {
    IntentToProto(*outcome.intent, response->mutable_intent());
  } else {
    ConflictsToProto(outcome.conflicts, own_priority,
                     response->mutable_rejection()->mutable_conflicts());
  }
  ConflictsToProto(outcome.advisories, own_priority,
                   response->mutable_advisories());
}

grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context,
                                 const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// Whether a read discloses owners: only to law enforcement that names its
// case. A case reference from anyone else is refused, a malformed one too.
absl::StatusOr<bool> RevealsOwners(const auth::Principal& caller,
                                   const std::string& case_reference) {
  if (case_reference.empty()) return false;
  if (!caller.Has(auth::Scope::kLawEnforcement)) {
    return absl::PermissionDeniedError(
        "case_reference: only a caller with scope utm.law_enforcement may "
        "give one");
  }
  UTM_RETURN_IF_ERROR(
      audit::CheckCaseReference(case_reference, "case_reference"));
  return true;
}

// `whole`: the answer is the whole intent (GetIntent), its aircraft too;
// otherwise only the owner is shown (QueryIntents).
audit::AuditEvent OwnerDisclosure(const auth::Principal& caller,
                                  const std::string& case_reference,
                                  const Intent& intent, bool whole) {
  audit::AuditEvent event;
  event.subject = caller.subject;
  event.case_reference = case_reference;
  event.action = "intent-owner";
  event.target = intent.id;
  event.about = intent.owner;
  event.disclosed = intent.owner;
  if (whole && !intent.aircraft_serial.empty()) {
    absl::StrAppend(&event.disclosed, ",aircraft=", intent.aircraft_serial);
  }
  return event;
}

// A failed audit record withholds the answer: no owner leaves unrecorded.
absl::Status Audited(const IntentService::AuditSink& sink,
                     const audit::AuditEvent& event) {
  if (!sink) {
    return absl::FailedPreconditionError(
        "this server keeps no audit log, so it discloses no owner");
  }
  const absl::Status recorded = sink(event);
  if (recorded.ok()) return recorded;
  return absl::Status(
      recorded.code(),
      absl::StrCat(recorded.message(), " (the owner is not disclosed)"));
}

// The ids of a request that names an existing intent.
template <typename Request>
absl::Status CheckIds(const Request& request) {
  UTM_RETURN_IF_ERROR(CheckId(request.request_id(), "request_id"));
  return CheckRequiredId(request.intent_id(), "intent_id");
}

// The paging and state filter QueryIntents and ListIntents share, checked.
struct PageRequest {
  int page_size = 0;                // resolved: default, capped
  std::vector<IntentState> states;  // empty: no filter
};
template <typename Request>
absl::StatusOr<PageRequest> ReadPageRequest(const Request& request) {
  if (request.page_size() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: ", request.page_size(), " is negative"));
  }
  PageRequest page;
  page.page_size = request.page_size() == 0
                       ? kDefaultPageSize
                       : std::min(request.page_size(), kMaxPageSize);
  UTM_RETURN_IF_ERROR(
      CheckText(request.page_token(), "page_token", kMaxPageTokenBytes));
  UTM_RETURN_IF_ERROR(
      CheckCount(request.states_size(), "states", kMaxEnumFilters));
  for (int i = 0; i < request.states_size(); ++i) {
    const int s = request.states(i);
    UTM_RETURN_IF_ERROR(CheckEnum(v1::IntentState_descriptor(), s,
                                  absl::StrCat("states[", i, "]")));
    UTM_ASSIGN_OR_RETURN(IntentState state,
                         StateFromProto(static_cast<v1::IntentState>(s)));
    page.states.push_back(state);
  }
  return page;
}

}  // namespace

IntentService::IntentService(IntentCore* core, const auth::Verifier* verifier,
                             AuditSink audit, geo::ValidationLimits limits,
                             PriorityPolicy priorities)
    : core_(core),
      verifier_(verifier),
      audit_(std::move(audit)),
      priorities_(priorities) {
  convert_.limits = limits;
}

absl::StatusOr<auth::Principal> IntentService::Caller(
    grpc::CallbackServerContext* context, bool write) const {
  UTM_ASSIGN_OR_RETURN(auth::Principal principal,
                       AuthenticateCall(*context, *verifier_));
  if (write) {
    UTM_RETURN_IF_ERROR(
        auth::RequireScope(principal, auth::Scope::kStrategicCoordination));
    if (region_ != nullptr)
      UTM_RETURN_IF_ERROR(region_->CheckCaller(principal));
  } else if (!principal.Has(auth::Scope::kStrategicCoordination) &&
             !principal.Has(auth::Scope::kConformanceMonitoring) &&
             !principal.Has(auth::Scope::kLawEnforcement) &&
             !principal.Has(auth::Scope::kAdmin)) {
    UTM_RETURN_IF_ERROR(
        auth::RequireScope(principal, auth::Scope::kStrategicCoordination));
  }
  return principal;
}

template <typename Request>
absl::StatusOr<IntentService::Launch> IntentService::Transition(
    grpc::CallbackServerContext* context, const Request& request,
    IntentState to) const {
  UTM_ASSIGN_OR_RETURN(auth::Principal caller, Caller(context, true));
  UTM_RETURN_IF_ERROR(CheckIds(request));
  TransitionRequest transition{request.request_id(), request.intent_id(),
                               request.version(), to,
                               /*off_nominal_volumes=*/{}};
  return Launch([this, subject = caller.subject,
                 transition = std::move(transition)](IntentCore::Done done) {
    core_->TransitionAsync(subject, transition, std::move(done));
  });
}

grpc::ServerUnaryReactor* IntentService::Respond(
    grpc::CallbackServerContext* context, absl::StatusOr<Launch> launch,
    std::function<absl::Status(const WriteOutcome&)> fill) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!launch.ok()) {
    reactor->Finish(ToGrpcStatus(launch.status()));
    return reactor;
  }
  // The answer may arrive on the store's writer thread once the write is on
  // disk; no gRPC thread waits for it.
  (*launch)(
      [reactor, fill = std::move(fill)](absl::StatusOr<WriteOutcome> out) {
        reactor->Finish(ToGrpcStatus(out.ok() ? fill(*out) : out.status()));
      });
  return reactor;
}

absl::StatusOr<std::vector<geo::Volume4D>> IntentService::Volumes(
    const google::protobuf::RepeatedPtrField<v1::Volume4D>& volumes,
    absl::string_view field) const {
  // Counted before any is converted: the cap bounds the work too.
  UTM_RETURN_IF_ERROR(
      CheckCount(volumes.size(), field, core_->options().max_volumes));
  std::vector<geo::Volume4D> out;
  out.reserve(volumes.size());
  for (int i = 0; i < volumes.size(); ++i) {
    UTM_ASSIGN_OR_RETURN(geo::Volume4D v,
                         VolumeFromProto(volumes[i], convert_,
                                         absl::StrCat(field, "[", i, "]")));
    out.push_back(std::move(v));
  }
  // Every caller of Volumes() writes: what lies outside is never stored.
  if (region_ != nullptr)
    UTM_RETURN_IF_ERROR(region_->CheckVolumes(out, field));
  return out;
}

grpc::ServerUnaryReactor* IntentService::FileIntent(
    grpc::CallbackServerContext* context, const v1::FileIntentRequest* request,
    v1::FileIntentResponse* response) {
  return Respond(
      context,
      [&]() -> absl::StatusOr<Launch> {
        UTM_ASSIGN_OR_RETURN(auth::Principal caller, Caller(context, true));
        UTM_RETURN_IF_ERROR(CheckId(request->request_id(), "request_id"));
        UTM_RETURN_IF_ERROR(priorities_.Check(caller, request->priority()));
        UTM_ASSIGN_OR_RETURN(std::vector<geo::Volume4D> volumes,
                             Volumes(request->volumes(), "volumes"));
        FileRequest file{request->request_id(), request->priority(),
                         std::move(volumes), !request->no_retention()};
        file.aircraft = AircraftFromProto(request->aircraft());
        return Launch([this, subject = caller.subject,
                       file = std::move(file)](IntentCore::Done done) {
          core_->FileAsync(subject, file, std::move(done));
        });
      }(),
      [response, priority = request->priority()](const WriteOutcome& out) {
        OutcomeToProto(out, priority, response);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* IntentService::ModifyIntent(
    grpc::CallbackServerContext* context,
    const v1::ModifyIntentRequest* request,
    v1::ModifyIntentResponse* response) {
  return Respond(
      context,
      [&]() -> absl::StatusOr<Launch> {
        UTM_ASSIGN_OR_RETURN(auth::Principal caller, Caller(context, true));
        UTM_RETURN_IF_ERROR(CheckIds(*request));
        UTM_RETURN_IF_ERROR(priorities_.Check(caller, request->priority()));
        UTM_ASSIGN_OR_RETURN(std::vector<geo::Volume4D> volumes,
                             Volumes(request->volumes(), "volumes"));
        ModifyRequest modify{request->request_id(), request->intent_id(),
                             request->version(), request->priority(),
                             std::move(volumes)};
        if (request->has_aircraft()) {
          modify.aircraft = AircraftFromProto(request->aircraft());
        }
        return Launch([this, subject = caller.subject,
                       modify = std::move(modify)](IntentCore::Done done) {
          core_->ModifyAsync(subject, modify, std::move(done));
        });
      }(),
      [response, priority = request->priority()](const WriteOutcome& out) {
        OutcomeToProto(out, priority, response);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* IntentService::ActivateIntent(
    grpc::CallbackServerContext* context,
    const v1::ActivateIntentRequest* request,
    v1::ActivateIntentResponse* response) {
  return Respond(
      context,
      [&]() -> absl::StatusOr<Launch> {
        UTM_ASSIGN_OR_RETURN(auth::Principal caller, Caller(context, true));
        UTM_RETURN_IF_ERROR(CheckIds(*request));
        TransitionRequest transition{request->request_id(),
                                     request->intent_id(), request->version(),
                                     IntentState::kActivated,
                                     /*off_nominal_volumes=*/{}};
        if (request->has_priority()) {
          UTM_RETURN_IF_ERROR(priorities_.Check(caller, request->priority()));
          transition.priority = request->priority();
        }
        UTM_ASSIGN_OR_RETURN(transition.volumes,
                             Volumes(request->volumes(), "volumes"));
        if (request->has_aircraft()) {
          transition.aircraft = AircraftFromProto(request->aircraft());
        }
        return Launch(
            [this, subject = caller.subject,
             transition = std::move(transition)](IntentCore::Done done) {
              core_->TransitionAsync(subject, transition, std::move(done));
            });
      }(),
      [response, asked = request->has_priority()
                             ? std::optional<int32_t>(request->priority())
                             : std::nullopt](const WriteOutcome& out) {
        // Reasons are given against the priority asked for, else the one
        // the intent has (unknown here when it was rejected: blocking
        // conflicts are INTENT_PRIORITY then, as they are).
        OutcomeToProto(
            out, asked.value_or(out.accepted() ? out.intent->priority : 0),
            response);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* IntentService::EndIntent(
    grpc::CallbackServerContext* context, const v1::EndIntentRequest* request,
    v1::EndIntentResponse* response) {
  return Respond(context, Transition(context, *request, IntentState::kEnded),
                 [response](const WriteOutcome& out) {
                   // Ending never conflicts.
                   IntentToProto(*out.intent, response->mutable_intent());
                   return absl::OkStatus();
                 });
}

grpc::ServerUnaryReactor* IntentService::CancelIntent(
    grpc::CallbackServerContext* context,
    const v1::CancelIntentRequest* request,
    v1::CancelIntentResponse* response) {
  return Respond(context,
                 Transition(context, *request, IntentState::kCancelled),
                 [response](const WriteOutcome& out) {
                   // Cancelling never conflicts.
                   IntentToProto(*out.intent, response->mutable_intent());
                   return absl::OkStatus();
                 });
}

grpc::ServerUnaryReactor* IntentService::SetIntentState(
    grpc::CallbackServerContext* context,
    const v1::SetIntentStateRequest* request,
    v1::SetIntentStateResponse* response) {
  IntentState to = IntentState::kAccepted;
  return Respond(
      context,
      [&]() -> absl::StatusOr<Launch> {
        UTM_ASSIGN_OR_RETURN(auth::Principal caller, Caller(context, true));
        UTM_RETURN_IF_ERROR(CheckIds(*request));
        UTM_RETURN_IF_ERROR(
            CheckEnum(v1::IntentState_descriptor(), request->state(), "state"));
        UTM_ASSIGN_OR_RETURN(to, StateFromProto(request->state()));
        if (to != IntentState::kActivated &&
            to != IntentState::kNonconforming &&
            to != IntentState::kContingent) {
          return absl::InvalidArgumentError(absl::StrCat(
              "state: ", IntentStateName(to),
              " is not declared with SetIntentState (ACTIVATED, "
              "NONCONFORMING or CONTINGENT); ",
              to == IntentState::kAccepted ? "no intent returns to ACCEPTED"
                                           : "use EndIntent or CancelIntent"));
        }
        UTM_ASSIGN_OR_RETURN(
            std::vector<geo::Volume4D> off_nominal,
            Volumes(request->off_nominal_volumes(), "off_nominal_volumes"));
        TransitionRequest transition{request->request_id(),
                                     request->intent_id(), request->version(),
                                     to, std::move(off_nominal)};
        return Launch(
            [this, subject = caller.subject,
             transition = std::move(transition)](IntentCore::Done done) {
              core_->TransitionAsync(subject, transition, std::move(done));
            });
      }(),
      [response, id = request->intent_id(), to](const WriteOutcome& out) {
        if (!out.accepted()) {
          // Only activation can be refused for conflicts; SetIntentState is
          // for declarations, so say what blocks it.
          return absl::FailedPreconditionError(absl::StrCat(
              "intent ", id, " cannot become ", IntentStateName(to),
              ": it conflicts with ", out.conflicts.size(),
              " intent(s); use ActivateIntent to see them"));
        }
        IntentToProto(*out.intent, response->mutable_intent());
        ConflictsToProto(out.advisories, out.intent->priority,
                         response->mutable_advisories());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* IntentService::GetIntent(
    grpc::CallbackServerContext* context, const v1::GetIntentRequest* request,
    v1::GetIntentResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_ASSIGN_OR_RETURN(auth::Principal caller, Caller(context, false));
    UTM_RETURN_IF_ERROR(CheckRequiredId(request->intent_id(), "intent_id"));
    UTM_ASSIGN_OR_RETURN(const bool reveal,
                         RevealsOwners(caller, request->case_reference()));
    UTM_ASSIGN_OR_RETURN(
        IntentView view,
        core_->Get(caller.subject, request->intent_id(), reveal));
    if (view.owned_by_caller) {
      IntentToProto(view.intent, response->mutable_intent());
    } else if (reveal) {
      UTM_RETURN_IF_ERROR(Audited(
          audit_,
          OwnerDisclosure(caller, request->case_reference(), view.intent,
                          /*whole=*/true)));
      IntentToProto(view.intent, response->mutable_intent());
    } else {
      ViewToProto(view, response->mutable_redacted());
    }
    return absl::OkStatus();
  }());
}

grpc::ServerUnaryReactor* IntentService::QueryIntents(
    grpc::CallbackServerContext* context,
    const v1::QueryIntentsRequest* request,
    v1::QueryIntentsResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_ASSIGN_OR_RETURN(auth::Principal caller, Caller(context, false));
    if (!request->has_area()) {
      return absl::InvalidArgumentError("area: required");
    }
    VolumeConvertOptions query = convert_;
    query.open_bounds = true;
    UTM_ASSIGN_OR_RETURN(geo::Volume4D area,
                         VolumeFromProto(request->area(), query, "area"));
    UTM_ASSIGN_OR_RETURN(const PageRequest page_request,
                         ReadPageRequest(*request));
    UTM_ASSIGN_OR_RETURN(const bool reveal,
                         RevealsOwners(caller, request->case_reference()));
    const int page_size = page_request.page_size;
    const std::vector<IntentState>& states = page_request.states;
    int written = 0;
    for (const IntentView& view : core_->Query(caller.subject, area, reveal)) {
      // Page tokens are the last id returned; ids are ordered.
      if (!request->page_token().empty() &&
          view.intent.id <= request->page_token()) {
        continue;
      }
      if (!states.empty() && std::find(states.begin(), states.end(),
                                       view.intent.state) == states.end()) {
        continue;
      }
      if (written == page_size) {
        response->set_next_page_token(
            response->intents(response->intents_size() - 1).id());
        break;
      }
      v1::FlightIntentView* out = response->add_intents();
      ViewToProto(view, out);
      if (reveal && !view.owned_by_caller) {
        // Each owner recorded before the answer (sent when this returns)
        // leaves; a failure fails the whole call, so none leaves unrecorded.
        UTM_RETURN_IF_ERROR(Audited(
            audit_,
            OwnerDisclosure(caller, request->case_reference(), view.intent,
                            /*whole=*/false)));
        out->set_owner(view.intent.owner);
      }
      ++written;
    }
    return absl::OkStatus();
  }());
}

grpc::ServerUnaryReactor* IntentService::ListIntents(
    grpc::CallbackServerContext* context, const v1::ListIntentsRequest* request,
    v1::ListIntentsResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_ASSIGN_OR_RETURN(auth::Principal caller, Caller(context, true));
    UTM_ASSIGN_OR_RETURN(const PageRequest page_request,
                         ReadPageRequest(*request));
    const int page_size = page_request.page_size;
    const std::vector<IntentState>& states = page_request.states;
    // Page tokens are the last id returned; ids are ordered.
    IntentCore::OwnedPage page =
        core_->ListOwned(caller.subject, states, request->page_token(),
                         static_cast<size_t>(page_size));
    for (const Intent& intent : page.intents) {
      IntentToProto(intent, response->add_intents());
    }
    if (page.more) response->set_next_page_token(page.intents.back().id);
    return absl::OkStatus();
  }());
}

}  // namespace utm::intent
