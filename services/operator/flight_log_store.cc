#include "services/operator/flight_log_store.h"

#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"

namespace utm::fleet {
namespace {

std::string ChunkKey(absl::string_view flight_id, int index) {
  return absl::StrFormat("%s/%08d", flight_id, index);
}

absl::Time StartOf(const internal::StoredFlight& r) {
  const google::protobuf::Timestamp& t = r.header().flight().start_time();
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

absl::Time EndOf(const internal::StoredFlight& r) {
  const google::protobuf::Timestamp& t = r.header().flight().end_time();
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

class StoreFlightLogStore final : public FlightLogStore {
 public:
  explicit StoreFlightLogStore(store::Store* store) : store_(store) {}

  absl::Status Load();

  void Put(const internal::StoredFlight& record,
           const std::string* chunk) override {
    const std::string& id = record.header().flight().flight_id();
    std::vector<store::Mutation> batch;
    batch.push_back(
        store::Put(kFlightLogsTable, id, record.SerializeAsString()));
    absl::MutexLock lock(&mu_);
    Entry& e = flights_[id];
    if (e.record.header().flight().flight_id().empty()) {
      by_operator_[record.operator_id()].insert(
          {StartOf(record), record.header().flight().flight_id()});
    }
    e.record = record;
    if (chunk != nullptr) {
      batch.push_back(store::Put(
          kFlightChunksTable, ChunkKey(id, record.chunk_count() - 1), *chunk));
    }
    store_->Enqueue(std::move(batch));
  }

  void Remove(const std::string& flight_id) override {
    absl::MutexLock lock(&mu_);
    auto it = flights_.find(flight_id);
    if (it == flights_.end()) return;
    std::vector<store::Mutation> batch;
    batch.push_back(store::Delete(kFlightLogsTable, flight_id));
    for (int i = 0; i < it->second.record.chunk_count(); ++i) {
      batch.push_back(
          store::Delete(kFlightChunksTable, ChunkKey(flight_id, i)));
    }
    store_->Enqueue(std::move(batch));
    const internal::StoredFlight& r = it->second.record;
    auto op = by_operator_.find(r.operator_id());
    if (op != by_operator_.end()) {
      op->second.erase({StartOf(r), flight_id});
      if (op->second.empty()) by_operator_.erase(op);
    }
    flights_.erase(it);
  }

  absl::StatusOr<std::optional<internal::StoredFlight>> Find(
      const std::string& operator_id,
      const std::string& flight_id) const override {
    absl::MutexLock lock(&mu_);
    auto it = flights_.find(flight_id);
    if (it == flights_.end() || it->second.record.operator_id() != operator_id)
      return std::optional<internal::StoredFlight>();
    return std::optional<internal::StoredFlight>(it->second.record);
  }

  absl::StatusOr<std::string> Chunk(const std::string& flight_id,
                                    int index) const override {
    const absl::Status none = absl::NotFoundError(
        absl::StrCat("flight ", flight_id, " has no chunk ", index));
    {
      absl::MutexLock lock(&mu_);
      auto it = flights_.find(flight_id);
      if (it == flights_.end() || index < 0 ||
          index >= it->second.record.chunk_count()) {
        return none;
      }
    }
    // The store sees every batch enqueued before: the chunk, unless the
    // flight was removed meanwhile.
    absl::StatusOr<std::optional<std::string>> chunk =
        store_->Get(kFlightChunksTable, ChunkKey(flight_id, index));
    if (!chunk.ok()) return chunk.status();
    if (!chunk->has_value()) return none;
    return **std::move(chunk);
  }

  absl::StatusOr<std::vector<internal::StoredFlight>> ListNewest(
      const std::string& operator_id, const std::optional<Position>& after,
      size_t limit) const override {
    std::vector<internal::StoredFlight> out;
    absl::MutexLock lock(&mu_);
    auto op = by_operator_.find(operator_id);
    if (op == by_operator_.end()) return out;
    const Index& index = op->second;
    // Newest first: walk the (start, id) order backwards.
    auto it = after ? index.lower_bound({after->start, after->flight_id})
                    : index.end();
    while (it != index.begin() && out.size() < limit) {
      --it;
      out.push_back(flights_.at(it->second).record);
    }
    return out;
  }

  size_t Count(const std::string& operator_id) const override {
    absl::MutexLock lock(&mu_);
    auto op = by_operator_.find(operator_id);
    return op == by_operator_.end() ? 0 : op->second.size();
  }

  std::optional<std::string> Oldest(
      const std::string& operator_id) const override {
    absl::MutexLock lock(&mu_);
    auto op = by_operator_.find(operator_id);
    if (op == by_operator_.end() || op->second.empty()) return std::nullopt;
    return op->second.begin()->second;
  }

  absl::Status ForEach(
      const std::function<void(const std::string&, const std::string&,
                               absl::Time)>& fn) const override {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, e] : flights_) {
      fn(e.record.operator_id(), id, EndOf(e.record));
    }
    return absl::OkStatus();
  }

 private:
  struct Entry {
    internal::StoredFlight record;
  };
  using Index = std::set<std::pair<absl::Time, std::string>>;

  store::Store* const store_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> flights_ ABSL_GUARDED_BY(mu_);
  // Each operator's flights by (start, id).
  absl::flat_hash_map<std::string, Index> by_operator_ ABSL_GUARDED_BY(mu_);
};

absl::Status StoreFlightLogStore::Load() {
  absl::Status bad;
  absl::flat_hash_map<std::string, Entry> flights;
  absl::Status s = store_->Scan(
      kFlightLogsTable, [&](absl::string_view key, absl::string_view value) {
        internal::StoredFlight r;
        if (!r.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
            r.header().flight().flight_id() != key || r.chunk_count() < 0) {
          if (bad.ok()) {
            bad = absl::DataLossError(
                absl::StrCat(kFlightLogsTable, " ", key, ": cannot be read"));
          }
          return;
        }
        // Its process stopped: the flight ended at its latest point.
        r.mutable_header()->mutable_flight()->set_in_progress(false);
        flights[key].record = std::move(r);
      });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  std::vector<store::Mutation> orphans;
  s = store_->Scan(kFlightChunksTable, [&](absl::string_view key,
                                           absl::string_view) {
    const size_t slash = key.rfind('/');
    int index = -1;
    if (slash == absl::string_view::npos ||
        !absl::SimpleAtoi(key.substr(slash + 1), &index) || index < 0) {
      if (bad.ok()) {
        bad = absl::DataLossError(
            absl::StrCat(kFlightChunksTable, " ", key, ": not a chunk key"));
      }
      return;
    }
    auto it = flights.find(key.substr(0, slash));
    if (it == flights.end() || index >= it->second.record.chunk_count()) {
      orphans.push_back(store::Delete(kFlightChunksTable, std::string(key)));
    }
  });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  if (!orphans.empty()) {
    if (absl::Status w = store_->Commit(std::move(orphans)); !w.ok()) return w;
  }
  absl::MutexLock lock(&mu_);
  flights_ = std::move(flights);
  for (const auto& [id, e] : flights_) {
    by_operator_[e.record.operator_id()].insert({StartOf(e.record), id});
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<FlightLogStore>> OpenFlightLogStore(
    store::Store* store) {
  auto logs = std::make_unique<StoreFlightLogStore>(store);
  if (absl::Status s = logs->Load(); !s.ok()) return s;
  return logs;
}

}  // namespace utm::fleet
