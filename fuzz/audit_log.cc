// Fuzz target: an audit log file as `utmctl audit verify --file` and utmd's
// start read it (audit::VerifyAuditLines, audit::ParseAuditEntry).
//
// Input: the file's bytes; lines end at '\n'. Besides not crashing, every
// line that parses must have exactly one spelling: formatting the parsed
// entry again gives the same bytes (so the hash covers all that was read),
// in format 1 as in format 2 (a redacted entry: its unredacted fields and
// its redaction again give the same bytes). Redacting a parsed format 2
// entry keeps its hash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "absl/strings/string_view.h"
#include "services/common/audit/audit_chain.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string> lines = absl::StrSplit(text, '\n');
  (void)utm::audit::VerifyAuditLines(lines);
  for (const std::string& line : lines) {
    absl::StatusOr<utm::audit::AuditEntry> entry =
        utm::audit::ParseAuditEntry(line);
    if (!entry.ok()) continue;
    if (entry->format == 1) {
      const std::string again = absl::StrCat(
          "seq=", entry->sequence, " time=",
          absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", entry->time,
                           absl::UTCTimeZone()),
          " action=", utm::audit::EscapeField(entry->event.action),
          " subject=", utm::audit::EscapeField(entry->event.subject),
          " case=", utm::audit::EscapeField(entry->event.case_reference),
          " target=", utm::audit::EscapeField(entry->event.target),
          " disclosed=", utm::audit::EscapeField(entry->event.disclosed),
          " prev=", entry->prev_hash, " hash=", entry->hash);
      if (again != line) std::abort();  // two spellings of one entry
      continue;
    }
    if (!entry->redacted &&
        utm::audit::FormatAuditEntry(entry->sequence, entry->time,
                                     entry->event, entry->prev_hash,
                                     entry->salt) != line) {
      std::abort();  // two spellings of one entry
    }
    // Redaction keeps the hash, and the redacted entry parses.
    absl::StatusOr<std::optional<std::string>> redacted =
        utm::audit::RedactAuditEntry(line, entry->event.about, "p");
    if (!redacted.ok()) std::abort();
    if (redacted->has_value()) {
      absl::StatusOr<utm::audit::AuditEntry> again =
          utm::audit::ParseAuditEntry(**redacted);
      if (!again.ok() || again->hash != entry->hash) std::abort();
    }
  }
  return 0;
}
