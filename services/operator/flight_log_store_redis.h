// Flight logs on Redis (FlightLogStore, flight_log_store.h), shared by every
// replica of utmd on one Redis: a flight recorded by one replica is listed
// and read through any other.
//
// Keys (all under the deployment's prefix, whose hash tag keeps them in
// one Cluster slot; `<p>` below):
//   <p>flog:r:<flight id>   string: the flight's record (StoredFlight)
//   <p>flog:c:<flight id>   hash: chunk index (decimal) -> encoded chunk
//   <p>flog:o:<operator>    sorted set: the operator's flight ids by start
//                           time (microseconds): ListNewest, Count, Oldest
//   <p>flog:ends            sorted set: every flight id by end time
//                           (microseconds): the retention sweep (ForEach)
//   <p>flog:owner           hash: flight id -> operator (what Remove needs)
// A Put is one MULTI/EXEC (record, chunk, both indexes, owner); a Remove is
// one script (it reads the owner, then deletes the five entries). Both are
// therefore atomic: a flight is never half-listed.
//
// Writes never wait for Redis: Put and Remove copy their commands into a
// queue that one writer thread sends, many batches per round trip. The
// queue is bounded (`max_queued_bytes`); a write that finds it full, or
// that comes within `backoff` of a failed round trip (Redis down), is
// dropped, counted (stats()) and logged (the first of each outage), and
// the next Sync() reports it. A write that failed is not retried: a chunk
// may go missing from a log (the log reads NOT_FOUND at that chunk), never
// the whole queue piling up in memory.
//
// Reads go to Redis: Find, Chunk and ListNewest first wait (at most
// `read_wait`) for the writes queued before them, so a replica reads its own
// writes, then answer UNAVAILABLE (naming Redis) when it cannot be reached.
// Count and Oldest (asked while recording) do not try while Redis is known
// to be down (within `backoff` of a failure): they answer 0 and nullopt.
// ForEach pages through the end-time index (ZSCAN, 1,000 a page).
//
// Every call is bounded by the client's timeouts. Thread-safe.
//
// Typical usage:
//   RedisFlightLogOptions o;
//   o.client = ledger_options.client;
//   o.prefix = ledger_options.prefix;
//   auto logs = std::make_unique<RedisFlightLogStore>(o);
#ifndef UTM_SERVICES_OPERATOR_FLIGHT_LOG_STORE_REDIS_H_
#define UTM_SERVICES_OPERATOR_FLIGHT_LOG_STORE_REDIS_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/redis/redis_client.h"
#include "services/operator/flight_log_store.h"

namespace utm::fleet {

struct RedisFlightLogOptions {
  redis::ClientOptions client;
  // Every key starts with this (the ledger's prefix). DEFAULT: "{utm}:".
  std::string prefix = "{utm}:";
  // Bytes of writes waiting for Redis, at most. DEFAULT: 64 MiB.
  size_t max_queued_bytes = size_t{64} << 20;
  // After a round trip fails, writes are dropped (and Count and Oldest do
  // not try) for this long. DEFAULT: 1 s.
  absl::Duration backoff = absl::Seconds(1);
  // How long a read waits for the writes queued before it. DEFAULT: 5 s.
  absl::Duration read_wait = absl::Seconds(5);
  // Connections. DEFAULT: 4.
  int pool_size = 4;
};

class RedisFlightLogStore final : public FlightLogStore {
 public:
  // Starts the writer thread; connects when first used.
  explicit RedisFlightLogStore(RedisFlightLogOptions options);
  // Sends what is queued (one attempt each), then stops.
  ~RedisFlightLogStore() override;

  void Put(const internal::StoredFlight& record,
           const std::string* chunk) override;
  void Remove(const std::string& flight_id) override;
  absl::StatusOr<std::optional<internal::StoredFlight>> Find(
      const std::string& operator_id,
      const std::string& flight_id) const override;
  absl::StatusOr<std::string> Chunk(const std::string& flight_id,
                                    int index) const override;
  absl::StatusOr<std::vector<internal::StoredFlight>> ListNewest(
      const std::string& operator_id, const std::optional<Position>& after,
      size_t limit) const override;
  size_t Count(const std::string& operator_id) const override;
  std::optional<std::string> Oldest(
      const std::string& operator_id) const override;
  absl::Status ForEach(
      const std::function<void(const std::string&, const std::string&,
                               absl::Time)>& fn) const override;
  absl::Status Sync() override;

  struct Stats {
    int64_t batches_written = 0;
    int64_t batches_dropped = 0;  // queue full, Redis down, or refused
    int64_t chunks_dropped = 0;   // of those, chunks of a track
    int64_t queued_bytes = 0;
  };
  Stats stats() const;

  // The keys of a flight and of an operator's index (for tests and
  // operators).
  std::string RecordKey(const std::string& flight_id) const;
  std::string ChunksKey(const std::string& flight_id) const;
  std::string OperatorKey(const std::string& operator_id) const;
  std::string EndsKey() const;
  std::string OwnerKey() const;

 private:
  struct Batch {
    std::vector<std::vector<std::string>> commands;
    size_t bytes = 0;
    int chunks = 0;
  };

  void Enqueue(Batch batch);
  void WriterLoop();
  // Waits (at most read_wait) for the writes queued so far to be sent.
  absl::Status AwaitQueued() const;
  // Runs `commands` in one round trip; UNAVAILABLE when Redis cannot.
  absl::StatusOr<std::vector<redis::Reply>> Run(
      const std::vector<std::vector<std::string>>& commands) const;
  bool Down() const;

  const RedisFlightLogOptions options_;
  mutable redis::Pool pool_;

  mutable absl::Mutex mu_;
  std::deque<Batch> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t enqueued_ ABSL_GUARDED_BY(mu_) = 0;  // batches queued ever
  uint64_t done_ ABSL_GUARDED_BY(mu_) = 0;      // ... sent or dropped
  // A write failed or was dropped since the last Sync.
  std::optional<absl::Status> failed_ ABSL_GUARDED_BY(mu_);
  mutable absl::Time down_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Stats stats_ ABSL_GUARDED_BY(mu_);
  std::thread writer_;
};

}  // namespace utm::fleet

#endif  // UTM_SERVICES_OPERATOR_FLIGHT_LOG_STORE_REDIS_H_
