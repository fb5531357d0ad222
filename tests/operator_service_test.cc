// OperatorService.WatchFleet over a real gRPC server on loopback: an
// operator's own aircraft, live, with intent states and open alerts, and
// nothing of another operator's.
#include "services/operator/operator_service.h"

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/local_ledger.h"
#include "services/common/pseudonym.h"
#include "services/common/server.h"
#include "services/common/store.h"
#include "services/common/volume_convert.h"
#include "tests/service_test_util.h"
#include "tests/telemetry_test_util.h"

namespace utm::fleet {
namespace {

using test_util::ServiceTestAuth;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1800000000);
const geo::LatLng kZurich{47.3706, 8.4881};

v1::PositionReport Report(const std::string& aircraft,
                          const std::string& intent, absl::Time t,
                          const geo::LatLng& p) {
  v1::PositionReport r = test_util::ReportAt(aircraft, p, t, 5);
  r.set_intent_id(intent);
  r.mutable_velocity()->set_up_mps(1);
  return r;
}

telemetry::AlertChange Conflict(const std::string& id,
                                std::pair<std::string, std::string> a,
                                std::pair<std::string, std::string> b) {
  telemetry::AlertChange c;
  c.alert.set_id(id);
  c.alert.set_kind(v1::ALERT_KIND_CONFLICT_PREDICTED);
  c.alert.set_state(v1::ALERT_STATE_RAISED);
  c.alert.add_aircraft_ids(a.second);
  c.alert.add_aircraft_ids(b.second);
  c.key = "pair/" + id;
  c.operators = {a.first, b.first};
  c.aircraft = {a, b};
  return c;
}

class OperatorServiceTest : public ::testing::Test {
 protected:
  OperatorServiceTest() {
    remoteid::RemoteIdOptions o;
    o.session_key = "0123456789abcdef0123456789abcdef";
    display_ = std::make_unique<remoteid::RemoteIdCore>(o, &clock_);
    FleetSources sources;
    sources.display = display_.get();
    sources.intent_state = [this](const std::string& op,
                                  const std::string& intent) {
      auto it = intents_.find({op, intent});
      return it == intents_.end() ? v1::INTENT_STATE_UNSPECIFIED : it->second;
    };
    sources.open_alerts = [this] { return alerts_; };
    fleet_ = std::make_unique<FleetView>(std::move(sources));
    service_ = std::make_unique<OperatorService>(fleet_.get(), auth_.verifier(),
                                                 &clock_);
    server_ = *test_util::StartOnLoopback({service_.get()});
    stub_ = v1::OperatorService::NewStub(test_util::LoopbackChannel(*server_));
  }
  ~OperatorServiceTest() override {
    service_->EndStreams();
    server_->Shutdown(absl::Seconds(1));
  }

  // The stream's next update, ticking the service as its ticker would until
  // the update is written: a stream still writing its previous update when
  // a tick comes skips that tick.
  template <typename Reader>
  bool TickUntilRead(Reader* reader, v1::FleetUpdate* update) {
    std::atomic<bool> done{false};
    bool ok = false;
    std::thread read([&] {
      ok = reader->Read(update);
      done.store(true);
    });
    for (int i = 0; i < 2000 && !done.load(); ++i) {
      service_->Tick();
      absl::SleepFor(absl::Milliseconds(5));
    }
    read.join();
    return ok;
  }

