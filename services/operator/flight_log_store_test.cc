// The FlightLogStore contract (flight_log_store.h) on both implementations:
// the embedded store and Redis (a real redis-server). Then what only Redis
// has: two stores on one Redis (replicas), the keys a removed flight leaves
// (none), retention and erasure through FlightLogs, and Redis down.
#include "services/operator/flight_log_store.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/redis/redis_client.h"
#include "services/common/store.h"
#include "services/common/volume_convert.h"
#include "services/operator/flight_log.h"
#include "services/operator/flight_log_store_redis.h"
#include "tests/redis_scan_util.h"
#include "tests/testing/redis_server.h"

namespace utm::fleet {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

internal::StoredFlight Record(const std::string& op, const std::string& id,
                              absl::Time start, absl::Time end, int chunks) {
  internal::StoredFlight r;
  r.set_operator_id(op);
  v1::FlightSummary* f = r.mutable_header()->mutable_flight();
  f->set_flight_id(id);
  f->set_aircraft_id("AIRCRAFT-" + id);
  *f->mutable_start_time() = TimeToProto(start);
  *f->mutable_end_time() = TimeToProto(end);
  r.set_chunk_count(chunks);
  return r;
}

std::vector<std::string> Ids(
    const absl::StatusOr<std::vector<internal::StoredFlight>>& rs) {
  std::vector<std::string> ids;
  EXPECT_TRUE(rs.ok()) << rs.status();
  if (!rs.ok()) return ids;
  for (const auto& r : *rs) ids.push_back(r.header().flight().flight_id());
  return ids;
}

bool HaveRedis() { return utm::testing::RedisServerAvailable(); }

std::unique_ptr<RedisFlightLogStore> OpenRedisStore(
    const std::string& addr, absl::Duration backoff = absl::Seconds(1)) {
  RedisFlightLogOptions o;
  o.client.addr = addr;
  o.client.connect_timeout = absl::Milliseconds(300);
  o.client.command_timeout = absl::Seconds(2);
  o.backoff = backoff;
  return std::make_unique<RedisFlightLogStore>(o);
}

// Every key of the flight logs in the Redis at `addr`.
std::vector<std::string> FlightLogKeys(const std::string& addr) {
  return test_util::RedisKeys(addr, "{utm}:flog:*");
}

// --- The contract, on both implementations.

class FlightLogStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "redis") {
      if (!HaveRedis()) GTEST_SKIP() << "redis-server is not installed";
      absl::StatusOr<std::unique_ptr<utm::testing::RedisServer>> s =
          utm::testing::RedisServer::Start({});
      ASSERT_TRUE(s.ok()) << s.status();
      redis_ = *std::move(s);
      logs_ = OpenRedisStore(redis_->addr());
      return;
    }
    dir_ = fs::path(::testing::TempDir()) /
           absl::StrCat(
               "flightlogstore-", getpid(), "-",
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    store::StoreOptions so;
    so.dir = dir_.string();
    so.sync = false;
    absl::StatusOr<std::unique_ptr<store::Store>> s = store::OpenStore(so);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = *std::move(s);
    absl::StatusOr<std::unique_ptr<FlightLogStore>> f =
        OpenFlightLogStore(store_.get());
    ASSERT_TRUE(f.ok()) << f.status();
    logs_ = *std::move(f);
  }
  void TearDown() override {
    logs_.reset();
    store_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  std::unique_ptr<utm::testing::RedisServer> redis_;
  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<FlightLogStore> logs_;
};

