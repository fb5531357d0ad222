#include "services/registry/registry_service.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"
#include "services/common/grpc_auth.h"
#include "services/common/grpc_status.h"

namespace utm::registry {
namespace {

grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context,
                                 const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// The caller, from its token; PERMISSION_DENIED when the token carries none
// of the registry's scopes.
// With `region` (a write on a deployment with a region), the caller's home
// region is checked too.
absl::StatusOr<Caller> Authenticate(
    grpc::CallbackServerContext* context, const auth::Verifier& verifier,
    const region::RegionPolicy* region = nullptr) {
  UTM_ASSIGN_OR_RETURN(auth::Principal principal,
                       AuthenticateCall(*context, verifier));
  Caller caller;
  caller.id = principal.subject;
  caller.registry = principal.Has(auth::Scope::kRegistry);
  caller.operator_ = principal.Has(auth::Scope::kStrategicCoordination);
  caller.law_enforcement = principal.Has(auth::Scope::kLawEnforcement);
  if (!caller.registry && !caller.operator_ && !caller.law_enforcement) {
    return absl::PermissionDeniedError(
        absl::StrCat("token for ", principal.subject, " lacks scope ",
                     auth::ScopeName(auth::Scope::kRegistry), ", ",
                     auth::ScopeName(auth::Scope::kStrategicCoordination),
                     " or ", auth::ScopeName(auth::Scope::kLawEnforcement)));
  }
  if (region != nullptr) UTM_RETURN_IF_ERROR(region->CheckCaller(principal));
  return caller;
}

// What a registration read discloses, for the audit log.
std::string Disclosed(const v1::AircraftRegistration& r) {
  return absl::StrCat(
      "operator=", r.operator_id(),
      ",operator_registration_id=", r.operator_registration_id(),
      ",mass_g=", r.mass_g(), r.has_revoke_time() ? ",revoked" : "");
}

}  // namespace

RegistryService::RegistryService(RegistryCore* core,
                                 const auth::Verifier* verifier,
                                 audit::AuditSink audit)
    : core_(core), verifier_(verifier), audit_(std::move(audit)) {}

grpc::ServerUnaryReactor* RegistryService::RegisterAircraft(
    grpc::CallbackServerContext* context,
    const v1::RegisterAircraftRequest* request,
    v1::RegisterAircraftResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_ASSIGN_OR_RETURN(Caller caller,
                         Authenticate(context, *verifier_, region_));
    UTM_ASSIGN_OR_RETURN(*response, core_->Register(caller, *request));
    return absl::OkStatus();
  }());
}

grpc::ServerUnaryReactor* RegistryService::RevokeRegistration(
    grpc::CallbackServerContext* context,
    const v1::RevokeRegistrationRequest* request,
    v1::RevokeRegistrationResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_ASSIGN_OR_RETURN(Caller caller,
                         Authenticate(context, *verifier_, region_));
    UTM_ASSIGN_OR_RETURN(*response, core_->Revoke(caller, *request));
    return absl::OkStatus();
  }());
}

grpc::ServerUnaryReactor* RegistryService::GetRegistration(
    grpc::CallbackServerContext* context,
    const v1::GetRegistrationRequest* request,
    v1::GetRegistrationResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_ASSIGN_OR_RETURN(Caller caller, Authenticate(context, *verifier_));
    UTM_ASSIGN_OR_RETURN(RegistryCore::GetResult result,
                         core_->Get(caller, *request));
    if (result.audited) {
      audit::AuditEvent event;
      event.subject = caller.id;
      event.case_reference = request->case_reference();
      event.action = "registration";
      event.target = request->serial_number();
      if (result.found) {
        event.about = result.response.registration().operator_id();
      }
      event.disclosed = result.found ? Disclosed(result.response.registration())
                                     : "not registered";
      // Recorded before the answer leaves; no record, no answer.
      absl::Status recorded = audit_(event);
      if (!recorded.ok()) {
        return absl::UnavailableError(absl::StrCat(
            "the audit log could not record this read, so nothing is "
            "disclosed: ",
            recorded.message()));
      }
    }
    if (!result.found) {
      return absl::NotFoundError(absl::StrCat(
          "serial_number: ", request->serial_number(), " is not registered"));
    }
    *response = std::move(result.response);
    return absl::OkStatus();
  }());
}

grpc::ServerUnaryReactor* RegistryService::ListRegistrations(
    grpc::CallbackServerContext* context,
    const v1::ListRegistrationsRequest* request,
    v1::ListRegistrationsResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_ASSIGN_OR_RETURN(Caller caller, Authenticate(context, *verifier_));
    UTM_ASSIGN_OR_RETURN(*response, core_->List(caller, *request));
    return absl::OkStatus();
  }());
}

}  // namespace utm::registry
