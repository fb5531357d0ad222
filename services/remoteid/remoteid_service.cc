#include "services/remoteid/remoteid_service.h"

#include <grpcpp/support/message_allocator.h>

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "geo/status_macros.h"
#include "google/protobuf/arena.h"
#include "services/common/audit/case_reference.h"
#include "services/common/grpc_auth.h"
#include "services/common/grpc_status.h"
#include "services/common/input_limits.h"
#include "services/registry/registration_record.h"

namespace utm::remoteid {
namespace {

constexpr absl::Duration kDefaultWatchPeriod = absl::Seconds(1);
constexpr absl::Duration kMinWatchPeriod = absl::Milliseconds(100);
constexpr absl::Duration kTickPeriod = absl::Milliseconds(100);
constexpr absl::Duration kExpirePeriod = absl::Seconds(1);

grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context,
                                 const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

absl::StatusOr<auth::Principal> Caller(grpc::CallbackServerContext* context,
                                       const auth::Verifier& verifier,
                                       auth::Scope scope) {
  UTM_ASSIGN_OR_RETURN(auth::Principal principal,
                       AuthenticateCall(*context, verifier));
  UTM_RETURN_IF_ERROR(auth::RequireScope(principal, scope));
  return principal;
}

// What a details answer discloses, for the audit log.
std::string Disclosed(const v1::RidFlightDetails& d) {
  std::vector<std::string> parts;
  auto add = [&](absl::string_view name, const std::string& value) {
    if (!value.empty()) parts.push_back(absl::StrCat(name, "=", value));
  };
  add("serial_number", d.serial_number());
  add("registration_id", d.registration_id());
  add("operator_id", d.operator_id());
  add("operator_account", d.operator_account());
  add("aircraft_id", d.aircraft_id());
  add("intent_id", d.intent_id());
  add("registry", d.registry_status());
  if (d.has_operator_location()) parts.push_back("operator_location");
  return parts.empty() ? "nothing identifying" : absl::StrJoin(parts, ",");
}

// What this server's registry knows of the aircraft, into `d`.
void AddRegistration(const RemoteIdService::RegistrationLookup& lookup,
                     absl::Time now, v1::RidFlightDetails* d) {
  if (!lookup) return;
  std::optional<v1::AircraftRegistration> r;
  if (!d->serial_number().empty()) {
    // A serial number the aircraft broadcasts or its provider gives is
    // global: the registry's record of it, whoever published the flight.
    r = lookup(d->serial_number());
  } else if (!d->aircraft_id().empty()) {
    // A streaming aircraft's id is its operator's: the registration counts
    // only if it is that operator's.
    r = lookup(d->aircraft_id());
    if (r && r->operator_id() != d->operator_account()) r.reset();
  }
  if (!r) return;
  if (d->serial_number().empty()) d->set_serial_number(r->serial_number());
  if (d->operator_id().empty()) {
    d->set_operator_id(r->operator_registration_id());
  }
  if (d->operator_account().empty()) d->set_operator_account(r->operator_id());
  if (d->ua_type() == v1::UA_TYPE_NONE) d->set_ua_type(r->ua_type());
  d->set_make_model(r->make_model());
  if (r->has_revoke_time()) {
    d->set_registry_status(absl::StrCat("revoked at ",
                                        registry::FormatUtc(r->revoke_time()),
                                        ": ", r->revoke_reason()));
  } else if (!registry::InForce(*r, now)) {
    d->set_registry_status(
        absl::StrCat("expired at ", registry::FormatUtc(r->expire_time())));
  } else {
    d->set_registry_status("in force");
  }
}

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

// PublishFlights' request and response on an arena per call: a request of
// a hundred flights parses into some six hundred messages and strings,
// which then cost a few arena blocks instead of an allocation and a free
// each. Stateless, so one serves every call.
class PublishArenaAllocator final
    : public grpc::MessageAllocator<v1::PublishFlightsRequest,
                                    v1::PublishFlightsResponse> {
 public:
  grpc::MessageHolder<v1::PublishFlightsRequest, v1::PublishFlightsResponse>*
  AllocateMessages() override {
    return new Holder;
  }

 private:
  class Holder final : public grpc::MessageHolder<v1::PublishFlightsRequest,
                                                  v1::PublishFlightsResponse> {
   public:
    Holder() : arena_(Options()) {
      set_request(
          google::protobuf::Arena::CreateMessage<v1::PublishFlightsRequest>(
              &arena_));
      set_response(
          google::protobuf::Arena::CreateMessage<v1::PublishFlightsResponse>(
              &arena_));
    }
    void Release() override { delete this; }

   private:
    static google::protobuf::ArenaOptions Options() {
      google::protobuf::ArenaOptions o;
      // A full request (100 flights of one state) takes about 40 KB.
      o.start_block_size = 16 << 10;
      o.max_block_size = 64 << 10;
      return o;
    }
    google::protobuf::Arena arena_;
  };
};

}  // namespace

RemoteIdService::RemoteIdService(RemoteIdCore* core,
                                 const auth::Verifier* verifier,
                                 const Clock* clock, audit::AuditSink audit,
                                 IntruderSink intruders, Options options)
    : core_(core),
      verifier_(verifier),
      clock_(clock),
      audit_(std::move(audit)),
      intruders_(std::move(intruders)),
      registrations_(std::move(options.registrations)),
      broadcast_(core, clock, std::move(options.broadcast)) {
  // Lives as long as the program, so as long as any server of this service.
  static PublishArenaAllocator* const publish_allocator =
      new PublishArenaAllocator;
  SetMessageAllocatorFor_PublishFlights(publish_allocator);
}

RemoteIdService::~RemoteIdService() = default;

void RemoteIdService::EndStreams() {
  streams_.EndAll(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                               "server shutting down; reconnect (WatchFlights "
                               "starts with the whole picture)"));
}

