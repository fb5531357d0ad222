// The Remote ID service over a real gRPC server on a loopback port: the
// display (scopes, views, clusters, the live stream), the published network
// test flights, and flight details only for law enforcement with a case
// reference, audited before the answer leaves.
#include "services/remoteid/remoteid_service.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/remoteid/network_flights.h"
#include "services/remoteid/remoteid_core.h"
#include "tests/service_test_util.h"
#include "utm/v1/remote_id.grpc.pb.h"

namespace utm::remoteid {
namespace {

using test_util::ServiceTestAuth;
using ::testing::HasSubstr;

std::optional<std::string> ReadShared(const std::string& name) {
  std::ifstream in(std::string(UTM_SHARED_DATA_DIR "/remoteid/network/") +
                   name);
  if (!in) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Between the Zurich test flights' take-off points.
const geo::LatLng kZurich{47.3707, 8.4980};

// A view holding both Zurich test flights' tracks (1.7 km across).
v1::LatLngRect BothFlights() {
  v1::LatLngRect r;
  r.mutable_south_west()->set_lat_deg(47.3690);
  r.mutable_south_west()->set_lng_deg(8.4875);
  r.mutable_north_east()->set_lat_deg(47.3720);
  r.mutable_north_east()->set_lng_deg(8.5095);
  return r;
}

class RemoteIdServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RemoteIdOptions options;
    options.session_key = "0123456789abcdef0123456789abcdef";
    core_ = std::make_unique<RemoteIdCore>(options, RealClock::Get());
    service_ = std::make_unique<RemoteIdService>(
        core_.get(), auth_.verifier(), RealClock::Get(),
        [this](const audit::AuditEvent& e) -> absl::Status {
          absl::MutexLock lock(&mu_);
          if (!audit_ok_) return absl::UnavailableError("audit log down");
          audited_.push_back(e);
          return absl::OkStatus();
        },
        [this](std::vector<HeardState> heard) {
          absl::MutexLock lock(&mu_);
          for (HeardState& h : heard) heard_.push_back(std::move(h));
        },
        [this] {
          RemoteIdService::Options o;
          // A stand-in for the registry: what the test registers.
          o.registrations = [this](const std::string& serial)
              -> std::optional<v1::AircraftRegistration> {
            absl::MutexLock lock(&mu_);
            auto it = registered_.find(serial);
            if (it == registered_.end()) return std::nullopt;
            return it->second;
          };
          return o;
        }());
    ticker_ = std::make_unique<RemoteIdService::WatchTicker>(service_.get());
    server_ = *test_util::StartOnLoopback({service_.get()});
    stub_ = v1::RemoteIdService::NewStub(test_util::LoopbackChannel(*server_));
  }
  void TearDown() override {
    service_->EndStreams();
    server_->Shutdown(absl::Seconds(1));
    ticker_.reset();
  }

  // Publishes the Zurich test flights whole, moved so that their last state
  // is 0.5 s ago. The flights' reference time is returned shifted.
  absl::Status PublishZurich() {
    const std::optional<std::string> text =
        ReadShared("zurich-two-flights.json");
    if (!text) return absl::NotFoundError("sample data");
    absl::StatusOr<NetworkTestFlights> flights = ParseNetworkTestFlights(*text);
    if (!flights.ok()) return flights.status();
    // The states of the last 50 s (the server takes states at most 60 s
    // old), all at once.
    const absl::Time now = absl::Now();
    const absl::Duration shift =
        now - absl::Milliseconds(500) - flights->end_time();
    v1::PublishFlightsRequest request = flights->StatesBetween(
        absl::InfinitePast(), absl::InfiniteFuture(), shift);
    v1::PublishFlightsResponse response;
    grpc::Status s = stub_->PublishFlights(
        ServiceTestAuth::As(auth_.Token("uss-1", "operator")).get(), request,
        &response);
    if (!s.ok()) return absl::UnknownError(s.error_message());
    last_states_.clear();
    for (const v1::PublishedFlight& f : request.flights()) {
      last_states_[f.uas_id()] = f.states(f.states_size() - 1);
    }
    return absl::OkStatus();
  }

  ServiceTestAuth auth_{RealClock::Get()};
  std::unique_ptr<RemoteIdCore> core_;
  std::unique_ptr<RemoteIdService> service_;
  std::unique_ptr<RemoteIdService::WatchTicker> ticker_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<v1::RemoteIdService::Stub> stub_;
  std::map<std::string, v1::PublishedState> last_states_;

