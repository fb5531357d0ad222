// Keeps a replica's read models current with the ledger.
//
// Each core registers the tables it models with a handler that applies one
// record (a put, or a delete) and a handler that empties its model. Start()
// loads every table and then a thread tails the ledger, applying each entry's
// mutations to the tables' handlers in sequence order, one entry at a time;
// applied() is the last entry applied in full. A write decided with
// applied() as its base therefore saw at least everything up to it.
//
// When the ledger says the follower's position is no longer in its history
// (trimmed away while this replica was behind, or lost in a failover), the
// follower clears every model and loads again: a gap is never papered over.
//
// Durability: durable() is the highest applied entry the ledger reports
// durable (Tail::durable): with RedisLedger and `wait_replicas` N > 0, on N
// Redis replicas, so it survives a failover. Entries are applied (and the
// read models show them) as soon as they are read, which is what deciding
// writes needs: a stale or lost entry only makes a guard fail. What leaves
// the replica as a promise — a change streamed to a watcher — waits for
// durable(): OnDurable() says when it rises. While applied() is ahead of
// durable() the follower reads the watermark again every `durable_poll`,
// even when no entry comes (the replicas' confirmation of another writer's
// commit adds no entry to wake the read); when it stays ahead for
// `confirm_after`, it asks the ledger to confirm the entries itself.
//
// Handlers run on the follower's thread or on a thread calling CatchUp(),
// never two at once; they take their core's own lock. A core must not hold
// its lock while calling CatchUp() or WaitApplied().
//
// Typical usage:
//   Follower follower(ledger);
//   follower.AddTable("intents", apply_intent, clear_intents);
//   UTM_RETURN_IF_ERROR(follower.Start());
//   ... base = follower.applied(); decide; commit; on kMoved:
//   follower.CatchUp();
#ifndef UTM_SERVICES_COMMON_LEDGER_FOLLOWER_H_
#define UTM_SERVICES_COMMON_LEDGER_FOLLOWER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/ledger/ledger.h"

namespace utm::ledger {

struct FollowerOptions {
  // Longest a Read() waits for new entries before polling again.
  // DEFAULT: 1 s.
  absl::Duration poll = absl::Seconds(1);
  // Entries read at once. DEFAULT: 512.
  int batch = 512;
  // After an error (backend down), wait this long before reading again.
  // DEFAULT: 200 ms.
  absl::Duration retry = absl::Milliseconds(200);
  // Longest a Read() waits while applied() is ahead of durable(), so that
  // the watermark is read again that often: one round trip per
  // `durable_poll` at most, and only while something waits to be durable.
  // DEFAULT: 10 ms.
  absl::Duration durable_poll = absl::Milliseconds(10);
  // When applied() has stayed ahead of durable() this long (the entries'
  // writer may have died before raising the watermark), ask the ledger to
  // confirm them itself (Ledger::ConfirmDurable), at most once per period.
  // DEFAULT: 500 ms.
  absl::Duration confirm_after = absl::Milliseconds(500);
};

class Follower {
 public:
  // Applies one record: `value` set for a put, nullopt for a delete.
  using ApplyFn = std::function<void(absl::string_view key,
                                     const std::optional<std::string>& value)>;

  // `ledger` is not owned and must outlive the follower.
  explicit Follower(Ledger* ledger, FollowerOptions options = {});
  // Stop()s. The handlers run on the follower's thread until then: whatever
  // they call into (the cores) must outlive the follower, or Stop() it first.
  ~Follower();

  // REQUIRES: before Start(). Records of tables nobody added are skipped.
  void AddTable(std::string table, ApplyFn apply, std::function<void()> clear);

  // Loads every table (calling `apply` per record) and starts tailing.
  // UNAVAILABLE when the backend is down; DATA_LOSS from a handler's model
  // is not possible (handlers cannot fail: a record they cannot decode is
  // theirs to report).
  absl::Status Start();
  void Stop();

  // The last entry applied in full.
  Position applied() const;

  // The highest seq that is both applied here and durable
  // (<= applied().seq). After a reload (the history was rewritten or
  // trimmed past this replica) it restarts at 0 and rises again, within
  // about `durable_poll`, as the ledger confirms the reloaded position:
  // consumers treat a reload (the tables' clear handlers) as a resync.
  uint64_t durable() const;

  // Applies every entry committed before the call, and reloads when this
  // replica's position is no longer in the ledger's history (even at the
  // same number). UNAVAILABLE when the backend is down.
  absl::Status CatchUp();

  // Until every entry up to `seq` is applied (CatchUp() when it is not yet).
  absl::Status WaitApplied(uint64_t seq);

  // Times the model was cleared and loaded again since Start(): for tests and
  // health.
  int64_t reloads() const { return reloads_.load(); }

  // Called after each entry is applied, with it (for change notifications
  // and staleness measurement). REQUIRES: before Start(). Runs under the
  // follower's apply lock: quick, and never calls back into the follower.
  void OnApplied(std::function<void(const Entry&)> fn);

  // Called whenever durable() rises, with the new value (not when a reload
  // resets it). REQUIRES: before Start(). Runs under the follower's apply
  // lock, on the follower's thread or on a thread in CatchUp() or
  // WaitApplied(), after the OnApplied() calls of the entries it covers:
  // quick, never blocks, may call applied() and durable() but nothing else
  // of the follower.
  void OnDurable(std::function<void(uint64_t durable_seq)> fn);

 private:
  struct Table {
    ApplyFn apply;
    std::function<void()> clear;
  };
  // Applies entries until one read returns fewer than a batch. Returns the
  // error of a read; reloads on DATA_LOSS.
  absl::Status Pull() ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  absl::Status Reload() ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  absl::Status WaitAppliedLocked(uint64_t seq)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  void Apply(const Entry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  // Raises durable() to min(`reported`, applied().seq) if that is higher,
  // and tells the OnDurable() handlers.
  void RaiseDurable(uint64_t reported) ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  void Run();

  Ledger* const ledger_;
  const FollowerOptions options_;
  std::map<std::string, Table> tables_;  // fixed after Start()
  std::vector<std::function<void(const Entry&)>> on_applied_;
  std::vector<std::function<void(uint64_t)>> on_durable_;

  // Serialises applying; held across the ledger reads that feed it.
  absl::Mutex apply_mu_;
  mutable absl::Mutex position_mu_;
  Position applied_ ABSL_GUARDED_BY(position_mu_);
  uint64_t durable_ ABSL_GUARDED_BY(position_mu_) = 0;
  std::atomic<int64_t> reloads_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace utm::ledger

#endif  // UTM_SERVICES_COMMON_LEDGER_FOLLOWER_H_