void RemoteIdService::Tick() {
  const absl::Time now = clock_->Now();
  streams_.Tick(now);
  bool expire = false;
  {
    absl::MutexLock lock(&mu_);
    if (now - last_expire_ >= kExpirePeriod) {
      last_expire_ = now;
      expire = true;
    }
  }
  if (expire) core_->Expire();
}

grpc::ServerUnaryReactor* RemoteIdService::SearchFlights(
    grpc::CallbackServerContext* context,
    const v1::SearchFlightsRequest* request,
    v1::SearchFlightsResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_RETURN_IF_ERROR(
        Caller(context, *verifier_, auth::Scope::kRemoteIdDisplay).status());
    if (!request->has_view()) {
      return absl::InvalidArgumentError("view: required");
    }
    UTM_ASSIGN_OR_RETURN(*response, core_->Search(request->view()));
    return absl::OkStatus();
  }());
}

grpc::ServerWriteReactor<v1::FlightsUpdate>* RemoteIdService::WatchFlights(
    grpc::CallbackServerContext* context,
    const v1::WatchFlightsRequest* request) {
  auto refuse = [](const absl::Status& s) {
    return SnapshotStreams<v1::FlightsUpdate>::Refuse(ToGrpcStatus(s));
  };
  absl::Status caller =
      Caller(context, *verifier_, auth::Scope::kRemoteIdDisplay).status();
  if (!caller.ok()) return refuse(caller);
  if (!request->has_view()) {
    return refuse(absl::InvalidArgumentError("view: required"));
  }
  absl::StatusOr<DisplayView> view =
      DisplayView::FromProto(request->view(), core_->options().display, "view");
  if (!view.ok()) return refuse(view.status());
  absl::Duration period = kDefaultWatchPeriod;
  if (request->has_period() &&
      FromProto(request->period()) != absl::ZeroDuration()) {
    period = FromProto(request->period());
    if (period < kMinWatchPeriod || period > kDefaultWatchPeriod) {
      return refuse(absl::InvalidArgumentError(absl::StrCat(
          "period: ", absl::FormatDuration(period),
          " is outside [100ms, 1s] (display applications refresh at 1 Hz or "
          "faster)")));
    }
  }
  if (request->after_sequence() < 0) {
    return refuse(absl::InvalidArgumentError(absl::StrCat(
        "after_sequence: ", request->after_sequence(), " is negative")));
  }
  return streams_.Open(
      [this, view = *std::move(view)](absl::Time, v1::FlightsUpdate* update) {
        v1::SearchFlightsResponse picture = core_->Search(view);
        update->mutable_flights()->Swap(picture.mutable_flights());
        update->mutable_clusters()->Swap(picture.mutable_clusters());
        *update->mutable_server_time() = picture.server_time();
      },
      period, request->after_sequence(), clock_->Now());
}

