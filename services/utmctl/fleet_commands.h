// `utmctl fleet ...`: an operator's own data (utm.v1.OperatorService).
// `watch`: the caller's fleet, live. docs/utmctl.md lists the output and
// exit codes.
//
// Typical usage (main.cc):
//   utm::ctl::FleetCommands fleet(&app);  // before app.parse()
//   ...
//   if (fleet.parsed()) return fleet.Run();
#ifndef UTM_SERVICES_UTMCTL_FLEET_COMMANDS_H_
#define UTM_SERVICES_UTMCTL_FLEET_COMMANDS_H_

#include <cstdint>

#include "CLI/CLI.hpp"
#include "services/utmctl/connection.h"

namespace utm::ctl {

// The `fleet` command and its subcommands, added to a CLI11 app. Not
// thread-safe; lives as long as the app.
class FleetCommands {
 public:
  // Adds `fleet` to `app` (not owned, outlives this).
  explicit FleetCommands(CLI::App* app);
  FleetCommands(const FleetCommands&) = delete;
  FleetCommands& operator=(const FleetCommands&) = delete;

  // Whether the command line named `fleet` (after app->parse()).
  bool parsed() const;
  // Runs the parsed subcommand; returns the process exit code.
  int Run();

 private:
  int Watch();

  ConnectionOptions options_;
  CLI::App* fleet_ = nullptr;
  CLI::App* watch_ = nullptr;
  int64_t period_ms_ = 1000;
  int64_t count_ = 0;
  double timeout_s_ = 0;
};

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_FLEET_COMMANDS_H_
