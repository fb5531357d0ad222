#include "services/utmctl/fleet_commands.h"

#include <cmath>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "services/utmctl/channel.h"
#include "services/utmctl/constraint_commands.h"
#include "services/utmctl/geo_commands.h"
#include "services/utmctl/intent_commands.h"
#include "services/utmctl/proto_json.h"
#include "services/utmctl/stream_watchdog.h"
#include "utm/v1/operator.grpc.pb.h"

namespace utm::ctl {
namespace {

using Client = ServiceClient<v1::OperatorService>;

std::string Lower(absl::string_view name, absl::string_view prefix) {
  return absl::AsciiStrToLower(absl::StripPrefix(name, prefix));
}

// One line per aircraft:
//   <aircraft> intent <id> <state> <lat>,<lng> <alt> m <v> m/s at <time>
//   (<n> positions in 60 s), shown as <remote id>[; alerts: <kind> <id>...]
void PrintAircraft(const v1::FleetAircraft& a) {
  std::cout << a.aircraft_id();
  if (!a.intent_id().empty()) {
    std::cout << " intent " << a.intent_id() << " "
              << Lower(v1::IntentState_Name(a.intent_state()), "INTENT_STATE_");
  } else {
    std::cout << " no intent";
  }
  std::cout << " "
            << absl::StrFormat("%.6f,%.6f", a.position().lat_deg(),
                               a.position().lng_deg());
  if (a.has_altitude()) {
    std::cout << absl::StrFormat(" %.1f m", a.altitude().value_m());
  }
  if (a.has_velocity()) {
    std::cout << absl::StrFormat(
        " %.1f m/s",
        std::hypot(a.velocity().north_mps(), a.velocity().east_mps()));
  }
  std::cout << " at " << Rfc3339(a.time()) << " (" << a.recent_positions_size()
            << " positions in 60 s), shown as " << a.remote_id();
  if (a.alerts_size() > 0) {
    std::cout << "; alerts:";
    for (const v1::Alert& alert : a.alerts()) {
      std::cout << " " << Lower(v1::AlertKind_Name(alert.kind()), "ALERT_KIND_")
                << " " << alert.id() << " ["
                << absl::StrJoin(alert.aircraft_ids(), ",") << "]";
    }
  }
  std::cout << "\n";
}

}  // namespace

FleetCommands::FleetCommands(CLI::App* app) {
  fleet_ = app->add_subcommand(
      "fleet", "Your own aircraft (an operator's token): the fleet, live");
  fleet_->require_subcommand(1);
  fleet_->fallthrough();
  AddConnectionFlags(fleet_, &options_, "JSON output (the update messages)");
  watch_ = fleet_->add_subcommand(
      "watch",
      "Every aircraft of yours that reported in the last 60 s, with its "
      "intent and open alerts, again every --period-ms");
  watch_
      ->add_option("--period-ms", period_ms_,
                   "Between updates, 100 to 60000 ms")
      ->capture_default_str();
  watch_->add_option("--count", count_, "Exit after this many updates");
  watch_->add_option("--timeout-s", timeout_s_, "Exit after this many seconds");
}

bool FleetCommands::parsed() const { return fleet_->parsed(); }

int FleetCommands::Run() {
  if (watch_->parsed()) return Watch();
  return kExitUsage;
}

int FleetCommands::Watch() {
  if (count_ < 0 || timeout_s_ < 0) {
    std::cerr << "--count and --timeout-s must not be negative\n";
    return kExitUsage;
  }
  v1::WatchFleetRequest request;
  request.mutable_period()->set_seconds(period_ms_ / 1000);
  request.mutable_period()->set_nanos(static_cast<int32_t>(period_ms_ % 1000) *
                                      1000000);
  CatchStopSignals();
  Client client(options_);
  std::unique_ptr<grpc::ClientContext> context = client.StreamContext();
  std::unique_ptr<grpc::ClientReader<v1::FleetUpdate>> reader =
      client.stub()->WatchFleet(context.get(), request);
  grpc::Status status;
  const WatchEnd end = RunWatch<v1::FleetUpdate>(
      context.get(), reader.get(), count_, timeout_s_,
      [&](const v1::FleetUpdate& update) {
        if (options_.json) {
          std::cout << ProtoJson(update) << std::endl;
          return;
        }
        std::cout << Rfc3339(update.server_time()) << " update "
                  << update.sequence() << ": " << update.aircraft_size()
                  << " aircraft" << (update.truncated() ? " (truncated)" : "")
                  << "\n";
        for (const v1::FleetAircraft& a : update.aircraft()) PrintAircraft(a);
        std::cout << std::flush;
      },
      &status);
  return WatchExitCode(end, status);
}

}  // namespace utm::ctl
