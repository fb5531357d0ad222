#include "services/common/audit/audit_chain.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "geo/status_macros.h"

namespace utm::audit {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";
constexpr char kLowerHex[] = "0123456789abcdef";
constexpr absl::string_view kHashField = " hash=";
// RFC 3339 in UTC with a "Z", fractional seconds only when there are any.
constexpr char kTimeFormat[] = "%Y-%m-%d%ET%H:%M:%E*SZ";

// The fields of an entry, in their only order.
constexpr std::array<absl::string_view, 9> kKeys = {
    "seq", "time", "action", "subject", "case", "target", "disclosed", "prev",
    "hash"};

bool NeedsEscape(unsigned char c) {
  return c < 0x21 || c > 0x7e || c == '%' || c == '=';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // lower case is not the canonical spelling
}

bool IsHash(absl::string_view s) {
  if (s.size() != kGenesisHash.size()) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

absl::StatusOr<int64_t> ParseSequence(absl::string_view s,
                                      absl::string_view field) {
  int64_t n = 0;
  if (s.empty() || s.size() > 18 || (s.size() > 1 && s[0] == '0') ||
      !std::all_of(s.begin(), s.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(s, &n) || n < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": \"", absl::CHexEscape(s.substr(0, 32)),
        "\" is not a sequence number (1.., decimal, no leading zero)"));
  }
  return n;
}

}  // namespace

bool operator==(const AuditHead& a, const AuditHead& b) {
  return a.sequence == b.sequence && a.hash == b.hash;
}

std::string Sha256Hex(absl::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // EVP_Digest fails only when OpenSSL cannot allocate; an audit entry that
  // cannot be hashed must not be written, and the all-'x' result can never
  // verify, so the chain fails closed rather than silently.
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(),
                 nullptr) != 1) {
    return std::string(64, 'x');
  }
  std::string hex;
  hex.reserve(2 * size);
  for (unsigned int i = 0; i < size; ++i) {
    hex.push_back(kLowerHex[digest[i] >> 4]);
    hex.push_back(kLowerHex[digest[i] & 0xf]);
  }
  return hex;
}

std::string EscapeField(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char ch : value) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (NeedsEscape(c)) {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

absl::StatusOr<std::string> UnescapeField(absl::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (size_t i = 0; i < escaped.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(escaped[i]);
    if (c != '%') {
      if (NeedsEscape(c)) {
        return absl::InvalidArgumentError(
            absl::StrCat("byte ", i, " (0x", absl::Hex(c, absl::kZeroPad2),
                         ") must be written %XX"));
      }
      out.push_back(static_cast<char>(c));
      continue;
    }
    const int hi = i + 1 < escaped.size() ? HexValue(escaped[i + 1]) : -1;
    const int lo = i + 2 < escaped.size() ? HexValue(escaped[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "byte ", i, ": % is not followed by two upper-case hex digits"));
    }
    const unsigned char decoded = static_cast<unsigned char>(hi * 16 + lo);
    if (!NeedsEscape(decoded)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "byte ", i, ": %", escaped.substr(i + 1, 2),
          " escapes a byte that is written as itself"));
    }
    out.push_back(static_cast<char>(decoded));
    i += 2;
  }
  return out;
}

std::string FormatAuditEntry(int64_t sequence, absl::Time time,
                             const AuditEvent& event,
                             absl::string_view prev_hash) {
  std::string body = absl::StrCat(
      "seq=", sequence, " time=",
      absl::FormatTime(kTimeFormat, time, absl::UTCTimeZone()),
      " action=", EscapeField(event.action),
      " subject=", EscapeField(event.subject),
      " case=", EscapeField(event.case_reference),
      " target=", EscapeField(event.target),
      " disclosed=", EscapeField(event.disclosed), " prev=", prev_hash);
  const std::string hash = Sha256Hex(body);
  return absl::StrCat(body, kHashField, hash);
}