  absl::Mutex mu_;
  bool audit_ok_ ABSL_GUARDED_BY(mu_) = true;
  std::vector<audit::AuditEvent> audited_ ABSL_GUARDED_BY(mu_);
  std::vector<HeardState> heard_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::AircraftRegistration> registered_
      ABSL_GUARDED_BY(mu_);
};

TEST_F(RemoteIdServiceTest, TheDisplayNeedsTheDisplayScope) {
  v1::SearchFlightsRequest request;
  *request.mutable_view() = DisplayView::SquareAround(kZurich, 1000);
  v1::SearchFlightsResponse response;
  grpc::Status s =
      stub_->SearchFlights(ServiceTestAuth::As("").get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  s = stub_->SearchFlights(
      ServiceTestAuth::As(auth_.Token("op", "operator")).get(), request,
      &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("utm.rid_display"));
  s = stub_->SearchFlights(
      ServiceTestAuth::As(auth_.Token("public", "display")).get(), request,
      &response);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(RemoteIdServiceTest, PublishedTestFlightsAppearInTheDisplay) {
  const absl::Status published = PublishZurich();
  if (absl::IsNotFound(published)) GTEST_SKIP() << "sample data not found";
  ASSERT_TRUE(published.ok()) << published;
  {
    absl::MutexLock lock(&mu_);
    EXPECT_EQ(heard_.size(), 30u);  // 17 + 13 states, none a participant
  }
  v1::SearchFlightsRequest request;
  *request.mutable_view() = BothFlights();
  v1::SearchFlightsResponse response;
  const std::string display = auth_.Token("public", "display");
  grpc::Status s = stub_->SearchFlights(ServiceTestAuth::As(display).get(),
                                        request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(response.flights_size(), 2);
  for (const v1::RidFlight& f : response.flights()) {
    ASSERT_TRUE(last_states_.count(f.id())) << f.id();
    const v1::PublishedState& last = last_states_[f.id()];
    EXPECT_DOUBLE_EQ(f.position().lat_deg(), last.position().lat_deg());
    EXPECT_DOUBLE_EQ(f.position().lng_deg(), last.position().lng_deg());
    EXPECT_DOUBLE_EQ(f.altitude().value_m(), last.altitude().value_m());
    EXPECT_DOUBLE_EQ(f.track_deg(), last.track_deg());
    EXPECT_EQ(f.source(), v1::RID_SOURCE_NETWORK_PUBLISHED);
    EXPECT_FALSE(f.has_operator_location());  // not public by default
    EXPECT_GE(f.recent_positions_size(), 13);
  }
  EXPECT_EQ(response.flights(0).id(), "1AKGAAN8G70R7JS");
  EXPECT_EQ(response.flights(1).id(), "ULYK563L5G");

  // Wider: clusters only, holding both.
  *request.mutable_view() = DisplayView::SquareAround(kZurich, 4000);
  s = stub_->SearchFlights(ServiceTestAuth::As(display).get(), request,
                           &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.flights_size(), 0);
  int count = 0;
  for (const v1::RidCluster& c : response.clusters()) {
    count += c.aircraft_count();
    EXPECT_GE(c.area_m2(), 0.15 * 4000 * 4000 * 0.99);
  }
  EXPECT_EQ(count, 2);
  // Too wide: refused, naming the limit.
  *request.mutable_view() = DisplayView::SquareAround(kZurich, 5500);
  s = stub_->SearchFlights(ServiceTestAuth::As(display).get(), request,
                           &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(),
              HasSubstr("view: diagonal 7.78 km exceeds 7 km"));
}

TEST_F(RemoteIdServiceTest, InvalidPublishedStatesAreRefusedNamingTheField) {
  const std::optional<std::string> text =
      ReadShared("invalid/invalid_wrong_track.json");
  if (!text) GTEST_SKIP() << "sample data not found";
  absl::StatusOr<NetworkTestFlights> flights = ParseNetworkTestFlights(*text);
  ASSERT_TRUE(flights.ok()) << flights.status();
  const absl::Duration shift = absl::Now() - flights->end_time();
  const v1::PublishFlightsRequest request = flights->StatesBetween(
      flights->end_time() - absl::Seconds(30), flights->end_time(), shift);
  v1::PublishFlightsResponse response;
  // The bad state is the first; keep it in the window.
  v1::PublishFlightsRequest with_first =
      flights->StatesBetween(absl::InfinitePast(), absl::InfiniteFuture(),
                             absl::Now() - flights->end_time());
  grpc::Status s = stub_->PublishFlights(
      ServiceTestAuth::As(auth_.Token("uss-1", "operator")).get(), with_first,
      &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(),
              HasSubstr("flights[0].states[0].track_deg: 365 is outside"));
  EXPECT_EQ(core_->flight_count(), 0u);
  // A display token may not publish.
  s = stub_->PublishFlights(
      ServiceTestAuth::As(auth_.Token("p", "display")).get(), request,
      &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(RemoteIdServiceTest, DetailsOnlyForPoliceWithACaseAuditedFirst) {
  const absl::Status published = PublishZurich();
  if (absl::IsNotFound(published)) GTEST_SKIP() << "sample data not found";
  ASSERT_TRUE(published.ok()) << published;
  v1::GetFlightDetailsRequest request;
  request.set_id("1AKGAAN8G70R7JS");
  v1::GetFlightDetailsResponse response;
  // The public: never.
  grpc::Status s = stub_->GetFlightDetails(
      ServiceTestAuth::As(auth_.Token("public", "display")).get(), request,
      &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("utm.law_enforcement"));
  // Another operator: never.
  s = stub_->GetFlightDetails(
      ServiceTestAuth::As(auth_.Token("uss-2", "operator")).get(), request,
      &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // The police without a case reference: refused.
  const std::string police = auth_.Token("officer-17", "police");
  s = stub_->GetFlightDetails(ServiceTestAuth::As(police).get(), request,
                              &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("case_reference: required"));
  request.set_case_reference("bad\ncase");
  s = stub_->GetFlightDetails(ServiceTestAuth::As(police).get(), request,
                              &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  {
    absl::MutexLock lock(&mu_);
    EXPECT_TRUE(audited_.empty());
  }
  // With a case reference: the details, and the audit entry.
  request.set_case_reference("ZH-2026-WARRANT-0042");
  s = stub_->GetFlightDetails(ServiceTestAuth::As(police).get(), request,
                              &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.details().serial_number(), "1AKGAAN8G70R7JS");
  EXPECT_EQ(response.details().operator_id(), "CHE-RP-f39mqfitkh9e5");
  EXPECT_EQ(response.details().operator_account(), "uss-1");
  EXPECT_EQ(response.details().ua_type(), v1::UA_TYPE_HELICOPTER_OR_MULTIROTOR);
  EXPECT_DOUBLE_EQ(response.details().operator_location().lat_deg(),
                   47.37085983569079);
  {
    absl::MutexLock lock(&mu_);
    ASSERT_EQ(audited_.size(), 1u);
    EXPECT_EQ(audited_[0].subject, "officer-17");
    EXPECT_EQ(audited_[0].case_reference, "ZH-2026-WARRANT-0042");
    EXPECT_EQ(audited_[0].action, "flight-details");
    EXPECT_EQ(audited_[0].target, "1AKGAAN8G70R7JS");
    EXPECT_THAT(audited_[0].disclosed,
                HasSubstr("serial_number=1AKGAAN8G70R7JS"));
    audit_ok_ = false;
  }
  // No audit entry, no answer.
  response.Clear();
  s = stub_->GetFlightDetails(ServiceTestAuth::As(police).get(), request,
                              &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_FALSE(response.has_details());
  // Unknown ids: NOT_FOUND, nothing disclosed.
  request.set_id("nobody");
  {
    absl::MutexLock lock(&mu_);
    audit_ok_ = true;
  }
  s = stub_->GetFlightDetails(ServiceTestAuth::As(police).get(), request,
                              &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  absl::MutexLock lock(&mu_);
  EXPECT_EQ(audited_.size(), 1u);
}

TEST_F(RemoteIdServiceTest, DetailsAddWhatTheRegistryKnows) {
  const absl::Status published = PublishZurich();
  if (absl::IsNotFound(published)) GTEST_SKIP() << "sample data not found";
  ASSERT_TRUE(published.ok()) << published;
  {
    absl::MutexLock lock(&mu_);
    v1::AircraftRegistration r;
    r.set_serial_number("1AKGAAN8G70R7JS");
    r.set_operator_id("uss-1");
    r.set_operator_registration_id("CHE-REGISTERED");
    r.set_make_model("Quad X4");
    r.set_mass_g(900);
    r.mutable_revoke_time()->set_seconds(1'800'000'000);  // 2027-01-15
    r.set_revoke_reason("failed inspection");
    registered_[r.serial_number()] = r;
  }
  v1::GetFlightDetailsRequest request;
  request.set_id("1AKGAAN8G70R7JS");
  request.set_case_reference("ZH-2026-WARRANT-0043");
  v1::GetFlightDetailsResponse response;
  grpc::Status s = stub_->GetFlightDetails(
      ServiceTestAuth::As(auth_.Token("officer-17", "police")).get(), request,
      &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::RidFlightDetails& d = response.details();
  EXPECT_EQ(d.registry_status(),
            "revoked at 2027-01-15T08:00:00Z: failed inspection");
  EXPECT_EQ(d.make_model(), "Quad X4");
  // What the flight itself gave stands.
  EXPECT_EQ(d.operator_id(), "CHE-RP-f39mqfitkh9e5");
  EXPECT_EQ(d.operator_account(), "uss-1");
  {
    absl::MutexLock lock(&mu_);
    ASSERT_EQ(audited_.size(), 1u);
    EXPECT_THAT(audited_[0].disclosed,
                HasSubstr("registry=revoked at 2027-01-15T08:00:00Z"));
  }
  // The other flight is not registered: nothing added.
  request.set_id("ULYK563L5G");
  s = stub_->GetFlightDetails(
      ServiceTestAuth::As(auth_.Token("officer-17", "police")).get(), request,
      &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.details().registry_status(), "");
  EXPECT_EQ(response.details().make_model(), "");
}

TEST_F(RemoteIdServiceTest, WatchStreamsTheViewAtLeastOnceASecond) {
  v1::WatchFlightsRequest request;
  *request.mutable_view() = BothFlights();
  request.mutable_period()->set_nanos(500000000);
  auto context = ServiceTestAuth::As(auth_.Token("public", "display"), 20);
  std::unique_ptr<grpc::ClientReader<v1::FlightsUpdate>> reader =
      stub_->WatchFlights(context.get(), request);
  v1::FlightsUpdate update;
  ASSERT_TRUE(reader->Read(&update));
  EXPECT_EQ(update.flights_size(), 0);
  const int64_t first = update.sequence();
  const absl::Status published = PublishZurich();
  if (absl::IsNotFound(published)) {
    context->TryCancel();
    GTEST_SKIP() << "sample data not found";
  }
  ASSERT_TRUE(published.ok()) << published;
  // Within a few updates the two flights are in it.
  int64_t last = first;
  bool seen = false;
  for (int i = 0; i < 10 && !seen; ++i) {
    ASSERT_TRUE(reader->Read(&update));
    EXPECT_GT(update.sequence(), last);
    // Never closer than the period asked for (the sequence is the server
    // time of the update, in milliseconds).
    EXPECT_GE(update.sequence() - last, 499);
    last = update.sequence();
    seen = update.flights_size() == 2;
  }
  EXPECT_TRUE(seen);
  context->TryCancel();
  reader->Finish();

  // Resuming: only newer updates.
  v1::WatchFlightsRequest resume = request;
  resume.set_after_sequence(last + 60000);  // a minute "ahead"
  auto context2 = ServiceTestAuth::As(auth_.Token("public", "display"), 20);
  reader = stub_->WatchFlights(context2.get(), resume);
  ASSERT_TRUE(reader->Read(&update));
  EXPECT_GT(update.sequence(), last + 60000);
  context2->TryCancel();
  reader->Finish();
}

TEST_F(RemoteIdServiceTest, WatchRefusesBadRequests) {
  const std::string display = auth_.Token("public", "display");
  struct Case {
    std::function<void(v1::WatchFlightsRequest*)> spoil;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {[](v1::WatchFlightsRequest* r) { r->clear_view(); },
            "view: required"},
           {[](v1::WatchFlightsRequest* r) {
              r->mutable_period()->set_seconds(2);
            },
            "period: 2s is outside [100ms, 1s]"},
           {[](v1::WatchFlightsRequest* r) {
              r->mutable_period()->set_nanos(50000000);
            },
            "period: 50ms is outside"},
           {[](v1::WatchFlightsRequest* r) {
              *r->mutable_view() = DisplayView::SquareAround(kZurich, 6000);
            },
            "exceeds 7 km"},
           {[](v1::WatchFlightsRequest* r) { r->set_after_sequence(-1); },
            "after_sequence: -1 is negative"},
       }) {
    v1::WatchFlightsRequest request;
    *request.mutable_view() = DisplayView::SquareAround(kZurich, 1000);
    c.spoil(&request);
    auto context = ServiceTestAuth::As(display);
    auto reader = stub_->WatchFlights(context.get(), request);
    v1::FlightsUpdate update;
    EXPECT_FALSE(reader->Read(&update));
    const grpc::Status s = reader->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.message;
    EXPECT_THAT(s.error_message(), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace utm::remoteid
