#include "services/operator/flight_log.h"

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/file_testing.h"
#include "services/common/store.h"
#include "services/common/volume_convert.h"
#include "utm/internal/flight_log_storage.pb.h"

namespace utm::fleet {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

// A policy the test changes while flights are recorded.
class SettablePolicies final : public DataPolicies {
 public:
  DataPolicy For(absl::string_view op) const override {
    absl::MutexLock lock(&mu_);
    DataPolicy p = policy_;
    if (local_.count(std::string(op)) > 0) p.local_only = true;
    return p;
  }
  void Set(DataPolicy p) {
    absl::MutexLock lock(&mu_);
    policy_ = p;
  }
  // `op` alone in Local Data Mode.
  void SetLocal(const std::string& op) {
    absl::MutexLock lock(&mu_);
    local_.insert(op);
  }

 private:
  mutable absl::Mutex mu_;
  DataPolicy policy_;
  std::set<std::string> local_;
};

v1::PositionReport Report(const std::string& aircraft,
                          const std::string& intent, absl::Time t, int i) {
  v1::PositionReport r;
  r.set_aircraft_id(aircraft);
  r.set_intent_id(intent);
  *r.mutable_time() = TimeToProto(t);
  r.mutable_position()->set_lat_deg(47.0 + 1e-5 * i);
  r.mutable_position()->set_lng_deg(8.0 + 2e-5 * i);
  r.mutable_altitude()->set_value_m(500 + 0.5 * i);
  r.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  r.mutable_velocity()->set_north_mps(1.1);
  r.mutable_velocity()->set_east_mps(2.2);
  r.mutable_velocity()->set_up_mps(0.5);
  r.mutable_accuracy()->set_horizontal_m(3);
  r.mutable_accuracy()->set_vertical_m(4);
  return r;
}

v1::FlightIntent Intent(const std::string& owner, const std::string& id,
                        v1::IntentState state, int64_t version,
                        absl::Time when) {
  v1::FlightIntent intent;
  intent.set_id(id);
  intent.set_owner(owner);
  intent.set_state(state);
  intent.set_version(version);
  intent.set_priority(7);
  *intent.mutable_update_time() = TimeToProto(when);
  v1::Volume4D* v = intent.add_volumes();
  *v->mutable_time_start() = TimeToProto(kStart);
  *v->mutable_time_end() = TimeToProto(kStart + absl::Hours(1));
  intent.mutable_aircraft()->set_serial_number("SER-1");
  return intent;
}

class FlightLogTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) /
           absl::StrCat(
               "flightlog-", getpid(), "-",
               testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    Reopen();
  }
  void TearDown() override {
    logs_.reset();
    flight_store_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  // (Re)opens the embedded store and the logs on it, as a restart does.
  void Reopen(int64_t compact_after = int64_t{64} << 20) {
    logs_.reset();
    flight_store_.reset();
    store_.reset();
    store::StoreOptions so;
    so.dir = dir_.string();
    so.sync = false;
    so.compact_after_bytes = compact_after;
    absl::StatusOr<std::unique_ptr<store::Store>> s = store::OpenStore(so);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = *std::move(s);
    absl::StatusOr<std::unique_ptr<FlightLogStore>> f =
        OpenFlightLogStore(store_.get());
    ASSERT_TRUE(f.ok()) << f.status();
    flight_store_ = *std::move(f);
    logs_ = std::make_unique<FlightLogs>(options_, &clock_, &policies_,
                                         flight_store_.get());
  }

  // Reports `n` positions of `aircraft`, one a second from the clock's now.
  void Fly(const std::string& op, const std::string& aircraft,
           const std::string& intent, int n) {
    for (int i = 0; i < n; ++i) {
      logs_->OnReport(op, Report(aircraft, intent, clock_.Now(), i));
      clock_.Advance(absl::Seconds(1));
    }
  }

  std::vector<v1::FlightSummary> List(const std::string& op) {
    absl::StatusOr<FlightLogs::Page> page = logs_->List(op, 1000, "");
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->flights : std::vector<v1::FlightSummary>{};
  }

  // Every point of a flight: the stored chunks, then those not yet written.
  std::vector<TrackPoint> Track(const std::string& op, const std::string& id) {
    absl::StatusOr<FlightLogs::Snapshot> snap = logs_->Open(op, id);
    EXPECT_TRUE(snap.ok()) << snap.status();
    std::vector<TrackPoint> all;
    if (!snap.ok()) return all;
    for (int i = 0; i < snap->chunks; ++i) {
      absl::StatusOr<std::vector<TrackPoint>> c = logs_->ReadChunk(id, i);
      EXPECT_TRUE(c.ok()) << c.status();
      if (c.ok()) all.insert(all.end(), c->begin(), c->end());
    }
    all.insert(all.end(), snap->unwritten.begin(), snap->unwritten.end());
    return all;
  }

  size_t StoredRows(const std::string& table) {
    size_t n = 0;
    EXPECT_TRUE(
        store_->Scan(table, [&](absl::string_view, absl::string_view) { ++n; })
            .ok());
    return n;
  }

  // Whether any file of the store holds `bytes`.
  bool FilesHold(const std::string& bytes) {
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (test_util::ReadFileBytes(e.path()).find(bytes) != std::string::npos)
        return true;
    }
    return false;
  }

  fs::path dir_;
  SimulatedClock clock_{kStart};
  SettablePolicies policies_;
  FlightLogOptions options_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<FlightLogStore> flight_store_;
  std::unique_ptr<FlightLogs> logs_;
};

