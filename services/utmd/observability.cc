#include "services/utmd/observability.h"

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "services/common/log/log.h"

namespace utm::utmd {

void AddObservabilityFlags(CLI::App* app, ObservabilityFlags* flags) {
  app->add_option("--metrics", flags->metrics,
                  "HOST:PORT to serve Prometheus metrics on (GET /metrics, "
                  "plaintext); off unless given. Counts, levels and "
                  "latencies only: no identities or places");
  app->add_option("--log-format", flags->log_format,
                  "text (default) or json: one JSON object per line, for "
                  "log pipelines");
  app->add_option("--log-level", flags->log_level,
                  "debug, info (default), warning or error; debug logs "
                  "every call");
  app->add_flag("--log-sensitive", flags->log_sensitive,
                "For debugging: also log what may identify people or "
                "places (the texts of refused calls, which can hold "
                "coordinates and identifiers). Off by default");
}

absl::Status ConfigureLog(const ObservabilityFlags& flags) {
  absl::StatusOr<log::Format> format = log::ParseFormat(flags.log_format);
  if (!format.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--log-format: ", format.status().message()));
  }
  absl::StatusOr<log::Level> level = log::ParseLevel(flags.log_level);
  if (!level.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--log-level: ", level.status().message()));
  }
  log::Options options;
  options.format = *format;
  options.level = *level;
  options.sensitive = flags.log_sensitive;
  log::Configure(options);
  log::CaptureGrpcLogs();
  return absl::OkStatus();
}

}  // namespace utm::utmd