absl::StatusOr<AuditEntry> ParseAuditEntry(absl::string_view line) {
  if (line.size() > kMaxEntryBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the line is ", line.size(), " bytes, more than ", kMaxEntryBytes));
  }
  const std::vector<absl::string_view> tokens = absl::StrSplit(line, ' ');
  if (tokens.size() != kKeys.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the line has ", tokens.size(), " space-separated fields, "
                     "not ", kKeys.size()));
  }
  std::array<absl::string_view, kKeys.size()> values;
  for (size_t i = 0; i < kKeys.size(); ++i) {
    const std::string prefix = absl::StrCat(kKeys[i], "=");
    if (!absl::StartsWith(tokens[i], prefix)) {
      return absl::InvalidArgumentError(
          absl::StrCat("field ", i + 1, ": expected ", prefix, "..."));
    }
    values[i] = tokens[i].substr(prefix.size());
  }
  AuditEntry entry;
  UTM_ASSIGN_OR_RETURN(entry.sequence, ParseSequence(values[0], "seq"));
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, values[1], &entry.time, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("time: not RFC 3339: ", error));
  }
  if (absl::FormatTime(kTimeFormat, entry.time, absl::UTCTimeZone()) !=
      values[1]) {
    return absl::InvalidArgumentError(
        "time: not in UTC with a Z and the shortest fraction");
  }
  std::string* const event_fields[] = {
      &entry.event.action, &entry.event.subject, &entry.event.case_reference,
      &entry.event.target, &entry.event.disclosed};
  for (size_t i = 0; i < 5; ++i) {
    absl::StatusOr<std::string> value = UnescapeField(values[i + 2]);
    if (!value.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(kKeys[i + 2], ": ", value.status().message()));
    }
    *event_fields[i] = *std::move(value);
  }
  if (!IsHash(values[7])) {
    return absl::InvalidArgumentError("prev: not 64 lower-case hex digits");
  }
  if (!IsHash(values[8])) {
    return absl::InvalidArgumentError("hash: not 64 lower-case hex digits");
  }
  entry.prev_hash = std::string(values[7]);
  entry.hash = std::string(values[8]);
  const absl::string_view body =
      line.substr(0, line.size() - kHashField.size() - values[8].size());
  if (Sha256Hex(body) != entry.hash) {
    return absl::InvalidArgumentError(
        "hash: does not match the entry's bytes (the entry was edited)");
  }
  entry.line = std::string(line);
  return entry;
}

absl::Status AuditVerifier::Add(absl::string_view line) {
  const int64_t expected = head_.sequence + 1;
  const int64_t line_number = count_ + 1;
  const auto bad = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat("audit entry ", expected, " (line ",
                                            line_number, "): ", why));
  };
  absl::StatusOr<AuditEntry> entry = ParseAuditEntry(line);
  if (!entry.ok()) return bad(entry.status().message());
  if (entry->sequence != expected) {
    return bad(absl::StrCat(
        "has seq=", entry->sequence,
        " (an entry was dropped, inserted or moved before this line)"));
  }
  if (entry->prev_hash != head_.hash) {
    return bad(absl::StrCat(
        "prev does not match the hash of entry ", head_.sequence,
        " (that entry was rewritten, or this one was moved or inserted)"));
  }
  head_.sequence = entry->sequence;
  head_.hash = entry->hash;
  ++count_;
  return absl::OkStatus();
}

absl::StatusOr<VerifyResult> VerifyAuditLines(
    absl::Span<const std::string> lines, const AuditHead& start) {
  AuditVerifier verifier(start);
  for (const std::string& line : lines) {
    UTM_RETURN_IF_ERROR(verifier.Add(line));
  }
  VerifyResult result;
  result.count = verifier.count();
  result.head = verifier.head();
  return result;
}

absl::Status CheckHead(const AuditHead& verified, const AuditHead& reported) {
  if (verified == reported) return absl::OkStatus();
  if (reported.sequence > verified.sequence) {
    return absl::DataLossError(absl::StrCat(
        "the log ends at entry ", verified.sequence, " but its head is entry ",
        reported.sequence, ": entries ", verified.sequence + 1, "..",
        reported.sequence, " are missing from the end"));
  }
  if (reported.sequence < verified.sequence) {
    return absl::DataLossError(absl::StrCat(
        "the log runs to entry ", verified.sequence, " but its head is entry ",
        reported.sequence, ": the head is stale or entries were appended "
        "without it"));
  }
  return absl::DataLossError(absl::StrCat(
      "entry ", verified.sequence, " has hash ", verified.hash,
      " but the head says ", reported.hash, ": the tail was rewritten"));
}

std::string FormatHead(const AuditHead& head) {
  return absl::StrCat(head.sequence, " ", head.hash);
}

absl::StatusOr<AuditHead> ParseHead(absl::string_view text,
                                    absl::string_view field) {
  const std::vector<absl::string_view> parts = absl::StrSplit(text, ' ');
  AuditHead head;
  if (parts.size() != 2 || !IsHash(parts[1]) ||
      !absl::SimpleAtoi(parts[0], &head.sequence) || head.sequence < 0 ||
      (head.sequence == 0) != (parts[1] == kGenesisHash)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": \"", absl::CHexEscape(text.substr(0, 100)),
        "\" is not \"<seq> <64 hex>\""));
  }
  head.hash = std::string(parts[1]);
  return head;
}

}  // namespace utm::audit
