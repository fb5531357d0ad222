#include "services/operator/operator_data.h"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"
#include "nlohmann/json.hpp"
#include "services/common/volume_convert.h"

namespace utm::fleet {
namespace {

using Json = nlohmann::json;

// SHA-256 of a file that arrives in pieces.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ != nullptr) EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
  }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Add(absl::string_view data) {
    if (ctx_ != nullptr) EVP_DigestUpdate(ctx_, data.data(), data.size());
  }
  // Lower-case hex; "" when OpenSSL could not allocate.
  std::string Hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (ctx_ == nullptr || EVP_DigestFinal_ex(ctx_, digest, &size) != 1) {
      return "";
    }
    return absl::BytesToHexString(
        absl::string_view(reinterpret_cast<const char*>(digest), size));
  }

 private:
  EVP_MD_CTX* const ctx_;
};

}  // namespace

absl::Status SendFile(const ArchiveSink& sink, const std::string& path,
                      absl::string_view data) {
  size_t at = 0;
  do {
    const absl::string_view piece = data.substr(at, kArchivePieceBytes);
    UTM_RETURN_IF_ERROR(sink(path, std::string(piece)));
    at += piece.size();
  } while (at < data.size());
  return absl::OkStatus();
}

OperatorData::OperatorData(
    std::vector<DataSection*> sections,
    std::function<std::string(const std::string&)> pseudonym,
    store::Store* store, const Clock* clock, ledger::Ledger* ledger)
    : sections_(std::move(sections)),
      pseudonym_(std::move(pseudonym)),
      store_(store),
      clock_(clock),
      ledger_(ledger) {}

absl::Status OperatorData::Export(const std::string& operator_id,
                                  const ArchiveSink& sink) const {
  const absl::Time now = clock_->Now();
  // What the manifest lists: every file, its size and digest.
  struct File {
    std::string path;
    size_t bytes = 0;
    std::unique_ptr<Sha256> sha256 = std::make_unique<Sha256>();
  };
  std::vector<File> files;
  const ArchiveSink recording = [&](const std::string& path,
                                    std::string data) -> absl::Status {
    if (files.empty() || files.back().path != path) {
      files.push_back(File{path});
    }
    files.back().bytes += data.size();
    files.back().sha256->Add(data);
    return sink(path, std::move(data));
  };
  std::string readme = absl::StrCat(
      "# What utmd holds about ", operator_id, "\n\n", "Exported ",
      TimeToRfc3339(now),
      " by utmd. Every time is UTC (RFC 3339); every position is WGS84 "
      "degrees, altitudes metres above the WGS84 ellipsoid unless a file "
      "says otherwise. The formats are documented in utmd's docs/privacy.md "
      "(\"Your data, exported\") and docs/api.md.\n\n## Files\n\n"
      "- `README.md`: this file.\n");
  for (const DataSection* section : sections_) {
    absl::StrAppend(&readme, section->Describe());
  }
  absl::StrAppend(&readme,
                  "- `manifest.json`: every other file with its size in "
                  "bytes and its SHA-256, to check the archive is whole.\n");
  UTM_RETURN_IF_ERROR(SendFile(recording, "README.md", readme));
  for (DataSection* section : sections_) {
    UTM_RETURN_IF_ERROR(section->Export(operator_id, recording));
  }
  Json manifest = {{"operator", operator_id},
                   {"exported", TimeToRfc3339(now)},
                   {"files", Json::array()}};
  for (File& file : files) {
    manifest["files"].push_back({{"path", file.path},
                                 {"bytes", file.bytes},
                                 {"sha256", file.sha256->Hex()}});
  }
  return SendFile(sink, "manifest.json", manifest.dump(2) + "\n");
}

absl::StatusOr<v1::EraseDataResponse> OperatorData::Erase(
    const std::string& operator_id) const {
  if (!pseudonym_) {
    return absl::FailedPreconditionError(
        "this deployment keeps no pseudonym key (--pseudonym-key), which an "
        "erasure needs for what the law keeps");
  }
  for (DataSection* section : sections_) {
    UTM_RETURN_IF_ERROR(section->CheckErasable(operator_id));
  }
  Pseudonyms pseudonyms;
  pseudonyms.replacements.emplace_back(operator_id, pseudonym_(operator_id));
  std::vector<std::string> others;
  for (const DataSection* section : sections_) {
    section->Identifiers(operator_id, &others);
  }
  std::sort(others.begin(), others.end());
  others.erase(std::unique(others.begin(), others.end()), others.end());
  for (std::string& id : others) {
    if (id.empty() || id == operator_id) continue;
    std::string p = pseudonym_(id);
    pseudonyms.replacements.emplace_back(std::move(id), std::move(p));
  }
  v1::EraseDataResponse report;
  report.set_pseudonym(pseudonyms.of_operator());
  for (DataSection* section : sections_) {
    UTM_RETURN_IF_ERROR(section->Erase(operator_id, pseudonyms, &report));
  }
  // Deleted records stay in the store's log until it compacts.
  if (store_ != nullptr) UTM_RETURN_IF_ERROR(store_->Compact());
  // And the ledger's feed keeps the deleted records until it forgets the
  // entries up to the sections' last deletion (or a later entry).
  if (ledger_ != nullptr) {
    UTM_ASSIGN_OR_RETURN(ledger::Position latest, ledger_->Latest());
    UTM_RETURN_IF_ERROR(ledger_->ForgetHistory(latest));
  }
  return report;
}

}  // namespace utm::fleet
