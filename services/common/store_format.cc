#include "services/common/store_format.h"

#include <zlib.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace utm::store::format {
namespace {

constexpr absl::string_view kLogMagic("utmlog2\n", 8);
constexpr absl::string_view kSnapshotMagic("utmsnp2\n", 8);
constexpr absl::string_view kEncryptedLogMagic("utmlog3\n", 8);
constexpr absl::string_view kEncryptedSnapshotMagic("utmsnp3\n", 8);
constexpr uint8_t kBatch = 1;
constexpr uint8_t kSnapshotEnd = 2;
constexpr uint8_t kNewSalt = 3;
constexpr uint8_t kSealed = 4;
// Records sealed under one salt before a new one is set: the nonce's count
// is 32 bits.
constexpr uint64_t kSealsPerSalt = uint64_t{1} << 32;
constexpr uint8_t kPut = 1;
constexpr uint8_t kDelete = 2;

absl::string_view Magic(FileKind kind) {
  return kind == FileKind::kLog ? kLogMagic : kSnapshotMagic;
}

absl::string_view EncryptedMagic(FileKind kind) {
  return kind == FileKind::kLog ? kEncryptedLogMagic : kEncryptedSnapshotMagic;
}

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutBytes(std::string* out, absl::string_view s) {
  PutVarint(out, s.size());
  out->append(s.data(), s.size());
}

bool GetVarint(absl::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    const uint8_t byte = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

bool GetBytes(absl::string_view* in, std::string* out) {
  uint64_t n;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  out->assign(in->data(), n);
  in->remove_prefix(n);
  return true;
}

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t GetLittleEndian(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  }
  return v;
}

uint32_t GetU32(const char* p) {
  return static_cast<uint32_t>(GetLittleEndian(p, 4));
}

std::string Nonce(uint64_t salt, uint64_t count) {
  std::string nonce;
  PutU64(&nonce, salt);
  PutU32(&nonce, static_cast<uint32_t>(count));
  return nonce;
}

std::string Aad(absl::string_view header, uint64_t offset) {
  std::string aad(header);
  PutU64(&aad, offset);
  return aad;
}

// The body of a batch: varint count, then the mutations; nothing after them.
bool DecodeBatch(absl::string_view body, std::vector<Mutation>* batch) {
  uint64_t n;
  if (!GetVarint(&body, &n)) return false;
  batch->clear();
  for (uint64_t i = 0; i < n; ++i) {
    if (body.empty()) return false;
    const uint8_t op = static_cast<uint8_t>(body[0]);
    body.remove_prefix(1);
    Mutation m;
    if ((op != kPut && op != kDelete) || !GetBytes(&body, &m.table) ||
        !GetBytes(&body, &m.key)) {
      return false;
    }
    if (op == kPut) {
      std::string value;
      if (!GetBytes(&body, &value)) return false;
      m.value = std::move(value);
    }
    batch->push_back(std::move(m));
  }
  return body.empty();
}

bool AllZero(absl::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(),
                     [](char c) { return c == '\0'; });
}

// Format 1: u32 length | u32 CRC of payload | batch. No header checksum, so
// a record running past the end of the file may be a damaged length: only
// a tail shorter than a header, or zeros, counts as incomplete.
ParseResult ParseFormat1(absl::string_view data,
                         const std::function<void(std::vector<Mutation>)>& fn) {
  ParseResult result;
  result.format = 1;
  uint64_t offset = 0;
  std::vector<Mutation> batch;
  while (offset < data.size()) {
    const absl::string_view rest = data.substr(offset);
    Damage damage{offset, "", false};
    if (rest.size() < 8) {
      damage.what = "a partial record header at the end of the file";
      damage.incomplete = true;
    } else if (AllZero(rest)) {
      damage.what = "zeros to the end of the file";
      damage.incomplete = true;
    } else {
      const uint32_t length = GetU32(rest.data());
      if (rest.size() - 8 < length) {
        damage.what = absl::StrCat(
            "a record of ", length, " bytes runs past the end of the file ",
            "(format 1 cannot tell a cut record from a damaged length)");
      } else if (Crc(rest.substr(8, length)) != GetU32(rest.data() + 4)) {
        damage.what = "record checksum mismatch";
      } else if (!DecodeBatch(rest.substr(8, length), &batch)) {
        damage.what = "undecodable record";
      } else {
        result.mutations += batch.size();
        ++result.batches;
        fn(std::move(batch));
        offset += 8 + length;
        continue;
      }
    }
    result.damage = std::move(damage);
    break;
  }
  result.valid_bytes = offset;
  return result;
}

}  // namespace

