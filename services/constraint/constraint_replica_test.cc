// ConstraintCore replicas on one ledger (the local backend): each replica an
// IntentCore and a ConstraintCore kept current by one follower, wired to each
// other as in utmd. What one replica publishes is enforced and watched on
// the other, with one global change log; an intent racing a publish on
// another replica is rejected or reported, never silently both.
#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/forwarding_ledger.h"
#include "services/common/ledger/local_ledger.h"
#include "services/common/store.h"
#include "services/constraint/constraint_core.h"
#include "services/constraint/constraint_core_fixture.h"
#include "services/constraint/constraint_replica_testing.h"
#include "services/intent/intent_core.h"
#include "services/intent/intent_replica_testing.h"

namespace utm::constraint {
namespace {

using test_util::Area;
using test_util::AreaBlindLedger;
using test_util::ConstraintCoreTest;
using test_util::Cylinder;
using test_util::kAuthority;
using test_util::kPilot;
using test_util::kT0;
using test_util::MakeReplica;
using test_util::MixedResult;
using test_util::Replica;
using test_util::RunMixedWorkload;
using test_util::Zone;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ConstraintReplicas : public ::testing::Test {
 protected:
  ConstraintReplicas() {
    store::StoreOptions memory;
    memory.backend = "memory";
    store_ = *store::OpenStore(memory);
    ledger_ = *ledger::LocalLedger::Open(store_.get());
  }
  ~ConstraintReplicas() override {
    // The followers call into the cores: they stop before the cores go.
    for (Replica& r : replicas_) r.follower->Stop();
  }

  // Adds a replica reaching the ledger through `view` (null: directly).
  Replica& Add(std::unique_ptr<ledger::Ledger> view = nullptr) {
    ledger::Ledger* l = view != nullptr ? view.get() : ledger_.get();
    Replica r = MakeReplica(l, &clock_);
    r.view = std::move(view);
    replicas_.push_back(std::move(r));
    return replicas_.back();
  }

  static absl::StatusOr<v1::PublishConstraintResponse> Publish(
      Replica& r, const v1::Constraint& c, const std::string& request_id = "") {
    v1::PublishConstraintRequest request;
    *request.mutable_constraint() = c;
    request.set_request_id(request_id);
    return r.constraints->Publish(kAuthority, request);
  }

  std::shared_ptr<Watcher> Watch(Replica& r, int64_t since = 0) {
    v1::WatchConstraintsRequest request;
    *request.mutable_area() = Area(0, 20000);
    request.set_since_sequence(since);
    absl::StatusOr<std::shared_ptr<Watcher>> w =
        r.constraints->Watch(kPilot, request, [] {});
    EXPECT_TRUE(w.ok()) << w.status();
    return w.ok() ? *w : nullptr;
  }

  // Every event queued for `w`, after `r` applied everything committed.
  static std::vector<std::string> Drain(Replica& r, Watcher* w) {
    test_util::Settle(r.follower.get());
    std::vector<v1::ConstraintEvent> events;
    EventPtr e;
    while (r.constraints->NextEvent(w, &e)) events.push_back(*e);
    std::vector<std::string> out;
    for (const std::string& d : ConstraintCoreTest::Describe(events)) {
      out.push_back(d);
    }
    for (size_t i = 0; i < events.size(); ++i) {
      if (!events[i].has_heartbeat()) {
        out[i] = absl::StrCat(events[i].sequence(), " ", out[i]);
      }
    }
    return out;
  }

  SimulatedClock clock_{kT0};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ledger::LocalLedger> ledger_;
  std::deque<Replica> replicas_;  // references stay valid as replicas are added
};

TEST_F(ConstraintReplicas, PublishedOnOneReplicaIsEnforcedOnTheOther) {
  Replica& a = Add();
  Replica& b = Add();
  absl::StatusOr<v1::PublishConstraintResponse> zone =
      Publish(a, Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0));
  ASSERT_TRUE(zone.ok()) << zone.status();
  // Replica b may not have applied the publish yet: its filing is decided
  // again once the ledger says the airspace moved, and refused.
  absl::StatusOr<intent::WriteOutcome> filed = b.intents->File(
      "op-1",
      {"",
       10,
       {Cylinder(0, 50, kT0 + absl::Minutes(5), kT0 + absl::Minutes(20))}});
  ASSERT_TRUE(filed.ok()) << filed.status();
  ASSERT_FALSE(filed->accepted());
  ASSERT_EQ(filed->conflicts.size(), 1u);
  EXPECT_EQ(filed->conflicts[0].constraint_id, zone->constraint().id());
  // Every read of b sees it, once b has applied it.
  ASSERT_TRUE(b.follower->CatchUp().ok());
  v1::GetConstraintRequest get;
  get.set_constraint_id(zone->constraint().id());
  absl::StatusOr<v1::GetConstraintResponse> got = b.constraints->Get(get);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->constraint().version(), 1);
  EXPECT_EQ(b.constraints->constraint_count(), 1u);
}

