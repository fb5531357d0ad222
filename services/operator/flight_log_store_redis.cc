#include "services/operator/flight_log_store_redis.h"

#include <algorithm>
#include <iostream>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/log/log.h"

namespace utm::fleet {
namespace {

// Writes sent in one round trip, at most.
constexpr size_t kBatchesPerRoundTrip = 64;
// Flights of one page of ForEach (ZSCAN COUNT), and flights with the same
// start as a page's position that ListNewest looks at.
constexpr int kScanPage = 1000;

// Removes a flight: KEYS record, chunks, ends, owner; ARGV flight id, the
// operator index's key prefix.
constexpr char kRemoveScript[] = R"lua(
local op = redis.call('HGET', KEYS[4], ARGV[1])
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
if op then redis.call('ZREM', ARGV[2] .. op, ARGV[1]) end
return op and 1 or 0
)lua";

int64_t Micros(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000000 + t.nanos() / 1000;
}

std::string Score(absl::Time t) { return absl::StrCat(absl::ToUnixMicros(t)); }

absl::Status Refused(const redis::Reply& r) {
  return absl::UnavailableError(
      absl::StrCat("redis: flight logs: ", r.DebugString()));
}

}  // namespace

RedisFlightLogStore::RedisFlightLogStore(RedisFlightLogOptions options)
    : options_(std::move(options)),
      pool_(options_.client, std::max(1, options_.pool_size)) {
  writer_ = std::thread([this] { WriterLoop(); });
}

RedisFlightLogStore::~RedisFlightLogStore() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  writer_.join();
}

std::string RedisFlightLogStore::RecordKey(const std::string& id) const {
  return absl::StrCat(options_.prefix, "flog:r:", id);
}
std::string RedisFlightLogStore::ChunksKey(const std::string& id) const {
  return absl::StrCat(options_.prefix, "flog:c:", id);
}
std::string RedisFlightLogStore::OperatorKey(const std::string& op) const {
  return absl::StrCat(options_.prefix, "flog:o:", op);
}
std::string RedisFlightLogStore::EndsKey() const {
  return absl::StrCat(options_.prefix, "flog:ends");
}
std::string RedisFlightLogStore::OwnerKey() const {
  return absl::StrCat(options_.prefix, "flog:owner");
}

void RedisFlightLogStore::Put(const internal::StoredFlight& record,
                              const std::string* chunk) {
  const v1::FlightSummary& f = record.header().flight();
  const std::string& id = f.flight_id();
  Batch b;
  b.commands.push_back({"MULTI"});
  b.commands.push_back({"SET", RecordKey(id), record.SerializeAsString()});
  if (chunk != nullptr) {
    b.commands.push_back({"HSET", ChunksKey(id),
                          absl::StrCat(record.chunk_count() - 1), *chunk});
    b.chunks = 1;
  }
  b.commands.push_back({"ZADD", OperatorKey(record.operator_id()),
                        absl::StrCat(Micros(f.start_time())), id});
  b.commands.push_back(
      {"ZADD", EndsKey(), absl::StrCat(Micros(f.end_time())), id});
  b.commands.push_back({"HSET", OwnerKey(), id, record.operator_id()});
  b.commands.push_back({"EXEC"});
  Enqueue(std::move(b));
}

void RedisFlightLogStore::Remove(const std::string& flight_id) {
  Batch b;
  b.commands.push_back({"EVAL", kRemoveScript, "4", RecordKey(flight_id),
                        ChunksKey(flight_id), EndsKey(), OwnerKey(), flight_id,
                        OperatorKey("")});
  Enqueue(std::move(b));
}

void RedisFlightLogStore::Enqueue(Batch batch) {
  for (const auto& c : batch.commands) {
    for (const std::string& a : c) batch.bytes += a.size();
  }
  absl::MutexLock lock(&mu_);
  const bool full = static_cast<size_t>(stats_.queued_bytes) + batch.bytes >
                    options_.max_queued_bytes;
  if (full || absl::Now() < down_until_) {
    if (!failed_) {
      failed_ = absl::UnavailableError(absl::StrCat(
          "redis: flight logs: a write was dropped (",
          full ? "too many waiting for Redis" : "Redis did not answer", ")"));
      UTM_LOG(kWarning) << failed_->message()
                        << "; flight logs lose what is written until it "
                           "answers";
    }
    ++stats_.batches_dropped;
    stats_.chunks_dropped += batch.chunks;
    return;
  }
  stats_.queued_bytes += static_cast<int64_t>(batch.bytes);
  queue_.push_back(std::move(batch));
  ++enqueued_;
}

