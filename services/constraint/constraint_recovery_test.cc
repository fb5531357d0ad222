// A restart rebuilds exactly the state before it: every constraint (with
// its version, volumes, schedule and activity), withdrawn ones gone, the
// change log (a watcher resuming from 0 sees the same events), queries and
// checks answering the same, and nothing written by the recovery itself;
// remembered requests, authorisations and transitions missed while down
// too, and a watcher resumes exactly where it was.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/geo_testing.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/store.h"
#include "services/constraint/constraint_core.h"
#include "services/constraint/constraint_testing.h"

namespace utm::constraint {
namespace {

namespace fs = std::filesystem;
using google::protobuf::util::MessageDifferencer;

using test_util::Area;
using test_util::kAuthority;
using test_util::kPilot;
using test_util::Zone;
using ::testing::SizeIs;

const absl::Time kT0 = test_util::kMonday10Utc;
const Caller kRescue{"op-rescue", false, false};

ConstraintOptions Options() {
  ConstraintOptions o;
  o.notify_thread = false;
  return o;
}

// A store that outlives each core, in a directory of the test's own.
class ConstraintRecoveryTest : public ::testing::Test {
 protected:
  std::unique_ptr<store::Store> Open() {
    absl::StatusOr<std::unique_ptr<store::Store>> s = dir_.Open();
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }

  const test_util::TempStore dir_{
      fs::path(::testing::TempDir()) /
      absl::StrCat(
          "constraint_recovery_", getpid(), "_",
          ::testing::UnitTest::GetInstance()->current_test_info()->name())};
  SimulatedClock clock_{kT0};
};

TEST_F(ConstraintRecoveryTest, EverythingSurvivesARestartAndResumeIsExact) {
  std::string kept, withdrawn, auth_id;
  int64_t client_seen = 0;
  {
    std::unique_ptr<store::Store> store = Open();
    ConstraintCore core(ConstraintOptions(), &clock_, store.get());
    ASSERT_TRUE(core.Recover().ok());
    v1::PublishConstraintRequest p;
    *p.mutable_constraint() = Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0);
    p.set_request_id("r1");
    kept = core.Publish(kAuthority, p)->constraint().id();
    client_seen = core.last_sequence();
    // Active only in the evening: a transition while the server is down.
    v1::Constraint evening = Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 100);
    v1::WeeklyWindow* w = evening.mutable_schedule()->add_weekly();
    w->add_days(v1::DAY_OF_WEEK_MONDAY);
    w->set_start_second_of_day(18 * 3600);
    w->set_end_second_of_day(86400);
    evening.mutable_schedule()->set_time_zone("UTC");
    *p.mutable_constraint() = evening;
    p.set_request_id("r2");
    withdrawn = core.Publish(kAuthority, p)->constraint().id();
    v1::GrantAuthorisationRequest g;
    g.set_constraint_id(kept);
    g.set_operator_id("op-rescue");
    *g.mutable_window()->mutable_start() = TimeToProto(kT0);
    *g.mutable_window()->mutable_end() = TimeToProto(kT0 + absl::Hours(48));
    auth_id = core.Grant(kAuthority, g)->authorisation().id();
  }
  clock_.Advance(absl::Hours(9));  // 19:00: the evening zone is active
  std::unique_ptr<store::Store> store = Open();
  ConstraintCore core(ConstraintOptions(), &clock_, store.get());
  absl::Status recovered = core.Recover();
  ASSERT_TRUE(recovered.ok()) << recovered;
  EXPECT_EQ(core.constraint_count(), 2u);
  EXPECT_EQ(core.last_sequence(), 2);
  // A retried request replays its first answer.
  v1::PublishConstraintRequest p;
  *p.mutable_constraint() = Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0);
  p.set_request_id("r1");
  EXPECT_EQ(core.Publish(kAuthority, p)->constraint().id(), kept);
  EXPECT_EQ(core.constraint_count(), 2u);
  // Authorisations survived.
  v1::ListAuthorisationsRequest list;
  ASSERT_THAT(core.ListAuthorisations(kRescue, list)->authorisations(),
              SizeIs(1));
  // The transition missed while down is logged on the first tick.
  ASSERT_EQ(*core.Tick(), 1);
  EXPECT_EQ(core.last_sequence(), 3);
  // The client resumes from what it had seen before the restart.
  v1::WatchConstraintsRequest request;
  *request.mutable_area() = Area(0, 1000);
  request.set_since_sequence(client_seen);
  absl::StatusOr<std::shared_ptr<Watcher>> w =
      core.Watch(kPilot, request, nullptr);
  ASSERT_TRUE(w.ok());
  std::vector<v1::ConstraintEvent> events;
  EventPtr e;
  while (core.NextEvent(w->get(), &e)) events.push_back(*e);
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[0].sequence(), 2);
  EXPECT_EQ(events[0].upsert().id(), withdrawn);
  EXPECT_FALSE(events[0].upsert().active());  // as it was at 10:00
  EXPECT_EQ(events[1].sequence(), 3);
  EXPECT_EQ(events[1].activity_changed().constraint_id(), withdrawn);
  EXPECT_TRUE(events[1].activity_changed().active());
  EXPECT_EQ(events[1].event_time().seconds(),
            absl::ToUnixSeconds(kT0 + absl::Hours(8)));
}

