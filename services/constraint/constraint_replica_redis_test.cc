// ConstraintCore replicas on one real redis-server, each with its own
// connections, as separate utmd processes would have: watchers lose nothing
// when a replica restarts during a fan-out and they resume elsewhere; the
// constraint and intent tiers never silently both accept; a national data
// set's simultaneous schedule transitions are logged in bounded commits.
#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/ledger/redis_ledger.h"
#include "services/constraint/constraint_replica_testing.h"
#include "tests/testing/redis_server.h"

namespace utm::constraint {
namespace {

using ::testing::IsEmpty;
using test_util::Area;
using test_util::kAuthority;
using test_util::kPilot;
using test_util::kT0;
using test_util::MakeReplica;
using test_util::MixedResult;
using test_util::Replica;
using test_util::RunMixedWorkload;
using test_util::Zone;

class ConstraintReplicaRedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!utm::testing::RedisServerAvailable()) {
      GTEST_SKIP() << "redis-server is not installed (apt-get install "
                      "redis-server); replicas on Redis are not tested";
    }
    utm::testing::RedisServerOptions o;
    o.appendonly = true;
    o.appendfsync = "always";
    absl::StatusOr<std::unique_ptr<utm::testing::RedisServer>> s =
        utm::testing::RedisServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    redis_ = *std::move(s);
  }
  void TearDown() override {
    for (Replica& r : replicas_) {
      if (r.follower != nullptr) r.follower->Stop();
    }
  }

  std::unique_ptr<ledger::Ledger> Connect() {
    ledger::RedisLedgerOptions lo;
    lo.client.addr = redis_->addr();
    absl::StatusOr<std::unique_ptr<ledger::RedisLedger>> l =
        ledger::RedisLedger::Open(lo);
    EXPECT_TRUE(l.ok()) << l.status();
    return l.ok() ? *std::move(l) : nullptr;
  }
  // A replica with connections of its own.
  Replica& Add() {
    std::unique_ptr<ledger::Ledger> l = Connect();
    Replica r = MakeReplica(l.get(), &clock_);
    r.view = std::move(l);
    replicas_.push_back(std::move(r));
    return replicas_.back();
  }

  SimulatedClock clock_{kT0};
  std::unique_ptr<utm::testing::RedisServer> redis_;
  std::deque<Replica> replicas_;
};

// What a watch client keeps: the sequence of every live change it
// processed (snapshots are state, not changes), and where to resume.
struct WatchClient {
  std::vector<int64_t> changes;
  int64_t last = 0;
  bool in_snapshot = false;
  void Read(Replica& r, Watcher* w) {
    EventPtr e;
    while (r.constraints->NextEvent(w, &e)) {
      if (e->has_snapshot_begin()) in_snapshot = true;
      if (e->has_snapshot_end()) in_snapshot = false;
      const bool change =
          e->has_upsert() || e->has_removed() || e->has_activity_changed();
      if (change && !in_snapshot) changes.push_back(e->sequence());
      last = std::max(last, e->sequence());
    }
  }
};

std::shared_ptr<Watcher> WatchAll(Replica& r, int64_t since) {
  v1::WatchConstraintsRequest request;
  *request.mutable_area() = Area(0, 50000);
  request.set_since_sequence(since);
  absl::StatusOr<std::shared_ptr<Watcher>> w =
      r.constraints->Watch(kPilot, request, [] {});
  EXPECT_TRUE(w.ok()) << w.status();
  return w.ok() ? *w : nullptr;
}

