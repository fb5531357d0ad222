// The gRPC adapter of the audit log (utm.v1.AuditService): auditors page
// through the entries and the head; nobody writes through it. All the log's
// rules live in audit::AuditLog (services/common/audit/audit_log.h).
//
// Scope: utm.audit only; PERMISSION_DENIED for any other caller.
//
// Typical usage:
//   AuditService service(audit_log.get(), verifier.get());
//   Server::Start(server_options, {&service});
#ifndef UTM_SERVICES_AUDIT_AUDIT_SERVICE_H_
#define UTM_SERVICES_AUDIT_AUDIT_SERVICE_H_

#include "services/common/audit/audit_log.h"
#include "services/common/auth.h"
#include "utm/v1/audit.grpc.pb.h"

namespace utm::audit {

class AuditService final : public v1::AuditService::CallbackService {
 public:
  // Entries per page when the request says 0, and at most.
  static constexpr int kDefaultPageSize = 100;
  static constexpr int kMaxPageSize = 1000;

  // `log` and `verifier` are not owned and must outlive the service.
  AuditService(AuditLog* log, const auth::Verifier* verifier)
      : log_(log), verifier_(verifier) {}

  // Reads on the calling gRPC thread (a file read, or one Redis round trip).
  grpc::ServerUnaryReactor* ReadAuditLog(
      grpc::CallbackServerContext* context,
      const v1::ReadAuditLogRequest* request,
      v1::ReadAuditLogResponse* response) override;

 private:
  AuditLog* const log_;
  const auth::Verifier* const verifier_;
};

}  // namespace utm::audit

#endif  // UTM_SERVICES_AUDIT_AUDIT_SERVICE_H_
