// For the tests of replicated constraint cores (header-only, test-only):
// a replica as utmd wires one (an IntentCore and a ConstraintCore on one
// follower, each checking the other), a ledger that breaks the constraint
// tier's guard on purpose, and a mixed workload of filings and publishes on
// several replicas judged afterwards. Shared by the tests of the local and
// the Redis ledger.
#ifndef UTM_SERVICES_CONSTRAINT_CONSTRAINT_REPLICA_TESTING_H_
#define UTM_SERVICES_CONSTRAINT_CONSTRAINT_REPLICA_TESTING_H_

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/forwarding_ledger.h"
#include "services/constraint/constraint_core.h"
#include "services/constraint/constraint_core_fixture.h"
#include "services/intent/intent_core.h"

namespace utm::constraint::test_util {

// A ledger that drops the area keys from the constraint tier's commits: a
// publish no longer tells intents decided concurrently elsewhere that their
// airspace changed. The broken protocol the race test must catch.
// `latency` before each commit stands for the network round trip a local
// ledger does not have, which is when replicas race.
class AreaBlindLedger final : public ledger::ForwardingLedger {
 public:
  explicit AreaBlindLedger(ledger::Ledger* inner,
                           absl::Duration latency = absl::ZeroDuration())
      : ForwardingLedger(inner), latency_(latency) {}
  void Commit(ledger::Guard guard, std::vector<store::Mutation> mutations,
              Done done) override {
    absl::SleepFor(latency_);
    bool constraint_tier = false;
    for (const std::string& k : guard.writes) constraint_tier |= k == "c/log";
    if (constraint_tier) guard.writes = {"c/log"};
    inner()->Commit(std::move(guard), std::move(mutations), std::move(done));
  }

 private:
  const absl::Duration latency_;
};

struct Replica {
  std::unique_ptr<ledger::Ledger> view;  // the replica's way to the ledger
  std::unique_ptr<ledger::Follower> follower;
  std::unique_ptr<intent::IntentCore> intents;
  std::unique_ptr<ConstraintCore> constraints;
};

// Until `follower` has applied everything committed and heard that it is
// durable (watchers are handed changes only then). Bounded.
inline void Settle(ledger::Follower* follower) {
  EXPECT_TRUE(follower->CatchUp().ok());
  const uint64_t applied = follower->applied().seq;
  for (int i = 0; i < 2000 && follower->durable() < applied; ++i) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_GE(follower->durable(), applied);
}

// A replica on `ledger` (not owned), wired as utmd wires one; its follower
// started. Stop the follower before the cores go.
inline Replica MakeReplica(ledger::Ledger* ledger, const Clock* clock,
                           ConstraintOptions options = {}) {
  Replica r;
  ledger::FollowerOptions fo;
  fo.poll = absl::Milliseconds(20);
  r.follower = std::make_unique<ledger::Follower>(ledger, fo);
  r.intents =
      std::make_unique<intent::IntentCore>(intent::IntentOptions(), clock);
  options.notify_thread = false;
  r.constraints = std::make_unique<ConstraintCore>(options, clock);
  r.intents->UseLedger(ledger, r.follower.get());
  r.constraints->UseLedger(ledger, r.follower.get());
  r.intents->SetConstraintChecker(r.constraints.get());
  intent::IntentCore* intents = r.intents.get();
  r.constraints->SetIntentLookup(
      [intents](const std::vector<geo::Volume4D>& v) {
        return intents->Overlapping(v);
      });
  absl::Status started = r.follower->Start();
  EXPECT_TRUE(started.ok()) << started;
  return r;
}

// Many clients on three replicas file intents and publish and withdraw
// PROHIBITED zones concurrently. Afterwards, every live intent that a live
// zone blocks was reported as affected by that zone's publish: never both
// accepted silently.
struct MixedResult {
  int accepted = 0;
  int blocked_live = 0;
  std::vector<std::string> silent;  // intent and zone, neither told
};

// One round on the stretch of airspace `offset_m` east of the centre.
inline MixedResult RunMixedWorkload(std::deque<Replica>& replicas_,
                                    double offset_m = 0) {
  MixedResult result;
  absl::Mutex mu;
  std::map<std::string, std::set<std::string>> reported;  // zone -> intents
  std::atomic<int> accepted{0}, published{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      std::mt19937_64 rng(c);
      std::uniform_real_distribution<double> east(offset_m, offset_m + 6000);
      for (int k = 0; k < 15; ++k) {
        Replica& r = replicas_[(c + k) % 3];
        if (c % 4 == 0) {
          if (k % 3 != 0) continue;  // 10 zones a round
          v1::PublishConstraintRequest request;
          *request.mutable_constraint() =
              Zone(v1::CONSTRAINT_TYPE_PROHIBITED, east(rng), 200);
          absl::StatusOr<v1::PublishConstraintResponse> z =
              r.constraints->Publish(kAuthority, request);
          if (!z.ok()) {
            ADD_FAILURE() << z.status();
            return;
          }
          ++published;
          absl::MutexLock lock(&mu);
          std::set<std::string>& ids = reported[z->constraint().id()];
          for (const v1::Conflict& conflict : z->affected_intents()) {
            ids.insert(conflict.intent().id());
          }
        } else {
          absl::StatusOr<intent::WriteOutcome> filed =
              r.intents->File(absl::StrCat("op-", c),
                              {"",
                               10,
                               {Cylinder(east(rng), 100, kT0 + absl::Minutes(5),
                                         kT0 + absl::Minutes(20))}});
          if (!filed.ok()) {
            ADD_FAILURE() << filed.status();
            return;
          }
          if (filed->accepted()) ++accepted;
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  Replica& judge = replicas_[0];
  EXPECT_TRUE(judge.follower->CatchUp().ok());
  for (const intent::OverlappingIntent& o :
       judge.intents->Overlapping({Cylinder(offset_m + 3000, 3500, kT0,
                                            kT0 + absl::Hours(1), 0, 2000)})) {
    absl::StatusOr<intent::IntentView> view =
        judge.intents->Get(o.owner, o.intent_id);
    if (!view.ok()) {
      ADD_FAILURE() << view.status();
      continue;
    }
    std::vector<intent::Conflict> blocking, advisory;
    judge.constraints->Check(o.owner, view->intent.volumes, &blocking,
                             &advisory);
    for (const intent::Conflict& conflict : blocking) {
      ++result.blocked_live;
      absl::MutexLock lock(&mu);
      if (!reported[conflict.constraint_id].count(o.intent_id)) {
        result.silent.push_back(absl::StrCat(
            "intent ", o.intent_id, " in zone ", conflict.constraint_id));
      }
    }
  }
  EXPECT_EQ(published.load(), 10);
  result.accepted = accepted.load();
  return result;
}

}  // namespace utm::constraint::test_util

#endif  // UTM_SERVICES_CONSTRAINT_CONSTRAINT_REPLICA_TESTING_H_
