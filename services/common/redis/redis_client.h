// A small, synchronous Redis client (RESP2) over hiredis 0.14, with
// reconnection, Sentinel discovery of the primary, and a connection pool.
//
// A Client is one TCP connection to the Redis primary. Every call is bounded
// by the configured timeouts: a dead, stopped or unreachable server gives
// UNAVAILABLE, never a hang. After a connection failure the connection is
// dropped and the next call makes one new attempt (re-resolving the primary
// through Sentinel when sentinels are configured), so a caller that retries
// on UNAVAILABLE follows a restart or a failover by itself. A command whose
// connection failed is never resent: it may or may not have run, and only
// the caller knows whether running it twice is safe.
//
// Redis error replies ("-ERR ...", "-WRONGTYPE ...") are data, not failures
// of the transport: they come back as a Reply of type kError. A "-READONLY"
// reply (the server was demoted to a replica by a failover) also drops the
// connection, so that the next call finds the new primary.
//
// hiredis 0.14 writes with write(2), which raises SIGPIPE on a connection
// the peer has reset; the first Connect() therefore sets SIGPIPE to SIG_IGN
// when it is still at its default (which kills the process).
//
// This header and redis_client.cc are the only files that use hiredis; it
// speaks RESP2 and has no TLS (see docs/operations.md, "Redis connection"),
// and reads arrays nested at most 8 deep, the outermost included: a deeper
// reply (a Lua table returned by a script or function) is a protocol error,
// reported as UNAVAILABLE.
//
// Typical usage:
//   ClientOptions options;
//   options.addr = "127.0.0.1:6379";
//   UTM_ASSIGN_OR_RETURN(options.password, ReadPasswordFile(path));
//   UTM_ASSIGN_OR_RETURN(std::unique_ptr<Client> client,
//                        Client::Connect(options));
//   UTM_ASSIGN_OR_RETURN(Reply r, client->Command({"INCR", "counter"}));
//   if (r.is_error()) return absl::InternalError(r.DebugString());
#ifndef UTM_SERVICES_COMMON_REDIS_REDIS_CLIENT_H_
#define UTM_SERVICES_COMMON_REDIS_REDIS_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

struct redisContext;  // hiredis; only redis_client.cc sees its definition.

namespace utm::metrics {
class Histogram;
}  // namespace utm::metrics

namespace utm::redis {

// A reply copied out of hiredis (RESP2). Owns its data.
struct Reply {
  enum class Type { kNil, kInteger, kString, kStatus, kError, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;          // kInteger
  std::string str;              // kString, kStatus, kError
  std::vector<Reply> elements;  // kArray

  bool is_error() const { return type == Type::kError; }
  bool is_nil() const { return type == Type::kNil; }
  // For error messages: the type and the value, non-printable bytes escaped,
  // at most about 200 characters however large the reply.
  std::string DebugString() const;
};

struct ClientOptions {
  // "host:port", "[v6]:port" or "hostname:port" of the Redis primary.
  // Ignored when `sentinels` is set.
  std::string addr;
  // ACL user. DEFAULT: empty, AUTH with the password only (user "default").
  std::string username;
  // DEFAULT: empty, no AUTH.
  std::string password;
  // "host:port" of each Sentinel. When non-empty, the primary is found with
  // SENTINEL get-master-addr-by-name `master_name`, asking each in turn.
  std::vector<std::string> sentinels;
  // The Sentinel master name. DEFAULT: "utm".
  std::string master_name = "utm";
  // AUTH for the sentinels themselves. DEFAULT: empty, no AUTH.
  std::string sentinel_password;
  // Bounds each attempt to connect: the TCP connect and the handshake (AUTH,
  // the Sentinel query, ROLE). REQUIRES: positive. DEFAULT: 500 ms.
  absl::Duration connect_timeout = absl::Milliseconds(500);
  // Bounds each read and write of a command. REQUIRES: positive.
  // DEFAULT: 2 s.
  absl::Duration command_timeout = absl::Seconds(2);
  // Every round trip of a Client made with these options (commands sent,
  // replies read), in seconds, for metrics. Not owned; must outlive the
  // clients. DEFAULT: none.
  metrics::Histogram* round_trip_seconds = nullptr;
};

// Parses "host:port", "[v6]:port" or "hostname:port" (port 1..65535).
// INVALID_ARGUMENT naming `field` and quoting (a bounded prefix of) `s` when
// it is malformed, e.g. `addr "::1:6379": an IPv6 address needs brackets`.
absl::StatusOr<std::pair<std::string, int>> ParseHostPort(
    absl::string_view s, absl::string_view field);

// Formats a host and port as ParseHostPort accepts it (brackets for IPv6).
std::string JoinHostPort(absl::string_view host, int port);

// Reads a password file: its first line, without the trailing "\n" or
// "\r\n". NOT_FOUND / PERMISSION_DENIED / FAILED_PRECONDITION (a directory)
// naming the path; INVALID_ARGUMENT when the password is empty or the file
// is larger than 4 KiB.
absl::StatusOr<std::string> ReadPasswordFile(const std::string& path);

class Client;

// Runs `commands` in one round trip on `*client`, connecting it first when
// it is null; when an open connection fails (a restart closed it), tries
// once more on a new one. Only for commands that are safe to run twice
// (a PUBLISH of data its subscribers apply idempotently). Errors as
// Client::Pipeline.
absl::StatusOr<std::vector<Reply>> PipelineRetryingOnce(
    const ClientOptions& options, std::unique_ptr<Client>* client,
    const std::vector<std::vector<std::string>>& commands);

// One connection to the Redis primary. Thread-safe: an internal mutex
// serialises commands (use a Pool for parallelism).
class Client {
 public:
  // Connects (through Sentinel when configured: asks each sentinel in turn,
  // then checks that ROLE of the address it names is "master") and AUTHs.
  // INVALID_ARGUMENT naming the option for a malformed address or timeout;
  // UNAVAILABLE naming the address when it cannot connect within
  // connect_timeout; UNAUTHENTICATED when AUTH is refused (wrong user or
  // password); PERMISSION_DENIED when the ACL user may not run a command the
  // handshake needs (ROLE).
  static absl::StatusOr<std::unique_ptr<Client>> Connect(ClientOptions options);

  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends one command (binary-safe arguments) and returns its reply; an
  // error reply is a Reply of type kError, not a Status. UNAVAILABLE naming
  // the address on a connection failure or when no reply came within the
  // timeout ("redis 127.0.0.1:6379: timed out after 2s"); the connection is
  // then dropped, and the next call reconnects (one attempt, bounded by
  // connect_timeout). INVALID_ARGUMENT for an empty argv or a timeout that is
  // not positive. The overload with `timeout` replaces command_timeout for
  // this call (XREAD BLOCK needs longer).
  absl::StatusOr<Reply> Command(const std::vector<std::string>& argv);
  absl::StatusOr<Reply> Command(const std::vector<std::string>& argv,
                                absl::Duration timeout);

