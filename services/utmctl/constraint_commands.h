// `utmctl constraint ...`: a gRPC client of utm.v1.ConstraintService.
// Regulators publish, read, withdraw constraints and grant or revoke
// authorisations; operators self-unlock, list their authorisations, check a
// position and watch an area's changes (resumable by sequence).
// docs/utmctl.md lists the commands, their output and exit codes.
//
// Typical usage (main.cc):
//   utm::ctl::ConstraintCommands constraint(&app);  // before app.parse()
//   ...
//   if (constraint.parsed()) return constraint.Run();
#ifndef UTM_SERVICES_UTMCTL_CONSTRAINT_COMMANDS_H_
#define UTM_SERVICES_UTMCTL_CONSTRAINT_COMMANDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "services/utmctl/connection.h"

namespace utm::ctl {

// Exit codes beyond those in intent_commands.h and geofence_commands.h.
// `watch --count N` ran out of --timeout-s before N events (EX_TEMPFAIL:
// run it again, resuming with --since).
inline constexpr int kExitWatchTimeout = 75;

// The `constraint` command and its subcommands, added to a CLI11 app. Not
// thread-safe; lives as long as the app.
class ConstraintCommands {
 public:
  // Adds `constraint` to `app` (not owned, outlives this).
  explicit ConstraintCommands(CLI::App* app);

  ConstraintCommands(const ConstraintCommands&) = delete;
  ConstraintCommands& operator=(const ConstraintCommands&) = delete;

  // Whether the command line named `constraint` (after app->parse()).
  bool parsed() const;
  // Runs the parsed subcommand; returns the process exit code.
  int Run();

  // Values of every subcommand's arguments (each subcommand uses some).
  struct Args {
    std::string file;                // publish
    std::string id;                  // constraint or authorisation id
    std::string request_id;          // writes
    int64_t version = 0;             // withdraw
    std::string reason;              // withdraw, revoke
    std::string area_file;           // query, watch
    std::string bbox;                // query, watch
    std::vector<std::string> types;  // query
    int page_size = 0;               // query; 0: the server's default
    bool include_withdrawn = false;  // query: withdrawn ones kept as history
    std::string operator_id;         // grant, authorisations
    std::string from, to;            // grant, unlock (RFC 3339)
    std::string reference;           // grant
    bool acknowledge = false;        // unlock
    std::string constraint_id;       // authorisations
    bool all = false;                // authorisations
    double lat = 0, lng = 0;         // check
    double alt_m = 0;                // check (with has_alt)
    double radius_m = 1000;          // check
    std::string time;                // check (RFC 3339)
    int64_t since = 0;               // watch
    double heartbeat_s = 0;          // watch; 0: the server's default
    int64_t count = 0;               // watch; 0: unbounded
    double watch_timeout_s = 0;      // watch; 0: unbounded
  };

 private:
  CLI::App* constraint_ = nullptr;
  CLI::App* publish_ = nullptr;
  CLI::App* get_ = nullptr;
  CLI::App* withdraw_ = nullptr;
  CLI::App* query_ = nullptr;
  CLI::App* grant_ = nullptr;
  CLI::App* unlock_ = nullptr;
  CLI::App* revoke_ = nullptr;
  CLI::App* authorisations_ = nullptr;
  CLI::App* check_ = nullptr;
  CLI::App* watch_ = nullptr;
  CLI::Option* alt_option_ = nullptr;
  ConnectionOptions options_;  // shared by every subcommand
  Args args_;
};

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_CONSTRAINT_COMMANDS_H_
