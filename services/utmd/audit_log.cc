#include "services/utmd/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace utm::utmd {
namespace {

absl::Status Refused(absl::string_view why) {
  return absl::UnavailableError(absl::StrCat(
      "the audit log cannot be written (", why,
      "); the owner is not disclosed until it can: retry"));
}

class FileAuditLog final : public AuditLog {
 public:
  explicit FileAuditLog(int fd) : fd_(fd) {}
  ~FileAuditLog() override { ::close(fd_); }
  FileAuditLog(const FileAuditLog&) = delete;
  FileAuditLog& operator=(const FileAuditLog&) = delete;

  absl::Status Record(const std::string& subject, const std::string& intent_id,
                      const std::string& owner) override {
    const std::string line =
        AuditLine(absl::Now(), subject, intent_id, owner) + "\n";
    absl::MutexLock lock(&mu_);
    for (size_t done = 0; done < line.size();) {
      const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const std::string why = n < 0 ? std::strerror(errno) : "wrote nothing";
        std::cerr << "utmd: audit: cannot write the audit log: " << why
                  << "; the disclosure is refused\n";
        return Refused(why);
      }
      done += static_cast<size_t>(n);
    }
    std::cerr << "utmd: audit: " << line;
    return absl::OkStatus();
  }

 private:
  absl::Mutex mu_;
  const int fd_;
};

class RedisAuditLog final : public AuditLog {
 public:
  RedisAuditLog(std::unique_ptr<redis::Client> client, std::string key)
      : client_(std::move(client)), key_(std::move(key)) {}

  absl::Status Record(const std::string& subject, const std::string& intent_id,
                      const std::string& owner) override {
    const std::string line = AuditLine(absl::Now(), subject, intent_id, owner);
    // A command whose connection failed may have run: then the line may be
    // there and the owner is still not disclosed, the safe way round.
    absl::StatusOr<redis::Reply> reply =
        client_->Command({"XADD", key_, "*", "line", line});
    if (!reply.ok() || reply->is_error()) {
      const std::string why = !reply.ok() ? std::string(reply.status().message())
                                          : reply->DebugString();
      std::cerr << "utmd: audit: cannot append to " << key_ << ": " << why
                << "; the disclosure is refused\n";
      return Refused(why);
    }
    std::cerr << "utmd: audit: " << line << "\n";
    return absl::OkStatus();
  }

 private:
  const std::unique_ptr<redis::Client> client_;  // thread-safe
  const std::string key_;
};

}  // namespace

std::string AuditLine(absl::Time at, const std::string& subject,
                      const std::string& intent_id, const std::string& owner) {
  return absl::StrCat(
      absl::FormatTime(absl::RFC3339_full, at, absl::UTCTimeZone()),
      " owner-disclosed subject=", absl::CHexEscape(subject),
      " intent=", absl::CHexEscape(intent_id),
      " owner=", absl::CHexEscape(owner));
}

absl::StatusOr<std::unique_ptr<AuditLog>> OpenFileAuditLog(
    const std::string& path) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  if (::fchmod(fd, 0600) != 0) {
    const int error = errno;
    ::close(fd);
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot make ", path, " mode 0600: ", std::strerror(error)));
  }
  return std::make_unique<FileAuditLog>(fd);
}

absl::StatusOr<std::unique_ptr<AuditLog>> OpenRedisAuditLog(
    redis::ClientOptions options, std::string key) {
  absl::StatusOr<std::unique_ptr<redis::Client>> client =
      redis::Client::Connect(std::move(options));
  if (!client.ok()) return client.status();
  return std::make_unique<RedisAuditLog>(*std::move(client), std::move(key));
}

}  // namespace utm::utmd
