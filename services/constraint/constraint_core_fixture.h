// The fixture of the ConstraintCore tests (constraint_core_test.cc,
// constraint_watch_test.cc): a core on a simulated clock, wired to a real
// intent core both ways, without a store; and helpers to publish, file,
// watch and describe events compactly. Test-only.
//
// With UTM_CONSTRAINT_REPLICATED=1 in the environment, the core runs in
// replicated mode instead: a read model of a ledger (the local backend over
// a memory store) kept current by a follower, every write committed through
// it. CMake runs the same tests both ways, so every rule the single process
// keeps is checked on the replicated path too.
#ifndef UTM_SERVICES_CONSTRAINT_CONSTRAINT_CORE_FIXTURE_H_
#define UTM_SERVICES_CONSTRAINT_CONSTRAINT_CORE_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/local_ledger.h"
#include "services/common/store.h"
#include "services/constraint/constraint_core.h"
#include "services/constraint/constraint_testing.h"
#include "services/intent/intent_core.h"

namespace utm::constraint::test_util {

inline const absl::Time kT0 = kMonday10Utc;
inline const Caller kOtherAuthority{"de-lba", true, false};
inline const Caller kRescue{"op-rescue", false, false};

class ConstraintCoreTest : public ::testing::Test {
 protected:
  ConstraintCoreTest()
      : clock_(kT0),
        core_(std::make_unique<ConstraintCore>(Options(), &clock_)),
        intents_(intent::IntentOptions(), &clock_) {
    Wire();
  }

  static ConstraintOptions Options() {
    ConstraintOptions o;
    o.watcher_queue_limit = 8;
    o.notify_thread = false;
    return o;
  }

  ~ConstraintCoreTest() override {
    if (follower_ != nullptr) follower_->Stop();
  }

  static bool Replicated() {
    const char* v = std::getenv("UTM_CONSTRAINT_REPLICATED");
    return v != nullptr && std::string(v) == "1";
  }

  // A new core with `options` (the follower of the old one, if any, stopped
  // first: it calls into the core).
  void Rebuild(const ConstraintOptions& options) {
    if (follower_ != nullptr) follower_->Stop();
    core_ = std::make_unique<ConstraintCore>(options, &clock_);
    Wire();
  }

  void Wire() {
    intents_.SetConstraintChecker(core_.get());
    core_->SetIntentLookup([this](const std::vector<geo::Volume4D>& v) {
      return intents_.Overlapping(v);
    });
    if (!Replicated()) return;
    // A fresh ledger for each core, as a core without a store starts empty.
    store::StoreOptions memory;
    memory.backend = "memory";
    store_ = *store::OpenStore(memory);
    ledger_ = *ledger::LocalLedger::Open(store_.get());
    ledger::FollowerOptions fo;
    fo.poll = absl::Milliseconds(20);
    follower_ = std::make_unique<ledger::Follower>(ledger_.get(), fo);
    core_->UseLedger(ledger_.get(), follower_.get());
    absl::Status started = follower_->Start();
    EXPECT_TRUE(started.ok()) << started;
  }

  v1::Constraint Publish(const v1::Constraint& c,
                         const Caller& caller = kAuthority) {
    v1::PublishConstraintRequest request;
    *request.mutable_constraint() = c;
    absl::StatusOr<v1::PublishConstraintResponse> r =
        core_->Publish(caller, request);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->constraint() : v1::Constraint();
  }

  absl::StatusOr<intent::WriteOutcome> File(
      const std::string& owner, std::vector<geo::Volume4D> volumes) {
    intent::FileRequest request;
    request.volumes = std::move(volumes);
    return intents_.File(owner, request);
  }

  std::shared_ptr<Watcher> Watch(const Caller& caller, v1::Volume4D area,
                                 int64_t since = 0) {
    v1::WatchConstraintsRequest request;
    *request.mutable_area() = std::move(area);
    request.set_since_sequence(since);
    absl::StatusOr<std::shared_ptr<Watcher>> w =
        core_->Watch(caller, request, [this] { ++notifications_; });
    EXPECT_TRUE(w.ok()) << w.status();
    return w.ok() ? *w : nullptr;
  }

  std::vector<v1::ConstraintEvent> Drain(Watcher* w) {
    if (follower_ != nullptr) {
      // Replicated: changes reach watchers once the ledger confirms them
      // durable, which the follower hears a moment after applying them.
      EXPECT_TRUE(follower_->CatchUp().ok());
      const uint64_t applied = follower_->applied().seq;
      for (int i = 0; i < 2000 && follower_->durable() < applied; ++i) {
        absl::SleepFor(absl::Milliseconds(1));
      }
    }
    std::vector<v1::ConstraintEvent> out;
    EventPtr e;
    while (core_->NextEvent(w, &e)) out.push_back(*e);
    return out;
  }

 public:
  // A compact description of events: "begin", "upsert:<id>", "end:<n>",
  // "removed:<id>:<reason>", "activity:<id>:<0|1>", "affected:<ids>", ...
  static std::vector<std::string> Describe(
      const std::vector<v1::ConstraintEvent>& events) {
    std::vector<std::string> out;
    for (const v1::ConstraintEvent& e : events) {
      switch (e.event_case()) {
        case v1::ConstraintEvent::kSnapshotBegin:
          out.push_back("begin");
          break;
        case v1::ConstraintEvent::kSnapshotEnd:
          out.push_back(absl::StrCat("end:", e.snapshot_end().count()));
          break;
        case v1::ConstraintEvent::kUpsert:
          out.push_back(absl::StrCat("upsert:", e.upsert().id(), ":v",
                                     e.upsert().version()));
          break;
        case v1::ConstraintEvent::kRemoved:
          out.push_back(absl::StrCat(
              "removed:", e.removed().constraint_id(), ":",
              v1::ConstraintRemovedReason_Name(e.removed().reason())));
          break;
        case v1::ConstraintEvent::kActivityChanged:
          out.push_back(
              absl::StrCat("activity:", e.activity_changed().constraint_id(),
                           ":", e.activity_changed().active()));
          break;
        case v1::ConstraintEvent::kHeartbeat:
          out.push_back(absl::StrCat("heartbeat:", e.sequence()));
          break;
        case v1::ConstraintEvent::kResyncRequired:
          out.push_back(absl::StrCat(
              "resync:", v1::ResyncReason_Name(e.resync_required().reason())));
          break;
        case v1::ConstraintEvent::kIntentsAffected:
          out.push_back(absl::StrCat(
              "affected:", e.intents_affected().constraint_id(), ":",
              absl::StrJoin(e.intents_affected().intent_ids(), ",")));
          break;
        default:
          out.push_back("?");
      }
    }
    return out;
  }

 protected:
  SimulatedClock clock_;
  std::unique_ptr<ConstraintCore> core_;
  intent::IntentCore intents_;
  int notifications_ = 0;
  // Replicated mode only.
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ledger::LocalLedger> ledger_;
  std::unique_ptr<ledger::Follower> follower_;
};

}  // namespace utm::constraint::test_util

#endif  // UTM_SERVICES_CONSTRAINT_CONSTRAINT_CORE_FIXTURE_H_
