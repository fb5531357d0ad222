#include "services/common/ledger/redis_ledger.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/ledger_testing.h"
#include "tests/testing/redis_server.h"

namespace utm::ledger {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

class RedisLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!utm::testing::RedisServerAvailable()) {
      GTEST_SKIP() << "redis-server is not installed (apt-get install "
                      "redis-server); the Redis ledger is not tested";
    }
  }
  void StartRedis(utm::testing::RedisServerOptions o = {}) {
    absl::StatusOr<std::unique_ptr<utm::testing::RedisServer>> s =
        utm::testing::RedisServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    redis_ = *std::move(s);
  }
  RedisLedgerOptions Options() const {
    RedisLedgerOptions o;
    o.client.addr = redis_->addr();
    o.client.connect_timeout = absl::Milliseconds(300);
    o.client.command_timeout = absl::Seconds(2);
    return o;
  }
  std::unique_ptr<RedisLedger> Open(RedisLedgerOptions o) {
    absl::StatusOr<std::unique_ptr<RedisLedger>> l = RedisLedger::Open(o);
    EXPECT_TRUE(l.ok()) << l.status();
    return l.ok() ? *std::move(l) : nullptr;
  }
  std::unique_ptr<utm::testing::RedisServer> redis_;
};

TEST_F(RedisLedgerTest, CommitsChainLikeTheLocalLedgerAndReadBack) {
  StartRedis();
  auto ledger = Open(Options());
  ASSERT_NE(ledger, nullptr);
  const std::vector<Mutation> first = {store::Put("t", "a", std::string("x\0y", 3)),
                                       store::Put("u", "b", "")};
  absl::StatusOr<CommitResult> a = ledger->CommitAndWait(Guard{}, first);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->status, CommitStatus::kCommitted);
  EXPECT_EQ(a->position.seq, 1u);
  // The Redis Function's chained hash is the one ChainHash() computes.
  EXPECT_EQ(a->position.hash, ChainHash("", first));
  const std::vector<Mutation> second = {store::Delete("t", "a")};
  absl::StatusOr<CommitResult> b =
      ledger->CommitAndWait(Guard{a->position}, second);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->position.hash, ChainHash(a->position.hash, second));
  EXPECT_EQ(*ledger->Latest(), b->position);

  absl::StatusOr<std::vector<Entry>> all =
      ledger->Read(Position{}, 10, absl::ZeroDuration());
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].mutations.size(), 2u);
  EXPECT_EQ((*all)[0].mutations[0].value, std::string("x\0y", 3));
  EXPECT_EQ((*all)[0].mutations[1].value, "");
  EXPECT_EQ((*all)[1].mutations[0].value, std::nullopt);
  EXPECT_EQ((*all)[1].hash, b->position.hash);

  std::vector<std::string> rows;
  absl::StatusOr<Position> at = ledger->Load(
      {"t", "u"}, [&](absl::string_view table, absl::string_view key,
                      absl::string_view) {
        rows.push_back(absl::StrCat(table, "/", key));
      });
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(*at, b->position);
  EXPECT_THAT(rows, ::testing::ElementsAre("u/b"));
}

TEST_F(RedisLedgerTest, GuardAndBaseAreCheckedBeforeAnyWrite) {
  StartRedis();
  auto ledger = Open(Options());
  ASSERT_NE(ledger, nullptr);
  ASSERT_EQ(ledger->CommitAndWait(Guard{Position{}, {"cell/1"}, {"cell/1"}},
                                  {store::Put("t", "x", "1")})
                ->status,
            CommitStatus::kCommitted);
  absl::StatusOr<CommitResult> stale = ledger->CommitAndWait(
      Guard{Position{}, {"cell/2", "cell/1"}, {"cell/2"}},
      {store::Put("t", "y", "1")});
  ASSERT_TRUE(stale.ok()) << stale.status();
  EXPECT_EQ(stale->status, CommitStatus::kMoved);
  Position forged = *ledger->Latest();
  forged.hash = "f00";
  EXPECT_EQ(ledger->CommitAndWait(Guard{forged}, {store::Put("t", "z", "1")})
                ->status,
            CommitStatus::kReload);
  EXPECT_EQ(ledger->CommitAndWait(Guard{Position{7, "x"}}, {})->status,
            CommitStatus::kReload);
  // None of the refused commits wrote anything.
  EXPECT_EQ(ledger->Latest()->seq, 1u);
  int rows = 0;
  ASSERT_TRUE(ledger
                  ->Load({"t"}, [&](absl::string_view, absl::string_view,
                                    absl::string_view) { ++rows; })
                  .ok());
  EXPECT_EQ(rows, 1);
}

