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
// Format 3 is format 2 encrypted at rest (StoreOptions::key), AES-256-GCM:
//   file header:   8-byte magic ("utmlog3\n" or "utmsnp3\n")
//                | u64 generation | 8-byte key id | u64 salt
//                | u32 CRC-32 of the first 32 bytes             (36 bytes)
//   record:        the same framing as format 2; payload:
//     type 4, sealed:   AES-256-GCM(format-2 payload) | 16-byte tag
//     type 3, new salt: u64 salt (logs only, in the clear)
// The key id (crypto::KeyId: an HMAC of a fixed label under the key) names
// the key, so that a wrong key is refused before any record is read.
// A sealed record's nonce is the current salt (8 bytes, little-endian)
// followed by a u32 count of the records sealed since that salt was set;
// its associated data is the file header (36 bytes) and the record's u64
// byte offset in the file. Records therefore cannot be moved within a file
// or between files (generation, kind, key and salt all differ) without the
// tag failing. A (key, nonce) pair is never used twice: every file starts
// with a fresh random 64-bit salt; a log reopened for appending (after a
// clean close or a crash, where a torn record's count would otherwise be
// reused for different bytes at the same place) first appends a new-salt
// record with another fresh salt, and so does a writer whose count would
// wrap. Salts are drawn from OpenSSL's CSPRNG, so two sessions share one
// with probability about n^2 / 2^65 for n sessions under a key, whatever
// happens to copies of the files (a backup restored and written to again
// gets salts of its own). The framing (lengths, CRCs) is in the clear, so a
// record cut short by the end of the file is recognised exactly as in
// format 2; a record whose tag fails is damage. Lengths and the number of
// records are not hidden.
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
#include "services/common/store_crypto.h"

namespace utm::store::format {

enum class FileKind { kLog, kSnapshot };

inline constexpr size_t kFileHeaderBytes = 20;
inline constexpr size_t kEncryptedFileHeaderBytes = 36;
inline constexpr size_t kRecordHeaderBytes = 12;
// No record is larger (a batch of a whole snapshot chunk is a few MiB).
inline constexpr uint32_t kMaxPayloadBytes = uint32_t{1} << 30;

uint32_t Crc(absl::string_view bytes);
// Extends a CRC-32 over more bytes: Crc(a + b) == ExtendCrc(Crc(a), b).
uint32_t ExtendCrc(uint32_t crc, absl::string_view bytes);

// A store file's name: "log-<generation>" or "snapshot-<generation>", the
// generation in 20 digits.
std::string FileName(FileKind kind, uint64_t generation);

// The 20-byte header every format-2 file starts with.
std::string FileHeader(FileKind kind, uint64_t generation);

// The 36-byte header of a format-3 (encrypted) file.
std::string EncryptedFileHeader(FileKind kind, uint64_t generation,
                                absl::string_view key_id, uint64_t salt);

// Appends one format-2 record holding `batch` / closing a snapshot of
// `mutations`.
void AppendBatch(std::string* out, const std::vector<Mutation>& batch);
void AppendSnapshotEnd(std::string* out, uint64_t mutations);

// Writes the records of one file, in format 2 (no cipher) or format 3. It
// tracks the file offset of the next record, so every byte it returns must
// be written, in order, at the end of the file. Not thread-safe.
class Encoder {
 public:
  // Starts a new file: appends its header to `out`. `cipher`, when not
  // null, must outlive the Encoder.
  static Encoder NewFile(FileKind kind, uint64_t generation,
                         crypto::Cipher* cipher, std::string* out);
  // Continues a log of `size` bytes that starts with `header` (a whole
  // format-2 or format-3 file header, as read back): encrypted, appends a
  // new-salt record to `out` first (see the nonce rule above).
  static Encoder Resume(absl::string_view header, uint64_t size,
                        crypto::Cipher* cipher, std::string* out);

  void AppendBatch(std::string* out, const std::vector<Mutation>& batch);
  void AppendSnapshotEnd(std::string* out, uint64_t mutations);

 private:
  Encoder() = default;
  void AppendPayload(std::string* out, const std::string& payload);
  void AppendNewSalt(std::string* out);

  crypto::Cipher* cipher_ = nullptr;
  std::string header_;
  uint64_t salt_ = 0;
  uint64_t sealed_ = 0;  // records sealed under salt_
  uint64_t offset_ = 0;  // of the next record in the file
};

// What a file's first bytes say about its encryption, for the store to pick
// (or refuse) a key before reading further.
struct KeyInfo {
  // A whole format-3 header that checks out: the key id it names.
  std::optional<std::string> key_id;
  // A whole format-2 header that checks out: the file is in the clear.
  bool plain = false;
};
KeyInfo PeekKey(absl::string_view head, FileKind kind);

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
  int format = 2;                // 1, 2 or 3 (encrypted)
  uint64_t valid_bytes = 0;      // the prefix of whole valid records
  uint64_t batches = 0;          // batch records in that prefix
  uint64_t mutations = 0;        // mutations in those batches
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
// The same for a file that may be encrypted: a format-3 file is read with
// `cipher` (damage at offset 16 when it is null or its key id is not the
// header's; a record whose tag fails is damage at that record).
ParseResult ParseFile(absl::string_view data, FileKind kind,
                      uint64_t generation, crypto::Cipher* cipher,
                      const std::function<void(std::vector<Mutation>)>& fn);

}  // namespace utm::store::format

#endif  // UTM_SERVICES_COMMON_STORE_FORMAT_H_
