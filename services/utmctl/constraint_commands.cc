#include "services/utmctl/constraint_commands.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "services/utmctl/area_flags.h"
#include "services/utmctl/channel.h"
#include "services/utmctl/geo_commands.h"
#include "services/utmctl/intent_commands.h"
#include "services/utmctl/proto_json.h"
#include "services/utmctl/stream_watchdog.h"
#include "utm/v1/constraint.grpc.pb.h"

namespace utm::ctl {
namespace {

using Options = ConnectionOptions;
using Args = ConstraintCommands::Args;
using Client = ServiceClient<v1::ConstraintService>;

// Parses an RFC 3339 time given to `flag`; prints why not and returns false.
bool ParseTimestamp(const std::string& flag, const std::string& text,
                    google::protobuf::Timestamp* out) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    std::cerr << flag << ": \"" << text
              << "\" is not an RFC 3339 time (e.g. 2027-01-15T09:00:00Z): "
              << error << "\n";
    return false;
  }
  const absl::Duration since_epoch = t - absl::UnixEpoch();
  const int64_t seconds =
      absl::ToInt64Seconds(absl::Floor(since_epoch, absl::Seconds(1)));
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(since_epoch - absl::Seconds(seconds))));
  return true;
}

// "CONSTRAINT_TYPE_PROHIBITED" -> "PROHIBITED", and the like.
std::string Short(const std::string& name, absl::string_view prefix) {
  return std::string(absl::StripPrefix(name, prefix));
}
std::string TypeName(v1::ConstraintType type) {
  return Short(v1::ConstraintType_Name(type), "CONSTRAINT_TYPE_");
}
std::string ActiveName(const v1::Constraint& c) {
  return c.active() ? "active" : "inactive";
}

// "prohibited", "PROHIBITED" or "CONSTRAINT_TYPE_PROHIBITED".
bool ParseType(const std::string& text, v1::ConstraintType* type) {
  std::string name = absl::AsciiStrToUpper(text);
  if (!absl::StartsWith(name, "CONSTRAINT_TYPE_")) {
    name = absl::StrCat("CONSTRAINT_TYPE_", name);
  }
  return v1::ConstraintType_Parse(name, type) &&
         *type != v1::CONSTRAINT_TYPE_UNSPECIFIED;
}

// The area of `query` and `watch`: the first volume of a volume file, or a
// "minlat,minlng,maxlat,maxlng" box (geodesic edges between its corners, all
// altitudes and times). Returns 0, or the exit code after printing why.
int ReadArea(const Args& args, v1::Volume4D* area) {
  AreaFlags flags;
  flags.file = args.area_file;
  flags.bbox = args.bbox;
  return ctl::ReadArea(flags, /*with_circle=*/false, area);
}

std::string DescribeVolume(const v1::Volume4D& v) {
  std::string where;
  if (v.volume().has_outline_circle()) {
    const v1::Circle& c = v.volume().outline_circle();
    where = absl::StrFormat("circle of %.1f m around %.6f,%.6f", c.radius_m(),
                            c.center().lat_deg(), c.center().lng_deg());
  } else {
    const v1::Polygon& p = v.volume().outline_polygon();
    where = absl::StrFormat("polygon of %d vertices", p.vertices_size());
    if (p.holes_size() > 0) {
      absl::StrAppendFormat(&where, " with %d hole%s", p.holes_size(),
                            p.holes_size() == 1 ? "" : "s");
    }
  }
  return absl::StrFormat(
      "%s, %.1f m to %.1f m above WGS84, from %s to %s", where,
      v.volume().altitude_lower().value_m(),
      v.volume().altitude_upper().value_m(),
      v.has_time_start() ? Rfc3339(v.time_start()) : "(unbounded)",
      v.has_time_end() ? Rfc3339(v.time_end()) : "(unbounded)");
}

