// The registration check at activation across replicas: two replicas, each
// an IntentCore and a RegistryCore on one Follower of its own RedisLedger
// connection (as two utmd processes with --store redis have), over one real
// redis-server. An activation decided on a model that has not yet applied
// another replica's registration write must not commit on it: its guard
// reads the registration's key (registration::RegistrationGuardKey), so the
// ledger refuses the commit, the replica catches up and decides again. The
// converse order (activation first, revocation after) passes both ways.
//
// The stale model is made deterministic by stopping replica a's follower
// thread: a's model then moves only when a itself catches up (its own writes
// wait until applied, and a refused commit catches up before deciding
// again), never on its own while the test runs.
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/redis_ledger.h"
#include "services/intent/intent_core.h"
#include "services/registry/registry_core.h"
#include "services/registry/registry_testing.h"
#include "tests/testing/redis_server.h"

namespace utm {
namespace {

using intent::IntentCore;
using intent::IntentState;
using intent::WriteOutcome;
using registry::RegistryCore;
using registry::test_util::Reg;
using registry::test_util::Regulator;
using registry::test_util::Serial;

// 2026-12-07T10:00:00Z, the registry tests' time.
const absl::Time kNow = registry::test_util::kT0;
const geo::LatLng kCentre{47.3769, 8.5417};
constexpr char kSerialField[] = "aircraft.serial_number";

// One utmd replica's cores on its own Redis connection. The follower is
// stopped before the cores go (it calls into them).
struct Replica {
  std::unique_ptr<ledger::Ledger> ledger;
  std::unique_ptr<ledger::Follower> follower;
  std::unique_ptr<RegistryCore> registry;
  std::unique_ptr<IntentCore> intents;
};

class RegistrationRaceRedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!utm::testing::RedisServerAvailable()) {
      GTEST_SKIP() << "redis-server is not installed (apt-get install "
                      "redis-server); the registration check across "
                      "replicas is not tested";
    }
    absl::StatusOr<std::unique_ptr<utm::testing::RedisServer>> s =
        utm::testing::RedisServer::Start({});
    ASSERT_TRUE(s.ok()) << s.status();
    redis_ = *std::move(s);
    for (Replica* r : {&a_, &b_}) {
      ledger::RedisLedgerOptions lo;
      lo.client.addr = redis_->addr();
      absl::StatusOr<std::unique_ptr<ledger::RedisLedger>> l =
          ledger::RedisLedger::Open(lo);
      ASSERT_TRUE(l.ok()) << l.status();
      r->ledger = *std::move(l);
      ledger::FollowerOptions fo;
      fo.poll = absl::Milliseconds(50);
      r->follower = std::make_unique<ledger::Follower>(r->ledger.get(), fo);
      registry::RegistryOptions options;
      options.jurisdiction.threshold_g = 250;
      r->registry = std::make_unique<RegistryCore>(
          options, &clock_, r->ledger.get(), r->follower.get());
      r->intents = std::make_unique<IntentCore>(
          intent::IntentOptions(), &clock_,
          [this] { return absl::StrCat("intent-", ++ids_); });
      r->intents->UseLedger(r->ledger.get(), r->follower.get());
      r->intents->SetRegistrationChecker(r->registry.get());
      absl::Status started = r->follower->Start();
      ASSERT_TRUE(started.ok()) << started;
    }
  }
  void TearDown() override {
    for (Replica* r : {&a_, &b_}) {
      if (r->intents) r->intents->StopLedgerWork();
      if (r->follower) r->follower->Stop();
    }
  }

  // Files an intent of `op` flying `serial` (declared `mass_g`) on `r`;
  // its id, accepted at version 1.
  std::string Filed(Replica& r, const std::string& op,
                    const std::string& serial, int64_t mass_g) {
    intent::FileRequest file;
    file.request_id = absl::StrCat("file-", serial);
    geo::Volume4D v;
    v.volume.footprint = geo::Circle{kCentre, 100};
    v.volume.altitude = {400, 500};
    v.time = {kNow + absl::Minutes(10), kNow + absl::Minutes(40)};
    file.volumes.push_back(std::move(v));
    file.aircraft.serial = serial;
    file.aircraft.mass_g = mass_g;
    absl::StatusOr<WriteOutcome> out = r.intents->File(op, file);
    EXPECT_TRUE(out.ok() && out->accepted()) << out.status();
    if (!out.ok() || !out->accepted()) return "";
    EXPECT_EQ(out->intent->state, IntentState::kAccepted);
    return out->intent->id;
  }

  static absl::StatusOr<WriteOutcome> Activate(Replica& r,
                                               const std::string& op,
                                               const std::string& id) {
    intent::TransitionRequest t;
    t.request_id = absl::StrCat("activate-", id);
    t.intent_id = id;
    t.version = 1;
    t.to = IntentState::kActivated;
    return r.intents->Transition(op, t);
  }

  static absl::Status Revoke(Replica& r, const std::string& serial) {
    v1::RevokeRegistrationRequest revoke;
    revoke.set_serial_number(serial);
    revoke.set_reason("reported stolen");
    return r.registry->Revoke(Regulator(), revoke).status();
  }

  static bool Revoked(const Replica& r, const std::string& serial) {
    std::optional<v1::AircraftRegistration> found = r.registry->Find(serial);
    return found.has_value() && found->has_revoke_time();
  }

  SimulatedClock clock_{kNow};
  int ids_ = 0;
  std::unique_ptr<utm::testing::RedisServer> redis_;
  Replica a_;
  Replica b_;
};

