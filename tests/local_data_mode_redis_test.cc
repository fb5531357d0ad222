// Local Data Mode on replicas sharing a real Redis: filing an intent is
// refused (every intent would be stored in Redis), and a telemetry-only
// flight — positions at distinctive coordinates, a conflict alert against an
// ordinary operator's aircraft, law enforcement reading its Remote ID
// details — leaves nothing of the operator in any Redis key or value (every
// key SCANned, every value read by its type) nor on utmd's stderr, while the
// same scan finds the ordinary operator's.
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/redis/redis_client.h"
#include "services/common/volume_convert.h"
#include "tests/data_scan_util.h"
#include "tests/redis_scan_util.h"
#include "tests/telemetry_test_util.h"
#include "tests/utmd_redis_fixture.h"
#include "utm/v1/operator.grpc.pb.h"
#include "utm/v1/remote_id.grpc.pb.h"
#include "utm/v1/telemetry.grpc.pb.h"

namespace utm::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kLocalOperator[] = "opLDMr3dQ8sW";
constexpr char kLocalAircraft[] = "acLDMr7Kp1vN";
constexpr char kPlainOperator[] = "opPLNr2Ws5dF";
constexpr char kPlainAircraft[] = "acPLNr8Ty4bM";
const geo::LatLng kLocalCentre{47.39771234, 8.54563217};
const geo::LatLng kPlainCentre{47.40123456, 8.54933311};

class Alerts {
 public:
  explicit Alerts(
      grpc::ClientReaderWriter<v1::PositionBatch, v1::AlertBatch>* stream)
      : thread_([this, stream] {
          v1::AlertBatch batch;
          while (stream->Read(&batch)) {
            absl::MutexLock lock(&mu_);
            for (const v1::Alert& a : batch.alerts()) {
              if (a.kind() == v1::ALERT_KIND_CONFLICT_PREDICTED ||
                  a.kind() == v1::ALERT_KIND_CONFLICT_IMMINENT) {
                conflict_ = true;
              }
            }
          }
        }) {}
  ~Alerts() { thread_.join(); }
  bool conflict() {
    absl::MutexLock lock(&mu_);
    return conflict_;
  }

