#include "services/audit/audit_service.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"
#include "services/common/grpc_auth.h"
#include "services/common/grpc_status.h"
#include "services/common/volume_convert.h"

namespace utm::audit {

grpc::ServerUnaryReactor* AuditService::ReadAuditLog(
    grpc::CallbackServerContext* context,
    const v1::ReadAuditLogRequest* request,
    v1::ReadAuditLogResponse* response) {
  const absl::Status status = [&]() -> absl::Status {
    UTM_ASSIGN_OR_RETURN(auth::Principal caller,
                         AuthenticateCall(*context, *verifier_));
    UTM_RETURN_IF_ERROR(auth::RequireScope(caller, auth::Scope::kAudit));
    if (request->after_sequence() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "after_sequence: ", request->after_sequence(), " is negative"));
    }
    if (request->page_size() < 0 || request->page_size() > kMaxPageSize) {
      return absl::InvalidArgumentError(absl::StrCat(
          "page_size: ", request->page_size(), " is not in 0..", kMaxPageSize));
    }
    const int page_size =
        request->page_size() == 0 ? kDefaultPageSize : request->page_size();
    UTM_ASSIGN_OR_RETURN(AuditPage page,
                         log_->Read(request->after_sequence(), page_size));
    for (std::string& line : page.lines) {
      // The stored line is what the auditor verifies; a line that does not
      // parse is still returned whole, so the auditor sees the damage.
      v1::AuditEntry* out = response->add_entries();
      absl::StatusOr<AuditEntry> entry = ParseAuditEntry(line);
      if (entry.ok()) {
        out->set_sequence(entry->sequence);
        *out->mutable_time() = TimeToProto(entry->time);
        out->set_subject(entry->event.subject);
        out->set_case_reference(entry->event.case_reference);
        out->set_action(entry->event.action);
        out->set_target(entry->event.target);
        out->set_disclosed(entry->event.disclosed);
        out->set_about(entry->event.about);
        out->set_redacted(entry->redacted);
        out->set_prev_hash(entry->prev_hash);
        out->set_hash(entry->hash);
      }
      out->set_line(std::move(line));
    }
    response->mutable_head()->set_sequence(page.head.sequence);
    response->mutable_head()->set_hash(page.head.hash);
    return absl::OkStatus();
  }();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

}  // namespace utm::audit
