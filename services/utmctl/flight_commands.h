// `utmctl flight ...`: an operator's own flight logs
// (utm.v1.OperatorService ListFlights, GetFlightLog). `list`: the caller's
// flights, newest first; `log ID`: one flight log as GeoJSON, CSV or KML,
// written as it is received (services/operator/flight_export.h). docs/utmctl.md lists the
// output and exit codes.
//
// Typical usage (main.cc):
//   utm::ctl::FlightCommands flight(&app);  // before app.parse()
//   ...
//   if (flight.parsed()) return flight.Run();
#ifndef UTM_SERVICES_UTMCTL_FLIGHT_COMMANDS_H_
#define UTM_SERVICES_UTMCTL_FLIGHT_COMMANDS_H_

#include <string>

#include "CLI/CLI.hpp"
#include "services/utmctl/connection.h"

namespace utm::ctl {

// The `flight` command and its subcommands, added to a CLI11 app. Not
// thread-safe; lives as long as the app.
class FlightCommands {
 public:
  // Adds `flight` to `app` (not owned, outlives this).
  explicit FlightCommands(CLI::App* app);
  FlightCommands(const FlightCommands&) = delete;
  FlightCommands& operator=(const FlightCommands&) = delete;

  // Whether the command line named `flight` (after app->parse()).
  bool parsed() const;
  // Runs the parsed subcommand; returns the process exit code.
  int Run();

 private:
  int List();
  int Log();

  ConnectionOptions options_;
  CLI::App* flight_ = nullptr;
  CLI::App* list_ = nullptr;
  CLI::App* log_ = nullptr;
  int limit_ = 0;
  std::string flight_id_;
  std::string format_ = "geojson";
  std::string out_;
};

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_FLIGHT_COMMANDS_H_