TEST_P(FlightLogStoreTest, PutFindsTheRecordAndItsChunksOnlyForItsOperator) {
  const std::string c0 = std::string("chunk\0zero", 10);
  internal::StoredFlight r = Record("alice", "f1", kStart, kStart, 0);
  logs_->Put(r, nullptr);
  r.set_chunk_count(1);
  logs_->Put(r, &c0);
  r.set_chunk_count(2);
  *r.mutable_header()->mutable_flight()->mutable_end_time() =
      TimeToProto(kStart + absl::Minutes(3));
  const std::string c1 = "chunk one";
  logs_->Put(r, &c1);

  absl::StatusOr<std::optional<internal::StoredFlight>> found =
      logs_->Find("alice", "f1");
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->chunk_count(), 2);
  EXPECT_EQ((*found)->header().flight().end_time().seconds(),
            absl::ToUnixSeconds(kStart + absl::Minutes(3)));
  absl::StatusOr<std::optional<internal::StoredFlight>> other =
      logs_->Find("bob", "f1");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());
  EXPECT_EQ(*logs_->Chunk("f1", 0), c0);
  EXPECT_EQ(*logs_->Chunk("f1", 1), c1);
  EXPECT_EQ(logs_->Chunk("f1", 2).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(logs_->Chunk("nope", 0).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(logs_->Count("alice"), 1u);
  EXPECT_EQ(logs_->Count("bob"), 0u);
}

TEST_P(FlightLogStoreTest, ListsNewestFirstByStartThenIdInPages) {
  // Three share a start: they come by id, descending.
  logs_->Put(Record("alice", "a", kStart, kStart, 0), nullptr);
  logs_->Put(Record("alice", "c", kStart + absl::Seconds(5), kStart, 0),
             nullptr);
  logs_->Put(Record("alice", "b", kStart + absl::Seconds(5), kStart, 0),
             nullptr);
  logs_->Put(Record("alice", "d", kStart + absl::Seconds(5), kStart, 0),
             nullptr);
  logs_->Put(Record("alice", "e", kStart + absl::Seconds(9), kStart, 0),
             nullptr);
  logs_->Put(Record("bob", "z", kStart + absl::Hours(1), kStart, 0), nullptr);

  EXPECT_THAT(Ids(logs_->ListNewest("alice", std::nullopt, 10)),
              ElementsAre("e", "d", "c", "b", "a"));
  EXPECT_THAT(Ids(logs_->ListNewest("alice", std::nullopt, 2)),
              ElementsAre("e", "d"));
  const FlightLogStore::Position after_d{kStart + absl::Seconds(5), "d"};
  EXPECT_THAT(Ids(logs_->ListNewest("alice", after_d, 2)),
              ElementsAre("c", "b"));
  const FlightLogStore::Position after_b{kStart + absl::Seconds(5), "b"};
  EXPECT_THAT(Ids(logs_->ListNewest("alice", after_b, 10)), ElementsAre("a"));
  const FlightLogStore::Position after_a{kStart, "a"};
  EXPECT_THAT(Ids(logs_->ListNewest("alice", after_a, 10)), IsEmpty());
  EXPECT_THAT(Ids(logs_->ListNewest("carol", std::nullopt, 10)), IsEmpty());
  EXPECT_EQ(logs_->Count("alice"), 5u);
  EXPECT_EQ(logs_->Oldest("alice"), "a");
  EXPECT_EQ(logs_->Oldest("carol"), std::nullopt);
}

TEST_P(FlightLogStoreTest, RemoveTakesTheRecordChunksAndIndexEntries) {
  const std::string chunk = "points";
  logs_->Put(Record("alice", "gone", kStart, kStart, 1), &chunk);
  logs_->Put(Record("alice", "kept", kStart + absl::Seconds(1), kStart, 1),
             &chunk);
  logs_->Remove("gone");
  logs_->Remove("never-was");
  ASSERT_TRUE(logs_->Sync().ok());
  absl::StatusOr<std::optional<internal::StoredFlight>> found =
      logs_->Find("alice", "gone");
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
  EXPECT_EQ(logs_->Chunk("gone", 0).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(Ids(logs_->ListNewest("alice", std::nullopt, 10)),
              ElementsAre("kept"));
  EXPECT_EQ(logs_->Count("alice"), 1u);
  EXPECT_EQ(logs_->Oldest("alice"), "kept");
  std::vector<std::string> all;
  ASSERT_TRUE(logs_
                  ->ForEach([&](const std::string&, const std::string& id,
                                absl::Time) { all.push_back(id); })
                  .ok());
  EXPECT_THAT(all, ElementsAre("kept"));
}

TEST_P(FlightLogStoreTest, ForEachTellsEveryFlightOnceWithItsOperatorAndEnd) {
  // More than one page of the Redis scan.
  constexpr int kFlights = 2500;
  for (int i = 0; i < kFlights; ++i) {
    const std::string op = i % 2 == 0 ? "alice" : "bob";
    logs_->Put(Record(op, absl::StrFormat("f%05d", i), kStart,
                      kStart + absl::Seconds(i), 0),
               nullptr);
  }
  std::set<std::string> seen;
  int calls = 0;
  bool right = true;
  ASSERT_TRUE(logs_
                  ->ForEach([&](const std::string& op, const std::string& id,
                                absl::Time end) {
                    ++calls;
                    seen.insert(id);
                    int i = std::stoi(id.substr(1));
                    right = right && op == (i % 2 == 0 ? "alice" : "bob") &&
                            end == kStart + absl::Seconds(i);
                  })
                  .ok());
  EXPECT_EQ(calls, kFlights);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kFlights));
  EXPECT_TRUE(right);
}