void PrintConstraint(const v1::Constraint& c, bool details) {
  std::cout << absl::StrFormat(
      "constraint %s: %s, %s, version %d, %d volume(s)", c.id(),
      TypeName(c.type()), ActiveName(c), c.version(), c.volumes_size());
  if (!details) {
    if (!c.reason().empty()) std::cout << ": " << c.reason();
    std::cout << "\n";
    return;
  }
  std::cout << "\n";
  const v1::Authority& a = c.authority();
  std::cout << "  authority: " << a.id();
  if (!a.name().empty()) std::cout << " (" << a.name() << ")";
  if (!a.contact().empty()) std::cout << ", contact " << a.contact();
  std::cout << "\n";
  if (!c.reason().empty()) std::cout << "  reason: " << c.reason() << "\n";
  if (!c.message_for_pilots().empty()) {
    std::cout << "  message for pilots: " << c.message_for_pilots() << "\n";
  }
  for (int i = 0; i < c.volumes_size(); ++i) {
    std::cout << "  volumes[" << i << "]: " << DescribeVolume(c.volumes(i))
              << "\n";
  }
  if (c.has_schedule()) {
    const v1::Schedule& s = c.schedule();
    std::cout << "  schedule:";
    if (s.absolute().has_start()) {
      std::cout << " from " << Rfc3339(s.absolute().start());
    }
    if (s.absolute().has_end()) {
      std::cout << " until " << Rfc3339(s.absolute().end());
    }
    for (const v1::WeeklyWindow& w : s.weekly()) {
      std::vector<std::string> days;
      for (int d : w.days()) {
        days.push_back(Short(v1::DayOfWeek_Name(static_cast<v1::DayOfWeek>(d)),
                             "DAY_OF_WEEK_"));
      }
      std::cout << absl::StrFormat(
          "; %s %02d:%02d-%02d:%02d", absl::StrJoin(days, ","),
          w.start_second_of_day() / 3600, w.start_second_of_day() / 60 % 60,
          w.end_second_of_day() / 3600, w.end_second_of_day() / 60 % 60);
    }
    if (!s.time_zone().empty()) std::cout << " (" << s.time_zone() << ")";
    std::cout << "\n";
  }
  if (c.has_conditions()) {
    if (c.conditions().has_altitude_ceiling()) {
      std::cout << absl::StrFormat(
          "  condition: at or below %.1f m above WGS84\n",
          c.conditions().altitude_ceiling().value_m());
    }
    for (const std::string& t : c.conditions().text()) {
      std::cout << "  condition: " << t << "\n";
    }
  }
  if (c.self_unlock_allowed()) std::cout << "  self-unlock allowed\n";
  if (c.has_source() && c.source().format() > v1::SOURCE_FORMAT_MANUAL) {
    std::cout << "  source: "
              << Short(v1::SourceFormat_Name(c.source().format()),
                       "SOURCE_FORMAT_")
              << " " << c.source().original_id();
    if (!c.source().dataset().empty()) {
      std::cout << " from " << c.source().dataset();
    }
    std::cout << "\n";
  }
  std::cout << "  created " << Rfc3339(c.create_time()) << ", updated "
            << Rfc3339(c.update_time()) << "\n";
}

// The intents a published constraint cuts through: `volume_index` is the
// constraint's volume, `other_volume_index` the intent's.
void PrintAffected(
    const google::protobuf::RepeatedPtrField<v1::Conflict>& affected) {
  if (affected.empty()) {
    std::cout << "  affects no intent\n";
    return;
  }
  for (const v1::Conflict& c : affected) {
    // Priority and state only when the server filled them in.
    std::string about;
    if (c.intent().state() != v1::INTENT_STATE_UNSPECIFIED) {
      about = absl::StrFormat(
          " (priority %d, %s)", c.intent().priority(),
          Short(v1::IntentState_Name(c.intent().state()), "INTENT_STATE_"));
    }
    std::cout << absl::StrFormat(
        "  affects intent %s%s: %s\n", c.intent().id(), about,
        Short(v1::ConflictReason_Name(c.reason()), "CONFLICT_REASON_"));
    for (const v1::VolumeOverlap& o : c.overlaps()) {
      std::cout << absl::StrFormat(
          "    volumes[%d] meets its %svolumes[%d] from %s to %s between %.1f "
          "m and %.1f m\n",
          o.volume_index(), o.other_off_nominal() ? "off-nominal " : "",
          o.other_volume_index(), Rfc3339(o.time_overlap().start()),
          Rfc3339(o.time_overlap().end()),
          o.altitude_overlap().lower().value_m(),
          o.altitude_overlap().upper().value_m());
    }
  }
}

