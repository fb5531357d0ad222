// Where flight logs are kept: each flight's record (who flew it, its
// header) and its track's chunks (track_codec.h), behind one small
// interface, with one implementation per backend: on store::Store (the
// embedded store: its encryption at rest applies), here, and on Redis
// (flight_log_store_redis.h), shared by the replicas.
//
// The embedded implementation keeps an index in memory, rebuilt from the
// store at start-up: every record by flight id and each operator's flights
// ordered by start time (so listing one operator's flights never looks at
// another's). Chunks are read from the store (store::Store::Get); the
// embedded store holds its tables in memory, so a flight log costs about
// its stored size in memory; with the bounds of flight_log.h (360,000
// points a flight, 10,000 flights an operator) that is what a deployment
// must size for.
//
// Writes are queued on the store (group commit) and never wait for the
// disk; reads see every write queued before them (they answer from the
// index).
//
// Thread-safe.
//
// Typical usage:
//   UTM_ASSIGN_OR_RETURN(std::unique_ptr<FlightLogStore> logs,
//                        OpenFlightLogStore(store));
//   logs->Put(record, &chunk);
//   std::optional<internal::StoredFlight> r = logs->Find("alice", id);
#ifndef UTM_SERVICES_OPERATOR_FLIGHT_LOG_STORE_H_
#define UTM_SERVICES_OPERATOR_FLIGHT_LOG_STORE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/store.h"
#include "utm/internal/flight_log_storage.pb.h"

namespace utm::fleet {

class FlightLogStore {
 public:
  virtual ~FlightLogStore() = default;

  // Replaces the record of record.header().flight().flight_id() and, when
  // `chunk` is not null, adds it as chunk record.chunk_count() - 1, in one
  // batch. REQUIRES: a record's operator and start time never change, and
  // chunks are added in order.
  virtual void Put(const internal::StoredFlight& record,
                   const std::string* chunk) = 0;
  // Removes a flight: its record and every chunk. No-op when unknown.
  virtual void Remove(const std::string& flight_id) = 0;

  // `operator_id`'s flight `flight_id`; nullopt when there is none, or when
  // it is another operator's. UNAVAILABLE when the backend cannot answer.
  virtual absl::StatusOr<std::optional<internal::StoredFlight>> Find(
      const std::string& operator_id, const std::string& flight_id) const = 0;
  // Chunk `index` of a flight, encoded; NOT_FOUND when there is none (the
  // flight was removed meanwhile); UNAVAILABLE when the backend cannot
  // answer.
  virtual absl::StatusOr<std::string> Chunk(const std::string& flight_id,
                                            int index) const = 0;

  // Where a page of ListNewest starts: after this flight (start time, id).
  struct Position {
    absl::Time start;
    std::string flight_id;
  };
  // At most `limit` of `operator_id`'s flights, newest first (by start
  // time, then by id descending), after `after` (nullopt: from the newest).
  // O(log n + limit). UNAVAILABLE when the backend cannot answer.
  virtual absl::StatusOr<std::vector<internal::StoredFlight>> ListNewest(
      const std::string& operator_id, const std::optional<Position>& after,
      size_t limit) const = 0;
  // How many flights `operator_id` has, and its oldest one's id (by start).
  // Best effort: 0 and nullopt when the backend cannot answer (recording
  // goes on; the bound is enforced at a later flight).
  virtual size_t Count(const std::string& operator_id) const = 0;
  virtual std::optional<std::string> Oldest(
      const std::string& operator_id) const = 0;
  // Calls `fn` with every flight's operator, id and end time (the retention
  // sweep, an erasure). `fn` must not call back into the store. An error
  // (UNAVAILABLE) when the backend cannot answer; `fn` may have been called
  // for some flights.
  virtual absl::Status ForEach(
      const std::function<void(const std::string& operator_id,
                               const std::string& flight_id, absl::Time end)>&
          fn) const = 0;
  // Waits until every Put and Remove made before it is applied; an error
  // when one of them since the previous Sync could not be (they are not
  // retried). An erasure calls it before it says it is done. The embedded
  // store applies each in order with the store's next group commit: OK.
  virtual absl::Status Sync() { return absl::OkStatus(); }
};

// Table names in the store.
inline constexpr char kFlightLogsTable[] = "flight_logs";
inline constexpr char kFlightChunksTable[] = "flight_chunks";

// Flight logs on `store` (not owned; must outlive the result): reads every
// flight log from it. A record left in progress by a process that stopped
// is a flight that ended at its latest point. DATA_LOSS, naming the key, for
// a record or chunk key that cannot be read; chunks of no record (a flight
// removed while they were being written cannot leave any, since record and
// chunk go in one batch) are removed.
absl::StatusOr<std::unique_ptr<FlightLogStore>> OpenFlightLogStore(
    store::Store* store);

}  // namespace utm::fleet

#endif  // UTM_SERVICES_OPERATOR_FLIGHT_LOG_STORE_H_
