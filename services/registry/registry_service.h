// The gRPC adapter of the aircraft registry (utm.v1.RegistryService):
// authenticates, maps the token's scopes to a Caller, records law
// enforcement's reads in the audit log, and hands everything else to
// RegistryCore.
//
// Scopes: utm.registry (the registry authority: every call),
// utm.strategic_coordination (an operator: its own registrations),
// utm.law_enforcement (GetRegistration with a case reference). A token with
// none of them: PERMISSION_DENIED "token for <sub> lacks scope ...".
// A read allowed only by a case reference (RegistryCore::GetResult::audited)
// is given to the audit sink before the answer leaves; when the sink fails
// the call answers UNAVAILABLE and discloses nothing.
//
// Typical usage:
//   RegistryService service(&registry, verifier.get(), audit_log->Sink());
//   Server::Start(options, {&service, ...});
#ifndef UTM_SERVICES_REGISTRY_REGISTRY_SERVICE_H_
#define UTM_SERVICES_REGISTRY_REGISTRY_SERVICE_H_

#include "services/common/audit/audit_event.h"
#include "services/common/auth.h"
#include "services/common/region.h"
#include "services/registry/registry_core.h"
#include "utm/v1/registry.grpc.pb.h"

namespace utm::registry {

class RegistryService final : public v1::RegistryService::CallbackService {
 public:
  // `core` and `verifier` are not owned and must outlive the service.
  // `audit` is required. Thread-safe.
  RegistryService(RegistryCore* core, const auth::Verifier* verifier,
                  audit::AuditSink audit);

  // Data residency: when set, registering and revoking check the caller's
  // home region (a registration names no airspace). Not owned; must
  // outlive the service. REQUIRES: called before serving.
  void SetRegionPolicy(const region::RegionPolicy* policy) { region_ = policy; }

  grpc::ServerUnaryReactor* RegisterAircraft(
      grpc::CallbackServerContext* context,
      const v1::RegisterAircraftRequest* request,
      v1::RegisterAircraftResponse* response) override;
  grpc::ServerUnaryReactor* RevokeRegistration(
      grpc::CallbackServerContext* context,
      const v1::RevokeRegistrationRequest* request,
      v1::RevokeRegistrationResponse* response) override;
  grpc::ServerUnaryReactor* GetRegistration(
      grpc::CallbackServerContext* context,
      const v1::GetRegistrationRequest* request,
      v1::GetRegistrationResponse* response) override;
  grpc::ServerUnaryReactor* ListRegistrations(
      grpc::CallbackServerContext* context,
      const v1::ListRegistrationsRequest* request,
      v1::ListRegistrationsResponse* response) override;

 private:
  RegistryCore* const core_;
  const auth::Verifier* const verifier_;
  const audit::AuditSink audit_;
  const region::RegionPolicy* region_ = nullptr;  // not owned
};

}  // namespace utm::registry

#endif  // UTM_SERVICES_REGISTRY_REGISTRY_SERVICE_H_
