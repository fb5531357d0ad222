#include "sim/load_common.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/common/server.h"

namespace utm::sim {

bool IsLoopback(const std::string& target) {
  return absl::StartsWith(target, "127.") ||
         absl::StartsWith(target, "localhost:") ||
         absl::StartsWith(target, "[::1]:");
}

double CpuSeconds(int pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(in, line)) return -1;
  // Fields after the parenthesised command name; utime and stime are the
  // 14th and 15th fields of the line.
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i >= 14) {
      double v = 0;
      if (!absl::SimpleAtod(field, &v)) return -1;
      ticks += v;
    }
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double SelfCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

ProcessMemory ReadProcessMemory(int pid) {
  ProcessMemory m;
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    // "VmRSS:\t  123456 kB"
    int64_t* field = absl::StartsWith(line, "VmRSS:")   ? &m.rss_bytes
                     : absl::StartsWith(line, "VmHWM:") ? &m.hwm_bytes
                                                        : nullptr;
    if (field == nullptr) continue;
    std::istringstream value(line.substr(line.find(':') + 1));
    int64_t kb = 0;
    std::string unit;
    if (value >> kb >> unit && unit == "kB") *field = kb * 1024;
  }
  return m;
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  const size_t i = std::min(
      v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i),
                   v.end());
  return v[i];
}

int ServeNoop(grpc::Service* service, const char* program) {
  ServerOptions server_options;
  server_options.listen_address = "127.0.0.1:0";
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(server_options, {service});
  if (!server.ok()) {
    std::cerr << program << " --serve-noop: " << server.status() << "\n";
    return 1;
  }
  std::cout << "port " << (*server)->port() << std::endl;
  char buffer[64];
  while (read(STDIN_FILENO, buffer, sizeof buffer) > 0) {
  }
  (*server)->Shutdown(absl::Seconds(2));
  return 0;
}

absl::StatusOr<NoopChild> SpawnNoop(const char* program,
                                    std::vector<std::string> extra_args) {
  int in[2], out[2];
  if (pipe(in) != 0 || pipe(out) != 0) {
    return absl::InternalError("pipe failed");
  }
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
    std::string arg0 = program;
    std::string arg1 = "--serve-noop";
    std::vector<char*> args = {arg0.data(), arg1.data()};
    for (std::string& a : extra_args) args.push_back(a.data());
    args.push_back(nullptr);
    execv("/proc/self/exe", args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  NoopChild child;
  child.pid = pid;
  child.to_child = in[1];
  std::string line;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') line.push_back(c);
  close(out[0]);
  if (!absl::StartsWith(line, "port ") ||
      !absl::SimpleAtoi(line.substr(5), &child.port)) {
    return absl::InternalError(
        absl::StrCat("the no-op server did not start: ", line));
  }
  return child;
}

void StopNoop(const NoopChild& child) {
  close(child.to_child);
  int status = 0;
  waitpid(child.pid, &status, 0);
}

}  // namespace utm::sim
