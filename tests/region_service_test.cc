// Data residency over the wire: the intent, constraint, registry and
// telemetry services of a deployment serving region EU-CH (a square around
// Zurich) on a real gRPC server on a loopback port, with real tokens. Each
// kind of write is refused with FAILED_PRECONDITION naming the region when
// its airspace lies outside the boundary or its token names another home
// region, and each is shown to have stored nothing: read back, listed, or
// (positions) absent from the telemetry core and from what the report
// observer (the Remote ID display, flight logs) is given. Registrations
// name no airspace, so only the home region applies to them. The Remote ID
// inputs too: a received frame outside is refused on its own and its
// aircraft never reaches the display nor tactical deconfliction; a
// published state outside refuses its whole request.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "geo/region.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/local_ledger.h"
#include "services/common/region.h"
#include "services/common/region_testing.h"
#include "services/common/server.h"
#include "services/common/store.h"
#include "services/common/volume_convert.h"
#include "services/constraint/constraint_core.h"
#include "services/constraint/constraint_service.h"
#include "services/intent/intent_core.h"
#include "services/intent/intent_service.h"
#include "services/registry/registry_core.h"
#include "services/registry/registry_service.h"
#include "services/registry/registry_testing.h"
#include "services/remoteid/broadcast_frames_testing.h"
#include "services/remoteid/remoteid_core.h"
#include "services/remoteid/remoteid_service.h"
#include "services/telemetry/telemetry_core.h"
#include "services/telemetry/telemetry_service.h"
#include "tests/service_test_util.h"
#include "tests/telemetry_test_util.h"
#include "utm/v1/constraint.grpc.pb.h"
#include "utm/v1/registry.grpc.pb.h"
#include "utm/v1/remote_id.grpc.pb.h"
#include "utm/v1/strategic.grpc.pb.h"
#include "utm/v1/telemetry.grpc.pb.h"

namespace utm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::utm::test_util::ServiceTestAuth;

const absl::Time kNow = registry::test_util::kT0;

// The region: lat 47.0..47.6, lng 8.2..8.8, Zurich in its middle.
region::RegionPolicy SwissSquare() {
  return region::test_util::BoxRegion("EU-CH", {47.0, 8.2}, {47.6, 8.8});
}

geo::LatLng East(double m) {
  return geo::GeodesicDestination(geo::test_util::kZurich, 90, m);
}
// Inside the square, and 40 km east of Zurich: beyond lng 8.8.
const double kInsideM = 0, kOutsideM = 40000;

v1::Volume4D Flight(double east_m) {
  return VolumeToProto(
      geo::Volume4D{geo::Volume3D{geo::Circle{East(east_m), 100}, {500, 620}},
                    {kNow + absl::Minutes(10), kNow + absl::Minutes(40)}});
}

v1::Constraint Zone(double east_m) {
  v1::Constraint c;
  c.set_type(v1::CONSTRAINT_TYPE_PROHIBITED);
  *c.add_volumes() = VolumeToProto(
      geo::Volume4D{geo::Volume3D{geo::Circle{East(east_m), 500}, {0, 1000}},
                    {absl::InfinitePast(), absl::InfiniteFuture()}});
  c.set_message_for_pilots("Closed for an air show");
  return c;
}

class RegionServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    intents_ =
        std::make_unique<intent::IntentCore>(intent::IntentOptions(), &clock_);
    constraint::ConstraintOptions co;
    co.region = &policy_;
    constraints_ = std::make_unique<constraint::ConstraintCore>(co, &clock_);
    intents_->SetConstraintChecker(constraints_.get());
    intent_service_ = std::make_unique<intent::IntentService>(
        intents_.get(), auth_.verifier(), nullptr);
    intent_service_->SetRegionPolicy(&policy_);
    constraint_service_ = std::make_unique<constraint::ConstraintService>(
        constraints_.get(), auth_.verifier());
    constraint_service_->SetRegionPolicy(&policy_);

    store::StoreOptions memory;
    memory.backend = "memory";
    store_ = *store::OpenStore(memory);
    ledger_ = *ledger::LocalLedger::Open(store_.get());
    ledger::FollowerOptions fo;
    fo.poll = absl::Milliseconds(50);
    follower_ = std::make_unique<ledger::Follower>(ledger_.get(), fo);
    registry_ = std::make_unique<registry::RegistryCore>(
        registry::RegistryOptions(), &clock_, ledger_.get(), follower_.get());
    ASSERT_TRUE(follower_->Start().ok());
    registry_service_ = std::make_unique<registry::RegistryService>(
        registry_.get(), auth_.verifier(),
        [](const audit::AuditEvent&) { return absl::OkStatus(); });
    registry_service_->SetRegionPolicy(&policy_);

    telemetry_ = std::make_unique<telemetry::TelemetryCore>(
        telemetry::TelemetryOptions(), &clock_, &airspace_);
    telemetry_service_ = std::make_unique<telemetry::TelemetryService>(
        telemetry_.get(), auth_.verifier(), &clock_);
    telemetry_service_->SetRegionPolicy(&policy_);
    telemetry_service_->SetReportObserver(
        [this](const std::string&, const v1::PositionReport& r) {
          absl::MutexLock lock(&mu_);
          observed_.push_back(r.aircraft_id());
        });

    remoteid::RemoteIdOptions ro;
    ro.session_key = "0123456789abcdef0123456789abcdef";
    ro.region = &policy_;
    rid_ = std::make_unique<remoteid::RemoteIdCore>(ro, &clock_);
    rid_service_ = std::make_unique<remoteid::RemoteIdService>(
        rid_.get(), auth_.verifier(), &clock_,
        [](const audit::AuditEvent&) { return absl::OkStatus(); },
        [this](std::vector<remoteid::HeardState> heard) {
          absl::MutexLock lock(&mu_);
          for (const remoteid::HeardState& h : heard) {
            intruders_.push_back(h.remote_id);
          }
        },
        remoteid::RemoteIdService::Options());

    absl::StatusOr<std::unique_ptr<Server>> server = test_util::StartOnLoopback(
        {intent_service_.get(), constraint_service_.get(),
         registry_service_.get(), telemetry_service_.get(),
         rid_service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    auto channel = test_util::LoopbackChannel(*server_);
    intent_stub_ = v1::StrategicCoordination::NewStub(channel);
    constraint_stub_ = v1::ConstraintService::NewStub(channel);
    registry_stub_ = v1::RegistryService::NewStub(channel);
    telemetry_stub_ = v1::TelemetryService::NewStub(channel);
    rid_stub_ = v1::RemoteIdService::NewStub(channel);
  }
  void TearDown() override {
    server_->Shutdown(absl::Seconds(1));
    follower_->Stop();
  }

  // A token for `subject` as `role`, naming `home_region` (none if empty).
  std::string Token(const std::string& subject, const std::string& role,
                    const std::string& home_region) {
    auth::MintOptions options;
    options.subject = subject;
    options.scopes = *auth::ScopesForRole(role);
    options.home_region = home_region;
    return *auth::MintHmacToken(test_util::kTestSecret, options, &clock_);
  }

  grpc::Status FileIntent(const std::string& token, double east_m) {
    v1::FileIntentRequest request;
    *request.add_volumes() = Flight(east_m);
    v1::FileIntentResponse response;
    return intent_stub_->FileIntent(ServiceTestAuth::As(token).get(), request,
                                    &response);
  }
  std::vector<std::string> ListIntents(const std::string& token) {
    v1::ListIntentsRequest request;
    v1::ListIntentsResponse response;
    const grpc::Status s = intent_stub_->ListIntents(
        ServiceTestAuth::As(token).get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> ids;
    for (const v1::FlightIntent& i : response.intents()) ids.push_back(i.id());
    return ids;
  }

  grpc::Status Publish(const std::string& token, double east_m) {
    v1::PublishConstraintRequest request;
    *request.mutable_constraint() = Zone(east_m);
    v1::PublishConstraintResponse response;
    return constraint_stub_->PublishConstraint(ServiceTestAuth::As(token).get(),
                                               request, &response);
  }
  // Every constraint, withdrawn ones too, within 100 km of Zurich (inside
  // and outside the region).
  int CountConstraints(const std::string& token) {
    v1::QueryConstraintsRequest request;
    v1::Circle* c =
        request.mutable_area()->mutable_volume()->mutable_outline_circle();
    c->mutable_center()->set_lat_deg(geo::test_util::kZurich.lat_deg);
    c->mutable_center()->set_lng_deg(geo::test_util::kZurich.lng_deg);
    c->set_radius_m(100000);
    request.set_include_withdrawn(true);
    v1::QueryConstraintsResponse response;
    const grpc::Status s = constraint_stub_->QueryConstraints(
        ServiceTestAuth::As(token).get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.constraints_size();
  }

  std::vector<std::string> Observed() {
    absl::MutexLock lock(&mu_);
    return observed_;
  }
  std::vector<std::string> Intruders() {
    absl::MutexLock lock(&mu_);
    return intruders_;
  }

  // A ground receiver's report of `frames`, heard at Zurich.
  grpc::Status ReportReceptions(const std::string& token,
                                const std::vector<v1::ReceivedFrame>& frames,
                                v1::ReportReceptionsResponse* response) {
    v1::ReportReceptionsRequest request;
    request.mutable_receiver_position()->set_lat_deg(
        geo::test_util::kZurich.lat_deg);
    request.mutable_receiver_position()->set_lng_deg(
        geo::test_util::kZurich.lng_deg);
    for (const v1::ReceivedFrame& f : frames) *request.add_frames() = f;
    return rid_stub_->ReportReceptions(ServiceTestAuth::As(token).get(),
                                       request, response);
  }
  // The ids the Remote ID display shows within 500 m of `p`, as a display
  // application sees them.
  std::vector<std::string> Shown(const geo::LatLng& p) {
    v1::SearchFlightsRequest request;
    *request.mutable_view() = remoteid::DisplayView::SquareAround(p, 1000);
    v1::SearchFlightsResponse response;
    const grpc::Status s = rid_stub_->SearchFlights(
        ServiceTestAuth::As(Token("viewer", "display", "")).get(), request,
        &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> ids;
    for (const v1::RidFlight& f : response.flights()) ids.push_back(f.id());
    return ids;
  }

  region::RegionPolicy policy_ = SwissSquare();
  SimulatedClock clock_{kNow};
  ServiceTestAuth auth_{&clock_};
  test_util::EmptyAirspace airspace_;
  std::unique_ptr<intent::IntentCore> intents_;
  std::unique_ptr<constraint::ConstraintCore> constraints_;
  std::unique_ptr<intent::IntentService> intent_service_;
  std::unique_ptr<constraint::ConstraintService> constraint_service_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ledger::LocalLedger> ledger_;
  std::unique_ptr<ledger::Follower> follower_;
  std::unique_ptr<registry::RegistryCore> registry_;
  std::unique_ptr<registry::RegistryService> registry_service_;
  std::unique_ptr<telemetry::TelemetryCore> telemetry_;
  std::unique_ptr<telemetry::TelemetryService> telemetry_service_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<v1::StrategicCoordination::Stub> intent_stub_;
  std::unique_ptr<v1::ConstraintService::Stub> constraint_stub_;
  std::unique_ptr<v1::RegistryService::Stub> registry_stub_;
  std::unique_ptr<v1::TelemetryService::Stub> telemetry_stub_;
  std::unique_ptr<remoteid::RemoteIdCore> rid_;
  std::unique_ptr<remoteid::RemoteIdService> rid_service_;
  std::unique_ptr<v1::RemoteIdService::Stub> rid_stub_;

  absl::Mutex mu_;
  std::vector<std::string> observed_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> intruders_ ABSL_GUARDED_BY(mu_);
};

TEST_F(RegionServiceTest, IntentOutsideOrFromAnotherRegionIsNotFiled) {
  const std::string alice = Token("alice", "operator", "EU-CH");
  grpc::Status s = FileIntent(alice, kOutsideM);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(),
              HasSubstr("volumes[0] lies outside region EU-CH"));

  // The same operator, holding a token of another home region.
  s = FileIntent(Token("alice", "operator", "US-CA"), kInsideM);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(),
              HasSubstr("operator home region US-CA differs from this "
                        "deployment's region EU-CH"));
  EXPECT_TRUE(ListIntents(alice).empty());

  // What the deployment does keep, it lists.
  ASSERT_TRUE(FileIntent(alice, kInsideM).ok());
  EXPECT_EQ(ListIntents(alice).size(), 1u);
}

TEST_F(RegionServiceTest, ConstraintOutsideOrFromAnotherRegionIsNotPublished) {
  const std::string foca = Token("ch-foca", "regulator", "EU-CH");
  grpc::Status s = Publish(foca, kOutsideM);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("lies outside region EU-CH"));

  s = Publish(Token("us-faa", "regulator", "US-CA"), kInsideM);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(),
              HasSubstr("operator home region US-CA differs from this "
                        "deployment's region EU-CH"));
  EXPECT_EQ(CountConstraints(foca), 0);

  ASSERT_TRUE(Publish(foca, kInsideM).ok());
  EXPECT_EQ(CountConstraints(foca), 1);
}

