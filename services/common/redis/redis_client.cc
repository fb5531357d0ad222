#include "services/common/redis/redis_client.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "geo/status_macros.h"
#include "services/common/metrics/metrics.h"

namespace utm::redis {
namespace {

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

// hiredis writes with write(2): a write to a connection the server has reset
// raises SIGPIPE, whose default action ends the process. Ignore it unless
// the program chose a disposition of its own.
void IgnoreSigpipeOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 &&
        current.sa_handler == SIG_DFL) {
      ::signal(SIGPIPE, SIG_IGN);
    }
  });
}

timeval HiredisTimeout(absl::Duration d) {
  // hiredis reads a zero timeval as "no timeout": never pass one.
  if (d < absl::Milliseconds(1)) d = absl::Milliseconds(1);
  return absl::ToTimeval(d);
}

// Why the last operation on `c` failed, in lower case, for
// "redis HOST:PORT: <reason>". `saved_errno` is errno right after the call.
std::string Reason(const redisContext* c, int saved_errno,
                   absl::Duration timeout) {
  const bool timed_out =
      c->err == REDIS_ERR_IO &&
      (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK ||
       saved_errno == ETIMEDOUT ||
       std::strcmp(c->errstr, std::strerror(EAGAIN)) == 0 ||
       std::strcmp(c->errstr, std::strerror(ETIMEDOUT)) == 0);
  if (timed_out) {
    return absl::StrCat("timed out after ", absl::FormatDuration(timeout));
  }
  if (c->err == REDIS_ERR_EOF) return "connection closed by the server";
  std::string reason = c->errstr[0] != '\0' ? c->errstr : "unknown error";
  reason[0] = absl::ascii_tolower(static_cast<unsigned char>(reason[0]));
  return reason;
}

Reply Convert(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) {
        out.elements.push_back(Convert(r->element[i]));
      }
      break;
    case REDIS_REPLY_NIL:
    default:
      out.type = Reply::Type::kNil;
      break;
  }
  return out;
}

// Opens a connection to host:port and sets its read/write timeout to
// `timeout` (the handshake that follows is part of connecting).
absl::StatusOr<ContextPtr> Open(const std::string& host, int port,
                                absl::Duration timeout) {
  const std::string address = JoinHostPort(host, port);
  errno = 0;
  ContextPtr c(
      redisConnectWithTimeout(host.c_str(), port, HiredisTimeout(timeout)));
  const int saved_errno = errno;
  if (c == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("redis ", address, ": out of memory"));
  }
  if (c->err != 0) {
    return absl::UnavailableError(absl::StrCat(
        "redis ", address, ": ", Reason(c.get(), saved_errno, timeout)));
  }
  if (redisSetTimeout(c.get(), HiredisTimeout(timeout)) != REDIS_OK) {
    return absl::UnavailableError(
        absl::StrCat("redis ", address, ": ", Reason(c.get(), errno, timeout)));
  }
  return c;
}

// Sends `commands` in one round trip and reads one reply for each. On a
// transport failure returns UNAVAILABLE naming `address`; the context is
// then unusable.
absl::StatusOr<std::vector<Reply>> Exchange(
    redisContext* c, const std::string& address,
    const std::vector<std::vector<std::string>>& commands,
    absl::Duration timeout) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const std::vector<std::string>& command : commands) {
    argv.clear();
    lengths.clear();
    for (const std::string& arg : command) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    if (redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(),
                               lengths.data()) != REDIS_OK) {
      return absl::UnavailableError(
          absl::StrCat("redis ", address, ": ", Reason(c, errno, timeout)));
    }
  }
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    errno = 0;
    if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) {
      const int saved_errno = errno;
      return absl::UnavailableError(absl::StrCat(
          "redis ", address, ": ", Reason(c, saved_errno, timeout)));
    }
    replies.push_back(Convert(static_cast<const redisReply*>(raw)));
    freeReplyObject(raw);
  }
  return replies;
}

