// Fuzz target: an audit log file as `utmctl audit verify --file` and utmd's
// start read it (audit::VerifyAuditLines, audit::ParseAuditEntry).
//
// Input: the file's bytes; lines end at '\n'. Besides not crashing, every
// line that parses must have exactly one spelling: formatting the parsed
// entry again gives the same bytes (so the hash covers all that was read).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
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
    if (utm::audit::FormatAuditEntry(entry->sequence, entry->time,
                                     entry->event, entry->prev_hash) != line) {
      std::abort();  // two spellings of one entry
    }
  }
  return 0;
}
