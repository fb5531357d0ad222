// `utmctl operator ...`: what an operator chooses to be kept about its
// flights (utm.v1.OperatorService Get/SetDataSettings). `settings` shows
// the caller's settings, or changes them with --local-data-mode on|off and
// --flight-log-retention (30d, 720h, ...). docs/utmctl.md lists the output.
//
// Typical usage (main.cc):
//   utm::ctl::OperatorCommands operator_commands(&app);  // before parse()
//   ...
//   if (operator_commands.parsed()) return operator_commands.Run();
#ifndef UTM_SERVICES_UTMCTL_OPERATOR_COMMANDS_H_
#define UTM_SERVICES_UTMCTL_OPERATOR_COMMANDS_H_

#include <string>

#include "CLI/CLI.hpp"
#include "services/utmctl/connection.h"

namespace utm::ctl {

// The `operator` command, added to a CLI11 app. Not thread-safe; lives as
// long as the app.
class OperatorCommands {
 public:
  // Adds `operator` to `app` (not owned, outlives this).
  explicit OperatorCommands(CLI::App* app);
  OperatorCommands(const OperatorCommands&) = delete;
  OperatorCommands& operator=(const OperatorCommands&) = delete;

  bool parsed() const;
  // The `operator` command and its connection options, for the commands
  // of operator_data_commands.h.
  CLI::App* command() { return operator_; }
  const ConnectionOptions* options() const { return &options_; }
  // Runs the parsed subcommand; returns the process exit code.
  int Run();

 private:
  int Settings();

  ConnectionOptions options_;
  CLI::App* operator_ = nullptr;
  CLI::App* settings_ = nullptr;
  std::string local_data_mode_;
  std::string retention_;
};

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_OPERATOR_COMMANDS_H_
