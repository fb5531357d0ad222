#include "services/common/dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace utm {

absl::StatusOr<DirLock> DirLock::Acquire(const std::string& dir) {
  std::string path = absl::StrCat(dir, "/LOCK");
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  // Each open() is its own open file description, so a second DirLock in
  // the same process conflicts too.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char holder[32] = {};
    const ssize_t n = ::pread(fd, holder, sizeof(holder) - 1, 0);
    ::close(fd);
    if (error != EWOULDBLOCK) {
      return absl::UnavailableError(
          absl::StrCat("cannot lock ", path, ": ", std::strerror(error)));
    }
    const std::string pid =
        n > 0 ? std::string(absl::StripAsciiWhitespace(holder)) : "unknown";
    return absl::FailedPreconditionError(absl::StrCat(
        dir, " is in use by another process (pid ", pid, " holds ", path,
        "); two servers must never share a data directory"));
  }
  const std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) !=
          static_cast<ssize_t>(pid.size())) {
    const absl::Status s = absl::UnavailableError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
    ::close(fd);
    return s;
  }
  return DirLock(fd, std::move(path));
}

DirLock::DirLock(DirLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

DirLock& DirLock::operator=(DirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor unlocks
}

}  // namespace utm