TEST_F(FlightLogTest, AGapOfMoreThanFiveMinutesStartsANewFreeFlight) {
  Fly("alice", "A1", "", 10);
  clock_.Advance(absl::Minutes(5));  // 5 min + 1 s since the last report
  Fly("alice", "A1", "", 3);
  std::vector<v1::FlightSummary> flights = List("alice");
  ASSERT_THAT(flights, SizeIs(2));
  // Newest first.
  EXPECT_EQ(flights[0].point_count(), 3);
  EXPECT_TRUE(flights[0].in_progress());
  EXPECT_EQ(flights[1].point_count(), 10);
  EXPECT_FALSE(flights[1].in_progress());
  EXPECT_EQ(flights[1].aircraft_id(), "A1");
  EXPECT_EQ(flights[1].intent_id(), "");
  EXPECT_EQ(flights[1].start_time().seconds(), absl::ToUnixSeconds(kStart));
  EXPECT_EQ(flights[1].end_time().seconds(), absl::ToUnixSeconds(kStart) + 9);
  EXPECT_THAT(Track("alice", flights[1].flight_id()), SizeIs(10));
}

TEST_F(FlightLogTest, AShorterGapContinuesTheFlight) {
  Fly("alice", "A1", "", 10);
  clock_.Advance(absl::Minutes(4));
  Fly("alice", "A1", "", 3);
  logs_->Tick();
  ASSERT_THAT(List("alice"), SizeIs(1));
  EXPECT_EQ(List("alice")[0].point_count(), 13);
}

TEST_F(FlightLogTest, TickEndsAFlightWhoseReportsStopped) {
  Fly("alice", "A1", "", 4);
  clock_.Advance(absl::Minutes(4));
  logs_->Tick();
  EXPECT_TRUE(List("alice")[0].in_progress());
  clock_.Advance(absl::Minutes(2));
  logs_->Tick();
  EXPECT_FALSE(List("alice")[0].in_progress());
  EXPECT_EQ(logs_->stats().open_flights, 0);
}

