// An operator's flight-log retention, end to end through its own setting:
// over a real gRPC server on loopback, with the real OperatorSettings on a
// local ledger and flight logs on one embedded store in a temporary
// directory. An operator that shortens its retention (SetDataSettings)
// sees its older logs removed once they pass it, from the list and from
// the store's files; another operator's logs, under the default, stay.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/file_testing.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/local_ledger.h"
#include "services/common/pseudonym.h"
#include "services/common/server.h"
#include "services/common/store.h"
#include "services/operator/flight_log.h"
#include "services/operator/flight_log_store.h"
#include "services/operator/operator_service.h"
#include "services/operator/operator_settings.h"
#include "tests/service_test_util.h"
#include "tests/telemetry_test_util.h"

namespace utm::fleet {
namespace {

namespace fs = std::filesystem;
using test_util::ServiceTestAuth;
using ::testing::SizeIs;

const absl::Time kStart = absl::FromUnixSeconds(1800000000);
const geo::LatLng kZurich{47.3706, 8.4881};

class FlightLogRetentionTest : public ::testing::Test {
 protected:
  FlightLogRetentionTest()
      : pseudonyms_(*pseudonym::Pseudonymizer::Create(std::string(32, 'p'))) {
    dir_ = fs::path(::testing::TempDir()) /
           absl::StrCat("flight-log-retention-", ::getpid());
    fs::remove_all(dir_);
    store::StoreOptions so;
    so.dir = dir_.string();
    so.compact_after_bytes = 4096;
    store_ = *store::OpenStore(so);
    ledger_ = *ledger::LocalLedger::Open(store_.get());
    ledger::FollowerOptions fo;
    fo.poll = absl::Milliseconds(20);
    follower_ = std::make_unique<ledger::Follower>(ledger_.get(), fo);
    settings_ = std::make_unique<OperatorSettings>(&pseudonyms_, ledger_.get(),
                                                   follower_.get());
    EXPECT_TRUE(follower_->Start().ok());
    flight_store_ = *OpenFlightLogStore(store_.get());
    FlightLogOptions options;
    options.chunk_points = 10;
    logs_ = std::make_unique<FlightLogs>(options, &clock_, settings_.get(),
                                         flight_store_.get());
    fleet_ = std::make_unique<FleetView>(FleetSources());
    service_ = std::make_unique<OperatorService>(fleet_.get(), auth_.verifier(),
                                                 &clock_, settings_.get());
    service_->SetFlightLogs(logs_.get());
    server_ = *test_util::StartOnLoopback({service_.get()});
    stub_ = v1::OperatorService::NewStub(test_util::LoopbackChannel(*server_));
  }
  ~FlightLogRetentionTest() override {
    service_->EndStreams();
    server_->Shutdown(absl::Seconds(1));
    follower_->Stop();
    fs::remove_all(dir_);
  }

