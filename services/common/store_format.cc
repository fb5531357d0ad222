#include "services/common/store_format.h"

#include <zlib.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace utm::store::format {
namespace {

constexpr absl::string_view kLogMagic("utmlog2\n", 8);
constexpr absl::string_view kSnapshotMagic("utmsnp2\n", 8);
constexpr uint8_t kBatch = 1;
constexpr uint8_t kSnapshotEnd = 2;
constexpr uint8_t kPut = 1;
constexpr uint8_t kDelete = 2;

absl::string_view Magic(FileKind kind) {
  return kind == FileKind::kLog ? kLogMagic : kSnapshotMagic;
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
ParseResult ParseFormat1(
    absl::string_view data,
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

}  // namespace

void AppendBatch(std::string* out, const std::vector<Mutation>& batch) {
  std::string payload(1, static_cast<char>(kBatch));
  PutVarint(&payload, batch.size());
  for (const Mutation& m : batch) {
    payload.push_back(static_cast<char>(m.value ? kPut : kDelete));
    PutBytes(&payload, m.table);
    PutBytes(&payload, m.key);
    if (m.value) PutBytes(&payload, *m.value);
  }
  AppendRecord(out, payload);
}

void AppendSnapshotEnd(std::string* out, uint64_t mutations) {
  std::string payload(1, static_cast<char>(kSnapshotEnd));
  PutVarint(&payload, mutations);
  AppendRecord(out, payload);
}

ParseResult ParseFile(absl::string_view data, FileKind kind,
                      uint64_t generation,
                      const std::function<void(std::vector<Mutation>)>& fn) {
  ParseResult result;
  const absl::string_view magic = Magic(kind);
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
  if (data.substr(0, 8) != magic.substr(0, std::min<size_t>(8, data.size()))) {
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
  if (data.size() < kFileHeaderBytes) {
    if (is_log) return fail(0, "a partial file header", true);
    return fail(0, "the snapshot is too short for its header", false);
  }
  if (Crc(data.substr(0, 16)) != GetU32(data.data() + 16)) {
    return fail(0, "file header checksum mismatch", false);
  }
  if (GetLittleEndian(data.data() + 8, 8) != generation) {
    return fail(8,
                absl::StrCat("the file header says generation ",
                             GetLittleEndian(data.data() + 8, 8),
                             ", the file name ", generation),
                false);
  }

  // The records.
  uint64_t offset = kFileHeaderBytes;
  result.valid_bytes = offset;
  std::vector<Mutation> batch;
  bool ended = false;
  while (offset < data.size()) {
    const absl::string_view rest = data.substr(offset);
    if (ended) return fail(offset, "bytes after the end of the snapshot", false);
    if (rest.size() < kRecordHeaderBytes) {
      return fail(offset, "a partial record header at the end of the file",
                  true);
    }
    if (Crc(rest.substr(0, 8)) != GetU32(rest.data() + 8)) {
      if (AllZero(rest)) return fail(offset, "zeros to the end of the file", true);
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
    const absl::string_view payload = rest.substr(kRecordHeaderBytes, length);
    if (Crc(payload) != GetU32(rest.data() + 4)) {
      return fail(offset, "record checksum mismatch", false);
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