TEST_F(FlightLogTest, AnIntentFlightRunsFromActivationToEnd) {
  logs_->OnIntent(Intent("alice", "I1", v1::INTENT_STATE_ACCEPTED, 1, kStart));
  EXPECT_THAT(List("alice"), SizeIs(0));  // accepted: not flying yet
  logs_->OnIntent(
      Intent("alice", "I1", v1::INTENT_STATE_ACTIVATED, 2, clock_.Now()));
  // Reports may start well after activation: the same flight.
  clock_.Advance(absl::Minutes(10));
  Fly("alice", "SER-1", "I1", 5);
  // A free flight of the same aircraft in between is another flight.
  Fly("alice", "SER-1", "", 2);
  logs_->OnIntent(
      Intent("alice", "I1", v1::INTENT_STATE_ENDED, 3, clock_.Now()));
  // A repeat of the end (a retried request) changes nothing.
  logs_->OnIntent(
      Intent("alice", "I1", v1::INTENT_STATE_ENDED, 3, clock_.Now()));
  std::vector<v1::FlightSummary> flights = List("alice");
  ASSERT_THAT(flights, SizeIs(2));
  const v1::FlightSummary& f = flights[1];  // started first
  EXPECT_EQ(f.intent_id(), "I1");
  EXPECT_EQ(f.aircraft_id(), "SER-1");
  EXPECT_EQ(f.point_count(), 5);
  EXPECT_FALSE(f.in_progress());
  EXPECT_EQ(f.start_time().seconds(), absl::ToUnixSeconds(kStart));
  EXPECT_EQ(f.end_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
  absl::StatusOr<FlightLogs::Snapshot> snap =
      logs_->Open("alice", f.flight_id());
  ASSERT_TRUE(snap.ok()) << snap.status();
  ASSERT_THAT(snap->header.states(), SizeIs(2));
  EXPECT_EQ(snap->header.states(0).state(), v1::INTENT_STATE_ACTIVATED);
  EXPECT_EQ(snap->header.states(1).state(), v1::INTENT_STATE_ENDED);
  EXPECT_EQ(snap->header.priority(), 7);
  EXPECT_THAT(snap->header.volumes(), SizeIs(1));
  EXPECT_EQ(snap->header.aircraft().serial_number(), "SER-1");
  EXPECT_TRUE(flights[0].in_progress());  // the free flight
  EXPECT_EQ(flights[0].point_count(), 2);
}

TEST_F(FlightLogTest, ActivatedWithoutReportsEndsPastTheIntentsLastVolume) {
  logs_->OnIntent(
      Intent("alice", "I1", v1::INTENT_STATE_ACTIVATED, 2, clock_.Now()));
  clock_.Advance(absl::Minutes(30));
  logs_->Tick();
  EXPECT_TRUE(List("alice")[0].in_progress());
  clock_.Set(kStart + absl::Hours(1) + absl::Minutes(6));
  logs_->Tick();
  ASSERT_THAT(List("alice"), SizeIs(1));
  EXPECT_FALSE(List("alice")[0].in_progress());
  EXPECT_EQ(List("alice")[0].point_count(), 0);
}

TEST_F(FlightLogTest, AlertsRaisedAndClearedAreKeptButNotUpdates) {
  Fly("alice", "A1", "", 2);
  v1::Alert alert;
  alert.set_id("alert-1");
  alert.set_kind(v1::ALERT_KIND_CONFLICT_PREDICTED);
  alert.set_message("conflict with B7");
  *alert.mutable_update_time() = TimeToProto(clock_.Now());
  const std::vector<std::pair<std::string, std::string>> who = {{"alice", "A1"},
                                                                {"bob", "B7"}};
  for (v1::AlertState s : {v1::ALERT_STATE_RAISED, v1::ALERT_STATE_UPDATED,
                           v1::ALERT_STATE_CLEARED}) {
    alert.set_state(s);
    logs_->OnAlert(alert, who);
  }
  absl::StatusOr<FlightLogs::Snapshot> snap =
      logs_->Open("alice", List("alice")[0].flight_id());
  ASSERT_TRUE(snap.ok());
  ASSERT_THAT(snap->header.alerts(), SizeIs(2));
  EXPECT_EQ(snap->header.alerts(0).state(), v1::ALERT_STATE_RAISED);
  EXPECT_EQ(snap->header.alerts(1).state(), v1::ALERT_STATE_CLEARED);
  EXPECT_EQ(snap->header.alerts(1).message(), "conflict with B7");
  EXPECT_THAT(List("bob"), SizeIs(0));  // bob had no flight recorded
}

// A conflict names both aircraft; in Alice's log an aircraft whose
// operator is in Local Data Mode is not named.
TEST_F(FlightLogTest, AlertsDoNotNameALocalDataModeAircraft) {
  policies_.SetLocal("bob");
  Fly("alice", "A1", "", 2);
  v1::Alert alert;
  alert.set_id("alert-1");
  alert.set_kind(v1::ALERT_KIND_CONFLICT_PREDICTED);
  alert.set_state(v1::ALERT_STATE_RAISED);
  alert.set_message("A1 and B7: separation lost in 12 s");
  *alert.mutable_update_time() = TimeToProto(clock_.Now());
  logs_->OnAlert(alert, {{"alice", "A1"}, {"bob", "B7"}});
  absl::StatusOr<FlightLogs::Snapshot> snap =
      logs_->Open("alice", List("alice")[0].flight_id());
  ASSERT_TRUE(snap.ok());
  ASSERT_THAT(snap->header.alerts(), SizeIs(1));
  EXPECT_EQ(snap->header.alerts(0).message(),
            absl::StrCat("A1 and ", kWithheldAircraft,
                         ": separation lost in 12 s"));
}

TEST_F(FlightLogTest, WritesAChunkEveryNPointsAndAfterThePeriod) {
  options_.chunk_points = 10;
  options_.chunk_period = absl::Seconds(30);
  Reopen();
  Fly("alice", "A1", "", 25);
  EXPECT_EQ(logs_->stats().chunks_written, 2);
  EXPECT_EQ(StoredRows(kFlightChunksTable), 2u);
  const std::string id = List("alice")[0].flight_id();
  absl::StatusOr<FlightLogs::Snapshot> snap = logs_->Open("alice", id);
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->chunks, 2);
  EXPECT_THAT(snap->unwritten, SizeIs(5));
  // 25 s after the first of the 5 unwritten points: not yet.
  clock_.Advance(absl::Seconds(20));
  logs_->Tick();
  EXPECT_EQ(logs_->stats().chunks_written, 2);
  clock_.Advance(absl::Seconds(10));
  logs_->Tick();
  EXPECT_EQ(logs_->stats().chunks_written, 3);
  // Every point, as reported (to the codec's quantisation), in order.
  std::vector<TrackPoint> track = Track("alice", id);
  ASSERT_THAT(track, SizeIs(25));
  for (int i = 0; i < 25; ++i) {
    const v1::PositionReport r = Report("A1", "", kStart + absl::Seconds(i), i);
    EXPECT_EQ(track[i].time, kStart + absl::Seconds(i));
    EXPECT_NEAR(track[i].lat_deg, r.position().lat_deg(), 1e-7);
    EXPECT_NEAR(track[i].lng_deg, r.position().lng_deg(), 1e-7);
    EXPECT_NEAR(track[i].altitude_m, r.altitude().value_m(), 0.01);
    EXPECT_NEAR(track[i].east_mps, 2.2, 0.01);
    EXPECT_NEAR(track[i].vertical_accuracy_m, 4, 0.1);
  }
}