TEST_F(ConstraintReplicaRedisTest, WatchersLoseNothingWhenAReplicaRestarts) {
  for (int i = 0; i < 3; ++i) Add();
  // A client watches on replica 1 from the start.
  WatchClient client;
  std::shared_ptr<Watcher> w = WatchAll(replicas_[1], 0);
  std::atomic<bool> done{false};
  std::atomic<int> published{0};
  std::thread publisher([&] {
    for (int k = 0; k < 150; ++k) {
      Replica& r = replicas_[k % 2 == 0 ? 0 : 2];
      v1::PublishConstraintRequest request;
      *request.mutable_constraint() =
          Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 200.0 * k, 50);
      absl::StatusOr<v1::PublishConstraintResponse> p =
          r.constraints->Publish(kAuthority, request);
      ASSERT_TRUE(p.ok()) << p.status();
      ++published;
    }
    done = true;
  });
  // Mid fan-out, replica 1 goes down (its process restarts); the client
  // reconnects to replica 2 with the last sequence it processed.
  while (published < 50) {
    client.Read(replicas_[1], w.get());
    absl::SleepFor(absl::Milliseconds(1));
  }
  client.Read(replicas_[1], w.get());
  replicas_[1].constraints->Unwatch(w.get());
  w.reset();
  replicas_[1].follower->Stop();
  replicas_[1].constraints.reset();
  replicas_[1].intents.reset();
  replicas_[1].follower.reset();
  const int64_t resumed_at = client.last;
  std::shared_ptr<Watcher> w2 = WatchAll(replicas_[2], resumed_at);
  // Replica 1 comes back while the publisher goes on, loading from Redis.
  std::unique_ptr<ledger::Ledger> l = Connect();
  Replica restarted = MakeReplica(l.get(), &clock_);
  restarted.view = std::move(l);
  replicas_[1] = std::move(restarted);
  while (!done) {
    client.Read(replicas_[2], w2.get());
    absl::SleepFor(absl::Milliseconds(1));
  }
  publisher.join();
  test_util::Settle(replicas_[2].follower.get());
  client.Read(replicas_[2], w2.get());

  // Every change once, in order, whichever replica it was read from.
  std::vector<int64_t> want;
  for (int64_t s = 1; s <= 150; ++s) want.push_back(s);
  EXPECT_EQ(client.changes, want) << "resumed at " << resumed_at;
  EXPECT_GT(resumed_at, 0);
  EXPECT_LT(resumed_at, 150);
  // The restarted replica has everything, and serves a resume too.
  ASSERT_TRUE(replicas_[1].follower->CatchUp().ok());
  EXPECT_EQ(replicas_[1].constraints->constraint_count(), 150u);
  EXPECT_EQ(replicas_[1].constraints->last_sequence(), 150);
  WatchClient late;
  late.last = 140;
  std::shared_ptr<Watcher> w3 = WatchAll(replicas_[1], 140);
  test_util::Settle(replicas_[1].follower.get());
  late.Read(replicas_[1], w3.get());
  EXPECT_EQ(late.changes.size(), 10u);
}

TEST_F(ConstraintReplicaRedisTest, FilingsAndPublishesNeverSilentlyBoth) {
  for (int i = 0; i < 3; ++i) Add();
  MixedResult r = RunMixedWorkload(replicas_);
  EXPECT_GT(r.accepted, 0);
  EXPECT_THAT(r.silent, IsEmpty());
}

TEST_F(ConstraintReplicaRedisTest, ManyTransitionsAtOnceAreLoggedInBatches) {
  Replica& a = Add();
  Replica& b = Add();
  // 300 zones that all become active in an hour, as a national data set's
  // weekday zones do at 08:00: more than one commit may carry.
  const int kZones = 300;
  for (int k = 0; k < kZones; ++k) {
    v1::Constraint c = Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 100.0 * k, 40);
    *c.mutable_schedule()->mutable_absolute()->mutable_start() =
        TimeToProto(kT0 + absl::Hours(1));
    v1::PublishConstraintRequest request;
    *request.mutable_constraint() = c;
    ASSERT_TRUE(a.constraints->Publish(kAuthority, request).ok());
  }
  clock_.Advance(absl::Minutes(61));
  absl::StatusOr<int> ta = a.constraints->Tick();
  ASSERT_TRUE(ta.ok()) << ta.status();
  absl::StatusOr<int> tb = b.constraints->Tick();
  ASSERT_TRUE(tb.ok()) << tb.status();
  EXPECT_EQ(*ta + *tb, kZones);
  ASSERT_TRUE(b.follower->CatchUp().ok());
  EXPECT_EQ(b.constraints->last_sequence(), 2 * kZones);
}

}  // namespace
}  // namespace utm::constraint
