// The ledger through a Sentinel failover: a primary with two Redis replicas
// and three Sentinels on loopback, a writer committing all along. The
// replicas are cut off (so the primary runs ahead of them), then the primary
// is SIGSTOPped until Sentinel promotes a replica, then resumed.
//  - With wait_replicas = 2, every commit the ledger acknowledged is on the
//    new primary: a commit the replicas had not confirmed answered
//    UNAVAILABLE (outcome unknown) instead.
//  - With wait_replicas = 0, the same run loses acknowledged commits: the
//    check is shown to catch the loss WAIT prevents.
#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/ledger/redis_ledger.h"
#include "services/common/redis/redis_client.h"
#include "tests/testing/redis_server.h"

namespace utm::ledger {
namespace {

using redis::Client;
using redis::ClientOptions;
using redis::Reply;
using utm::testing::RedisServer;

constexpr char kMaster[] = "utm";

std::unique_ptr<Client> Direct(const RedisServer& s) {
  ClientOptions o;
  o.addr = s.addr();
  o.connect_timeout = absl::Milliseconds(300);
  o.command_timeout = absl::Milliseconds(500);
  absl::StatusOr<std::unique_ptr<Client>> c = Client::Connect(o);
  return c.ok() ? *std::move(c) : nullptr;
}

class RedisFailoverTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    if (!utm::testing::RedisServerAvailable()) {
      GTEST_SKIP() << "redis-server is not installed; failover is not tested";
    }
    utm::testing::RedisServerOptions po;
    po.appendonly = true;
    po.appendfsync = "always";
    primary_ = *RedisServer::Start(po);
    for (int i = 0; i < 2; ++i) {
      utm::testing::RedisServerOptions ro = po;
      ro.extra_args = {"--replicaof", "127.0.0.1",
                       absl::StrCat(primary_->port())};
      replicas_.push_back(*RedisServer::Start(ro));
    }
    utm::testing::SentinelOptions so;
    so.down_after = absl::Milliseconds(500);
    so.failover_timeout = absl::Seconds(3);
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<std::unique_ptr<RedisServer>> s =
          RedisServer::StartSentinel(primary_->addr(), kMaster, 2, so);
      ASSERT_TRUE(s.ok()) << s.status();
      sentinels_.push_back(*std::move(s));
    }
    // Bounded: both replicas in sync, and every Sentinel knows both replicas
    // and the two other Sentinels (needed to elect a leader).
    bool ready = false;
    for (int i = 0; i < 400 && !ready; ++i) {
      ready = true;
      for (auto& r : replicas_) {
        std::unique_ptr<Client> c = Direct(*r);
        absl::StatusOr<Reply> info =
            c ? c->Command({"INFO", "replication"}) : absl::UnavailableError("");
        ready = ready && info.ok() &&
                info->str.find("master_link_status:up") != std::string::npos;
      }
      for (auto& s : sentinels_) {
        std::unique_ptr<Client> c = Direct(*s);
        absl::StatusOr<Reply> known =
            c ? c->Command({"SENTINEL", "replicas", kMaster})
              : absl::UnavailableError("");
        absl::StatusOr<Reply> peers =
            c ? c->Command({"SENTINEL", "sentinels", kMaster})
              : absl::UnavailableError("");
        ready = ready && known.ok() && known->elements.size() == 2 &&
                peers.ok() && peers->elements.size() == 2;
      }
      if (!ready) absl::SleepFor(absl::Milliseconds(50));
    }
    ASSERT_TRUE(ready) << "replicas or Sentinels not ready in 20 s";
  }

  RedisLedgerOptions Options(int wait_replicas) const {
    RedisLedgerOptions o;
    o.client.addr = "unused:1";
    for (auto& s : sentinels_) o.client.sentinels.push_back(s->addr());
    o.client.master_name = kMaster;
    o.client.connect_timeout = absl::Milliseconds(300);
    o.client.command_timeout = absl::Milliseconds(500);
    o.wait_replicas = wait_replicas;
    o.wait_timeout = absl::Milliseconds(300);
    return o;
  }

  std::unique_ptr<RedisServer> primary_;
  std::vector<std::unique_ptr<RedisServer>> replicas_;
  std::vector<std::unique_ptr<RedisServer>> sentinels_;
};

