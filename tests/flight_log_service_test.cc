// OperatorService.ListFlights and GetFlightLog over a real gRPC server on
// loopback: an operator's own flight logs, a long one streamed in several
// chunks, and nothing of another operator's.
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/server.h"
#include "services/common/store.h"
#include "services/common/volume_convert.h"
#include "services/operator/flight_log.h"
#include "services/operator/operator_service.h"
#include "tests/service_test_util.h"

namespace utm::fleet {
namespace {

using test_util::ServiceTestAuth;
using ::testing::HasSubstr;
using ::testing::SizeIs;

const absl::Time kStart = absl::FromUnixSeconds(1800000000);

v1::PositionReport Report(const std::string& aircraft, absl::Time t, int i) {
  v1::PositionReport r;
  r.set_aircraft_id(aircraft);
  *r.mutable_time() = TimeToProto(t);
  r.mutable_position()->set_lat_deg(47.37 + 1e-6 * i);
  r.mutable_position()->set_lng_deg(8.48);
  r.mutable_altitude()->set_value_m(450);
  r.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  r.mutable_velocity()->set_north_mps(0.1);
  return r;
}

class FlightLogServiceTest : public ::testing::Test {
 protected:
  FlightLogServiceTest() {
    store::StoreOptions so;
    so.backend = "memory";
    store_ = *store::OpenStore(so);
    flight_store_ = *OpenFlightLogStore(store_.get());
    logs_ = std::make_unique<FlightLogs>(FlightLogOptions(), &clock_,
                                         &policies_, flight_store_.get());
    fleet_ = std::make_unique<FleetView>(FleetSources());
    service_ = std::make_unique<OperatorService>(fleet_.get(), auth_.verifier(),
                                                 &clock_);
    service_->SetFlightLogs(logs_.get());
    server_ = *test_util::StartOnLoopback({service_.get()});
    stub_ = v1::OperatorService::NewStub(test_util::LoopbackChannel(*server_));
  }
  ~FlightLogServiceTest() override {
    service_->EndStreams();
    server_->Shutdown(absl::Seconds(1));
  }

  void Fly(const std::string& op, const std::string& aircraft, int n) {
    for (int i = 0; i < n; ++i) {
      logs_->OnReport(op, Report(aircraft, clock_.Now(), i));
      clock_.Advance(absl::Seconds(1));
    }
  }

  grpc::Status List(const std::string& who, const v1::ListFlightsRequest& req,
                    v1::ListFlightsResponse* resp) {
    auto context = ServiceTestAuth::As(auth_.Token(who, "operator"));
    return stub_->ListFlights(context.get(), req, resp);
  }

  // Every message of a flight log, and the stream's status.
  grpc::Status Get(const std::string& who, const std::string& id,
                   std::vector<v1::FlightLogPart>* parts,
                   const std::string& role = "operator") {
    auto context = ServiceTestAuth::As(auth_.Token(who, role));
    v1::GetFlightLogRequest request;
    request.set_flight_id(id);
    auto reader = stub_->GetFlightLog(context.get(), request);
    v1::FlightLogPart part;
    while (reader->Read(&part)) parts->push_back(part);
    return reader->Finish();
  }

