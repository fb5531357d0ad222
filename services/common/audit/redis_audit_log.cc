// The Redis backend of the audit log (see audit_log.h for the protocol).
#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "geo/status_macros.h"
#include "services/common/audit/audit_log.h"
#include "services/common/log/log.h"

namespace utm::audit {
namespace {

// KEYS[1] the head key, KEYS[2] the stream. ARGV[1] the head the entry was
// built on ("<seq> <hash>"), ARGV[2] the entry, ARGV[3] the head after it,
// ARGV[4] its stream id. Returns {1, new head} when appended, {0, current
// head} when the head has moved. It checks before it writes (a script that
// fails part-way keeps its earlier writes), and XADD, its first write,
// refuses an id not above the stream's last, so no error leaves half an
// append behind.
constexpr char kAppendScript[] = R"lua(
local head = redis.call('GET', KEYS[1])
if not head then
  if redis.call('XLEN', KEYS[2]) ~= 0 then
    return redis.error_reply('ERR audit stream ' .. KEYS[2] ..
                             ' has entries but no head key ' .. KEYS[1])
  end
  head = '0 0000000000000000000000000000000000000000000000000000000000000000'
end
if head ~= ARGV[1] then return {0, head} end
redis.call('XADD', KEYS[2], ARGV[4], 'line', ARGV[2])
redis.call('SET', KEYS[1], ARGV[3])
return {1, ARGV[3]}
)lua";

// KEYS[1] the head key, KEYS[2] the stream, KEYS[3] its redacted copy.
// ARGV[1] the head the copy was made at, ARGV[2] the copy's length. Renames
// the copy over the stream when nothing was appended since (redaction keeps
// every hash, so the head is unchanged by it): returns 1; otherwise drops
// the copy and returns 0.
constexpr char kSwapScript[] = R"lua(
local head = redis.call('GET', KEYS[1]) or
  '0 0000000000000000000000000000000000000000000000000000000000000000'
if head ~= ARGV[1] or redis.call('XLEN', KEYS[3]) ~= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[3])
  return 0
end
redis.call('RENAME', KEYS[3], KEYS[2])
return 1
)lua";

// Redactions that find entries appended while they copied give up after
// this many attempts (UNAVAILABLE: retry later).
constexpr int kMaxRedactAttempts = 8;

// Appends that lose the race this many times in a row give up (UNAVAILABLE):
// with R replicas appending at once each attempt wins against at least one
// of them, so this bounds the wait, never correctness.
constexpr int kMaxAttempts = 64;

absl::Status Refused(absl::string_view why) {
  return absl::UnavailableError(
      absl::StrCat("the audit log cannot be written (", why,
                   "); nothing is disclosed until it can: retry"));
}

// The lines of an XRANGE reply.
absl::StatusOr<std::vector<std::string>> LinesOf(const redis::Reply& reply,
                                                 const std::string& stream) {
  std::vector<std::string> lines;
  const auto bad = [&](absl::string_view why) {
    return absl::DataLossError(
        absl::StrCat("audit stream ", stream, ": ", why));
  };
  if (reply.is_error()) return bad(reply.DebugString());
  if (reply.type != redis::Reply::Type::kArray) return bad("not an array");
  for (const redis::Reply& item : reply.elements) {
    if (item.elements.size() != 2 || item.elements[1].elements.size() != 2 ||
        item.elements[1].elements[0].str != "line") {
      return bad(absl::StrCat(
          "entry ",
          item.elements.empty() ? std::string("?") : item.elements[0].str,
          " is not {line: ...}"));
    }
    lines.push_back(item.elements[1].elements[1].str);
  }
  return lines;
}

class RedisAuditLog final : public AuditLog {
 public:
  RedisAuditLog(std::unique_ptr<redis::Client> client, std::string stream,
                const Clock* clock, AuditHead head)
      : client_(std::move(client)),
        stream_(std::move(stream)),
        head_key_(stream_ + ":head"),
        clock_(clock),
        head_(std::move(head)) {}

