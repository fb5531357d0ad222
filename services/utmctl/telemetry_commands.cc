#include "services/utmctl/telemetry_commands.h"

#include <grpcpp/client_context.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "geo/geodesy.h"
#include "geo/latlng.h"
#include "services/common/volume_convert.h"
#include "services/utmctl/channel.h"
#include "services/utmctl/constraint_commands.h"
#include "services/utmctl/geo_commands.h"
#include "services/utmctl/intent_commands.h"
#include "services/utmctl/proto_json.h"
#include "services/utmctl/stream_watchdog.h"
#include "utm/v1/telemetry.grpc.pb.h"

namespace utm::ctl {
namespace {

using Options = ConnectionOptions;
using FlyArgs = TelemetryCommands::FlyArgs;
using WatchArgs = TelemetryCommands::WatchArgs;

// The server's limits on a report (services/telemetry/telemetry_core.h),
// checked here too so that a bad flag fails before anything is sent.
// Speed: the implausible bound (utmd tracks and flags faster aircraft than its
// 50 m/s speed limit, and refuses only what no aircraft near drones flies).
constexpr double kMaxSpeedMps = 250;
constexpr double kMaxAccuracyM = 10000;
constexpr double kMinAltitudeM = -1000;
constexpr double kMaxAltitudeM = 50000;
constexpr double kMaxRateHz = 10;
constexpr double kMaxDurationS = 24 * 3600;

using Client = ServiceClient<v1::TelemetryService>;

std::string KindName(v1::AlertKind kind) {
  return std::string(
      absl::StripPrefix(v1::AlertKind_Name(kind), "ALERT_KIND_"));
}
std::string StateName(v1::AlertState state) {
  return std::string(
      absl::StripPrefix(v1::AlertState_Name(state), "ALERT_STATE_"));
}
bool IsConflict(v1::AlertKind kind) {
  return kind == v1::ALERT_KIND_CONFLICT_PREDICTED ||
         kind == v1::ALERT_KIND_CONFLICT_IMMINENT ||
         kind == v1::ALERT_KIND_SEPARATION_LOST;
}
double Seconds(const google::protobuf::Duration& d) {
  return static_cast<double>(d.seconds()) + d.nanos() * 1e-9;
}

// Kinds from repeated, comma-separated flags: "conflict_predicted",
// "CONFLICT_PREDICTED" or "ALERT_KIND_CONFLICT_PREDICTED". Prints why not
// and returns false.
bool ParseKinds(const std::string& flag, const std::vector<std::string>& lists,
                std::set<v1::AlertKind>* kinds) {
  for (const std::string& list : lists) {
    for (absl::string_view text :
         absl::StrSplit(list, ',', absl::SkipWhitespace())) {
      std::string name =
          absl::AsciiStrToUpper(absl::StripAsciiWhitespace(text));
      if (!absl::StartsWith(name, "ALERT_KIND_")) {
        name = absl::StrCat("ALERT_KIND_", name);
      }
      v1::AlertKind kind;
      if (!v1::AlertKind_Parse(name, &kind) ||
          kind == v1::ALERT_KIND_UNSPECIFIED) {
        std::cerr << flag << " \"" << text
                  << "\": not an alert kind; want conflict_predicted, "
                     "conflict_imminent, separation_lost, nonconformance, "
                     "geofence_entry, lost_link, unknown_intent, "
                     "speed_above_limit or registration_revoked\n";
        return false;
      }
      kinds->insert(kind);
    }
  }
  return true;
}

// One line per alert:
//   <update time> <STATE> <KIND> <aircraft...>: <details>
// Conflicts give the time to loss of separation and the closest approach;
// other kinds the server's message. CLEARED lines end after the aircraft.
std::string AlertLine(const v1::Alert& a) {
  std::string line = absl::StrCat(Rfc3339(a.update_time()), " ",
                                  StateName(a.state()), " ", KindName(a.kind()),
                                  " ", absl::StrJoin(a.aircraft_ids(), " "));
  if (a.state() == v1::ALERT_STATE_CLEARED) return line;
  if (IsConflict(a.kind())) {
    absl::StrAppend(
        &line, ": ",
        a.kind() == v1::ALERT_KIND_SEPARATION_LOST
            ? std::string("separation lost")
            : absl::StrFormat("separation lost in %.1f s",
                              Seconds(a.time_to_loss_of_separation())),
        absl::StrFormat(
            ", closest %.0f m horizontally and %.0f m vertically at %s",
            a.horizontal_distance_at_cpa_m(), a.vertical_distance_at_cpa_m(),
            Rfc3339(a.time_of_closest_approach())));
  } else if (!a.message().empty()) {
    absl::StrAppend(&line, ": ", a.message());
  }
  return line;
}

void PrintAlert(const v1::Alert& a, bool json) {
  // Every field, zeros included, so that scripts find each one (a head-on
  // encounter's 0 m at closest approach, an empty constraint id).
  std::cout << (json ? ProtoJson(a, /*with_defaults=*/true) : AlertLine(a))
            << "\n";
  // A script reading through a pipe or a file sees each alert as it
  // arrives.
  std::cout.flush();
}

// The flight `fly` flies, from its flags.
struct Flight {
  geo::LatLng from;
  double altitude_m = 0;
  double north_mps = 0, east_mps = 0, up_mps = 0;
  std::set<v1::AlertKind> until;
};
// Checks the flags of `fly`; prints why not and returns false.
bool ParseFlight(const FlyArgs& a, Flight* f) {
  if (a.aircraft_id.empty() || a.aircraft_id.size() > 128) {
    std::cerr << "--aircraft: required, at most 128 bytes\n";
    return false;
  }
  if (a.intent_id.empty()) {
    std::cerr << "--intent: required (the id of an ACTIVATED intent of "
                 "yours)\n";
    return false;
  }
  std::vector<double> v;
  if (!ParseNumbers(a.from, 3, &v)) {
    std::cerr << "--from \"" << a.from
              << "\": want LAT,LNG,ALT: degrees WGS84 and metres above the "
                 "WGS84 ellipsoid, e.g. 47.3769,8.5417,550\n";
    return false;
  }
  if (v[0] < -90 || v[0] > 90) {
    std::cerr << "--from \"" << a.from << "\": latitude " << v[0]
              << " is outside [-90, 90]\n";
    return false;
  }
  if (v[1] < -180 || v[1] > 180) {
    std::cerr << "--from \"" << a.from << "\": longitude " << v[1]
              << " is outside [-180, 180]\n";
    return false;
  }
  if (!(v[2] > kMinAltitudeM && v[2] < kMaxAltitudeM)) {
    std::cerr << "--from \"" << a.from << "\": altitude " << v[2]
              << " m is outside (" << kMinAltitudeM << ", " << kMaxAltitudeM
              << ") m above WGS84\n";
    return false;
  }
  f->from = {v[0], v[1]};
  f->altitude_m = v[2];
  if (!ParseNumbers(a.velocity, 3, &v)) {
    std::cerr << "--velocity \"" << a.velocity
              << "\": want NORTH,EAST,UP in m/s, e.g. 0,12,0 (east at "
                 "12 m/s)\n";
    return false;
  }
  const double speed = std::hypot(v[0], v[1]);
  if (speed > kMaxSpeedMps) {
    std::cerr << absl::StrFormat(
        "--velocity \"%s\": horizontal speed %.1f m/s is above %.0f m/s, "
        "the fastest utmd accepts\n",
        a.velocity, speed, kMaxSpeedMps);
    return false;
  }
  if (std::abs(v[2]) > kMaxSpeedMps) {
    std::cerr << absl::StrFormat(
        "--velocity \"%s\": vertical speed %.1f m/s is above %.0f m/s, the "
        "fastest utmd accepts\n",
        a.velocity, std::abs(v[2]), kMaxSpeedMps);
    return false;
  }
  f->north_mps = v[0];
  f->east_mps = v[1];
  f->up_mps = v[2];
  if (!(a.duration_s > 0 && a.duration_s <= kMaxDurationS)) {
    std::cerr << "--duration-s " << a.duration_s << ": want (0, "
              << kMaxDurationS << "] seconds\n";
    return false;
  }
  if (!(a.rate_hz > 0 && a.rate_hz <= kMaxRateHz)) {
    std::cerr << "--rate-hz " << a.rate_hz << ": want (0, " << kMaxRateHz
              << "] reports per second\n";
    return false;
  }
  for (const auto& [flag, value] :
       {std::pair{"--accuracy-h-m", a.accuracy_h_m},
        std::pair{"--accuracy-v-m", a.accuracy_v_m}}) {
    if (!(value >= 0 && value < kMaxAccuracyM)) {
      std::cerr << flag << " " << value << ": want [0, " << kMaxAccuracyM
                << ") metres (95 % confidence)\n";
      return false;
    }
  }
  const double end_altitude_m = f->altitude_m + f->up_mps * a.duration_s;
  if (!(end_altitude_m > kMinAltitudeM && end_altitude_m < kMaxAltitudeM)) {
    std::cerr << "--velocity \"" << a.velocity << "\": climbs to "
              << end_altitude_m << " m in " << a.duration_s << " s, outside ("
              << kMinAltitudeM << ", " << kMaxAltitudeM << ") m above WGS84\n";
    return false;
  }
  if (!(a.drain_timeout_s > 0)) {
    std::cerr << "--drain-timeout-s " << a.drain_timeout_s
              << ": want > 0 seconds\n";
    return false;
  }
  return ParseKinds("--until-alert", a.until_alert, &f->until);
}

int Fly(const Options& options, const FlyArgs& args) {
  Flight flight;
  if (!ParseFlight(args, &flight)) return kExitUsage;
  const double speed_mps = std::hypot(flight.north_mps, flight.east_mps);
  const double azimuth_deg =
      std::atan2(flight.east_mps, flight.north_mps) * 180 / M_PI;

  // SIGINT/SIGTERM: stop reporting, half-close, and exit as if the flight
  // had ended.
  CatchStopSignals();
  Client client(options);
  std::unique_ptr<grpc::ClientContext> context = client.StreamContext();
  std::unique_ptr<grpc::ClientReaderWriter<v1::PositionBatch, v1::AlertBatch>>
      stream = client.stub()->StreamPositions(context.get());

  // The reading thread prints; the main thread reports on a schedule and
  // wakes early when the reader has seen --until-alert or the stream ended.
  std::mutex mu;
  std::condition_variable cv;
  bool reader_done = false;  // guarded by mu
  bool until_seen = false;   // guarded by mu
  int64_t acked = 0;         // guarded by mu
  int64_t alerts = 0;        // guarded by mu
  int64_t refused = 0;       // guarded by mu
  int64_t superseded = 0;    // guarded by mu
  std::string until_kind;    // guarded by mu
  std::thread reader([&] {
    v1::AlertBatch batch;
    while (stream->Read(&batch)) {
      std::lock_guard<std::mutex> lock(mu);
      for (const v1::Alert& a : batch.alerts()) {
        ++alerts;
        PrintAlert(a, options.json);
        if (!until_seen && flight.until.count(a.kind()) &&
            a.state() != v1::ALERT_STATE_CLEARED &&
            std::find(a.aircraft_ids().begin(), a.aircraft_ids().end(),
                      args.aircraft_id) != a.aircraft_ids().end()) {
          until_seen = true;
          until_kind = KindName(a.kind());
        }
      }
      for (const v1::ReportError& e : batch.errors()) {
        ++refused;
        std::cerr << "report refused (batch " << e.batch_seq()
                  << "): " << e.message() << "\n";
      }
      acked = std::max(acked, batch.acked_batch_seq());
      // A running total: reports a newer one of the aircraft replaced
      // before the server got to them (only when reporting faster than it
      // keeps up).
      superseded = std::max(superseded, batch.superseded_reports());
      cv.notify_all();
    }
    std::lock_guard<std::mutex> lock(mu);
    reader_done = true;
    cv.notify_all();
  });

  if (!options.json) {
    std::cerr << absl::StrFormat(
        "fly: %s on intent %s from %.6f,%.6f at %.1f m, %.1f m/s towards "
        "%.0f deg, %+.1f m/s vertically, %g s at %g Hz\n",
        args.aircraft_id, args.intent_id, flight.from.lat_deg,
        flight.from.lng_deg, flight.altitude_m, speed_mps,
        azimuth_deg < 0 ? azimuth_deg + 360 : azimuth_deg, flight.up_mps,
        args.duration_s, args.rate_hz);
  }
  const absl::Time start = absl::Now();
  const absl::Duration period = absl::Seconds(1 / args.rate_hz);
  const absl::Duration duration = absl::Seconds(args.duration_s);
  int64_t seq = 0;
  bool write_failed = false;
  auto stopping = [&]() {  // with mu held
    return until_seen || reader_done || StopSignal() != 0;
  };
  for (int64_t k = 0; start + k * period <= start + duration; ++k) {
    const absl::Time tick = start + k * period;
    {
      std::unique_lock<std::mutex> lock(mu);
      while (!stopping() && absl::Now() < tick) {
        // Bounded so that a signal is noticed within 100 ms.
        const absl::Duration left =
            std::min(tick - absl::Now(), absl::Milliseconds(100));
        cv.wait_for(lock, absl::ToChronoMilliseconds(left) +
                              std::chrono::milliseconds(1));
      }
      if (stopping()) break;
    }
    // Real time: the report is stamped now, and the aircraft is where the
    // straight flight puts it now (a late tick on a loaded machine moves the
    // fix, not the track). The track is the geodesic leaving --from at the
    // velocity's azimuth; the reported velocity is its tangent here.
    const absl::Time now = absl::Now();
    const double t = absl::ToDoubleSeconds(now - start);
    const double distance_m = speed_mps * t;
    const geo::LatLng here =
        geo::GeodesicDestination(flight.from, azimuth_deg, distance_m);
    double north = flight.north_mps, east = flight.east_mps;
    if (speed_mps > 0 && distance_m > 0) {
      const double heading = geo::GeodesicAzimuth(
          here,
          geo::GeodesicDestination(flight.from, azimuth_deg, distance_m + 1));
      north = speed_mps * std::cos(heading * M_PI / 180);
      east = speed_mps * std::sin(heading * M_PI / 180);
    }
    v1::PositionBatch batch;
    batch.set_batch_seq(seq + 1);
    v1::PositionReport* r = batch.add_reports();
    r->set_aircraft_id(args.aircraft_id);
    r->set_intent_id(args.intent_id);
    *r->mutable_time() = TimeToProto(now);
    r->mutable_position()->set_lat_deg(here.lat_deg);
    r->mutable_position()->set_lng_deg(here.lng_deg);
    r->mutable_altitude()->set_value_m(flight.altitude_m + flight.up_mps * t);
    r->mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
    r->mutable_velocity()->set_north_mps(north);
    r->mutable_velocity()->set_east_mps(east);
    r->mutable_velocity()->set_up_mps(flight.up_mps);
    r->mutable_accuracy()->set_horizontal_m(args.accuracy_h_m);
    r->mutable_accuracy()->set_vertical_m(args.accuracy_v_m);
    if (!stream->Write(batch)) {  // the stream is over; Finish() says why
      write_failed = true;
      break;
    }
    ++seq;
  }
  if (!write_failed) stream->WritesDone();

  // The server acknowledges the last batches and ends the stream; bounded,
  // a second signal cuts the wait short.
  const int signal_before = StopSignal();
  bool drained;
  {
    std::unique_lock<std::mutex> lock(mu);
    const absl::Time deadline =
        absl::Now() + absl::Seconds(args.drain_timeout_s);
    while (!reader_done && absl::Now() < deadline &&
           (signal_before != 0 || StopSignal() == 0)) {
      cv.wait_for(lock, std::chrono::milliseconds(100));
    }
    drained = reader_done;
  }
  if (!drained) context->TryCancel();
  reader.join();
  const grpc::Status status = stream->Finish();

  // Printing is over: the reader has been joined.
  std::string details;
  if (superseded > 0) {
    absl::StrAppend(&details, ", ", superseded, " superseded by newer ones");
  }
  if (until_seen) {
    absl::StrAppend(&details, "; stopped at ", until_kind);
  } else if (StopSignal() != 0) {
    absl::StrAppend(&details, "; stopped by a signal");
  }
  std::cerr << absl::StrFormat(
      "fly: %d report(s) sent, acknowledged up to batch %d, %d refused, %d "
      "alert(s)%s\n",
      seq, acked, refused, alerts, details);
  if (!drained) {
    std::cerr << "fly: the server did not end the stream within "
              << args.drain_timeout_s
              << " s of the last report; cancelled it\n";
    return 69;
  }
  if (!status.ok()) return ExitForStatus(status);
  if (acked < seq) {
    std::cerr << "fly: the server ended the stream without acknowledging "
                 "batches "
              << acked + 1 << " to " << seq << "\n";
    return kExitServer;
  }
  if (refused > 0) {
    std::cerr << "fly: the server refused " << refused
              << " report(s) (above)\n";
    return kExitInvalid;
  }
  if (!flight.until.empty() && !until_seen && StopSignal() == 0) {
    std::vector<std::string> names;
    for (v1::AlertKind k : flight.until) names.push_back(KindName(k));
    std::cerr << "fly: no " << absl::StrJoin(names, " or ") << " alert for "
              << args.aircraft_id << " within --duration-s " << args.duration_s
              << "\n";
    return kExitWatchTimeout;
  }
  return 0;
}

int Watch(const Options& options, const WatchArgs& args) {
  v1::WatchAlertsRequest request;
  if (int code =
          ReadArea(args.area, /*with_circle=*/true, request.mutable_area());
      code != 0) {
    return code;
  }
  std::set<v1::AlertKind> kinds;
  if (!ParseKinds("--kinds", args.kinds, &kinds)) return kExitUsage;
  for (v1::AlertKind k : kinds) request.add_kinds(k);
  if (args.count < 0 || args.timeout_s < 0) {
    std::cerr << "--count and --timeout-s must not be negative\n";
    return kExitUsage;
  }
  // SIGINT/SIGTERM end the watch as if it had ended normally.
  CatchStopSignals();
  Client client(options);
  std::unique_ptr<grpc::ClientContext> context = client.StreamContext();
  std::unique_ptr<grpc::ClientReader<v1::AlertBatch>> reader =
      client.stub()->WatchAlerts(context.get(), request);
  StreamWatchdog watchdog(context.get(), args.timeout_s);

  int64_t counted = 0;
  bool reached = false;
  v1::AlertBatch batch;  // an empty one is a heartbeat
  while (!reached && reader->Read(&batch)) {
    for (const v1::Alert& a : batch.alerts()) {
      PrintAlert(a, options.json);
      if (args.count > 0 && ++counted >= args.count) {
        reached = true;
        break;
      }
    }
  }
  const StreamWatchdog::Stop stop = watchdog.Finish();
  if (reached) context->TryCancel();
  const grpc::Status status = reader->Finish();
  if (reached) return 0;
  if (stop == StreamWatchdog::Stop::kSignal) return 0;
  if (stop == StreamWatchdog::Stop::kNone && !status.ok()) {
    return ExitForStatus(status);
  }
  // Timed out, or the server ended the watch at the area's time_end.
  if (args.count > 0) {
    std::cerr << "watch: " << counted << " of " << args.count << " alert(s) "
              << (stop == StreamWatchdog::Stop::kTimeout
                      ? "before --timeout-s"
                      : "before the server ended the watch")
              << "\n";
    return kExitWatchTimeout;
  }
  return 0;
}

}  // namespace

TelemetryCommands::TelemetryCommands(CLI::App* app) {
  telemetry_ = app->add_subcommand(
      "telemetry", "Fly an aircraft's position reports; watch alerts");
  telemetry_->require_subcommand(1);
  // Subcommands pass --server, --token, --json ... up, so they may also
  // follow the subcommand.
  telemetry_->fallthrough();
  AddConnectionFlags(telemetry_, &options_,
                     "One JSON object (utm.v1.Alert) per alert line");

  fly_ = telemetry_->add_subcommand(
      "fly",
      "Stream a straight, constant-velocity flight in real time; print the "
      "alerts");
  fly_->add_option("--aircraft", fly_args_.aircraft_id,
                   "Aircraft id (unique within your aircraft)")
      ->required();
  fly_->add_option("--intent", fly_args_.intent_id,
                   "The ACTIVATED intent being flown")
      ->required();
  fly_->add_option("--from", fly_args_.from,
                   "Start: LAT,LNG,ALT (degrees WGS84, metres above WGS84)")
      ->required();
  fly_->add_option("--velocity", fly_args_.velocity,
                   "NORTH,EAST,UP in m/s (each speed at most 250)")
      ->required();
  fly_->add_option("--duration-s", fly_args_.duration_s, "Seconds of flight")
      ->capture_default_str();
  fly_->add_option("--rate-hz", fly_args_.rate_hz,
                   "Reports per second (at most 10)")
      ->capture_default_str();
  fly_->add_option("--accuracy-h-m", fly_args_.accuracy_h_m,
                   "Horizontal accuracy, metres at 95 %")
      ->capture_default_str();
  fly_->add_option("--accuracy-v-m", fly_args_.accuracy_v_m,
                   "Vertical accuracy, metres at 95 %")
      ->capture_default_str();
  fly_->add_option("--until-alert", fly_args_.until_alert,
                   "Land early once an alert of this kind names the aircraft "
                   "(kinds comma-separated or repeated)");
  fly_->add_option("--drain-timeout-s", fly_args_.drain_timeout_s,
                   "Seconds to wait for the server to end the stream after "
                   "the last report")
      ->capture_default_str();

  watch_ = telemetry_->add_subcommand(
      "watch", "Print the alerts in an area, one line each");
  CLI::Option* file =
      watch_->add_option("--area", watch_args_.area.file,
                         "Volume file whose first volume is the area");
  CLI::Option* bbox = watch_->add_option(
      "--bbox", watch_args_.area.bbox,
      "minlat,minlng,maxlat,maxlng (degrees) instead of --area");
  watch_
      ->add_option("--circle", watch_args_.area.circle,
                   "lat,lng,radius_m (degrees, metres) instead of --area")
      ->excludes(file)
      ->excludes(bbox);
  bbox->excludes(file);
  watch_->add_option("--alt-m", watch_args_.area.altitude,
                     "Only lower,upper metres above WGS84 (default: all)");
  watch_->add_option("--kinds", watch_args_.kinds,
                     "Only these kinds, e.g. conflict_predicted,"
                     "separation_lost (default: all)");
  watch_->add_option("--count", watch_args_.count,
                     "Exit after this many alerts");
  watch_->add_option("--timeout-s", watch_args_.timeout_s,
                     "Exit after this many seconds");
}

bool TelemetryCommands::parsed() const { return telemetry_->parsed(); }

int TelemetryCommands::Run() {
  if (fly_->parsed()) return Fly(options_, fly_args_);
  if (watch_->parsed()) return Watch(options_, watch_args_);
  return kExitUsage;
}

}  // namespace utm::ctl
