// Closes a file descriptor on scope exit.
#ifndef UTM_SERVICES_COMMON_SCOPED_FD_H_
#define UTM_SERVICES_COMMON_SCOPED_FD_H_

#include <unistd.h>

namespace utm {

class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Hands the descriptor over to the caller, who closes it.
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Closes now, reporting the error close() may carry (e.g. a deferred write
  // error on NFS).
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

}  // namespace utm

#endif  // UTM_SERVICES_COMMON_SCOPED_FD_H_
