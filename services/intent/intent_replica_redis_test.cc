// IntentCore replicas on one real redis-server, each with its own
// connections, as separate utmd processes would have.
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/ledger/redis_ledger.h"
#include "services/intent/intent_replica_testing.h"
#include "tests/testing/redis_server.h"

namespace utm::intent {
namespace {

using ::testing::IsEmpty;

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
  std::vector<std::unique_ptr<testing::UnguardedLedger>> unguarded;
  for (auto& l : ledgers_) {
    // Half a millisecond more per commit, as between hosts.
    unguarded.push_back(std::make_unique<testing::UnguardedLedger>(
        l.get(), absl::Microseconds(500)));
  }
  testing::ReplicaWorkloadResult r = testing::RunReplicaWorkload(
      [&](int i) { return unguarded[i % unguarded.size()].get(); },
      testing::ReplicaWorkloadOptions());
  EXPECT_EQ(r.errors, 0) << r.first_error;
  EXPECT_FALSE(r.violations.empty());
}

}  // namespace
}  // namespace utm::intent
