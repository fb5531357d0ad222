// Looking for an operator's data where it must not be: the byte forms a
// coordinate may be kept in, and a search of many files (or Redis values)
// for them. Shared by the Local Data Mode proofs (embedded and Redis).
#ifndef UTM_TESTS_DATA_SCAN_UTIL_H_
#define UTM_TESTS_DATA_SCAN_UTIL_H_

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"

namespace utm::test_util {

// Every byte form a coordinate in degrees might be kept in.
inline std::vector<std::string> CoordinateForms(double deg) {
  std::vector<std::string> forms;
  forms.push_back(absl::StrFormat("%.4f", deg));  // any text of it
  char raw[8];
  std::memcpy(raw, &deg, 8);  // a double (protos, fixed64 little-endian)
  forms.emplace_back(raw, 8);
  const float f = static_cast<float>(deg);
  std::memcpy(raw, &f, 4);
  forms.emplace_back(raw, 4);
  const int32_t e7 = static_cast<int32_t>(std::lround(deg * 1e7));
  std::memcpy(raw, &e7, 4);  // int32 1e-7 degrees, little-endian
  forms.emplace_back(raw, 4);
  const uint32_t u = static_cast<uint32_t>(e7);
  const char big[4] = {static_cast<char>(u >> 24), static_cast<char>(u >> 16),
                       static_cast<char>(u >> 8), static_cast<char>(u)};
  forms.emplace_back(big, 4);
  for (uint64_t v :
       {static_cast<uint64_t>(u),  // varint, zigzag varint
        (static_cast<uint64_t>(u) << 1) ^ static_cast<uint64_t>(e7 >> 31)}) {
    std::string varint;
    while (v >= 0x80) {
      varint.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    varint.push_back(static_cast<char>(v));
    forms.push_back(varint);
  }
  return forms;
}

inline std::string Printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "\\x%02x", c);
    }
  }
  return out;
}

struct Haystack {
  std::string name;
  std::string bytes;
};

// Every file under `dir`, and `log`.
inline std::vector<Haystack> Everything(const std::filesystem::path& dir,
                                        const std::string& log) {
  std::vector<Haystack> all;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    all.push_back({entry.path().string(),
                   std::string(std::istreambuf_iterator<char>(in), {})});
  }
  all.push_back({"utmd's stderr", log});
  return all;
}

// Where `needle` occurs; empty when nowhere.
inline std::vector<std::string> FoundIn(const std::vector<Haystack>& all,
                                        const std::string& needle) {
  std::vector<std::string> where;
  for (const Haystack& h : all) {
    if (h.bytes.find(needle) != std::string::npos) where.push_back(h.name);
  }
  return where;
}

}  // namespace utm::test_util

#endif  // UTM_TESTS_DATA_SCAN_UTIL_H_
