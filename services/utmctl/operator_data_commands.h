// `utmctl operator export|erase`: everything utmd holds about the caller
// (an operator's token), as one archive, and its erasure
// (utm.v1.OperatorService ExportData / EraseData). docs/utmctl.md lists
// the output and exit codes.
//
// Typical usage (main.cc):
//   utm::ctl::OperatorCommands op(&app);  // operator_commands.h
//   utm::ctl::OperatorDataCommands data(op.command(), op.options());
//   ...
//   if (data.parsed()) return data.Run();
#ifndef UTM_SERVICES_UTMCTL_OPERATOR_DATA_COMMANDS_H_
#define UTM_SERVICES_UTMCTL_OPERATOR_DATA_COMMANDS_H_

#include <string>

#include "CLI/CLI.hpp"
#include "services/utmctl/connection.h"

namespace utm::ctl {

// The `operator` command's export and erase subcommands. Not thread-safe;
// lives as long as the app.
class OperatorDataCommands {
 public:
  // Adds them to `operator_command`, whose connection flags fill
  // `options` (neither owned; both outlive this).
  OperatorDataCommands(CLI::App* operator_command,
                       const ConnectionOptions* options);
  OperatorDataCommands(const OperatorDataCommands&) = delete;
  OperatorDataCommands& operator=(const OperatorDataCommands&) = delete;

  // Whether the command line named `operator export` or `operator erase`.
  bool parsed() const;
  // Runs the parsed subcommand; returns the process exit code.
  int Run();

 private:
  int Export();
  int Erase();

  const ConnectionOptions* const options_;
  CLI::App* export_ = nullptr;
  CLI::App* erase_ = nullptr;
  std::string out_;
  std::string confirm_;
};

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_OPERATOR_DATA_COMMANDS_H_