class RecoveryStateTest : public ConstraintRecoveryTest {
 protected:
  // Everything a client can read: each constraint by id, the area's query
  // (all pages), and the watch replay from the start of the log.
  struct State {
    std::vector<v1::Constraint> constraints;  // by the ids given
    std::vector<v1::Constraint> queried;
    std::vector<v1::ConstraintEvent> replay;
    int64_t last_sequence = 0;
  };
  State Read(ConstraintCore& core, const std::vector<std::string>& ids) {
    State s;
    for (const std::string& id : ids) {
      v1::GetConstraintRequest get;
      get.set_constraint_id(id);
      absl::StatusOr<v1::GetConstraintResponse> r = core.Get(get);
      if (r.ok()) {
        s.constraints.push_back(r->constraint());
      } else {
        EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound) << id;
        s.constraints.emplace_back();  // gone
      }
    }
    v1::QueryConstraintsRequest query;
    v1::Circle* c =
        query.mutable_area()->mutable_volume()->mutable_outline_circle();
    c->mutable_center()->set_lat_deg(geo::test_util::kZurich.lat_deg);
    c->mutable_center()->set_lng_deg(geo::test_util::kZurich.lng_deg);
    c->set_radius_m(100000);
    query.set_page_size(1000);
    for (int page = 0; page < 100; ++page) {
      absl::StatusOr<v1::QueryConstraintsResponse> r = core.Query(query);
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) break;
      for (const v1::Constraint& q : r->constraints()) s.queried.push_back(q);
      if (r->next_page_token().empty()) break;
      query.set_page_token(r->next_page_token());
    }
    v1::WatchConstraintsRequest watch;
    *watch.mutable_area() = query.area();
    watch.set_since_sequence(1);  // replay the log, not a snapshot
    absl::StatusOr<std::shared_ptr<Watcher>> w =
        core.Watch(kPilot, watch, nullptr);
    EXPECT_TRUE(w.ok()) << w.status();
    if (w.ok()) {
      EventPtr e;
      while (core.NextEvent(w->get(), &e)) {
        if (e->has_heartbeat()) continue;
        s.replay.push_back(*e);
      }
      core.Unwatch(w->get());
    }
    s.last_sequence = core.last_sequence();
    return s;
  }

  static void ExpectSame(const std::vector<v1::Constraint>& before,
                         const std::vector<v1::Constraint>& after,
                         const char* what) {
    ASSERT_EQ(before.size(), after.size()) << what;
    for (size_t i = 0; i < before.size(); ++i) {
      std::string diff;
      MessageDifferencer d;
      d.ReportDifferencesToString(&diff);
      EXPECT_TRUE(d.Compare(before[i], after[i]))
          << what << "[" << i << "] (" << before[i].id() << "): " << diff;
    }
  }
};

