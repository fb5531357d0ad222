#include "services/common/audit/audit_chain.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "geo/status_macros.h"

namespace utm::audit {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";
constexpr char kLowerHex[] = "0123456789abcdef";
constexpr absl::string_view kHashField = " hash=";
// RFC 3339 in UTC with a "Z", fractional seconds only when there are any.
constexpr char kTimeFormat[] = "%Y-%m-%d%ET%H:%M:%E*SZ";

// The fields of an entry, in their only order: format 1 (before redaction
// existed) and format 2.
constexpr std::array<absl::string_view, 9> kKeys1 = {
    "seq",    "time",      "action", "subject", "case",
    "target", "disclosed", "prev",   "hash"};
constexpr std::array<absl::string_view, 11> kKeys2 = {
    "seq",   "time",      "action", "subject", "case", "target",
    "about", "disclosed", "salt",   "prev",    "hash"};
// Format 2's fields that are hashed through their digest.
constexpr std::array<absl::string_view, 3> kRedactable = {"target", "about",
                                                          "disclosed"};

bool NeedsEscape(unsigned char c) {
  return c < 0x21 || c > 0x7e || c == '%' || c == '=';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // lower case is not the canonical spelling
}

bool IsLowerHex(absl::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsHash(absl::string_view s) {
  return s.size() == kGenesisHash.size() && IsLowerHex(s);
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

std::string FieldDigest(absl::string_view salt, absl::string_view name,
                        absl::string_view value) {
  return Sha256Hex(absl::StrCat(salt, ":", name, ":", value));
}

namespace {

absl::StatusOr<std::string> UnescapeNamed(absl::string_view escaped,
                                          absl::string_view name) {
  absl::StatusOr<std::string> value = UnescapeField(escaped);
  if (!value.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": ", value.status().message()));
  }
  return value;
}

// seq, time, action, subject and case: the first five fields of both
// formats.
template <size_t N>
absl::Status ParseHeader(const std::array<absl::string_view, N>& values,
                         AuditEntry* entry) {
  UTM_ASSIGN_OR_RETURN(entry->sequence, ParseSequence(values[0], "seq"));
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, values[1], &entry->time, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("time: not RFC 3339: ", error));
  }
  if (absl::FormatTime(kTimeFormat, entry->time, absl::UTCTimeZone()) !=
      values[1]) {
    return absl::InvalidArgumentError(
        "time: not in UTC with a Z and the shortest fraction");
  }
  constexpr absl::string_view kNames[] = {"action", "subject", "case"};
  std::string* const fields[] = {&entry->event.action, &entry->event.subject,
                                 &entry->event.case_reference};
  for (size_t i = 0; i < 3; ++i) {
    UTM_ASSIGN_OR_RETURN(*fields[i], UnescapeNamed(values[i + 2], kNames[i]));
  }
  return absl::OkStatus();
}

absl::Status ParseHashes(absl::string_view prev, absl::string_view hash,
                         AuditEntry* entry) {
  if (!IsHash(prev)) {
    return absl::InvalidArgumentError("prev: not 64 lower-case hex digits");
  }
  if (!IsHash(hash)) {
    return absl::InvalidArgumentError("hash: not 64 lower-case hex digits");
  }
  entry->prev_hash = std::string(prev);
  entry->hash = std::string(hash);
  return absl::OkStatus();
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
      return absl::InvalidArgumentError(
          absl::StrCat("byte ", i, ": %", escaped.substr(i + 1, 2),
                       " escapes a byte that is written as itself"));
    }
    out.push_back(static_cast<char>(decoded));
    i += 2;
  }
  return out;
}

std::string AuditEcho(absl::string_view line) {
  std::vector<absl::string_view> kept;
  for (absl::string_view token : absl::StrSplit(line, ' ')) {
    const absl::string_view key = token.substr(0, token.find_first_of("=~"));
    if (key == "seq" || key == "time" || key == "action" || key == "subject" ||
        key == "case" || key == "hash") {
      kept.push_back(token);
    }
  }
  return absl::StrCat("utmd: audit: ", absl::StrJoin(kept, " "));
}

std::string NewAuditSalt() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    // Without randomness the digests of guessable values could be matched;
    // a salt that is not hex never verifies, so the entry fails closed.
    return std::string(32, 'x');
  }
  std::string hex;
  for (unsigned char b : bytes) {
    hex.push_back(kLowerHex[b >> 4]);
    hex.push_back(kLowerHex[b & 0xf]);
  }
  return hex;
}

std::string FormatAuditEntry(int64_t sequence, absl::Time time,
                             const AuditEvent& event,
                             absl::string_view prev_hash) {
  return FormatAuditEntry(sequence, time, event, prev_hash, NewAuditSalt());
}

