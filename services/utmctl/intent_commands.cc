#include "services/utmctl/intent_commands.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/utmctl/channel.h"
#include "services/utmctl/describe_volume.h"
#include "services/utmctl/geo_commands.h"
#include "services/utmctl/proto_json.h"
#include "services/utmctl/time_shift.h"
#include "services/utmctl/tls_hint.h"
#include "utm/v1/strategic.grpc.pb.h"

namespace utm::ctl {
namespace {

// Reads a volume file and, with `start` set, shifts its volumes so the first
// starts then (time_shift.h). Returns 0, or the exit code after printing
// why: 2 for a file that is readable but invalid (a GeoJSON field, a bad
// --start), 66 for one that cannot be read or is no volume file at all.
int ReadRequest(const std::string& path, const VolumeFileOptions& input,
                const std::string& start, v1::FileIntentRequest* request) {
  absl::StatusOr<VolumeFile> file = ReadVolumeFile(path, input);
  if (!file.ok()) {
    std::cerr << absl::StatusCodeToString(file.status().code()) << ": "
              << file.status().message() << "\n";
    return file.status().code() == absl::StatusCode::kInvalidArgument
               ? kExitInvalid
               : kExitIo;
  }
  *request = std::move(file->request);
  if (start.empty()) return 0;
  absl::StatusOr<absl::Time> at =
      ParseStartTime(start, RealClock::Get()->Now());
  if (!at.ok()) {
    std::cerr << at.status().message() << "\n";
    return kExitUsage;
  }
  if (absl::Status s = ShiftVolumes(*at, request); !s.ok()) {
    std::cerr << "INVALID_ARGUMENT: " << path << ": " << s.message() << "\n";
    return kExitInvalid;
  }
  return 0;
}

using Client = ServiceClient<v1::StrategicCoordination>;

// --aircraft / --mass-g, when either was given.
bool AircraftGiven(const IntentOptions& options) {
  return !options.aircraft_serial.empty() || options.aircraft_mass_g >= 0;
}
v1::FlightAircraft Aircraft(const IntentOptions& options) {
  v1::FlightAircraft a;
  a.set_serial_number(options.aircraft_serial);
  a.set_mass_g(std::max<int64_t>(options.aircraft_mass_g, 0));
  return a;
}

void PrintIntent(const v1::FlightIntent& intent) {
  std::cout << absl::StrFormat(
      "intent %s: %s, priority %d, version %d, %d volume(s)%s\n", intent.id(),
      v1::IntentState_Name(intent.state()).substr(13), intent.priority(),
      intent.version(), intent.volumes_size(),
      intent.no_retention() ? ", not retained" : "");
}

void PrintConflicts(
    const char* heading,
    const google::protobuf::RepeatedPtrField<v1::Conflict>& cs) {
  for (const v1::Conflict& c : cs) {
    if (c.has_constraint()) {
      // "CONSTRAINT_TYPE_PROHIBITED" -> "PROHIBITED", and the rule.
      std::cout << absl::StrFormat(
          "%s constraint %s (%s: %s)\n", heading, c.constraint().id(),
          v1::ConstraintType_Name(c.constraint().type()).substr(16),
          v1::ConflictReason_Name(c.reason()).substr(16));
    } else {
      std::cout << absl::StrFormat(
          "%s intent %s (priority %d, %s)\n", heading, c.intent().id(),
          c.intent().priority(),
          v1::IntentState_Name(c.intent().state()).substr(13));
    }
    for (const v1::VolumeOverlap& o : c.overlaps()) {
      std::cout << absl::StrFormat(
          "  volumes[%d] meets its %svolumes[%d] from %s to %s between %.1f m "
          "and %.1f m\n",
          o.volume_index(), o.other_off_nominal() ? "off-nominal " : "",
          o.other_volume_index(), Rfc3339(o.time_overlap().start()),
          Rfc3339(o.time_overlap().end()),
          o.altitude_overlap().lower().value_m(),
          o.altitude_overlap().upper().value_m());
    }
  }
}

// "  volumes[i]: polygon of 3 vertices, 500.0 m to 600.0 m above WGS84, from
// ... to ...", one line per volume.
void PrintVolumes(const google::protobuf::RepeatedPtrField<v1::Volume4D>& vs) {
  for (int i = 0; i < vs.size(); ++i) {
    std::cout << "  volumes[" << i << "]: " << DescribeVolume(vs[i]) << "\n";
  }
}

// For responses with an intent/rejection oneof and advisories.
template <typename Response>
int Report(const IntentOptions& options, const Response& response) {
  if (options.json) {
    std::cout << ProtoJson(response) << "\n";
  } else if (response.has_intent()) {
    std::cout << "ACCEPTED ";
    PrintIntent(response.intent());
    PrintConflicts("  advisory:", response.advisories());
  } else {
    std::cout << "REJECTED: conflicts with\n";
    PrintConflicts(" ", response.rejection().conflicts());
  }
  return response.has_intent() ? 0 : kExitRejected;
}

}  // namespace

int Token(const TokenOptions& options) {
  absl::StatusOr<std::vector<auth::Scope>> scopes =
      auth::ScopesForRole(options.role);
  if (!scopes.ok()) {
    std::cerr << scopes.status().message() << "\n";
    return 64;
  }
  for (const std::string& name : options.scopes) {
    absl::StatusOr<auth::Scope> scope = auth::ParseScope(name);
    if (!scope.ok()) {
      std::cerr << "token --scope: " << scope.status().message() << "\n";
      return 64;
    }
    scopes->push_back(*scope);
  }
  absl::StatusOr<std::string> secret = auth::LoadDevKey(options.data_dir);
  if (!secret.ok()) {
    std::cerr << "token: " << secret.status().message() << "\n";
    return 66;
  }
  auth::MintOptions mint;
  mint.subject = options.subject;
  mint.scopes = *scopes;
  mint.ttl = absl::Seconds(options.ttl_s);
  mint.home_region = options.home_region;
  if (!mint.home_region.empty()) {
    if (absl::Status s =
            auth::ValidateRegionCode(mint.home_region, "token --home-region");
        !s.ok()) {
      std::cerr << s.message() << "\n";
      return 64;
    }
  }
  absl::StatusOr<std::string> token =
      auth::MintHmacToken(*secret, mint, RealClock::Get());
  if (!token.ok()) {
    std::cerr << token.status() << "\n";
    return 64;
  }
  std::cout << *token << "\n";
  return 0;
}

int IntentFile(const IntentOptions& options, const std::string& file,
               int priority, const std::string& request_id,
               const std::string& start) {
  v1::FileIntentRequest request;
  if (int code = ReadRequest(file, options.input, start, &request); code != 0) {
    return code;
  }
  if (priority >= 0) request.set_priority(priority);
  if (!request_id.empty()) request.set_request_id(request_id);
  if (options.no_retention) request.set_no_retention(true);
  if (AircraftGiven(options)) *request.mutable_aircraft() = Aircraft(options);
  Client client(options);
  v1::FileIntentResponse response;
  const grpc::Status status =
      client.stub()->FileIntent(client.Context().get(), request, &response);
  if (!status.ok()) return ExitForStatus(status);
  return Report(options, response);
}

int IntentModify(const IntentOptions& options, const std::string& intent_id,
                 int64_t version, const std::string& file, int priority,
                 const std::string& request_id, const std::string& start) {
  v1::FileIntentRequest volumes;
  if (int code = ReadRequest(file, options.input, start, &volumes); code != 0) {
    return code;
  }
  v1::ModifyIntentRequest request;
  request.set_intent_id(intent_id);
  request.set_version(version);
  request.set_priority(priority >= 0 ? priority : volumes.priority());
  request.set_request_id(request_id);
  *request.mutable_volumes() = volumes.volumes();
  if (AircraftGiven(options)) *request.mutable_aircraft() = Aircraft(options);
  Client client(options);
  v1::ModifyIntentResponse response;
  const grpc::Status status =
      client.stub()->ModifyIntent(client.Context().get(), request, &response);
  if (!status.ok()) return ExitForStatus(status);
  return Report(options, response);
}

int IntentActivate(const IntentOptions& options, const std::string& intent_id,
                   int64_t version, const std::string& file, int priority,
                   const std::string& request_id) {
  v1::ActivateIntentRequest request;
  request.set_intent_id(intent_id);
  request.set_version(version);
  request.set_request_id(request_id);
  if (!file.empty()) {
    v1::FileIntentRequest volumes;
    if (int code = ReadRequest(file, options.input, "", &volumes); code != 0) {
      return code;
    }
    *request.mutable_volumes() = volumes.volumes();
  }
  // Not the file's: GeoJSON has none, and taking off at priority 0 by
  // accident would let everyone else's flights in.
  if (priority >= 0) request.set_priority(priority);
  if (AircraftGiven(options)) *request.mutable_aircraft() = Aircraft(options);
  Client client(options);
  v1::ActivateIntentResponse response;
  const grpc::Status status =
      client.stub()->ActivateIntent(client.Context().get(), request, &response);
  if (!status.ok()) return ExitForStatus(status);
  return Report(options, response);
}

int IntentTransition(const IntentOptions& options, const std::string& action,
                     const std::string& intent_id, int64_t version,
                     const std::string& request_id) {
  Client client(options);
  grpc::Status status;
  v1::FlightIntent intent;
  if (action == "end") {
    v1::EndIntentRequest request;
    request.set_intent_id(intent_id);
    request.set_version(version);
    request.set_request_id(request_id);
    v1::EndIntentResponse response;
    status =
        client.stub()->EndIntent(client.Context().get(), request, &response);
    intent = response.intent();
  } else {
    v1::CancelIntentRequest request;
    request.set_intent_id(intent_id);
    request.set_version(version);
    request.set_request_id(request_id);
    v1::CancelIntentResponse response;
    status =
        client.stub()->CancelIntent(client.Context().get(), request, &response);
    intent = response.intent();
  }
  if (!status.ok()) return ExitForStatus(status);
  if (options.json) {
    std::cout << ProtoJson(intent) << "\n";
  } else {
    PrintIntent(intent);
  }
  return 0;
}

int IntentGet(const IntentOptions& options, const std::string& intent_id) {
  Client client(options);
  v1::GetIntentRequest request;
  request.set_intent_id(intent_id);
  request.set_case_reference(options.case_reference);
  v1::GetIntentResponse response;
  const grpc::Status status =
      client.stub()->GetIntent(client.Context().get(), request, &response);
  if (!status.ok()) return ExitForStatus(status);
  if (options.json) {
    std::cout << ProtoJson(response) << "\n";
  } else if (response.has_intent()) {
    PrintIntent(response.intent());
    std::cout << "  owner: " << response.intent().owner() << "\n";
    if (response.intent().has_aircraft()) {
      const v1::FlightAircraft& a = response.intent().aircraft();
      std::cout << "  aircraft: "
                << (a.serial_number().empty() ? "(unnamed)" : a.serial_number())
                << (a.mass_g() > 0 ? absl::StrCat(", ", a.mass_g(), " g") : "")
                << "\n";
    }
    PrintVolumes(response.intent().volumes());
  } else {
    const v1::FlightIntentView& v = response.redacted();
    std::cout << absl::StrFormat(
        "intent %s: %s, priority %d, version %d, %d volume(s) (another "
        "operator's)\n",
        v.id(), v1::IntentState_Name(v.state()).substr(13), v.priority(),
        v.version(), v.volumes_size());
    PrintVolumes(v.volumes());
  }
  return 0;
}

int IntentQuery(const IntentOptions& options, const AreaFlags& area) {
  v1::QueryIntentsRequest request;
  request.set_case_reference(options.case_reference);
  if (area.file.empty()) {
    if (int code =
            ReadArea(area, /*with_circle=*/false, request.mutable_area());
        code != 0) {
      return code;
    }
  } else {
    // A file goes through the intent flags' altitude model (AMSL, AGL).
    v1::FileIntentRequest volumes;
    if (int code = ReadRequest(area.file, options.input, "", &volumes);
        code != 0) {
      return code;
    }
    if (volumes.volumes_size() == 0) {
      std::cerr << area.file << ": no volume to use as the area\n";
      return kExitInvalid;
    }
    *request.mutable_area() = volumes.volumes(0);
  }
  Client client(options);
  int count = 0;
  while (true) {
    v1::QueryIntentsResponse response;
    const grpc::Status status =
        client.stub()->QueryIntents(client.Context().get(), request, &response);
    if (!status.ok()) return ExitForStatus(status);
    for (const v1::FlightIntentView& v : response.intents()) {
      ++count;
      if (options.json) {
        std::cout << ProtoJson(v) << "\n";
      } else {
        std::cout << absl::StrFormat(
            "intent %s: %s, priority %d, %d volume(s)%s%s\n", v.id(),
            v1::IntentState_Name(v.state()).substr(13), v.priority(),
            v.volumes_size(), v.owned_by_caller() ? " (yours)" : "",
            v.owner().empty() ? "" : absl::StrCat(", owner ", v.owner()));
      }
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  if (!options.json) std::cout << count << " intent(s) in the area\n";
  return 0;
}

int ExitForStatus(const grpc::Status& status) {
  std::cerr << absl::StatusCodeToString(
                   static_cast<absl::StatusCode>(status.error_code()))
            << ": " << status.error_message() << "\n";
  if (std::string hint = TransportHint(status); !hint.empty()) {
    std::cerr << hint << "\n";
  }
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return 2;
    case grpc::StatusCode::ABORTED:
      return kExitStale;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return kExitDenied;
    case grpc::StatusCode::NOT_FOUND:
      return kExitNotFound;
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ALREADY_EXISTS:
      return kExitState;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 69;
    default:
      return kExitServer;
  }
}

}  // namespace utm::ctl