uint32_t Crc(absl::string_view bytes) { return ExtendCrc(0, bytes); }

uint32_t ExtendCrc(uint32_t crc, absl::string_view bytes) {
  // zlib's length is a uInt: feed very large inputs in pieces.
  while (!bytes.empty()) {
    const size_t n = std::min<size_t>(bytes.size(), size_t{1} << 30);
    crc = static_cast<uint32_t>(
        crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()),
              static_cast<uInt>(n)));
    bytes.remove_prefix(n);
  }
  return crc;
}

std::string FileName(FileKind kind, uint64_t generation) {
  return absl::StrFormat(
      "%s-%020d", kind == FileKind::kLog ? "log" : "snapshot", generation);
}

std::string FileHeader(FileKind kind, uint64_t generation) {
  std::string out(Magic(kind));
  PutU64(&out, generation);
  PutU32(&out, Crc(out));
  return out;
}

namespace {

void AppendRecord(std::string* out, absl::string_view payload) {
  std::string header;
  PutU32(&header, static_cast<uint32_t>(payload.size()));
  PutU32(&header, Crc(payload));
  PutU32(&header, Crc(header));
  out->append(header);
  out->append(payload.data(), payload.size());
}

std::string BatchPayload(const std::vector<Mutation>& batch) {
  std::string payload(1, static_cast<char>(kBatch));
  PutVarint(&payload, batch.size());
  for (const Mutation& m : batch) {
    payload.push_back(static_cast<char>(m.value ? kPut : kDelete));
    PutBytes(&payload, m.table);
    PutBytes(&payload, m.key);
    if (m.value) PutBytes(&payload, *m.value);
  }
  return payload;
}

std::string SnapshotEndPayload(uint64_t mutations) {
  std::string payload(1, static_cast<char>(kSnapshotEnd));
  PutVarint(&payload, mutations);
  return payload;
}

}  // namespace

std::string EncryptedFileHeader(FileKind kind, uint64_t generation,
                                absl::string_view key_id, uint64_t salt) {
  std::string out(EncryptedMagic(kind));
  PutU64(&out, generation);
  out.append(key_id.data(), key_id.size());
  PutU64(&out, salt);
  PutU32(&out, Crc(out));
  return out;
}

void AppendBatch(std::string* out, const std::vector<Mutation>& batch) {
  AppendRecord(out, BatchPayload(batch));
}

void AppendSnapshotEnd(std::string* out, uint64_t mutations) {
  AppendRecord(out, SnapshotEndPayload(mutations));
}

Encoder Encoder::NewFile(FileKind kind, uint64_t generation,
                         crypto::Cipher* cipher, std::string* out) {
  Encoder e;
  e.cipher_ = cipher;
  if (cipher == nullptr) {
    e.header_ = FileHeader(kind, generation);
  } else {
    e.salt_ = crypto::RandomSalt();
    e.header_ =
        EncryptedFileHeader(kind, generation, cipher->key_id(), e.salt_);
  }
  out->append(e.header_);
  e.offset_ = e.header_.size();
  return e;
}

Encoder Encoder::Resume(absl::string_view header, uint64_t size,
                        crypto::Cipher* cipher, std::string* out) {
  Encoder e;
  e.cipher_ = cipher;
  e.header_ = std::string(header);
  e.offset_ = size;
  if (cipher != nullptr) e.AppendNewSalt(out);
  return e;
}

void Encoder::AppendNewSalt(std::string* out) {
  salt_ = crypto::RandomSalt();
  sealed_ = 0;
  std::string payload(1, static_cast<char>(kNewSalt));
  PutU64(&payload, salt_);
  const size_t before = out->size();
  AppendRecord(out, payload);
  offset_ += out->size() - before;
}

