// A real utmd for end-to-end tests, run as a child process on a loopback
// port and stopped by its pid.
//
// Start() forks and execs the binary directly (no shell, so the pid is
// utmd's) with `--listen 127.0.0.1:PORT` (0: a free one) and the given
// flags, stdin on /dev/null and stdout and stderr appended to `log`, and
// returns once utmd prints its `listening on` line. Kill9(), Stop() /
// Continue() and Restart() (same flags, same port) are the faults a test
// inflicts. As with RedisServer, the child gets SIGKILL when the thread that
// started it exits (PR_SET_PDEATHSIG): start and restart from the test's own
// thread.
//
// Typical usage:
//   absl::StatusOr<std::unique_ptr<UtmdProcess>> utmd = UtmdProcess::Start(
//       binary, {"--data-dir", dir, "--store", "redis", "--redis", addr},
//       dir + "/utmd.log");
//   ASSERT_TRUE(utmd.ok()) << utmd.status();
//   ... connect to (*utmd)->address() ...
//   (*utmd)->Kill9();
//   ASSERT_TRUE((*utmd)->Restart().ok());
#ifndef UTM_TESTS_TESTING_UTMD_PROCESS_H_
#define UTM_TESTS_TESTING_UTMD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace utm::testing {

class UtmdProcess {
 public:
  // Starts `binary` with --listen 127.0.0.1:`port` and `flags`, waits (at
  // most ~20 s) for its `listening on` line. UNAVAILABLE with the tail of
  // the log when it exits first or says nothing.
  static absl::StatusOr<std::unique_ptr<UtmdProcess>> Start(
      std::string binary, std::vector<std::string> flags, std::string log,
      int port = 0);

  // SIGKILL (and SIGCONT) if still running, and reaps it.
  ~UtmdProcess();
  UtmdProcess(const UtmdProcess&) = delete;
  UtmdProcess& operator=(const UtmdProcess&) = delete;

  int port() const { return port_; }
  std::string address() const;  // "127.0.0.1:PORT"
  pid_t pid() const { return pid_; }  // -1 when not running

  void Kill9();
  void Stop();      // SIGSTOP
  void Continue();  // SIGCONT
  // Starts it again (after Kill9) on the same port with the same flags.
  absl::Status Restart();
  // SIGTERM (and SIGCONT); waits up to 20 s. The exit code, or -1 when it
  // did not exit by itself (then it is killed) or died by a signal.
  int Terminate();

  // This run's part of the log (since the last Start or Restart).
  std::string Log() const;

 private:
  UtmdProcess(std::string binary, std::vector<std::string> flags,
              std::string log, int port)
      : binary_(std::move(binary)),
        flags_(std::move(flags)),
        log_(std::move(log)),
        port_(port) {}
  absl::Status Spawn();

  const std::string binary_;
  const std::vector<std::string> flags_;
  const std::string log_;
  int port_;
  pid_t pid_ = -1;
};

}  // namespace utm::testing

#endif  // UTM_TESTS_TESTING_UTMD_PROCESS_H_