TEST_F(ConstraintReplicas, OneChangeLogNumberedAcrossReplicasResumesAnywhere) {
  Replica& a = Add();
  Replica& b = Add();
  std::shared_ptr<Watcher> on_a = Watch(a);
  std::shared_ptr<Watcher> on_b = Watch(b);
  absl::StatusOr<v1::PublishConstraintResponse> p =
      Publish(a, Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0));
  ASSERT_TRUE(p.ok()) << p.status();
  const std::string id = p->constraint().id();
  ASSERT_TRUE(b.follower->CatchUp().ok());
  v1::UpdateConstraintRequest update;
  *update.mutable_constraint() = p->constraint();
  update.mutable_constraint()->set_reason("moved");
  absl::StatusOr<v1::UpdateConstraintResponse> u =
      b.constraints->Update(kAuthority, update);
  ASSERT_TRUE(u.ok()) << u.status();
  v1::WithdrawConstraintRequest withdraw;
  withdraw.set_constraint_id(id);
  withdraw.set_version(2);
  ASSERT_TRUE(a.constraints->Withdraw(kAuthority, withdraw).ok());

  const std::vector<std::string> want = {
      "0 begin", "0 end:0", absl::StrCat("1 upsert:", id, ":v1"),
      absl::StrCat("2 upsert:", id, ":v2"),
      absl::StrCat("3 removed:", id, ":CONSTRAINT_REMOVED_REASON_WITHDRAWN")};
  EXPECT_EQ(Drain(a, on_a.get()), want);
  EXPECT_EQ(Drain(b, on_b.get()), want);
  EXPECT_EQ(a.constraints->last_sequence(), 3);
  EXPECT_EQ(b.constraints->last_sequence(), 3);
  // A client that saw sequence 1 on a resumes on b with exactly the rest.
  std::shared_ptr<Watcher> resumed = Watch(b, 1);
  EXPECT_THAT(
      Drain(b, resumed.get()),
      ElementsAre(absl::StrCat("2 upsert:", id, ":v2"),
                  absl::StrCat("3 removed:", id,
                               ":CONSTRAINT_REMOVED_REASON_WITHDRAWN")));
  // The withdrawn history is replicated too.
  v1::GetConstraintRequest get;
  get.set_constraint_id(id);
  absl::StatusOr<v1::GetConstraintResponse> got = b.constraints->Get(get);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->constraint().state(), v1::CONSTRAINT_STATE_WITHDRAWN);
}

TEST_F(ConstraintReplicas, RequestIdsAndVersionsHoldAcrossReplicas) {
  Replica& a = Add();
  Replica& b = Add();
  absl::StatusOr<v1::PublishConstraintResponse> first =
      Publish(a, Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0), "req-1");
  ASSERT_TRUE(first.ok()) << first.status();
  // The retry lands on the other replica: the same answer, nothing twice.
  absl::StatusOr<v1::PublishConstraintResponse> again =
      Publish(b, Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0), "req-1");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->constraint().id(), first->constraint().id());
  EXPECT_EQ(b.constraints->constraint_count(), 1u);
  EXPECT_EQ(b.constraints->last_sequence(), 1);
  // The same id for another request is refused.
  absl::StatusOr<v1::PublishConstraintResponse> other =
      Publish(b, Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 3000), "req-1");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists);
  // An update on a, then one on b from the version it read before: ABORTED.
  v1::UpdateConstraintRequest update;
  *update.mutable_constraint() = first->constraint();
  update.mutable_constraint()->set_reason("first");
  ASSERT_TRUE(a.constraints->Update(kAuthority, update).ok());
  update.mutable_constraint()->set_reason("second");
  absl::StatusOr<v1::UpdateConstraintResponse> stale =
      b.constraints->Update(kAuthority, update);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted)
      << stale.status();
  EXPECT_THAT(stale.status().message(), HasSubstr("is at version 2"));
}

