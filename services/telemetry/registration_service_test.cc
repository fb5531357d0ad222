// The telemetry service with a registration checker, on a real gRPC server
// on a loopback port: an unregistered heavy aircraft's report comes back to
// its operator as a ReportError of its batch while the stream goes on; a
// revocation told to TelemetryService::OnRegistrationChanged reaches the
// operator's stream and an area watcher as REGISTRATION_REVOKED, not
// another operator's stream; a new registration clears it on both.
#include <grpcpp/client_context.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/registration_check.h"
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
template <typename Stream>
using Collector = test_util::AlertCollector<Stream>;

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

geo::LatLng At(double east_m) {
  return geo::GeodesicDestination(geo::test_util::kZurich, 90, east_m);
}

// Serial number → operator; anything else is unregistered (and, with no
// intent declaring a mass, refused).
class MapRegistry final : public registration::RegistrationChecker {
 public:
  void Set(const std::string& serial, const std::string& op, bool revoked) {
    absl::MutexLock lock(&mu_);
    registered_[serial] = {op, revoked};
  }
  absl::Status CheckAircraft(absl::string_view operator_id,
                             absl::string_view aircraft_id, int64_t mass_g,
                             absl::string_view field) const override {
    absl::MutexLock lock(&mu_);
    auto it = registered_.find(aircraft_id);
    if (it != registered_.end() && it->second.first == operator_id &&
        !it->second.second) {
      return absl::OkStatus();
    }
    return absl::FailedPreconditionError(absl::StrCat(
        field, ": ", aircraft_id, " is not registered to you and in force",
        " (declared mass: ", mass_g, " g)"));
  }

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::pair<std::string, bool>> registered_
      ABSL_GUARDED_BY(mu_);
};

using Stream = grpc::ClientReaderWriter<v1::PositionBatch, v1::AlertBatch>;

v1::AircraftRegistration Registration(const std::string& serial,
                                      const std::string& op, bool revoked) {
  v1::AircraftRegistration r;
  r.set_serial_number(serial);
  r.set_operator_id(op);
  r.set_mass_g(900);
  if (revoked) {
    *r.mutable_revoke_time() = TimeToProto(kNow);
    r.set_revoke_reason("reported stolen");
  }
  return r;
}

class TelemetryRegistrationServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.Set("SN-A", "alice", false);
    registry_.Set("SN-B", "bob", false);
    core_ = std::make_unique<telemetry::TelemetryCore>(
        telemetry::TelemetryOptions(), &clock_, &airspace_);
    core_->SetRegistrationChecker(&registry_);
    service_ = std::make_unique<telemetry::TelemetryService>(
        core_.get(), auth_.verifier(), &clock_);
    absl::StatusOr<std::unique_ptr<Server>> server =
        test_util::StartOnLoopback({service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::TelemetryService::NewStub(test_util::LoopbackChannel(*server_));
  }

  v1::PositionReport Report(const std::string& id, geo::LatLng p) {
    return test_util::ReportAt(id, p, clock_.Now());
  }

  SimulatedClock clock_{kNow};
  test_util::ServiceTestAuth auth_{&clock_};
  EmptyAirspace airspace_;
  MapRegistry registry_;
  std::unique_ptr<telemetry::TelemetryCore> core_;
  std::unique_ptr<telemetry::TelemetryService> service_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<v1::TelemetryService::Stub> stub_;
};

