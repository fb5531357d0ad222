// ConstraintCore's watches: a snapshot then the changes of the watched area
// only, exact resumption from a sequence, resync when it is no longer
// retained or the watcher is too slow, schedule transitions, expiry and
// heartbeats.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/constraint/constraint_core.h"
#include "services/constraint/constraint_core_fixture.h"
#include "services/constraint/constraint_testing.h"

namespace utm::constraint {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

using test_util::Area;
using test_util::ConstraintCoreTest;
using test_util::Cylinder;
using test_util::kAuthority;
using test_util::kPilot;
using test_util::kRescue;
using test_util::kT0;
using test_util::Zone;

TEST_F(ConstraintCoreTest, SnapshotThenLiveChangesOfTheWatchedAreaOnly) {
  const v1::Constraint a = Publish(Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0));
  Publish(Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 30000));  // elsewhere
  std::shared_ptr<Watcher> w = Watch(kPilot, Area(0, 2000));
  std::vector<v1::ConstraintEvent> events = Drain(w.get());
  EXPECT_THAT(
      Describe(events),
      ElementsAre("begin", absl::StrCat("upsert:", a.id(), ":v1"), "end:1"));
  for (const v1::ConstraintEvent& e : events) EXPECT_EQ(e.sequence(), 2);

  // Live: a new zone inside, one outside, an update moving `a` away, then
  // a withdrawal of the new one.
  const v1::Constraint b = Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, 1000));
  Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, 40000));
  v1::UpdateConstraintRequest move;
  *move.mutable_constraint() = Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 20000);
  move.mutable_constraint()->set_id(a.id());
  move.mutable_constraint()->set_version(1);
  ASSERT_TRUE(core_->Update(kAuthority, move).ok());
  v1::WithdrawConstraintRequest withdraw;
  withdraw.set_constraint_id(b.id());
  withdraw.set_version(1);
  ASSERT_TRUE(core_->Withdraw(kAuthority, withdraw).ok());
  events = Drain(w.get());
  EXPECT_THAT(
      Describe(events),
      ElementsAre(absl::StrCat("upsert:", b.id(), ":v1"),
                  absl::StrCat("removed:", a.id(),
                               ":CONSTRAINT_REMOVED_REASON_LEFT_AREA"),
                  absl::StrCat("removed:", b.id(),
                               ":CONSTRAINT_REMOVED_REASON_WITHDRAWN")));
  EXPECT_EQ(events[0].sequence(), 3);
  EXPECT_EQ(events[1].sequence(), 5);
  EXPECT_EQ(events[2].sequence(), 6);
  EXPECT_GT(notifications_, 0);
}

TEST_F(ConstraintCoreTest, ResumeCatchesUpExactlyWithNoGapNoDuplicate) {
  std::shared_ptr<Watcher> w = Watch(kPilot, Area(0, 5000));
  Drain(w.get());
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(Publish(Zone(v1::CONSTRAINT_TYPE_PROHIBITED, i * 200)).id());
  }
  std::vector<v1::ConstraintEvent> seen = Drain(w.get());
  ASSERT_THAT(seen, SizeIs(3));
  const int64_t last_seen = seen[1].sequence();  // the client stopped here
  core_->Unwatch(w.get());

  // While disconnected: two more changes in the area, one outside.
  ids.push_back(Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, 100)).id());
  Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, 40000));
  v1::WithdrawConstraintRequest withdraw;
  withdraw.set_constraint_id(ids[0]);
  withdraw.set_version(1);
  ASSERT_TRUE(core_->Withdraw(kAuthority, withdraw).ok());

  std::shared_ptr<Watcher> resumed = Watch(kPilot, Area(0, 5000), last_seen);
  std::vector<v1::ConstraintEvent> replay = Drain(resumed.get());
  EXPECT_THAT(
      Describe(replay),
      ElementsAre(absl::StrCat("upsert:", ids[2], ":v1"),
                  absl::StrCat("upsert:", ids[3], ":v1"),
                  absl::StrCat("removed:", ids[0],
                               ":CONSTRAINT_REMOVED_REASON_WITHDRAWN")));
  // And live from there, without repeating anything.
  const std::string next =
      Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, 300)).id();
  EXPECT_THAT(Describe(Drain(resumed.get())),
              ElementsAre(absl::StrCat("upsert:", next, ":v1")));
  // Resuming at the head gives nothing; ahead of the log, a resync.
  std::shared_ptr<Watcher> head =
      Watch(kPilot, Area(0, 5000), core_->last_sequence());
  EXPECT_THAT(Drain(head.get()), IsEmpty());
  std::shared_ptr<Watcher> ahead =
      Watch(kPilot, Area(0, 5000), core_->last_sequence() + 5);
  std::vector<std::string> described = Describe(Drain(ahead.get()));
  ASSERT_GE(described.size(), 3u);
  EXPECT_EQ(described[0], "resync:RESYNC_REASON_SEQUENCE_UNKNOWN");
  EXPECT_EQ(described[1], "begin");
}