std::string FormatAuditEntry(int64_t sequence, absl::Time time,
                             const AuditEvent& event,
                             absl::string_view prev_hash,
                             absl::string_view salt) {
  std::vector<std::string> fields = {
      absl::StrCat("seq=", sequence),
      absl::StrCat("time=",
                   absl::FormatTime(kTimeFormat, time, absl::UTCTimeZone())),
      absl::StrCat("action=", EscapeField(event.action)),
      absl::StrCat("subject=", EscapeField(event.subject)),
      absl::StrCat("case=", EscapeField(event.case_reference))};
  const std::string* const values[] = {&event.target, &event.about,
                                       &event.disclosed};
  std::vector<std::string> hashed = fields;
  for (size_t i = 0; i < kRedactable.size(); ++i) {
    fields.push_back(
        absl::StrCat(kRedactable[i], "=", EscapeField(*values[i])));
    hashed.push_back(absl::StrCat(
        kRedactable[i], "#=", FieldDigest(salt, kRedactable[i], *values[i])));
  }
  for (std::vector<std::string>* v : {&fields, &hashed}) {
    v->push_back(absl::StrCat("salt=", salt));
    v->push_back(absl::StrCat("prev=", prev_hash));
  }
  return absl::StrCat(absl::StrJoin(fields, " "), kHashField,
                      Sha256Hex(absl::StrJoin(hashed, " ")));
}

namespace {

// A format 1 line (9 fields, no salt: hashed over its own bytes).
absl::StatusOr<AuditEntry> ParseFormat1(
    absl::string_view line, const std::vector<absl::string_view>& tokens) {
  std::array<absl::string_view, kKeys1.size()> values;
  for (size_t i = 0; i < kKeys1.size(); ++i) {
    const std::string prefix = absl::StrCat(kKeys1[i], "=");
    if (!absl::StartsWith(tokens[i], prefix)) {
      return absl::InvalidArgumentError(
          absl::StrCat("field ", i + 1, ": expected ", prefix, "..."));
    }
    values[i] = tokens[i].substr(prefix.size());
  }
  AuditEntry entry;
  entry.format = 1;
  UTM_RETURN_IF_ERROR(ParseHeader(values, &entry));
  std::string* const event_fields[] = {&entry.event.target,
                                       &entry.event.disclosed};
  for (size_t i = 0; i < 2; ++i) {
    UTM_ASSIGN_OR_RETURN(*event_fields[i],
                         UnescapeNamed(values[i + 5], kKeys1[i + 5]));
  }
  UTM_RETURN_IF_ERROR(ParseHashes(values[7], values[8], &entry));
  const absl::string_view body =
      line.substr(0, line.size() - kHashField.size() - values[8].size());
  if (Sha256Hex(body) != entry.hash) {
    return absl::InvalidArgumentError(
        "hash: does not match the entry's bytes (the entry was edited)");
  }
  entry.line = std::string(line);
  return entry;
}

// A format 2 line (11 fields; target, about and disclosed hashed through
// their salted digests, so that they can be redacted).
absl::StatusOr<AuditEntry> ParseFormat2(
    absl::string_view line, const std::vector<absl::string_view>& tokens) {
  std::array<absl::string_view, kKeys2.size()> values;
  std::array<bool, kKeys2.size()> redacted = {};
  for (size_t i = 0; i < kKeys2.size(); ++i) {
    const std::string prefix = absl::StrCat(kKeys2[i], "=");
    const std::string redacted_prefix = absl::StrCat(kKeys2[i], "~=");
    if (absl::StartsWith(tokens[i], prefix)) {
      values[i] = tokens[i].substr(prefix.size());
    } else if (i >= 5 && i < 8 &&
               absl::StartsWith(tokens[i], redacted_prefix)) {
      values[i] = tokens[i].substr(redacted_prefix.size());
      redacted[i] = true;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("field ", i + 1, ": expected ", prefix, "..."));
    }
  }
  AuditEntry entry;
  entry.format = 2;
  UTM_RETURN_IF_ERROR(ParseHeader(values, &entry));
  const absl::string_view salt = values[8];
  if (salt.size() != 32 || !IsLowerHex(salt)) {
    return absl::InvalidArgumentError("salt: not 32 lower-case hex digits");
  }
  entry.salt = std::string(salt);
  std::string* const event_fields[] = {&entry.event.target, &entry.event.about,
                                       &entry.event.disclosed};
  std::vector<std::string> hashed;
  for (size_t i = 0; i < 5; ++i) hashed.push_back(std::string(tokens[i]));
  for (size_t i = 0; i < kRedactable.size(); ++i) {
    const absl::string_view name = kRedactable[i];
    absl::string_view value = values[i + 5];
    std::string digest;
    if (redacted[i + 5]) {
      if (value.size() < 65 || value[64] != ':' ||
          !IsLowerHex(value.substr(0, 64))) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, "~: not <64 lower-case hex>:<value>"));
      }
      digest = std::string(value.substr(0, 64));
      value = value.substr(65);
      entry.redacted = true;
    }
    UTM_ASSIGN_OR_RETURN(*event_fields[i], UnescapeNamed(value, name));
    if (!redacted[i + 5]) digest = FieldDigest(salt, name, *event_fields[i]);
    hashed.push_back(absl::StrCat(name, "#=", digest));
  }
  hashed.push_back(std::string(tokens[8]));
  hashed.push_back(std::string(tokens[9]));
  UTM_RETURN_IF_ERROR(ParseHashes(values[9], values[10], &entry));
  if (Sha256Hex(absl::StrJoin(hashed, " ")) != entry.hash) {
    return absl::InvalidArgumentError(
        "hash: does not match the entry's bytes (the entry was edited)");
  }
  entry.line = std::string(line);
  return entry;
}