INSTANTIATE_TEST_SUITE_P(Backends, FlightLogStoreTest,
                         ::testing::Values("embedded", "redis"),
                         [](const auto& info) { return info.param; });

// --- Redis only.

class RedisFlightLogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveRedis()) GTEST_SKIP() << "redis-server is not installed";
    absl::StatusOr<std::unique_ptr<utm::testing::RedisServer>> s =
        utm::testing::RedisServer::Start({});
    ASSERT_TRUE(s.ok()) << s.status();
    redis_ = *std::move(s);
  }
  std::unique_ptr<utm::testing::RedisServer> redis_;
};

TEST_F(RedisFlightLogStoreTest, TwoReplicasShareTheLogs) {
  auto a = OpenRedisStore(redis_->addr());
  auto b = OpenRedisStore(redis_->addr());
  const std::string chunk = "track";
  a->Put(Record("alice", "f1", kStart, kStart, 1), &chunk);
  ASSERT_TRUE(a->Sync().ok());
  absl::StatusOr<std::optional<internal::StoredFlight>> found =
      b->Find("alice", "f1");
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(*b->Chunk("f1", 0), chunk);
  b->Remove("f1");
  ASSERT_TRUE(b->Sync().ok());
  EXPECT_FALSE(a->Find("alice", "f1")->has_value());
  EXPECT_EQ(a->Count("alice"), 0u);
}

TEST_F(RedisFlightLogStoreTest, ARemovedFlightLeavesNoKey) {
  auto logs = OpenRedisStore(redis_->addr());
  const std::string chunk = "track";
  internal::StoredFlight r = Record("alice", "f1", kStart, kStart, 1);
  logs->Put(r, &chunk);
  r.set_chunk_count(2);
  logs->Put(r, &chunk);
  logs->Put(Record("bob", "f2", kStart, kStart, 1), &chunk);
  ASSERT_TRUE(logs->Sync().ok());
  // The test sees the keys it expects to go.
  EXPECT_THAT(
      FlightLogKeys(redis_->addr()),
      ElementsAre("{utm}:flog:c:f1", "{utm}:flog:c:f2", "{utm}:flog:ends",
                  "{utm}:flog:o:alice", "{utm}:flog:o:bob", "{utm}:flog:owner",
                  "{utm}:flog:r:f1", "{utm}:flog:r:f2"));
  logs->Remove("f1");
  ASSERT_TRUE(logs->Sync().ok());
  EXPECT_THAT(
      FlightLogKeys(redis_->addr()),
      ElementsAre("{utm}:flog:c:f2", "{utm}:flog:ends", "{utm}:flog:o:bob",
                  "{utm}:flog:owner", "{utm}:flog:r:f2"));
  logs->Remove("f2");
  ASSERT_TRUE(logs->Sync().ok());
  EXPECT_THAT(FlightLogKeys(redis_->addr()), IsEmpty());
}