TEST_F(RegionServiceTest, RegistrationFromAnotherRegionIsNotStored) {
  const std::string serial = registry::test_util::Serial(1);
  v1::RegisterAircraftResponse registered;
  grpc::Status s = registry_stub_->RegisterAircraft(
      ServiceTestAuth::As(Token("us-faa", "regulator", "US-CA")).get(),
      registry::test_util::Reg(serial, "op-1"), &registered);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(),
              HasSubstr("operator home region US-CA differs from this "
                        "deployment's region EU-CH"));

  const std::string foca = Token("ch-foca", "regulator", "EU-CH");
  auto list = [&] {
    v1::ListRegistrationsRequest request;
    request.set_operator_id("op-1");
    request.set_include_inactive(true);
    v1::ListRegistrationsResponse response;
    const grpc::Status listed = registry_stub_->ListRegistrations(
        ServiceTestAuth::As(foca).get(), request, &response);
    EXPECT_TRUE(listed.ok()) << listed.error_message();
    return response.registrations_size();
  };
  v1::GetRegistrationRequest get;
  get.set_serial_number(serial);
  v1::GetRegistrationResponse got;
  EXPECT_EQ(registry_stub_
                ->GetRegistration(ServiceTestAuth::As(foca).get(), get, &got)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(list(), 0);

  ASSERT_TRUE(registry_stub_
                  ->RegisterAircraft(ServiceTestAuth::As(foca).get(),
                                     registry::test_util::Reg(serial, "op-1"),
                                     &registered)
                  .ok());
  EXPECT_EQ(list(), 1);
}

