// Integration: non-participating aircraft heard by Remote ID, fed through
// TelemetryService::IngestIntruders (the entry point of the Remote ID
// service), on a real gRPC server on a loopback port: the participant's
// operator gets the conflict on its StreamPositions stream, a supervisor
// watching the area sees it, each operator sees only the conflicts of its
// own aircraft, and no token can stream as the intruders' empty operator.
#include <grpcpp/client_context.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/auth_test_util.h"
#include "services/common/clock.h"
#include "services/common/server.h"
#include "services/common/volume_convert.h"
#include "services/telemetry/telemetry_core.h"
#include "services/telemetry/telemetry_service.h"
#include "tests/service_test_util.h"
#include "tests/telemetry_test_util.h"
#include "utm/v1/telemetry.grpc.pb.h"

namespace utm {
namespace {

using test_util::EmptyAirspace;

// Waits (bounded) for a conflict alert RAISED about `aircraft`.
template <typename In>
std::optional<v1::Alert> WaitForConflict(In& in, const std::string& aircraft) {
  return in.WaitFor([&](const v1::Alert& a) {
    return a.kind() == v1::ALERT_KIND_CONFLICT_PREDICTED &&
           a.state() == v1::ALERT_STATE_RAISED &&
           std::count(a.aircraft_ids().begin(), a.aircraft_ids().end(),
                      aircraft) > 0;
  });
}

template <typename Stream>
using Collector = test_util::AlertCollector<Stream>;

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

// `east_m` east of Zurich, then `north_m` north.
geo::LatLng At(double east_m, double north_m = 0) {
  return geo::GeodesicDestination(
      geo::GeodesicDestination(geo::test_util::kZurich, 90, east_m), 0,
      north_m);
}

using Stream = grpc::ClientReaderWriter<v1::PositionBatch, v1::AlertBatch>;

class IntruderServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core_ = std::make_unique<telemetry::TelemetryCore>(
        telemetry::TelemetryOptions(), &clock_, &airspace_);
    service_ = std::make_unique<telemetry::TelemetryService>(
        core_.get(), auth_.verifier(), &clock_);
    absl::StatusOr<std::unique_ptr<Server>> server =
        test_util::StartOnLoopback({service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::TelemetryService::NewStub(test_util::LoopbackChannel(*server_));
  }

  v1::PositionReport Report(const std::string& id, geo::LatLng p, double ve) {
    return test_util::ReportAt(id, p, clock_.Now(), ve);
  }

  telemetry::IntruderReport Heard(const std::string& remote_id, geo::LatLng p,
                                  double ve) {
    telemetry::IntruderReport in;
    in.remote_id = remote_id;
    in.report = Report("", p, ve);
    in.report.mutable_accuracy()->set_horizontal_m(10);
    in.report.mutable_accuracy()->set_vertical_m(10);
    in.latency = absl::Milliseconds(500);
    return in;
  }

  SimulatedClock clock_{kNow};
  test_util::ServiceTestAuth auth_{&clock_};
  EmptyAirspace airspace_;
  std::unique_ptr<telemetry::TelemetryCore> core_;
  std::unique_ptr<telemetry::TelemetryService> service_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<v1::TelemetryService::Stub> stub_;
};

TEST_F(IntruderServiceTest, ParticipantsOperatorAndWatcherGetTheConflict) {
  // A supervisor watches 5 km around the flights.
  const v1::WatchAlertsRequest watch = test_util::WatchCircle(At(1000), 5000);
  grpc::ClientContext watch_context;
  test_util::ServiceTestAuth::Authorize(&watch_context,
                                        auth_.Token("tower", "monitor"));
  auto watcher = stub_->WatchAlerts(&watch_context, watch);
  Collector<grpc::ClientReader<v1::AlertBatch>> watched(watcher.get());

  // Alice's P and Bob's B, 2 km apart, both flying east at 10 m/s.
  grpc::ClientContext a_context, b_context;
  test_util::ServiceTestAuth::Authorize(&a_context,
                                        auth_.Token("alice", "operator"));
  test_util::ServiceTestAuth::Authorize(&b_context,
                                        auth_.Token("bob", "operator"));
  auto a = stub_->StreamPositions(&a_context);
  auto b = stub_->StreamPositions(&b_context);
  Collector<Stream> a_in(a.get()), b_in(b.get());
  v1::PositionBatch batch;
  batch.set_batch_seq(1);
  *batch.add_reports() = Report("P", At(1000), 10);
  ASSERT_TRUE(a->Write(batch));
  batch.Clear();
  batch.set_batch_seq(1);
  *batch.add_reports() = Report("B", At(1000, 2000), 10);
  ASSERT_TRUE(b->Write(batch));
  ASSERT_TRUE(a_in.WaitForAck(1));
  ASSERT_TRUE(b_in.WaitForAck(1));

  // Remote ID hears two aircraft, each 600 m ahead of one of them, flying
  // at it: 10 m + 10 m/s × 0.5 s of extra uncertainty, so D' = 65 m and
  // the loss comes in (600 − 65) / 20 = 26.75 s.
  telemetry::TelemetryCore::Result r = service_->IngestIntruders(
      {Heard("RID-1", At(1600), -10), Heard("RID-2", At(1600, 2000), -10)});
  EXPECT_THAT(r.errors, testing::IsEmpty());
  ASSERT_EQ(r.alerts.size(), 2u);

  std::optional<v1::Alert> alice = WaitForConflict(a_in, "P");
  ASSERT_TRUE(alice.has_value());
  EXPECT_THAT(alice->aircraft_ids(), ElementsAre("RID-1", "P"));
  EXPECT_THAT(alice->intent_ids(), ElementsAre("", ""));
  EXPECT_NEAR(alice->time_to_loss_of_separation().seconds() +
                  alice->time_to_loss_of_separation().nanos() * 1e-9,
              26.75, 0.01);
  EXPECT_THAT(alice->message(),
              HasSubstr("RID-1 (a non-participating aircraft heard by Remote "
                        "ID) and P"));
  std::optional<v1::Alert> bob = WaitForConflict(b_in, "B");
  ASSERT_TRUE(bob.has_value());
  EXPECT_THAT(bob->aircraft_ids(), ElementsAre("RID-2", "B"));
  // The supervisor sees both, under the same ids.
  std::optional<v1::Alert> seen = WaitForConflict(watched, "P");
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->id(), alice->id());
  seen = WaitForConflict(watched, "B");
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->id(), bob->id());

