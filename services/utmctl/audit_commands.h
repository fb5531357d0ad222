// `utmctl audit ...`: reads and verifies the audit log of disclosures.
// `verify` checks the hash chain (services/common/audit/audit_chain.h) of a
// local audit.log offline (--file), or of the whole log read through utmd
// with an auditor's token, against the head utmd reports; `list` prints
// entries. docs/utmctl.md lists the output and exit codes.
//
// Typical usage (main.cc):
//   utm::ctl::AuditCommands audit(&app);  // before app.parse()
//   ...
//   if (audit.parsed()) return audit.Run();
#ifndef UTM_SERVICES_UTMCTL_AUDIT_COMMANDS_H_
#define UTM_SERVICES_UTMCTL_AUDIT_COMMANDS_H_

#include <cstdint>
#include <string>

#include "CLI/CLI.hpp"
#include "services/utmctl/connection.h"

namespace utm::ctl {

// `audit verify`: the chain does not verify (the first bad entry is named).
inline constexpr int kExitAuditBroken = 1;

// The `audit` command and its subcommands, added to a CLI11 app. Not
// thread-safe; lives as long as the app.
class AuditCommands {
 public:
  // Adds `audit` to `app` (not owned, outlives this).
  explicit AuditCommands(CLI::App* app);
  AuditCommands(const AuditCommands&) = delete;
  AuditCommands& operator=(const AuditCommands&) = delete;

  // Whether the command line named `audit` (after app->parse()).
  bool parsed() const;
  // Runs the parsed subcommand; returns the process exit code.
  int Run();

 private:
  int Verify();
  int List();

  ConnectionOptions options_;
  CLI::App* audit_ = nullptr;
  CLI::App* verify_ = nullptr;
  CLI::App* list_ = nullptr;
  std::string file_;   // verify: a local audit.log instead of the server
  std::string head_;   // verify: "<seq> <hash>" the chain must pass through
  int64_t after_ = 0;  // list
  int64_t limit_ = 100;  // list
};

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_AUDIT_COMMANDS_H_