TEST_F(TelemetryRegistrationServiceTest,
       RefusedReportsAndRevocationReachTheRightStreams) {
  // A supervisor watches 3 km around Alice's aircraft; Bob flies 20 km
  // away, outside it.
  const v1::WatchAlertsRequest watch = test_util::WatchCircle(At(0), 3000);
  grpc::ClientContext watch_context;
  test_util::ServiceTestAuth::Authorize(&watch_context,
                                        auth_.Token("tower", "monitor"));
  auto watcher = stub_->WatchAlerts(&watch_context, watch);
  Collector<grpc::ClientReader<v1::AlertBatch>> watched(watcher.get());

  grpc::ClientContext a_context, b_context;
  test_util::ServiceTestAuth::Authorize(&a_context,
                                        auth_.Token("alice", "operator"));
  test_util::ServiceTestAuth::Authorize(&b_context,
                                        auth_.Token("bob", "operator"));
  auto a = stub_->StreamPositions(&a_context);
  auto b = stub_->StreamPositions(&b_context);
  Collector<Stream> a_in(a.get()), b_in(b.get());

  // Alice's batch: an aircraft not registered to her, then a registered
  // one.
  v1::PositionBatch batch;
  batch.set_batch_seq(1);
  *batch.add_reports() = Report("SN-X", At(100));
  *batch.add_reports() = Report("SN-A", At(0));
  ASSERT_TRUE(a->Write(batch));
  batch.Clear();
  batch.set_batch_seq(1);
  *batch.add_reports() = Report("SN-B", At(20000));
  ASSERT_TRUE(b->Write(batch));
  ASSERT_TRUE(a_in.WaitForAck(1));
  ASSERT_TRUE(b_in.WaitForAck(1));
  std::vector<v1::ReportError> errors = a_in.Errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].batch_seq(), 1);
  EXPECT_EQ(errors[0].report_index(), 0);
  EXPECT_EQ(errors[0].message(),
            "reports[0].aircraft_id: SN-X is not registered to you and in "
            "force (declared mass: 0 g)");
  EXPECT_TRUE(b_in.Errors().empty());
  EXPECT_EQ(core_->track_count(), 2u);

  // The registry revokes SN-A while it flies.
  registry_.Set("SN-A", "alice", true);
  service_->OnRegistrationChanged(Registration("SN-A", "alice", true));
  std::optional<v1::Alert> alice =
      a_in.WaitFor(v1::ALERT_KIND_REGISTRATION_REVOKED, v1::ALERT_STATE_RAISED);
  ASSERT_TRUE(alice.has_value());
  EXPECT_THAT(alice->aircraft_ids(), ElementsAre("SN-A"));
  EXPECT_THAT(alice->message(), HasSubstr("SN-A: registration revoked"));
  EXPECT_THAT(alice->message(), HasSubstr("reported stolen"));
  std::optional<v1::Alert> seen = watched.WaitFor(
      v1::ALERT_KIND_REGISTRATION_REVOKED, v1::ALERT_STATE_RAISED);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->id(), alice->id());

  // It still streams: its next report is accepted.
  clock_.Advance(absl::Seconds(1));
  batch.Clear();
  batch.set_batch_seq(2);
  *batch.add_reports() = Report("SN-A", At(10));
  ASSERT_TRUE(a->Write(batch));
  ASSERT_TRUE(a_in.WaitForAck(2));
  EXPECT_EQ(a_in.Errors().size(), 1u);

  // Registered again: cleared on both.
  registry_.Set("SN-A", "alice", false);
  service_->OnRegistrationChanged(Registration("SN-A", "alice", false));
  std::optional<v1::Alert> cleared = a_in.WaitFor(
      v1::ALERT_KIND_REGISTRATION_REVOKED, v1::ALERT_STATE_CLEARED);
  ASSERT_TRUE(cleared.has_value());
  EXPECT_EQ(cleared->id(), alice->id());
  ASSERT_TRUE(
      watched
          .WaitFor(v1::ALERT_KIND_REGISTRATION_REVOKED, v1::ALERT_STATE_CLEARED)
          .has_value());

  // Bob's stream, ended, never carried Alice's aircraft's alert.
  a->WritesDone();
  b->WritesDone();
  EXPECT_TRUE(a->Finish().ok());
  EXPECT_TRUE(b->Finish().ok());
  a_in.Join();
  b_in.Join();
  for (const v1::Alert& x : b_in.Alerts()) {
    EXPECT_NE(x.kind(), v1::ALERT_KIND_REGISTRATION_REVOKED);
    EXPECT_THAT(x.aircraft_ids(), testing::Not(testing::Contains("SN-A")));
  }
  watch_context.TryCancel();
}

}  // namespace
}  // namespace utm