TEST_F(RecoveryStateTest, ReplayedStateEqualsTheStateBeforeRestart) {
  constexpr int kConstraints = 300;  // 3 of them 2,000-vertex polygons
  std::vector<std::string> ids;
  State before;
  {
    std::unique_ptr<store::Store> store = Open();
    ConstraintCore core(Options(), &clock_, store.get());
    ASSERT_TRUE(core.Recover().ok());
    for (int k = 0; k < kConstraints; ++k) {
      v1::PublishConstraintRequest p;
      *p.mutable_constraint() = test_util::NationalMix(k);
      absl::StatusOr<v1::PublishConstraintResponse> r =
          core.Publish(kAuthority, p);
      ASSERT_TRUE(r.ok()) << k << ": " << r.status();
      ids.push_back(r->constraint().id());
    }
    // Later versions: every 10th gets a new ceiling and an all-day
    // Saturday; every 25th is withdrawn.
    for (int k = 0; k < kConstraints; k += 10) {
      v1::GetConstraintRequest get;
      get.set_constraint_id(ids[k]);
      v1::UpdateConstraintRequest u;
      *u.mutable_constraint() = core.Get(get)->constraint();
      u.mutable_constraint()->clear_active();
      u.mutable_constraint()
          ->mutable_volumes(0)
          ->mutable_volume()
          ->mutable_altitude_upper()
          ->set_value_m(1500);
      v1::Schedule* s = u.mutable_constraint()->mutable_schedule();
      s->clear_weekly();
      v1::WeeklyWindow* w = s->add_weekly();
      w->add_days(v1::DAY_OF_WEEK_SATURDAY);
      w->set_start_second_of_day(0);
      w->set_end_second_of_day(86400);
      s->set_time_zone("UTC");
      absl::StatusOr<v1::UpdateConstraintResponse> r =
          core.Update(kAuthority, u);
      ASSERT_TRUE(r.ok()) << k << ": " << r.status();
      EXPECT_EQ(r->constraint().version(), 2);
    }
    for (int k = 5; k < kConstraints; k += 25) {
      v1::WithdrawConstraintRequest wd;
      wd.set_constraint_id(ids[k]);
      wd.set_version(k % 10 == 0 ? 2 : 1);
      ASSERT_TRUE(core.Withdraw(kAuthority, wd).ok()) << k;
    }
    // Schedule transitions before the restart are part of the log too.
    clock_.Advance(absl::Hours(9));  // 19:00 local: weekday windows close
    ASSERT_TRUE(core.Tick().ok());
    before = Read(core, ids);
  }
  ASSERT_GT(before.replay.size(), static_cast<size_t>(kConstraints));

  std::unique_ptr<store::Store> store = Open();
  ConstraintCore core(Options(), &clock_, store.get());
  ASSERT_TRUE(core.Recover().ok());
  EXPECT_EQ(core.constraint_count(),
            static_cast<size_t>(kConstraints - kConstraints / 25));
  const State after = Read(core, ids);
  EXPECT_EQ(after.last_sequence, before.last_sequence);
  ExpectSame(before.constraints, after.constraints, "constraints");
  ExpectSame(before.queried, after.queried, "query");
  ASSERT_EQ(before.replay.size(), after.replay.size());
  for (size_t i = 0; i < before.replay.size(); ++i) {
    std::string diff;
    MessageDifferencer d;
    d.ReportDifferencesToString(&diff);
    EXPECT_TRUE(d.Compare(before.replay[i], after.replay[i]))
        << "event " << i << ": " << diff;
  }
  // Nothing was due while it was down: the first tick logs nothing.
  EXPECT_EQ(*core.Tick(), 0);
  EXPECT_EQ(core.last_sequence(), before.last_sequence);
}

}  // namespace
}  // namespace utm::constraint
