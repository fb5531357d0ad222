// The gRPC adapter of the constraint service (utm.v1.ConstraintService):
// authenticates the caller, hands the request to ConstraintCore and maps
// statuses. All rules live in the core.
//
// Scopes: publishing, updating, withdrawing and granting need
// utm.constraint_management (the token's subject is the authority);
// self-unlocking needs utm.strategic_coordination (the subject is the
// operator); revoking takes either; every authenticated caller with a known
// scope may read, query, watch and check. utm.admin acts on any authority's
// constraints.
//
// Unary writes run the core on the gRPC callback thread and wait for the
// store there (constraint writes are rare: regulators publish, the hot path
// is reading); WatchConstraints is a server-streaming reactor that writes
// one event at a time from the watcher's bounded queue and never blocks.
//
// Typical usage:
//   ConstraintCore core(options, RealClock::Get(), store);
//   ConstraintService service(&core, verifier.get());
//   Ticker ticker(&core, absl::Milliseconds(200));
//   Server::Start(server_options, {&service});
#ifndef UTM_SERVICES_CONSTRAINT_CONSTRAINT_SERVICE_H_
#define UTM_SERVICES_CONSTRAINT_CONSTRAINT_SERVICE_H_

#include <set>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "services/common/auth.h"
#include "services/common/region.h"
#include "services/constraint/constraint_core.h"
#include "utm/v1/constraint.grpc.pb.h"

namespace utm::constraint {

// One WatchConstraints stream (defined in the .cc file).
class WatchReactor;

class ConstraintService final : public v1::ConstraintService::CallbackService {
 public:
  // `core` and `verifier` are not owned and must outlive the service.
  ConstraintService(ConstraintCore* core, const auth::Verifier* verifier);

  // Data residency: when set, every write checks the caller's home region
  // (the volumes are the core's to check, ConstraintOptions::region). Not
  // owned; must outlive the service. REQUIRES: called before serving.
  void SetRegionPolicy(const region::RegionPolicy* policy) { region_ = policy; }

  grpc::ServerUnaryReactor* PublishConstraint(
      grpc::CallbackServerContext* context,
      const v1::PublishConstraintRequest* request,
      v1::PublishConstraintResponse* response) override;
  grpc::ServerUnaryReactor* UpdateConstraint(
      grpc::CallbackServerContext* context,
      const v1::UpdateConstraintRequest* request,
      v1::UpdateConstraintResponse* response) override;
  grpc::ServerUnaryReactor* WithdrawConstraint(
      grpc::CallbackServerContext* context,
      const v1::WithdrawConstraintRequest* request,
      v1::WithdrawConstraintResponse* response) override;
  grpc::ServerUnaryReactor* GetConstraint(
      grpc::CallbackServerContext* context,
      const v1::GetConstraintRequest* request,
      v1::GetConstraintResponse* response) override;
  grpc::ServerUnaryReactor* QueryConstraints(
      grpc::CallbackServerContext* context,
      const v1::QueryConstraintsRequest* request,
      v1::QueryConstraintsResponse* response) override;
  grpc::ServerUnaryReactor* GrantAuthorisation(
      grpc::CallbackServerContext* context,
      const v1::GrantAuthorisationRequest* request,
      v1::GrantAuthorisationResponse* response) override;
  grpc::ServerUnaryReactor* SelfUnlock(
      grpc::CallbackServerContext* context,
      const v1::SelfUnlockRequest* request,
      v1::SelfUnlockResponse* response) override;
  grpc::ServerUnaryReactor* ListAuthorisations(
      grpc::CallbackServerContext* context,
      const v1::ListAuthorisationsRequest* request,
      v1::ListAuthorisationsResponse* response) override;
  grpc::ServerUnaryReactor* RevokeAuthorisation(
      grpc::CallbackServerContext* context,
      const v1::RevokeAuthorisationRequest* request,
      v1::RevokeAuthorisationResponse* response) override;
  grpc::ServerWriteReactor<v1::ConstraintEvent>* WatchConstraints(
      grpc::CallbackServerContext* context,
      const v1::WatchConstraintsRequest* request) override;
  grpc::ServerUnaryReactor* CheckPosition(
      grpc::CallbackServerContext* context,
      const v1::CheckPositionRequest* request,
      v1::CheckPositionResponse* response) override;

  // Ends every open WatchConstraints stream with UNAVAILABLE "server shutting
  // down; resume from sequence N", N being the last event the stream
  // delivered outside an unfinished snapshot (the client passes it as
  // since_sequence to the next server), once the write in flight, if any,
  // completes; watches that arrive later are refused with UNAVAILABLE. Call
  // it on a stop before Server::Shutdown, whose grace period a stream would
  // otherwise hold for its whole length. Thread-safe; idempotent.
  void EndStreams();

  // Registration of streams, by the reactors. Register() returns false once
  // EndStreams() has run.
  bool Register(WatchReactor* stream);
  void Unregister(WatchReactor* stream);

 private:
  enum class Need { kRead, kAuthority, kOperator, kAuthorityOrOperator };
  absl::StatusOr<Caller> Authenticate(grpc::CallbackServerContext* context,
                                      Need need) const;

  ConstraintCore* const core_;
  const auth::Verifier* const verifier_;
  const region::RegionPolicy* region_ = nullptr;  // not owned

  absl::Mutex streams_mu_;
  std::set<WatchReactor*> streams_ ABSL_GUARDED_BY(streams_mu_);
  bool ending_ ABSL_GUARDED_BY(streams_mu_) = false;
};

// Calls ConstraintCore::Tick() every `period` on its own thread until
// destroyed; failures are reported on stderr and retried.
class Ticker {
 public:
  Ticker(ConstraintCore* core, absl::Duration period);
  ~Ticker();
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

 private:
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace utm::constraint

#endif  // UTM_SERVICES_CONSTRAINT_CONSTRAINT_SERVICE_H_