TEST_P(RedisFailoverTest, AcknowledgedCommitsSurviveOnlyWithWait) {
  const int wait_replicas = GetParam();
  absl::StatusOr<std::unique_ptr<RedisLedger>> opened =
      RedisLedger::Open(Options(wait_replicas));
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::unique_ptr<RedisLedger> ledger = *std::move(opened);

  absl::Mutex mu;
  std::set<std::string> acknowledged;
  int unavailable = 0, reloads = 0;
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    Position base;
    for (int i = 0; !stop; ++i) {
      const std::string key = absl::StrCat("k", i);
      absl::StatusOr<CommitResult> c = ledger->CommitAndWait(
          Guard{base, {key}, {key}}, {store::Put("t", key, "v")});
      absl::MutexLock lock(&mu);
      if (!c.ok()) {
        ++unavailable;
        mu.Unlock();
        absl::SleepFor(absl::Milliseconds(20));
        mu.Lock();
        continue;
      }
      if (c->status == CommitStatus::kCommitted) {
        acknowledged.insert(key);
        base = c->position;
      } else {
        // The history moved under us (a failover): start from the latest.
        ++reloads;
        base = c->position;
      }
    }
  });
  auto acked = [&] {
    absl::MutexLock lock(&mu);
    return acknowledged.size();
  };
  // Let commits flow, then cut the replicas off while the primary goes on:
  // stopped, and their replication links killed on the primary (a stopped
  // replica would otherwise find the stream waiting in its socket buffer).
  for (int i = 0; i < 500 && acked() < 50; ++i) absl::SleepFor(absl::Milliseconds(10));
  ASSERT_GE(acked(), 50u);
  for (auto& r : replicas_) r->Stop();
  {
    std::unique_ptr<Client> p = Direct(*primary_);
    ASSERT_NE(p, nullptr);
    ASSERT_TRUE(p->Command({"CLIENT", "KILL", "TYPE", "replica"}).ok());
  }
  absl::SleepFor(absl::Milliseconds(700));
  // The primary stops; the replicas come back; Sentinel promotes one.
  primary_->Stop();
  for (auto& r : replicas_) r->Continue();
  std::unique_ptr<Client> sentinel = Direct(*sentinels_[0]);
  ASSERT_NE(sentinel, nullptr);
  bool failed_over = false;
  for (int i = 0; i < 600 && !failed_over; ++i) {  // bounded: 60 s
    absl::SleepFor(absl::Milliseconds(100));
    absl::StatusOr<Reply> master =
        sentinel->Command({"SENTINEL", "get-master-addr-by-name", kMaster});
    failed_over = master.ok() && master->elements.size() == 2 &&
                  master->elements[1].str != absl::StrCat(primary_->port());
  }
  // The old primary resumes and Sentinel turns it into a replica of the new
  // one: what it alone had is dropped. (With wait_replicas = 2 the new
  // primary needs it back as its second replica before commits go on.)
  primary_->Continue();
  ASSERT_TRUE(failed_over) << "Sentinel did not promote a replica in 60 s";
  const size_t before = acked();
  bool resumed = false;
  for (int i = 0; i < 600 && !resumed; ++i) {  // bounded: 60 s
    absl::SleepFor(absl::Milliseconds(100));
    resumed = acked() >= before + 50;
  }
  stop = true;
  writer.join();
  ASSERT_TRUE(resumed) << "commits did not resume on the new primary in 60 s";

  // Read the table on whichever server is the primary now.
  ClientOptions through;
  through.addr = "unused:1";
  for (auto& s : sentinels_) through.sentinels.push_back(s->addr());
  through.master_name = kMaster;
  absl::StatusOr<std::unique_ptr<Client>> now = Client::Connect(through);
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_NE((*now)->address(), primary_->addr()) << "no failover happened";
  std::set<std::string> present;
  absl::StatusOr<Reply> table = (*now)->Command({"HKEYS", "{utm}:t:t"});
  ASSERT_TRUE(table.ok());
  for (const Reply& k : table->elements) present.insert(k.str);
  int lost = 0;
  for (const std::string& key : acknowledged) lost += present.count(key) == 0;
  RecordProperty("acknowledged", static_cast<int>(acknowledged.size()));
  RecordProperty("lost", lost);
  if (wait_replicas == 2) {
    EXPECT_EQ(lost, 0) << lost << " of " << acknowledged.size()
                       << " acknowledged commits are not on the new primary";
    EXPECT_GT(unavailable, 0) << "no commit waited in vain; the test proves nothing";
  } else {
    EXPECT_GT(lost, 0) << "without WAIT the failover lost nothing: the run "
                          "did not exercise the loss it is meant to show";
  }
}

INSTANTIATE_TEST_SUITE_P(Wait, RedisFailoverTest, ::testing::Values(2, 0),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return absl::StrCat("Replicas", info.param);
                         });

}  // namespace
}  // namespace utm::ledger
