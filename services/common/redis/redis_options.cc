// The parts of redis_client.h that need no connection: replies as text,
// addresses and password files.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/redis/redis_client.h"
#include "services/common/scoped_fd.h"

namespace utm::redis {
namespace {

constexpr size_t kDebugStringBudget = 200;
constexpr size_t kQuotePrefix = 64;
constexpr size_t kMaxPasswordFileBytes = 4096;

// `s` in double quotes, escaped, at most kQuotePrefix bytes of it.
std::string Quote(absl::string_view s) {
  if (s.size() <= kQuotePrefix) return absl::StrCat("\"", absl::CHexEscape(s), "\"");
  return absl::StrCat("\"", absl::CHexEscape(s.substr(0, kQuotePrefix)),
                      "...\" (", s.size(), " bytes)");
}

void AppendDebug(const Reply& r, std::string* out) {
  if (out->size() >= kDebugStringBudget) return;
  switch (r.type) {
    case Reply::Type::kNil:
      out->append("nil");
      break;
    case Reply::Type::kInteger:
      absl::StrAppend(out, r.integer);
      break;
    case Reply::Type::kString:
      out->append(Quote(r.str));
      break;
    case Reply::Type::kStatus:
      absl::StrAppend(out, "status ", Quote(r.str));
      break;
    case Reply::Type::kError:
      absl::StrAppend(out, "error ", Quote(r.str));
      break;
    case Reply::Type::kArray:
      absl::StrAppend(out, "[");
      for (size_t i = 0; i < r.elements.size(); ++i) {
        if (out->size() >= kDebugStringBudget) {
          absl::StrAppend(out, "... ", r.elements.size() - i, " more");
          break;
        }
        if (i > 0) out->append(", ");
        AppendDebug(r.elements[i], out);
      }
      out->append("]");
      break;
  }
}

bool IsHostByte(char c, bool bracketed) {
  if (absl::ascii_isalnum(static_cast<unsigned char>(c))) return true;
  if (c == '.' || c == '-' || c == '_') return true;
  return bracketed && (c == ':' || c == '%');
}

}  // namespace

std::string Reply::DebugString() const {
  std::string out;
  AppendDebug(*this, &out);
  return out;
}

absl::StatusOr<std::pair<std::string, int>> ParseHostPort(
    absl::string_view s, absl::string_view field) {
  auto error = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " ", Quote(s), ": ", why));
  };
  if (s.empty()) return error("empty, expected host:port");
  absl::string_view host;
  absl::string_view port_text;
  const bool bracketed = s.front() == '[';
  if (bracketed) {
    const size_t close = s.find(']');
    if (close == absl::string_view::npos) return error("'[' without ']'");
    host = s.substr(1, close - 1);
    absl::string_view rest = s.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      return error("expected :port after ']'");
    }
    port_text = rest.substr(1);
  } else {
    const size_t colon = s.find(':');
    if (colon == absl::string_view::npos) return error("missing :port");
    if (s.find(':', colon + 1) != absl::string_view::npos) {
      return error("an IPv6 address needs brackets, as in [::1]:6379");
    }
    host = s.substr(0, colon);
    port_text = s.substr(colon + 1);
  }
  if (host.empty()) return error("empty host");
  for (size_t i = 0; i < host.size(); ++i) {
    if (!IsHostByte(host[i], bracketed)) {
      return error(absl::StrCat("invalid byte in host at offset ", i));
    }
  }
  int port = 0;
  if (port_text.empty() || port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(),
                   [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); }) ||
      !absl::SimpleAtoi(port_text, &port)) {
    return error("port is not a number");
  }
  if (port < 1 || port > 65535) return error("port must be 1 to 65535");
  return std::make_pair(std::string(host), port);
}

std::string JoinHostPort(absl::string_view host, int port) {
  if (host.find(':') != absl::string_view::npos) {
    return absl::StrCat("[", host, "]:", port);
  }
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<std::string> ReadPasswordFile(const std::string& path) {
  if (path.empty()) {
    return absl::InvalidArgumentError("password file: the path is empty");
  }
  const std::string where = absl::StrCat("password file ", Quote(path), ": ");
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int e = errno;
    const std::string message = absl::StrCat(where, std::strerror(e));
    if (e == ENOENT || e == ENOTDIR) return absl::NotFoundError(message);
    if (e == EACCES || e == EPERM) return absl::PermissionDeniedError(message);
    return absl::FailedPreconditionError(message);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(where, "is a directory"));
  }
  std::string content;
  char buffer[1024];
  while (content.size() <= kMaxPasswordFileBytes) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::FailedPreconditionError(
          absl::StrCat(where, std::strerror(errno)));
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  if (content.size() > kMaxPasswordFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, "larger than ", kMaxPasswordFileBytes, " bytes"));
  }
  std::string password = content.substr(0, content.find('\n'));
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, "the first line (the password) is empty"));
  }
  return password;
}

}  // namespace utm::redis
