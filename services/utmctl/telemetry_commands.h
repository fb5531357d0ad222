// `utmctl telemetry ...`: a gRPC client of utm.v1.TelemetryService.
// `fly` streams the position reports of one aircraft flying a straight,
// constant-velocity track in real time (StreamPositions) and prints the
// alerts and report errors the server sends back; `watch` prints the alerts
// in an area (WatchAlerts). docs/utmctl.md lists the output and exit codes.
//
// Typical usage (main.cc):
//   utm::ctl::TelemetryCommands telemetry(&app);  // before app.parse()
//   ...
//   if (telemetry.parsed()) return telemetry.Run();
#ifndef UTM_SERVICES_UTMCTL_TELEMETRY_COMMANDS_H_
#define UTM_SERVICES_UTMCTL_TELEMETRY_COMMANDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "services/utmctl/area_flags.h"
#include "services/utmctl/connection.h"

namespace utm::ctl {

// The `telemetry` command and its subcommands, added to a CLI11 app. Not
// thread-safe; lives as long as the app.
class TelemetryCommands {
 public:
  // Adds `telemetry` to `app` (not owned, outlives this).
  explicit TelemetryCommands(CLI::App* app);

  TelemetryCommands(const TelemetryCommands&) = delete;
  TelemetryCommands& operator=(const TelemetryCommands&) = delete;

  // Whether the command line named `telemetry` (after app->parse()).
  bool parsed() const;
  // Runs the parsed subcommand; returns the process exit code.
  int Run();

  struct FlyArgs {
    std::string aircraft_id;
    std::string intent_id;
    std::string from;      // "lat,lng,alt": degrees WGS84, metres above WGS84
    std::string velocity;  // "north,east,up", m/s
    double duration_s = 20;
    double rate_hz = 1;
    double accuracy_h_m = 3;
    double accuracy_v_m = 5;
    std::vector<std::string> until_alert;  // kinds; DEFAULT: fly to the end
    // Seconds to wait for the server to acknowledge and end the stream
    // after the last report.
    double drain_timeout_s = 10;
  };

  struct WatchArgs {
    AreaFlags area;
    std::vector<std::string> kinds;  // DEFAULT: all
    int64_t count = 0;               // 0: unbounded
    double timeout_s = 0;            // 0: unbounded
  };

 private:
  CLI::App* telemetry_ = nullptr;
  CLI::App* fly_ = nullptr;
  CLI::App* watch_ = nullptr;
  ConnectionOptions options_;  // shared by both subcommands
  FlyArgs fly_args_;
  WatchArgs watch_args_;
};

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_TELEMETRY_COMMANDS_H_
