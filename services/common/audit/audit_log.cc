#include "services/common/audit/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <iostream>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "geo/status_macros.h"
#include "services/common/log/log.h"
#include "services/common/scoped_fd.h"

namespace utm::audit {
namespace {

// The file a redaction writes before renaming it over the log.
constexpr char kRedactSuffix[] = ".redact-tmp";

void SyncDirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos
                              ? std::string(".")
                              : (slash == 0 ? "/" : path.substr(0, slash));
  ScopedFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() >= 0) ::fsync(fd.get());
}

absl::Status Refused(absl::string_view why) {
  return absl::UnavailableError(
      absl::StrCat("the audit log cannot be written (", why,
                   "); nothing is disclosed until it can: retry"));
}

// Writes all of `data` at the end of `fd` (O_APPEND).
absl::Status WriteAll(int fd, absl::string_view data) {
  for (size_t done = 0; done < data.size();) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::UnavailableError(n < 0 ? std::strerror(errno)
                                          : "wrote nothing");
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadAll(int fd, const std::string& path) {
  std::string content;
  char buffer[1 << 16];
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd, buffer, sizeof(buffer), at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
    }
    if (n == 0) return content;
    content.append(buffer, static_cast<size_t>(n));
    at += n;
  }
}

class FileAuditLog final : public AuditLog {
 public:
  FileAuditLog(int fd, std::string path, const Clock* clock, AuditHead head,
               std::vector<uint64_t> offsets, uint64_t size)
      : fd_(fd),
        path_(std::move(path)),
        clock_(clock),
        head_(std::move(head)),
        offsets_(std::move(offsets)),
        size_(size) {}
  ~FileAuditLog() override { ::close(fd_); }

  FileAuditLog(const FileAuditLog&) = delete;
  FileAuditLog& operator=(const FileAuditLog&) = delete;

