#include "services/constraint/constraint_service.h"

#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "geo/status_macros.h"
#include "services/common/grpc_auth.h"
#include "services/common/grpc_status.h"
#include "services/common/log/log.h"

namespace utm::constraint {
namespace {

grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context,
                                 const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// Runs `call` (a core method returning StatusOr<Response>) and moves its
// result into `response`.
template <typename Response, typename Call>
absl::Status Into(Response* response, Call call) {
  absl::StatusOr<Response> out = call();
  if (!out.ok()) return out.status();
  *response = *std::move(out);
  return absl::OkStatus();
}

}  // namespace

// One WatchConstraints stream: writes the watcher's events one at a time.
// Registered with the service from before Start() until OnDone(), so that
// EndStreams() can end it.
class WatchReactor final
    : public grpc::ServerWriteReactor<v1::ConstraintEvent> {
 public:
  WatchReactor(ConstraintService* service, ConstraintCore* core)
      : service_(service), core_(core) {}

  void Start(const Caller& caller, const v1::WatchConstraintsRequest& request) {
    {
      absl::MutexLock lock(&mu_);
      resume_ = request.since_sequence();
    }
    absl::StatusOr<std::shared_ptr<Watcher>> watcher =
        core_->Watch(caller, request, [this] { MaybeWrite(); });
    if (!watcher.ok()) {
      absl::MutexLock lock(&mu_);
      if (!finished_) {
        finished_ = true;
        Finish(ToGrpcStatus(watcher.status()));
      }
      return;
    }
    {
      absl::MutexLock lock(&mu_);
      watcher_ = *std::move(watcher);
    }
    MaybeWrite();
  }

  // Ends the stream for a server stop: at once, or when the write in flight
  // completes (so that the resume point names what the client received).
  void EndForShutdown() {
    absl::MutexLock lock(&mu_);
    ending_ = true;
    if (!writing_) FinishForShutdown();
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) {
        // The client is gone; OnCancel or this ends the stream.
        if (!finished_) {
          finished_ = true;
          Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
        }
        return;
      }
      // The resume point: the last event outside an unfinished snapshot (a
      // resync starts one), as utmctl and the contract count it.
      if (event_->has_snapshot_begin() || event_->has_resync_required()) {
        in_snapshot_ = true;
      } else if (event_->has_snapshot_end()) {
        in_snapshot_ = false;
      }
      if (!in_snapshot_) resume_ = event_->sequence();
      if (ending_) {
        FinishForShutdown();
        return;
      }
    }
    MaybeWrite();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    if (!finished_) {
      finished_ = true;
      Finish(grpc::Status::CANCELLED);
    }
  }

  void OnDone() override {
    service_->Unregister(this);
    if (watcher_ != nullptr) core_->Unwatch(watcher_.get());
    delete this;
  }

 private:
  void FinishForShutdown() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    Finish(grpc::Status(
        grpc::StatusCode::UNAVAILABLE,
        absl::StrCat("server shutting down; resume from sequence ", resume_)));
  }

  // Starts the next write if none is in flight and an event is queued. The
  // core is called without mu_ held (it may take its own lock, under which
  // it calls MaybeWrite through `notify`); a notification that arrives while
  // this thread holds the write slot is not lost: `again_` makes it look once
  // more.
  void MaybeWrite() {
    {
      absl::MutexLock lock(&mu_);
      if (finished_ || watcher_ == nullptr) return;
      if (writing_) {
        again_ = true;
        return;
      }
      writing_ = true;
    }
    while (true) {
      if (core_->NextEvent(watcher_.get(), &event_)) {
        absl::MutexLock lock(&mu_);
        if (finished_ || ending_) {
          writing_ = false;
          if (ending_) FinishForShutdown();
          return;
        }
        StartWrite(event_.get());
        return;
      }
      absl::MutexLock lock(&mu_);
      if (!again_ || finished_ || ending_) {
        writing_ = false;
        if (ending_) FinishForShutdown();
        return;
      }
      again_ = false;
    }
  }

  ConstraintService* const service_;
  ConstraintCore* const core_;
  absl::Mutex mu_;
  // Set once in Start(), cleared in OnDone().
  std::shared_ptr<Watcher> watcher_;
  // The event being written; owned by the holder of the write slot.
  EventPtr event_;
  // A write is in flight, or a thread is looking for the next event.
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool again_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  // EndForShutdown() was called: finish instead of writing more.
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  // The sequence a client resumes from: since_sequence, then that of each
  // event written outside an unfinished snapshot.
  int64_t resume_ ABSL_GUARDED_BY(mu_) = 0;
  bool in_snapshot_ ABSL_GUARDED_BY(mu_) = false;
};

