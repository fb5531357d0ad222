// Flight logs on replicas sharing a real Redis, over real gRPC: an
// aircraft's reports stream to replica A while its intent is filed,
// activated and ended through replica B; B lists the flight (with the
// states B wrote and A recorded) and serves its log, which converts to
// GeoJSON with every point A received, and exports it; its keys in Redis
// are the ones the store's header names, once.
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/redis/redis_client.h"
#include "services/common/uuid.h"
#include "services/common/volume_convert.h"
#include "services/operator/flight_export.h"
#include "tests/redis_scan_util.h"
#include "tests/utmd_redis_fixture.h"
#include "utm/v1/operator.grpc.pb.h"
#include "utm/v1/telemetry.grpc.pb.h"

namespace utm::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kOperator[] = "op-flightlog-redis";
constexpr char kAircraft[] = "AC-FLR-4471";
constexpr int kReports = 12;

double Lat(int i) { return 47.3811 + 0.0001 * i; }
double Lng(int i) { return 8.5412 + 0.0001 * i; }

class FlightLogRedisTest : public UtmdRedisTest {
 protected:
  grpc::Status List(const std::string& address, v1::ListFlightsResponse* out) {
    auto stub = v1::OperatorService::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    return stub->ListFlights(Context(token_).get(), {}, out);
  }

