// `utmctl registry ...`: the aircraft registry (utm.v1.RegistryService).
// `register` and `revoke` for regulators, `get` for regulators, the
// aircraft's operator and law enforcement with --case, `list` for
// regulators (all, or --operator's) and operators (their own).
// docs/utmctl.md lists the output and exit codes.
//
// Typical usage (main.cc):
//   utm::ctl::RegistryCommands registry(&app);  // before app.parse()
//   ...
//   if (registry.parsed()) return registry.Run();
#ifndef UTM_SERVICES_UTMCTL_REGISTRY_COMMANDS_H_
#define UTM_SERVICES_UTMCTL_REGISTRY_COMMANDS_H_

#include <cstdint>
#include <string>

#include "CLI/CLI.hpp"
#include "services/utmctl/connection.h"

namespace utm::ctl {

// The `registry` command and its subcommands, added to a CLI11 app. Not
// thread-safe; lives as long as the app.
class RegistryCommands {
 public:
  // Adds `registry` to `app` (not owned, outlives this).
  explicit RegistryCommands(CLI::App* app);
  RegistryCommands(const RegistryCommands&) = delete;
  RegistryCommands& operator=(const RegistryCommands&) = delete;

  // Whether the command line named `registry` (after app->parse()).
  bool parsed() const;
  // Runs the parsed subcommand; returns the process exit code.
  int Run();

 private:
  int Register();
  int Revoke();
  int Get();
  int List();

  ConnectionOptions options_;
  CLI::App* registry_ = nullptr;
  CLI::App* register_ = nullptr;
  CLI::App* revoke_ = nullptr;
  CLI::App* get_ = nullptr;
  CLI::App* list_ = nullptr;
  std::string serial_;
  // register
  int64_t mass_g_ = 0;
  std::string operator_id_;
  std::string operator_registration_;
  std::string make_model_;
  std::string ua_type_;
  std::string expires_;
  int64_t version_ = 0;
  // revoke
  std::string reason_;
  // get
  std::string case_reference_;
  // list
  bool all_ = false;
};

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_REGISTRY_COMMANDS_H_
