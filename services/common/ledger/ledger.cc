#include "services/common/ledger/ledger.h"

#include <openssl/sha.h>

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"

namespace utm::ledger {

namespace {

void AppendField(std::string* out, absl::string_view field) {
  absl::StrAppend(out, field.size(), ":", field);
}

}  // namespace

std::string ChainHash(absl::string_view previous,
                      const std::vector<Mutation>& mutations) {
  // Lengths make the encoding unambiguous; "-" marks a delete (a put of an
  // empty value is "0:").
  std::string text(previous);
  text += "\n";
  for (const Mutation& m : mutations) {
    AppendField(&text, m.table);
    AppendField(&text, m.key);
    if (m.value) {
      AppendField(&text, *m.value);
    } else {
      text += "-";
    }
  }
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
       digest);
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(digest), SHA_DIGEST_LENGTH));
}

const char* CommitStatusName(CommitStatus status) {
  switch (status) {
    case CommitStatus::kCommitted:
      return "COMMITTED";
    case CommitStatus::kMoved:
      return "MOVED";
    case CommitStatus::kReload:
      return "RELOAD";
  }
  return "?";
}

absl::StatusOr<CommitResult> Ledger::CommitAndWait(
    Guard guard, std::vector<Mutation> mutations) {
  absl::Notification answered;
  absl::StatusOr<CommitResult> result;
  Commit(std::move(guard), std::move(mutations),
         [&](absl::StatusOr<CommitResult> r) {
           result = std::move(r);
           answered.Notify();
         });
  answered.WaitForNotification();
  return result;
}

absl::StatusOr<Tail> Ledger::ReadTail(const Position& after, int max_entries,
                                      absl::Duration wait) {
  absl::StatusOr<std::vector<Entry>> entries = Read(after, max_entries, wait);
  if (!entries.ok()) return entries.status();
  absl::StatusOr<uint64_t> durable = Durable();
  if (!durable.ok()) return durable.status();
  Tail tail;
  tail.entries = *std::move(entries);
  tail.durable = *durable;
  return tail;
}

absl::StatusOr<uint64_t> Ledger::Durable() {
  absl::StatusOr<Position> latest = Latest();
  if (!latest.ok()) return latest.status();
  return latest->seq;
}

}  // namespace utm::ledger
