// An exclusive, advisory lock on a directory, held for the life of a
// process: two processes must never share a data directory (both would
// accept the same airspace). flock(2) on `<dir>/LOCK`; the kernel releases it
// when the process dies, however it dies, so a crash never leaves a stale
// lock. The holder's pid is written into the file for the error message.
//
// Typical usage:
//   UTM_ASSIGN_OR_RETURN(DirLock lock, DirLock::Acquire(data_dir));
//   ... keep `lock` alive while using data_dir ...
#ifndef UTM_SERVICES_COMMON_DIR_LOCK_H_
#define UTM_SERVICES_COMMON_DIR_LOCK_H_

#include <string>

#include "absl/status/statusor.h"

namespace utm {

class DirLock {
 public:
  // Takes the lock on `dir` (which must exist). FAILED_PRECONDITION naming
  // the lock file and the holder's pid when another process (or another
  // DirLock in this one) holds it; UNAVAILABLE for I/O errors.
  static absl::StatusOr<DirLock> Acquire(const std::string& dir);

  DirLock(DirLock&& other) noexcept;
  DirLock& operator=(DirLock&& other) noexcept;
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  ~DirLock();  // Releases the lock.

  const std::string& path() const { return path_; }

 private:
  DirLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  int fd_ = -1;
  std::string path_;
};

}  // namespace utm

#endif  // UTM_SERVICES_COMMON_DIR_LOCK_H_
