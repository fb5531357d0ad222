// IntentCore replicas on one ledger (the local backend here; the Redis one
// in intent_replica_redis_test.cc).
#include <memory>
#include <thread>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/local_ledger.h"
#include "services/common/store.h"
#include "services/intent/intent_core.h"
#include "services/intent/intent_replica_testing.h"

namespace utm::intent {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::kReplicaNow;

std::unique_ptr<store::Store> MemoryStore() {
  store::StoreOptions options;
  options.backend = "memory";
  return *store::OpenStore(options);
}

geo::Volume4D Disc(double east_m, double radius_m = 100) {
  return geo::Volume4D{
      geo::Volume3D{geo::Circle{geo::GeodesicDestination(
                                    testing::kReplicaCentre, 90, east_m),
                                radius_m},
                    {400, 500}},
      {kReplicaNow + absl::Minutes(10), kReplicaNow + absl::Minutes(40)}};
}

class TwoReplicas : public ::testing::Test {
 protected:
  TwoReplicas() : store_(MemoryStore()) {
    ledger_ = *ledger::LocalLedger::Open(store_.get());
    for (int i = 0; i < 2; ++i) {
      ledger::FollowerOptions fo;
      fo.poll = absl::Milliseconds(20);
      followers_[i] = std::make_unique<ledger::Follower>(ledger_.get(), fo);
      cores_[i] = std::make_unique<IntentCore>(IntentOptions(), &clock_);
      cores_[i]->UseLedger(ledger_.get(), followers_[i].get());
      cores_[i]->SetStateObserver([this, i](const Intent& intent) {
        absl::MutexLock lock(&observed_mu_);
        observed_[i].push_back(
            absl::StrCat(IntentStateName(intent.state), " v", intent.version));
      });
      cores_[i]->SetFilingObserver([this, i](const Intent& intent) {
        absl::MutexLock lock(&observed_mu_);
        filed_[i].push_back(absl::StrCat(intent.id, " v", intent.version));
      });
    }
  }
  std::vector<std::string> Filed(int i) {
    absl::MutexLock lock(&observed_mu_);
    return filed_[i];
  }
  std::vector<std::string> Observed(int i) {
    absl::MutexLock lock(&observed_mu_);
    return observed_[i];
  }
  void SetUp() override {
    ASSERT_TRUE(followers_[0]->Start().ok());
    ASSERT_TRUE(followers_[1]->Start().ok());
  }
  // The followers call into the cores: they stop before the cores go.
  ~TwoReplicas() override {
    for (auto& f : followers_) f->Stop();
  }

