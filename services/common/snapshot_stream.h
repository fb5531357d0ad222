// Server streams that write a whole picture again every period (the Remote
// ID display's WatchFlights, an operator's WatchFleet): each update holds
// everything current, so a client that reconnects has lost nothing still
// current, and a slow client never queues anything — a stream whose
// previous update is still being written skips a turn.
//
// Each update carries a sequence: the update's server time in milliseconds
// since the Unix epoch, strictly increasing within a stream and across
// reconnects (a client resuming with the last sequence it saw gets greater
// ones). `Update` is a protobuf message with `set_sequence(int64)`.
//
// Thread-safe. The streams' owner (a gRPC service) calls Open() from its
// RPC handler, Tick() about every 100 ms from one thread, and EndAll()
// before Server::Shutdown.
//
// Typical usage:
//   SnapshotStreams<v1::FleetUpdate> streams_;
//   ... in the handler:
//   return streams_.Open(
//       [this, who](absl::Time now, v1::FleetUpdate* u) { Fill(who, now, u); },
//       period, request->after_sequence(), clock_->Now());
//   ... every 100 ms: streams_.Tick(clock_->Now());
#ifndef UTM_SERVICES_COMMON_SNAPSHOT_STREAM_H_
#define UTM_SERVICES_COMMON_SNAPSHOT_STREAM_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

namespace utm {

template <typename Update>
class SnapshotStreams {
 public:
  // Fills `update` (cleared) with the picture at `now`. Called under the
  // stream's lock: quick, and must not call back into the streams.
  using Fill = std::function<void(absl::Time now, Update* update)>;

  SnapshotStreams() = default;
  SnapshotStreams(const SnapshotStreams&) = delete;
  SnapshotStreams& operator=(const SnapshotStreams&) = delete;

  // A stream for the calling RPC, its first update written at once; when
  // EndAll() was called, one that ends at once with that status.
  grpc::ServerWriteReactor<Update>* Open(Fill fill, absl::Duration period,
                                         int64_t after_sequence,
                                         absl::Time now) {
    auto* stream = new Stream(this, std::move(fill), period, after_sequence);
    grpc::Status ended;
    {
      absl::MutexLock lock(&mu_);
      if (ending_) {
        ended = end_status_;
      } else {
        streams_.insert(stream);
      }
    }
    if (!ended.ok()) {
      stream->End(ended);
    } else {
      stream->MaybeWrite(now);
    }
    return stream;
  }

  // Writes every stream's update that is due and not still writing.
  void Tick(absl::Time now) {
    absl::MutexLock lock(&mu_);
    for (Stream* s : streams_) s->MaybeWrite(now);
  }

  // Ends every stream with `status` (after any write in progress) and ends
  // new ones at once. Idempotent: the first status stays.
  void EndAll(const grpc::Status& status) {
    absl::MutexLock lock(&mu_);
    if (!ending_) {
      ending_ = true;
      end_status_ = status;
    }
    for (Stream* s : streams_) s->End(end_status_);
  }

  // A stream for the calling RPC that ends at once with `status` (a
  // refused request).
  static grpc::ServerWriteReactor<Update>* Refuse(const grpc::Status& status) {
    class Refused final : public grpc::ServerWriteReactor<Update> {
     public:
      explicit Refused(const grpc::Status& s) { this->Finish(s); }
      void OnDone() override { delete this; }
    };
    return new Refused(status);
  }

  size_t size() const {
    absl::MutexLock lock(&mu_);
    return streams_.size();
  }

 private:
  class Stream final : public grpc::ServerWriteReactor<Update> {
   public:
    Stream(SnapshotStreams* owner, Fill fill, absl::Duration period,
           int64_t after_sequence)
        : owner_(owner),
          fill_(std::move(fill)),
          period_(period),
          last_sequence_(after_sequence) {}

    void MaybeWrite(absl::Time now) {
      absl::MutexLock lock(&mu_);
      if (finished_ || writing_ || now < next_due_) return;
      next_due_ = now + period_;
      update_.Clear();
      fill_(now, &update_);
      last_sequence_ = std::max(absl::ToUnixMillis(now), last_sequence_ + 1);
      update_.set_sequence(last_sequence_);
      writing_ = true;
      this->StartWrite(&update_);
    }

    void End(const grpc::Status& status) {
      absl::MutexLock lock(&mu_);
      EndLocked(status);
    }

    void OnWriteDone(bool ok) override {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) {
        EndLocked(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
      } else if (end_pending_) {
        EndLocked(end_status_);
      }
    }
    void OnCancel() override {
      End(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
    }
    void OnDone() override {
      {
        absl::MutexLock lock(&owner_->mu_);
        owner_->streams_.erase(this);
      }
      delete this;
    }

   private:
    void EndLocked(const grpc::Status& status)
        ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      if (finished_) return;
      if (writing_) {
        end_pending_ = true;
        end_status_ = status;
        return;
      }
      finished_ = true;
      this->Finish(status);
    }

    SnapshotStreams* const owner_;
    const Fill fill_;
    const absl::Duration period_;

    absl::Mutex mu_;
    int64_t last_sequence_ ABSL_GUARDED_BY(mu_);
    absl::Time next_due_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
    bool writing_ ABSL_GUARDED_BY(mu_) = false;
    bool finished_ ABSL_GUARDED_BY(mu_) = false;
    bool end_pending_ ABSL_GUARDED_BY(mu_) = false;
    grpc::Status end_status_ ABSL_GUARDED_BY(mu_);
    Update update_ ABSL_GUARDED_BY(mu_);
  };

  mutable absl::Mutex mu_;
  std::set<Stream*> streams_ ABSL_GUARDED_BY(mu_);
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status end_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace utm

#endif  // UTM_SERVICES_COMMON_SNAPSHOT_STREAM_H_
