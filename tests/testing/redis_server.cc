#include "tests/testing/redis_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace utm::testing {
namespace {

constexpr char kRedisServer[] = "/usr/bin/redis-server";
constexpr absl::Duration kReadyTimeout = absl::Seconds(5);
constexpr absl::Duration kStopTimeout = absl::Seconds(5);

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// A port that was free a moment ago (the kernel's pick for port 0).
absl::StatusOr<int> FreePort() {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = Loopback(0);
  socklen_t length = sizeof(a);
  if (fd.get() < 0 ||
      ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &length) != 0) {
    return absl::UnavailableError(
        absl::StrCat("no free loopback port: ", std::strerror(errno)));
  }
  return ntohs(a.sin_port);
}

std::string Bulk(const std::string& s) {
  return absl::StrCat("$", s.size(), "\r\n", s, "\r\n");
}

// True when the server on `port` answers PING with PONG (after AUTH when it
// has a password): it is up and has loaded its data ("-LOADING" otherwise).
bool AnswersPing(int port, const std::string& password) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return false;
  timeval tv{0, 200 * 1000};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in a = Loopback(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    return false;
  }
  std::string request;
  int replies = 1;
  if (!password.empty()) {
    request = absl::StrCat("*2\r\n", Bulk("AUTH"), Bulk(password));
    replies = 2;
  }
  request += absl::StrCat("*1\r\n", Bulk("PING"));
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return false;
  }
  std::string got;
  char buffer[256];
  // Every reply here is one line.
  while (std::count(got.begin(), got.end(), '\n') < replies) {
    const ssize_t n = ::recv(fd.get(), buffer, sizeof(buffer), 0);
    if (n <= 0) return false;
    got.append(buffer, static_cast<size_t>(n));
  }
  std::vector<std::string> lines = absl::StrSplit(got, "\r\n");
  return lines.size() >= static_cast<size_t>(replies) &&
         lines[replies - 1] == "+PONG";
}

// True once `pid` has exited (and is reaped), or is not our child any more.
bool Reaped(pid_t pid, int* status) {
  const pid_t r = ::waitpid(pid, status, WNOHANG);
  return r == pid || (r < 0 && errno == ECHILD);
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("was killed by signal ", WTERMSIG(status));
  return "stopped";
}

}  // namespace

bool RedisServerAvailable() { return ::access(kRedisServer, X_OK) == 0; }

std::string RedisServer::addr() const { return absl::StrCat("127.0.0.1:", port_); }

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start(
    RedisServerOptions o) {
  if (!RedisServerAvailable()) {
    return absl::FailedPreconditionError(absl::StrCat(
        kRedisServer, " not found: install the redis-server package"));
  }
  bool own_dir = false;
  std::string dir = o.dir;
  if (dir.empty()) {
    std::string pattern =
        (std::filesystem::temp_directory_path() /
         absl::StrCat("utm-redis-", ::getpid(), "-XXXXXX"))
            .string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return absl::UnavailableError(absl::StrCat(
          "mkdtemp ", pattern, ": ", std::strerror(errno)));
    }
    dir = pattern;
    own_dir = true;
  } else {
    dir = std::filesystem::absolute(dir).string();
  }
  // A port picked here may be taken by someone else before redis-server
  // binds it: pick again a few times.
  absl::Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    int port = o.port;
    if (port == 0) {
      absl::StatusOr<int> free_port = FreePort();
      if (!free_port.ok()) return free_port.status();
      port = *free_port;
    }
    std::vector<std::string> args = {
        kRedisServer,   "--port",        absl::StrCat(port),
        "--bind",       "127.0.0.1",     "--dir",
        dir,            "--logfile",     dir + "/redis.log",
        "--daemonize",  "no",            "--save",
        "",             "--appendonly",  o.appendonly ? "yes" : "no",
        "--appendfsync", o.appendfsync};
    if (!o.requirepass.empty()) {
      args.push_back("--requirepass");
      args.push_back(o.requirepass);
    }
    args.insert(args.end(), o.extra_args.begin(), o.extra_args.end());
    // The directory is handed over only on success: a failed attempt must
    // not remove it under the next one.
    absl::StatusOr<std::unique_ptr<RedisServer>> server =
        Launch(std::move(args), port, dir, /*own_dir=*/false, o.requirepass);
    if (server.ok()) {
      (*server)->own_dir_ = own_dir;
      return server;
    }
    last = server.status();
    if (o.port != 0 || !absl::StrContains(last.message(), "in use")) break;
  }
  if (own_dir) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  return last;
}

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::StartSentinel(
    const std::string& primary_addr, const std::string& master_name,
    int quorum, SentinelOptions o) {
  if (!RedisServerAvailable()) {
    return absl::FailedPreconditionError(absl::StrCat(
        kRedisServer, " not found: install the redis-server package"));
  }
  const std::vector<std::string> host_port = absl::StrSplit(primary_addr, ':');
  if (host_port.size() != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("primary_addr \"", primary_addr, "\": expected ip:port"));
  }
  bool own_dir = false;
  std::string dir = o.dir;
  if (dir.empty()) {
    std::string pattern =
        (std::filesystem::temp_directory_path() /
         absl::StrCat("utm-sentinel-", ::getpid(), "-XXXXXX"))
            .string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return absl::UnavailableError(absl::StrCat(
          "mkdtemp ", pattern, ": ", std::strerror(errno)));
    }
    dir = pattern;
    own_dir = true;
  } else {
    dir = std::filesystem::absolute(dir).string();
  }
  int port = o.port;
  if (port == 0) {
    absl::StatusOr<int> free_port = FreePort();
    if (!free_port.ok()) return free_port.status();
    port = *free_port;
  }
  const std::string config = dir + "/sentinel.conf";
  {
    std::ofstream out(config);
    out << "port " << port << "\n"
        << "bind 127.0.0.1\n"
        << "daemonize no\n"
        << "dir " << dir << "\n"
        << "logfile " << dir << "/redis.log\n"
        << "sentinel monitor " << master_name << " " << host_port[0] << " "
        << host_port[1] << " " << quorum << "\n"
        << "sentinel down-after-milliseconds " << master_name << " "
        << absl::ToInt64Milliseconds(o.down_after) << "\n"
        << "sentinel failover-timeout " << master_name << " "
        << absl::ToInt64Milliseconds(o.failover_timeout) << "\n";
    if (!o.auth_pass.empty()) {
      out << "sentinel auth-pass " << master_name << " " << o.auth_pass << "\n";
    }
    if (!out.flush()) {
      return absl::UnavailableError(absl::StrCat("cannot write ", config));
    }
  }
  return Launch({kRedisServer, config, "--sentinel"}, port, dir, own_dir, "");
}

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Launch(
    std::vector<std::string> args, int port, std::string dir, bool own_dir,
    std::string password) {
  std::unique_ptr<RedisServer> server(new RedisServer(
      std::move(args), port, std::move(dir), own_dir, std::move(password)));
  absl::Status started = server->Spawn();
  if (!started.ok()) return started;
  return server;
}

