// Two registry replicas (each a RegistryCore and its own Follower, each its
// own connections) over one real redis-server through RedisLedger: what one
// registers the other's registration check sees, a revocation made on one
// reaches the other's change observer, and a serial number registered on
// both at once is won by exactly one.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/redis_ledger.h"
#include "services/registry/registry_core.h"
#include "services/registry/registry_testing.h"
#include "tests/testing/redis_server.h"

namespace utm::registry {
namespace {

using test_util::kT0;
using test_util::Reg;
using test_util::Regulator;
using test_util::Serial;

using ::testing::StartsWith;

// One replica with its own Redis connections.
struct Replica {
  std::unique_ptr<ledger::Ledger> ledger;
  std::unique_ptr<ledger::Follower> follower;
  std::unique_ptr<RegistryCore> core;
  absl::Mutex mu;
  std::vector<v1::AircraftRegistration> seen ABSL_GUARDED_BY(mu);
};

class RegistryRedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!utm::testing::RedisServerAvailable()) {
      GTEST_SKIP() << "redis-server is not installed (apt-get install "
                      "redis-server); registry replicas on Redis are not "
                      "tested";
    }
    absl::StatusOr<std::unique_ptr<utm::testing::RedisServer>> s =
        utm::testing::RedisServer::Start({});
    ASSERT_TRUE(s.ok()) << s.status();
    redis_ = *std::move(s);
  }
  void TearDown() override {
    // The followers call into the cores: they stop first.
    for (auto& r : replicas_) r->follower->Stop();
  }

  Replica& Add() {
    auto r = std::make_unique<Replica>();
    ledger::RedisLedgerOptions lo;
    lo.client.addr = redis_->addr();
    absl::StatusOr<std::unique_ptr<ledger::RedisLedger>> l =
        ledger::RedisLedger::Open(lo);
    EXPECT_TRUE(l.ok()) << l.status();
    r->ledger = *std::move(l);
    ledger::FollowerOptions fo;
    fo.poll = absl::Milliseconds(50);
    r->follower = std::make_unique<ledger::Follower>(r->ledger.get(), fo);
    RegistryOptions options;
    options.jurisdiction.threshold_g = 250;
    r->core = std::make_unique<RegistryCore>(options, &clock_, r->ledger.get(),
                                             r->follower.get());
    Replica* raw = r.get();
    r->core->SetChangeObserver([raw](const v1::AircraftRegistration& a) {
      absl::MutexLock lock(&raw->mu);
      raw->seen.push_back(a);
    });
    absl::Status started = r->follower->Start();
    EXPECT_TRUE(started.ok()) << started;
    replicas_.push_back(std::move(r));
    return *replicas_.back();
  }

  SimulatedClock clock_{kT0};
  std::unique_ptr<utm::testing::RedisServer> redis_;
  std::vector<std::unique_ptr<Replica>> replicas_;
};

TEST_F(RegistryRedisTest, WritesOnOneReplicaReachTheOther) {
  Replica& a = Add();
  Replica& b = Add();
  const std::string f = "aircraft.serial_number";
  // Not registered anywhere yet: b refuses the heavy aircraft.
  EXPECT_THAT(
      std::string(b.core->CheckAircraft("op-1", Serial(1), 900, f).message()),
      StartsWith(absl::StrCat(f, ": ", Serial(1), " is not registered")));

  absl::StatusOr<v1::RegisterAircraftResponse> reg =
      a.core->Register(Regulator(), Reg(Serial(1), "op-1"));
  ASSERT_TRUE(reg.ok()) << reg.status();
  ASSERT_TRUE(b.follower->CatchUp().ok());
  EXPECT_TRUE(b.core->CheckAircraft("op-1", Serial(1), 900, f).ok());

  // The revocation comes to b's observer on b's own follower thread.
  v1::RevokeRegistrationRequest revoke;
  revoke.set_serial_number(Serial(1));
  revoke.set_reason("reported stolen");
  ASSERT_TRUE(a.core->Revoke(Regulator(), revoke).ok());
  auto revoked_seen = [&b]() {
    b.mu.AssertReaderHeld();
    for (const v1::AircraftRegistration& r : b.seen) {
      if (r.has_revoke_time()) return true;
    }
    return false;
  };
  {
    absl::MutexLock lock(&b.mu);
    EXPECT_TRUE(b.mu.AwaitWithTimeout(absl::Condition(&revoked_seen),
                                      absl::Seconds(10)))
        << "b's observer never saw the revocation";
    ASSERT_FALSE(b.seen.empty());
    EXPECT_EQ(b.seen.back().serial_number(), Serial(1));
    EXPECT_EQ(b.seen.back().revoke_reason(), "reported stolen");
    EXPECT_EQ(b.seen.back().version(), 2);
  }
  EXPECT_EQ(b.core->CheckAircraft("op-1", Serial(1), 900, f).message(),
            absl::StrCat(f, ": the registration of ", Serial(1),
                         " was revoked at 2026-12-07T10:00:00Z: reported "
                         "stolen"));
}

TEST_F(RegistryRedisTest, OneSerialRegisteredOnBothAtOnceHasOneWinner) {
  Replica& a = Add();
  Replica& b = Add();
  for (int i = 0; i < 10; ++i) {
    SCOPED_TRACE(Serial(i));
    absl::Status sa, sb;
    std::thread ta([&] {
      sa = a.core->Register(Regulator(), Reg(Serial(i), "op-a")).status();
    });
    std::thread tb([&] {
      sb = b.core->Register(Regulator(), Reg(Serial(i), "op-b")).status();
    });
    ta.join();
    tb.join();
    EXPECT_EQ(sa.ok() + sb.ok(), 1) << sa << " / " << sb;
    ASSERT_TRUE(a.follower->CatchUp().ok());
    ASSERT_TRUE(b.follower->CatchUp().ok());
    const std::string winner = sa.ok() ? "op-a" : "op-b";
    EXPECT_TRUE(a.core->CheckAircraft(winner, Serial(i), 900, "f").ok());
    EXPECT_TRUE(b.core->CheckAircraft(winner, Serial(i), 900, "f").ok());
  }
}

}  // namespace
}  // namespace utm::registry
