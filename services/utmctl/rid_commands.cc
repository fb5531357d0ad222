#include "services/utmctl/rid_commands.h"

#include <grpcpp/client_context.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "geo/geodesy.h"
#include "services/common/volume_convert.h"
#include "services/remoteid/broadcast/capture.h"
#include "services/remoteid/broadcast/odid.h"
#include "services/remoteid/broadcast/retime.h"
#include "services/remoteid/display_view.h"
#include "services/remoteid/network_flights.h"
#include "services/utmctl/area_flags.h"
#include "services/utmctl/channel.h"
#include "services/utmctl/constraint_commands.h"
#include "services/utmctl/geo_commands.h"
#include "services/utmctl/intent_commands.h"
#include "services/utmctl/proto_json.h"
#include "services/utmctl/stream_watchdog.h"
#include "utm/v1/remote_id.grpc.pb.h"

namespace utm::ctl {
namespace {

using Options = ConnectionOptions;
using Client = ServiceClient<v1::RemoteIdService>;

// The view of --bbox or --around; prints why not and returns false.
bool ReadView(const RidCommands::ViewArgs& args, v1::LatLngRect* view) {
  if (args.bbox.empty() == args.around.empty()) {
    std::cerr << "give exactly one of --bbox and --around\n";
    return false;
  }
  std::vector<double> n;
  if (!args.bbox.empty()) {
    if (!ParseNumbers(args.bbox, 4, &n)) {
      std::cerr << "--bbox \"" << args.bbox
                << "\": want minlat,minlng,maxlat,maxlng in degrees\n";
      return false;
    }
    view->mutable_south_west()->set_lat_deg(n[0]);
    view->mutable_south_west()->set_lng_deg(n[1]);
    view->mutable_north_east()->set_lat_deg(n[2]);
    view->mutable_north_east()->set_lng_deg(n[3]);
    return true;
  }
  if (!ParseNumbers(args.around, 3, &n) || n[2] <= 0 || n[2] > 10000 ||
      n[0] < -89 || n[0] > 89 || n[1] < -180 || n[1] > 180) {
    std::cerr << "--around \"" << args.around
              << "\": want lat,lng,side_m (degrees; a side of more than 0 "
                 "and at most 10000 m)\n";
    return false;
  }
  *view = remoteid::DisplayView::SquareAround({n[0], n[1]}, n[2]);
  return true;
}

std::string SourceName(v1::RidSource s) {
  return absl::AsciiStrToLower(
      absl::StripPrefix(v1::RidSource_Name(s), "RID_SOURCE_"));
}

std::string StatusName(v1::RidOperationalStatus s) {
  return absl::AsciiStrToLower(absl::StripPrefix(
      v1::RidOperationalStatus_Name(s), "RID_OPERATIONAL_STATUS_"));
}

// One line per flight:
//   <id> <source> <lat>,<lng> <alt> m <speed> m/s track <deg> <status>
//   at <time> (<n> positions in 60 s)
void PrintFlight(const v1::RidFlight& f) {
  std::cout << f.id() << " " << SourceName(f.source()) << " "
            << absl::StrFormat("%.6f,%.6f", f.position().lat_deg(),
                               f.position().lng_deg());
  if (f.has_altitude()) {
    std::cout << absl::StrFormat(" %.1f m", f.altitude().value_m());
  }
  if (f.has_velocity()) {
    std::cout << absl::StrFormat(" %.1f m/s track %.0f", f.speed_mps(),
                                 f.track_deg());
  }
  std::cout << " " << StatusName(f.status()) << " at " << Rfc3339(f.time())
            << " (" << f.recent_positions_size() << " positions in 60 s)";
  if (f.has_operator_location()) {
    std::cout << absl::StrFormat(" pilot at %.6f,%.6f",
                                 f.operator_location().lat_deg(),
                                 f.operator_location().lng_deg());
  }
  std::cout << "\n";
}

void PrintCluster(const v1::RidCluster& c) {
  std::cout << "cluster of " << c.aircraft_count() << " aircraft in "
            << absl::StrFormat("%.2f km²", c.area_m2() / 1e6) << ":";
  for (const v1::LatLng& p : c.corners()) {
    std::cout << absl::StrFormat(" %.5f,%.5f", p.lat_deg(), p.lng_deg());
  }
  std::cout << "\n";
}

int View(const Options& options, const RidCommands::ViewArgs& args) {
  v1::SearchFlightsRequest request;
  if (!ReadView(args, request.mutable_view())) return kExitUsage;
  Client client(options);
  v1::SearchFlightsResponse response;
  const grpc::Status status =
      client.stub()->SearchFlights(client.Context().get(), request, &response);
  if (!status.ok()) return ExitForStatus(status);
  if (options.json) {
    std::cout << ProtoJson(response) << "\n";
    return 0;
  }
  for (const v1::RidFlight& f : response.flights()) PrintFlight(f);
  for (const v1::RidCluster& c : response.clusters()) PrintCluster(c);
  if (response.flights_size() == 0 && response.clusters_size() == 0) {
    std::cout << "no aircraft in the view\n";
  }
  return 0;
}

int Watch(const Options& options, const RidCommands::WatchArgs& args) {
  v1::WatchFlightsRequest request;
  if (!ReadView(args.view, request.mutable_view())) return kExitUsage;
  if (args.count < 0 || args.timeout_s < 0) {
    std::cerr << "--count and --timeout-s must not be negative\n";
    return kExitUsage;
  }
  request.mutable_period()->set_seconds(args.period_ms / 1000);
  request.mutable_period()->set_nanos(
      static_cast<int32_t>(args.period_ms % 1000) * 1000000);
  CatchStopSignals();
  Client client(options);
  std::unique_ptr<grpc::ClientContext> context = client.StreamContext();
  std::unique_ptr<grpc::ClientReader<v1::FlightsUpdate>> reader =
      client.stub()->WatchFlights(context.get(), request);
  grpc::Status status;
  const WatchEnd end = RunWatch<v1::FlightsUpdate>(
      context.get(), reader.get(), args.count, args.timeout_s,
      [&](const v1::FlightsUpdate& update) {
        if (options.json) {
          std::cout << ProtoJson(update) << std::endl;
          return;
        }
        std::cout << Rfc3339(update.server_time()) << " update "
                  << update.sequence() << ": " << update.flights_size()
                  << " flight(s), " << update.clusters_size()
                  << " cluster(s)\n";
        for (const v1::RidFlight& f : update.flights()) PrintFlight(f);
        for (const v1::RidCluster& c : update.clusters()) PrintCluster(c);
        std::cout << std::flush;
      },
      &status);
  return WatchExitCode(end, status);
}

int Details(const Options& options, const RidCommands::DetailsArgs& args) {
  v1::GetFlightDetailsRequest request;
  request.set_id(args.id);
  request.set_case_reference(args.case_reference);
  Client client(options);
  v1::GetFlightDetailsResponse response;
  const grpc::Status status = client.stub()->GetFlightDetails(
      client.Context().get(), request, &response);
  if (!status.ok()) return ExitForStatus(status);
  const v1::RidFlightDetails& d = response.details();
  if (options.json) {
    std::cout << ProtoJson(d) << "\n";
    return 0;
  }
  auto line = [](absl::string_view name, const std::string& value) {
    if (!value.empty()) std::cout << name << ": " << value << "\n";
  };
  line("id", d.id());
  line("source", SourceName(d.source()));
  line("ua_type", absl::AsciiStrToLower(absl::StripPrefix(
                      v1::UaType_Name(d.ua_type()), "UA_TYPE_")));
  line("serial_number", d.serial_number());
  line("registration_id", d.registration_id());
  line("operator_id", d.operator_id());
  if (d.has_operator_location()) {
    line("operator_location",
         absl::StrFormat("%.6f,%.6f", d.operator_location().lat_deg(),
                         d.operator_location().lng_deg()));
  }
  line("operator_account", d.operator_account());
  line("aircraft_id", d.aircraft_id());
  line("intent_id", d.intent_id());
  line("description", d.description());
  line("make_model", d.make_model());
  line("registry", d.registry_status());
  for (const std::string& r : d.receivers()) line("heard_by", r);
  return 0;
}

int Publish(const Options& options, const RidCommands::PublishArgs& args) {
  std::ifstream in(args.file);
  if (!in) {
    std::cerr << args.file << ": cannot open\n";
    return kExitIo;
  }
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<remoteid::NetworkTestFlights> flights =
      remoteid::ParseNetworkTestFlights(text.str());
  if (!flights.ok()) {
    std::cerr << args.file << ": " << flights.status().message() << "\n";
    return kExitInvalid;
  }
  Client client(options);
  int64_t sent = 0;
  auto send = [&](const v1::PublishFlightsRequest& request) -> int {
    if (request.flights_size() == 0) return 0;
    v1::PublishFlightsResponse response;
    const grpc::Status status = client.stub()->PublishFlights(
        client.Context().get(), request, &response);
    if (!status.ok()) return ExitForStatus(status);
    sent += response.states_accepted();
    return 0;
  };
  const absl::Time start = absl::Now();
  if (args.all_at_once) {
    // The whole recording, moved so that its last state is now: the
    // server keeps at most the last minute of it.
    const absl::Duration shift = start - flights->end_time();
    const absl::Time oldest = flights->end_time() - absl::Seconds(55);
    if (int code = send(flights->StatesBetween(oldest - absl::Nanoseconds(1),
                                               absl::InfiniteFuture(), shift));
        code != 0) {
      return code;
    }
  } else {
    // In real time: the recording's reference time is now.
    CatchStopSignals();
    const absl::Duration shift = start - flights->reference_time;
    absl::Time done = absl::InfinitePast();
    while (StopSignal() == 0) {
      const absl::Time upto = absl::Now() - shift;
      if (int code = send(flights->StatesBetween(done, upto, shift));
          code != 0) {
        return code;
      }
      done = upto;
      if (upto >= flights->end_time()) break;
      absl::SleepFor(absl::Milliseconds(200));
    }
  }
  std::cout << "published " << sent << " state(s) of "
            << flights->flights.size() << " flight(s)\n";
  return 0;
}

v1::RidTransport TransportOf(remoteid::broadcast::Transport t) {
  using remoteid::broadcast::Transport;
  switch (t) {
    case Transport::kBluetoothLegacy:
      return v1::RID_TRANSPORT_BLUETOOTH_LEGACY;
    case Transport::kBluetoothLongRange:
      return v1::RID_TRANSPORT_BLUETOOTH_LONG_RANGE;
    case Transport::kWifiNan:
      return v1::RID_TRANSPORT_WIFI_NAN;
    case Transport::kWifiBeacon:
      return v1::RID_TRANSPORT_WIFI_BEACON;
  }
  return v1::RID_TRANSPORT_UNSPECIFIED;
}

// Streams a capture's Remote ID frames as a ground receiver would have
// heard them now: the first frame now (or, --all-at-once, the last frame
// now and every frame at once), each Location's own time stamp moved with
// its frame.
int Replay(const Options& options, const RidCommands::ReplayArgs& args) {
  std::vector<double> at;
  if (!ParseNumbers(args.receiver_position, 2, &at) || std::abs(at[0]) > 90 ||
      std::abs(at[1]) > 180) {
    std::cerr << "--receiver-position \"" << args.receiver_position
              << "\": want lat,lng in degrees\n";
    return kExitUsage;
  }
  std::vector<remoteid::broadcast::SkippedFrame> skipped;
  absl::StatusOr<std::vector<remoteid::broadcast::CapturedFrame>> frames =
      remoteid::broadcast::ReadCapture(args.capture, &skipped);
  if (!frames.ok()) {
    std::cerr << args.capture << ": " << frames.status().message() << "\n";
    return absl::IsNotFound(frames.status()) ? kExitIo : kExitInvalid;
  }
  for (const auto& s : skipped) {
    std::cerr << args.capture << ": frame " << s.frame_number
              << " skipped: " << s.reason << "\n";
  }
  if (frames->empty()) {
    std::cerr << args.capture << ": no Remote ID frames\n";
    return kExitInvalid;
  }
  Client client(options);
  const absl::Time start = absl::Now();
  const absl::Time first = frames->front().time;
  const absl::Duration shift =
      args.all_at_once ? start - frames->back().time : start - first;
  int64_t sent = 0, accepted = 0, positions = 0, refused = 0;
  auto send = [&](v1::ReportReceptionsRequest* request) -> int {
    if (request->frames_size() == 0) return 0;
    v1::ReportReceptionsResponse response;
    const grpc::Status status = client.stub()->ReportReceptions(
        client.Context().get(), *request, &response);
    if (!status.ok()) return ExitForStatus(status);
    sent += request->frames_size();
    accepted += response.accepted_frames();
    positions += response.aircraft_positions();
    for (const v1::FrameError& e : response.errors()) {
      ++refused;
      std::cerr << "replay: " << e.message() << "\n";
    }
    request->clear_frames();
    return 0;
  };
  v1::ReportReceptionsRequest request;
  request.mutable_receiver_position()->set_lat_deg(at[0]);
  request.mutable_receiver_position()->set_lng_deg(at[1]);
  CatchStopSignals();
  for (const remoteid::broadcast::CapturedFrame& f : *frames) {
    if (StopSignal() != 0) break;
    const absl::Time heard = f.time + shift;
    if (!args.all_at_once && heard > absl::Now()) {
      // In real time: what is due goes now, then wait for this frame.
      if (int code = send(&request); code != 0) return code;
      absl::SleepFor(heard - absl::Now());
    }
    std::string payload(remoteid::broadcast::TrimPackPadding(f.payload));
    if (absl::Status s =
            remoteid::broadcast::RetimeLocations(&payload, f.time, heard);
        !s.ok()) {
      // Sent as heard: the server names what is wrong with it.
      payload = f.payload;
    }
    v1::ReceivedFrame* out = request.add_frames();
    out->set_payload(payload);
    out->set_transmitter(f.transmitter);
    *out->mutable_receive_time() = TimeToProto(heard);
    out->set_rssi_dbm(f.rssi_dbm.value_or(0));
    out->set_transport(TransportOf(f.transport));
    if (request.frames_size() >= 500) {
      if (int code = send(&request); code != 0) return code;
    }
  }
  if (int code = send(&request); code != 0) return code;
  std::cout << "replayed " << sent << " frame(s): " << accepted << " accepted, "
            << refused << " refused, " << positions
            << " aircraft position(s)\n";
  return refused > 0 ? kExitInvalid : 0;
}

void AddViewFlags(CLI::App* app, RidCommands::ViewArgs* args) {
  CLI::Option* bbox = app->add_option(
      "--bbox", args->bbox,
      "The view: minlat,minlng,maxlat,maxlng (degrees; at most 7 km across, "
      "flights up to 2 km, clusters above)");
  app->add_option("--around", args->around,
                  "The view: lat,lng,side_m, a square around a point")
      ->excludes(bbox);
}

}  // namespace

RidCommands::RidCommands(CLI::App* app) {
  rid_ =
      app->add_subcommand("rid",
                          "Remote ID: who is flying in a view; details for law "
                          "enforcement; publish or replay Remote ID");
  rid_->require_subcommand(1);
  rid_->fallthrough();
  AddConnectionFlags(rid_, &options_, "JSON output (the response messages)");

  view_ = rid_->add_subcommand("view", "The aircraft in a view now");
  AddViewFlags(view_, &view_args_);

  watch_ = rid_->add_subcommand(
      "watch", "The aircraft in a view, again every --period-ms");
  AddViewFlags(watch_, &watch_args_.view);
  watch_
      ->add_option("--period-ms", watch_args_.period_ms,
                   "Between updates, 100 to 1000 ms")
      ->capture_default_str();
  watch_->add_option("--count", watch_args_.count,
                     "Exit after this many updates");
  watch_->add_option("--timeout-s", watch_args_.timeout_s,
                     "Exit after this many seconds");

  details_ = rid_->add_subcommand(
      "details",
      "Who flies an aircraft of the display (law enforcement; audited)");
  details_->add_option("id", details_args_.id, "The Remote ID shown")
      ->required();
  details_
      ->add_option("--case", details_args_.case_reference,
                   "The warrant, subpoena or court order id")
      ->required();

  publish_ = rid_->add_subcommand(
      "publish",
      "Replay network Remote ID test flights (InterUSS injection JSON) as "
      "your flights, in real time");
  publish_->add_option("file", publish_args_.file, "The flights file")
      ->required()
      ->check(CLI::ExistingFile);
  publish_->add_flag("--all-at-once", publish_args_.all_at_once,
                     "Send the last minute of the recording at once, moved "
                     "so that it ends now");

  replay_ = rid_->add_subcommand(
      "replay",
      "Stream the broadcast Remote ID frames of a pcap / pcapng capture as a "
      "ground receiver (a receiver token), in real time from now");
  replay_->add_option("capture", replay_args_.capture, "The capture file")
      ->required()
      ->check(CLI::ExistingFile);
  replay_
      ->add_option("--receiver-position", replay_args_.receiver_position,
                   "Where the receiver is: lat,lng (degrees)")
      ->required();
  replay_->add_flag("--all-at-once", replay_args_.all_at_once,
                    "Send every frame at once, moved so that the last was "
                    "heard now");
}

bool RidCommands::parsed() const { return rid_->parsed(); }

int RidCommands::Run() {
  if (view_->parsed()) return View(options_, view_args_);
  if (watch_->parsed()) return Watch(options_, watch_args_);
  if (details_->parsed()) return Details(options_, details_args_);
  if (publish_->parsed()) return Publish(options_, publish_args_);
  if (replay_->parsed()) return Replay(options_, replay_args_);
  return kExitUsage;
}

}  // namespace utm::ctl