  absl::Status Record(const AuditEvent& event) override {
    // One append at a time from this process: its attempts would only race
    // each other for the head.
    absl::MutexLock lock(&mu_);
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      const std::string line = FormatAuditEntry(
          head_.sequence + 1, clock_->Now(), event, head_.hash);
      if (line.size() > kMaxEntryBytes) {
        return absl::InvalidArgumentError(absl::StrCat(
            "the audit entry would be ", line.size(), " bytes, more than ",
            kMaxEntryBytes, "; nothing is disclosed"));
      }
      AuditHead next;
      next.sequence = head_.sequence + 1;
      next.hash = line.substr(line.size() - kGenesisHash.size());
      // A command whose connection failed may have run: then the entry may
      // be there and nothing is disclosed, the safe way round; the next
      // attempt finds the head moved and re-reads it.
      absl::StatusOr<redis::Reply> reply = client_->Command(
          {"EVAL", kAppendScript, "2", head_key_, stream_, FormatHead(head_),
           line, FormatHead(next), absl::StrCat(next.sequence, "-0")});
      if (!reply.ok() || reply->is_error() ||
          reply->type != redis::Reply::Type::kArray ||
          reply->elements.size() != 2) {
        const std::string why = !reply.ok()
                                    ? std::string(reply.status().message())
                                    : reply->DebugString();
        UTM_LOG(kError) << "audit: cannot append to " << stream_ << ": " << why
                        << "; the disclosure is refused";
        return Refused(why);
      }
      if (reply->elements[0].integer == 1) {
        head_ = std::move(next);
        UTM_LOG(kInfo) << absl::StripPrefix(AuditEcho(line), "utmd: ");
        return absl::OkStatus();
      }
      absl::StatusOr<AuditHead> moved =
          ParseHead(reply->elements[1].str, head_key_);
      if (!moved.ok()) return Refused(moved.status().message());
      head_ = *std::move(moved);
    }
    return Refused(
        absl::StrCat("the head moved on ", kMaxAttempts, " attempts in a row"));
  }

  absl::StatusOr<int64_t> Redact(const Replacements& replacements) override {
    const std::string copy = stream_ + ":redact";
    for (int attempt = 0; attempt < kMaxRedactAttempts; ++attempt) {
      // Read the whole stream and the head it ends at.
      std::vector<std::string> lines;
      AuditHead head;
      for (;;) {
        UTM_ASSIGN_OR_RETURN(AuditPage page,
                             Read(static_cast<int64_t>(lines.size()), 1000));
        head = page.head;
        if (page.lines.empty()) break;
        for (std::string& line : page.lines) lines.push_back(std::move(line));
      }
      if (static_cast<int64_t>(lines.size()) != head.sequence) continue;
      UTM_ASSIGN_OR_RETURN(RedactedLines redacted,
                           RedactLines(std::move(lines), replacements));
      if (redacted.changed == 0) return 0;
      // Copy, then swap the copy in if nothing was appended meanwhile.
      std::vector<std::vector<std::string>> commands = {{"DEL", copy}};
      for (size_t i = 0; i < redacted.lines.size(); ++i) {
        commands.push_back({"XADD", copy, absl::StrCat(i + 1, "-0"), "line",
                            redacted.lines[i]});
        if (commands.size() == 1000 || i + 1 == redacted.lines.size()) {
          UTM_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies,
                               client_->Pipeline(commands));
          for (const redis::Reply& reply : replies) {
            if (reply.is_error()) {
              return absl::UnavailableError(
                  absl::StrCat(copy, ": ", reply.DebugString()));
            }
          }
          commands.clear();
        }
      }
      UTM_ASSIGN_OR_RETURN(
          redis::Reply swapped,
          client_->Command({"EVAL", kSwapScript, "3", head_key_, stream_, copy,
                            FormatHead(head),
                            absl::StrCat(redacted.lines.size())}));
      if (swapped.is_error()) {
        return absl::UnavailableError(
            absl::StrCat(stream_, ": ", swapped.DebugString()));
      }
      if (swapped.integer == 1) return redacted.changed;
    }
    return absl::UnavailableError(
        absl::StrCat("entries were appended to ", stream_, " during each of ",
                     kMaxRedactAttempts, " attempts to redact it; retry"));
  }

  // Where the first append starts guessing (the verified head at open).
  void SetHead(AuditHead head) {
    absl::MutexLock lock(&mu_);
    head_ = std::move(head);
  }

  absl::StatusOr<AuditPage> Read(int64_t after_sequence, int limit) override {
    // XRANGE before GET: the head is at or after the last entry listed.
    absl::StatusOr<std::vector<redis::Reply>> replies = client_->Pipeline(
        {{"XRANGE", stream_,
          absl::StrCat(std::max<int64_t>(after_sequence, 0) + 1, "-0"), "+",
          "COUNT", absl::StrCat(std::max(limit, 1))},
         {"GET", head_key_}});
    if (!replies.ok()) return replies.status();
    AuditPage page;
    absl::StatusOr<std::vector<std::string>> lines =
        LinesOf((*replies)[0], stream_);
    if (!lines.ok()) return lines.status();
    page.lines = *std::move(lines);
    const redis::Reply& head = (*replies)[1];
    if (head.is_error()) {
      return absl::UnavailableError(
          absl::StrCat(head_key_, ": ", head.DebugString()));
    }
    if (!head.is_nil()) {
      absl::StatusOr<AuditHead> parsed = ParseHead(head.str, head_key_);
      if (!parsed.ok()) return absl::DataLossError(parsed.status().message());
      page.head = *std::move(parsed);
    }
    return page;
  }

 private:
  const std::unique_ptr<redis::Client> client_;
  const std::string stream_;
  const std::string head_key_;
  const Clock* const clock_;
  absl::Mutex mu_;
  // The head this process saw last; a guess that the script checks.
  AuditHead head_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<AuditLog>> OpenRedisAuditLog(
    redis::ClientOptions options, std::string stream, const Clock* clock) {
  absl::StatusOr<std::unique_ptr<redis::Client>> client =
      redis::Client::Connect(std::move(options));
  if (!client.ok()) return client.status();
  auto log = std::make_unique<RedisAuditLog>(*std::move(client), stream, clock,
                                             AuditHead());
  // Verify the whole chain against the head key before serving. Other
  // replicas may append meanwhile: an empty page whose head is ahead is read
  // again (a few times) before the difference counts.
  AuditVerifier verifier;
  AuditHead reported;
  for (int behind = 0;;) {
    absl::StatusOr<AuditPage> page = log->Read(verifier.head().sequence, 1000);
    if (!page.ok()) {
      if (absl::IsUnavailable(page.status())) return page.status();
      return absl::FailedPreconditionError(page.status().message());
    }
    for (const std::string& line : page->lines) {
      const absl::Status added = verifier.Add(line);
      if (!added.ok()) {
        return absl::FailedPreconditionError(
            absl::StrCat("audit stream ", stream, ": ", added.message()));
      }
    }
    if (!page->lines.empty()) continue;
    reported = page->head;
    if (reported.sequence <= verifier.head().sequence || ++behind == 3) break;
  }
  const absl::Status at_head = CheckHead(verifier.head(), reported);
  if (!at_head.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("audit stream ", stream, ": ", at_head.message()));
  }
  log->SetHead(verifier.head());
  return log;
}

}  // namespace utm::audit