TEST_F(RedisFlightLogStoreTest, RedisDownReadsUnavailableWritesDroppedBounded) {
  auto logs = OpenRedisStore(redis_->addr(), absl::Seconds(30));
  const std::string chunk = "track";
  logs->Put(Record("alice", "f1", kStart, kStart, 1), &chunk);
  ASSERT_TRUE(logs->Sync().ok());
  redis_->Kill9();
  absl::StatusOr<std::optional<internal::StoredFlight>> found =
      logs->Find("alice", "f1");
  EXPECT_EQ(found.status().code(), absl::StatusCode::kUnavailable)
      << found.status();
  EXPECT_EQ(logs->ListNewest("alice", std::nullopt, 10).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(
      logs->ForEach([](const std::string&, const std::string&, absl::Time) {})
          .code(),
      absl::StatusCode::kUnavailable);
  // Within the backoff: recording's reads do not try, writes are dropped
  // (counted) rather than queued.
  EXPECT_EQ(logs->Count("alice"), 0u);
  for (int i = 0; i < 1000; ++i) {
    internal::StoredFlight r = Record("alice", "f1", kStart, kStart, 2 + i);
    logs->Put(r, &chunk);
  }
  RedisFlightLogStore::Stats stats = logs->stats();
  EXPECT_EQ(stats.queued_bytes, 0);
  EXPECT_GE(stats.chunks_dropped, 1000);
  absl::Status synced = logs->Sync();
  EXPECT_EQ(synced.code(), absl::StatusCode::kUnavailable) << synced;
}

// --- FlightLogs on Redis: retention and erasure take every key.

class FlightLogsOnRedisTest : public RedisFlightLogStoreTest {
 protected:
  void Fly(FlightLogs& logs, const std::string& op, const std::string& ac,
           int n) {
    for (int i = 0; i < n; ++i) {
      v1::PositionReport r;
      r.set_aircraft_id(ac);
      *r.mutable_time() = TimeToProto(clock_.Now());
      r.mutable_position()->set_lat_deg(47.0 + 1e-5 * i);
      r.mutable_position()->set_lng_deg(8.0);
      r.mutable_altitude()->set_value_m(500);
      r.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
      logs.OnReport(op, r);
      clock_.Advance(absl::Seconds(1));
    }
  }
  SimulatedClock clock_{kStart};
};

TEST_F(FlightLogsOnRedisTest, RetentionAndErasureRemoveEveryKey) {
  auto store = OpenRedisStore(redis_->addr());
  UniformDataPolicies policies;  // 30 days' retention
  FlightLogOptions options;
  options.chunk_points = 5;
  FlightLogs logs(options, &clock_, &policies, store.get());
  Fly(logs, "alice", "OLD-AIRCRAFT", 12);
  logs.CloseAll();
  clock_.Advance(absl::Hours(24 * 20));
  Fly(logs, "alice", "NEW-AIRCRAFT", 7);
  Fly(logs, "bob", "BOBS-AIRCRAFT", 3);
  logs.CloseAll();
  ASSERT_TRUE(store->Sync().ok());
  absl::StatusOr<FlightLogs::Page> page = logs.List("alice", 10, "");
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->flights.size(), 2u);
  const std::string old_id = page->flights[1].flight_id();
  EXPECT_EQ(page->flights[1].aircraft_id(), "OLD-AIRCRAFT");
  auto keys_of = [&](const std::string& id) {
    std::vector<std::string> of;
    for (const std::string& k : FlightLogKeys(redis_->addr())) {
      if (k.find(id) != std::string::npos) of.push_back(k);
    }
    return of;
  };
  EXPECT_THAT(keys_of(old_id),
              ElementsAre("{utm}:flog:c:" + old_id, "{utm}:flog:r:" + old_id));

  // 30 days after its end, the old flight goes, and every key of it.
  clock_.Advance(absl::Hours(24 * 10) + absl::Minutes(1));
  logs.Tick();
  ASSERT_TRUE(store->Sync().ok());
  EXPECT_THAT(keys_of(old_id), IsEmpty());
  redis::ClientOptions co;
  co.addr = redis_->addr();
  auto client = *redis::Client::Connect(co);
  EXPECT_EQ(client->Command({"ZSCORE", "{utm}:flog:ends", old_id})->type,
            redis::Reply::Type::kNil);
  EXPECT_EQ(client->Command({"HGET", "{utm}:flog:owner", old_id})->type,
            redis::Reply::Type::kNil);
  EXPECT_EQ(client->Command({"ZCARD", "{utm}:flog:o:alice"})->integer, 1);

  // Erasure: alice's logs go; bob's stay.
  absl::StatusOr<int64_t> erased = logs.EraseOperator("alice");
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(*erased, 1);
  for (const std::string& k : FlightLogKeys(redis_->addr())) {
    EXPECT_EQ(k.find("alice"), std::string::npos) << k;
  }
  absl::StatusOr<FlightLogs::Page> bobs = logs.List("bob", 10, "");
  ASSERT_TRUE(bobs.ok());
  ASSERT_EQ(bobs->flights.size(), 1u);
  const std::string bob_id = bobs->flights[0].flight_id();
  EXPECT_THAT(FlightLogKeys(redis_->addr()),
              ElementsAre("{utm}:flog:c:" + bob_id, "{utm}:flog:ends",
                          "{utm}:flog:o:bob", "{utm}:flog:owner",
                          "{utm}:flog:r:" + bob_id));
}

