#include "services/utmctl/export_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "services/common/audit/audit_chain.h"

namespace utm::ctl {
namespace {

using Json = nlohmann::json;

}  // namespace

absl::Status CheckArchiveManifest(
    const std::map<std::string, std::string>& files) {
  auto manifest_file = files.find("manifest.json");
  if (manifest_file == files.end()) {
    return absl::DataLossError("the archive has no manifest.json");
  }
  const Json manifest =
      Json::parse(manifest_file->second, nullptr, /*allow_exceptions=*/false);
  if (!manifest.is_object() || !manifest.contains("files") ||
      !manifest["files"].is_array()) {
    return absl::DataLossError("manifest.json: no \"files\" array");
  }
  std::set<std::string> listed;
  for (const Json& f : manifest["files"]) {
    if (!f.is_object() || !f.contains("path") || !f["path"].is_string() ||
        !f.contains("bytes") || !f["bytes"].is_number_unsigned() ||
        !f.contains("sha256") || !f["sha256"].is_string()) {
      return absl::DataLossError(
          "manifest.json: a file without path, bytes and sha256");
    }
    const std::string path = f["path"].get<std::string>();
    listed.insert(path);
    auto it = files.find(path);
    if (it == files.end()) {
      return absl::DataLossError(
          absl::StrCat(path, ": listed in manifest.json but not received"));
    }
    if (it->second.size() != f["bytes"].get<size_t>()) {
      return absl::DataLossError(absl::StrCat(
          path, ": ", it->second.size(), " bytes received, manifest.json says ",
          f["bytes"].get<size_t>()));
    }
    if (audit::Sha256Hex(it->second) != f["sha256"].get<std::string>()) {
      return absl::DataLossError(
          absl::StrCat(path, ": its SHA-256 differs from manifest.json's"));
    }
  }
  for (const auto& [path, bytes] : files) {
    if (path != "manifest.json" && listed.count(path) == 0) {
      return absl::DataLossError(
          absl::StrCat(path, ": received but not in manifest.json"));
    }
  }
  return absl::OkStatus();
}

absl::Status WriteTarGz(const std::string& path,
                        const std::map<std::string, std::string>& files) {
  const std::string temp = absl::StrCat(path, ".tmp-", ::getpid());
  std::unique_ptr<struct archive, decltype(&archive_write_free)> a(
      archive_write_new(), &archive_write_free);
  if (a == nullptr) return absl::ResourceExhaustedError("archive_write_new");
  auto failed = [&](absl::string_view what) {
    const std::string why = archive_error_string(a.get()) != nullptr
                                ? archive_error_string(a.get())
                                : "unknown error";
    std::remove(temp.c_str());
    return absl::UnavailableError(absl::StrCat(what, " ", temp, ": ", why));
  };
  if (archive_write_add_filter_gzip(a.get()) != ARCHIVE_OK ||
      archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK) {
    return failed("cannot set up");
  }
  const mode_t old_mask = ::umask(077);
  const int opened = archive_write_open_filename(a.get(), temp.c_str());
  ::umask(old_mask);
  if (opened != ARCHIVE_OK) return failed("cannot create");
  const time_t now = absl::ToTimeT(absl::Now());
  for (const auto& [name, bytes] : files) {
    std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)> entry(
        archive_entry_new(), &archive_entry_free);
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(bytes.size()));
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0600);
    archive_entry_set_mtime(entry.get(), now, 0);
    if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK) {
      return failed("cannot write to");
    }
    if (!bytes.empty() &&
        archive_write_data(a.get(), bytes.data(), bytes.size()) !=
            static_cast<la_ssize_t>(bytes.size())) {
      return failed("cannot write to");
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return failed("cannot close");
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(temp.c_str());
    return absl::UnavailableError(
        absl::StrCat("cannot rename ", temp, " to ", path, ": ", why));
  }
  return absl::OkStatus();
}

}  // namespace utm::ctl
