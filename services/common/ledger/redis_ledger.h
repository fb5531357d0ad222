// The ledger on Redis, shared by every replica (ledger.h).
//
// A commit is one FCALL of the utm_commit Redis Function
// (redis_ledger.lua), which checks the base and the guard before writing
// anything and then, atomically, numbers the entry, chains its hash, applies
// the mutations to the tables' hashes, bumps the guard's write keys and
// appends the entry to the feed (a Stream whose entry ids are the sequence
// numbers). With `wait_replicas` > 0 the FCALL is followed, in the same round
// trip, by WAIT: a commit is acknowledged only once that many Redis replicas
// have it, and answers UNAVAILABLE ("outcome unknown: retry with the same
// request id") when they do not confirm in time.
//
// The durable watermark (ledger.h, Tail::durable): with `wait_replicas` > 0,
// once a commit's WAIT succeeds a background thread raises `<prefix>durable`
// to it with the utm_durable Function — coalesced, so a burst of commits
// costs one extra round trip, off the committing thread, sent as soon as
// the WAIT answers. ReadTail() reads the watermark after XREAD in the same
// pipelined round trip. With `wait_replicas` == 0 every entry read counts
// as durable: nothing is promised across a failover.
//
// The Function library carries a version (redis_ledger.lua: VERSION,
// COMPATIBLE_FROM): Open() loads it only when Redis has none or an older
// one, uses a newer compatible one as it is, and refuses a newer one that
// no longer serves this version (EnsureFunctions()).
//
// Durability is Redis's: "acknowledged means on disk" needs `appendonly yes`
// and `appendfsync always` on the primary (docs/operations.md says what other
// settings lose). Only redis_client.cc includes hiredis.
#ifndef UTM_SERVICES_COMMON_LEDGER_REDIS_LEDGER_H_
#define UTM_SERVICES_COMMON_LEDGER_REDIS_LEDGER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/ledger/ledger.h"
#include "services/common/redis/redis_client.h"

namespace utm::ledger {

struct RedisLedgerOptions {
  redis::ClientOptions client;
  // Every key starts with this; the hash tag keeps them in one Cluster
  // slot. DEFAULT: "{utm}:".
  std::string prefix = "{utm}:";
  // Redis replicas that must confirm a commit (WAIT) before it is
  // acknowledged, and before followers report it durable. Every replica of
  // utmd on one Redis uses the same value. DEFAULT: 0 (the primary's own
  // durability only; the durable watermark is the latest entry).
  int wait_replicas = 0;
  // How long WAIT may take before the commit answers UNAVAILABLE.
  // DEFAULT: 1 s.
  absl::Duration wait_timeout = absl::Seconds(1);
  // Feed entries kept (approximately, at least this many) for replicas that
  // fall behind; one further behind reloads. DEFAULT: 1,000,000.
  int64_t feed_max_entries = 1000000;
  // Connections in the pool shared by commits and reads. DEFAULT: 8.
  int pool_size = 8;
  // Most mutations in one commit (the Redis Function unpacks them onto the
  // Lua stack). DEFAULT: 1,000.
  size_t max_mutations = 1000;
};

class RedisLedger final : public Ledger {
 public:
  // Connects and loads the Redis Functions. UNAVAILABLE when Redis cannot be
  // reached; the error of FUNCTION LOAD otherwise.
  static absl::StatusOr<std::unique_ptr<RedisLedger>> Open(
      RedisLedgerOptions options);
  // Sends the last durable watermark still pending (one attempt).
  ~RedisLedger() override;

  absl::StatusOr<Position> Load(
      const std::vector<std::string>& tables,
      const std::function<void(absl::string_view, absl::string_view,
                               absl::string_view)>& fn) override;
  // Runs on the caller's thread (one round trip; two with a WAIT).
  void Commit(Guard guard, std::vector<Mutation> mutations,
              Done done) override;
  absl::StatusOr<std::vector<Entry>> Read(const Position& after,
                                          int max_entries,
                                          absl::Duration wait) override;
  absl::StatusOr<Position> Latest() override;
  // One round trip: the position check, XREAD and (with `wait_replicas` >
  // 0) the watermark, pipelined.
  absl::StatusOr<Tail> ReadTail(const Position& after, int max_entries,
                                absl::Duration wait) override;
  absl::StatusOr<uint64_t> Durable() override;
  // With `wait_replicas` N > 0: a write of its own (INCR <prefix>durable:probe)
  // and WAIT N, which confirms the whole replication stream up to it, then
  // utm_durable(upto). Two round trips, blocking up to `wait_timeout`.
  absl::Status ConfirmDurable(const Position& upto) override;
  // One FCALL of utm_forget (redis_ledger.lua), which checks that
  // `through` is in this history and then, atomically, trims the feed to
  // the entries after it and drops the version fields at or below it.
  // Trimmed rather than rewritten: the entries are hash-chained, so an
  // entry rewritten without the erased records would need every later hash
  // rewritten too, and every replica would reload anyway; a trim is the
  // operation the design already has (feed_max_entries), and replicas
  // behind it reload their read models from the tables. It blocks Redis
  // for one pass over the version fields (the keys of the feed's window).
  absl::Status ForgetHistory(const Position& through) override;
  int64_t round_trips() const override { return pool_.round_trips(); }

  // The Redis Function library's source, for tests and operators.
  static const char* FunctionSource();
  // The VERSION of a library source (FunctionSource() by default); 0 when
  // it has none.
  static int FunctionVersion(absl::string_view source = FunctionSource());

  // Makes Redis run a `utm_ledger` library this replica can use, `source`
  // being this replica's: loads it (FUNCTION LOAD REPLACE) when Redis has
  // no library or an older version (one without utm_version counts as 1);
  // keeps a newer one whose COMPATIBLE_FROM is at most this version; else
  // FAILED_PRECONDITION naming both versions. The check and the load are
  // one transaction (WATCH on `<prefix>lib`, which every load bumps), so
  // replicas of two versions starting together never downgrade the library.
  // Called by Open() and whenever Redis answers that it lost the library.
  static absl::Status EnsureFunctions(redis::Client& client,
                                      absl::string_view prefix,
                                      absl::string_view source);

 private:
  explicit RedisLedger(RedisLedgerOptions options);
  absl::Status LoadFunctions(redis::Client& client) const;
  absl::StatusOr<CommitResult> CommitNow(const Guard& guard,
                                         const std::vector<Mutation>& m);
  // A commit's WAIT confirmed `p`: queue it for the watermark.
  void NoteDurable(const Position& p);
  // The thread that sends the queued watermark (utm_durable).
  void FlushDurable();
  absl::Status SendDurable(const Position& p);

  const RedisLedgerOptions options_;
  redis::Pool pool_;

  absl::Mutex durable_mu_;
  // The highest position confirmed by a WAIT, and the highest sent.
  Position durable_pending_ ABSL_GUARDED_BY(durable_mu_);
  uint64_t durable_sent_ ABSL_GUARDED_BY(durable_mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(durable_mu_) = false;
  std::thread durable_thread_;  // runs only with wait_replicas > 0
};

}  // namespace utm::ledger

#endif  // UTM_SERVICES_COMMON_LEDGER_REDIS_LEDGER_H_