void Encoder::AppendPayload(std::string* out, const std::string& payload) {
  if (cipher_ == nullptr) {
    AppendRecord(out, payload);
    offset_ += kRecordHeaderBytes + payload.size();
    return;
  }
  if (sealed_ == kSealsPerSalt) AppendNewSalt(out);
  std::string sealed(1, static_cast<char>(kSealed));
  cipher_->Seal(Nonce(salt_, sealed_), Aad(header_, offset_), payload, &sealed);
  ++sealed_;
  AppendRecord(out, sealed);
  offset_ += kRecordHeaderBytes + sealed.size();
}

void Encoder::AppendBatch(std::string* out,
                          const std::vector<Mutation>& batch) {
  AppendPayload(out, BatchPayload(batch));
}

void Encoder::AppendSnapshotEnd(std::string* out, uint64_t mutations) {
  AppendPayload(out, SnapshotEndPayload(mutations));
}

KeyInfo PeekKey(absl::string_view head, FileKind kind) {
  KeyInfo info;
  if (head.substr(0, 8) == EncryptedMagic(kind) &&
      head.size() >= kEncryptedFileHeaderBytes &&
      Crc(head.substr(0, 32)) == GetU32(head.data() + 32)) {
    info.key_id = std::string(head.substr(16, crypto::kKeyIdBytes));
  }
  info.plain = head.substr(0, 8) == Magic(kind) &&
               head.size() >= kFileHeaderBytes &&
               Crc(head.substr(0, 16)) == GetU32(head.data() + 16);
  return info;
}

ParseResult ParseFile(absl::string_view data, FileKind kind,
                      uint64_t generation,
                      const std::function<void(std::vector<Mutation>)>& fn) {
  return ParseFile(data, kind, generation, nullptr, fn);
}

