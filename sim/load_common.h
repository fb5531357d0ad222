// What the load generators (utmload, utmwatch, utmsim) share: the loopback
// rule, CPU accounting, percentiles, and a no-op server run as a child
// process so that it does not share gRPC's threads with the client.
#ifndef UTM_SIM_LOAD_COMMON_H_
#define UTM_SIM_LOAD_COMMON_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace grpc {
class Service;
}  // namespace grpc

namespace utm::sim {

// Whether `target` is a loopback address (127.0.0.0/8, localhost, [::1]):
// load is only ever aimed at this machine.
bool IsLoopback(const std::string& target);

// CPU seconds (user + system) of a process, from /proc; -1 if unreadable.
double CpuSeconds(int pid);
// CPU seconds of this process.
double SelfCpuSeconds();

// Resident memory of a process, from /proc/PID/status: VmRSS now and VmHWM
// (its peak so far), bytes; -1 where unreadable.
struct ProcessMemory {
  int64_t rss_bytes = -1;
  int64_t hwm_bytes = -1;
};
ProcessMemory ReadProcessMemory(int pid);

// The q-quantile (0..1) of `v` by rank; 0 when empty.
double Percentile(std::vector<double> v, double q);

// Serves `service` on 127.0.0.1:0, prints "port N" on stdout and serves
// until stdin closes: the body of a load generator's --serve-noop mode.
// `program` prefixes error messages.
int ServeNoop(grpc::Service* service, const char* program);

// A child running `<program> --serve-noop`.
struct NoopChild {
  pid_t pid = -1;
  int port = 0;
  int to_child = -1;  // closing it stops the child
};

// Forks and execs this binary with --serve-noop (and `extra_args`) and
// reads its port. Must run before this process uses gRPC.
absl::StatusOr<NoopChild> SpawnNoop(const char* program,
                                    std::vector<std::string> extra_args = {});

// Closes the child's stdin and waits for it to exit.
void StopNoop(const NoopChild& child);

}  // namespace utm::sim

#endif  // UTM_SIM_LOAD_COMMON_H_