TEST_F(FlightLogTest, LocalOnlyWritesNothing) {
  options_.chunk_points = 5;
  Reopen();
  policies_.Set(DataPolicy{.local_only = true});
  logs_->OnIntent(
      Intent("alice", "I1", v1::INTENT_STATE_ACTIVATED, 2, clock_.Now()));
  Fly("alice", "SER-1", "I1", 20);
  Fly("alice", "A2", "", 20);
  logs_->OnIntent(
      Intent("alice", "I1", v1::INTENT_STATE_ENDED, 3, clock_.Now()));
  clock_.Advance(absl::Minutes(10));
  logs_->Tick();
  logs_->CloseAll();
  EXPECT_THAT(List("alice"), SizeIs(0));
  EXPECT_EQ(StoredRows(kFlightLogsTable), 0u);
  EXPECT_EQ(StoredRows(kFlightChunksTable), 0u);
  EXPECT_EQ(logs_->stats().chunks_written, 0);
}

TEST_F(FlightLogTest, IntentsFiledWithoutRetentionAreNotRecorded) {
  int asked = 0;
  options_.intent_retained = [&](const std::string& op, const std::string& id) {
    ++asked;
    return !(op == "alice" && id == "I-secret");
  };
  Reopen();
  v1::FlightIntent secret =
      Intent("alice", "I-secret", v1::INTENT_STATE_ACTIVATED, 2, clock_.Now());
  secret.set_no_retention(true);
  logs_->OnIntent(secret);
  Fly("alice", "SER-1", "I-secret", 10);
  EXPECT_EQ(asked, 1);  // once, not per report
  Fly("alice", "SER-2", "I-kept", 2);
  secret.set_state(v1::INTENT_STATE_ENDED);
  secret.set_version(3);
  logs_->OnIntent(secret);
  logs_->CloseAll();
  std::vector<v1::FlightSummary> flights = List("alice");
  ASSERT_THAT(flights, SizeIs(1));
  EXPECT_EQ(flights[0].intent_id(), "I-kept");
  EXPECT_EQ(StoredRows(kFlightLogsTable), 1u);
}

