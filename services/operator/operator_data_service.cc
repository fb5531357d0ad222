// OperatorService.ExportData and EraseData: the gRPC side of OperatorData.
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/common/grpc_status.h"
#include "services/operator/operator_service.h"

namespace utm::fleet {
namespace {

// Pieces produced ahead of the stream at most (each up to 1 MiB).
constexpr size_t kQueuedPieces = 4;

grpc::ServerWriteReactor<v1::ArchivePiece>* RefuseExport(
    const absl::Status& status) {
  class Refused : public grpc::ServerWriteReactor<v1::ArchivePiece> {
   public:
    explicit Refused(grpc::Status s) { Finish(std::move(s)); }
    void OnDone() override { delete this; }
  };
  return new Refused(ToGrpcStatus(status));
}

// Produces the archive on its own thread into a short queue that the
// stream drains; the producer waits while the queue is full, and stops when
// the client goes.
class ExportReactor final : public grpc::ServerWriteReactor<v1::ArchivePiece> {
 public:
  ExportReactor(const OperatorData* data, std::string operator_id,
                std::atomic<int>* running)
      : data_(data), operator_id_(std::move(operator_id)), running_(running) {
    producer_ = std::thread([this] { Produce(); });
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      cancelled_ = true;  // the client is gone: stop producing
      queue_.clear();
    }
    WriteNextLocked();
  }
  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }
  void OnDone() override {
    producer_.join();
    running_->fetch_sub(1);
    delete this;
  }

 private:
  void Produce() {
    const absl::Status status = data_->Export(
        operator_id_,
        [this](const std::string& path, std::string data) -> absl::Status {
          v1::ArchivePiece piece;
          piece.set_path(path);
          piece.set_data(std::move(data));
          absl::MutexLock lock(&mu_);
          auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            return queue_.size() < kQueuedPieces || cancelled_;
          };
          mu_.Await(absl::Condition(&room));
          if (cancelled_) return absl::CancelledError("the client went away");
          queue_.push_back(std::move(piece));
          WriteNextLocked();
          return absl::OkStatus();
        });
    absl::MutexLock lock(&mu_);
    produced_ = true;
    result_ = status;
    WriteNextLocked();
  }

  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_) return;
    if (!queue_.empty() && !cancelled_) {
      current_ = std::move(queue_.front());
      queue_.pop_front();
      writing_ = true;
      StartWrite(&current_);
      return;
    }
    if (produced_) {
      finished_ = true;
      Finish(ToGrpcStatus(result_));
    }
  }

  const OperatorData* const data_;
  const std::string operator_id_;
  std::atomic<int>* const running_;
  std::thread producer_;
  absl::Mutex mu_;
  std::deque<v1::ArchivePiece> queue_ ABSL_GUARDED_BY(mu_);
  v1::ArchivePiece current_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool produced_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status result_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

grpc::ServerWriteReactor<v1::ArchivePiece>* OperatorService::ExportData(
    grpc::CallbackServerContext* context, const v1::ExportDataRequest*) {
  absl::StatusOr<auth::Principal> caller = AuthenticateOperator(context);
  if (!caller.ok()) return RefuseExport(caller.status());
  if (data_ == nullptr) {
    return RefuseExport(absl::UnimplementedError(
        "this server does not hold operators' data (--services)"));
  }
  if (exports_.fetch_add(1) >= kMaxExports) {
    exports_.fetch_sub(1);
    return RefuseExport(absl::ResourceExhaustedError(
        absl::StrCat(kMaxExports, " exports are running; retry in a minute")));
  }
  return new ExportReactor(data_, caller->subject, &exports_);
}

grpc::ServerUnaryReactor* OperatorService::EraseData(
    grpc::CallbackServerContext* context, const v1::EraseDataRequest* request,
    v1::EraseDataResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<auth::Principal> caller = AuthenticateOperator(context);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  if (data_ == nullptr) {
    reactor->Finish(ToGrpcStatus(absl::UnimplementedError(
        "this server does not hold operators' data (--services)")));
    return reactor;
  }
  if (request->confirm() != caller->subject) {
    reactor->Finish(ToGrpcStatus(absl::InvalidArgumentError(
        "confirm: must be your own operator id, to confirm the erasure (it "
        "cannot be undone)")));
    return reactor;
  }
  {
    absl::MutexLock lock(&erasures_mu_);
    ++erasures_;
  }
  // It waits for the store, the ledger and the audit log: not on a gRPC
  // thread.
  std::thread([this, reactor, response, who = caller->subject] {
    absl::StatusOr<v1::EraseDataResponse> done = data_->Erase(who);
    if (done.ok()) *response = *std::move(done);
    reactor->Finish(ToGrpcStatus(done.status()));
    absl::MutexLock lock(&erasures_mu_);
    --erasures_;
  }).detach();
  return reactor;
}

void OperatorService::WaitForErasures() {
  absl::MutexLock lock(&erasures_mu_);
  auto none = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(erasures_mu_) {
    return erasures_ == 0;
  };
  erasures_mu_.Await(absl::Condition(&none));
}

}  // namespace utm::fleet