// Whether `value` holds `id` at `at`, delimited by the start or end of the
// value, '=' or ',' (how disclosed values are composed).
bool DelimitedAt(absl::string_view value, absl::string_view id, size_t at) {
  const auto delimiter = [](char c) { return c == '=' || c == ','; };
  return (at == 0 || delimiter(value[at - 1])) &&
         (at + id.size() == value.size() || delimiter(value[at + id.size()]));
}

}  // namespace

absl::StatusOr<AuditEntry> ParseAuditEntry(absl::string_view line) {
  if (line.size() > kMaxEntryBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the line is ", line.size(), " bytes, more than ", kMaxEntryBytes));
  }
  const std::vector<absl::string_view> tokens = absl::StrSplit(line, ' ');
  if (tokens.size() == kKeys1.size()) return ParseFormat1(line, tokens);
  if (tokens.size() == kKeys2.size()) return ParseFormat2(line, tokens);
  return absl::InvalidArgumentError(absl::StrCat(
      "the line has ", tokens.size(), " space-separated fields, not ",
      kKeys2.size(), " (or ", kKeys1.size(), " in format 1)"));
}

std::string ReplaceDelimited(absl::string_view value, absl::string_view id,
                             absl::string_view replacement) {
  std::string out;
  size_t from = 0;
  for (size_t at = value.find(id); !id.empty() && at != value.npos;
       at = value.find(id, at + 1)) {
    if (at < from || !DelimitedAt(value, id, at)) continue;
    absl::StrAppend(&out, value.substr(from, at - from), replacement);
    from = at + id.size();
  }
  absl::StrAppend(&out, value.substr(from));
  return out;
}

absl::StatusOr<std::optional<std::string>> RedactAuditEntry(
    absl::string_view line, absl::string_view id, absl::string_view pseudonym) {
  UTM_ASSIGN_OR_RETURN(AuditEntry entry, ParseAuditEntry(line));
  const std::string* const values[] = {&entry.event.target, &entry.event.about,
                                       &entry.event.disclosed};
  std::array<std::string, 3> replaced;
  bool changed = false;
  for (size_t i = 0; i < 3; ++i) {
    replaced[i] = ReplaceDelimited(*values[i], id, pseudonym);
    changed |= replaced[i] != *values[i];
  }
  if (!changed) return std::nullopt;
  if (entry.format == 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "audit entry ", entry.sequence,
        " is in format 1, which cannot be redacted without breaking the "
        "chain"));
  }
  std::vector<absl::string_view> tokens = absl::StrSplit(entry.line, ' ');
  std::vector<std::string> out(tokens.begin(), tokens.end());
  const absl::string_view salt = tokens[8].substr(5);
  for (size_t i = 0; i < 3; ++i) {
    if (replaced[i] == *values[i]) continue;
    const absl::string_view name = kRedactable[i];
    const absl::string_view token = tokens[i + 5];
    // A field already redacted keeps the digest of the original.
    const std::string digest =
        absl::StartsWith(token, absl::StrCat(name, "~="))
            ? std::string(token.substr(name.size() + 2, 64))
            : FieldDigest(salt, name, *values[i]);
    out[i + 5] =
        absl::StrCat(name, "~=", digest, ":", EscapeField(replaced[i]));
  }
  std::string redacted = absl::StrJoin(out, " ");
  // The hash must still verify: that is the point of the format.
  UTM_ASSIGN_OR_RETURN(AuditEntry check, ParseAuditEntry(redacted));
  if (check.hash != entry.hash) {
    return absl::InternalError("redaction changed the entry's hash");
  }
  return redacted;
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
    return absl::DataLossError(
        absl::StrCat("the log runs to entry ", verified.sequence,
                     " but its head is entry ", reported.sequence,
                     ": the head is stale or entries were appended "
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
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", absl::CHexEscape(text.substr(0, 100)),
                     "\" is not \"<seq> <64 hex>\""));
  }
  head.hash = std::string(parts[1]);
  return head;
}

}  // namespace utm::audit