  SimulatedClock clock_{kStart};
  ServiceTestAuth auth_{&clock_};
  UniformDataPolicies policies_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<FlightLogStore> flight_store_;
  std::unique_ptr<FlightLogs> logs_;
  std::unique_ptr<FleetView> fleet_;
  std::unique_ptr<OperatorService> service_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<v1::OperatorService::Stub> stub_;
};

TEST_F(FlightLogServiceTest, TheOwnerGetsALongFlightInChunks) {
  Fly("alice", "drone-1", 1500);  // two chunks written, 300 points not yet
  v1::ListFlightsResponse list;
  ASSERT_TRUE(List("alice", {}, &list).ok());
  ASSERT_THAT(list.flights(), SizeIs(1));
  const v1::FlightSummary& f = list.flights(0);
  EXPECT_EQ(f.aircraft_id(), "drone-1");
  EXPECT_EQ(f.point_count(), 1500);
  EXPECT_TRUE(f.in_progress());
  EXPECT_TRUE(list.next_page_token().empty());

  std::vector<v1::FlightLogPart> parts;
  grpc::Status s = Get("alice", f.flight_id(), &parts);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_THAT(parts, SizeIs(4));
  ASSERT_TRUE(parts[0].has_header());
  EXPECT_EQ(parts[0].header().flight().flight_id(), f.flight_id());
  std::vector<int> sizes;
  int64_t previous = 0;
  int i = 0;
  for (size_t k = 1; k < parts.size(); ++k) {
    ASSERT_TRUE(parts[k].has_track());
    sizes.push_back(parts[k].track().points_size());
    for (const v1::FlightTrackPoint& p : parts[k].track().points()) {
      EXPECT_GT(p.time().seconds(), previous);
      previous = p.time().seconds();
      EXPECT_NEAR(p.position().lat_deg(), 47.37 + 1e-6 * i, 1e-7);
      EXPECT_NEAR(p.velocity().north_mps(), 0.1, 0.01);
      ++i;
    }
  }
  EXPECT_THAT(sizes, testing::ElementsAre(600, 600, 300));

  // Ended: all of it written, the same points.
  logs_->CloseAll();
  parts.clear();
  ASSERT_TRUE(Get("alice", f.flight_id(), &parts).ok());
  ASSERT_THAT(parts, SizeIs(4));
  EXPECT_FALSE(parts[0].header().flight().in_progress());
  EXPECT_EQ(parts[3].track().points_size(), 300);
}

TEST_F(FlightLogServiceTest, AnotherOperatorsFlightIsNotFound) {
  Fly("alice", "drone-1", 3);
  v1::ListFlightsResponse list;
  ASSERT_TRUE(List("alice", {}, &list).ok());
  const std::string id = list.flights(0).flight_id();

  v1::ListFlightsResponse bobs;
  ASSERT_TRUE(List("bob", {}, &bobs).ok());
  EXPECT_THAT(bobs.flights(), SizeIs(0));
  std::vector<v1::FlightLogPart> parts;
  grpc::Status s = Get("bob", id, &parts);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(parts, SizeIs(0));
  // Exactly as for an id nobody has.
  grpc::Status unknown =
      Get("bob", "0badf11e-0000-4000-8000-000000000000", &parts);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(),
            absl::StrCat("flight_id: no flight ", id, " of yours"));
}

TEST_F(FlightLogServiceTest, RequestsAreCheckedFieldByField) {
  v1::ListFlightsRequest bad_size;
  bad_size.set_page_size(5000);
  v1::ListFlightsResponse resp;
  grpc::Status s = List("alice", bad_size, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "page_size: 5000 is outside [0, 1000]");
  v1::ListFlightsRequest bad_token;
  bad_token.set_page_token("not.a.token");
  s = List("alice", bad_token, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("page_token"));
  std::vector<v1::FlightLogPart> parts;
  s = Get("alice", "", &parts);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "flight_id: required");
  s = Get("alice", std::string(1000, 'x'), &parts);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("flight_id: longer than"));
  // A token without utm.strategic_coordination.
  s = Get("alice", "x", &parts, "monitor");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(FlightLogServiceTest, PagesWalkEveryFlightOnce) {
  for (int i = 0; i < 7; ++i) {
    Fly("alice", absl::StrCat("drone-", i), 1);
    logs_->CloseAll();
  }
  std::vector<std::string> seen;
  v1::ListFlightsRequest req;
  req.set_page_size(3);
  for (int page = 0; page < 10; ++page) {
    v1::ListFlightsResponse resp;
    ASSERT_TRUE(List("alice", req, &resp).ok());
    for (const auto& f : resp.flights()) seen.push_back(f.aircraft_id());
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  EXPECT_THAT(seen,
              testing::ElementsAre("drone-6", "drone-5", "drone-4", "drone-3",
                                   "drone-2", "drone-1", "drone-0"));
}

TEST(FlightLogServiceWithoutLogs, SaysUnimplemented) {
  SimulatedClock clock(kStart);
  ServiceTestAuth auth(&clock);
  FleetView fleet{FleetSources()};
  OperatorService service(&fleet, auth.verifier(), &clock);
  std::unique_ptr<Server> server = *test_util::StartOnLoopback({&service});
  auto stub = v1::OperatorService::NewStub(test_util::LoopbackChannel(*server));
  auto context = ServiceTestAuth::As(auth.Token("alice", "operator"));
  v1::ListFlightsResponse resp;
  grpc::Status s = stub->ListFlights(context.get(), {}, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(s.error_message(), HasSubstr("keeps no flight logs"));
  server->Shutdown(absl::Seconds(1));
}

}  // namespace
}  // namespace utm::fleet
