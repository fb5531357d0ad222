// The Remote ID display across utmd replicas on a real Redis, end to end:
// two processes of the tactical tier (--services telemetry,remoteid,operator),
// an aircraft streaming positions to one, a provider publishing to the
// other; both show both flights under the same ids, the police get the
// streaming aircraft's operator from the replica it never reported to, and
// the operator sees its aircraft in its fleet there.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/volume_convert.h"
#include "tests/utmd_redis_fixture.h"
#include "utm/v1/operator.grpc.pb.h"
#include "utm/v1/remote_id.grpc.pb.h"
#include "utm/v1/telemetry.grpc.pb.h"

namespace utm::testing {
namespace {

const double kLat = 47.3769, kLng = 8.5417;

std::unique_ptr<v1::RemoteIdService::Stub> RemoteId(
    const std::string& address) {
  return v1::RemoteIdService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

v1::SearchFlightsRequest Around() {
  v1::SearchFlightsRequest request;
  v1::LatLngRect* view = request.mutable_view();
  view->mutable_south_west()->set_lat_deg(kLat - 0.005);
  view->mutable_south_west()->set_lng_deg(kLng - 0.007);
  view->mutable_north_east()->set_lat_deg(kLat + 0.005);
  view->mutable_north_east()->set_lng_deg(kLng + 0.007);
  return request;
}

class UtmdRidOnRedisTest : public UtmdRedisTest {
 protected:
  // The flights `address` shows around the centre, sorted by id.
  std::vector<v1::RidFlight> Shown(const std::string& address) {
    v1::SearchFlightsResponse response;
    grpc::Status s = RemoteId(address)->SearchFlights(
        Context(Token("public-1", {auth::Scope::kRemoteIdDisplay})).get(),
        Around(), &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {response.flights().begin(), response.flights().end()};
  }
  // Polls Shown() until it holds `n` flights (at most 10 s).
  bool AwaitShown(const std::string& address, int n) {
    for (int i = 0; i < 200; ++i) {
      if (static_cast<int>(Shown(address).size()) == n) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }
};

TEST_F(UtmdRidOnRedisTest, EveryReplicaShowsTheWholePicture) {
  UtmdProcess* a = StartReplica({"--services", "telemetry,remoteid,operator"});
  ASSERT_NE(a, nullptr);
  UtmdProcess* b = StartReplica({"--services", "telemetry,remoteid,operator"});
  ASSERT_NE(b, nullptr);

  // Alice's aircraft streams one position to a.
  const std::string alice =
      Token("alice", {auth::Scope::kStrategicCoordination});
  auto telemetry = v1::TelemetryService::NewStub(
      grpc::CreateChannel(a->address(), grpc::InsecureChannelCredentials()));
  std::unique_ptr<grpc::ClientContext> stream_context = Context(alice);
  auto stream = telemetry->StreamPositions(stream_context.get());
  v1::PositionBatch batch;
  batch.set_batch_seq(1);
  v1::PositionReport* r = batch.add_reports();
  r->set_aircraft_id("drone-7");
  *r->mutable_time() = TimeToProto(absl::Now());
  r->mutable_position()->set_lat_deg(kLat);
  r->mutable_position()->set_lng_deg(kLng);
  r->mutable_altitude()->set_value_m(550);
  r->mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  r->mutable_velocity()->set_east_mps(5);
  r->mutable_accuracy()->set_horizontal_m(3);
  ASSERT_TRUE(stream->Write(batch));
  stream->WritesDone();
  v1::AlertBatch in;
  while (stream->Read(&in)) {
  }
  ASSERT_TRUE(stream->Finish().ok());

  // A provider publishes another flight to b.
  v1::PublishFlightsRequest publish;
  v1::PublishedFlight* f = publish.add_flights();
  f->set_uas_id("1596A4JPN5R7B10");
  f->set_uas_id_type(v1::UAS_ID_TYPE_SERIAL_NUMBER);
  f->set_ua_type(v1::UA_TYPE_HELICOPTER_OR_MULTIROTOR);
  f->set_operator_id("CHE-RP-f39mqfitkh9e5");
  v1::PublishedState* s = f->add_states();
  *s->mutable_time() = TimeToProto(absl::Now());
  s->set_status(v1::RID_OPERATIONAL_STATUS_AIRBORNE);
  s->mutable_position()->set_lat_deg(kLat + 0.002);
  s->mutable_position()->set_lng_deg(kLng);
  s->mutable_altitude()->set_value_m(520);
  s->mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  s->set_speed_mps(4);
  v1::PublishFlightsResponse published;
  grpc::Status st =
      RemoteId(b->address())
          ->PublishFlights(
              Context(Token("uss-1", {auth::Scope::kStrategicCoordination}))
                  .get(),
              publish, &published);
  ASSERT_TRUE(st.ok()) << st.error_message();

  // Both replicas show both flights, under the same ids.
  ASSERT_TRUE(AwaitShown(a->address(), 2)) << Shown(a->address()).size();
  ASSERT_TRUE(AwaitShown(b->address(), 2)) << Shown(b->address()).size();
  const std::vector<v1::RidFlight> on_a = Shown(a->address());
  const std::vector<v1::RidFlight> on_b = Shown(b->address());
  ASSERT_EQ(on_a.size(), 2u);
  ASSERT_EQ(on_b.size(), 2u);
  std::string network_id;
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(on_a[i].id(), on_b[i].id());
    EXPECT_EQ(on_a[i].source(), on_b[i].source());
    if (on_b[i].source() == v1::RID_SOURCE_NETWORK) network_id = on_b[i].id();
  }
  ASSERT_FALSE(network_id.empty());
  EXPECT_NE(network_id, "drone-7");  // a session id, never the aircraft id

  // The police, on b, with a case reference: the operator who streamed to a.
  v1::GetFlightDetailsRequest details;
  details.set_id(network_id);
  details.set_case_reference("ZH-2026-4471");
  v1::GetFlightDetailsResponse got;
  st = RemoteId(b->address())
           ->GetFlightDetails(
               Context(Token("officer-17", {auth::Scope::kLawEnforcement}))
                   .get(),
               details, &got);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(got.details().operator_account(), "alice");
  EXPECT_EQ(got.details().aircraft_id(), "drone-7");

  // Alice's fleet, watched on b: the aircraft that streamed to a.
  auto fleet = v1::OperatorService::NewStub(
      grpc::CreateChannel(b->address(), grpc::InsecureChannelCredentials()));
  std::unique_ptr<grpc::ClientContext> watch = Context(alice);
  auto updates = fleet->WatchFleet(watch.get(), v1::WatchFleetRequest());
  v1::FleetUpdate update;
  ASSERT_TRUE(updates->Read(&update));
  ASSERT_EQ(update.aircraft_size(), 1);
  EXPECT_EQ(update.aircraft(0).aircraft_id(), "drone-7");
  EXPECT_EQ(update.aircraft(0).remote_id(), network_id);
  EXPECT_DOUBLE_EQ(update.aircraft(0).position().lat_deg(), kLat);
  watch->TryCancel();
  while (updates->Read(&update)) {
  }
  updates->Finish();
}

}  // namespace
}  // namespace utm::testing
