// The embedded store's on-disk format: encoding and strict parsing of its
// log and snapshot files. Pure (no I/O), so that recovery, the salvage path
// and the fuzzer share one reader.
//
// A file (format 2) is a 20-byte file header followed by records:
//   file header:   8-byte magic ("utmlog2\n" or "utmsnp2\n")
//                | u64 generation | u32 CRC-32 of the first 16 bytes
//   record:        u32 payload length | u32 CRC-32 of payload
//                | u32 CRC-32 of the previous 8 bytes | payload
//   payload:       u8 type | body
//     type 1, a batch:         varint count, then per mutation
//         u8 op (1 put, 2 delete) | varint+bytes table | varint+bytes key
//         | (put only) varint+bytes value
//     type 2, end of snapshot: varint number of mutations in the snapshot
// Integers are little-endian. Every byte of a file is covered by a checksum,
// and the header checksum lets the reader tell a record cut short by the end
// of the file (what a crash while appending leaves) from a damaged length.
//
// Format 1 (before 2026-12) had no file header and an 8-byte record header
// (length | CRC of payload) with a bare batch as payload; it is still read.
//
// Typical usage:
//   std::string bytes = FileHeader(FileKind::kLog, generation);
//   AppendBatch(&bytes, batch);
//   ParseResult r = ParseFile(bytes, FileKind::kLog, generation,
//                             [&](std::vector<Mutation> b) { ... });
#ifndef UTM_SERVICES_COMMON_STORE_FORMAT_H_
#define UTM_SERVICES_COMMON_STORE_FORMAT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/common/store.h"

namespace utm::store::format {

enum class FileKind { kLog, kSnapshot };

inline constexpr size_t kFileHeaderBytes = 20;
inline constexpr size_t kRecordHeaderBytes = 12;
// No record is larger (a batch of a whole snapshot chunk is a few MiB).
inline constexpr uint32_t kMaxPayloadBytes = uint32_t{1} << 30;

uint32_t Crc(absl::string_view bytes);
// Extends a CRC-32 over more bytes: Crc(a + b) == ExtendCrc(Crc(a), b).
uint32_t ExtendCrc(uint32_t crc, absl::string_view bytes);

// The 20-byte header every format-2 file starts with.
std::string FileHeader(FileKind kind, uint64_t generation);

// Appends one record holding `batch` / closing a snapshot of `mutations`.
void AppendBatch(std::string* out, const std::vector<Mutation>& batch);
void AppendSnapshotEnd(std::string* out, uint64_t mutations);

// Where and why a file stops being a sequence of valid records.
struct Damage {
  uint64_t offset = 0;  // first byte not part of a valid record
  std::string what;     // e.g. "record header checksum mismatch"
  // True when the bytes from `offset` on are exactly what a crash while
  // appending leaves: fewer bytes than a record header, a record whose
  // (checksummed) header promises more bytes than the file has, or zeros.
  // Anything else is damage.
  bool incomplete = false;
};

struct ParseResult {
  int format = 2;
  uint64_t valid_bytes = 0;  // the prefix of whole valid records
  uint64_t batches = 0;      // batch records in that prefix
  uint64_t mutations = 0;    // mutations in those batches
  std::optional<Damage> damage;  // nullopt: the whole file is valid
};

// Parses a whole file of `kind` and `generation`, calling `fn` for each batch
// of the valid prefix, in order. A snapshot is valid only if it ends with its
// end-of-snapshot record and the count there matches; an empty log (a crash
// right after it was created) is valid. Never reads out of bounds, whatever
// `data` holds.
ParseResult ParseFile(absl::string_view data, FileKind kind,
                      uint64_t generation,
                      const std::function<void(std::vector<Mutation>)>& fn);

}  // namespace utm::store::format

#endif  // UTM_SERVICES_COMMON_STORE_FORMAT_H_