  SimulatedClock clock_{kReplicaNow};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ledger::LocalLedger> ledger_;
  std::unique_ptr<ledger::Follower> followers_[2];
  std::unique_ptr<IntentCore> cores_[2];
  absl::Mutex observed_mu_;
  // What each replica's state observer was told, in order.
  std::vector<std::string> observed_[2] ABSL_GUARDED_BY(observed_mu_);
  // What each replica's filing observer was told, in order.
  std::vector<std::string> filed_[2] ABSL_GUARDED_BY(observed_mu_);
};

TEST_F(TwoReplicas, EveryReplicaObservesEachFilingAndModificationOnce) {
  absl::StatusOr<WriteOutcome> filed =
      cores_[0]->File("op-a", {"", 0, {Disc(0)}});
  ASSERT_TRUE(filed.ok() && filed->accepted());
  const std::string id = filed->intent->id;
  // The writer has observed it before its caller hears of it.
  EXPECT_THAT(Filed(0), ElementsAre(id + " v1"));
  for (int i = 0; i < 200 && Filed(1).empty(); ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_THAT(Filed(1), ElementsAre(id + " v1"));
  ModifyRequest modify;
  modify.intent_id = id;
  modify.version = 1;
  modify.volumes = {Disc(300)};
  absl::StatusOr<WriteOutcome> modified = cores_[1]->Modify("op-a", modify);
  ASSERT_TRUE(modified.ok() && modified->accepted()) << modified.status();
  EXPECT_THAT(Filed(1), ElementsAre(id + " v1", id + " v2"));
  // A state change is the state observer's only.
  TransitionRequest activate;
  activate.intent_id = id;
  activate.version = 2;
  activate.to = IntentState::kActivated;
  absl::StatusOr<WriteOutcome> active = cores_[0]->Transition("op-a", activate);
  ASSERT_TRUE(active.ok() && active->accepted()) << active.status();
  EXPECT_THAT(Observed(0), ElementsAre("ACTIVATED v3"));
  EXPECT_THAT(Filed(0), ElementsAre(id + " v1", id + " v2"));
  for (int i = 0; i < 200 && Observed(1).empty(); ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_THAT(Filed(1), ElementsAre(id + " v1", id + " v2"));
}

TEST_F(TwoReplicas, EveryReplicaObservesEachStateChangeOnce) {
  absl::StatusOr<WriteOutcome> filed =
      cores_[0]->File("op-a", {"", 0, {Disc(0)}});
  ASSERT_TRUE(filed.ok() && filed->accepted());
  // Activated through replica 1, ended through replica 0.
  TransitionRequest activate;
  activate.intent_id = filed->intent->id;
  activate.version = 1;
  activate.to = IntentState::kActivated;
  absl::StatusOr<WriteOutcome> active = cores_[1]->Transition("op-a", activate);
  ASSERT_TRUE(active.ok()) << active.status();
  ASSERT_TRUE(active->accepted());
  // The writer has observed it before its caller hears of it.
  EXPECT_THAT(Observed(1), ElementsAre("ACTIVATED v2"));
  TransitionRequest end;
  end.intent_id = filed->intent->id;
  end.version = 2;
  end.to = IntentState::kEnded;
  absl::StatusOr<WriteOutcome> ended = cores_[0]->Transition("op-a", end);
  ASSERT_TRUE(ended.ok()) << ended.status();
  ASSERT_TRUE(ended->accepted());
  EXPECT_THAT(Observed(0), ElementsAre("ACTIVATED v2", "ENDED v3"));
  // Replica 1 learns of the end from the ledger (its follower polls).
  for (int i = 0; i < 200 && Observed(1).size() < 2; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_THAT(Observed(1), ElementsAre("ACTIVATED v2", "ENDED v3"));
  // A modification is no state change: nobody is told.
  absl::StatusOr<WriteOutcome> again =
      cores_[1]->File("op-a", {"", 0, {Disc(900)}});
  ASSERT_TRUE(again.ok() && again->accepted());
  ASSERT_TRUE(cores_[1]
                  ->Modify("op-a", {"", again->intent->id, 1, 0, {Disc(950)}})
                  .ok());
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_THAT(Observed(0), ElementsAre("ACTIVATED v2", "ENDED v3"));
  EXPECT_THAT(Observed(1), ElementsAre("ACTIVATED v2", "ENDED v3"));
}

TEST_F(TwoReplicas, AnIntentFiledOnOneBlocksTheOtherAtOnce) {
  absl::StatusOr<WriteOutcome> a = cores_[0]->File("op-a", {"", 10, {Disc(0)}});
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(a->accepted());
  // Replica 1 has not applied the filing yet (its follower polls), but its
  // decision is checked against the ledger: it is decided again and
  // rejected with the right explanation.
  absl::StatusOr<WriteOutcome> b = cores_[1]->File("op-b", {"", 10, {Disc(50)}});
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_FALSE(b->accepted());
  ASSERT_EQ(b->conflicts.size(), 1u);
  EXPECT_EQ(b->conflicts[0].intent_id, a->intent->id);
  // The reader's view: replica 1 knows the intent, owner hidden.
  absl::StatusOr<IntentView> seen = cores_[1]->Get("op-b", a->intent->id);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->intent.owner, "");
}

TEST_F(TwoReplicas, VersionsAndRequestIdsHoldAcrossReplicas) {
  absl::StatusOr<WriteOutcome> a =
      cores_[0]->File("op-a", {"req-1", 0, {Disc(0)}});
  ASSERT_TRUE(a.ok() && a->accepted());
  // A retry of the same request on the other replica replays the outcome.
  absl::StatusOr<WriteOutcome> again =
      cores_[1]->File("op-a", {"req-1", 0, {Disc(0)}});
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE(again->accepted());
  EXPECT_EQ(again->intent->id, a->intent->id);
  // ... and the same id for another request is refused there.
  EXPECT_EQ(cores_[1]->File("op-a", {"req-1", 0, {Disc(900)}}).status().code(),
            absl::StatusCode::kAlreadyExists);
  // Modify on replica 1, then a stale version on replica 0: ABORTED, naming
  // the current version (replica 0 catches up before saying so).
  absl::StatusOr<WriteOutcome> m = cores_[1]->Modify(
      "op-a", {"", a->intent->id, 1, 0, {Disc(300)}});
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_TRUE(m->accepted());
  absl::StatusOr<WriteOutcome> stale = cores_[0]->Modify(
      "op-a", {"", a->intent->id, 1, 0, {Disc(600)}});
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(stale.status().message(), HasSubstr("version 2"));
  // The right version works on replica 0 even before its follower polls.
  absl::StatusOr<WriteOutcome> fresh = cores_[0]->Modify(
      "op-a", {"", a->intent->id, 2, 0, {Disc(600)}});
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_TRUE(fresh->accepted());
  EXPECT_EQ(fresh->intent->version, 3);
}

TEST_F(TwoReplicas, FilingWithoutRetentionIsRefused) {
  FileRequest r{"", 0, {Disc(0)}};
  r.retain = false;
  absl::StatusOr<WriteOutcome> out = cores_[0]->File("op-a", r);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(out.status().message(), HasSubstr("retain"));
}

// Replicas share every intent through the ledger: an operator in Local
// Data Mode cannot file one there without it being kept, so it is refused,
// naming the mode; others file as usual.
TEST_F(TwoReplicas, LocalDataModeFilingIsRefused) {
  cores_[0]->SetLocalDataMode(
      [](const std::string& owner) { return owner == "op-local"; });
  absl::StatusOr<WriteOutcome> out =
      cores_[0]->File("op-local", {"", 0, {Disc(0)}});
  EXPECT_EQ(out.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(out.status().message(), HasSubstr("Local Data Mode"));
  absl::StatusOr<WriteOutcome> plain =
      cores_[0]->File("op-plain", {"", 0, {Disc(0)}});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_TRUE(plain->accepted());
}

// A replica paused between deciding and committing (a GC pause, SIGSTOP)
// cannot act on what it decided when it resumes: another replica took the
// airspace meanwhile, so its commit fails the guard and it decides again.
TEST(PausedReplica, DecidesAgainWhenItResumes) {
  for (bool guarded : {true, false}) {
    SCOPED_TRACE(guarded ? "guarded" : "without the guard");
    auto st = MemoryStore();
    auto ledger = *ledger::LocalLedger::Open(st.get());
    testing::UnguardedLedger unguarded(ledger.get(), absl::ZeroDuration());
    ledger::Ledger* shared =
        guarded ? static_cast<ledger::Ledger*>(ledger.get()) : &unguarded;
    testing::GatedLedger paused(shared);
    SimulatedClock clock(kReplicaNow);
    ledger::FollowerOptions fo;
    fo.poll = absl::Milliseconds(20);
    // Cores first: the followers, which call into them, go (and stop) first.
    IntentCore a(IntentOptions(), &clock), b(IntentOptions(), &clock);
    ledger::Follower fa(&paused, fo), fb(shared, fo);
    a.UseLedger(&paused, &fa);
    b.UseLedger(shared, &fb);
    ASSERT_TRUE(fa.Start().ok());
    ASSERT_TRUE(fb.Start().ok());

    paused.Close();
    absl::StatusOr<WriteOutcome> from_a;
    std::thread filing(
        [&] { from_a = a.File("op-a", {"", 0, {Disc(0)}}); });
    paused.AwaitWaiter();  // A decided "accepted" and is paused
    absl::StatusOr<WriteOutcome> from_b = b.File("op-b", {"", 0, {Disc(20)}});
    ASSERT_TRUE(from_b.ok()) << from_b.status();
    ASSERT_TRUE(from_b->accepted());
    paused.Open();
    filing.join();
    ASSERT_TRUE(from_a.ok()) << from_a.status();
    if (guarded) {
      EXPECT_FALSE(from_a->accepted());
      ASSERT_EQ(from_a->conflicts.size(), 1u);
      EXPECT_EQ(from_a->conflicts[0].intent_id, from_b->intent->id);
      EXPECT_GE(a.ledger_retries(), 1);
    } else {
      // The broken protocol lets both through: what the guard prevents.
      EXPECT_TRUE(from_a->accepted());
    }
    fa.Stop();
    fb.Stop();
  }
}

// An erasure decided on one replica while another commits a filing of the
// same operator: the filing precedes the erasure in the ledger, so the
// erasure must take it too (it is moved by the owner's guard key, decides
// again and erases the new intent). Without that key the erasure commits
// on its stale decision and the new intent survives it.
TEST(ErasingReplica, ErasesAFilingCommittedWhileItWasDeciding) {
  auto st = MemoryStore();
  auto ledger = *ledger::LocalLedger::Open(st.get());
  testing::GatedLedger paused(ledger.get());
  SimulatedClock clock(kReplicaNow);
  ledger::FollowerOptions fo;
  fo.poll = absl::Milliseconds(20);
  IntentCore a(IntentOptions(), &clock), b(IntentOptions(), &clock);
  ledger::Follower fa(&paused, fo), fb(ledger.get(), fo);
  a.UseLedger(&paused, &fa);
  b.UseLedger(ledger.get(), &fb);
  ASSERT_TRUE(fa.Start().ok());
  ASSERT_TRUE(fb.Start().ok());

  absl::StatusOr<WriteOutcome> before = b.File("op-e", {"", 0, {Disc(0)}});
  ASSERT_TRUE(before.ok() && before->accepted());
  ASSERT_TRUE(fa.CatchUp().ok());

  paused.Close();
  absl::StatusOr<int64_t> erased;
  std::thread erasing([&] { erased = a.EraseOwner("op-e"); });
  paused.AwaitWaiter();  // A decided to erase the one intent it knows
  absl::StatusOr<WriteOutcome> meanwhile =
      b.File("op-e", {"req-meanwhile", 0, {Disc(400)}});
  ASSERT_TRUE(meanwhile.ok()) << meanwhile.status();
  ASSERT_TRUE(meanwhile->accepted());
  paused.Open();
  erasing.join();
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(*erased, 2);
  EXPECT_GE(a.ledger_retries(), 1);
  ASSERT_TRUE(fb.CatchUp().ok());
  for (IntentCore* core : {&a, &b}) {
    EXPECT_EQ(core->Get("op-e", meanwhile->intent->id).status().code(),
              absl::StatusCode::kNotFound);
    EXPECT_EQ(core->Get("op-e", before->intent->id).status().code(),
              absl::StatusCode::kNotFound);
  }
  fa.Stop();
  fb.Stop();
}

TEST(IntentReplicaWorkload, ConcurrentReplicasKeepTheRules) {
  // The rules must hold in every round; rounds repeat (bounded) until the
  // replicas have raced at least once, which a loaded machine that runs the
  // clients one after another may not give the first time.
  int64_t retries = 0;
  for (int round = 0; round < 5 && retries == 0; ++round) {
    auto st = MemoryStore();
    auto ledger = *ledger::LocalLedger::Open(st.get());
    testing::ReplicaWorkloadResult r = testing::RunReplicaWorkload(
        [&](int) { return ledger.get(); }, testing::ReplicaWorkloadOptions());
    EXPECT_EQ(r.errors, 0) << r.first_error;
    EXPECT_GT(r.accepted, 50);
    EXPECT_GT(r.rejected, 10);
    EXPECT_GT(r.live, 20u);
    EXPECT_THAT(r.violations, IsEmpty());
    retries = r.retries;
  }
  EXPECT_GT(retries, 0) << "the replicas never raced; this proves nothing";
}

TEST(IntentReplicaWorkload, WithoutTheGuardTheRulesBreak) {
  // Rounds (bounded) until the broken protocol shows a violation: it needs
  // two writes to race inside the commit latency.
  bool broke = false;
  for (int round = 0; round < 5 && !broke; ++round) {
    auto st = MemoryStore();
    auto ledger = *ledger::LocalLedger::Open(st.get());
    testing::UnguardedLedger unguarded(ledger.get(), absl::Milliseconds(5));
    testing::ReplicaWorkloadResult r = testing::RunReplicaWorkload(
        [&](int) { return &unguarded; }, testing::ReplicaWorkloadOptions());
    EXPECT_EQ(r.errors, 0) << r.first_error;
    broke = !r.violations.empty();
  }
  EXPECT_TRUE(broke);
}

}  // namespace
}  // namespace utm::intent