  // Lists on `address` until `done` holds of the only flight (at most ~10 s).
  std::optional<v1::FlightSummary> AwaitFlight(
      const std::string& address,
      const std::function<bool(const v1::FlightSummary&)>& done) {
    v1::ListFlightsResponse list;
    for (int i = 0; i < 100; ++i) {
      list.Clear();
      grpc::Status s = List(address, &list);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (list.flights_size() == 1 && done(list.flights(0))) {
        return list.flights(0);
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    ADD_FAILURE() << "no such flight; listed: " << list.DebugString();
    return std::nullopt;
  }

  std::string token_;
};

TEST_F(FlightLogRedisTest, StreamedToOneReplicaActivatedAndReadOnAnother) {
  const std::string key_file = PseudonymKeyFile('d');
  UtmdProcess* a = StartReplica({"--pseudonym-key", key_file});
  UtmdProcess* b = StartReplica({"--pseudonym-key", key_file});
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  token_ = Token(kOperator, {auth::Scope::kStrategicCoordination});

  // Filed and activated through B.
  auto strategic = Strategic(b->address());
  const v1::FileIntentRequest file =
      CircleFiling(RandomUuid(), {Lat(0), Lng(0)}, kAircraft, 500);
  v1::FileIntentResponse filed;
  grpc::Status s = strategic->FileIntent(Context(token_).get(), file, &filed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(filed.has_intent()) << filed.DebugString();
  const std::string intent_id = filed.intent().id();
  v1::ActivateIntentRequest activate;
  activate.set_request_id(RandomUuid());
  activate.set_intent_id(intent_id);
  activate.set_version(filed.intent().version());
  v1::ActivateIntentResponse activated;
  s = strategic->ActivateIntent(Context(token_).get(), activate, &activated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(activated.has_intent()) << activated.DebugString();

  // A has applied the activation (replicas follow the ledger within
  // milliseconds): its first report then finds the intent activated.
  auto strategic_a = Strategic(a->address());
  bool active_on_a = false;
  for (int i = 0; i < 100 && !active_on_a; ++i) {
    v1::GetIntentRequest get_intent;
    get_intent.set_intent_id(intent_id);
    v1::GetIntentResponse got;
    grpc::Status g =
        strategic_a->GetIntent(Context(token_).get(), get_intent, &got);
    active_on_a = g.ok() && got.intent().state() == v1::INTENT_STATE_ACTIVATED;
    if (!active_on_a) absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(active_on_a);

  // Reports stream to A.
  auto telemetry = v1::TelemetryService::NewStub(
      grpc::CreateChannel(a->address(), grpc::InsecureChannelCredentials()));
  auto context = Context(token_, absl::Seconds(30));
  auto stream = telemetry->StreamPositions(context.get());
  for (int i = 0; i < kReports; ++i) {
    v1::PositionBatch batch;
    batch.set_batch_seq(i + 1);
    v1::PositionReport* r = batch.add_reports();
    r->set_aircraft_id(kAircraft);
    r->set_intent_id(intent_id);
    *r->mutable_time() = TimeToProto(absl::Now());
    r->mutable_position()->set_lat_deg(Lat(i));
    r->mutable_position()->set_lng_deg(Lng(i));
    r->mutable_altitude()->set_value_m(500);
    r->mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
    r->mutable_accuracy()->set_horizontal_m(3);
    r->mutable_accuracy()->set_vertical_m(5);
    ASSERT_TRUE(stream->Write(batch));
    absl::SleepFor(absl::Milliseconds(50));
  }
  // B lists it while it flies (written when A started it).
  std::optional<v1::FlightSummary> flying = AwaitFlight(
      b->address(), [](const v1::FlightSummary& f) { return f.in_progress(); });
  ASSERT_TRUE(flying.has_value());
  EXPECT_EQ(flying->intent_id(), intent_id);
  EXPECT_EQ(flying->aircraft_id(), kAircraft);

  // Ended through B: A, which records the flight, learns of it and ends it.
  v1::EndIntentRequest end;
  end.set_request_id(RandomUuid());
  end.set_intent_id(intent_id);
  end.set_version(activated.intent().version());
  v1::EndIntentResponse ended;
  s = strategic->EndIntent(Context(token_).get(), end, &ended);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::optional<v1::FlightSummary> flown =
      AwaitFlight(b->address(), [](const v1::FlightSummary& f) {
        return !f.in_progress() && f.point_count() == kReports;
      });
  ASSERT_TRUE(flown.has_value());
  stream->WritesDone();
  context->TryCancel();

  // Its log, from B: the states B wrote, every point A received.
  auto operators = v1::OperatorService::NewStub(
      grpc::CreateChannel(b->address(), grpc::InsecureChannelCredentials()));
  v1::GetFlightLogRequest get;
  get.set_flight_id(flown->flight_id());
  auto get_context = Context(token_);
  auto reader = operators->GetFlightLog(get_context.get(), get);
  std::ostringstream geojson;
  std::unique_ptr<fleet::FlightExport> out =
      fleet::NewFlightExport("geojson", &geojson);
  v1::FlightLogPart part;
  std::vector<v1::IntentState> states;
  int points = 0;
  bool begun = false;
  while (reader->Read(&part)) {
    if (part.has_header()) {
      for (const auto& st : part.header().states()) {
        states.push_back(st.state());
      }
      out->Begin(part.header());
      begun = true;
    } else if (part.has_track() && begun) {
      points += part.track().points_size();
      out->Points(part.track());
    }
  }
  s = reader->Finish();
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(begun);
  out->End();
  EXPECT_THAT(states,
              ElementsAre(v1::INTENT_STATE_ACTIVATED, v1::INTENT_STATE_ENDED));
  EXPECT_EQ(points, kReports);
  for (int i = 0; i < kReports; ++i) {
    EXPECT_THAT(geojson.str(), HasSubstr(absl::StrFormat("%.4f", Lng(i))))
        << "point " << i;
  }
  EXPECT_THAT(geojson.str(), HasSubstr(kAircraft));

  // Its keys in Redis; an erasure through B removes them all.
  std::vector<std::string> keys =
      test_util::RedisKeys(redis_->addr(), "{utm}:flog:*");
  EXPECT_THAT(
      keys,
      ElementsAre(absl::StrCat("{utm}:flog:c:", flown->flight_id()),
                  "{utm}:flog:ends", absl::StrCat("{utm}:flog:o:", kOperator),
                  "{utm}:flog:owner",
                  absl::StrCat("{utm}:flog:r:", flown->flight_id())));
  // The operator's export, from B, has the log as GeoJSON too.
  {
    auto export_context = Context(token_, absl::Seconds(10));
    auto pieces = operators->ExportData(export_context.get(), {});
    v1::ArchivePiece piece;
    std::string exported;
    const std::string path =
        absl::StrCat("flight-logs/", flown->flight_id(), ".geojson");
    while (pieces->Read(&piece)) {
      if (piece.path() == path) exported += piece.data();
    }
    grpc::Status e = pieces->Finish();
    ASSERT_TRUE(e.ok()) << e.error_message();
    EXPECT_EQ(exported, geojson.str());
  }

  // A reads the same log: it was written once, by A.
  v1::ListFlightsResponse on_a;
  ASSERT_TRUE(List(a->address(), &on_a).ok());
  ASSERT_EQ(on_a.flights_size(), 1);
  EXPECT_EQ(on_a.flights(0).flight_id(), flown->flight_id());
}

}  // namespace
}  // namespace utm::testing