ConstraintService::ConstraintService(ConstraintCore* core,
                                     const auth::Verifier* verifier)
    : core_(core), verifier_(verifier) {}

absl::StatusOr<Caller> ConstraintService::Authenticate(
    grpc::CallbackServerContext* context, Need need) const {
  UTM_ASSIGN_OR_RETURN(auth::Principal principal,
                       AuthenticateCall(*context, *verifier_));
  Caller caller;
  caller.id = principal.subject;
  caller.authority = principal.Has(auth::Scope::kConstraintManagement);
  caller.admin = principal.Has(auth::Scope::kAdmin);
  const bool pilot = principal.Has(auth::Scope::kStrategicCoordination);
  switch (need) {
    case Need::kAuthority:
      if (!caller.authority && !caller.admin) {
        UTM_RETURN_IF_ERROR(
            auth::RequireScope(principal, auth::Scope::kConstraintManagement));
      }
      break;
    case Need::kOperator:
      UTM_RETURN_IF_ERROR(
          auth::RequireScope(principal, auth::Scope::kStrategicCoordination));
      break;
    case Need::kAuthorityOrOperator:
      if (!caller.authority && !caller.admin && !pilot) {
        UTM_RETURN_IF_ERROR(
            auth::RequireScope(principal, auth::Scope::kConstraintManagement));
      }
      break;
    case Need::kRead:
      if (principal.scopes.empty()) {
        return absl::PermissionDeniedError(
            "the token carries no scope this server knows");
      }
      break;
  }
  // Every need but reading writes.
  if (need != Need::kRead && region_ != nullptr) {
    UTM_RETURN_IF_ERROR(region_->CheckCaller(principal));
  }
  return caller;
}

grpc::ServerUnaryReactor* ConstraintService::PublishConstraint(
    grpc::CallbackServerContext* context,
    const v1::PublishConstraintRequest* request,
    v1::PublishConstraintResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_ASSIGN_OR_RETURN(Caller caller,
                         Authenticate(context, Need::kAuthority));
    return Into(response, [&] { return core_->Publish(caller, *request); });
  }());
}

grpc::ServerUnaryReactor* ConstraintService::UpdateConstraint(
    grpc::CallbackServerContext* context,
    const v1::UpdateConstraintRequest* request,
    v1::UpdateConstraintResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_ASSIGN_OR_RETURN(Caller caller,
                         Authenticate(context, Need::kAuthority));
    return Into(response, [&] { return core_->Update(caller, *request); });
  }());
}

grpc::ServerUnaryReactor* ConstraintService::WithdrawConstraint(
    grpc::CallbackServerContext* context,
    const v1::WithdrawConstraintRequest* request,
    v1::WithdrawConstraintResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_ASSIGN_OR_RETURN(Caller caller,
                         Authenticate(context, Need::kAuthority));
    return Into(response, [&] { return core_->Withdraw(caller, *request); });
  }());
}

grpc::ServerUnaryReactor* ConstraintService::GetConstraint(
    grpc::CallbackServerContext* context,
    const v1::GetConstraintRequest* request,
    v1::GetConstraintResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_RETURN_IF_ERROR(Authenticate(context, Need::kRead).status());
    return Into(response, [&] { return core_->Get(*request); });
  }());
}

