// The constraint change log: every write, schedule transition and expiry
// becomes a Change with the next sequence number (1, 2, 3, ... without
// gaps). Watchers are fed from it in sequence order, and a watcher that
// reconnects with the last sequence it saw resumes from the changes after
// it while they are retained; the oldest are trimmed once every watcher has
// been handed them and more than the retention are kept.
//
// ChangeFeed is the interface the core and the watch hub use, so that the
// log can live elsewhere than in one process (several replicas reading one
// shared feed). LocalChangeFeed is the single-process implementation: the
// retained changes in memory and, with a store, in the table
// "constraint_log" (key: the sequence, zero-padded to 20 digits; value:
// internal.StoredChange), written in the same batch as the write that made
// the change, so a change is durable exactly when its write is, and read
// back on restart.
//
// Not thread-safe: ConstraintCore calls it under its mu_ (and keeps it
// ABSL_PT_GUARDED_BY that lock); the caller commits the batch Append()
// fills (Enqueue under the lock fixes the order, Wait after releasing it).
//
// Typical usage (under the core's lock):
//   LocalChangeFeed feed(store, options.change_log_retention);
//   UTM_RETURN_IF_ERROR(feed.Recover());
//   int64_t sequence = feed.Append(std::move(change), &batch);
//   feed.Read(delivered, sequence, [&](const auto& change) { ... });
//   feed.Trim(delivered);
#ifndef UTM_SERVICES_CONSTRAINT_CHANGE_FEED_H_
#define UTM_SERVICES_CONSTRAINT_CHANGE_FEED_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "geo/volume.h"
#include "services/common/store.h"
#include "services/constraint/constraint_record.h"
#include "utm/internal/constraint_storage.pb.h"
#include "utm/v1/constraint.pb.h"

namespace utm::constraint {

// One entry of the change log. Immutable once appended; shared by the log
// and whoever reads it.
struct Change {
  enum class Kind { kUpsert, kRemoved, kActivity, kAffected };
  int64_t sequence = 0;
  absl::Time time;
  Kind kind = Kind::kUpsert;
  std::string constraint_id;
  // kUpsert: the new state, and whether it was active at `time`.
  std::shared_ptr<const Record> record;
  bool active = false;
  // kActivity: the next transition.
  absl::Time next_change = absl::InfiniteFuture();
  v1::ConstraintRemovedReason removed_reason =
      v1::CONSTRAINT_REMOVED_REASON_UNSPECIFIED;
  // kUpsert: the volumes before (empty when new); otherwise its volumes.
  std::vector<geo::Volume4D> volumes;
  // kAffected: owner -> intent ids.
  std::map<std::string, std::vector<std::string>> affected;
};

// The durable form of a change, and back (DATA_LOSS naming the sequence for
// one that cannot be decoded). Every implementation stores changes so.
internal::StoredChange EncodeChange(const Change& change);
absl::StatusOr<std::shared_ptr<const Change>> DecodeChange(
    const internal::StoredChange& stored);

// The store (and ledger) table of the change log, and a change's key in it:
// the sequence as 20 decimal digits.
inline constexpr char kChangeLogTable[] = "constraint_log";
std::string ChangeLogKey(int64_t sequence);

class ChangeFeed {
 public:
  virtual ~ChangeFeed() = default;

  // Loads the retained changes; before anything else. DATA_LOSS for a
  // change that cannot be decoded.
  virtual absl::Status Recover() = 0;

  // Gives `change` the next sequence number and retains it; queues its
  // durable form on `batch` (which the caller commits with the write that
  // made the change). Returns the sequence.
  virtual int64_t Append(Change change,
                         std::vector<store::Mutation>* batch) = 0;

  // The last sequence assigned; 0 before the first change.
  virtual int64_t last_sequence() const = 0;
  // The oldest sequence retained; last_sequence() + 1 when none is.
  virtual int64_t first_retained() const = 0;

  // Calls `fn` with each change after `after` up to `up_to`, in sequence
  // order; nothing when up_to <= after. REQUIRES: after + 1 >=
  // first_retained(), up_to <= last_sequence().
  virtual void Read(
      int64_t after, int64_t up_to,
      absl::FunctionRef<void(const std::shared_ptr<const Change>&)> fn)
      const = 0;

  // Drops the oldest changes while more than the retention are kept, never
  // one after `up_to` (the last sequence every watcher has been handed).
  virtual void Trim(int64_t up_to) = 0;
};

class LocalChangeFeed final : public ChangeFeed {
 public:
  // `store` is not owned; null: nothing is persisted. Keeps the last
  // `retention` changes.
  LocalChangeFeed(store::Store* store, size_t retention)
      : store_(store), retention_(retention) {}

  absl::Status Recover() override;
  int64_t Append(Change change, std::vector<store::Mutation>* batch) override;
  int64_t last_sequence() const override { return last_sequence_; }
  int64_t first_retained() const override {
    return log_.empty() ? last_sequence_ + 1 : log_.front()->sequence;
  }
  void Read(int64_t after, int64_t up_to,
            absl::FunctionRef<void(const std::shared_ptr<const Change>&)> fn)
      const override;
  void Trim(int64_t up_to) override;

 private:
  store::Store* const store_;
  const size_t retention_;
  // Retained changes, oldest first, consecutive sequences.
  std::deque<std::shared_ptr<const Change>> log_;
  int64_t last_sequence_ = 0;
};

// The change log of a replica: a read model of the ledger's table
// "constraint_log", which every replica's writes fill (each change numbered
// by the write that made it, decided on a log that had every earlier one)
// and trim (a write that adds change s deletes change s - retention). The
// ledger applies the records here in order as they are committed, or in any
// order when it loads: sequences are kept sorted. Append() is not used (a
// replica never numbers a change on its own) and Trim() keeps everything
// (the writers trim).
//
// Not thread-safe: ConstraintCore calls it under its mu_.
class ReplicaChangeFeed final : public ChangeFeed {
 public:
  // One record of the table: put (`value` set) or deleted. A record that
  // cannot be decoded is reported on stderr and skipped.
  void ApplyRecord(absl::string_view key,
                   const std::optional<std::string>& value);
  void Clear() { log_.clear(); }

  absl::Status Recover() override { return absl::OkStatus(); }
  int64_t Append(Change change, std::vector<store::Mutation>* batch) override;
  int64_t last_sequence() const override {
    return log_.empty() ? 0 : log_.rbegin()->first;
  }
  int64_t first_retained() const override {
    return log_.empty() ? 1 : log_.begin()->first;
  }
  void Read(int64_t after, int64_t up_to,
            absl::FunctionRef<void(const std::shared_ptr<const Change>&)> fn)
      const override;
  void Trim(int64_t) override {}

 private:
  std::map<int64_t, std::shared_ptr<const Change>> log_;
};

}  // namespace utm::constraint

#endif  // UTM_SERVICES_CONSTRAINT_CHANGE_FEED_H_