TEST_F(RegistrationRaceRedisTest, RevokedOnAnotherReplicaRefusesActivation) {
  const std::string serial = Serial(1);
  ASSERT_TRUE(a_.registry->Register(Regulator(), Reg(serial, "op-1")).ok());
  const std::string id = Filed(a_, "op-1", serial, 900);
  ASSERT_FALSE(id.empty());

  // a stops following; b revokes (b's own write waits until b applied it).
  a_.follower->Stop();
  ASSERT_TRUE(b_.follower->CatchUp().ok());
  absl::Status revoked = Revoke(b_, serial);
  ASSERT_TRUE(revoked.ok()) << revoked;
  ASSERT_FALSE(Revoked(a_, serial))
      << "a's model already has the revocation: this proves nothing";
  ASSERT_TRUE(
      a_.registry->CheckAircraft("op-1", serial, 900, kSerialField).ok());

  // Decided on a's stale model the activation passes the check; the ledger
  // refuses its commit, a catches up and decides again.
  absl::StatusOr<WriteOutcome> out = Activate(a_, "op-1", id);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kFailedPrecondition)
      << (out.ok() ? "activated on a revoked registration"
                   : out.status().ToString());
  EXPECT_EQ(out.status().message(),
            absl::StrCat(kSerialField, ": the registration of ", serial,
                         " was revoked at 2026-12-07T10:00:00Z: reported "
                         "stolen"));
  EXPECT_GE(a_.intents->ledger_retries(), 1);
  EXPECT_TRUE(Revoked(a_, serial));
  absl::StatusOr<intent::IntentView> view = a_.intents->Get("op-1", id);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->intent.state, IntentState::kAccepted);
  EXPECT_EQ(view->intent.version, 1);
}

TEST_F(RegistrationRaceRedisTest,
       RegisteredToAnotherOperatorOnAnotherReplicaRefusesActivation) {
  // A light aircraft not registered may fly; the registration b makes of
  // its serial to someone else moves the key the activation read.
  const std::string serial = Serial(2);
  const std::string id = Filed(a_, "op-1", serial, 200);
  ASSERT_FALSE(id.empty());
  a_.follower->Stop();
  ASSERT_TRUE(b_.registry->Register(Regulator(), Reg(serial, "op-2")).ok());
  ASSERT_FALSE(a_.registry->Find(serial).has_value())
      << "a's model already has the registration: this proves nothing";

  absl::StatusOr<WriteOutcome> out = Activate(a_, "op-1", id);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kFailedPrecondition)
      << (out.ok() ? "activated an aircraft registered to another operator"
                   : out.status().ToString());
  EXPECT_EQ(out.status().message(),
            absl::StrCat(kSerialField, ": ", serial,
                         " is registered to another operator"));
  EXPECT_TRUE(a_.registry->Find(serial).has_value());
}

TEST_F(RegistrationRaceRedisTest, ActivationFirstThenRevocationBothHold) {
  const std::string serial = Serial(3);
  ASSERT_TRUE(a_.registry->Register(Regulator(), Reg(serial, "op-1")).ok());
  const std::string id = Filed(a_, "op-1", serial, 900);
  ASSERT_FALSE(id.empty());
  // b has the registration but will not see the activation before it
  // revokes: the revocation of a flying aircraft is not refused, and the
  // activation's guard only read the registration's key.
  ASSERT_TRUE(b_.follower->CatchUp().ok());
  ASSERT_TRUE(b_.registry->Find(serial).has_value());
  b_.follower->Stop();

  absl::StatusOr<WriteOutcome> out = Activate(a_, "op-1", id);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE(out->accepted());
  EXPECT_EQ(out->intent->state, IntentState::kActivated);
  absl::StatusOr<intent::IntentView> before_b = b_.intents->Get("op-1", id);
  ASSERT_TRUE(before_b.ok()) << before_b.status();
  ASSERT_EQ(before_b->intent.state, IntentState::kAccepted)
      << "b's model already has the activation";

  absl::Status revoked = Revoke(b_, serial);
  ASSERT_TRUE(revoked.ok()) << revoked;
  EXPECT_TRUE(Revoked(b_, serial));
  ASSERT_TRUE(a_.follower->CatchUp().ok());
  ASSERT_TRUE(b_.follower->CatchUp().ok());
  for (Replica* r : {&a_, &b_}) {
    EXPECT_TRUE(Revoked(*r, serial));
    absl::StatusOr<intent::IntentView> view = r->intents->Get("op-1", id);
    ASSERT_TRUE(view.ok()) << view.status();
    EXPECT_EQ(view->intent.state, IntentState::kActivated);
    EXPECT_EQ(view->intent.version, 2);
  }
}

}  // namespace
}  // namespace utm