  SimulatedClock clock_{kStart};
  ServiceTestAuth auth_{&clock_};
  std::map<std::pair<std::string, std::string>, v1::IntentState> intents_;
  std::vector<telemetry::AlertChange> alerts_;
  std::unique_ptr<remoteid::RemoteIdCore> display_;
  std::unique_ptr<FleetView> fleet_;
  std::unique_ptr<OperatorService> service_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<v1::OperatorService::Stub> stub_;
};

TEST_F(OperatorServiceTest, AnOperatorSeesItsOwnFleetLive) {
  const geo::LatLng east = geo::GeodesicDestination(kZurich, 90, 2000);
  display_->AddNetworkReport(
      "alice", Report("drone-1", "intent-1", clock_.Now(), kZurich));
  display_->AddNetworkReport("alice",
                             Report("drone-2", "", clock_.Now(), east));
  display_->AddNetworkReport("bob",
                             Report("drone-1", "intent-9", clock_.Now(), east));
  intents_[{"alice", "intent-1"}] = v1::INTENT_STATE_ACTIVATED;
  intents_[{"bob", "intent-9"}] = v1::INTENT_STATE_ACTIVATED;
  alerts_ = {Conflict("c-1", {"alice", "drone-1"}, {"bob", "drone-1"}),
             Conflict("c-2", {"bob", "drone-1"}, {"carol", "x"})};

  auto context = ServiceTestAuth::As(auth_.Token("alice", "operator"));
  v1::WatchFleetRequest request;
  auto reader = stub_->WatchFleet(context.get(), request);
  v1::FleetUpdate first;
  ASSERT_TRUE(reader->Read(&first));
  EXPECT_EQ(first.sequence(), absl::ToUnixMillis(kStart));
  EXPECT_FALSE(first.truncated());
  ASSERT_EQ(first.aircraft_size(), 2);
  const v1::FleetAircraft& d1 = first.aircraft(0);
  EXPECT_EQ(d1.aircraft_id(), "drone-1");
  EXPECT_EQ(d1.intent_id(), "intent-1");
  EXPECT_EQ(d1.intent_state(), v1::INTENT_STATE_ACTIVATED);
  EXPECT_DOUBLE_EQ(d1.position().lat_deg(), kZurich.lat_deg);
  EXPECT_NEAR(d1.velocity().east_mps(), 5, 1e-9);
  EXPECT_NEAR(d1.velocity().north_mps(), 0, 1e-9);
  EXPECT_NEAR(d1.velocity().up_mps(), 1, 1e-9);
  EXPECT_EQ(d1.recent_positions_size(), 1);
  EXPECT_THAT(d1.remote_id(), testing::StartsWith("utm-"));
  ASSERT_EQ(d1.alerts_size(), 1);
  EXPECT_EQ(d1.alerts(0).id(), "c-1");
  const v1::FleetAircraft& d2 = first.aircraft(1);
  EXPECT_EQ(d2.aircraft_id(), "drone-2");
  EXPECT_EQ(d2.intent_state(), v1::INTENT_STATE_UNSPECIFIED);
  EXPECT_EQ(d2.alerts_size(), 0);

  // A second later drone-1 moved; drone-2 went quiet for 61 s and is gone.
  clock_.Advance(absl::Seconds(1));
  display_->AddNetworkReport("alice",
                             Report("drone-1", "intent-1", clock_.Now(),
                                    geo::GeodesicDestination(kZurich, 90, 5)));
  alerts_.clear();
  v1::FleetUpdate second;
  ASSERT_TRUE(TickUntilRead(reader.get(), &second));
  EXPECT_GT(second.sequence(), first.sequence());
  ASSERT_EQ(second.aircraft_size(), 2);
  EXPECT_EQ(second.aircraft(0).recent_positions_size(), 2);
  EXPECT_EQ(second.aircraft(0).alerts_size(), 0);  // cleared
  clock_.Advance(absl::Seconds(60));
  display_->AddNetworkReport(
      "alice", Report("drone-1", "intent-1", clock_.Now(), kZurich));
  v1::FleetUpdate third;
  ASSERT_TRUE(TickUntilRead(reader.get(), &third));
  ASSERT_EQ(third.aircraft_size(), 1);
  EXPECT_EQ(third.aircraft(0).aircraft_id(), "drone-1");

  service_->EndStreams();
  v1::FleetUpdate more;
  while (reader->Read(&more)) {
  }
  grpc::Status s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(s.error_message(), HasSubstr("reconnect"));
}

TEST_F(OperatorServiceTest, NoOtherOperatorsAircraftEvenWithTheSameId) {
  display_->AddNetworkReport(
      "bob", Report("drone-1", "intent-9", clock_.Now(), kZurich));
  auto context = ServiceTestAuth::As(auth_.Token("alice", "operator"));
  auto reader = stub_->WatchFleet(context.get(), v1::WatchFleetRequest());
  v1::FleetUpdate update;
  ASSERT_TRUE(reader->Read(&update));
  EXPECT_EQ(update.aircraft_size(), 0);
  context->TryCancel();
  while (reader->Read(&update)) {
  }
  reader->Finish();
}

TEST_F(OperatorServiceTest, ResumedStreamsContinueTheSequence) {
  v1::WatchFleetRequest request;
  request.set_after_sequence(absl::ToUnixMillis(kStart) + 5000);
  auto context = ServiceTestAuth::As(auth_.Token("alice", "operator"));
  auto reader = stub_->WatchFleet(context.get(), request);
  v1::FleetUpdate update;
  ASSERT_TRUE(reader->Read(&update));
  EXPECT_EQ(update.sequence(), absl::ToUnixMillis(kStart) + 5001);
  context->TryCancel();
  while (reader->Read(&update)) {
  }
  reader->Finish();
}

TEST_F(OperatorServiceTest, BadRequestsAndCallersAreRefused) {
  struct Case {
    std::string token;
    int64_t period_ms;
    grpc::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", 0, grpc::StatusCode::UNAUTHENTICATED, ""},
      {auth_.Token("public-1", "display"), 0,
       grpc::StatusCode::PERMISSION_DENIED, "utm.strategic_coordination"},
      {auth_.Token("alice", "operator"), 50, grpc::StatusCode::INVALID_ARGUMENT,
       "period: 50ms is outside [100ms, 1m]"},
      {auth_.Token("alice", "operator"), 61000,
       grpc::StatusCode::INVALID_ARGUMENT, "period: 1m1s is outside"},
  };
  for (const Case& c : cases) {
    auto context = ServiceTestAuth::As(c.token);
    v1::WatchFleetRequest request;
    request.mutable_period()->set_seconds(c.period_ms / 1000);
    request.mutable_period()->set_nanos(
        static_cast<int32_t>(c.period_ms % 1000 * 1000000));
    auto reader = stub_->WatchFleet(context.get(), request);
    v1::FleetUpdate update;
    EXPECT_FALSE(reader->Read(&update));
    grpc::Status s = reader->Finish();
    EXPECT_EQ(s.error_code(), c.code) << c.message << ": " << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr(c.message));
  }
  EXPECT_EQ(service_->watchers(), 0u);
}

