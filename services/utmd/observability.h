// utmd's flags for looking at it from outside: the Prometheus endpoint and
// the log's format, level and sensitivity (docs/operations.md, "Metrics" and
// "Logs").
#ifndef UTM_SERVICES_UTMD_OBSERVABILITY_H_
#define UTM_SERVICES_UTMD_OBSERVABILITY_H_

#include <string>

#include "absl/status/status.h"

namespace CLI {
class App;
}  // namespace CLI

namespace utm::utmd {

struct ObservabilityFlags {
  std::string metrics;  // HOST:PORT of /metrics; "" = off
  std::string log_format = "text";
  std::string log_level = "info";
  bool log_sensitive = false;
};

// Adds --metrics, --log-format, --log-level and --log-sensitive.
void AddObservabilityFlags(CLI::App* app, ObservabilityFlags* flags);

// Configures the process's log from the flags and routes gRPC's own lines
// into it. INVALID_ARGUMENT naming the flag for a bad format or level (the
// log is then left as text).
absl::Status ConfigureLog(const ObservabilityFlags& flags);

}  // namespace utm::utmd

#endif  // UTM_SERVICES_UTMD_OBSERVABILITY_H_
