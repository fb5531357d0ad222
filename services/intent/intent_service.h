// The gRPC adapter of the strategic coordination service
// (utm.v1.StrategicCoordination): authenticates the caller, converts the wire
// form to the core's domain types and back, and maps statuses. All rules live
// in IntentCore.
//
// Scopes: writes need utm.strategic_coordination and act as the token's
// subject; reads also accept utm.conformance_monitoring, utm.law_enforcement
// and utm.admin. The priority of a filing, a modification or an activation
// that changes it must be within the caller's band of the PriorityPolicy (PERMISSION_DENIED above it). Only
// the owner and law enforcement that gives a case reference (the warrant,
// subpoena or court order id) see an intent's owner; everyone else gets the
// redacted view, and every disclosure to law enforcement is reported to the
// audit sink, with the case reference, before the answer is sent.
//
// Typical usage:
//   IntentCore core(options, RealClock::Get());
//   IntentService service(&core, verifier.get());
//   Server::Start(server_options, {&service});
#ifndef UTM_SERVICES_INTENT_INTENT_SERVICE_H_
#define UTM_SERVICES_INTENT_INTENT_SERVICE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "services/common/audit/audit_event.h"
#include "services/common/auth.h"
#include "services/common/region.h"
#include "services/common/volume_convert.h"
#include "services/intent/intent_core.h"
#include "services/intent/priority_policy.h"
#include "utm/v1/strategic.grpc.pb.h"

namespace utm::intent {

class IntentService final : public v1::StrategicCoordination::CallbackService {
 public:
  // Called once for each disclosure of an owner's identity to someone else
  // (action "intent-owner", target the intent id, disclosed the owner),
  // before the answer is sent. Fails closed: when it returns an error the
  // call answers with that error and no owner is disclosed.
  using AuditSink = audit::AuditSink;

  // `core` and `verifier` are not owned and must outlive the service. With
  // a null `audit`, no owner is ever disclosed to anyone but the owner
  // (FAILED_PRECONDITION for a request with a case reference).
  // `priorities` decides which priorities each caller may take.
  IntentService(IntentCore* core, const auth::Verifier* verifier,
                AuditSink audit,
                geo::ValidationLimits limits = geo::ValidationLimits(),
                PriorityPolicy priorities = PriorityPolicy());

  // Data residency: when set, every write checks the caller's home region
  // and that its volumes (and off-nominal volumes) lie inside the region,
  // before anything reaches the core. Null (the default): no region.
  // `policy` is not owned and must outlive the service. REQUIRES: called
  // before the service serves.
  void SetRegionPolicy(const region::RegionPolicy* policy) { region_ = policy; }

  grpc::ServerUnaryReactor* FileIntent(
      grpc::CallbackServerContext* context,
      const v1::FileIntentRequest* request,
      v1::FileIntentResponse* response) override;
  grpc::ServerUnaryReactor* ModifyIntent(
      grpc::CallbackServerContext* context,
      const v1::ModifyIntentRequest* request,
      v1::ModifyIntentResponse* response) override;
  grpc::ServerUnaryReactor* ActivateIntent(
      grpc::CallbackServerContext* context,
      const v1::ActivateIntentRequest* request,
      v1::ActivateIntentResponse* response) override;
  grpc::ServerUnaryReactor* EndIntent(grpc::CallbackServerContext* context,
                                      const v1::EndIntentRequest* request,
                                      v1::EndIntentResponse* response) override;
  grpc::ServerUnaryReactor* CancelIntent(
      grpc::CallbackServerContext* context,
      const v1::CancelIntentRequest* request,
      v1::CancelIntentResponse* response) override;
  grpc::ServerUnaryReactor* SetIntentState(
      grpc::CallbackServerContext* context,
      const v1::SetIntentStateRequest* request,
      v1::SetIntentStateResponse* response) override;
  grpc::ServerUnaryReactor* GetIntent(grpc::CallbackServerContext* context,
                                      const v1::GetIntentRequest* request,
                                      v1::GetIntentResponse* response) override;
  grpc::ServerUnaryReactor* QueryIntents(
      grpc::CallbackServerContext* context,
      const v1::QueryIntentsRequest* request,
      v1::QueryIntentsResponse* response) override;
  // The caller's own intents: the token's subject is the owner, so no
  // other operator's intent can be listed. Needs utm.strategic_coordination.
  grpc::ServerUnaryReactor* ListIntents(
      grpc::CallbackServerContext* context,
      const v1::ListIntentsRequest* request,
      v1::ListIntentsResponse* response) override;

 private:
  absl::StatusOr<auth::Principal> Caller(grpc::CallbackServerContext* context,
                                         bool write) const;
  // Starts a core write, handing it the callback that answers the call.
  using Launch = std::function<void(IntentCore::Done)>;

  // Authenticates a writer and prepares moving the intent of an Activate,
  // End or Cancel request to `to`.
  template <typename Request>
  absl::StatusOr<Launch> Transition(grpc::CallbackServerContext* context,
                                    const Request& request,
                                    IntentState to) const;
  // Answers a write asynchronously: an error from preparing it finishes the
  // call at once; otherwise the launched write's outcome goes through `fill`
  // into the response when it is durable.
  static grpc::ServerUnaryReactor* Respond(
      grpc::CallbackServerContext* context, absl::StatusOr<Launch> launch,
      std::function<absl::Status(const WriteOutcome&)> fill);
  absl::StatusOr<std::vector<geo::Volume4D>> Volumes(
      const google::protobuf::RepeatedPtrField<v1::Volume4D>& volumes,
      absl::string_view field) const;

  IntentCore* const core_;
  const auth::Verifier* const verifier_;
  const AuditSink audit_;
  const PriorityPolicy priorities_;
  VolumeConvertOptions convert_;
  const region::RegionPolicy* region_ = nullptr;  // not owned
};

}  // namespace utm::intent

#endif  // UTM_SERVICES_INTENT_INTENT_SERVICE_H_