  // `n` positions of `aircraft` naming no intent, one a second, then the
  // flight is closed (its log written).
  void Fly(const std::string& op, const std::string& aircraft, int n) {
    for (int i = 0; i < n; ++i) {
      logs_->OnReport(
          op, test_util::ReportAt(aircraft,
                                  geo::GeodesicDestination(kZurich, 0, 5 * i),
                                  clock_.Now(), 5));
      clock_.Advance(absl::Seconds(1));
    }
    logs_->CloseAll();
  }
  std::vector<v1::FlightSummary> List(const std::string& who) {
    v1::ListFlightsResponse response;
    auto context = ServiceTestAuth::As(auth_.Token(who, "operator"));
    const grpc::Status status =
        stub_->ListFlights(context.get(), v1::ListFlightsRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.flights().begin(), response.flights().end()};
  }
  grpc::Status SetRetention(const std::string& who, absl::Duration d,
                            v1::SetDataSettingsResponse* response) {
    v1::SetDataSettingsRequest request;
    request.mutable_flight_log_retention()->set_seconds(
        absl::ToInt64Seconds(d));
    auto context = ServiceTestAuth::As(auth_.Token(who, "operator"));
    return stub_->SetDataSettings(context.get(), request, response);
  }
  bool FilesHold(const std::string& what) const {
    for (const auto& e : fs::recursive_directory_iterator(dir_)) {
      if (e.is_regular_file() &&
          test_util::ReadFileBytes(e.path()).find(what) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  SimulatedClock clock_{kStart};
  ServiceTestAuth auth_{&clock_};
  pseudonym::Pseudonymizer pseudonyms_;
  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ledger::LocalLedger> ledger_;
  std::unique_ptr<ledger::Follower> follower_;
  std::unique_ptr<OperatorSettings> settings_;
  std::unique_ptr<FlightLogStore> flight_store_;
  std::unique_ptr<FlightLogs> logs_;
  std::unique_ptr<FleetView> fleet_;
  std::unique_ptr<OperatorService> service_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<v1::OperatorService::Stub> stub_;
};

TEST_F(FlightLogRetentionTest, ShortenedRetentionRemovesOlderLogsFromFiles) {
  Fly("operator-alice", "ALICE-OLD-FLIGHT-4K", 40);
  Fly("operator-bob", "BOB-OLD-FLIGHT-9T", 40);
  clock_.Advance(absl::Hours(2));
  Fly("operator-alice", "ALICE-NEW-FLIGHT-2M", 5);
  ASSERT_THAT(List("operator-alice"), SizeIs(2));
  ASSERT_TRUE(store_->Commit({store::Put("filler", "k", "v")}).ok());
  ASSERT_TRUE(FilesHold("ALICE-OLD-FLIGHT-4K"));  // the test can see it

  // Under the default retention (30 days) two hours are nothing.
  clock_.Advance(absl::Minutes(30));
  logs_->Tick();
  ASSERT_THAT(List("operator-alice"), SizeIs(2));

  // Alice keeps her logs one hour from now on: the old flight (ended 2.5 h
  // ago) goes at the next sweep, the new one (ended 30 min ago) stays.
  v1::SetDataSettingsResponse set;
  const grpc::Status status =
      SetRetention("operator-alice", absl::Hours(1), &set);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(set.settings().flight_log_retention().seconds(), 3600);
  clock_.Advance(absl::Minutes(1));  // a sweep is due
  logs_->Tick();
  std::vector<v1::FlightSummary> alices = List("operator-alice");
  ASSERT_THAT(alices, SizeIs(1));
  EXPECT_EQ(alices[0].aircraft_id(), "ALICE-NEW-FLIGHT-2M");
  ASSERT_THAT(List("operator-bob"), SizeIs(1));

  // Its bytes leave the files at the store's next compaction, which later
  // writes bring on; Bob's log, on the default, stays in them.
  for (int i = 0; i < 50 && FilesHold("ALICE-OLD-FLIGHT-4K"); ++i) {
    ASSERT_TRUE(
        store_->Commit({store::Put("filler", "k", std::string(256, 'a' + i))})
            .ok());
    ASSERT_TRUE(store_->Commit({store::Put("filler", "j", "x")}).ok());
  }
  EXPECT_FALSE(FilesHold("ALICE-OLD-FLIGHT-4K"));
  EXPECT_TRUE(FilesHold("ALICE-NEW-FLIGHT-2M"));
  EXPECT_TRUE(FilesHold("BOB-OLD-FLIGHT-9T"));

  // The new flight goes too once it is an hour old.
  clock_.Advance(absl::Minutes(30));
  logs_->Tick();
  EXPECT_THAT(List("operator-alice"), SizeIs(0));
  EXPECT_THAT(List("operator-bob"), SizeIs(1));
}

TEST_F(FlightLogRetentionTest, RefusesARetentionOutsideItsBounds) {
  Fly("operator-alice", "ALICE-FLIGHT-1", 5);
  v1::SetDataSettingsResponse set;
  for (absl::Duration bad : {absl::ZeroDuration(), absl::Seconds(-5),
                             absl::Hours(24 * 366 * 5 + 24)}) {
    const grpc::Status status = SetRetention("operator-alice", bad, &set);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    EXPECT_THAT(status.error_message(),
                ::testing::HasSubstr("flight_log_retention"));
  }
  // Nothing changed: the log stays under the default.
  clock_.Advance(absl::Hours(24));
  logs_->Tick();
  EXPECT_THAT(List("operator-alice"), SizeIs(1));
}

}  // namespace
}  // namespace utm::fleet
