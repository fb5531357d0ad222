// Whole files as bytes, for tests that read and damage what a store wrote.
// Header-only; for tests.
#ifndef UTM_SERVICES_COMMON_FILE_TESTING_H_
#define UTM_SERVICES_COMMON_FILE_TESTING_H_

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace utm::test_util {

// The bytes of `path` ("" when it cannot be read).
inline std::string ReadFileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Replaces `path` with `bytes`.
inline void WriteFileBytes(const std::filesystem::path& path,
                           const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

}  // namespace utm::test_util

#endif  // UTM_SERVICES_COMMON_FILE_TESTING_H_