absl::Status RedisServer::Spawn() {
  std::vector<char*> argv;
  for (const std::string& a : args_) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // The log of an earlier run stays; a tail quoted on failure must be this
  // run's, so mark where it begins. stdout and stderr go to the same log:
  // a bad option is reported there, before the server opens its logfile.
  const std::string log_path = dir_ + "/redis.log";
  {
    std::ofstream log(log_path, std::ios::app);
    log << "--- utm::testing::RedisServer: starting\n";
  }
  const pid_t parent = ::getpid();
  // For kernels without close_range(2) (before 5.9).
  const long open_max = ::sysconf(_SC_OPEN_MAX);
  const int max_fd = open_max > 0 && open_max < 65536 ? static_cast<int>(open_max) : 65536;
  const pid_t pid = ::fork();
  if (pid < 0) {
    return absl::UnavailableError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    // A test killed by its timeout must not leave servers behind: the server
    // dies with the thread that started it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, 0);
    const int log = ::open(log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (log >= 0) {
      ::dup2(log, 1);
      ::dup2(log, 2);
    }
    // Sockets of the test (hiredis sets no close-on-exec) must not stay
    // open in the server.
    if (::close_range(3, ~0U, 0) != 0) {
      for (int fd = 3; fd < max_fd; ++fd) ::close(fd);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  const absl::Time deadline = absl::Now() + kReadyTimeout;
  while (true) {
    int status = 0;
    if (Reaped(pid_, &status)) {
      pid_ = -1;
      return absl::UnavailableError(absl::StrCat(
          args_[0], " ", DescribeExit(status), " before answering PING on port ",
          port_, "; log tail:\n", LogTail()));
    }
    if (AnswersPing(port_, password_)) return absl::OkStatus();
    if (absl::Now() > deadline) {
      Terminate();
      return absl::UnavailableError(absl::StrCat(
          args_[0], " did not answer PING on port ", port_, " within ",
          absl::FormatDuration(kReadyTimeout), "; log tail:\n", LogTail()));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

void RedisServer::Terminate() {
  if (pid_ < 0) return;
  ::kill(pid_, SIGTERM);
  ::kill(pid_, SIGCONT);  // a stopped process acts on SIGTERM only once resumed
  const absl::Time deadline = absl::Now() + kStopTimeout;
  int status = 0;
  while (!Reaped(pid_, &status)) {
    if (absl::Now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  pid_ = -1;
}

RedisServer::~RedisServer() {
  Terminate();
  if (own_dir_) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

void RedisServer::Kill9() {
  if (pid_ < 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void RedisServer::Stop() {
  if (pid_ >= 0) ::kill(pid_, SIGSTOP);
}

void RedisServer::Continue() {
  if (pid_ >= 0) ::kill(pid_, SIGCONT);
}

absl::Status RedisServer::Restart() {
  Terminate();
  return Spawn();
}

std::string RedisServer::LogTail() const {
  std::ifstream in(dir_ + "/redis.log");
  std::stringstream content;
  content << in.rdbuf();
  std::string log = content.str();
  const size_t run = log.rfind("--- utm::testing::RedisServer: starting");
  if (run != std::string::npos) log = log.substr(run);
  std::vector<absl::string_view> lines =
      absl::StrSplit(log, '\n', absl::SkipEmpty());
  if (lines.size() > 12) lines.erase(lines.begin(), lines.end() - 12);
  return lines.empty() ? "(empty log)" : absl::StrJoin(lines, "\n");
}

}  // namespace utm::testing
