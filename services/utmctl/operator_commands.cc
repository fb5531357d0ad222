#include "services/utmctl/operator_commands.h"

#include <iostream>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/utmctl/channel.h"
#include "services/utmctl/geo_commands.h"
#include "services/utmctl/intent_commands.h"
#include "services/utmctl/proto_json.h"
#include "utm/v1/operator.grpc.pb.h"

namespace utm::ctl {
namespace {

using Client = ServiceClient<v1::OperatorService>;

// "30d" (whole days) or an absl duration ("720h", "90m", "45s"); nullopt
// when malformed. The server checks the range.
std::optional<absl::Duration> ParseRetention(const std::string& text) {
  int64_t days = 0;
  if (!text.empty() && text.back() == 'd' &&
      absl::SimpleAtoi(text.substr(0, text.size() - 1), &days)) {
    return absl::Hours(24) * days;
  }
  absl::Duration d;
  if (absl::ParseDuration(text, &d)) return d;
  return std::nullopt;
}

// "local data mode on, flight logs kept 30 days (2592000 s)"
void Print(const v1::DataSettings& s) {
  const int64_t seconds = s.flight_log_retention().seconds();
  std::cout << "local data mode " << (s.local_data_mode() ? "on" : "off")
            << ", flight logs kept ";
  if (seconds % 86400 == 0) {
    std::cout << seconds / 86400 << " days";
  } else {
    std::cout << absl::FormatDuration(absl::Seconds(seconds));
  }
  std::cout << " (" << seconds << " s)\n";
}

}  // namespace

OperatorCommands::OperatorCommands(CLI::App* app) {
  operator_ = app->add_subcommand(
      "operator",
      "Your own data (an operator's token): its settings, an export of all "
      "of it, its erasure");
  operator_->require_subcommand(1);
  operator_->fallthrough();
  AddConnectionFlags(operator_, &options_,
                     "JSON output (the settings, the erasure's answer)");
  settings_ = operator_->add_subcommand(
      "settings",
      "Shows your data settings, or changes them: Local Data Mode (nothing "
      "about your flights is written anywhere) and flight-log retention");
  settings_
      ->add_option("--local-data-mode", local_data_mode_,
                   "on: nothing about your flights is written from now on; "
                   "off: kept as usual")
      ->check(CLI::IsMember({"on", "off"}));
  settings_->add_option("--flight-log-retention", retention_,
                        "How long flight logs are kept after the flight: "
                        "30d, 720h, 90m ... (more than 0, at most 5 years)");
}

bool OperatorCommands::parsed() const { return operator_->parsed(); }

int OperatorCommands::Run() {
  if (settings_->parsed()) return Settings();
  return kExitUsage;
}

int OperatorCommands::Settings() {
  Client client(options_);
  v1::DataSettings settings;
  grpc::Status status;
  if (local_data_mode_.empty() && retention_.empty()) {
    v1::GetDataSettingsResponse response;
    status = client.stub()->GetDataSettings(
        client.Context().get(), v1::GetDataSettingsRequest(), &response);
    settings = response.settings();
  } else {
    v1::SetDataSettingsRequest request;
    if (!local_data_mode_.empty()) {
      request.set_local_data_mode(local_data_mode_ == "on");
    }
    if (!retention_.empty()) {
      std::optional<absl::Duration> d = ParseRetention(retention_);
      if (!d) {
        std::cerr << "--flight-log-retention: expected a duration (30d, "
                     "720h, 90m), not "
                  << retention_ << "\n";
        return kExitUsage;
      }
      request.mutable_flight_log_retention()->set_seconds(
          absl::ToInt64Seconds(*d));
    }
    v1::SetDataSettingsResponse response;
    status = client.stub()->SetDataSettings(client.Context().get(), request,
                                            &response);
    settings = response.settings();
  }
  if (!status.ok()) return ExitForStatus(status);
  if (options_.json) {
    std::cout << ProtoJson(settings) << "\n";
  } else {
    Print(settings);
  }
  return 0;
}

}  // namespace utm::ctl
