// Fuzz target: the embedded store's reader on encrypted (format 3) files
// (services/common/store_format.h). The first byte picks a mode:
//   even: the rest is a file, parsed as a log and as a snapshot with a fixed
//         key; parsing must stay in bounds, whatever the bytes.
//   odd:  the rest is turned into batches written to an encrypted log (and
//         resumed once, as after a restart), then one byte is flipped or the
//         file cut at a position the input picks. Untouched, every batch
//         must come back; flipped, the reader must report damage at or
//         before the flipped byte (the tag, or a CRC, finds it); cut, only
//         a torn tail (incomplete) may be reported, never past the cut.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "services/common/store_crypto.h"
#include "services/common/store_format.h"

namespace format = utm::store::format;
namespace crypto = utm::store::crypto;
using utm::store::Mutation;

namespace {

crypto::Cipher& FixedCipher() {
  static crypto::Cipher* cipher =
      new crypto::Cipher(std::string(crypto::kKeyBytes, '\x42'));
  return *cipher;
}

void ParseAnything(const std::string& bytes) {
  for (format::FileKind kind :
       {format::FileKind::kLog, format::FileKind::kSnapshot}) {
    const format::ParseResult r = format::ParseFile(
        bytes, kind, 0, &FixedCipher(), [](std::vector<Mutation>) {});
    if (r.valid_bytes > bytes.size()) std::abort();
    if (r.damage && r.damage->offset > bytes.size()) std::abort();
    if (!r.damage && r.valid_bytes != bytes.size()) std::abort();
  }
}

void RoundTrip(const std::string& input) {
  if (input.size() < 4) return;
  const size_t where =
      (static_cast<uint8_t>(input[0]) << 8) | static_cast<uint8_t>(input[1]);
  const uint8_t how = static_cast<uint8_t>(input[2]);
  const std::string rest = input.substr(3);
  // Batches of up to 3 mutations, values cut from the input.
  std::vector<std::vector<Mutation>> batches;
  for (size_t i = 0; i < rest.size(); i += 24) {
    std::vector<Mutation> batch;
    const std::string chunk = rest.substr(i, 24);
    for (size_t j = 0; j < chunk.size(); j += 8) {
      batch.push_back(
          utm::store::Put("t", std::to_string(i + j), chunk.substr(j, 8)));
    }
    batches.push_back(std::move(batch));
  }
  std::string file;
  format::Encoder encoder = format::Encoder::NewFile(format::FileKind::kLog, 0,
                                                     &FixedCipher(), &file);
  const size_t half = batches.size() / 2;
  for (size_t i = 0; i < half; ++i) encoder.AppendBatch(&file, batches[i]);
  format::Encoder resumed =
      format::Encoder::Resume(file.substr(0, format::kEncryptedFileHeaderBytes),
                              file.size(), &FixedCipher(), &file);
  for (size_t i = half; i < batches.size(); ++i) {
    resumed.AppendBatch(&file, batches[i]);
  }

  std::vector<std::vector<Mutation>> read;
  auto parse = [&](const std::string& bytes) {
    read.clear();
    return format::ParseFile(
        bytes, format::FileKind::kLog, 0, &FixedCipher(),
        [&](std::vector<Mutation> b) { read.push_back(std::move(b)); });
  };
  const format::ParseResult whole = parse(file);
  if (whole.damage || whole.format != 3 || read.size() != batches.size()) {
    std::abort();
  }
  for (size_t i = 0; i < read.size(); ++i) {
    if (read[i].size() != batches[i].size()) std::abort();
    for (size_t j = 0; j < read[i].size(); ++j) {
      if (read[i][j].key != batches[i][j].key ||
          read[i][j].value != batches[i][j].value) {
        std::abort();
      }
    }
  }
  const size_t at = where % file.size();
  if (how & 1) {
    std::string flipped = file;
    flipped[at] = static_cast<char>(flipped[at] ^ (how | 1));
    const format::ParseResult r = parse(flipped);
    if (!r.damage || r.damage->offset > at) std::abort();
  } else {
    const format::ParseResult r = parse(file.substr(0, at));
    if (r.valid_bytes > at) std::abort();
    if (r.damage && !r.damage->incomplete) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    ParseAnything(bytes);
  } else {
    RoundTrip(bytes);
  }
  return 0;
}
