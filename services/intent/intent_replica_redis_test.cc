// IntentCore replicas on one real redis-server, each with its own
// connections, as separate utmd processes would have.
#include <atomic>
#include <map>
#include <memory>
#include <thread>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/ledger/redis_ledger.h"
#include "services/intent/intent_replica_testing.h"
#include "tests/testing/redis_server.h"
#include "utm/internal/intent_storage.pb.h"

namespace utm::intent {
namespace {

using ::testing::IsEmpty;

// Filing n of client c, at a spot of its own (300 m apart: no two conflict),
// with its own request id.
FileRequest SpotFiling(int c, int n) {
  FileRequest request;
  request.request_id = absl::StrCat("c", c, "-", n);
  geo::Volume4D v;
  v.volume.footprint = geo::Circle{
      geo::GeodesicDestination(
          geo::GeodesicDestination(testing::kReplicaCentre, 90, 300.0 * n), 0,
          300.0 * c),
      50};
  v.volume.altitude = {400, 500};
  v.time = {testing::kReplicaNow + absl::Minutes(10),
            testing::kReplicaNow + absl::Minutes(40)};
  request.volumes.push_back(std::move(v));
  return request;
}

class IntentReplicaRedisTest : public ::testing::Test {
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
    for (int i = 0; i < 3; ++i) {
      ledger::RedisLedgerOptions lo;
      lo.client.addr = redis_->addr();
      absl::StatusOr<std::unique_ptr<ledger::RedisLedger>> l =
          ledger::RedisLedger::Open(lo);
      ASSERT_TRUE(l.ok()) << l.status();
      ledgers_.push_back(*std::move(l));
    }
  }
  std::unique_ptr<utm::testing::RedisServer> redis_;
  std::vector<std::unique_ptr<ledger::RedisLedger>> ledgers_;
};

TEST_F(IntentReplicaRedisTest, ThreeReplicasSixteenClientsKeepTheRules) {
  testing::ReplicaWorkloadResult r = testing::RunReplicaWorkload(
      [&](int i) { return ledgers_[i % ledgers_.size()].get(); },
      testing::ReplicaWorkloadOptions());
  EXPECT_EQ(r.errors, 0) << r.first_error;
  EXPECT_GT(r.accepted, 50);
  EXPECT_GT(r.retries, 0) << "the replicas never raced; this proves nothing";
  EXPECT_GT(r.live, 20u);
  EXPECT_THAT(r.violations, IsEmpty());
}

TEST_F(IntentReplicaRedisTest, WithoutTheGuardTheRulesBreak) {
  // A run shows only a few violations (2 to 5 of some 90 accepted intents),
  // and on a loaded machine now and then none: up to three runs, each on a
  // ledger of its own (its own key prefix), until one shows the break.
  testing::ReplicaWorkloadResult r;
  for (int run = 0; run < 3 && r.violations.empty(); ++run) {
    std::vector<std::unique_ptr<ledger::RedisLedger>> ledgers;
    std::vector<std::unique_ptr<testing::UnguardedLedger>> unguarded;
    for (int i = 0; i < 3; ++i) {
      ledger::RedisLedgerOptions lo;
      lo.client.addr = redis_->addr();
      lo.prefix = absl::StrCat("{unguarded", run, "}:");
      absl::StatusOr<std::unique_ptr<ledger::RedisLedger>> l =
          ledger::RedisLedger::Open(lo);
      ASSERT_TRUE(l.ok()) << l.status();
      ledgers.push_back(*std::move(l));
      // Five milliseconds more per commit (a slow network, or a GC pause),
      // so that replicas race even on a loaded machine.
      unguarded.push_back(std::make_unique<testing::UnguardedLedger>(
          ledgers.back().get(), absl::Milliseconds(5)));
    }
    r = testing::RunReplicaWorkload(
        [&](int i) { return unguarded[i % unguarded.size()].get(); },
        testing::ReplicaWorkloadOptions());
    EXPECT_EQ(r.errors, 0) << r.first_error;
  }
  EXPECT_FALSE(r.violations.empty());
}

// Redis killed with SIGKILL while replicas file, then restarted from its
// AOF (appendfsync always): while it is down every write answers
// UNAVAILABLE (no hang); afterwards every filing that was acknowledged is
// there, and no request was applied twice although clients retried each one
// with its request id until it was answered. (Run with appendonly off, the
// same checks report the acknowledged filings lost.)
TEST_F(IntentReplicaRedisTest, RedisKilledUnderLoadLosesNothingAcknowledged) {
  SimulatedClock clock(testing::kReplicaNow);
  constexpr int kReplicas = 3, kClients = 6, kFilings = 40;
  // Cores first: the followers, which call into them, go (and stop) first.
  std::vector<std::unique_ptr<IntentCore>> cores;
  std::vector<std::unique_ptr<ledger::Follower>> followers;
  for (int r = 0; r < kReplicas; ++r) {
    ledger::FollowerOptions fo;
    fo.poll = absl::Milliseconds(50);
    fo.retry = absl::Milliseconds(20);
    followers.push_back(
        std::make_unique<ledger::Follower>(ledgers_[r].get(), fo));
    cores.push_back(std::make_unique<IntentCore>(IntentOptions(), &clock));
    cores.back()->UseLedger(ledgers_[r].get(), followers.back().get());
    ASSERT_TRUE(followers.back()->Start().ok());
  }
  absl::Mutex mu;
  std::vector<std::string> acknowledged;
  int unavailable = 0, other_errors = 0, acknowledged_before_kill = 0;
  std::string other_error;
  std::atomic<bool> killed{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      IntentCore& core = *cores[c % kReplicas];
      for (int n = 0; n < kFilings; ++n) {
        const FileRequest request = SpotFiling(c, n);
        // Bounded: 200 tries 20 ms apart cover an outage of 4 s.
        for (int attempt = 0; attempt < 200; ++attempt) {
          absl::StatusOr<WriteOutcome> out =
              core.File(absl::StrCat("op-", c), request);
          {
            absl::MutexLock lock(&mu);
            if (out.ok()) {
              if (out->accepted()) {
                acknowledged.push_back(out->intent->id);
                if (!killed) ++acknowledged_before_kill;
              } else {
                ++other_errors;
                other_error = "a filing at its own spot was rejected";
              }
              break;
            }
            if (out.status().code() != absl::StatusCode::kUnavailable) {
              ++other_errors;
              other_error = out.status().ToString();
              break;
            }
            ++unavailable;
          }
          absl::SleepFor(absl::Milliseconds(20));
        }
      }
    });
  }
  // Kill Redis once some filings are through, keep it down a while.
  for (int i = 0; i < 1000; ++i) {
    {
      absl::MutexLock lock(&mu);
      if (acknowledged.size() >= 30) break;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  killed = true;
  redis_->Kill9();
  absl::SleepFor(absl::Milliseconds(400));
  ASSERT_TRUE(redis_->Restart().ok());
  for (std::thread& t : clients) t.join();
  for (auto& f : followers) f->Stop();

  EXPECT_EQ(other_errors, 0) << other_error;
  EXPECT_GT(unavailable, 0) << "no write met the outage; it proves nothing";
  EXPECT_GT(acknowledged_before_kill, 0);
  EXPECT_EQ(acknowledged.size(), static_cast<size_t>(kClients * kFilings));

  // What Redis holds now, read directly.
  std::map<std::string, int> intents;
  std::map<std::string, std::string> request_of_intent;
  bool parsed = true;
  ASSERT_TRUE(ledgers_[0]
                  ->Load({IntentCore::kIntentsTable, IntentCore::kRequestsTable},
                         [&](absl::string_view table, absl::string_view key,
                             absl::string_view value) {
                           if (table == IntentCore::kIntentsTable) {
                             ++intents[std::string(key)];
                             return;
                           }
                           internal::StoredRequest r;
                           parsed = parsed &&
                                    r.ParseFromArray(
                                        value.data(),
                                        static_cast<int>(value.size()));
                           request_of_intent[r.intent().id()] = r.request_id();
                         })
                  .ok());
  EXPECT_TRUE(parsed);
  for (const std::string& id : acknowledged) {
    EXPECT_EQ(intents.count(id), 1u) << "acknowledged intent " << id
                                     << " was lost";
  }
  // One intent per request: an intent without the record of the request
  // that made it was made by a request applied twice.
  EXPECT_EQ(intents.size(), acknowledged.size());
  for (const auto& [id, n] : intents) {
    EXPECT_EQ(request_of_intent.count(id), 1u)
        << "intent " << id << " has no request record: applied twice?";
  }
}

}  // namespace
}  // namespace utm::intent