TEST_F(RedisLedgerTest, AReplicaOnATrimmedOrRewrittenHistoryReloads) {
  StartRedis();
  RedisLedgerOptions o = Options();
  o.feed_max_entries = 10;  // approximate trimming: whole 100-entry nodes
  auto ledger = Open(o);
  ASSERT_NE(ledger, nullptr);
  testing::BookingModel model;
  FollowerOptions fo;
  fo.poll = absl::Milliseconds(20);
  Follower follower(ledger.get(), fo);
  model.AddTo(&follower);
  ASSERT_TRUE(follower.Start().ok());
  ASSERT_TRUE(ledger
                  ->CommitAndWait(Guard{}, {store::Put(testing::kBookings,
                                                       "first", "1,1")})
                  .ok());
  ASSERT_TRUE(follower.CatchUp().ok());
  follower.Stop();
  const Position old = follower.applied();
  for (int i = 0; i < 400; ++i) {
    ASSERT_TRUE(ledger
                    ->CommitAndWait(Guard{*ledger->Latest()},
                                    {store::Put(testing::kBookings,
                                                absl::StrCat("b", i), "2,2")})
                    .ok());
  }
  absl::StatusOr<std::vector<Entry>> r =
      ledger->Read(old, 10, absl::ZeroDuration());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  ASSERT_TRUE(follower.CatchUp().ok());
  EXPECT_EQ(follower.reloads(), 1);
  EXPECT_EQ(model.bookings().size(), 401u);

  // History rewritten (a failover that lost entries, then new ones with the
  // same numbers): the hash chain tells.
  const Position before = follower.applied();
  auto admin = redis::Client::Connect(o.client);
  ASSERT_TRUE(admin.ok());
  ASSERT_TRUE((*admin)->Command({"FLUSHALL"}).ok());
  auto fresh = Open(o);  // FLUSHALL keeps the functions; loading is idempotent
  ASSERT_NE(fresh, nullptr);
  for (uint64_t i = 0; i < before.seq; ++i) {
    ASSERT_TRUE(fresh
                    ->CommitAndWait(Guard{*fresh->Latest()},
                                    {store::Put(testing::kBookings,
                                                absl::StrCat("n", i), "3,3")})
                    .ok());
  }
  EXPECT_EQ(fresh->Latest()->seq, before.seq);
  EXPECT_NE(fresh->Latest()->hash, before.hash);
  EXPECT_EQ(ledger->CommitAndWait(Guard{before}, {})->status,
            CommitStatus::kReload);
  ASSERT_TRUE(follower.CatchUp().ok());
  EXPECT_EQ(follower.reloads(), 2);
  EXPECT_EQ(model.bookings().size(), before.seq);
  EXPECT_EQ(model.bookings().count("n0"), 1u);
}

TEST_F(RedisLedgerTest, FunctionsLostByRedisAreLoadedAgain) {
  StartRedis();
  auto ledger = Open(Options());
  ASSERT_NE(ledger, nullptr);
  auto admin = redis::Client::Connect(Options().client);
  ASSERT_TRUE(admin.ok());
  ASSERT_TRUE((*admin)->Command({"FUNCTION", "FLUSH"}).ok());
  absl::StatusOr<Position> latest = ledger->Latest();
  ASSERT_TRUE(latest.ok()) << latest.status();
  ASSERT_TRUE((*admin)->Command({"FUNCTION", "FLUSH"}).ok());
  absl::StatusOr<CommitResult> c =
      ledger->CommitAndWait(Guard{*latest}, {store::Put("t", "a", "1")});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->status, CommitStatus::kCommitted);
  EXPECT_EQ(c->position.seq, 1u);
}