ParseResult ParseFile(absl::string_view data, FileKind kind,
                      uint64_t generation, crypto::Cipher* cipher,
                      const std::function<void(std::vector<Mutation>)>& fn) {
  ParseResult result;
  const bool is_log = kind == FileKind::kLog;
  auto fail = [&](uint64_t offset, std::string what, bool incomplete) {
    result.damage = Damage{offset, std::move(what), incomplete};
    return result;
  };

  // The file header.
  if (data.empty()) {
    if (is_log) return result;  // created, nothing written yet
    return fail(0, "the snapshot is empty", false);
  }
  const absl::string_view head = data.substr(0, 8);
  const bool encrypted = head == EncryptedMagic(kind).substr(0, head.size());
  if (!encrypted && head != Magic(kind).substr(0, head.size())) {
    if (is_log && AllZero(data)) return fail(0, "zeros only", true);
    // Not format 2: a format-1 file starts with a valid record.
    if (data.size() >= 8) {
      const uint32_t length = GetU32(data.data());
      std::vector<Mutation> first;
      if (data.size() - 8 >= length &&
          Crc(data.substr(8, length)) == GetU32(data.data() + 4) &&
          DecodeBatch(data.substr(8, length), &first)) {
        return ParseFormat1(data, fn);
      }
    }
    return fail(0,
                absl::StrCat("not a ", is_log ? "log" : "snapshot",
                             " file (bad magic)"),
                false);
  }
  result.format = encrypted ? 3 : 2;
  const size_t header_bytes =
      encrypted ? kEncryptedFileHeaderBytes : kFileHeaderBytes;
  if (data.size() < header_bytes) {
    if (is_log) return fail(0, "a partial file header", true);
    return fail(0, "the snapshot is too short for its header", false);
  }
  if (Crc(data.substr(0, header_bytes - 4)) !=
      GetU32(data.data() + header_bytes - 4)) {
    return fail(0, "file header checksum mismatch", false);
  }
  if (GetLittleEndian(data.data() + 8, 8) != generation) {
    return fail(8,
                absl::StrCat("the file header says generation ",
                             GetLittleEndian(data.data() + 8, 8),
                             ", the file name ", generation),
                false);
  }
  const absl::string_view header = data.substr(0, header_bytes);
  uint64_t salt = 0;
  uint64_t sealed = 0;  // records opened under `salt`
  if (encrypted) {
    const absl::string_view key_id = data.substr(16, crypto::kKeyIdBytes);
    if (cipher == nullptr) {
      return fail(16,
                  absl::StrCat("encrypted with key ", crypto::KeyIdHex(key_id),
                               " and no key given"),
                  false);
    }
    if (key_id != cipher->key_id()) {
      return fail(16,
                  absl::StrCat("encrypted with key ", crypto::KeyIdHex(key_id),
                               ", not with the key given (",
                               crypto::KeyIdHex(cipher->key_id()), ")"),
                  false);
    }
    salt = GetLittleEndian(data.data() + 24, 8);
  }

  // The records.
  uint64_t offset = header_bytes;
  result.valid_bytes = offset;
  std::vector<Mutation> batch;
  std::string opened;
  bool ended = false;
  while (offset < data.size()) {
    const absl::string_view rest = data.substr(offset);
    if (ended)
      return fail(offset, "bytes after the end of the snapshot", false);
    if (rest.size() < kRecordHeaderBytes) {
      return fail(offset, "a partial record header at the end of the file",
                  true);
    }
    if (Crc(rest.substr(0, 8)) != GetU32(rest.data() + 8)) {
      if (AllZero(rest))
        return fail(offset, "zeros to the end of the file", true);
      return fail(offset, "record header checksum mismatch", false);
    }
    const uint32_t length = GetU32(rest.data());
    if (length > kMaxPayloadBytes || length == 0) {
      return fail(offset, absl::StrCat("record length ", length, " is invalid"),
                  false);
    }
    if (rest.size() - kRecordHeaderBytes < length) {
      return fail(offset,
                  absl::StrCat("a record of ", length,
                               " bytes cut short by the end of the file (",
                               rest.size() - kRecordHeaderBytes, " present)"),
                  true);
    }
    absl::string_view payload = rest.substr(kRecordHeaderBytes, length);
    if (Crc(payload) != GetU32(rest.data() + 4)) {
      return fail(offset, "record checksum mismatch", false);
    }
    if (encrypted) {
      const uint8_t outer = static_cast<uint8_t>(payload[0]);
      if (outer == kNewSalt && is_log && payload.size() == 9) {
        salt = GetLittleEndian(payload.data() + 1, 8);
        sealed = 0;
        offset += kRecordHeaderBytes + length;
        result.valid_bytes = offset;
        continue;
      }
      if (outer != kSealed) {
        return fail(offset,
                    absl::StrCat("unknown encrypted record type ", outer),
                    false);
      }
      if (sealed == kSealsPerSalt) {
        return fail(offset, "too many records under one salt", false);
      }
      if (!cipher->Open(Nonce(salt, sealed), Aad(header, offset),
                        payload.substr(1), &opened)) {
        return fail(offset,
                    "record authentication failed (altered, moved, or "
                    "written with another key)",
                    false);
      }
      ++sealed;
      if (opened.empty()) {
        return fail(offset, "an empty sealed record", false);
      }
      payload = opened;
    }
    const uint8_t type = static_cast<uint8_t>(payload[0]);
    absl::string_view body = payload.substr(1);
    if (type == kBatch) {
      if (!DecodeBatch(body, &batch)) {
        return fail(offset, "undecodable batch", false);
      }
      result.mutations += batch.size();
      ++result.batches;
      fn(std::move(batch));
    } else if (type == kSnapshotEnd && !is_log) {
      uint64_t count;
      if (!GetVarint(&body, &count) || !body.empty()) {
        return fail(offset, "undecodable end-of-snapshot record", false);
      }
      if (count != result.mutations) {
        return fail(offset,
                    absl::StrCat("the snapshot should hold ", count,
                                 " records but holds ", result.mutations),
                    false);
      }
      ended = true;
    } else {
      return fail(offset, absl::StrCat("unknown record type ", type), false);
    }
    offset += kRecordHeaderBytes + length;
    result.valid_bytes = offset;
  }
  if (!is_log && !ended) {
    return fail(offset, "the snapshot ends without its end record (cut short)",
                false);
  }
  return result;
}

}  // namespace utm::store::format
