// Fuzz target: the embedded store's file reader (services/common/
// store_format.h) on arbitrary bytes, as a log and as a snapshot. Whatever
// the bytes, parsing must stay in bounds, report a valid prefix no longer
// than the input, and a damage offset inside it; re-encoding the batches of
// the valid prefix must reproduce that prefix byte for byte (format 2).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "services/common/store_format.h"

namespace format = utm::store::format;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  for (format::FileKind kind :
       {format::FileKind::kLog, format::FileKind::kSnapshot}) {
    std::string again = format::FileHeader(kind, 0);
    uint64_t mutations = 0;
    const format::ParseResult r = format::ParseFile(
        bytes, kind, 0, [&](std::vector<utm::store::Mutation> batch) {
          mutations += batch.size();
          format::AppendBatch(&again, batch);
        });
    if (r.valid_bytes > size) std::abort();
    if (r.damage && r.damage->offset > size) std::abort();
    if (!r.damage && r.valid_bytes != size) std::abort();
    if (r.format == 2 && kind == format::FileKind::kLog &&
        r.valid_bytes >= format::kFileHeaderBytes &&
        again != bytes.substr(0, r.valid_bytes)) {
      std::abort();  // a record that parses must be the one we write
    }
    if (r.format == 2 && kind == format::FileKind::kSnapshot && !r.damage) {
      format::AppendSnapshotEnd(&again, mutations);
      if (again != bytes) std::abort();
    }
  }
  return 0;
}
