#include "services/operator/operator_service.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
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

}  // namespace

OperatorService::OperatorService(const FleetView* fleet,
                                 const auth::Verifier* verifier,
                                 const Clock* clock)
    : fleet_(fleet), verifier_(verifier), clock_(clock) {}

std::shared_ptr<const FleetView::Alerts> OperatorService::alerts() const {
  absl::MutexLock lock(&mu_);
  if (alerts_ == nullptr) alerts_ = fleet_->IndexAlerts();
  return alerts_;
}

absl::StatusOr<auth::Principal> OperatorService::Operator(
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
  absl::StatusOr<auth::Principal> caller = Operator(context);
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