  // Ended, the streams deliver everything queued: each operator got the
  // conflict of its own aircraft only.
  a->WritesDone();
  b->WritesDone();
  EXPECT_TRUE(a->Finish().ok());
  EXPECT_TRUE(b->Finish().ok());
  a_in.Join();
  b_in.Join();
  for (const v1::Alert& x : a_in.Alerts()) {
    EXPECT_THAT(x.aircraft_ids(), testing::Not(testing::Contains("RID-2")));
  }
  for (const v1::Alert& x : b_in.Alerts()) {
    EXPECT_THAT(x.aircraft_ids(), testing::Not(testing::Contains("RID-1")));
  }
  watch_context.TryCancel();
}

// Intruders live under the empty operator id; a token with an empty
// subject, which would stream as that operator, is refused.
TEST_F(IntruderServiceTest, NoTokenStreamsAsTheEmptyOperator) {
  auth::test_util::Claims claims;
  claims.sub = "\"\"";
  grpc::ClientContext context;
  test_util::ServiceTestAuth::Authorize(
      &context, auth::test_util::HmacToken(claims, test_util::kTestSecret));
  auto s = stub_->StreamPositions(&context);
  v1::AlertBatch in;
  EXPECT_FALSE(s->Read(&in));
  const grpc::Status status = s->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("no sub claim"));
  // The same claims with a subject stream.
  claims.sub = "\"alice\"";
  grpc::ClientContext ok_context;
  test_util::ServiceTestAuth::Authorize(
      &ok_context, auth::test_util::HmacToken(claims, test_util::kTestSecret));
  auto ok = stub_->StreamPositions(&ok_context);
  v1::PositionBatch batch;
  batch.set_batch_seq(1);
  *batch.add_reports() = Report("P", At(0), 0);
  EXPECT_TRUE(ok->Write(batch));
  ok->WritesDone();
  while (ok->Read(&in)) {
  }
  EXPECT_TRUE(ok->Finish().ok());
}

}  // namespace
}  // namespace utm
