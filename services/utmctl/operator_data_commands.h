// `utmctl operator export|erase`: everything utmd holds about the caller
// (an operator's token), as one archive, and its erasure
// (utm.v1.OperatorService ExportData / EraseData). docs/utmctl.md lists
// the output and exit codes.
//
// Typical usage (main.cc):
//   utm::ctl::OperatorDataCommands data(&app);  // before app.parse()
//   ...
//   if (data.parsed()) return data.Run();
#ifndef UTM_SERVICES_UTMCTL_OPERATOR_DATA_COMMANDS_H_
#define UTM_SERVICES_UTMCTL_OPERATOR_DATA_COMMANDS_H_

#include <string>

#include "CLI/CLI.hpp"
#include "services/utmctl/connection.h"

namespace utm::ctl {

// The `operator` command's export and erase subcommands, added to a CLI11
// app. Not thread-safe; lives as long as the app.
class OperatorDataCommands {
 public:
  // Adds `operator` to `app` (not owned, outlives this).
  explicit OperatorDataCommands(CLI::App* app);
  OperatorDataCommands(const OperatorDataCommands&) = delete;
  OperatorDataCommands& operator=(const OperatorDataCommands&) = delete;

  // Whether the command line named `operator export` or `operator erase`.
  bool parsed() const;
  // Runs the parsed subcommand; returns the process exit code.
  int Run();

 private:
  int Export();
  int Erase();

  ConnectionOptions options_;
  CLI::App* operator_ = nullptr;
  CLI::App* export_ = nullptr;
  CLI::App* erase_ = nullptr;
  std::string out_;
  std::string confirm_;
};

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_OPERATOR_DATA_COMMANDS_H_