TEST_F(RegionServiceTest, PositionStreamOfAnotherRegionIsRefused) {
  grpc::ClientContext context;
  ServiceTestAuth::Authorize(&context, Token("alice", "operator", "US-CA"));
  auto stream = telemetry_stub_->StreamPositions(&context);
  v1::PositionBatch batch;
  batch.set_batch_seq(1);
  *batch.add_reports() =
      test_util::ReportAt("A1", East(kInsideM), clock_.Now());
  stream->Write(batch);  // may fail: the server has refused the stream
  stream->WritesDone();
  v1::AlertBatch in;
  while (stream->Read(&in)) {
  }
  const grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(),
              HasSubstr("operator home region US-CA differs from this "
                        "deployment's region EU-CH"));
  EXPECT_EQ(telemetry_->track_count(), 0u);
  EXPECT_TRUE(Observed().empty());
}

TEST_F(RegionServiceTest, PositionOutsideIsRefusedAloneAndNotTracked) {
  grpc::ClientContext context;
  ServiceTestAuth::Authorize(&context, Token("alice", "operator", "EU-CH"));
  auto stream = telemetry_stub_->StreamPositions(&context);
  test_util::AlertCollector<
      grpc::ClientReaderWriter<v1::PositionBatch, v1::AlertBatch>>
      in(stream.get());
  v1::PositionBatch batch;
  batch.set_batch_seq(1);
  *batch.add_reports() =
      test_util::ReportAt("A1", East(kInsideM), clock_.Now());
  *batch.add_reports() =
      test_util::ReportAt("A2", East(kOutsideM), clock_.Now());
  ASSERT_TRUE(stream->Write(batch));
  ASSERT_TRUE(in.WaitForAck(1));
  // A2 again, outside: it must not replace anything nor start tracking.
  // (Past the once-a-second rule for acknowledgements.)
  clock_.Advance(absl::Seconds(2));
  batch.Clear();
  batch.set_batch_seq(2);
  *batch.add_reports() =
      test_util::ReportAt("A2", East(kOutsideM + 10), clock_.Now());
  ASSERT_TRUE(stream->Write(batch));
  ASSERT_TRUE(in.WaitForAck(2));
  stream->WritesDone();
  in.Join();
  EXPECT_TRUE(stream->Finish().ok());

  std::vector<std::string> refused;
  for (const v1::ReportError& e : in.Errors()) {
    if (absl::StrContains(e.message(), "region")) {
      refused.push_back(absl::StrCat(e.batch_seq(), "/", e.report_index(), ": ",
                                     e.message()));
    }
  }
  EXPECT_THAT(refused,
              ElementsAre("1/1: reports[1].position lies outside region "
                          "EU-CH (deployment boundary)",
                          "2/0: reports[0].position lies outside region "
                          "EU-CH (deployment boundary)"));
  // A1 (inside) reached the core and the observer; A2 neither.
  EXPECT_EQ(telemetry_->track_count(), 1u);
  EXPECT_THAT(Observed(), ElementsAre("A1"));
}