TEST_F(FlightLogTest, TurningLocalOnlyOnMidFlightRemovesWhatWasWritten) {
  options_.chunk_points = 5;
  Reopen();
  Fly("alice", "A1", "", 12);
  EXPECT_EQ(StoredRows(kFlightChunksTable), 2u);
  policies_.Set(DataPolicy{.local_only = true});
  Fly("alice", "A1", "", 1);
  EXPECT_THAT(List("alice"), SizeIs(0));
  EXPECT_EQ(StoredRows(kFlightLogsTable), 0u);
  EXPECT_EQ(StoredRows(kFlightChunksTable), 0u);
  EXPECT_EQ(logs_->stats().flights_discarded, 1);
}

TEST_F(FlightLogTest, RetentionRemovesFromMemoryStoreAndFiles) {
  options_.chunk_points = 5;
  Reopen(/*compact_after=*/4096);
  policies_.Set(DataPolicy{.flight_log_retention = absl::Hours(1)});
  Fly("alice", "EXPIRING-AIRCRAFT-7Q", "", 40);
  logs_->CloseAll();
  const std::string old_id = List("alice")[0].flight_id();
  clock_.Advance(absl::Minutes(30));
  Fly("alice", "KEPT-AIRCRAFT-3Z", "", 4);
  logs_->CloseAll();
  ASSERT_TRUE(store_->Commit({store::Put("filler", "k", "v")}).ok());
  EXPECT_TRUE(FilesHold("EXPIRING-AIRCRAFT-7Q"));  // the test can see it
  // 59 minutes after its end: kept.
  clock_.Advance(absl::Minutes(29));
  logs_->Tick();
  EXPECT_THAT(List("alice"), SizeIs(2));
  clock_.Advance(absl::Minutes(2));
  logs_->Tick();
  ASSERT_THAT(List("alice"), SizeIs(1));
  EXPECT_EQ(List("alice")[0].aircraft_id(), "KEPT-AIRCRAFT-3Z");
  absl::StatusOr<FlightLogs::Snapshot> gone = logs_->Open("alice", old_id);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(logs_->ReadChunk(old_id, 0).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(StoredRows(kFlightLogsTable), 1u);
  EXPECT_EQ(StoredRows(kFlightChunksTable), 1u);
  // Its bytes leave the files when the store next compacts (once its log
  // passes compact_after_bytes and twice the live data): later writes,
  // rewriting one small record, get it there. A batch is written after the
  // compaction the batch before it started.
  for (int i = 0; i < 50 && FilesHold("EXPIRING-AIRCRAFT-7Q"); ++i) {
    ASSERT_TRUE(store_
                    ->Commit({store::Put("filler", "k",
                                         std::string(256, 'a' + i % 26))})
                    .ok());
    ASSERT_TRUE(store_->Commit({store::Put("filler", "j", "x")}).ok());
  }
  EXPECT_FALSE(FilesHold("EXPIRING-AIRCRAFT-7Q"));
  EXPECT_TRUE(FilesHold("KEPT-AIRCRAFT-3Z"));
  // And a restart does not bring it back.
  Reopen(4096);
  ASSERT_THAT(List("alice"), SizeIs(1));
  EXPECT_EQ(List("alice")[0].aircraft_id(), "KEPT-AIRCRAFT-3Z");
}

TEST_F(FlightLogTest, BoundsPointsAndFlightsPerOperator) {
  options_.max_points = 5;
  options_.max_flights_per_operator = 3;
  Reopen();
  Fly("alice", "A1", "", 8);
  logs_->CloseAll();
  ASSERT_THAT(List("alice"), SizeIs(1));
  EXPECT_EQ(List("alice")[0].point_count(), 5);
  EXPECT_TRUE(List("alice")[0].truncated());
  for (int i = 2; i <= 5; ++i) {
    Fly("alice", absl::StrCat("A", i), "", 1);
    logs_->CloseAll();
  }
  std::vector<v1::FlightSummary> flights = List("alice");
  ASSERT_THAT(flights, SizeIs(3));  // the oldest two made room
  EXPECT_EQ(flights[0].aircraft_id(), "A5");
  EXPECT_EQ(flights[2].aircraft_id(), "A3");
  EXPECT_EQ(StoredRows(kFlightLogsTable), 3u);
}

TEST_F(FlightLogTest, PointsOutOfOrderOrOutOfRangeAreNotKept) {
  logs_->OnReport("alice", Report("A1", "", kStart + absl::Seconds(5), 0));
  logs_->OnReport("alice", Report("A1", "", kStart + absl::Seconds(5), 1));
  logs_->OnReport("alice", Report("A1", "", kStart + absl::Seconds(3), 2));
  v1::PositionReport fast = Report("A1", "", kStart + absl::Seconds(6), 3);
  fast.mutable_velocity()->set_north_mps(900);  // beyond what a chunk holds
  logs_->OnReport("alice", fast);
  logs_->OnReport("alice", Report("A1", "", kStart + absl::Seconds(7), 4));
  EXPECT_EQ(List("alice")[0].point_count(), 2);
  EXPECT_EQ(logs_->stats().points_dropped, 3);
  logs_->OnReport("", Report("A1", "", kStart + absl::Seconds(8), 5));
  EXPECT_EQ(logs_->stats().open_flights, 1);  // intruders are nobody's
}

TEST_F(FlightLogTest, ARestartRecoversTheLogs) {
  options_.chunk_points = 10;
  Reopen();
  Fly("alice", "A1", "", 15);
  logs_->CloseAll();
  Fly("alice", "A2", "", 12);  // in progress when the process stops
  const std::vector<v1::FlightSummary> before = List("alice");
  Reopen();
  std::vector<v1::FlightSummary> after = List("alice");
  ASSERT_THAT(after, SizeIs(2));
  EXPECT_EQ(after[1].flight_id(), before[1].flight_id());
  EXPECT_EQ(after[1].point_count(), 15);
  EXPECT_THAT(Track("alice", after[1].flight_id()), SizeIs(15));
  // Only what was written of the other survives: it ended there.
  EXPECT_FALSE(after[0].in_progress());
  EXPECT_EQ(after[0].point_count(), 10);
  EXPECT_THAT(Track("alice", after[0].flight_id()), SizeIs(10));
}

TEST_F(FlightLogTest, EveryStoredFlightNamesTheDeploymentsRegion) {
  options_.region = "EU-CH";
  options_.chunk_points = 10;
  Reopen();
  Fly("alice", "A1", "", 12);
  logs_->CloseAll();
  int records = 0;
  ASSERT_TRUE(store_
                  ->Scan(kFlightLogsTable,
                         [&](absl::string_view, absl::string_view value) {
                           internal::StoredFlight r;
                           ASSERT_TRUE(r.ParseFromArray(
                               value.data(), static_cast<int>(value.size())));
                           EXPECT_EQ(r.region(), "EU-CH");
                           ++records;
                         })
                  .ok());
  EXPECT_EQ(records, 1);
}

TEST_F(FlightLogTest, AnotherOperatorsFlightIsNotFound) {
  Fly("alice", "A1", "", 3);
  const std::string id = List("alice")[0].flight_id();
  absl::StatusOr<FlightLogs::Snapshot> s = logs_->Open("bob", id);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.status().message(), HasSubstr("flight_id: no flight"));
  logs_->CloseAll();
  EXPECT_EQ(logs_->Open("bob", id).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(List("bob"), SizeIs(0));
  EXPECT_EQ(logs_->Open("alice", "").status().message(), "flight_id: required");
  EXPECT_EQ(logs_->Open("alice", std::string(65, 'x')).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(FlightLogTest, ListsInPagesNewestFirst) {
  for (int i = 0; i < 5; ++i) {
    Fly("alice", absl::StrCat("A", i), "", 1);
    logs_->CloseAll();
  }
  std::vector<std::string> seen;
  std::string token;
  for (int page = 0; page < 5; ++page) {
    absl::StatusOr<FlightLogs::Page> p = logs_->List("alice", 2, token);
    ASSERT_TRUE(p.ok()) << p.status();
    for (const v1::FlightSummary& f : p->flights)
      seen.push_back(f.aircraft_id());
    token = p->next_page_token;
    if (token.empty()) break;
  }
  EXPECT_THAT(seen, ElementsAre("A4", "A3", "A2", "A1", "A0"));
  EXPECT_EQ(logs_->List("alice", -1, "").status().message(),
            "page_size: -1 is outside [0, 1000]");
  EXPECT_EQ(logs_->List("alice", 1001, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(logs_->List("alice", 0, "garbage").status().message(),
            "page_token: not a token ListFlights returned");
}

}  // namespace
}  // namespace utm::fleet