TEST_F(ConstraintReplicas, AuthorisationsAreReplicated) {
  Replica& a = Add();
  Replica& b = Add();
  absl::StatusOr<v1::PublishConstraintResponse> zone =
      Publish(a, Zone(v1::CONSTRAINT_TYPE_REQUIRES_AUTHORISATION, 0));
  ASSERT_TRUE(zone.ok()) << zone.status();
  v1::GrantAuthorisationRequest grant;
  grant.set_constraint_id(zone->constraint().id());
  grant.set_operator_id("op-1");
  *grant.mutable_window()->mutable_start() = TimeToProto(kT0);
  *grant.mutable_window()->mutable_end() = TimeToProto(kT0 + absl::Hours(2));
  absl::StatusOr<v1::GrantAuthorisationResponse> granted =
      b.constraints->Grant(kAuthority, grant);
  ASSERT_TRUE(granted.ok()) << granted.status();
  const intent::FileRequest inside{
      "",
      10,
      {Cylinder(0, 50, kT0 + absl::Minutes(5), kT0 + absl::Minutes(20))}};
  absl::StatusOr<intent::WriteOutcome> filed = a.intents->File("op-1", inside);
  ASSERT_TRUE(filed.ok()) << filed.status();
  EXPECT_TRUE(filed->accepted());
  // Revoked on a: the next filing on b is refused again.
  v1::RevokeAuthorisationRequest revoke;
  revoke.set_authorisation_id(granted->authorisation().id());
  ASSERT_TRUE(a.constraints->Revoke(kAuthority, revoke).ok());
  absl::StatusOr<intent::WriteOutcome> refiled =
      b.intents->File("op-1", inside);
  ASSERT_TRUE(refiled.ok()) << refiled.status();
  EXPECT_FALSE(refiled->accepted());
}

TEST_F(ConstraintReplicas, ScheduleTransitionsAreLoggedOnceWhoeverTicks) {
  Replica& a = Add();
  Replica& b = Add();
  v1::Constraint c = Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0);
  *c.mutable_schedule()->mutable_absolute()->mutable_start() =
      TimeToProto(kT0 + absl::Hours(1));
  *c.mutable_schedule()->mutable_absolute()->mutable_end() =
      TimeToProto(kT0 + absl::Hours(2));
  absl::StatusOr<v1::PublishConstraintResponse> p = Publish(a, c);
  ASSERT_TRUE(p.ok()) << p.status();
  const std::string id = p->constraint().id();
  std::shared_ptr<Watcher> on_a = Watch(a);
  std::shared_ptr<Watcher> on_b = Watch(b);
  clock_.Advance(absl::Minutes(90));
  // Both replicas tick, concurrently: the transition is logged once.
  std::thread tb([&] { EXPECT_TRUE(b.constraints->Tick().ok()); });
  EXPECT_TRUE(a.constraints->Tick().ok());
  tb.join();
  EXPECT_TRUE(b.constraints->Tick().ok());
  clock_.Advance(absl::Hours(1));
  std::thread ta([&] { EXPECT_TRUE(a.constraints->Tick().ok()); });
  EXPECT_TRUE(b.constraints->Tick().ok());
  ta.join();
  EXPECT_TRUE(a.constraints->Tick().ok());

  const std::vector<std::string> want = {
      "1 begin",
      absl::StrCat("1 upsert:", id, ":v1"),
      "1 end:1",
      absl::StrCat("2 activity:", id, ":1"),
      absl::StrCat("3 activity:", id, ":0"),
      absl::StrCat("4 removed:", id, ":CONSTRAINT_REMOVED_REASON_EXPIRED")};
  std::vector<std::string> seen_a = Drain(a, on_a.get());
  std::vector<std::string> seen_b = Drain(b, on_b.get());
  // Heartbeats may interleave; the changes may not.
  auto changes = [](std::vector<std::string> v) {
    v.erase(std::remove_if(v.begin(), v.end(),
                           [](const std::string& s) {
                             return s.rfind("heartbeat", 0) == 0;
                           }),
            v.end());
    return v;
  };
  EXPECT_EQ(changes(seen_a), want);
  EXPECT_EQ(changes(seen_b), want);
  EXPECT_EQ(a.constraints->last_sequence(), 4);
}