TEST_F(FlightLogsOnRedisTest, AnErasureWithRedisDownSaysSo) {
  auto store = OpenRedisStore(redis_->addr());
  UniformDataPolicies policies;
  FlightLogs logs(FlightLogOptions(), &clock_, &policies, store.get());
  Fly(logs, "alice", "AIRCRAFT", 3);
  logs.CloseAll();
  ASSERT_TRUE(store->Sync().ok());
  redis_->Kill9();
  absl::StatusOr<int64_t> erased = logs.EraseOperator("alice");
  EXPECT_EQ(erased.status().code(), absl::StatusCode::kUnavailable)
      << erased.status();
}

// What a flight costs in Redis: a 1-hour flight at 1 Hz (an aircraft
// flying straight at about 15 m/s, as flight_log_benchmark does), its keys'
// MEMORY USAGE. docs/operations.md and docs/benchmarks.md quote the figure;
// the bound is what they promise.
TEST_F(FlightLogsOnRedisTest, AnHourAtOneHertzTakesUnder16BytesAPoint) {
  auto store = OpenRedisStore(redis_->addr());
  UniformDataPolicies policies;
  FlightLogs logs(FlightLogOptions(), &clock_, &policies, store.get());
  constexpr int kPoints = 3600;
  for (int i = 0; i < kPoints; ++i) {
    v1::PositionReport r;
    r.set_aircraft_id("AIRCRAFT-MEASURED");
    *r.mutable_time() = TimeToProto(clock_.Now());
    r.mutable_position()->set_lat_deg(47.0 + 1.35e-4 * i);
    r.mutable_position()->set_lng_deg(8.0);
    r.mutable_altitude()->set_value_m(500);
    r.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
    r.mutable_velocity()->set_north_mps(15);
    r.mutable_accuracy()->set_horizontal_m(3);
    r.mutable_accuracy()->set_vertical_m(4);
    logs.OnReport("alice", r);
    clock_.Advance(absl::Seconds(1));
  }
  logs.CloseAll();
  ASSERT_TRUE(store->Sync().ok());
  absl::StatusOr<FlightLogs::Page> page = logs.List("alice", 10, "");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->flights.size(), 1u);
  EXPECT_EQ(page->flights[0].point_count(), kPoints);
  redis::ClientOptions co;
  co.addr = redis_->addr();
  auto client = *redis::Client::Connect(co);
  int64_t bytes = 0;
  for (const std::string& key : FlightLogKeys(redis_->addr())) {
    absl::StatusOr<redis::Reply> r =
        client->Command({"MEMORY", "USAGE", key, "SAMPLES", "0"});
    ASSERT_TRUE(r.ok()) << r.status();
    bytes += r->integer;
  }
  const double per_point = static_cast<double>(bytes) / kPoints;
  std::cout << "a 1-hour 1 Hz flight: " << bytes << " bytes in Redis ("
            << per_point << " bytes a point)" << std::endl;
  RecordProperty("bytes", static_cast<int>(bytes));
  EXPECT_GT(bytes, kPoints);  // the points are there
  EXPECT_LT(per_point, 16.0);
}

}  // namespace
}  // namespace utm::fleet
