// The registration check at activation against a revocation in one process
// (utmd --store embedded|memory): the intent core on its store, the registry
// on its own LocalLedger, as utmd wires them. What holds there: the check
// reads the registry's model (under the registry's lock) while the intent
// core's lock holds the activation's write, and a revocation is answered
// only once the registry's model has it. So an activation asked after a
// revocation was answered is refused, and one decided while a revocation is
// still on its way to the ledger is ordered before it (the revocation of a
// flying aircraft, which telemetry alerts on).
//
// The registry's follower thread is stopped once loaded, so that its model
// moves only when a write waits for its own entry: nothing applies the
// revocation behind the test's back.
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/local_ledger.h"
#include "services/common/store.h"
#include "services/intent/intent_core.h"
#include "services/intent/intent_replica_testing.h"
#include "services/registry/registry_core.h"
#include "services/registry/registry_testing.h"

namespace utm {
namespace {

using intent::IntentCore;
using intent::IntentState;
using intent::WriteOutcome;
using registry::RegistryCore;
using registry::test_util::Reg;
using registry::test_util::Regulator;
using registry::test_util::Serial;

const absl::Time kNow = registry::test_util::kT0;  // 2026-12-07T10:00:00Z
const geo::LatLng kCentre{47.3769, 8.5417};

class RegistrationRaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions memory;
    memory.backend = "memory";
    absl::StatusOr<std::unique_ptr<store::Store>> s = store::OpenStore(memory);
    ASSERT_TRUE(s.ok()) << s.status();
    intent_store_ = *std::move(s);
    s = store::OpenStore(memory);
    ASSERT_TRUE(s.ok()) << s.status();
    registry_store_ = *std::move(s);
    absl::StatusOr<std::unique_ptr<ledger::LocalLedger>> l =
        ledger::LocalLedger::Open(registry_store_.get());
    ASSERT_TRUE(l.ok()) << l.status();
    registry_ledger_ = *std::move(l);
    gate_ =
        std::make_unique<intent::testing::GatedLedger>(registry_ledger_.get());
    follower_ = std::make_unique<ledger::Follower>(gate_.get());
    registry::RegistryOptions options;
    options.jurisdiction.threshold_g = 250;
    registry_ = std::make_unique<RegistryCore>(options, &clock_, gate_.get(),
                                               follower_.get());
    absl::Status started = follower_->Start();
    ASSERT_TRUE(started.ok()) << started;
    follower_->Stop();
    intents_ = std::make_unique<IntentCore>(
        intent::IntentOptions(), &clock_,
        [this] { return absl::StrCat("intent-", ++ids_); },
        intent_store_.get());
    absl::Status recovered = intents_->Recover();
    ASSERT_TRUE(recovered.ok()) << recovered;
    intents_->SetRegistrationChecker(registry_.get());
  }

  // Registers `serial` to op-1 and files an intent of op-1 flying it; the
  // intent's id (ACCEPTED, version 1).
  std::string RegisteredAndFiled(const std::string& serial) {
    absl::Status registered =
        registry_->Register(Regulator(), Reg(serial, "op-1")).status();
    EXPECT_TRUE(registered.ok()) << registered;
    intent::FileRequest file;
    geo::Volume4D v;
    v.volume.footprint = geo::Circle{kCentre, 100};
    v.volume.altitude = {400, 500};
    v.time = {kNow + absl::Minutes(10), kNow + absl::Minutes(40)};
    file.volumes.push_back(std::move(v));
    file.aircraft.serial = serial;
    file.aircraft.mass_g = 900;
    absl::StatusOr<WriteOutcome> out = intents_->File("op-1", file);
    EXPECT_TRUE(out.ok() && out->accepted()) << out.status();
    return out.ok() && out->accepted() ? out->intent->id : "";
  }

  absl::StatusOr<WriteOutcome> Activate(const std::string& id) {
    intent::TransitionRequest t;
    t.intent_id = id;
    t.version = 1;
    t.to = IntentState::kActivated;
    return intents_->Transition("op-1", t);
  }

  absl::Status Revoke(const std::string& serial) {
    v1::RevokeRegistrationRequest revoke;
    revoke.set_serial_number(serial);
    revoke.set_reason("reported stolen");
    return registry_->Revoke(Regulator(), revoke).status();
  }

  SimulatedClock clock_{kNow};
  int ids_ = 0;
  std::unique_ptr<store::Store> intent_store_;
  std::unique_ptr<store::Store> registry_store_;
  std::unique_ptr<ledger::LocalLedger> registry_ledger_;
  std::unique_ptr<intent::testing::GatedLedger> gate_;
  std::unique_ptr<ledger::Follower> follower_;
  std::unique_ptr<RegistryCore> registry_;
  std::unique_ptr<IntentCore> intents_;
};

TEST_F(RegistrationRaceTest, ActivationAfterTheRevocationIsAnsweredIsRefused) {
  const std::string serial = Serial(1);
  const std::string id = RegisteredAndFiled(serial);
  ASSERT_FALSE(id.empty());
  absl::Status revoked = Revoke(serial);
  ASSERT_TRUE(revoked.ok()) << revoked;

  absl::StatusOr<WriteOutcome> out = Activate(id);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kFailedPrecondition)
      << (out.ok() ? "activated on a revoked registration"
                   : out.status().ToString());
  EXPECT_EQ(out.status().message(),
            absl::StrCat("aircraft.serial_number: the registration of ", serial,
                         " was revoked at 2026-12-07T10:00:00Z: reported "
                         "stolen"));
  absl::StatusOr<intent::IntentView> view = intents_->Get("op-1", id);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->intent.state, IntentState::kAccepted);
}

TEST_F(RegistrationRaceTest, ActivationDecidedBeforeTheRevocationCommitsFirst) {
  const std::string serial = Serial(2);
  const std::string id = RegisteredAndFiled(serial);
  ASSERT_FALSE(id.empty());
  // The revocation is decided and waits to commit (a slow disk); it has
  // not been answered, so an activation now comes before it.
  gate_->Close();
  absl::Status revoked;
  std::thread revoker([&] { revoked = Revoke(serial); });
  gate_->AwaitWaiter();
  absl::StatusOr<WriteOutcome> out = Activate(id);
  gate_->Open();
  revoker.join();
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE(out->accepted());
  EXPECT_EQ(out->intent->state, IntentState::kActivated);
  // The revocation of a flying aircraft is not refused.
  EXPECT_TRUE(revoked.ok()) << revoked;
  std::optional<v1::AircraftRegistration> found = registry_->Find(serial);
  ASSERT_TRUE(found.has_value());
  EXPECT_TRUE(found->has_revoke_time());
  absl::StatusOr<intent::IntentView> view = intents_->Get("op-1", id);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->intent.state, IntentState::kActivated);
}

}  // namespace
}  // namespace utm