TEST_F(RedisLedgerTest, ReplicasOnOneRedisNeverDoubleBook) {
  StartRedis();
  std::vector<std::unique_ptr<RedisLedger>> ledgers;
  for (int i = 0; i < 4; ++i) ledgers.push_back(Open(Options()));
  testing::WorkloadOptions options;
  options.think = absl::ZeroDuration();  // the network round trip suffices
  // Without a widened window a race is a matter of chance per attempt:
  // enough attempts that one comes even on a slow (sanitizer) build.
  options.attempts_per_replica = 240;
  testing::WorkloadResult r = testing::RunBookingWorkload(
      [&](int i) { return ledgers[i].get(); }, options);
  EXPECT_EQ(r.errors, 0);
  EXPECT_GT(r.committed, 0);
  EXPECT_GT(r.moved, 0) << "the replicas never raced; the test proves nothing";
  EXPECT_THAT(r.overlaps, IsEmpty());
  EXPECT_TRUE(r.models_agree);
  EXPECT_EQ(static_cast<int>(r.final_bookings.size()), r.committed);
}

TEST_F(RedisLedgerTest, WithoutTheGuardReplicasDoubleBook) {
  StartRedis();
  std::vector<std::unique_ptr<RedisLedger>> ledgers;
  for (int i = 0; i < 4; ++i) ledgers.push_back(Open(Options()));
  testing::WorkloadOptions options;
  options.unguarded = true;
  testing::WorkloadResult r = testing::RunBookingWorkload(
      [&](int i) { return ledgers[i].get(); }, options);
  EXPECT_EQ(r.errors, 0);
  EXPECT_FALSE(r.overlaps.empty());
}

TEST_F(RedisLedgerTest, AcknowledgedCommitsSurviveKill9WithAppendfsyncAlways) {
  utm::testing::RedisServerOptions so;
  so.appendonly = true;
  so.appendfsync = "always";
  StartRedis(so);
  auto ledger = Open(Options());
  ASSERT_NE(ledger, nullptr);
  Position last;
  for (int i = 0; i < 200; ++i) {
    absl::StatusOr<CommitResult> c = ledger->CommitAndWait(
        Guard{last}, {store::Put("t", absl::StrCat(i), "v")});
    ASSERT_TRUE(c.ok()) << c.status();
    last = c->position;
  }
  redis_->Kill9();
  // Down: an error at once, not a hang.
  absl::StatusOr<CommitResult> down =
      ledger->CommitAndWait(Guard{last}, {store::Put("t", "late", "v")});
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable)
      << down.status();
  ASSERT_TRUE(redis_->Restart().ok());
  absl::StatusOr<Position> after = ledger->Latest();  // reconnects
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after, last);
  int rows = 0;
  ASSERT_TRUE(ledger
                  ->Load({"t"}, [&](absl::string_view, absl::string_view,
                                    absl::string_view) { ++rows; })
                  .ok());
  EXPECT_EQ(rows, 200);
}

TEST_F(RedisLedgerTest, WaitForMissingReplicasAnswersUnavailable) {
  StartRedis();
  RedisLedgerOptions o = Options();
  o.wait_replicas = 1;  // there is none
  o.wait_timeout = absl::Milliseconds(100);
  auto ledger = Open(o);
  ASSERT_NE(ledger, nullptr);
  absl::StatusOr<CommitResult> c =
      ledger->CommitAndWait(Guard{}, {store::Put("t", "a", "1")});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(c.status().message(), HasSubstr("retry with the same request id"));
}

}  // namespace
}  // namespace utm::ledger