grpc::ServerUnaryReactor* ConstraintService::QueryConstraints(
    grpc::CallbackServerContext* context,
    const v1::QueryConstraintsRequest* request,
    v1::QueryConstraintsResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_RETURN_IF_ERROR(Authenticate(context, Need::kRead).status());
    return Into(response, [&] { return core_->Query(*request); });
  }());
}

grpc::ServerUnaryReactor* ConstraintService::GrantAuthorisation(
    grpc::CallbackServerContext* context,
    const v1::GrantAuthorisationRequest* request,
    v1::GrantAuthorisationResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_ASSIGN_OR_RETURN(Caller caller,
                         Authenticate(context, Need::kAuthority));
    return Into(response, [&] { return core_->Grant(caller, *request); });
  }());
}

grpc::ServerUnaryReactor* ConstraintService::SelfUnlock(
    grpc::CallbackServerContext* context, const v1::SelfUnlockRequest* request,
    v1::SelfUnlockResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_ASSIGN_OR_RETURN(Caller caller, Authenticate(context, Need::kOperator));
    return Into(response, [&] { return core_->SelfUnlock(caller, *request); });
  }());
}

grpc::ServerUnaryReactor* ConstraintService::ListAuthorisations(
    grpc::CallbackServerContext* context,
    const v1::ListAuthorisationsRequest* request,
    v1::ListAuthorisationsResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_ASSIGN_OR_RETURN(Caller caller, Authenticate(context, Need::kRead));
    return Into(response,
                [&] { return core_->ListAuthorisations(caller, *request); });
  }());
}

grpc::ServerUnaryReactor* ConstraintService::RevokeAuthorisation(
    grpc::CallbackServerContext* context,
    const v1::RevokeAuthorisationRequest* request,
    v1::RevokeAuthorisationResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_ASSIGN_OR_RETURN(Caller caller,
                         Authenticate(context, Need::kAuthorityOrOperator));
    return Into(response, [&] { return core_->Revoke(caller, *request); });
  }());
}

grpc::ServerWriteReactor<v1::ConstraintEvent>*
ConstraintService::WatchConstraints(
    grpc::CallbackServerContext* context,
    const v1::WatchConstraintsRequest* request) {
  auto* reactor = new WatchReactor(this, core_);
  if (!Register(reactor)) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                 "server shutting down; retry on the next "
                                 "server with the same since_sequence"));
    return reactor;
  }
  absl::StatusOr<Caller> caller = Authenticate(context, Need::kRead);
  if (!caller.ok()) {
    // Finish before returning: OnDone deletes the reactor.
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  reactor->Start(*caller, *request);
  return reactor;
}

grpc::ServerUnaryReactor* ConstraintService::CheckPosition(
    grpc::CallbackServerContext* context,
    const v1::CheckPositionRequest* request,
    v1::CheckPositionResponse* response) {
  return Finish(context, [&]() -> absl::Status {
    UTM_ASSIGN_OR_RETURN(Caller caller, Authenticate(context, Need::kRead));
    return Into(response,
                [&] { return core_->CheckPosition(caller, *request); });
  }());
}

bool ConstraintService::Register(WatchReactor* stream) {
  absl::MutexLock lock(&streams_mu_);
  if (ending_) return false;
  streams_.insert(stream);
  return true;
}

void ConstraintService::Unregister(WatchReactor* stream) {
  absl::MutexLock lock(&streams_mu_);
  streams_.erase(stream);
}

void ConstraintService::EndStreams() {
  // Under the lock a registered stream cannot reach OnDone's delete.
  absl::MutexLock lock(&streams_mu_);
  ending_ = true;
  for (WatchReactor* stream : streams_) stream->EndForShutdown();
}

Ticker::Ticker(ConstraintCore* core, absl::Duration period)
    : thread_([this, core, period] {
        while (!stop_.WaitForNotificationWithTimeout(period)) {
          absl::StatusOr<int> ticked = core->Tick();
          if (!ticked.ok()) {
            UTM_LOG(kWarning)
                << "constraint schedule tick: " << ticked.status();
          }
        }
      }) {}

Ticker::~Ticker() {
  stop_.Notify();
  thread_.join();
}

}  // namespace utm::constraint
