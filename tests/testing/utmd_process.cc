#include "tests/testing/utmd_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace utm::testing {
namespace {

constexpr char kMarker[] = "--- utm::testing::UtmdProcess: starting";

bool Reaped(pid_t pid, int* status) {
  return ::waitpid(pid, status, WNOHANG) == pid;
}

}  // namespace

absl::StatusOr<std::unique_ptr<UtmdProcess>> UtmdProcess::Start(
    std::string binary, std::vector<std::string> flags, std::string log,
    int port) {
  std::unique_ptr<UtmdProcess> p(new UtmdProcess(
      std::move(binary), std::move(flags), std::move(log), port));
  absl::Status started = p->Spawn();
  if (!started.ok()) return started;
  return p;
}

UtmdProcess::~UtmdProcess() { Kill9(); }

std::string UtmdProcess::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

std::string UtmdProcess::Log() const {
  std::ifstream in(log_);
  std::stringstream content;
  content << in.rdbuf();
  std::string log = content.str();
  const size_t run = log.rfind(kMarker);
  return run == std::string::npos ? log : log.substr(run + sizeof(kMarker));
}

absl::Status UtmdProcess::Spawn() {
  std::vector<std::string> args = {binary_, "--listen",
                                   absl::StrCat("127.0.0.1:", port_)};
  args.insert(args.end(), flags_.begin(), flags_.end());
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  {
    std::ofstream log(log_, std::ios::app);
    log << kMarker << "\n";
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    return absl::UnavailableError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    // The test blocks no signals utmd relies on, but a gtest thread might.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, 0);
    const int log = ::open(log_.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (log >= 0) {
      ::dup2(log, 1);
      ::dup2(log, 2);
    }
    ::close_range(3, ~0U, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  // A text log ("utmd: listening on ...") or a JSON one ("msg":"listening
  // on ...").
  const std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (true) {
    int status = 0;
    if (Reaped(pid_, &status)) {
      pid_ = -1;
      return absl::UnavailableError(absl::StrCat(
          binary_, " exited (status ", status, ") before listening:\n", Log()));
    }
    std::smatch m;
    const std::string out = Log();
    if (std::regex_search(out, m, listening)) {
      port_ = std::stoi(m[1]);
      return absl::OkStatus();
    }
    if (absl::Now() > deadline) {
      Kill9();
      return absl::UnavailableError(
          absl::StrCat(binary_, " did not listen within 20 s:\n", out));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

void UtmdProcess::Kill9() {
  if (pid_ < 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void UtmdProcess::Stop() {
  if (pid_ >= 0) ::kill(pid_, SIGSTOP);
}

void UtmdProcess::Continue() {
  if (pid_ >= 0) ::kill(pid_, SIGCONT);
}

absl::Status UtmdProcess::Restart() {
  Kill9();
  return Spawn();
}

int UtmdProcess::Terminate() {
  if (pid_ < 0) return -1;
  ::kill(pid_, SIGTERM);
  ::kill(pid_, SIGCONT);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  int status = 0;
  while (!Reaped(pid_, &status)) {
    if (absl::Now() > deadline) {
      Kill9();
      return -1;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace utm::testing
