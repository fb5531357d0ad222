// The ledger of a single process, over a store::Store (embedded or memory).
//
// Commits are checked against an in-memory map of the sequence that last
// wrote each key, numbered, queued to the store in sequence order with the
// ledger's position (so a restart resumes the numbering and the hash chain),
// and answered once the store says they are durable. Recent entries are kept
// in memory for followers. Nothing else may write the store's tables that the
// ledger carries while it is open.
//
// Durable(): the last entry the store has made durable. Read() shows an
// entry as soon as it is numbered, before the store's sync, so a follower's
// durable() trails its applied() by about one sync.
//
// The key map is not persisted: after a restart, or when it outgrows
// `max_tracked_keys` and is cleared, every key counts as written at the
// position it was cleared at — commits decided on an older base then retry
// once on a fresh read, which is safe and rare.
#ifndef UTM_SERVICES_COMMON_LEDGER_LOCAL_LEDGER_H_
#define UTM_SERVICES_COMMON_LEDGER_LOCAL_LEDGER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "services/common/ledger/ledger.h"
#include "services/common/store.h"

namespace utm::ledger {

struct LocalLedgerOptions {
  // Entries kept in memory for Read(). DEFAULT: 100,000.
  size_t retained_entries = 100000;
  // Keys whose last writer is tracked before the map is cleared.
  // DEFAULT: 1,000,000.
  size_t max_tracked_keys = 1000000;
};

class LocalLedger final : public Ledger {
 public:
  // The store's table holding the ledger's position.
  static constexpr char kPositionTable[] = "ledger";

  // `store` is not owned and must outlive the ledger. Reads the position
  // from the store: DATA_LOSS when it cannot be decoded.
  static absl::StatusOr<std::unique_ptr<LocalLedger>> Open(
      store::Store* store, LocalLedgerOptions options = {});

  absl::StatusOr<Position> Load(
      const std::vector<std::string>& tables,
      const std::function<void(absl::string_view, absl::string_view,
                               absl::string_view)>& fn) override;
  void Commit(Guard guard, std::vector<Mutation> mutations,
              Done done) override;
  absl::StatusOr<std::vector<Entry>> Read(const Position& after,
                                          int max_entries,
                                          absl::Duration wait) override;
  absl::StatusOr<Position> Latest() override;
  absl::StatusOr<uint64_t> Durable() override { return durable_.load(); }
  // Drops the retained entries up to and including `through` (their
  // mutations hold the values they wrote) and the tracked guard keys (they
  // name objects and request ids): every key then counts as written at the
  // latest entry. The store's log is the caller's to compact. ABORTED when
  // `through` is not in the retained history.
  absl::Status ForgetHistory(const Position& through) override;

 private:
  LocalLedger(store::Store* store, LocalLedgerOptions options,
              Position position);
  // Whether `p` is a position of this ledger's history that entries can be
  // read after (the latest, or within the retained entries).
  bool Known(const Position& p) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  store::Store* const store_;
  const LocalLedgerOptions options_;
  mutable absl::Mutex mu_;
  Position latest_ ABSL_GUARDED_BY(mu_);
  // Every key counts as written at `floor_` unless `written_` says later.
  uint64_t floor_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, uint64_t> written_ ABSL_GUARDED_BY(mu_);
  // The most recent entries, oldest first, and the position just before the
  // first of them.
  std::deque<Entry> entries_ ABSL_GUARDED_BY(mu_);
  Position before_entries_ ABSL_GUARDED_BY(mu_);
  // The highest entry the store has made durable (raised from the store's
  // durability callbacks, which must not block: hence not under mu_).
  std::atomic<uint64_t> durable_{0};
};

}  // namespace utm::ledger

#endif  // UTM_SERVICES_COMMON_LEDGER_LOCAL_LEDGER_H_
