// The audit log's hash chain: how one entry is written as a line, read
// back, and how a run of lines is verified with nothing but the lines.
//
// An entry is one line of ASCII (the line end is not part of it):
//
//   seq=<n> time=<t> action=<a> subject=<s> case=<c> target=<g> about=<o>
//       disclosed=<d> salt=<32 hex> prev=<64 hex> hash=<64 hex>
//
// (on one line, single spaces between fields, always in this order).
// `seq` counts from 1 with no gap; `time` is RFC 3339 UTC; the six event
// fields are percent-escaped (every byte other than printable ASCII
// 0x21..0x7E, and `%`, `=` and space, becomes `%XX` in upper-case hex), so
// no value can hold a space, a `=` or a line end and no field can forge
// another field or another entry. `hash` is the lower-case hex SHA-256
// (FIPS 180-4) of the entry as it would read with each of target, about and
// disclosed written as `<name>#=<digest>`, where digest is the hex SHA-256
// of "<salt>:<name>:<value>" (FieldDigest), and without " hash=...". `salt`
// is 16 random bytes per entry, so a digest cannot be matched against a
// guessed value. `prev` is the previous entry's `hash` (64 zeros for entry
// 1). The head of a log is its last entry's (seq, hash), or (0, 64 zeros)
// when it is empty.
//
// Redaction: when an operator's data is erased, the entries about it are
// kept (the law requires them) with its id replaced by a keyed pseudonym.
// A redacted field is written `<name>~=<digest of the original>:<value>`;
// since the hash covers the digest and not the value, a redacted entry's
// hash is unchanged, and so is the chain and its head: an auditor's earlier
// head still verifies, and what was redacted is visible (the `~`).
//
// Format 1 (logs written before redaction existed): the nine fields seq,
// time, action, subject, case, target, disclosed, prev, hash, hashed over
// the line's own bytes before " hash=". Such entries verify and read as
// before (about empty) but cannot be redacted.
//
// What verification catches from the lines alone: an edited entry (its own
// hash no longer matches; if the editor recomputed it, the next entry's
// prev no longer does), a dropped, inserted or reordered entry (seq and
// prev). What it cannot: entries removed from the end, or every entry from
// some point rewritten with fresh hashes. Both change the head, so an
// auditor compares the verified head with a head kept elsewhere (the Redis
// head key, the head utmd reports through ReadAuditLog, one written down
// earlier).
//
// Typical usage:
//   AuditHead head;  // empty log
//   std::string line = FormatAuditEntry(head.sequence + 1, now, event,
//                                       head.hash);
//   UTM_ASSIGN_OR_RETURN(VerifyResult r, VerifyAuditLines(lines));
#ifndef UTM_SERVICES_COMMON_AUDIT_AUDIT_CHAIN_H_
#define UTM_SERVICES_COMMON_AUDIT_AUDIT_CHAIN_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "services/common/audit/audit_event.h"

