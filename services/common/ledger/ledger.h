// The ledger: one totally ordered, durable sequence of changes shared by
// every replica of utmd, with commits that are checked and applied atomically.
//
// Replicas keep their working state (intents, constraints, indexes) in memory
// as *read models* of the ledger: they apply its entries in sequence order,
// their own and everyone else's. A write is decided on a replica's read model
// as of the last entry it applied (the *base*), then committed with a Guard:
// the keys the decision read (area keys of the airspace it looked at, the
// objects and request ids it relied on) and the keys it changes. The ledger
// commits only if none of the read keys changed after the base; otherwise the
// replica catches up and decides again. This is optimistic concurrency control
// on version keys (the InterUSS DSS serialises writes the same way with OVNs),
// checked inside the ledger, so no lock or lease is held by a replica and a
// paused replica cannot act on anything stale: its commit simply fails.
//
// Every entry carries a hash chained to the previous entry's, so a replica
// whose base is not in the ledger as it remembers it (the feed was trimmed
// past it, or the backend lost entries in a failover and numbered new ones
// the same) learns it must reload its read model rather than decide on a
// history that no longer exists.
//
// Two backends: LocalLedger (ledger/local_ledger.h) over a store::Store, for
// the single process; RedisLedger (ledger/redis_ledger.h), shared by replicas.
//
// Typical usage (a core's write):
//   for (int attempt = 0;; ++attempt) {
//     Position base = feed.applied();
//     Decision d = Decide(request);                 // reads the read model
//     absl::StatusOr<CommitResult> r = ledger->Commit(
//         Guard{base, d.reads, d.writes}, d.mutations);
//     if (r.ok() && r->status == CommitStatus::kCommitted) break;
//     ...catch up (kMoved) or reload (kReload), then decide again
//   }
#ifndef UTM_SERVICES_COMMON_LEDGER_LEDGER_H_
#define UTM_SERVICES_COMMON_LEDGER_LEDGER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/store.h"

namespace utm::ledger {

using store::Mutation;

// A point in the ledger: the sequence number of an entry (0 before the first)
// and that entry's chained hash ("" before the first).
struct Position {
  uint64_t seq = 0;
  std::string hash;
  bool operator==(const Position& o) const {
    return seq == o.seq && hash == o.hash;
  }
  bool operator!=(const Position& o) const { return !(*this == o); }
};

// One committed batch.
struct Entry {
  uint64_t seq = 0;
  std::string hash;  // ChainHash(previous entry's hash, mutations)
  std::vector<Mutation> mutations;
};

// The hash chained from `previous` over `mutations`: lowercase hex SHA-1 of
// previous + "\n" + for each mutation its table, key and value (or its
// absence), each prefixed with its length. Both backends compute it the same
// way (the Redis one inside the ledger's Redis Function).
std::string ChainHash(absl::string_view previous,
                      const std::vector<Mutation>& mutations);

// The condition a commit is made under.
struct Guard {
  // The entry the decision was made on: every entry up to it had been applied
  // to the deciding replica's read model.
  Position base;
  // Keys the decision read: the commit succeeds only if none of them was
  // written by an entry after `base`. Area keys (geo/area_keys.h), object
  // keys ("intent/<id>"), request keys.
  std::vector<std::string> reads = {};
  // Keys this commit writes: later commits that read them see this one.
  // Writes should also be read (a blind write over a concurrent change of the
  // same key would lose it).
  std::vector<std::string> writes = {};
};

enum class CommitStatus {
  kCommitted,  // written, as entry `seq`
  kMoved,      // a read key changed after the base: catch up, decide again
  kReload,     // the base is not in the ledger (trimmed, or history lost)
};

struct CommitResult {
  CommitStatus status = CommitStatus::kCommitted;
  // kCommitted: the new entry's position. kMoved, kReload: the ledger's
  // latest position when it answered.
  Position position;
};

const char* CommitStatusName(CommitStatus status);

// What a follower reads at the tail of the ledger: the entries after its
// position, and the durable watermark as of the same moment.
struct Tail {
  std::vector<Entry> entries;
  // The highest sequence number known to be durable: every entry up to it
  // survives what the backend is configured to survive (a failover, for
  // RedisLedger with `wait_replicas` > 0; see each backend). Read after the
  // entries, on the history the read checked the position against. May be
  // below or above the last entry returned; a follower announces
  // min(applied, durable).
  uint64_t durable = 0;
};

class Ledger {
 public:
  using Done = std::function<void(absl::StatusOr<CommitResult>)>;
  using RecordFn =
      std::function<void(absl::string_view key, absl::string_view value)>;