 private:
  absl::Mutex mu_;
  bool conflict_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

class LocalDataModeRedisTest : public UtmdRedisTest {};

TEST_F(LocalDataModeRedisTest, TelemetryOnlyFlyingLeavesNothingInRedis) {
  // The key every replica is given.
  const std::string key_file = PseudonymKeyFile('c');
  UtmdProcess* utmd = StartReplica({"--pseudonym-key", key_file});
  ASSERT_NE(utmd, nullptr);
  auto channel =
      grpc::CreateChannel(utmd->address(), grpc::InsecureChannelCredentials());
  const std::string local =
      Token(kLocalOperator, {auth::Scope::kStrategicCoordination});
  const std::string plain =
      Token(kPlainOperator, {auth::Scope::kStrategicCoordination});

  v1::SetDataSettingsRequest set;
  set.set_local_data_mode(true);
  v1::SetDataSettingsResponse done;
  grpc::Status s = v1::OperatorService::NewStub(channel)->SetDataSettings(
      Context(local).get(), set, &done);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // Filing is refused, naming the mode; the ordinary operator files.
  auto strategic = Strategic(utmd->address());
  v1::FileIntentResponse filed;
  s = strategic->FileIntent(Context(local).get(),
                            CircleFiling("", kLocalCentre, kLocalAircraft, 150),
                            &filed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("Local Data Mode"));
  s = strategic->FileIntent(Context(plain).get(),
                            CircleFiling("", kPlainCentre, kPlainAircraft, 150),
                            &filed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(filed.has_intent());

  // Both stream toward each other; the local aircraft without an intent.
  auto telemetry = v1::TelemetryService::NewStub(channel);
  auto local_context = Context(local, absl::Seconds(20));
  auto plain_context = Context(plain, absl::Seconds(20));
  auto local_stream = telemetry->StreamPositions(local_context.get());
  auto plain_stream = telemetry->StreamPositions(plain_context.get());
  Alerts local_alerts(local_stream.get());
  Alerts plain_alerts(plain_stream.get());
  const double to_plain = geo::GeodesicAzimuth(kLocalCentre, kPlainCentre);
  std::vector<geo::LatLng> local_positions;
  geo::LatLng lp = kLocalCentre, pp = kPlainCentre;
  for (int seq = 1; seq <= 20 && !local_alerts.conflict(); ++seq) {
    for (auto [stream, aircraft, intent, p, azimuth] :
         {std::tuple{local_stream.get(), kLocalAircraft, std::string(), lp,
                     to_plain},
          std::tuple{plain_stream.get(), kPlainAircraft, filed.intent().id(),
                     pp, to_plain + 180}}) {
      v1::PositionBatch batch;
      batch.set_batch_seq(seq);
      v1::PositionReport* r = batch.add_reports();
      *r = test_util::ReportHeading(aircraft, p, absl::Now(), azimuth, 10);
      r->set_intent_id(intent);
      ASSERT_TRUE(stream->Write(batch));
    }
    local_positions.push_back(lp);
    lp = geo::GeodesicDestination(lp, to_plain, 3);
    pp = geo::GeodesicDestination(pp, to_plain + 180, 3);
    absl::SleepFor(absl::Milliseconds(300));
  }
  EXPECT_TRUE(local_alerts.conflict());

  // Law enforcement reads both flights' details.
  auto rid = v1::RemoteIdService::NewStub(channel);
  v1::SearchFlightsRequest search;
  search.mutable_view()->mutable_south_west()->set_lat_deg(
      kLocalCentre.lat_deg - 0.001);
  search.mutable_view()->mutable_south_west()->set_lng_deg(
      kLocalCentre.lng_deg - 0.001);
  search.mutable_view()->mutable_north_east()->set_lat_deg(
      kPlainCentre.lat_deg + 0.001);
  search.mutable_view()->mutable_north_east()->set_lng_deg(
      kPlainCentre.lng_deg + 0.001);
  v1::SearchFlightsResponse shown;
  s = rid->SearchFlights(
      Context(Token("public-1", {auth::Scope::kRemoteIdDisplay})).get(), search,
      &shown);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(shown.flights_size(), 2) << shown.DebugString();
  for (const v1::RidFlight& f : shown.flights()) {
    v1::GetFlightDetailsRequest details;
    details.set_id(f.id());
    details.set_case_reference("CASE-LDM-REDIS-7");
    v1::GetFlightDetailsResponse got;
    s = rid->GetFlightDetails(
        Context(Token("officer-9", {auth::Scope::kLawEnforcement})).get(),
        details, &got);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  local_stream->WritesDone();
  plain_stream->WritesDone();
  local_context->TryCancel();
  plain_context->TryCancel();
  EXPECT_EQ(utmd->Terminate(), 0);

  redis::ClientOptions o;
  o.addr = redis_->addr();
  absl::StatusOr<std::unique_ptr<redis::Client>> c = redis::Client::Connect(o);
  ASSERT_TRUE(c.ok()) << c.status();
  std::ifstream log_in(dir_ / "replica-0.log", std::ios::binary);
  const std::vector<test_util::Haystack> all = {
      {"Redis", test_util::AllOfRedis(**c)},
      {"utmd's stderr",
       std::string(std::istreambuf_iterator<char>(log_in), {})}};

  std::vector<std::string> needles = {kLocalOperator, kLocalAircraft};
  for (const geo::LatLng& p : local_positions) {
    for (double deg : {p.lat_deg, p.lng_deg}) {
      for (std::string& f : test_util::CoordinateForms(deg)) {
        needles.push_back(f);
      }
    }
  }
  for (const std::string& needle : needles) {
    EXPECT_THAT(test_util::FoundIn(all, needle), IsEmpty())
        << "found " << test_util::Printable(needle);
  }
  // The scan finds the ordinary operator's: its intent in the ledger, its
  // disclosure in the audit stream.
  EXPECT_THAT(test_util::FoundIn(all, kPlainOperator),
              ::testing::Contains("Redis"));
  EXPECT_THAT(test_util::FoundIn(all, kPlainAircraft),
              ::testing::Contains("Redis"));
  EXPECT_THAT(test_util::FoundIn(all, "withheld:local-data-mode"),
              ::testing::Contains("Redis"));
  EXPECT_THAT(test_util::FoundIn(all, "CASE-LDM-REDIS-7"), Not(IsEmpty()));
}

}  // namespace
}  // namespace utm::testing