namespace utm::audit {

// The hash before entry 1.
inline constexpr absl::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// A line longer than this is not an entry (the verifier says so rather than
// hashing it). Record() refuses events whose fields would exceed it.
inline constexpr size_t kMaxEntryBytes = 16 * 1024;

// Where a chain stands: the last entry's sequence number and hash.
struct AuditHead {
  int64_t sequence = 0;
  std::string hash = std::string(kGenesisHash);
};
bool operator==(const AuditHead& a, const AuditHead& b);

// One entry, parsed.
struct AuditEntry {
  int64_t sequence = 0;
  absl::Time time;
  AuditEvent event;
  std::string prev_hash;
  std::string hash;
  std::string line;       // exactly as stored, without the line end
  int format = 2;         // 1 or 2, see the file comment
  bool redacted = false;  // some field was redacted (format 2)
  std::string salt;       // format 2: 32 lower-case hex
};

// Lower-case hex SHA-256 of `bytes`.
std::string Sha256Hex(absl::string_view bytes);

// The field escaping described above, and its inverse. UnescapeField fails
// (INVALID_ARGUMENT) on anything EscapeField would not have produced, so an
// entry has exactly one spelling.
std::string EscapeField(absl::string_view value);
absl::StatusOr<std::string> UnescapeField(absl::string_view escaped);

// The line (format 2) of entry `sequence` recording `event` at `time`,
// chained to `prev_hash`, with a fresh random salt. REQUIRES: sequence >= 1;
// prev_hash is 64 lower-case hex.
std::string FormatAuditEntry(int64_t sequence, absl::Time time,
                             const AuditEvent& event,
                             absl::string_view prev_hash);
// The same with a given salt (32 lower-case hex), for tests.
std::string FormatAuditEntry(int64_t sequence, absl::Time time,
                             const AuditEvent& event,
                             absl::string_view prev_hash,
                             absl::string_view salt);

// What utmd prints on stderr for an entry it appended: seq, time, action,
// subject, case and hash — not target, about or disclosed, which a log
// collector would keep beyond any erasure ("utmd: audit: seq=3 ...").
std::string AuditEcho(absl::string_view line);

// 16 random bytes as 32 lower-case hex (OpenSSL's CSPRNG).
std::string NewAuditSalt();

// The digest a redactable field is hashed through.
std::string FieldDigest(absl::string_view salt, absl::string_view name,
                        absl::string_view value);

// `value` with every occurrence of `id` that stands alone — delimited by
// the start or end of the value, '=' or ',' (how disclosed values are
// composed) — replaced by `replacement`.
std::string ReplaceDelimited(absl::string_view value, absl::string_view id,
                             absl::string_view replacement);

// `line` with `id` replaced by `pseudonym` (ReplaceDelimited) in its target,
// about and disclosed fields, its hash unchanged; nullopt when none of them
// holds `id`. INVALID_ARGUMENT when the line does not parse;
// FAILED_PRECONDITION for a format 1 entry that holds `id`.
absl::StatusOr<std::optional<std::string>> RedactAuditEntry(
    absl::string_view line, absl::string_view id, absl::string_view pseudonym);

// Parses one line (either format) and checks that its hash matches its
// bytes. It does not
// look at neighbours (that is VerifyAuditLines). INVALID_ARGUMENT naming the
// field, or saying the hash does not match.
absl::StatusOr<AuditEntry> ParseAuditEntry(absl::string_view line);

struct VerifyResult {
  int64_t count = 0;  // entries verified
  AuditHead head;     // after the last of them
};

// Verifies that `lines` continue the chain from `start` (DEFAULT: the empty
// log, so lines[0] must be entry 1): each parses, its hash matches its
// bytes, its seq is one more than the one before and its prev is the hash
// of the one before. DATA_LOSS naming the first bad entry by its expected
// sequence number and its line (1-based within `lines`), and why. Pure.
absl::StatusOr<VerifyResult> VerifyAuditLines(
    absl::Span<const std::string> lines, const AuditHead& start = AuditHead());

// Incremental form of VerifyAuditLines for a log read in pages.
class AuditVerifier {
 public:
  explicit AuditVerifier(AuditHead start = AuditHead()) : head_(start) {}
  // Verifies the next line. DATA_LOSS as VerifyAuditLines; after an error
  // the verifier stays where it was.
  absl::Status Add(absl::string_view line);
  const AuditHead& head() const { return head_; }
  int64_t count() const { return count_; }

 private:
  AuditHead head_;
  int64_t count_ = 0;
};

// Whether a verified chain ends at `reported` (the head kept apart from the
// lines). DATA_LOSS saying how they differ: entries missing from the end,
// or a rewritten tail.
absl::Status CheckHead(const AuditHead& verified, const AuditHead& reported);

// "<seq> <hash>", the head as the Redis head key and utmctl print it, and
// its parse (INVALID_ARGUMENT naming `field`).
std::string FormatHead(const AuditHead& head);
absl::StatusOr<AuditHead> ParseHead(absl::string_view text,
                                    absl::string_view field);

}  // namespace utm::audit

#endif  // UTM_SERVICES_COMMON_AUDIT_AUDIT_CHAIN_H_