  virtual ~Ledger() = default;

  // Reads the current state for a replica that starts (or reloads): calls
  // `fn(table, key, value)` for every record of every table in `tables`, and
  // returns the position the records are as of. Entries after that position
  // are read with Read(). UNAVAILABLE when the backend is down.
  virtual absl::StatusOr<Position> Load(
      const std::vector<std::string>& tables,
      const std::function<void(absl::string_view table, absl::string_view key,
                               absl::string_view value)>& fn) = 0;

  // Commits `mutations` under `guard`; `done` runs once, when the entry is
  // durable as the backend is configured to promise (see each backend), or
  // with the reason it was not written (kMoved, kReload), or with an error:
  // UNAVAILABLE when the backend is down or durability could not be
  // confirmed — then the outcome is unknown and the caller retries with the
  // same request id. `done` may run on another thread, must be quick and must
  // not block. Checks are made before anything is written: a commit that is
  // not kCommitted changed nothing. With neither mutations nor write keys,
  // the guard is only checked: kCommitted then adds no entry and answers the
  // latest position (a decision that changes nothing, confirmed current).
  virtual void Commit(Guard guard, std::vector<Mutation> mutations,
                      Done done) = 0;

  // Commit and wait.
  absl::StatusOr<CommitResult> CommitAndWait(Guard guard,
                                             std::vector<Mutation> mutations);

  // Up to `max_entries` entries after `after`, in order; waits up to `wait`
  // for the first when there is none yet (zero: answers at once). DATA_LOSS
  // (reload) when `after` is not in the ledger as given: trimmed away, or its
  // hash differs (the history was rewritten). UNAVAILABLE when down.
  virtual absl::StatusOr<std::vector<Entry>> Read(const Position& after,
                                                  int max_entries,
                                                  absl::Duration wait) = 0;

  // The latest committed position.
  virtual absl::StatusOr<Position> Latest() = 0;

  // Read() and the durable watermark (Tail::durable) in one answer. The
  // default calls Read() and then Durable(); backends whose history can be
  // rewritten (Redis, in a failover) read both in one round trip, so that
  // the watermark is about the history the entries came from.
  virtual absl::StatusOr<Tail> ReadTail(const Position& after, int max_entries,
                                        absl::Duration wait);

  // The durable watermark (Tail::durable). The default is Latest().seq: a
  // backend that acknowledges only durable commits and shows no entry
  // before. UNAVAILABLE when the backend is down.
  virtual absl::StatusOr<uint64_t> Durable();

  // Asks the backend to confirm that every entry up to `upto` is durable and,
  // if it is, to raise the watermark to it: for a follower whose applied
  // entries stay above the watermark, because their writer died (or lost
  // Redis) between its confirmation and raising the watermark. May block up
  // to the backend's confirmation timeout. UNAVAILABLE when the entries
  // could not be confirmed. The default does nothing (backends whose
  // watermark needs no writer's help).
  virtual absl::Status ConfirmDurable(const Position& upto) {
    (void)upto;
    return absl::OkStatus();
  }

  // Forgets the history up to and including `through`, an entry in it:
  // every trace the backend keeps of those entries besides the tables'
  // current records (for Redis: the feed, holding each entry's mutations
  // with the values they wrote, and the version keys of their guards,
  // which name objects and request ids). For an erasure: once its
  // deletions are committed, through its last entry, nothing they deleted
  // remains in the ledger. Followers at or before `through` reload (Read()
  // answers DATA_LOSS), and so do commits with such a base (kReload).
  // ABORTED when `through` is not in the history (lost in a failover: the
  // deletions may be lost too; repeat the erasure); UNAVAILABLE when the
  // backend is down. The default does nothing (LocalLedger forgets its
  // entries kept in memory; its store's log is the caller's to compact).
  virtual absl::Status ForgetHistory(const Position& through) {
    (void)through;
    return absl::OkStatus();
  }

  // Round trips to the backend since it was opened (0 for local backends):
  // for benchmarks.
  virtual int64_t round_trips() const { return 0; }
};

}  // namespace utm::ledger

#endif  // UTM_SERVICES_COMMON_LEDGER_LEDGER_H_
