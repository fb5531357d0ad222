// `utmctl intent list`: the caller's own flight intents (ListIntents), every
// page, optionally only some states.
//
// Typical usage (in main, beside the other `intent` subcommands):
//   IntentListCommand list(intent_app, &intent_options);
//   ... app.parse(...) ...
//   if (list.parsed()) return list.Run();
#ifndef UTM_SERVICES_UTMCTL_INTENT_LIST_COMMAND_H_
#define UTM_SERVICES_UTMCTL_INTENT_LIST_COMMAND_H_

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "services/utmctl/intent_commands.h"

namespace utm::ctl {

class IntentListCommand {
 public:
  // Adds `list` to `intent` (the `intent` subcommand). `options` (the
  // connection flags of `intent`) is not owned and must outlive this.
  IntentListCommand(CLI::App* intent, const IntentOptions* options);

  bool parsed() const { return list_->parsed(); }

  // Prints one line per intent (`--json`: one FlightIntent per line) and a
  // count; exits as ExitForStatus for a failed call, 2 for a bad --state.
  int Run() const;

 private:
  CLI::App* list_;
  const IntentOptions* options_;
  std::vector<std::string> states_;
  int page_size_ = 0;
};

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_INTENT_LIST_COMMAND_H_