  absl::Status Record(const AuditEvent& event) override {
    absl::MutexLock lock(&mu_);
    if (broken_) {
      return Refused(absl::StrCat(path_,
                                  " ends in a partial entry that could "
                                  "not be removed; restart utmd"));
    }
    const std::string line =
        FormatAuditEntry(head_.sequence + 1, clock_->Now(), event, head_.hash);
    if (line.size() > kMaxEntryBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the audit entry would be ", line.size(), " bytes, more than ",
          kMaxEntryBytes, "; nothing is disclosed"));
    }
    absl::Status written = WriteAll(fd_, absl::StrCat(line, "\n"));
    if (written.ok() && ::fdatasync(fd_) != 0) {
      written = absl::UnavailableError(
          absl::StrCat("fdatasync: ", std::strerror(errno)));
    }
    if (!written.ok()) {
      // Take back whatever part of the entry reached the file, so that the
      // next entry does not follow a partial line; if that fails too, no
      // further entry may be appended.
      if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) broken_ = true;
      UTM_LOG(kError) << "audit: cannot write " << path_ << ": "
                      << written.message() << "; the disclosure is refused";
      return Refused(written.message());
    }
    offsets_.push_back(size_);
    size_ += line.size() + 1;
    head_.sequence += 1;
    head_.hash = std::string(
        absl::string_view(line).substr(line.size() - kGenesisHash.size()));
    UTM_LOG(kInfo) << absl::StripPrefix(AuditEcho(line), "utmd: ");
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> Redact(const Replacements& replacements) override {
    absl::MutexLock lock(&mu_);
    if (broken_) return Refused(absl::StrCat(path_, " is broken; restart"));
    UTM_ASSIGN_OR_RETURN(std::string content, ReadAll(fd_, path_));
    if (!content.empty()) content.pop_back();  // the last line end
    std::vector<std::string> lines;
    if (!content.empty()) lines = absl::StrSplit(content, '\n');
    UTM_ASSIGN_OR_RETURN(RedactedLines redacted,
                         RedactLines(std::move(lines), replacements));
    if (redacted.changed == 0) return 0;
    std::string bytes;
    std::vector<uint64_t> offsets;
    for (const std::string& line : redacted.lines) {
      offsets.push_back(bytes.size());
      absl::StrAppend(&bytes, line, "\n");
    }
    // A new file beside the old one, synced, renamed over it, and the
    // directory synced: a crash leaves either file whole.
    const std::string temp = path_ + kRedactSuffix;
    ScopedFd out(
        ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (out.get() < 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot create ", temp, ": ", std::strerror(errno)));
    }
    absl::Status written = WriteAll(out.get(), bytes);
    if (written.ok() && ::fdatasync(out.get()) != 0) {
      written = absl::UnavailableError(
          absl::StrCat("fdatasync ", temp, ": ", std::strerror(errno)));
    }
    if (written.ok() && ::rename(temp.c_str(), path_.c_str()) != 0) {
      written = absl::UnavailableError(
          absl::StrCat("rename ", temp, ": ", std::strerror(errno)));
    }
    if (!written.ok()) {
      ::unlink(temp.c_str());
      return written;
    }
    SyncDirectoryOf(path_);
    ScopedFd reopened(::open(path_.c_str(), O_RDWR | O_APPEND | O_CLOEXEC));
    if (reopened.get() < 0) {
      // The redacted file is in place; appends need the new file.
      broken_ = true;
      return absl::UnavailableError(
          absl::StrCat("cannot reopen ", path_, ": ", std::strerror(errno)));
    }
    ::close(fd_);
    fd_ = reopened.release();
    offsets_ = std::move(offsets);
    size_ = bytes.size();
    return redacted.changed;
  }

  absl::StatusOr<AuditPage> Read(int64_t after_sequence, int limit) override {
    AuditPage page;
    std::string bytes;
    {
      absl::MutexLock lock(&mu_);
      page.head = head_;
      const int64_t first = std::max<int64_t>(after_sequence, 0);
      if (first >= head_.sequence || limit <= 0) return page;
      const int64_t end = std::min<int64_t>(first + limit, head_.sequence);
      const uint64_t from = offsets_[static_cast<size_t>(first)];
      const uint64_t to =
          end == head_.sequence ? size_ : offsets_[static_cast<size_t>(end)];
      bytes.resize(to - from);
      for (size_t done = 0; done < bytes.size();) {
        const ssize_t n = ::pread(fd_, bytes.data() + done, bytes.size() - done,
                                  static_cast<off_t>(from + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          return absl::UnavailableError(absl::StrCat(
              "cannot read ", path_, ": ",
              n < 0 ? std::strerror(errno) : "it is shorter than written"));
        }
        done += static_cast<size_t>(n);
      }
    }
    if (!bytes.empty()) bytes.pop_back();  // the last line end
    page.lines = absl::StrSplit(bytes, '\n');
    return page;
  }

 private:
  int fd_ ABSL_GUARDED_BY(mu_);
  const std::string path_;
  const Clock* const clock_;
  absl::Mutex mu_;
  AuditHead head_ ABSL_GUARDED_BY(mu_);
  // Where entry i+1 starts in the file.
  std::vector<uint64_t> offsets_ ABSL_GUARDED_BY(mu_);
  uint64_t size_ ABSL_GUARDED_BY(mu_);
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

absl::StatusOr<RedactedLines> RedactLines(
    std::vector<std::string> lines,
    const AuditLog::Replacements& replacements) {
  for (const auto& [id, pseudonym] : replacements) {
    if (id.empty()) return absl::InvalidArgumentError("id: empty");
  }
  RedactedLines out;
  for (std::string& line : lines) {
    bool changed = false;
    for (const auto& [id, pseudonym] : replacements) {
      absl::StatusOr<std::optional<std::string>> redacted =
          RedactAuditEntry(line, id, pseudonym);
      if (!redacted.ok()) {
        if (absl::IsFailedPrecondition(redacted.status())) {
          return redacted.status();
        }
        return absl::DataLossError(redacted.status().message());
      }
      if (redacted->has_value()) {
        line = **std::move(redacted);
        changed = true;
      }
    }
    if (changed) ++out.changed;
  }
  out.lines = std::move(lines);
  return out;
}

absl::StatusOr<std::vector<AuditEntry>> EntriesAbout(AuditLog& log,
                                                     const std::string& id,
                                                     size_t limit) {
  std::deque<AuditEntry> found;
  for (int64_t after = 0;;) {
    UTM_ASSIGN_OR_RETURN(AuditPage page, log.Read(after, 1000));
    if (page.lines.empty()) break;
    for (const std::string& line : page.lines) {
      absl::StatusOr<AuditEntry> entry = ParseAuditEntry(line);
      if (!entry.ok()) return absl::DataLossError(entry.status().message());
      after = entry->sequence;
      if (entry->event.about != id) continue;
      found.push_back(*std::move(entry));
      if (found.size() > limit) found.pop_front();
    }
  }
  return std::vector<AuditEntry>(std::make_move_iterator(found.begin()),
                                 std::make_move_iterator(found.end()));
}

AuditSink AuditLog::Sink() {
  return [this](const AuditEvent& event) { return Record(event); };
}

absl::StatusOr<std::unique_ptr<AuditLog>> OpenFileAuditLog(
    const std::string& path, const Clock* clock) {
  // What a redaction cut short by a crash left beside the log.
  ::unlink((path + kRedactSuffix).c_str());
  ScopedFd fd(
      ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  if (::fchmod(fd.get(), 0600) != 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot make ", path, " mode 0600: ", std::strerror(errno)));
  }
  absl::StatusOr<std::string> content = ReadAll(fd.get(), path);
  if (!content.ok()) return content.status();
  const auto refuse = [&](absl::string_view why) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": ", why,
        "; no entry is appended to a chain that does not verify (see "
        "\"The audit log\" in docs/operations.md)"));
  };
  std::vector<uint64_t> offsets;
  AuditVerifier verifier;
  size_t at = 0;
  while (at < content->size()) {
    const size_t end = content->find('\n', at);
    if (end == std::string::npos) {
      return refuse(absl::StrCat("audit entry ", verifier.head().sequence + 1,
                                 " (line ", verifier.count() + 1,
                                 "): incomplete, no line end"));
    }
    const absl::Status added =
        verifier.Add(absl::string_view(*content).substr(at, end - at));
    if (!added.ok()) return refuse(added.message());
    offsets.push_back(at);
    at = end + 1;
  }
  return std::make_unique<FileAuditLog>(fd.release(), path, clock,
                                        verifier.head(), std::move(offsets),
                                        content->size());
}

}  // namespace utm::audit
