// The audit log: one hash-chained entry (audit_chain.h) per disclosure of
// protected information (an intent's owner, a flight's details) to someone
// other than its owner, written before the answer is sent. It fails
// closed: when an entry cannot be written, Record() says so and the caller
// must not disclose.
//
// Two backends hold the same lines:
// - A file in the data directory (the single process). Opening it reads and
//   verifies the whole chain and continues it; a chain that does not verify
//   makes the open fail naming the first bad entry, so utmd refuses to
//   start rather than append to a log it cannot vouch for. Each entry is
//   written and fdatasync'ed before Record() returns. The head of a file log
//   is kept only in memory (and reported by Read()): a file cut short while
//   utmd is stopped is caught only against a head written down earlier.
// - A Redis Stream shared by every replica (--store redis): entry `seq` is
//   the stream entry with id `<seq>-0`, field `line`, and the key
//   `<stream>:head` holds "<seq> <hash>". Redis cannot compute SHA-256 (Lua
//   has only redis.sha1hex), so the append is a check-and-set: the client
//   builds entry head.seq+1 chained to the head it last saw, and one Lua
//   script (EVAL, atomic on the server) appends it and moves the head only
//   if the head is still the one the entry was built on; otherwise it
//   returns the current head and the client rebuilds and retries. Replicas
//   appending at once therefore serialise on the head key, each success
//   extends exactly the head it read, and the stream stays one chain. Both
//   keys must share a hash slot: the prefix carries a hash tag ("{utm}:").
//
// Typical usage:
//   UTM_ASSIGN_OR_RETURN(std::unique_ptr<AuditLog> audit,
//                        OpenFileAuditLog(dir + "/audit.log"));
//   IntentService service(&core, verifier, audit->Sink());
//   ... the service calls the sink, and only then sends the owner ...
#ifndef UTM_SERVICES_COMMON_AUDIT_AUDIT_LOG_H_
#define UTM_SERVICES_COMMON_AUDIT_AUDIT_LOG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/common/audit/audit_chain.h"
#include "services/common/audit/audit_event.h"
#include "services/common/clock.h"
#include "services/common/redis/redis_client.h"

namespace utm::audit {

// A page of the log: whole entries in sequence order, and the head as it
// was after they were read (so head.sequence >= the last entry's).
struct AuditPage {
  std::vector<std::string> lines;
  AuditHead head;
};

class AuditLog {
 public:
  virtual ~AuditLog() = default;

  // Appends the entry recording `event` (timed by the log's clock) and
  // prints it to stderr. OK once it is durable (fdatasync'ed, or
  // acknowledged by Redis); UNAVAILABLE, saying nothing is disclosed, when
  // it could not be written; INVALID_ARGUMENT when the event's fields would
  // make an entry longer than kMaxEntryBytes. Thread-safe.
  virtual absl::Status Record(const AuditEvent& event) = 0;

  // The entries after `after_sequence`, at most `limit` (REQUIRES: > 0), and
  // the head. UNAVAILABLE when the backend cannot be read. Thread-safe.
  virtual absl::StatusOr<AuditPage> Read(int64_t after_sequence, int limit) = 0;

  // For each (id, pseudonym) of `replacements`, replaces `id` by
  // `pseudonym` in every entry that holds it in target, about or disclosed
  // (RedactAuditEntry), durably, and returns how many entries were
  // rewritten. Hashes, the chain and the head are unchanged: an earlier
  // head still verifies. The file backend rewrites the file (a new file
  // synced and renamed over the old one); the Redis backend rewrites the
  // stream (a copy renamed over it once no entry was appended meanwhile).
  // FAILED_PRECONDITION when a format 1 entry holds an id (nothing is
  // rewritten then); UNAVAILABLE when the backend fails; INVALID_ARGUMENT
  // for an empty id. Thread-safe.
  using Replacements = std::vector<std::pair<std::string, std::string>>;
  virtual absl::StatusOr<int64_t> Redact(const Replacements& replacements) = 0;

  // Record() as an AuditSink for the services. The log must outlive it.
  AuditSink Sink();
};

// The entries about `id` (their `about` field), oldest first, reading the
// whole log in pages; at most `limit` (the newest kept when there are more).
// UNAVAILABLE as Read().
absl::StatusOr<std::vector<AuditEntry>> EntriesAbout(AuditLog& log,
                                                     const std::string& id,
                                                     size_t limit);

// The redacted form of `lines` (RedactAuditEntry on each) and how many
// changed. For the backends.
struct RedactedLines {
  std::vector<std::string> lines;
  int64_t changed = 0;
};
absl::StatusOr<RedactedLines> RedactLines(
    std::vector<std::string> lines, const AuditLog::Replacements& replacements);

// Opens (creating, mode 0600; an existing file with a wider mode is
// tightened: it holds identities) the log at `path`, verifies the chain it
// holds and continues it. PERMISSION_DENIED naming the path when it cannot
// be opened; FAILED_PRECONDITION naming the path and the first bad entry
// when its chain does not verify or its last line is incomplete. `clock`
// (not owned) times the entries; DEFAULT: the real clock.
absl::StatusOr<std::unique_ptr<AuditLog>> OpenFileAuditLog(
    const std::string& path, const Clock* clock = RealClock::Get());

// The log in the Stream `stream` (and `stream + ":head"`), over its own
// connection. Connects and verifies the whole chain first: UNAVAILABLE when
// Redis cannot be reached, UNAUTHENTICATED when AUTH is refused,
// FAILED_PRECONDITION naming the first bad entry when the chain does not
// verify or does not end at the head key.
absl::StatusOr<std::unique_ptr<AuditLog>> OpenRedisAuditLog(
    redis::ClientOptions options, std::string stream,
    const Clock* clock = RealClock::Get());

}  // namespace utm::audit

#endif  // UTM_SERVICES_COMMON_AUDIT_AUDIT_LOG_H_
