#include "services/common/store_keys.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace utm::store {
namespace {

namespace fs = std::filesystem;

absl::Status ErrnoStatus(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// The first `n` bytes of a file (fewer if it is shorter).
absl::StatusOr<std::string> ReadHead(const std::string& path, size_t n) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path);
  std::string data(n, '\0');
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, &data[got], n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      const absl::Status s = ErrnoStatus("cannot read", path);
      ::close(fd);
      return s;
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  ::close(fd);
  data.resize(got);
  return data;
}

// The newest snapshot's generation among the files of `dir`, and whether
// there is one.
std::optional<uint64_t> NewestSnapshot(const std::string& dir) {
  std::optional<uint64_t> newest;
  std::error_code error;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, error)) {
    const std::string name = e.path().filename().string();
    uint64_t g;
    if (absl::StartsWith(name, "snapshot-") && !absl::EndsWith(name, ".tmp") &&
        absl::SimpleAtoi(absl::string_view(name).substr(9), &g) &&
        (!newest || g > *newest)) {
      newest = g;
    }
  }
  return newest;
}

}  // namespace

// Before the directory is locked or anything else happens: the files that
// recovery would read must all be covered by a key given. Reads only their
// headers, and changes nothing.
absl::Status CheckKeys(const StoreOptions& options, const KeyRing& keys) {
  std::error_code error;
  if (!fs::is_directory(options.dir, error)) return absl::OkStatus();
  const uint64_t generation = NewestSnapshot(options.dir).value_or(0);
  for (format::FileKind kind :
       {format::FileKind::kSnapshot, format::FileKind::kLog}) {
    const std::string path =
        (fs::path(options.dir) / format::FileName(kind, generation)).string();
    if (!fs::exists(path, error)) continue;
    absl::StatusOr<std::string> head =
        ReadHead(path, format::kEncryptedFileHeaderBytes);
    if (!head.ok()) return head.status();
    absl::StatusOr<crypto::Cipher*> cipher = keys.For(*head, kind, path);
    if (!cipher.ok()) return cipher.status();
  }
  return absl::OkStatus();
}

KeyRing::KeyRing(const StoreOptions& options) {
  if (!options.key.empty()) {
    key_ = std::make_unique<crypto::Cipher>(options.key);
  }
  if (options.old_key) {
    if (options.old_key->empty()) {
      old_plain_ = true;
    } else {
      old_ = std::make_unique<crypto::Cipher>(*options.old_key);
    }
  }
}

absl::StatusOr<crypto::Cipher*> KeyRing::For(absl::string_view head,
                                             format::FileKind kind,
                                             const std::string& path) const {
  const format::KeyInfo info = format::PeekKey(head, kind);
  if (info.plain && key_ != nullptr && !old_plain_) {
    return absl::FailedPreconditionError(
        absl::StrCat("store key: ", path,
                     " is not encrypted, but a store key is given "
                     "(",
                     Given(),
                     "). Nothing was changed. To encrypt this store, "
                     "start once with the key and --store-old-key none."));
  }
  if (!info.key_id) {
    // In the clear (format 2, or 1 which the caller checks), or a header
    // that is damaged or cut short, which the reader then reports.
    return info.plain ? nullptr : key_ != nullptr ? key_.get() : old_.get();
  }
  if (key_ != nullptr && *info.key_id == key_->key_id()) return key_.get();
  if (old_ != nullptr && *info.key_id == old_->key_id()) return old_.get();
  const std::string written = crypto::KeyIdHex(*info.key_id);
  if (key_ == nullptr && old_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "store key: ", path, " is encrypted with key ", written,
        " but no store key is given (--store-key). Nothing was changed."));
  }
  return absl::FailedPreconditionError(
      absl::StrCat("store key: the store was written with key ", written, " (",
                   path, ") but ", Given(), ". Nothing was changed."));
}

std::string KeyRing::Given() const {
  std::string given = key_ == nullptr
                          ? "no --store-key"
                          : absl::StrCat("--store-key gives ",
                                         crypto::KeyIdHex(key_->key_id()));
  if (old_ != nullptr) {
    absl::StrAppend(&given, " and --store-old-key ",
                    crypto::KeyIdHex(old_->key_id()));
  }
  return given;
}

}  // namespace utm::store
