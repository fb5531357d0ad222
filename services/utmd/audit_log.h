// The audit log: one record per disclosure of an operator's identity to
// someone else (law enforcement reading an intent's owner), written before
// the answer is sent. It fails closed: when a record cannot be written,
// Record() says so and the caller must not disclose.
//
// Two backends: a file in the data directory (the single process) and a
// Redis Stream shared by every replica (--store redis). Both hold the same
// line: `<RFC 3339 time> owner-disclosed subject=<s> intent=<i> owner=<o>`,
// values C-escaped so that a subject cannot forge a line.
//
// Typical usage:
//   UTM_ASSIGN_OR_RETURN(std::unique_ptr<AuditLog> audit,
//                        OpenFileAuditLog(dir + "/audit.log"));
//   UTM_RETURN_IF_ERROR(audit->Record(caller, intent_id, owner));
//   ... only now send the owner ...
#ifndef UTM_SERVICES_UTMD_AUDIT_LOG_H_
#define UTM_SERVICES_UTMD_AUDIT_LOG_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/redis/redis_client.h"

namespace utm::utmd {

class AuditLog {
 public:
  virtual ~AuditLog() = default;
  // Records that `subject` was shown `owner` as the owner of `intent_id`;
  // also prints the line to stderr. OK once written (to the file, or
  // acknowledged by Redis); UNAVAILABLE, saying the owner is not disclosed,
  // when it could not be. Thread-safe.
  virtual absl::Status Record(const std::string& subject,
                              const std::string& intent_id,
                              const std::string& owner) = 0;
};

// The line recorded, without a line end.
std::string AuditLine(absl::Time at, const std::string& subject,
                      const std::string& intent_id, const std::string& owner);

// Appends to `path`, created 0600 (an existing file with a wider mode is
// tightened: it holds identities). The error of open/fchmod naming the path.
absl::StatusOr<std::unique_ptr<AuditLog>> OpenFileAuditLog(
    const std::string& path);

// XADD to the Stream `key` (no trimming: the log is kept whole), field
// `line`, over its own connection. Connects first: UNAVAILABLE when Redis
// cannot be reached, UNAUTHENTICATED when AUTH is refused.
absl::StatusOr<std::unique_ptr<AuditLog>> OpenRedisAuditLog(
    redis::ClientOptions options, std::string key);

}  // namespace utm::utmd

#endif  // UTM_SERVICES_UTMD_AUDIT_LOG_H_