void PrintAuthorisation(const v1::Authorisation& a) {
  const absl::Time now = absl::Now();
  const absl::Time end = absl::FromUnixSeconds(a.window().end().seconds());
  std::string state = "valid";
  if (a.has_revoke_time()) {
    state = absl::StrCat("revoked ", Rfc3339(a.revoke_time()));
    if (!a.revoke_reason().empty()) {
      absl::StrAppend(&state, " (", a.revoke_reason(), ")");
    }
  } else if (end < now) {
    state = "expired";
  }
  std::cout << absl::StrFormat(
      "authorisation %s: %s, constraint %s, operator %s, from %s to %s, %s",
      a.id(),
      Short(v1::AuthorisationKind_Name(a.kind()), "AUTHORISATION_KIND_"),
      a.constraint_id(), a.operator_id(), Rfc3339(a.window().start()),
      Rfc3339(a.window().end()), state);
  if (!a.reference().empty()) std::cout << ", reference " << a.reference();
  if (!a.granted_by().empty()) std::cout << ", by " << a.granted_by();
  std::cout << "\n";
}

int Publish(const Options& options, const Args& args) {
  std::ifstream in(args.file);
  if (!in) {
    std::cerr << args.file << ": cannot open\n";
    return kExitIo;
  }
  std::stringstream text;
  text << in.rdbuf();
  v1::PublishConstraintRequest request;
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      text.str(), request.mutable_constraint());
  if (!parsed.ok()) {
    std::cerr << args.file
              << ": not a utm.v1.Constraint in protobuf JSON: " << parsed
              << "\n";
    return kExitIo;
  }
  request.set_request_id(args.request_id);
  Client client(options);
  v1::PublishConstraintResponse response;
  const grpc::Status status = client.stub()->PublishConstraint(
      client.Context().get(), request, &response);
  if (!status.ok()) return ExitForStatus(status);
  if (options.json) {
    std::cout << ProtoJson(response) << "\n";
    return 0;
  }
  std::cout << "PUBLISHED ";
  PrintConstraint(response.constraint(), /*details=*/false);
  PrintAffected(response.affected_intents());
  return 0;
}

int Get(const Options& options, const Args& args) {
  Client client(options);
  v1::GetConstraintRequest request;
  request.set_constraint_id(args.id);
  v1::GetConstraintResponse response;
  const grpc::Status status =
      client.stub()->GetConstraint(client.Context().get(), request, &response);
  if (!status.ok()) return ExitForStatus(status);
  if (options.json) {
    std::cout << ProtoJson(response.constraint()) << "\n";
  } else {
    PrintConstraint(response.constraint(), /*details=*/true);
  }
  return 0;
}

int Withdraw(const Options& options, const Args& args) {
  Client client(options);
  v1::WithdrawConstraintRequest request;
  request.set_request_id(args.request_id);
  request.set_constraint_id(args.id);
  request.set_version(args.version);
  request.set_reason(args.reason);
  v1::WithdrawConstraintResponse response;
  const grpc::Status status = client.stub()->WithdrawConstraint(
      client.Context().get(), request, &response);
  if (!status.ok()) return ExitForStatus(status);
  if (options.json) {
    std::cout << ProtoJson(response) << "\n";
  } else {
    std::cout << "WITHDRAWN ";
    PrintConstraint(response.constraint(), /*details=*/false);
  }
  return 0;
}

