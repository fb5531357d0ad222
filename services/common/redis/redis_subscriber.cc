#include "services/common/redis/redis_subscriber.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "geo/status_macros.h"

namespace utm::redis {
namespace {

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

timeval Timeval(absl::Duration d) {
  // hiredis reads a zero timeval as "no timeout".
  return absl::ToTimeval(std::max(d, absl::Milliseconds(1)));
}

absl::Status Failed(const std::string& address, const redisContext* c,
                    absl::string_view doing) {
  const char* why = c->err == REDIS_ERR_EOF ? "connection closed by the server"
                                             : c->errstr;
  return absl::UnavailableError(
      absl::StrCat("redis ", address, ": ", doing, ": ", why));
}

// Writes what hiredis has buffered (the socket is blocking, with a timeout).
absl::Status Flush(redisContext* c, const std::string& address) {
  int done = 0;
  while (!done) {
    if (redisBufferWrite(c, &done) != REDIS_OK) {
      return Failed(address, c, "write");
    }
  }
  return absl::OkStatus();
}

absl::string_view Str(const redisReply* r) {
  return r->str == nullptr ? absl::string_view()
                           : absl::string_view(r->str, r->len);
}

}  // namespace

Subscriber::Subscriber(SubscriberOptions options, Handler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {}

Subscriber::~Subscriber() { Stop(); }

absl::Status Subscriber::Start() {
  if (options_.channels.empty()) {
    return absl::InvalidArgumentError("channels: at least one is required");
  }
  for (size_t i = 0; i < options_.channels.size(); ++i) {
    if (options_.channels[i].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("channels[", i, "]: empty"));
    }
  }
  if (options_.poll_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("poll_interval: must be positive");
  }
  if (options_.dead_after <= options_.ping_interval ||
      options_.ping_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "dead_after: must be longer than ping_interval, which must be "
        "positive");
  }
  if (options_.reconnect_min <= absl::ZeroDuration() ||
      options_.reconnect_max < options_.reconnect_min) {
    return absl::InvalidArgumentError(
        "reconnect_min: must be positive and at most reconnect_max");
  }
  if (options_.client.sentinels.empty()) {
    UTM_RETURN_IF_ERROR(ParseHostPort(options_.client.addr, "addr").status());
  }
  if (started_.exchange(true)) {
    return absl::FailedPreconditionError("subscriber already started");
  }
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void Subscriber::Stop() {
  if (stop_.exchange(true)) return;
  stopped_.Notify();
  if (thread_.joinable()) thread_.join();
  subscribed_ = false;
}

bool Subscriber::WaitSubscribed(absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  while (!subscribed_.load()) {
    if (absl::Now() >= deadline || stop_.load()) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

std::string Subscriber::last_error() const {
  absl::MutexLock lock(&mu_);
  return last_error_;
}

void Subscriber::Run() {
  absl::Duration backoff = options_.reconnect_min;
  while (!stop_.load()) {
    const int64_t before = subscriptions_.load();
    absl::Status s = Session();
    subscribed_ = false;
    if (stop_.load()) break;
    {
      absl::MutexLock lock(&mu_);
      last_error_ = std::string(s.message());
    }
    // A session that got as far as subscribing starts the backoff again.
    if (subscriptions_.load() != before) backoff = options_.reconnect_min;
    if (stopped_.WaitForNotificationWithTimeout(backoff)) break;
    backoff = std::min(backoff * 2, options_.reconnect_max);
  }
}

absl::Status Subscriber::Session() {
  const ClientOptions& co = options_.client;
  std::string address = co.addr;
  if (!co.sentinels.empty()) {
    // The primary, as a Client finds it (asking each sentinel, checking
    // ROLE); its connection is not kept.
    UTM_ASSIGN_OR_RETURN(std::unique_ptr<Client> probe, Client::Connect(co));
    address = probe->address();
  }
  UTM_ASSIGN_OR_RETURN(auto host_port, ParseHostPort(address, "addr"));
  // The client layer ignores SIGPIPE once (hiredis writes with write(2));
  // make sure that happened even if no Client connected in this process.
  {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 &&
        current.sa_handler == SIG_DFL) {
      ::signal(SIGPIPE, SIG_IGN);
    }
  }
  ContextPtr c(redisConnectWithTimeout(host_port.first.c_str(),
                                       host_port.second,
                                       Timeval(co.connect_timeout)));
  if (c == nullptr) {
    return absl::UnavailableError(absl::StrCat("redis ", address, ": no memory"));
  }
  if (c->err != 0) return Failed(address, c.get(), "connect");
  if (redisSetTimeout(c.get(), Timeval(co.connect_timeout)) != REDIS_OK) {
    return Failed(address, c.get(), "set timeout");
  }
  if (!co.password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!co.username.empty()) auth.push_back(co.username);
    auth.push_back(co.password);
    std::vector<const char*> argv;
    std::vector<size_t> len;
    for (const std::string& a : auth) {
      argv.push_back(a.data());
      len.push_back(a.size());
    }
    ReplyPtr r(static_cast<redisReply*>(redisCommandArgv(
        c.get(), static_cast<int>(argv.size()), argv.data(), len.data())));
    if (r == nullptr) return Failed(address, c.get(), "AUTH");
    if (r->type == REDIS_REPLY_ERROR) {
      return absl::UnauthenticatedError(
          absl::StrCat("redis ", address, ": AUTH refused: ", Str(r.get())));
    }
  }
  {
    std::vector<const char*> argv = {"SUBSCRIBE"};
    std::vector<size_t> len = {9};
    for (const std::string& ch : options_.channels) {
      argv.push_back(ch.data());
      len.push_back(ch.size());
    }
    if (redisAppendCommandArgv(c.get(), static_cast<int>(argv.size()),
                               argv.data(), len.data()) != REDIS_OK) {
      return Failed(address, c.get(), "SUBSCRIBE");
    }
    UTM_RETURN_IF_ERROR(Flush(c.get(), address));
  }

  size_t confirmed = 0;
  bool ping_out = false;
  absl::Time last_rx = absl::Now();
  const int poll_ms = static_cast<int>(
      std::max<int64_t>(1, absl::ToInt64Milliseconds(options_.poll_interval)));
  while (!stop_.load()) {
    // Everything already read, one reply at a time.
    for (;;) {
      void* raw = nullptr;
      if (redisGetReplyFromReader(c.get(), &raw) != REDIS_OK) {
        return Failed(address, c.get(), "protocol");
      }
      if (raw == nullptr) break;
      ReplyPtr r(static_cast<redisReply*>(raw));
      last_rx = absl::Now();
      if (r->type == REDIS_REPLY_ERROR) {
        return absl::UnavailableError(
            absl::StrCat("redis ", address, ": ", Str(r.get())));
      }
      if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
          r->element[0]->type != REDIS_REPLY_STRING) {
        continue;
      }
      const absl::string_view kind = Str(r->element[0]);
      if (kind == "message" && r->elements == 3) {
        ++messages_;
        handler_(Str(r->element[1]), Str(r->element[2]));
      } else if (kind == "subscribe") {
        if (++confirmed == options_.channels.size()) {
          subscribed_ = true;
          ++subscriptions_;
        }
      } else if (kind == "pong") {
        ping_out = false;
      }
    }
    const absl::Time now = absl::Now();
    if (now - last_rx > options_.dead_after) {
      return absl::UnavailableError(absl::StrCat(
          "redis ", address, ": no answer for ",
          absl::FormatDuration(options_.dead_after)));
    }
    if (!ping_out && now - last_rx > options_.ping_interval) {
      const char* ping[] = {"PING"};
      const size_t ping_len[] = {4};
      if (redisAppendCommandArgv(c.get(), 1, ping, ping_len) != REDIS_OK) {
        return Failed(address, c.get(), "PING");
      }
      UTM_RETURN_IF_ERROR(Flush(c.get(), address));
      ping_out = true;
    }
    pollfd p{};
    p.fd = c->fd;
    p.events = POLLIN;
    const int n = ::poll(&p, 1, poll_ms);
    if (n < 0 && errno != EINTR) {
      return absl::UnavailableError(
          absl::StrCat("redis ", address, ": poll: ", std::strerror(errno)));
    }
    if (n > 0 && redisBufferRead(c.get()) != REDIS_OK) {
      return Failed(address, c.get(), "read");
    }
  }
  return absl::OkStatus();
}

}  // namespace utm::redis