TEST_F(OperatorServiceTest, WithoutSettingsTheSettingsAreUnimplemented) {
  auto context = ServiceTestAuth::As(auth_.Token("alice", "operator"));
  v1::GetDataSettingsResponse got;
  grpc::Status s =
      stub_->GetDataSettings(context.get(), v1::GetDataSettingsRequest(), &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

// Get/SetDataSettings over a real gRPC server, on settings kept through a
// ledger over a memory store.
class DataSettingsServiceTest : public ::testing::Test {
 protected:
  DataSettingsServiceTest() {
    store::StoreOptions memory;
    memory.backend = "memory";
    store_ = *store::OpenStore(memory);
    ledger_ = *ledger::LocalLedger::Open(store_.get());
    follower_ = std::make_unique<ledger::Follower>(ledger_.get());
    settings_ = std::make_unique<OperatorSettings>(&pseudonyms_, ledger_.get(),
                                                   follower_.get());
    EXPECT_TRUE(follower_->Start().ok());
    service_ = std::make_unique<OperatorService>(nullptr, auth_.verifier(),
                                                 &clock_, settings_.get());
    server_ = *test_util::StartOnLoopback({service_.get()});
    stub_ = v1::OperatorService::NewStub(test_util::LoopbackChannel(*server_));
  }
  ~DataSettingsServiceTest() override {
    server_->Shutdown(absl::Seconds(1));
    follower_->Stop();
  }

  grpc::Status Set(const std::string& token,
                   const v1::SetDataSettingsRequest& request,
                   v1::DataSettings* out = nullptr) {
    auto context = ServiceTestAuth::As(token);
    v1::SetDataSettingsResponse response;
    grpc::Status s = stub_->SetDataSettings(context.get(), request, &response);
    if (out != nullptr) *out = response.settings();
    return s;
  }
  v1::DataSettings Get(const std::string& token) {
    auto context = ServiceTestAuth::As(token);
    v1::GetDataSettingsResponse response;
    grpc::Status s = stub_->GetDataSettings(
        context.get(), v1::GetDataSettingsRequest(), &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.settings();
  }

  SimulatedClock clock_{kStart};
  ServiceTestAuth auth_{&clock_};
  const pseudonym::Pseudonymizer pseudonyms_ =
      *pseudonym::Pseudonymizer::Create(std::string(32, 'p'));
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ledger::LocalLedger> ledger_;
  std::unique_ptr<ledger::Follower> follower_;
  std::unique_ptr<OperatorSettings> settings_;
  std::unique_ptr<OperatorService> service_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<v1::OperatorService::Stub> stub_;
};

TEST_F(DataSettingsServiceTest, AnOperatorSetsItsOwnSettingsOnly) {
  const std::string alice = auth_.Token("alice", "operator");
  const std::string bob = auth_.Token("bob", "operator");
  v1::DataSettings defaults = Get(alice);
  EXPECT_FALSE(defaults.local_data_mode());
  EXPECT_EQ(defaults.flight_log_retention().seconds(), 30 * 86400);

  v1::SetDataSettingsRequest on;
  on.set_local_data_mode(true);
  v1::DataSettings now;
  ASSERT_TRUE(Set(alice, on, &now).ok());
  EXPECT_TRUE(now.local_data_mode());
  EXPECT_EQ(now.flight_log_retention().seconds(), 30 * 86400);

  // Retention alone keeps Local Data Mode.
  v1::SetDataSettingsRequest week;
  week.mutable_flight_log_retention()->set_seconds(7 * 86400);
  ASSERT_TRUE(Set(alice, week, &now).ok());
  EXPECT_TRUE(now.local_data_mode());
  EXPECT_EQ(Get(alice).flight_log_retention().seconds(), 7 * 86400);
  EXPECT_TRUE(settings_->For("alice").local_only);

  // Bob's are his own.
  EXPECT_FALSE(Get(bob).local_data_mode());
  EXPECT_FALSE(settings_->For("bob").local_only);
}

TEST_F(DataSettingsServiceTest, BadRequestsAndCallersAreRefused) {
  struct Case {
    std::string token;
    int64_t seconds;
    int32_t nanos;
    grpc::StatusCode code;
    std::string message;
  };
  const std::string alice = auth_.Token("alice", "operator");
  const std::vector<Case> cases = {
      {"", 60, 0, grpc::StatusCode::UNAUTHENTICATED, ""},
      {auth_.Token("public-1", "display"), 60, 0,
       grpc::StatusCode::PERMISSION_DENIED, "utm.strategic_coordination"},
      {alice, 0, 0, grpc::StatusCode::INVALID_ARGUMENT,
       "flight_log_retention: 0 s is not in (0, 5 years]"},
      {alice, -5, 0, grpc::StatusCode::INVALID_ARGUMENT,
       "flight_log_retention: -5 s"},
      {alice, 1827LL * 86400 + 1, 0, grpc::StatusCode::INVALID_ARGUMENT,
       "flight_log_retention: 157852801 s is not in"},
      {alice, 60, 500, grpc::StatusCode::INVALID_ARGUMENT,
       "flight_log_retention: nanos 500"},
  };
  for (const Case& c : cases) {
    v1::SetDataSettingsRequest request;
    request.set_local_data_mode(true);
    request.mutable_flight_log_retention()->set_seconds(c.seconds);
    request.mutable_flight_log_retention()->set_nanos(c.nanos);
    grpc::Status s = Set(c.token, request);
    EXPECT_EQ(s.error_code(), c.code) << c.message << ": " << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr(c.message));
  }
  // Nothing was changed by the refusals.
  EXPECT_FALSE(Get(alice).local_data_mode());
  EXPECT_EQ(settings_->size(), 0u);
}

}  // namespace
}  // namespace utm::fleet