int Query(const Options& options, const Args& args) {
  v1::QueryConstraintsRequest request;
  if (int code = ReadArea(args, request.mutable_area()); code != 0) {
    return code;
  }
  for (const std::string& list : args.types) {
    for (absl::string_view t : absl::StrSplit(list, ',', absl::SkipEmpty())) {
      v1::ConstraintType type;
      if (!ParseType(std::string(t), &type)) {
        std::cerr << "--type \"" << t
                  << "\": want prohibited, requires_authorisation, "
                     "conditional or advisory\n";
        return kExitUsage;
      }
      request.add_types(type);
    }
  }
  Client client(options);
  int count = 0;
  while (true) {
    v1::QueryConstraintsResponse response;
    const grpc::Status status = client.stub()->QueryConstraints(
        client.Context().get(), request, &response);
    if (!status.ok()) return ExitForStatus(status);
    for (const v1::Constraint& c : response.constraints()) {
      ++count;
      if (options.json) {
        std::cout << ProtoJson(c) << "\n";
      } else {
        PrintConstraint(c, /*details=*/false);
      }
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  if (!options.json) std::cout << count << " constraint(s) in the area\n";
  return 0;
}

int Grant(const Options& options, const Args& args) {
  v1::GrantAuthorisationRequest request;
  if (!ParseTimestamp("--from", args.from,
                      request.mutable_window()->mutable_start()) ||
      !ParseTimestamp("--to", args.to,
                      request.mutable_window()->mutable_end())) {
    return kExitUsage;
  }
  request.set_request_id(args.request_id);
  request.set_constraint_id(args.id);
  request.set_operator_id(args.operator_id);
  request.set_reference(args.reference);
  Client client(options);
  v1::GrantAuthorisationResponse response;
  const grpc::Status status = client.stub()->GrantAuthorisation(
      client.Context().get(), request, &response);
  if (!status.ok()) return ExitForStatus(status);
  if (options.json) {
    std::cout << ProtoJson(response.authorisation()) << "\n";
  } else {
    std::cout << "GRANTED ";
    PrintAuthorisation(response.authorisation());
  }
  return 0;
}

int Unlock(const Options& options, const Args& args) {
  if (!args.acknowledge) {
    std::cerr << "constraint unlock: read the constraint's message for pilots "
                 "and conditions (utmctl constraint get "
              << args.id
              << "), then confirm with --acknowledge; nothing was sent\n";
    return kExitUsage;
  }
  v1::SelfUnlockRequest request;
  if (!ParseTimestamp("--from", args.from,
                      request.mutable_window()->mutable_start()) ||
      !ParseTimestamp("--to", args.to,
                      request.mutable_window()->mutable_end())) {
    return kExitUsage;
  }
  request.set_request_id(args.request_id);
  request.set_constraint_id(args.id);
  request.set_acknowledged(true);
  Client client(options);
  v1::SelfUnlockResponse response;
  const grpc::Status status =
      client.stub()->SelfUnlock(client.Context().get(), request, &response);
  if (!status.ok()) return ExitForStatus(status);
  if (options.json) {
    std::cout << ProtoJson(response.authorisation()) << "\n";
  } else {
    std::cout << "UNLOCKED ";
    PrintAuthorisation(response.authorisation());
  }
  return 0;
}

int Revoke(const Options& options, const Args& args) {
  v1::RevokeAuthorisationRequest request;
  request.set_request_id(args.request_id);
  request.set_authorisation_id(args.id);
  request.set_reason(args.reason);
  Client client(options);
  v1::RevokeAuthorisationResponse response;
  const grpc::Status status = client.stub()->RevokeAuthorisation(
      client.Context().get(), request, &response);
  if (!status.ok()) return ExitForStatus(status);
  if (options.json) {
    std::cout << ProtoJson(response.authorisation()) << "\n";
  } else {
    std::cout << "REVOKED ";
    PrintAuthorisation(response.authorisation());
  }
  return 0;
}

int Authorisations(const Options& options, const Args& args) {
  v1::ListAuthorisationsRequest request;
  request.set_constraint_id(args.constraint_id);
  request.set_operator_id(args.operator_id);
  request.set_include_inactive(args.all);
  Client client(options);
  int count = 0;
  while (true) {
    v1::ListAuthorisationsResponse response;
    const grpc::Status status = client.stub()->ListAuthorisations(
        client.Context().get(), request, &response);
    if (!status.ok()) return ExitForStatus(status);
    for (const v1::Authorisation& a : response.authorisations()) {
      ++count;
      if (options.json) {
        std::cout << ProtoJson(a) << "\n";
      } else {
        PrintAuthorisation(a);
      }
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  if (!options.json) std::cout << count << " authorisation(s)\n";
  return 0;
}

int Check(const Options& options, const Args& args, bool has_altitude) {
  v1::CheckPositionRequest request;
  request.mutable_position()->set_lat_deg(args.lat);
  request.mutable_position()->set_lng_deg(args.lng);
  if (has_altitude) {
    request.mutable_altitude()->set_value_m(args.alt_m);
    request.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  }
  if (!args.time.empty() &&
      !ParseTimestamp("--time", args.time, request.mutable_time())) {
    return kExitUsage;
  }
  request.set_radius_m(args.radius_m);
  Client client(options);
  v1::CheckPositionResponse response;
  const grpc::Status status =
      client.stub()->CheckPosition(client.Context().get(), request, &response);
  if (!status.ok()) return ExitForStatus(status);
  if (options.json) {
    std::cout << ProtoJson(response) << "\n";
    return 0;
  }
  std::cout << "applicable (" << response.applicable_size()
            << "):" << (response.applicable().empty() ? " none" : "") << "\n";
  for (const v1::ConstraintHit& h : response.applicable()) {
    const v1::Constraint& c = h.constraint();
    std::cout << absl::StrFormat(
        "  %s %s: %s, authorised: %s\n", TypeName(c.type()), c.id(),
        c.reason().empty() ? "(no reason)" : c.reason(),
        h.authorised() ? "yes" : "no");
    if (!c.message_for_pilots().empty()) {
      std::cout << "    message for pilots: " << c.message_for_pilots() << "\n";
    }
  }
  std::cout << absl::StrFormat("nearby within %.0f m (%d):%s\n", args.radius_m,
                               response.nearby_size(),
                               response.nearby().empty() ? " none" : "");
  for (const v1::ConstraintHit& h : response.nearby()) {
    const v1::Constraint& c = h.constraint();
    std::cout << absl::StrFormat(
        "  %s %s: %.1f m away, %.1f m vertically, %s, authorised: %s%s%s\n",
        TypeName(c.type()), c.id(), h.horizontal_distance_m(),
        h.vertical_distance_m(), ActiveName(c), h.authorised() ? "yes" : "no",
        c.reason().empty() ? "" : ", ", c.reason());
  }
  return 0;
}

// One line per event; false for a heartbeat (not counted by --count).
bool PrintEvent(const v1::ConstraintEvent& e, bool json) {
  // Zero scalars too (a watch event's sequence 0, an empty snapshot's
  // count), so scripts find every field of an event.
  if (json) std::cout << ProtoJson(e, /*with_defaults=*/true) << "\n";
  std::string line = absl::StrCat("seq ", e.sequence(), " ");
  bool counted = true;
  switch (e.event_case()) {
    case v1::ConstraintEvent::kSnapshotBegin:
      absl::StrAppend(&line, "snapshot begin");
      break;
    case v1::ConstraintEvent::kSnapshotEnd:
      absl::StrAppend(&line, "snapshot end (", e.snapshot_end().count(), ")");
      break;
    case v1::ConstraintEvent::kUpsert: {
      const v1::Constraint& c = e.upsert();
      absl::StrAppend(&line, "upsert ", c.id(), " ", TypeName(c.type()), " ",
                      ActiveName(c), " (version ", c.version(), ")");
      break;
    }
    case v1::ConstraintEvent::kRemoved:
      absl::StrAppend(
          &line, "removed ", e.removed().constraint_id(), " ",
          Short(v1::ConstraintRemovedReason_Name(e.removed().reason()),
                "CONSTRAINT_REMOVED_REASON_"));
      break;
    case v1::ConstraintEvent::kActivityChanged: {
      const v1::ConstraintActivityChanged& a = e.activity_changed();
      absl::StrAppend(&line, "activity_changed ", a.constraint_id(), " ",
                      a.active() ? "active" : "inactive");
      if (a.has_next_change_time()) {
        absl::StrAppend(&line, " next ", Rfc3339(a.next_change_time()));
      }
      break;
    }
    case v1::ConstraintEvent::kHeartbeat:
      line = absl::StrCat("heartbeat seq ", e.sequence());
      counted = false;
      break;
    case v1::ConstraintEvent::kResyncRequired:
      absl::StrAppend(
          &line, "resync_required", " ",
          Short(Short(v1::ResyncReason_Name(e.resync_required().reason()),
                      "RESYNC_REASON_"),
                "WATCHER_"));
      break;
    case v1::ConstraintEvent::kIntentsAffected:
      absl::StrAppend(&line, "intents_affected ",
                      e.intents_affected().constraint_id(), " ",
                      absl::StrJoin(e.intents_affected().intent_ids(), " "));
      break;
    case v1::ConstraintEvent::EVENT_NOT_SET:
      absl::StrAppend(&line, "unknown event");
      break;
  }
  if (!json) std::cout << line << "\n";
  // A script reading the output through a pipe or file sees each event as
  // it arrives.
  std::cout.flush();
  return counted;
}

int Watch(const Options& options, const Args& args) {
  v1::WatchConstraintsRequest request;
  if (int code = ReadArea(args, request.mutable_area()); code != 0) {
    return code;
  }
  if (args.since < 0 || args.count < 0 || args.heartbeat_s < 0 ||
      args.watch_timeout_s < 0) {
    std::cerr << "--since, --count, --heartbeat-s and --timeout-s must not be "
                 "negative\n";
    return kExitUsage;
  }
  request.set_since_sequence(args.since);
  if (args.heartbeat_s > 0) {
    const int64_t ms = static_cast<int64_t>(args.heartbeat_s * 1000);
    request.mutable_heartbeat_interval()->set_seconds(ms / 1000);
    request.mutable_heartbeat_interval()->set_nanos(
        static_cast<int32_t>(ms % 1000 * 1000000));
  }
  // SIGINT/SIGTERM stop the watch cleanly; it still prints its last
  // sequence.
  CatchStopSignals();
  Client client(options);
  std::unique_ptr<grpc::ClientContext> context = client.StreamContext();
  std::unique_ptr<grpc::ClientReader<v1::ConstraintEvent>> reader =
      client.stub()->WatchConstraints(context.get(), request);
  StreamWatchdog watchdog(context.get(), args.watch_timeout_s);

  // The sequence to resume from: that of the last event outside an
  // unfinished snapshot (a resync starts one).
  int64_t resume = args.since;
  bool in_snapshot = false;
  int64_t counted = 0;
  bool reached = false;
  v1::ConstraintEvent event;
  while (reader->Read(&event)) {
    if (event.has_snapshot_begin() || event.has_resync_required()) {
      in_snapshot = true;
    } else if (event.has_snapshot_end()) {
      in_snapshot = false;
    }
    if (!in_snapshot) resume = event.sequence();
    if (PrintEvent(event, options.json)) ++counted;
    if (args.count > 0 && counted >= args.count) {
      reached = true;
      break;
    }
  }
  const StreamWatchdog::Stop stop = watchdog.Finish();
  if (reached) context->TryCancel();
  const grpc::Status status = reader->Finish();
  std::cerr << "last sequence " << resume << "\n";
  if (reached) return 0;
  switch (stop) {
    case StreamWatchdog::Stop::kSignal:
      return 0;
    case StreamWatchdog::Stop::kTimeout:
      if (args.count > 0) {
        std::cerr << "watch: " << counted << " of " << args.count
                  << " event(s) before --timeout-s\n";
        return kExitWatchTimeout;
      }
      return 0;
    case StreamWatchdog::Stop::kNone:
      break;
  }
  if (!status.ok()) return ExitForStatus(status);
  std::cerr << "watch: the server ended the stream\n";
  return 69;
}

}  // namespace

ConstraintCommands::ConstraintCommands(CLI::App* app) {
  constraint_ = app->add_subcommand(
      "constraint",
      "Geofences and TFRs: publish, read, authorise, check, watch");
  constraint_->require_subcommand(1);
  // Subcommands (added below, inheriting this) pass --server, --token,
  // --json ... up, so they may also follow the subcommand.
  constraint_->fallthrough();
  AddConnectionFlags(constraint_, &options_);

  auto request_id = [this](CLI::App* c) {
    c->add_option("--request-id", args_.request_id,
                  "Makes a retry idempotent (reuse it to retry)");
  };
  auto area = [this](CLI::App* c) {
    CLI::Option* file =
        c->add_option("--area", args_.area_file,
                      "Volume file whose first volume is the area");
    c->add_option("--bbox", args_.bbox,
                  "minlat,minlng,maxlat,maxlng (degrees) instead of --area")
        ->excludes(file);
  };
  auto window = [this](CLI::App* c) {
    c->add_option("--from", args_.from, "Start, RFC 3339 UTC")->required();
    c->add_option("--to", args_.to, "End, RFC 3339 UTC")->required();
  };

  publish_ = constraint_->add_subcommand(
      "publish", "Publish a constraint (regulator); lists affected intents");
  publish_->add_option("file", args_.file, "utm.v1.Constraint in protobuf JSON")
      ->required()
      ->check(CLI::ExistingFile);
  request_id(publish_);

  get_ = constraint_->add_subcommand("get", "Show one constraint");
  get_->add_option("id", args_.id, "Constraint id")->required();

  withdraw_ = constraint_->add_subcommand(
      "withdraw", "Withdraw a constraint (its authority)");
  withdraw_->add_option("id", args_.id, "Constraint id")->required();
  withdraw_->add_option("--version", args_.version, "Version last read")
      ->required();
  withdraw_->add_option("--reason", args_.reason, "Why, for the audit log");
  request_id(withdraw_);

  query_ = constraint_->add_subcommand(
      "query", "List the constraints meeting an area (all pages)");
  area(query_);
  query_->add_option("--type", args_.types,
                     "Only these types: prohibited, requires_authorisation, "
                     "conditional, advisory (repeat or comma-separate)");

  grant_ = constraint_->add_subcommand(
      "grant", "Authorise an operator to fly in a constraint (its authority)");
  grant_->add_option("id", args_.id, "Constraint id")->required();
  grant_->add_option("--operator", args_.operator_id, "Operator id")
      ->required();
  window(grant_);
  grant_->add_option("--reference", args_.reference,
                     "Permit number or other reference");
  request_id(grant_);

  unlock_ = constraint_->add_subcommand(
      "unlock",
      "Self-unlock a REQUIRES_AUTHORISATION constraint that allows it");
  unlock_->add_option("id", args_.id, "Constraint id")->required();
  window(unlock_);
  unlock_->add_flag("--acknowledge", args_.acknowledge,
                    "I have read the message for pilots and the conditions");
  request_id(unlock_);

  revoke_ = constraint_->add_subcommand("revoke", "Revoke an authorisation");
  revoke_->add_option("id", args_.id, "Authorisation id")->required();
  revoke_->add_option("--reason", args_.reason, "Why, shown to the operator");
  request_id(revoke_);

  authorisations_ = constraint_->add_subcommand(
      "authorisations", "List the authorisations you are party to");
  authorisations_->add_option("--constraint", args_.constraint_id,
                              "Only for this constraint");
  authorisations_->add_option("--operator", args_.operator_id,
                              "Only for this operator");
  authorisations_->add_flag("--all", args_.all,
                            "Include revoked and expired ones");

  check_ = constraint_->add_subcommand(
      "check", "Which constraints apply at a position, and which are near");
  check_->add_option("--lat", args_.lat, "Latitude, degrees WGS84")
      ->required()
      ->check(CLI::Range(-90.0, 90.0));
  check_->add_option("--lng", args_.lng, "Longitude, degrees WGS84")
      ->required()
      ->check(CLI::Range(-180.0, 180.0));
  alt_option_ = check_->add_option(
      "--alt-m", args_.alt_m,
      "Altitude, metres above WGS84 (default: all altitudes)");
  check_
      ->add_option("--radius-m", args_.radius_m,
                   "Radius for nearby constraints, metres (0 to 50000)")
      ->check(CLI::Range(0.0, 50000.0))
      ->capture_default_str();
  check_->add_option("--time", args_.time, "RFC 3339 UTC (default: now)");

  watch_ = constraint_->add_subcommand(
      "watch", "Stream an area's constraint events, one line each; resumable");
  area(watch_);
  watch_
      ->add_option("--since", args_.since,
                   "Last sequence processed (0: start with a snapshot)")
      ->capture_default_str();
  watch_->add_option("--heartbeat-s", args_.heartbeat_s,
                     "Heartbeat period when idle, seconds (server: 15)");
  watch_->add_option("--count", args_.count,
                     "Exit after this many events, heartbeats not counted");
  watch_->add_option("--timeout-s", args_.watch_timeout_s,
                     "Exit after this many seconds");
}

bool ConstraintCommands::parsed() const { return constraint_->parsed(); }

int ConstraintCommands::Run() {
  if (publish_->parsed()) return Publish(options_, args_);
  if (get_->parsed()) return Get(options_, args_);
  if (withdraw_->parsed()) return Withdraw(options_, args_);
  if (query_->parsed()) return Query(options_, args_);
  if (grant_->parsed()) return Grant(options_, args_);
  if (unlock_->parsed()) return Unlock(options_, args_);
  if (revoke_->parsed()) return Revoke(options_, args_);
  if (authorisations_->parsed()) return Authorisations(options_, args_);
  if (check_->parsed()) return Check(options_, args_, alt_option_->count() > 0);
  if (watch_->parsed()) return Watch(options_, args_);
  return kExitUsage;
}

}  // namespace utm::ctl