absl::Status CheckTimeout(absl::Duration d, absl::string_view field) {
  if (d <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": must be positive, got ", absl::FormatDuration(d)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(ClientOptions options) {
  UTM_RETURN_IF_ERROR(CheckTimeout(options.connect_timeout, "connect_timeout"));
  UTM_RETURN_IF_ERROR(CheckTimeout(options.command_timeout, "command_timeout"));
  if (options.sentinels.empty()) {
    UTM_RETURN_IF_ERROR(ParseHostPort(options.addr, "addr").status());
  } else {
    for (size_t i = 0; i < options.sentinels.size(); ++i) {
      UTM_RETURN_IF_ERROR(ParseHostPort(options.sentinels[i],
                                        absl::StrCat("sentinels[", i, "]"))
                              .status());
    }
    if (options.master_name.empty()) {
      return absl::InvalidArgumentError(
          "master_name: must not be empty when sentinels are set");
    }
  }
  IgnoreSigpipeOnce();
  std::unique_ptr<Client> client(new Client(std::move(options)));
  absl::MutexLock lock(&client->mu_);
  UTM_RETURN_IF_ERROR(client->ConnectLocked());
  return client;
}

Client::Client(ClientOptions options) : options_(std::move(options)) {
  if (options_.sentinels.empty()) address_ = options_.addr;
}

Client::~Client() {
  absl::MutexLock lock(&mu_);
  DropLocked();
}

absl::Status Client::ConnectLocked() {
  DropLocked();
  const absl::Duration timeout = options_.connect_timeout;
  // AUTH (when configured) and, behind Sentinel, ROLE: one round trip.
  std::vector<std::vector<std::string>> handshake;
  if (!options_.password.empty()) {
    if (options_.username.empty()) {
      handshake.push_back({"AUTH", options_.password});
    } else {
      handshake.push_back({"AUTH", options_.username, options_.password});
    }
  }
  const bool check_role = !options_.sentinels.empty();
  if (check_role) handshake.push_back({"ROLE"});

  // Connects to one primary candidate; sets context_ on success.
  auto open_primary = [&](const std::string& host, int port)
                          ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    const std::string address = JoinHostPort(host, port);
    address_ = address;
    UTM_ASSIGN_OR_RETURN(ContextPtr c, Open(host, port, timeout));
    if (!handshake.empty()) {
      UTM_ASSIGN_OR_RETURN(std::vector<Reply> replies,
                           Exchange(c.get(), address, handshake, timeout));
      size_t next = 0;
      if (!options_.password.empty()) {
        const Reply& auth = replies[next++];
        if (auth.is_error()) {
          return absl::UnauthenticatedError(absl::StrCat(
              "redis ", address, ": AUTH refused for user \"",
              options_.username.empty() ? "default" : options_.username,
              "\": ", auth.DebugString()));
        }
      }
      if (check_role) {
        const Reply& role = replies[next++];
        if (role.is_error()) {
          if (absl::StartsWith(role.str, "NOPERM")) {
            return absl::PermissionDeniedError(absl::StrCat(
                "redis ", address, ": ACL user \"",
                options_.username.empty() ? "default" : options_.username,
                "\" may not run ROLE: ", role.DebugString()));
          }
          return absl::UnavailableError(absl::StrCat(
              "redis ", address, ": ROLE failed: ", role.DebugString()));
        }
        if (role.type != Reply::Type::kArray || role.elements.empty() ||
            role.elements[0].str != "master") {
          return absl::UnavailableError(absl::StrCat("redis ", address,
                                                     ": not the primary (ROLE ",
                                                     role.DebugString(), ")"));
        }
      }
    }
    context_ = c.release();
    socket_timeout_ = timeout;
    return absl::OkStatus();
  };

  if (options_.sentinels.empty()) {
    UTM_ASSIGN_OR_RETURN(auto host_port, ParseHostPort(options_.addr, "addr"));
    return open_primary(host_port.first, host_port.second);
  }

  std::vector<std::string> failures;
  for (const std::string& sentinel : options_.sentinels) {
    UTM_ASSIGN_OR_RETURN(auto host_port, ParseHostPort(sentinel, "sentinels"));
    absl::StatusOr<ContextPtr> s =
        Open(host_port.first, host_port.second, timeout);
    if (!s.ok()) {
      failures.push_back(std::string(s.status().message()));
      continue;
    }
    std::vector<std::vector<std::string>> query;
    if (!options_.sentinel_password.empty()) {
      query.push_back({"AUTH", options_.sentinel_password});
    }
    query.push_back(
        {"SENTINEL", "get-master-addr-by-name", options_.master_name});
    absl::StatusOr<std::vector<Reply>> answer =
        Exchange(s->get(), sentinel, query, timeout);
    if (!answer.ok()) {
      failures.push_back(std::string(answer.status().message()));
      continue;
    }
    if (!options_.sentinel_password.empty() && answer->front().is_error()) {
      failures.push_back(absl::StrCat("sentinel ", sentinel, ": AUTH refused: ",
                                      answer->front().DebugString()));
      continue;
    }
    const Reply& where = answer->back();
    int port = 0;
    if (where.type != Reply::Type::kArray || where.elements.size() != 2 ||
        where.elements[0].type != Reply::Type::kString ||
        !absl::SimpleAtoi(where.elements[1].str, &port)) {
      failures.push_back(
          absl::StrCat("sentinel ", sentinel, " knows no primary named \"",
                       options_.master_name, "\": ", where.DebugString()));
      continue;
    }
    absl::Status primary = open_primary(where.elements[0].str, port);
    if (primary.ok()) return primary;
    // Credentials and permissions are the same whichever sentinel names the
    // primary: asking the next one would only repeat the refusal.
    if (absl::IsUnauthenticated(primary) || absl::IsPermissionDenied(primary)) {
      return primary;
    }
    failures.push_back(
        absl::StrCat("sentinel ", sentinel, " named ", primary.message()));
  }
  return absl::UnavailableError(absl::StrCat(
      "redis: no primary for master \"", options_.master_name,
      "\" through sentinels ", absl::StrJoin(options_.sentinels, ", "), ": ",
      absl::StrJoin(failures, "; ")));
}

void Client::DropLocked() {
  if (context_ != nullptr) {
    redisFree(context_);
    context_ = nullptr;
  }
  socket_timeout_ = absl::ZeroDuration();
}

absl::Status Client::SetTimeoutLocked(absl::Duration timeout) {
  if (timeout == socket_timeout_) return absl::OkStatus();
  if (redisSetTimeout(context_, HiredisTimeout(timeout)) != REDIS_OK) {
    return FailLocked(timeout);
  }
  socket_timeout_ = timeout;
  return absl::OkStatus();
}

absl::Status Client::FailLocked(absl::Duration timeout) {
  const int saved_errno = errno;
  absl::Status status = absl::UnavailableError(absl::StrCat(
      "redis ", address_, ": ", Reason(context_, saved_errno, timeout)));
  DropLocked();
  return status;
}

absl::StatusOr<std::vector<Reply>> Client::RoundTripLocked(
    const std::vector<std::vector<std::string>>& commands,
    absl::Duration timeout) {
  if (context_ == nullptr) UTM_RETURN_IF_ERROR(ConnectLocked());
  UTM_RETURN_IF_ERROR(SetTimeoutLocked(timeout));
  round_trips_.fetch_add(1);
  const absl::Time start = absl::Now();
  absl::StatusOr<std::vector<Reply>> replies =
      Exchange(context_, address_, commands, timeout);
  if (options_.round_trip_seconds != nullptr) {
    options_.round_trip_seconds->Observe(
        absl::ToDoubleSeconds(absl::Now() - start));
  }
  if (!replies.ok()) {
    DropLocked();
    return replies;
  }
  for (const Reply& r : *replies) {
    // A demoted primary answers writes with READONLY: find the new one on
    // the next call.
    if (r.is_error() && absl::StartsWith(r.str, "READONLY")) {
      DropLocked();
      break;
    }
  }
  return replies;
}

absl::StatusOr<Reply> Client::Command(const std::vector<std::string>& argv) {
  return Command(argv, options_.command_timeout);
}

absl::StatusOr<Reply> Client::Command(const std::vector<std::string>& argv,
                                      absl::Duration timeout) {
  if (argv.empty()) return absl::InvalidArgumentError("argv: empty command");
  UTM_RETURN_IF_ERROR(CheckTimeout(timeout, "timeout"));
  absl::MutexLock lock(&mu_);
  UTM_ASSIGN_OR_RETURN(std::vector<Reply> replies,
                       RoundTripLocked({argv}, timeout));
  return std::move(replies.front());
}

absl::StatusOr<std::vector<Reply>> Client::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  for (size_t i = 0; i < commands.size(); ++i) {
    if (commands[i].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("commands[", i, "]: empty command"));
    }
  }
  if (commands.empty()) return std::vector<Reply>();
  absl::MutexLock lock(&mu_);
  return RoundTripLocked(commands, options_.command_timeout);
}

std::string Client::address() const {
  absl::MutexLock lock(&mu_);
  return address_;
}

bool Client::connected() const {
  absl::MutexLock lock(&mu_);
  return context_ != nullptr;
}

absl::Status Client::EnsureConnected() {
  absl::MutexLock lock(&mu_);
  if (context_ != nullptr) return absl::OkStatus();
  return ConnectLocked();
}

absl::StatusOr<std::vector<Reply>> PipelineRetryingOnce(
    const ClientOptions& options, std::unique_ptr<Client>* client,
    const std::vector<std::vector<std::string>>& commands) {
  const bool fresh = *client == nullptr;
  if (fresh) {
    absl::StatusOr<std::unique_ptr<Client>> c = Client::Connect(options);
    if (!c.ok()) return c.status();
    *client = *std::move(c);
  }
  absl::StatusOr<std::vector<Reply>> replies = (*client)->Pipeline(commands);
  // A connection Redis closed fails once and reconnects on the next call.
  if (!replies.ok() && !fresh) replies = (*client)->Pipeline(commands);
  return replies;
}

}  // namespace utm::redis
