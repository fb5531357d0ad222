#include "services/operator/operator_service.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"
#include "services/common/grpc_auth.h"
#include "services/common/grpc_status.h"

namespace utm::fleet {
namespace {

constexpr absl::Duration kDefaultPeriod = absl::Seconds(1);
constexpr absl::Duration kMinPeriod = absl::Milliseconds(100);
constexpr absl::Duration kMaxPeriod = absl::Seconds(60);

// A stream refused before it starts.
grpc::ServerWriteReactor<v1::FleetUpdate>* Refuse(const absl::Status& status) {
  return SnapshotStreams<v1::FleetUpdate>::Refuse(ToGrpcStatus(status));
}

grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context,
                                 const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}


void ToProto(const DataPolicy& policy, v1::DataSettings* out) {
  out->set_local_data_mode(policy.local_only);
  out->mutable_flight_log_retention()->set_seconds(
      absl::ToInt64Seconds(policy.flight_log_retention));
}

absl::Status Unavailable() {
  return absl::UnimplementedError(
      "this server keeps no operator data settings");
}

}  // namespace

OperatorService::OperatorService(const FleetView* fleet,
                                 const auth::Verifier* verifier,
                                 const Clock* clock, OperatorSettings* settings)
    : fleet_(fleet), verifier_(verifier), clock_(clock), settings_(settings) {}

grpc::ServerUnaryReactor* OperatorService::GetDataSettings(
    grpc::CallbackServerContext* context, const v1::GetDataSettingsRequest*,
    v1::GetDataSettingsResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_ASSIGN_OR_RETURN(auth::Principal caller,
                         AuthenticateOperator(context));
    const std::string& who = caller.subject;
    if (settings_ == nullptr) return Unavailable();
    UTM_ASSIGN_OR_RETURN(DataPolicy policy, settings_->Get(who));
    ToProto(policy, response->mutable_settings());
    return absl::OkStatus();
  }());
}

grpc::ServerUnaryReactor* OperatorService::SetDataSettings(
    grpc::CallbackServerContext* context,
    const v1::SetDataSettingsRequest* request,
    v1::SetDataSettingsResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_ASSIGN_OR_RETURN(auth::Principal caller,
                         AuthenticateOperator(context));
    const std::string& who = caller.subject;
    if (settings_ == nullptr) return Unavailable();
    SettingsChange change;
    if (request->has_local_data_mode()) {
      change.local_only = request->local_data_mode();
    }
    if (request->has_flight_log_retention()) {
      const google::protobuf::Duration& d = request->flight_log_retention();
      if (d.nanos() != 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("flight_log_retention: nanos ", d.nanos(),
                         ": the retention is a whole number of seconds"));
      }
      if (d.seconds() <= 0 ||
          d.seconds() > absl::ToInt64Seconds(kMaxFlightLogRetention)) {
        return absl::InvalidArgumentError(
            absl::StrCat("flight_log_retention: ", d.seconds(),
                         " s is not in (0, 5 years] (at most ",
                         absl::ToInt64Seconds(kMaxFlightLogRetention), " s)"));
      }
      change.flight_log_retention = absl::Seconds(d.seconds());
    }
    UTM_ASSIGN_OR_RETURN(DataPolicy policy, settings_->Set(who, change));
    ToProto(policy, response->mutable_settings());
    return absl::OkStatus();
  }());
}

std::shared_ptr<const FleetView::Alerts> OperatorService::alerts() const {
  absl::MutexLock lock(&mu_);
  if (alerts_ == nullptr) alerts_ = fleet_->IndexAlerts();
  return alerts_;
}

absl::StatusOr<auth::Principal> OperatorService::AuthenticateOperator(
    grpc::CallbackServerContext* context) const {
  absl::StatusOr<auth::Principal> caller =
      AuthenticateCall(*context, *verifier_);
  if (!caller.ok()) return caller.status();
  if (absl::Status s =
          auth::RequireScope(*caller, auth::Scope::kStrategicCoordination);
      !s.ok()) {
    return s;
  }
  if (caller->subject.empty()) {
    return absl::PermissionDeniedError(
        "the token has no subject: this is about an operator's own data");
  }
  return caller;
}

grpc::ServerWriteReactor<v1::FleetUpdate>* OperatorService::WatchFleet(
    grpc::CallbackServerContext* context,
    const v1::WatchFleetRequest* request) {
  absl::StatusOr<auth::Principal> caller = AuthenticateOperator(context);
  if (!caller.ok()) return Refuse(caller.status());
  absl::Duration period = absl::Seconds(request->period().seconds()) +
                          absl::Nanoseconds(request->period().nanos());
  if (period == absl::ZeroDuration()) period = kDefaultPeriod;
  if (period < kMinPeriod || period > kMaxPeriod) {
    return Refuse(absl::InvalidArgumentError(absl::StrCat(
        "period: ", absl::FormatDuration(period), " is outside [100ms, 1m]")));
  }
  if (request->after_sequence() < 0) {
    return Refuse(absl::InvalidArgumentError("after_sequence: negative"));
  }
  const std::string who = caller->subject;
  return streams_.Open(
      [this, who](absl::Time now, v1::FleetUpdate* update) {
        fleet_->Fill(who, *alerts(), now, update);
      },
      period, request->after_sequence(), clock_->Now());
}

void OperatorService::Tick() {
  // Every open alert of the deployment is copied to index them: only while
  // someone watches. Without watchers the index is dropped, and the next
  // stream's first update takes it afresh.
  std::shared_ptr<const FleetView::Alerts> fresh;
  if (streams_.size() > 0) fresh = fleet_->IndexAlerts();
  {
    absl::MutexLock lock(&mu_);
    alerts_ = std::move(fresh);
  }
  streams_.Tick(clock_->Now());
}

void OperatorService::EndStreams() {
  streams_.EndAll(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                               "server shutting down; reconnect (WatchFleet "
                               "starts with the whole fleet)"));
}

}  // namespace utm::fleet