// A provider's flight of one state at `p`, now.
v1::PublishedFlight PublishedAt(const std::string& serial, const geo::LatLng& p,
                                absl::Time t) {
  v1::PublishedFlight f;
  f.set_uas_id(serial);
  f.set_uas_id_type(v1::UAS_ID_TYPE_SERIAL_NUMBER);
  f.set_ua_type(v1::UA_TYPE_HELICOPTER_OR_MULTIROTOR);
  v1::PublishedState* s = f.add_states();
  s->mutable_time()->set_seconds(absl::ToUnixSeconds(t));
  s->set_status(v1::RID_OPERATIONAL_STATUS_AIRBORNE);
  s->mutable_position()->set_lat_deg(p.lat_deg);
  s->mutable_position()->set_lng_deg(p.lng_deg);
  s->mutable_altitude()->set_value_m(500);
  s->mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  s->set_track_deg(90);
  s->set_speed_mps(5);
  return f;
}

TEST_F(RegionServiceTest, ReceptionsOutsideAreRefusedByFrameAndNeverShown) {
  using remoteid::test_util::AircraftFrame;
  using remoteid::test_util::BasicIdMessage;
  using remoteid::test_util::Frame;
  using remoteid::test_util::LocationMessage;
  const absl::Time now = clock_.Now();
  const geo::LatLng inside = East(kInsideM), outside = East(kOutsideM);
  v1::ReportReceptionsResponse response;
  const grpc::Status s = ReportReceptions(
      Token("rx-zh-1", "receiver", "EU-CH"),
      {AircraftFrame("aa:00:00:00:00:01", "ZRH1A0000000001", inside, now),
       AircraftFrame("aa:00:00:00:00:02", "KNZ1A0000000002", outside, now),
       // An aircraft named by an ID-only frame, then placed outside.
       Frame("aa:00:00:00:00:03", BasicIdMessage("KNZ1A0000000003"), now),
       Frame("aa:00:00:00:00:03", LocationMessage(outside, 500, now), now)},
      &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::vector<std::string> refused;
  for (const v1::FrameError& e : response.errors()) {
    refused.push_back(absl::StrCat(e.frame_index(), ": ", e.message()));
  }
  EXPECT_THAT(refused, ElementsAre("1: frames[1].position lies outside region "
                                   "EU-CH (deployment boundary)",
                                   "3: frames[3].position lies outside region "
                                   "EU-CH (deployment boundary)"));
  EXPECT_EQ(response.accepted_frames(), 2);
  EXPECT_EQ(response.aircraft_positions(), 1);

  // Afterwards: the display shows the aircraft inside and nothing of the
  // two outside, and only the one inside became an intruder for tactical
  // deconfliction.
  EXPECT_THAT(Shown(inside), ElementsAre("ZRH1A0000000001"));
  EXPECT_TRUE(Shown(outside).empty());
  EXPECT_EQ(rid_->flight_count(), 1u);
  EXPECT_THAT(Intruders(), ElementsAre("ZRH1A0000000001"));
}

TEST_F(RegionServiceTest, ReceptionsFromAnotherRegionAreRefusedWhole) {
  v1::ReportReceptionsResponse response;
  const grpc::Status s =
      ReportReceptions(Token("rx-ka-1", "receiver", "EU-DE"),
                       {remoteid::test_util::AircraftFrame(
                           "aa:00:00:00:00:01", "ZRH1A0000000001",
                           East(kInsideM), clock_.Now())},
                       &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(),
              HasSubstr("operator home region EU-DE differs from this "
                        "deployment's region EU-CH"));
  EXPECT_TRUE(Shown(East(kInsideM)).empty());
  EXPECT_EQ(rid_->flight_count(), 0u);
  EXPECT_TRUE(Intruders().empty());
}

TEST_F(RegionServiceTest, PublishedFlightsOutsideAreRefusedWhole) {
  const std::string uss = Token("uss-1", "operator", "EU-CH");
  const geo::LatLng inside = East(kInsideM), outside = East(kOutsideM);
  v1::PublishFlightsRequest request;
  *request.add_flights() = PublishedAt("1AKGAAN8G70R7JS", inside, clock_.Now());
  *request.add_flights() = PublishedAt("ULYK563L5G", outside, clock_.Now());
  v1::PublishFlightsResponse response;
  grpc::Status s = rid_stub_->PublishFlights(ServiceTestAuth::As(uss).get(),
                                             request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(),
            "flights[1].states[0].position lies outside region EU-CH "
            "(deployment boundary)");
  // Nothing of the request: not even the flight inside.
  EXPECT_TRUE(Shown(inside).empty());
  EXPECT_TRUE(Shown(outside).empty());
  EXPECT_TRUE(Intruders().empty());

  // Inside only, but from a token of another home region.
  request.mutable_flights()->RemoveLast();
  s = rid_stub_->PublishFlights(
      ServiceTestAuth::As(Token("uss-1", "operator", "US-CA")).get(), request,
      &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(),
              HasSubstr("operator home region US-CA differs from this "
                        "deployment's region EU-CH"));
  EXPECT_TRUE(Shown(inside).empty());

  // What the deployment does keep, it shows.
  s = rid_stub_->PublishFlights(ServiceTestAuth::As(uss).get(), request,
                                &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.states_accepted(), 1);
  EXPECT_THAT(Shown(inside), ElementsAre("1AKGAAN8G70R7JS"));
  EXPECT_THAT(Intruders(), ElementsAre("1AKGAAN8G70R7JS"));
}

}  // namespace
}  // namespace utm