TEST_F(ConstraintCoreTest, ExpiredSequenceGetsResyncAndSnapshot) {
  ConstraintOptions options = Options();
  options.change_log_retention = 3;
  Rebuild(options);
  for (int i = 0; i < 6; ++i) Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, i));
  std::shared_ptr<Watcher> w = Watch(kPilot, Area(0, 5000), 1);
  std::vector<std::string> d = Describe(Drain(w.get()));
  ASSERT_THAT(d, SizeIs(9));
  EXPECT_EQ(d[0], "resync:RESYNC_REASON_SEQUENCE_EXPIRED");
  EXPECT_EQ(d[1], "begin");
  EXPECT_EQ(d[8], "end:6");
  // The oldest resumable point still replays.
  std::shared_ptr<Watcher> ok = Watch(kPilot, Area(0, 5000), 3);
  EXPECT_THAT(Drain(ok.get()), SizeIs(3));
}

TEST_F(ConstraintCoreTest, SlowWatcherIsToldToResyncOthersUnaffected) {
  std::shared_ptr<Watcher> slow = Watch(kPilot, Area(0, 5000));
  std::shared_ptr<Watcher> fast = Watch(kRescue, Area(0, 5000));
  Drain(slow.get());
  Drain(fast.get());
  int fast_seen = 0;
  for (int i = 0; i < 20; ++i) {  // limit is 8
    Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, i * 10));
    fast_seen += Drain(fast.get()).size();
  }
  EXPECT_EQ(fast_seen, 20);
  std::vector<v1::ConstraintEvent> events = Drain(slow.get());
  // It was told (more than once: every overflow restarts it), and the queue
  // never held more than the limit plus a snapshot.
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].resync_required().reason(),
            v1::RESYNC_REASON_WATCHER_TOO_SLOW);
  EXPECT_LE(events.size(), 8u + 20u + 3u);
  // A client applying the stream (a resync clears its cache) ends with every
  // constraint: nothing was silently lost.
  std::set<std::string> cache;
  for (const v1::ConstraintEvent& e : events) {
    if (e.has_resync_required()) cache.clear();
    if (e.has_upsert()) cache.insert(e.upsert().id());
  }
  EXPECT_EQ(cache.size(), 20u);
  EXPECT_EQ(events.back().sequence(), core_->last_sequence());
  // Then live again.
  Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, 500));
  EXPECT_THAT(Drain(slow.get()), SizeIs(1));
}

TEST_F(ConstraintCoreTest, ScheduleTransitionsExpiryAndHeartbeats) {
  // Active 10:30-11:00 UTC on Mondays, until the end of the day.
  v1::Constraint c = Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0);
  v1::WeeklyWindow* w = c.mutable_schedule()->add_weekly();
  w->add_days(v1::DAY_OF_WEEK_MONDAY);
  w->set_start_second_of_day(10 * 3600 + 1800);
  w->set_end_second_of_day(11 * 3600);
  c.mutable_schedule()->set_time_zone("UTC");
  *c.mutable_schedule()->mutable_absolute()->mutable_end() =
      TimeToProto(kT0 + absl::Hours(14));
  c = Publish(c);
  EXPECT_FALSE(c.active());
  v1::WatchConstraintsRequest request;
  *request.mutable_area() = Area(0, 1000);
  request.mutable_heartbeat_interval()->set_seconds(30);
  absl::StatusOr<std::shared_ptr<Watcher>> w1 =
      core_->Watch(kPilot, request, nullptr);
  ASSERT_TRUE(w1.ok());
  Drain(w1->get());

  clock_.Advance(absl::Minutes(31));  // 10:31
  ASSERT_EQ(*core_->Tick(), 1);
  std::vector<v1::ConstraintEvent> events = Drain(w1->get());
  ASSERT_THAT(Describe(events),
              ElementsAre(absl::StrCat("activity:", c.id(), ":1")));
  EXPECT_EQ(events[0].event_time().seconds(),
            absl::ToUnixSeconds(kT0 + absl::Minutes(30)));
  // The next change is the end of the window (closed: the instant after).
  EXPECT_EQ(events[0].activity_changed().next_change_time().seconds(),
            absl::ToUnixSeconds(kT0 + absl::Hours(1)));
  absl::StatusOr<intent::WriteOutcome> out =
      File("op-1",
           {Cylinder(0, 50, kT0 + absl::Minutes(35), kT0 + absl::Minutes(40))});
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->accepted());

  // Idle: a heartbeat after 30 s, carrying the sequence.
  clock_.Advance(absl::Seconds(31));
  ASSERT_EQ(*core_->Tick(), 0);
  EXPECT_THAT(Describe(Drain(w1->get())),
              ElementsAre(absl::StrCat("heartbeat:", core_->last_sequence())));

  clock_.Advance(absl::Minutes(30));  // 11:02
  ASSERT_EQ(*core_->Tick(), 1);
  EXPECT_THAT(Describe(Drain(w1->get())),
              ElementsAre(absl::StrCat("activity:", c.id(), ":0")));
  clock_.Advance(absl::Hours(13));  // past the absolute end
  ASSERT_EQ(*core_->Tick(), 1);
  EXPECT_THAT(Describe(Drain(w1->get())),
              ElementsAre(absl::StrCat("removed:", c.id(),
                                       ":CONSTRAINT_REMOVED_REASON_EXPIRED")));
  // Expired zones are not in later snapshots.
  std::shared_ptr<Watcher> later = Watch(kPilot, Area(0, 1000));
  EXPECT_THAT(Describe(Drain(later.get())), ElementsAre("begin", "end:0"));
}

}  // namespace
}  // namespace utm::constraint
