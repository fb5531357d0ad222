// The export archive: a manifest that does not match what arrived is
// refused naming the file, and the tar.gz holds exactly the files, mode
// 0600 (read back with libarchive).
#include "services/utmctl/export_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/common/audit/audit_chain.h"

namespace utm::ctl {
namespace {

using ::testing::HasSubstr;

std::map<std::string, std::string> Archive() {
  std::map<std::string, std::string> files = {
      {"README.md", "# What utmd holds\n"},
      {"intents.json", "{\"intents\": []}\n"}};
  nlohmann::json manifest = {{"files", nlohmann::json::array()}};
  for (const auto& [path, bytes] : files) {
    manifest["files"].push_back({{"path", path},
                                 {"bytes", bytes.size()},
                                 {"sha256", audit::Sha256Hex(bytes)}});
  }
  files["manifest.json"] = manifest.dump();
  return files;
}

TEST(ExportArchive, AcceptsAWholeArchive) {
  EXPECT_TRUE(CheckArchiveManifest(Archive()).ok());
}

TEST(ExportArchive, RefusesWhatTheManifestDoesNotVouchFor) {
  std::map<std::string, std::string> changed = Archive();
  changed["intents.json"][1] = 'X';  // same size, other bytes
  EXPECT_THAT(CheckArchiveManifest(changed).message(),
              HasSubstr("intents.json: its SHA-256 differs"));
  std::map<std::string, std::string> cut = Archive();
  cut["intents.json"].pop_back();
  EXPECT_THAT(CheckArchiveManifest(cut).message(),
              HasSubstr("intents.json: 15 bytes received, manifest.json says "
                        "16"));
  std::map<std::string, std::string> missing = Archive();
  missing.erase("README.md");
  EXPECT_THAT(CheckArchiveManifest(missing).message(),
              HasSubstr("README.md: listed in manifest.json but not received"));
  std::map<std::string, std::string> extra = Archive();
  extra["stray.json"] = "{}";
  EXPECT_THAT(CheckArchiveManifest(extra).message(),
              HasSubstr("stray.json: received but not in manifest.json"));
  std::map<std::string, std::string> none = Archive();
  none.erase("manifest.json");
  EXPECT_THAT(CheckArchiveManifest(none).message(), HasSubstr("no manifest"));
  none["manifest.json"] = "not json";
  EXPECT_EQ(CheckArchiveManifest(none).code(), absl::StatusCode::kDataLoss);
}

TEST(ExportArchive, WritesATarGzOfExactlyTheFiles) {
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/export-", ::getpid(), ".tar.gz");
  const std::map<std::string, std::string> files = Archive();
  ASSERT_TRUE(WriteTarGz(path, files).ok());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  struct archive* a = archive_read_new();
  archive_read_support_filter_gzip(a);
  archive_read_support_format_tar(a);
  ASSERT_EQ(archive_read_open_filename(a, path.c_str(), 1 << 16), ARCHIVE_OK);
  std::map<std::string, std::string> read;
  struct archive_entry* entry;
  while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
    std::string bytes(static_cast<size_t>(archive_entry_size(entry)), '\0');
    ASSERT_EQ(archive_read_data(a, bytes.data(), bytes.size()),
              static_cast<la_ssize_t>(bytes.size()));
    read[archive_entry_pathname(entry)] = bytes;
  }
  archive_read_free(a);
  EXPECT_EQ(read, files);
  std::filesystem::remove(path);

  EXPECT_THAT(WriteTarGz("/nonexistent-dir/x.tar.gz", files).message(),
              HasSubstr("/nonexistent-dir/x.tar.gz"));
}

}  // namespace
}  // namespace utm::ctl
