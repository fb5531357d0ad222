// A real redis-server (or Sentinel) for tests, run as a child process on a
// loopback port and stopped by its pid.
//
// Start() forks and execs /usr/bin/redis-server directly (no shell, so the
// pid is the server's), with stdin on /dev/null and stdout, stderr and its
// log in `dir()/redis.log`, and returns once PING answers PONG (the AOF, if
// any, is loaded). The destructor stops it (SIGTERM, then SIGKILL) and reaps it.
// Kill9(), Stop()/Continue() and Restart() are the faults a test inflicts.
// The server gets SIGKILL when the thread that started it exits
// (PR_SET_PDEATHSIG), so a test killed by its timeout leaves none behind:
// start servers from the test's own thread, not from a short-lived one.
//
// The handle speaks RESP itself for its readiness probe and links nothing
// but Abseil, so that any test in the tree can use it.
//
// Typical usage:
//   if (!utm::testing::RedisServerAvailable()) GTEST_SKIP() << "...";
//   absl::StatusOr<std::unique_ptr<RedisServer>> server =
//       RedisServer::Start({});
//   ASSERT_TRUE(server.ok()) << server.status();
//   options.addr = (*server)->addr();
//   (*server)->Kill9();
//   ASSERT_TRUE((*server)->Restart().ok());
#ifndef UTM_TESTS_TESTING_REDIS_SERVER_H_
#define UTM_TESTS_TESTING_REDIS_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace utm::testing {

struct RedisServerOptions {
  // `appendonly yes|no`. DEFAULT: no.
  bool appendonly = false;
  // `appendfsync` when appendonly. DEFAULT: always.
  std::string appendfsync = "always";
  // Working directory (AOF, log, Sentinel config). DEFAULT: empty, a fresh
  // temporary directory with the test's pid in its name, removed when the
  // handle is destroyed; a directory given here is kept.
  std::string dir;
  // `requirepass`. DEFAULT: empty, no password.
  std::string requirepass;
  // Appended to the command line, e.g. {"--replicaof", "127.0.0.1", "6380"}.
  std::vector<std::string> extra_args;
  // DEFAULT: 0, a free loopback port.
  int port = 0;
};

// Settings of StartSentinel() beyond what it monitors.
struct SentinelOptions {
  // How long the primary must be silent before Sentinel calls it down.
  absl::Duration down_after = absl::Milliseconds(1000);
  absl::Duration failover_timeout = absl::Seconds(5);
  // The primary's requirepass, if any (`sentinel auth-pass`).
  std::string auth_pass;
  std::string dir;  // as RedisServerOptions::dir
  int port = 0;     // as RedisServerOptions::port
};

class RedisServer {
 public:
  // Starts redis-server on 127.0.0.1 with `--save ''` and the options, and
  // waits (at most ~5 s) until PING answers. FAILED_PRECONDITION when the
  // binary is missing; UNAVAILABLE when it exits or does not answer, with the
  // tail of its log.
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start(
      RedisServerOptions options);

  // Starts a Sentinel monitoring `primary_addr` ("127.0.0.1:PORT") under
  // `master_name` with `quorum`, from a config file generated in its dir
  // (Sentinel rewrites it). Same handle, same faults.
  static absl::StatusOr<std::unique_ptr<RedisServer>> StartSentinel(
      const std::string& primary_addr, const std::string& master_name,
      int quorum, SentinelOptions options = {});

  // SIGTERM (and SIGCONT, in case it is stopped), up to 5 s for it to exit,
  // then SIGKILL; reaps it; removes a temporary dir.
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  std::string addr() const;  // "127.0.0.1:PORT"
  pid_t pid() const { return pid_; }  // -1 when not running
  const std::string& dir() const { return dir_; }

  // SIGKILL and reap: a crash, nothing flushed beyond what the OS holds.
  void Kill9();
  // SIGSTOP / SIGCONT: a server that accepts connections but never answers.
  void Stop();
  void Continue();
  // Stops it if running (SIGTERM), then starts it again on the same port
  // and dir with the same command line, and waits for PING (the AOF is
  // reloaded first).
  absl::Status Restart();

 private:
  RedisServer(std::vector<std::string> args, int port, std::string dir,
              bool own_dir, std::string password)
      : args_(std::move(args)),
        port_(port),
        dir_(std::move(dir)),
        own_dir_(own_dir),
        password_(std::move(password)) {}

  static absl::StatusOr<std::unique_ptr<RedisServer>> Launch(
      std::vector<std::string> args, int port, std::string dir, bool own_dir,
      std::string password);
  absl::Status Spawn();
  void Terminate();
  std::string LogTail() const;

  const std::vector<std::string> args_;  // argv, without the port
  const int port_;
  const std::string dir_;
  bool own_dir_;  // remove dir_ at destruction
  const std::string password_;  // for the readiness probe's AUTH
  pid_t pid_ = -1;
};

// True when /usr/bin/redis-server exists; tests GTEST_SKIP() otherwise.
bool RedisServerAvailable();

}  // namespace utm::testing

#endif  // UTM_TESTS_TESTING_REDIS_SERVER_H_