void RedisFlightLogStore::WriterLoop() {
  while (true) {
    std::vector<Batch> batches;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](RedisFlightLogStore* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
            return s->stopping_ || !s->queue_.empty();
          },
          this));
      if (queue_.empty()) return;  // stopping, nothing left
      while (!queue_.empty() && batches.size() < kBatchesPerRoundTrip) {
        batches.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::vector<std::vector<std::string>> commands;
    for (Batch& b : batches) {
      for (auto& c : b.commands) commands.push_back(std::move(c));
    }
    absl::Status failure;
    if (Down()) {
      failure = absl::UnavailableError(
          "redis: flight logs: a write was dropped (Redis did not answer)");
    } else {
      absl::StatusOr<std::vector<redis::Reply>> replies = Run(commands);
      if (!replies.ok()) {
        failure = replies.status();
      } else {
        for (const redis::Reply& r : *replies) {
          if (r.is_error()) failure = Refused(r);
          for (const redis::Reply& e : r.elements) {
            if (e.is_error()) failure = Refused(e);
          }
        }
      }
    }
    absl::MutexLock lock(&mu_);
    for (const Batch& b : batches) {
      stats_.queued_bytes -= static_cast<int64_t>(b.bytes);
      if (failure.ok()) {
        ++stats_.batches_written;
      } else {
        ++stats_.batches_dropped;
        stats_.chunks_dropped += b.chunks;
      }
    }
    done_ += batches.size();
    if (!failure.ok()) {
      if (!failed_) {
        UTM_LOG(kWarning) << "flight logs: " << batches.size()
                          << " writes lost: " << failure;
        failed_ = failure;
      }
      if (absl::IsUnavailable(failure)) {
        down_until_ = absl::Now() + options_.backoff;
      }
    }
  }
}

bool RedisFlightLogStore::Down() const {
  absl::MutexLock lock(&mu_);
  return absl::Now() < down_until_;
}

