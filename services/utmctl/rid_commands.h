// `utmctl rid ...`: a gRPC client of utm.v1.RemoteIdService.
//   view     the aircraft in a view now (SearchFlights);
//   watch    the same, again every period (WatchFlights);
//   details  who flies one of them: law enforcement, with --case;
//   publish  replays network Remote ID test flights (the InterUSS
//            injection JSON) in real time, or all at once (PublishFlights);
//   replay   streams the broadcast frames of a pcap / pcapng capture as a
//            ground receiver (ReportReceptions).
// docs/utmctl.md lists the output and exit codes.
//
// Typical usage (main.cc):
//   utm::ctl::RidCommands rid(&app);  // before app.parse()
//   ...
//   if (rid.parsed()) return rid.Run();
#ifndef UTM_SERVICES_UTMCTL_RID_COMMANDS_H_
#define UTM_SERVICES_UTMCTL_RID_COMMANDS_H_

#include <cstdint>
#include <string>

#include "CLI/CLI.hpp"
#include "services/utmctl/connection.h"

namespace utm::ctl {

class RidCommands {
 public:
  // Adds `rid` to `app` (not owned, outlives this).
  explicit RidCommands(CLI::App* app);

  RidCommands(const RidCommands&) = delete;
  RidCommands& operator=(const RidCommands&) = delete;

  bool parsed() const;
  int Run();

  struct ViewArgs {
    std::string bbox;    // minlat,minlng,maxlat,maxlng
    std::string around;  // lat,lng,side_m
  };
  struct WatchArgs {
    ViewArgs view;
    int64_t period_ms = 1000;
    int64_t count = 0;     // updates; 0: unbounded
    double timeout_s = 0;  // 0: unbounded
  };
  struct DetailsArgs {
    std::string id;
    std::string case_reference;
  };
  struct PublishArgs {
    std::string file;
    bool all_at_once = false;
  };
  struct ReplayArgs {
    std::string capture;
    std::string receiver_position;  // lat,lng
    bool all_at_once = false;
  };

 private:
  CLI::App* rid_ = nullptr;
  CLI::App* view_ = nullptr;
  CLI::App* watch_ = nullptr;
  CLI::App* details_ = nullptr;
  CLI::App* publish_ = nullptr;
  CLI::App* replay_ = nullptr;
  ConnectionOptions options_;
  ViewArgs view_args_;
  WatchArgs watch_args_;
  DetailsArgs details_args_;
  PublishArgs publish_args_;
  ReplayArgs replay_args_;
};

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_RID_COMMANDS_H_
