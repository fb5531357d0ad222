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
// Durability is Redis's: "acknowledged means on disk" needs `appendonly yes`
// and `appendfsync always` on the primary (docs/operations.md says what other
// settings lose). Only redis_client.cc includes hiredis.
#ifndef UTM_SERVICES_COMMON_LEDGER_REDIS_LEDGER_H_
#define UTM_SERVICES_COMMON_LEDGER_REDIS_LEDGER_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

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
  // acknowledged. DEFAULT: 0 (the primary's own durability only).
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
  int64_t round_trips() const override { return pool_.round_trips(); }

  // The Redis Function library's source, for tests and operators.
  static const char* FunctionSource();

 private:
  explicit RedisLedger(RedisLedgerOptions options);
  // FUNCTION LOAD REPLACE of the library: at start, and again whenever Redis
  // answers that it lost it (restarted without persistence, or a new empty
  // primary after a failover).
  static absl::Status LoadFunctions(redis::Client& client);
  absl::StatusOr<CommitResult> CommitNow(const Guard& guard,
                                         const std::vector<Mutation>& m);

  const RedisLedgerOptions options_;
  redis::Pool pool_;
};

}  // namespace utm::ledger

#endif  // UTM_SERVICES_COMMON_LEDGER_REDIS_LEDGER_H_