// Replica b decides a filing, then pauses before committing it (a GC, a
// SIGSTOP); meanwhile a publishes a PROHIBITED zone over it. When b resumes
// its commit must fail the guard and be decided again: refused.
void RaceFilingAgainstPublish(ConstraintReplicas* t, Replica& a, Replica& b,
                              intent::testing::GatedLedger* gate,
                              bool* accepted, int* reported) {
  gate->Close();
  absl::StatusOr<intent::WriteOutcome> filed;
  std::thread filing([&] {
    filed = b.intents->File(
        "op-1",
        {"",
         10,
         {Cylinder(0, 50, kT0 + absl::Minutes(5), kT0 + absl::Minutes(20))}});
  });
  gate->AwaitWaiter();
  v1::PublishConstraintRequest request;
  *request.mutable_constraint() = Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0);
  absl::StatusOr<v1::PublishConstraintResponse> zone =
      a.constraints->Publish(kAuthority, request);
  ASSERT_TRUE(zone.ok()) << zone.status();
  gate->Open();
  filing.join();
  ASSERT_TRUE(filed.ok()) << filed.status();
  *accepted = filed->accepted();
  *reported = zone->affected_intents_size();
  (void)t;
}

TEST_F(ConstraintReplicas, AFilingRacingAPublishIsRefused) {
  Replica& a = Add();
  auto gated = std::make_unique<intent::testing::GatedLedger>(ledger_.get());
  intent::testing::GatedLedger* gate = gated.get();
  Replica& b = Add(std::move(gated));
  bool accepted = true;
  int reported = 0;
  RaceFilingAgainstPublish(this, a, b, gate, &accepted, &reported);
  EXPECT_FALSE(accepted);
  EXPECT_EQ(reported, 0);
}

TEST_F(ConstraintReplicas, WithoutAreaKeysTheRaceAcceptsSilently) {
  // The same race where the publish does not write its area keys: the
  // filing commits on its stale decision, and the publish (which looked for
  // intents before the filing landed) reports nothing. Both silently: what
  // the guard exists to prevent, shown to be caught.
  Replica& a = Add(std::make_unique<AreaBlindLedger>(ledger_.get()));
  auto gated = std::make_unique<intent::testing::GatedLedger>(ledger_.get());
  intent::testing::GatedLedger* gate = gated.get();
  Replica& b = Add(std::move(gated));
  bool accepted = false;
  int reported = 0;
  RaceFilingAgainstPublish(this, a, b, gate, &accepted, &reported);
  EXPECT_TRUE(accepted);
  EXPECT_EQ(reported, 0);
}

TEST_F(ConstraintReplicas, ConcurrentFilingsAndPublishesNeverSilentlyBoth) {
  for (int i = 0; i < 3; ++i) Add();
  MixedResult r = RunMixedWorkload(replicas_);
  EXPECT_GT(r.accepted, 0);
  EXPECT_THAT(r.silent, ::testing::IsEmpty());
  // Caught up (the workload caught up only replica 0), both hold the same
  // change log.
  ASSERT_TRUE(replicas_[2].follower->CatchUp().ok());
  EXPECT_EQ(replicas_[0].constraints->last_sequence(),
            replicas_[2].constraints->last_sequence());
  std::cout << "accepted " << r.accepted
            << ", live intents in zones that reported them " << r.blocked_live
            << "\n";
}

TEST_F(ConstraintReplicas, ConcurrentWorkloadCatchesAreaBlindPublishes) {
  // The same workload where publishes do not write their area keys (and
  // every commit takes 5 ms, as over a network): silent pairs appear.
  for (int i = 0; i < 3; ++i) {
    Add(std::make_unique<AreaBlindLedger>(ledger_.get(),
                                          absl::Milliseconds(5)));
  }
  // The race needs a filing decided just before a publish lands and
  // committed just after it looked for intents: rounds on fresh airspace
  // until one shows (bounded; one round in two shows one, typically).
  MixedResult r;
  int rounds = 0;
  while (r.silent.empty() && rounds < 20) {
    r = RunMixedWorkload(replicas_, 20000.0 * rounds++);
  }
  EXPECT_THAT(r.silent, ::testing::Not(::testing::IsEmpty()));
  std::cout << "silent pairs without area keys: " << r.silent.size()
            << " (round " << rounds << ")\n";
}

}  // namespace
}  // namespace utm::constraint