grpc::ServerUnaryReactor* RemoteIdService::GetFlightDetails(
    grpc::CallbackServerContext* context,
    const v1::GetFlightDetailsRequest* request,
    v1::GetFlightDetailsResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_ASSIGN_OR_RETURN(
        auth::Principal caller,
        Caller(context, *verifier_, auth::Scope::kLawEnforcement));
    UTM_RETURN_IF_ERROR(CheckRequiredId(request->id(), "id"));
    if (request->case_reference().empty()) {
      return absl::InvalidArgumentError(
          "case_reference: required: the id of the warrant, subpoena or "
          "court order this request is made under");
    }
    UTM_RETURN_IF_ERROR(
        audit::CheckCaseReference(request->case_reference(), "case_reference"));
    UTM_ASSIGN_OR_RETURN(v1::RidFlightDetails details,
                         core_->Details(request->id()));
    AddRegistration(registrations_, clock_->Now(), &details);
    audit::AuditEvent event;
    event.subject = caller.subject;
    event.case_reference = request->case_reference();
    event.action = "flight-details";
    event.target = request->id();
    event.about = details.operator_account();
    event.disclosed = Disclosed(details);
    // Recorded before the answer leaves; no record, no answer.
    UTM_RETURN_IF_ERROR(audit_(event));
    *response->mutable_details() = std::move(details);
    return absl::OkStatus();
  }());
}

grpc::ServerUnaryReactor* RemoteIdService::ReportReceptions(
    grpc::CallbackServerContext* context,
    const v1::ReportReceptionsRequest* request,
    v1::ReportReceptionsResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_ASSIGN_OR_RETURN(
        auth::Principal caller,
        Caller(context, *verifier_, auth::Scope::kRemoteIdReceiver));
    UTM_RETURN_IF_ERROR(CheckHomeRegion(caller));
    UTM_ASSIGN_OR_RETURN(BroadcastFeed::Result result,
                         broadcast_.Report(caller.subject, *request));
    *response = std::move(result.response);
    if (intruders_ && !result.heard.empty()) {
      intruders_(std::move(result.heard));
    }
    return absl::OkStatus();
  }());
}

grpc::ServerUnaryReactor* RemoteIdService::PublishFlights(
    grpc::CallbackServerContext* context,
    const v1::PublishFlightsRequest* request,
    v1::PublishFlightsResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_ASSIGN_OR_RETURN(
        auth::Principal caller,
        Caller(context, *verifier_, auth::Scope::kStrategicCoordination));
    UTM_RETURN_IF_ERROR(CheckHomeRegion(caller));
    UTM_ASSIGN_OR_RETURN(RemoteIdCore::Published published,
                         core_->Publish(caller.subject, *request));
    response->set_states_accepted(published.states_accepted);
    if (intruders_ && !published.heard.empty()) {
      intruders_(std::move(published.heard));
    }
    return absl::OkStatus();
  }());
}

absl::Status RemoteIdService::CheckHomeRegion(
    const auth::Principal& caller) const {
  const region::RegionPolicy* region = core_->options().region;
  return region == nullptr ? absl::OkStatus() : region->CheckCaller(caller);
}

RemoteIdService::WatchTicker::WatchTicker(RemoteIdService* service)
    : thread_(kTickPeriod, [service] { service->Tick(); }) {}

}  // namespace utm::remoteid