  // Sends several commands in one round trip; one Reply per command, in
  // order. Errors as Command(); on UNAVAILABLE, any prefix of the commands
  // may have run.
  absl::StatusOr<std::vector<Reply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands);

  // The primary's "host:port" in use (or last used, while disconnected).
  std::string address() const;
  // Commands and pipelines sent since Connect (each counts one), for
  // benchmarks.
  int64_t round_trips() const { return round_trips_.load(); }
  // True when a connection is open (it may still turn out to be dead).
  bool connected() const;
  // Opens a connection now when there is none (one attempt); OK when one is
  // open. Errors as Connect().
  absl::Status EnsureConnected();

 private:
  explicit Client(ClientOptions options);

  absl::Status ConnectLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status SetTimeoutLocked(absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // UNAVAILABLE for the context's error, naming the address; drops it.
  absl::Status FailLocked(absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::vector<Reply>> RoundTripLocked(
      const std::vector<std::vector<std::string>>& commands,
      absl::Duration timeout) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ClientOptions options_;
  mutable absl::Mutex mu_;
  redisContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::string address_ ABSL_GUARDED_BY(mu_);
  absl::Duration socket_timeout_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  std::atomic<int64_t> round_trips_{0};
};

// A small pool of Clients: Acquire() hands out a connection for exclusive
// use, creating one when none is idle, up to `max_size`; beyond that it
// waits for a Lease to be returned, at most `acquire_timeout`. Thread-safe.
// The Pool must outlive its Leases.
class Pool {
 public:
  // REQUIRES: max_size >= 1.
  explicit Pool(ClientOptions options, int max_size = 8,
                absl::Duration acquire_timeout = absl::Seconds(5));
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Exclusive use of one Client; returns it to the pool when destroyed.
  // Movable, not copyable.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();
    Client* operator->() { return client_; }
    Client& operator*() { return *client_; }

   private:
    friend class Pool;
    Lease(Pool* pool, Client* client) : pool_(pool), client_(client) {}
    void Return();
    Pool* pool_ = nullptr;
    Client* client_ = nullptr;
  };

  // A connected Client (an idle one reconnects first if it lost its
  // connection). UNAVAILABLE when Redis is down (bounded by
  // connect_timeout); RESOURCE_EXHAUSTED when all max_size are leased for
  // longer than acquire_timeout.
  absl::StatusOr<Lease> Acquire();

  // Sum of round_trips() over its clients.
  int64_t round_trips() const;
  // Clients created so far (at most max_size).
  int size() const;

 private:
  void Release(Client* client);

  const ClientOptions options_;
  const int max_size_;
  const absl::Duration acquire_timeout_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Client>> clients_ ABSL_GUARDED_BY(mu_);
  std::vector<Client*> idle_ ABSL_GUARDED_BY(mu_);
  int connecting_ ABSL_GUARDED_BY(mu_) = 0;  // slots taken by Connect calls
};

}  // namespace utm::redis

#endif  // UTM_SERVICES_COMMON_REDIS_REDIS_CLIENT_H_