absl::Status RedisFlightLogStore::AwaitQueued() const {
  absl::MutexLock lock(&mu_);
  const uint64_t target = enqueued_;
  auto sent = [this, target]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return done_ >= target;
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&sent), options_.read_wait)) {
    return absl::UnavailableError(
        absl::StrCat("redis: flight logs: writes still waiting for Redis "
                     "after ",
                     absl::FormatDuration(options_.read_wait)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<redis::Reply>> RedisFlightLogStore::Run(
    const std::vector<std::vector<std::string>>& commands) const {
  absl::StatusOr<redis::Pool::Lease> lease = pool_.Acquire();
  absl::StatusOr<std::vector<redis::Reply>> replies =
      lease.ok() ? (*lease)->Pipeline(commands)
                 : absl::StatusOr<std::vector<redis::Reply>>(lease.status());
  if (!replies.ok()) {
    absl::MutexLock lock(&mu_);
    if (absl::IsUnavailable(replies.status())) {
      down_until_ = absl::Now() + options_.backoff;
    }
  }
  return replies;
}

absl::Status RedisFlightLogStore::Sync() {
  absl::Status s = AwaitQueued();
  absl::MutexLock lock(&mu_);
  if (failed_) {
    s = *std::move(failed_);
    failed_.reset();
  }
  return s;
}

absl::StatusOr<std::optional<internal::StoredFlight>> RedisFlightLogStore::Find(
    const std::string& operator_id, const std::string& flight_id) const {
  if (absl::Status s = AwaitQueued(); !s.ok()) return s;
  absl::StatusOr<std::vector<redis::Reply>> r =
      Run({{"GET", RecordKey(flight_id)}});
  if (!r.ok()) return r.status();
  const redis::Reply& reply = (*r)[0];
  if (reply.is_error()) return Refused(reply);
  if (reply.is_nil()) return std::optional<internal::StoredFlight>();
  internal::StoredFlight record;
  if (!record.ParseFromString(reply.str) ||
      record.header().flight().flight_id() != flight_id) {
    return absl::DataLossError(
        absl::StrCat(RecordKey(flight_id), ": cannot be read"));
  }
  if (record.operator_id() != operator_id) {
    return std::optional<internal::StoredFlight>();
  }
  return std::optional<internal::StoredFlight>(std::move(record));
}

absl::StatusOr<std::string> RedisFlightLogStore::Chunk(
    const std::string& flight_id, int index) const {
  if (absl::Status s = AwaitQueued(); !s.ok()) return s;
  absl::StatusOr<std::vector<redis::Reply>> r =
      Run({{"HGET", ChunksKey(flight_id), absl::StrCat(index)}});
  if (!r.ok()) return r.status();
  const redis::Reply& reply = (*r)[0];
  if (reply.is_error()) return Refused(reply);
  if (reply.is_nil()) {
    return absl::NotFoundError(
        absl::StrCat("flight ", flight_id, " has no chunk ", index));
  }
  return reply.str;
}

absl::StatusOr<std::vector<internal::StoredFlight>>
RedisFlightLogStore::ListNewest(const std::string& operator_id,
                                const std::optional<Position>& after,
                                size_t limit) const {
  std::vector<internal::StoredFlight> out;
  if (limit == 0) return out;
  if (absl::Status s = AwaitQueued(); !s.ok()) return s;
  const std::string key = OperatorKey(operator_id);
  const std::string n = absl::StrCat(limit);
  std::vector<std::string> ids;
  if (!after) {
    absl::StatusOr<std::vector<redis::Reply>> r =
        Run({{"ZREVRANGEBYSCORE", key, "+inf", "-inf", "LIMIT", "0", n}});
    if (!r.ok()) return r.status();
    if ((*r)[0].is_error()) return Refused((*r)[0]);
    for (const redis::Reply& e : (*r)[0].elements) ids.push_back(e.str);
  } else {
    // After (start, id): the flights of the same start with a smaller id
    // (members of one score come in reverse byte order), then the older.
    const std::string s = Score(after->start);
    absl::StatusOr<std::vector<redis::Reply>> r = Run(
        {{"ZREVRANGEBYSCORE", key, s, s, "LIMIT", "0", absl::StrCat(kScanPage)},
         {"ZREVRANGEBYSCORE", key, absl::StrCat("(", s), "-inf", "LIMIT", "0",
          n}});
    if (!r.ok()) return r.status();
    for (const redis::Reply& page : *r) {
      if (page.is_error()) return Refused(page);
    }
    for (const redis::Reply& e : (*r)[0].elements) {
      if (e.str < after->flight_id) ids.push_back(e.str);
    }
    for (const redis::Reply& e : (*r)[1].elements) ids.push_back(e.str);
    if (ids.size() > limit) ids.resize(limit);
  }
  if (ids.empty()) return out;
  std::vector<std::string> mget = {"MGET"};
  for (const std::string& id : ids) mget.push_back(RecordKey(id));
  absl::StatusOr<std::vector<redis::Reply>> r = Run({mget});
  if (!r.ok()) return r.status();
  if ((*r)[0].is_error()) return Refused((*r)[0]);
  for (size_t i = 0; i < (*r)[0].elements.size() && i < ids.size(); ++i) {
    const redis::Reply& e = (*r)[0].elements[i];
    if (e.is_nil()) continue;  // removed meanwhile
    internal::StoredFlight record;
    if (!record.ParseFromString(e.str) ||
        record.header().flight().flight_id() != ids[i] ||
        record.operator_id() != operator_id) {
      return absl::DataLossError(
          absl::StrCat(RecordKey(ids[i]), ": cannot be read"));
    }
    out.push_back(std::move(record));
  }
  return out;
}

size_t RedisFlightLogStore::Count(const std::string& operator_id) const {
  if (Down()) return 0;
  absl::StatusOr<std::vector<redis::Reply>> r =
      Run({{"ZCARD", OperatorKey(operator_id)}});
  if (!r.ok() || (*r)[0].type != redis::Reply::Type::kInteger) return 0;
  return static_cast<size_t>(std::max<int64_t>(0, (*r)[0].integer));
}

std::optional<std::string> RedisFlightLogStore::Oldest(
    const std::string& operator_id) const {
  if (Down()) return std::nullopt;
  absl::StatusOr<std::vector<redis::Reply>> r =
      Run({{"ZRANGE", OperatorKey(operator_id), "0", "0"}});
  if (!r.ok() || (*r)[0].elements.empty()) return std::nullopt;
  return (*r)[0].elements[0].str;
}

absl::Status RedisFlightLogStore::ForEach(
    const std::function<void(const std::string&, const std::string&,
                             absl::Time)>& fn) const {
  if (absl::Status s = AwaitQueued(); !s.ok()) return s;
  // ZSCAN may return a flight twice: each is told once.
  absl::flat_hash_set<std::string> told;
  std::string cursor = "0";
  do {
    absl::StatusOr<std::vector<redis::Reply>> r =
        Run({{"ZSCAN", EndsKey(), cursor, "COUNT", absl::StrCat(kScanPage)}});
    if (!r.ok()) return r.status();
    const redis::Reply& scan = (*r)[0];
    if (scan.is_error()) return Refused(scan);
    if (scan.elements.size() != 2) {
      return absl::UnavailableError("redis: flight logs: a malformed ZSCAN");
    }
    cursor = scan.elements[0].str;
    const std::vector<redis::Reply>& pairs = scan.elements[1].elements;
    std::vector<std::string> ids;
    std::vector<absl::Time> ends;
    std::vector<std::string> hmget = {"HMGET", OwnerKey()};
    for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
      int64_t micros = 0;
      if (told.contains(pairs[i].str) ||
          !absl::SimpleAtoi(pairs[i + 1].str, &micros)) {
        continue;
      }
      ids.push_back(pairs[i].str);
      ends.push_back(absl::FromUnixMicros(micros));
      hmget.push_back(pairs[i].str);
    }
    if (ids.empty()) continue;
    absl::StatusOr<std::vector<redis::Reply>> owners = Run({hmget});
    if (!owners.ok()) return owners.status();
    if ((*owners)[0].is_error()) return Refused((*owners)[0]);
    for (size_t i = 0; i < ids.size() && i < (*owners)[0].elements.size();
         ++i) {
      const redis::Reply& op = (*owners)[0].elements[i];
      if (op.is_nil()) continue;  // removed meanwhile
      told.insert(ids[i]);
      fn(op.str, ids[i], ends[i]);
    }
  } while (cursor != "0");
  return absl::OkStatus();
}

RedisFlightLogStore::Stats RedisFlightLogStore::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace utm::fleet
