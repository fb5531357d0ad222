// Integration: the telemetry service with the intent and constraint services
// on a real gRPC server on a loopback port: two operators stream converging
// aircraft and both receive the conflict alert, as does a monitor watching
// the area; bad reports come back as errors with their batch; batches are
// acknowledged.
#include "services/telemetry/telemetry_service.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/server.h"
#include "services/common/volume_convert.h"
#include "services/constraint/constraint_core.h"
#include "services/intent/intent_core.h"
#include "services/intent/intent_service.h"
#include "services/telemetry/live_airspace.h"
#include "services/telemetry/telemetry_core.h"
#include "tests/service_test_util.h"
#include "tests/telemetry_test_util.h"
#include "utm/v1/strategic.grpc.pb.h"
#include "utm/v1/telemetry.grpc.pb.h"

namespace utm {
namespace {

template <typename Stream>
using Collector = test_util::AlertCollector<Stream>;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

geo::LatLng East(double m) {
  return geo::GeodesicDestination(geo::test_util::kZurich, 90, m);
}

// The live airspace, with a gate that can hold the core inside Intent()
// (outside its lock) to make reports wait in a stream's inbox, and a count
// of the lookups of each intent.
class GatedAirspace final : public telemetry::Airspace {
 public:
  explicit GatedAirspace(telemetry::Airspace* live) : live_(live) {}
  std::shared_ptr<const telemetry::IntentInfo> Intent(
      const std::string& id) const override {
    absl::MutexLock lock(&mu_);
    ++lookups_[id];
    ++waiting_;
    mu_.Await(absl::Condition(
        +[](bool* open) { return *open; }, &open_));
    --waiting_;
    return live_->Intent(id);
  }
  std::vector<std::string> BlockingConstraints(const std::string& operator_id,
                                               const geo::LatLng& position,
                                               double altitude_m, double h,
                                               double v,
                                               absl::Time t) const override {
    return live_->BlockingConstraints(operator_id, position, altitude_m, h, v,
                                      t);
  }
  void MarkNonconforming(const std::string& operator_id,
                         const std::string& intent_id,
                         absl::Time now) override {
    live_->MarkNonconforming(operator_id, intent_id, now);
  }
  void Close() {
    absl::MutexLock lock(&mu_);
    open_ = false;
  }
  void Open() {
    absl::MutexLock lock(&mu_);
    open_ = true;
  }
  // Waits (bounded) until a lookup is held at the gate.
  bool WaitUntilHeld() {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(
                                    +[](int* n) { return *n > 0; }, &waiting_),
                                absl::Seconds(10));
  }
  int lookups(const std::string& id) const {
    absl::MutexLock lock(&mu_);
    auto it = lookups_.find(id);
    return it == lookups_.end() ? 0 : it->second;
  }

 private:
  telemetry::Airspace* const live_;
  mutable absl::Mutex mu_;
  mutable bool open_ ABSL_GUARDED_BY(mu_) = true;
  mutable int waiting_ ABSL_GUARDED_BY(mu_) = 0;
  mutable std::map<std::string, int> lookups_ ABSL_GUARDED_BY(mu_);
};

class TelemetryServiceTest : public testing::Test {
 protected:
  void SetUp() override {
    intents_ =
        std::make_unique<intent::IntentCore>(intent::IntentOptions(), &clock_);
    constraint::ConstraintOptions co;
    constraints_ = std::make_unique<constraint::ConstraintCore>(co, &clock_);
    intents_->SetConstraintChecker(constraints_.get());
    airspace_ = std::make_unique<telemetry::LiveAirspace>(intents_.get(),
                                                          constraints_.get());
    gate_ = std::make_unique<GatedAirspace>(airspace_.get());
    core_ = std::make_unique<telemetry::TelemetryCore>(
        telemetry::TelemetryOptions(), &clock_, gate_.get());
    intent_service_ = std::make_unique<intent::IntentService>(
        intents_.get(), auth_.verifier(), nullptr);
    service_ = std::make_unique<telemetry::TelemetryService>(
        core_.get(), auth_.verifier(), &clock_);
    absl::StatusOr<std::unique_ptr<Server>> server =
        test_util::StartOnLoopback({intent_service_.get(), service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    auto channel = test_util::LoopbackChannel(*server_);
    stub_ = v1::TelemetryService::NewStub(channel);
    intent_stub_ = v1::StrategicCoordination::NewStub(channel);
  }

  std::string Token(const std::string& subject, const std::string& role) {
    return auth_.Token(subject, role);
  }

  static void Authorize(grpc::ClientContext* context,
                        const std::string& token) {
    test_util::ServiceTestAuth::Authorize(context, token);
  }

  // All alerts within 5 km of the flights' intents (FlyingIntent).
  static v1::WatchAlertsRequest WatchAroundTheFlights() {
    return test_util::WatchCircle(East(1500), 5000);
  }

  // Files and activates an intent over 0..3 km east, now to +1 h.
  // (Strategic deconfliction lets a higher priority overlap a lower one.)
  std::string FlyingIntent(const std::string& token, int priority) {
    v1::FileIntentRequest file;
    file.set_priority(priority);
    *file.add_volumes() = VolumeToProto(
        geo::Volume4D{geo::Volume3D{geo::Circle{East(1500), 1600}, {0, 1000}},
                      {kNow, kNow + absl::Hours(1)}});
    v1::FileIntentResponse filed;
    grpc::ClientContext c1;
    Authorize(&c1, token);
    EXPECT_TRUE(intent_stub_->FileIntent(&c1, file, &filed).ok());
    v1::ActivateIntentRequest activate;
    activate.set_intent_id(filed.intent().id());
    activate.set_version(filed.intent().version());
    v1::ActivateIntentResponse activated;
    grpc::ClientContext c2;
    Authorize(&c2, token);
    EXPECT_TRUE(intent_stub_->ActivateIntent(&c2, activate, &activated).ok());
    EXPECT_TRUE(activated.has_intent()) << activated.DebugString();
    return filed.intent().id();
  }

  v1::PositionReport Report(const std::string& aircraft,
                            const std::string& intent, double east_m,
                            double ve) {
    v1::PositionReport r =
        test_util::ReportAt(aircraft, East(east_m), clock_.Now(), ve);
    r.set_intent_id(intent);
    return r;
  }

  SimulatedClock clock_{kNow};
  test_util::ServiceTestAuth auth_{&clock_};
  std::unique_ptr<intent::IntentCore> intents_;
  std::unique_ptr<constraint::ConstraintCore> constraints_;
  std::unique_ptr<telemetry::LiveAirspace> airspace_;
  std::unique_ptr<GatedAirspace> gate_;
  std::unique_ptr<telemetry::TelemetryCore> core_;
  std::unique_ptr<intent::IntentService> intent_service_;
  std::unique_ptr<telemetry::TelemetryService> service_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<v1::TelemetryService::Stub> stub_;
  std::unique_ptr<v1::StrategicCoordination::Stub> intent_stub_;
};

TEST_F(TelemetryServiceTest, ConvergingAircraftAlertBothOperatorsAndWatcher) {
  const std::string alice = Token("alice", "operator");
  const std::string bob = Token("bob", "operator");
  const std::string alice_intent = FlyingIntent(alice, 0);
  const std::string bob_intent = FlyingIntent(bob, 10);

  // A monitor watches the area.
  grpc::ClientContext watch_context;
  Authorize(&watch_context, Token("tower", "monitor"));
  auto watcher = stub_->WatchAlerts(&watch_context, WatchAroundTheFlights());
  Collector<grpc::ClientReader<v1::AlertBatch>> watched(watcher.get());

  grpc::ClientContext a_context, b_context;
  Authorize(&a_context, alice);
  Authorize(&b_context, bob);
  auto a = stub_->StreamPositions(&a_context);
  auto b = stub_->StreamPositions(&b_context);
  Collector<grpc::ClientReaderWriter<v1::PositionBatch, v1::AlertBatch>> a_in(
      a.get());
  Collector<grpc::ClientReaderWriter<v1::PositionBatch, v1::AlertBatch>> b_in(
      b.get());

  // 600 m apart, closing at 20 m/s: loss of 50 m separation in 27.5 s.
  v1::PositionBatch batch;
  batch.set_batch_seq(1);
  *batch.add_reports() = Report("A1", alice_intent, 1000, 10);
  v1::PositionReport bad = Report("A2", alice_intent, 1000, 10);
  bad.mutable_altitude()->clear_reference();
  *batch.add_reports() = bad;
  ASSERT_TRUE(a->Write(batch));
  batch.Clear();
  batch.set_batch_seq(7);
  *batch.add_reports() = Report("B1", bob_intent, 1600, -10);
  ASSERT_TRUE(b->Write(batch));

  for (auto* in : {&a_in, &b_in}) {
    std::optional<v1::Alert> alert =
        in->WaitFor(v1::ALERT_KIND_CONFLICT_PREDICTED, v1::ALERT_STATE_RAISED);
    ASSERT_TRUE(alert.has_value());
    EXPECT_THAT(alert->aircraft_ids(), testing::ElementsAre("A1", "B1"));
    EXPECT_NEAR(alert->time_to_loss_of_separation().seconds() +
                    alert->time_to_loss_of_separation().nanos() * 1e-9,
                27.5, 0.05);
  }
  std::optional<v1::Alert> seen = watched.WaitFor(
      v1::ALERT_KIND_CONFLICT_PREDICTED, v1::ALERT_STATE_RAISED);
  ASSERT_TRUE(seen.has_value());

  // Both batches are acknowledged (possibly after the alert, in a later
  // message); the bad report came back to alice only, with its batch.
  EXPECT_TRUE(a_in.WaitForAck(1));
  EXPECT_TRUE(b_in.WaitForAck(7));
  bool error_seen = false;
  for (const v1::AlertBatch& ab : a_in.Batches()) {
    for (const v1::ReportError& e : ab.errors()) {
      error_seen = true;
      EXPECT_EQ(e.batch_seq(), 1);
      EXPECT_EQ(e.report_index(), 1);
      EXPECT_THAT(e.message(), testing::HasSubstr("reports[1].altitude"));
    }
  }
  for (const v1::AlertBatch& bb : b_in.Batches()) {
    EXPECT_THAT(bb.errors(), testing::IsEmpty());
  }
  EXPECT_TRUE(error_seen);

  // Reporting bob's aircraft is not alice's business: they are different
  // tracks ("alice/B1"), and alice's report names bob's intent: unknown.
  batch.Clear();
  batch.set_batch_seq(2);
  *batch.add_reports() = Report("B1", bob_intent, 3000, 0);
  ASSERT_TRUE(a->Write(batch));
  EXPECT_TRUE(
      a_in.WaitFor(v1::ALERT_KIND_UNKNOWN_INTENT, v1::ALERT_STATE_RAISED)
          .has_value());

  a->WritesDone();
  b->WritesDone();
  EXPECT_TRUE(a->Finish().ok());
  EXPECT_TRUE(b->Finish().ok());
  watch_context.TryCancel();
}

// An aircraft above the speed limit is tracked, not refused: its operator
// and a watcher are told it is fast, and the other operator's drone ahead
// of it is alerted to the conflict in time.
TEST_F(TelemetryServiceTest, FastAircraftIsFlaggedAndAlertsTheOthers) {
  const std::string alice = Token("alice", "operator");
  const std::string bob = Token("bob", "operator");
  const std::string alice_intent = FlyingIntent(alice, 0);
  const std::string bob_intent = FlyingIntent(bob, 10);
  grpc::ClientContext watch_context;
  Authorize(&watch_context, Token("tower", "monitor"));
  auto watcher = stub_->WatchAlerts(&watch_context, WatchAroundTheFlights());
  Collector<grpc::ClientReader<v1::AlertBatch>> watched(watcher.get());
  using Stream = grpc::ClientReaderWriter<v1::PositionBatch, v1::AlertBatch>;
  grpc::ClientContext a_context, b_context;
  Authorize(&a_context, alice);
  Authorize(&b_context, bob);
  auto a = stub_->StreamPositions(&a_context);
  auto b = stub_->StreamPositions(&b_context);
  Collector<Stream> a_in(a.get()), b_in(b.get());

  // Alice's F1 flies west at 60 m/s.
  v1::PositionBatch batch;
  batch.set_batch_seq(1);
  *batch.add_reports() = Report("F1", alice_intent, 2900, -60);
  ASSERT_TRUE(a->Write(batch));
  auto flagged = [](auto* in) {
    std::optional<v1::Alert> fast =
        in->WaitFor(v1::ALERT_KIND_SPEED_ABOVE_LIMIT, v1::ALERT_STATE_RAISED);
    ASSERT_TRUE(fast.has_value());
    EXPECT_THAT(fast->aircraft_ids(), testing::ElementsAre("F1"));
    EXPECT_THAT(fast->message(), testing::HasSubstr("above the 50 m/s limit"));
  };
  flagged(&a_in);
  flagged(&watched);
  // Bob's B1, 1.9 km ahead of it flying east at 10 m/s: loss of 50 m in
  // (1900 − 50) / 70 s, alerted to both.
  batch.Clear();
  batch.set_batch_seq(1);
  *batch.add_reports() = Report("B1", bob_intent, 1000, 10);
  ASSERT_TRUE(b->Write(batch));
  for (auto* in : {&a_in, &b_in}) {
    std::optional<v1::Alert> alert =
        in->WaitFor(v1::ALERT_KIND_CONFLICT_PREDICTED, v1::ALERT_STATE_RAISED);
    ASSERT_TRUE(alert.has_value());
    EXPECT_THAT(alert->aircraft_ids(), testing::ElementsAre("F1", "B1"));
    EXPECT_NEAR(alert->time_to_loss_of_separation().seconds() +
                    alert->time_to_loss_of_separation().nanos() * 1e-9,
                1850.0 / 70, 0.05);
  }
  EXPECT_TRUE(b_in.WaitForAck(1));
  for (const v1::AlertBatch& bb : b_in.Batches()) {
    EXPECT_THAT(bb.errors(), testing::IsEmpty());
    for (const v1::Alert& alert : bb.alerts()) {
      EXPECT_NE(alert.kind(), v1::ALERT_KIND_SPEED_ABOVE_LIMIT)
          << "alice's aircraft's flag went to bob";
    }
  }
  for (const v1::AlertBatch& ab : a_in.Batches()) {
    EXPECT_THAT(ab.errors(), testing::IsEmpty());
  }
  a->WritesDone();
  b->WritesDone();
  EXPECT_TRUE(a->Finish().ok());
  EXPECT_TRUE(b->Finish().ok());
  watch_context.TryCancel();
}

// An alert goes to the stream that carries the aircraft, not to every
// stream of its operator; once that stream has ended, the operator's other
// streams get the aircraft's alerts (here its lost link).
TEST_F(TelemetryServiceTest, AlertsGoToTheStreamCarryingTheAircraft) {
  const std::string alice = Token("alice", "operator");
  const std::string bob = Token("bob", "operator");
  const std::string alice_intent = FlyingIntent(alice, 0);
  const std::string bob_intent = FlyingIntent(bob, 10);
  using Stream = grpc::ClientReaderWriter<v1::PositionBatch, v1::AlertBatch>;
  grpc::ClientContext c1, c2, cb;
  Authorize(&c1, alice);
  Authorize(&c2, alice);
  Authorize(&cb, bob);
  auto s1 = stub_->StreamPositions(&c1);
  auto s2 = stub_->StreamPositions(&c2);
  auto sb = stub_->StreamPositions(&cb);
  Collector<Stream> in1(s1.get()), in2(s2.get()), inb(sb.get());

  v1::PositionBatch batch;
  batch.set_batch_seq(1);
  *batch.add_reports() = Report("A2", alice_intent, 2900, 0);  // far off
  ASSERT_TRUE(s2->Write(batch));
  ASSERT_TRUE(in2.WaitForAck(1));
  batch.Clear();
  batch.set_batch_seq(1);
  *batch.add_reports() = Report("A1", alice_intent, 1000, 10);
  ASSERT_TRUE(s1->Write(batch));
  batch.Clear();
  batch.set_batch_seq(1);
  *batch.add_reports() = Report("B1", bob_intent, 1600, -10);
  ASSERT_TRUE(sb->Write(batch));
  ASSERT_TRUE(
      in1.WaitFor(v1::ALERT_KIND_CONFLICT_PREDICTED, v1::ALERT_STATE_RAISED)
          .has_value());
  ASSERT_TRUE(
      inb.WaitFor(v1::ALERT_KIND_CONFLICT_PREDICTED, v1::ALERT_STATE_RAISED)
          .has_value());
  // A later message on stream 2 (an ack) shows it had its chance.
  clock_.Advance(absl::Seconds(1));
  batch.Clear();
  batch.set_batch_seq(2);
  *batch.add_reports() = Report("A2", alice_intent, 2900, 0);
  ASSERT_TRUE(s2->Write(batch));
  clock_.Advance(absl::Seconds(1));
  service_->Tick();
  ASSERT_TRUE(in2.WaitForAck(2));
  for (const v1::AlertBatch& b : in2.Batches()) {
    EXPECT_THAT(b.alerts(), testing::IsEmpty()) << b.DebugString();
  }

  // Stream 1 ends; A1 falls silent: its lost link goes to stream 2.
  s1->WritesDone();
  EXPECT_TRUE(s1->Finish().ok());
  clock_.Advance(absl::Seconds(9));
  batch.Clear();
  batch.set_batch_seq(3);
  *batch.add_reports() = Report("A2", alice_intent, 2900, 0);
  ASSERT_TRUE(s2->Write(batch));   // A2 stays alive
  ASSERT_TRUE(in2.WaitForAck(3));  // processed before the tick
  service_->Tick();
  std::optional<v1::Alert> lost =
      in2.WaitFor(v1::ALERT_KIND_LOST_LINK, v1::ALERT_STATE_RAISED);
  ASSERT_TRUE(lost.has_value());
  EXPECT_THAT(lost->aircraft_ids(), testing::ElementsAre("A1"));
  for (auto* s : {s2.get(), sb.get()}) {
    s->WritesDone();
    EXPECT_TRUE(s->Finish().ok());
  }
}

// Reports that arrive while the core is busy wait in the stream's inbox,
// one per aircraft: the newest position wins, reading goes on meanwhile,
// and the acknowledgement counts the superseded reports.
TEST_F(TelemetryServiceTest, PositionUpdatesCoalesceWhileTheCoreIsBusy) {
  const std::string alice = Token("alice", "operator");
  const std::string intent = FlyingIntent(alice, 0);
  grpc::ClientContext context;
  Authorize(&context, alice);
  auto stream = stub_->StreamPositions(&context);
  Collector<grpc::ClientReaderWriter<v1::PositionBatch, v1::AlertBatch>> in(
      stream.get());

  gate_->Close();
  v1::PositionBatch batch;
  batch.set_batch_seq(1);
  *batch.add_reports() = Report("A1", intent, 1000, 0);
  ASSERT_TRUE(stream->Write(batch));
  ASSERT_TRUE(gate_->WaitUntilHeld());  // the core is busy with batch 1
  // Four more positions of A1 (the last outside the intent) and one of A2.
  for (int seq = 2; seq <= 5; ++seq) {
    clock_.Advance(absl::Milliseconds(200));
    batch.Clear();
    batch.set_batch_seq(seq);
    *batch.add_reports() =
        Report("A1", intent, seq == 5 ? 3500 : 1000 + 2 * seq, 0);
    if (seq == 3) *batch.add_reports() = Report("A2", intent, 2000, 0);
    ASSERT_TRUE(stream->Write(batch));
  }
  // All read while the core is still held: two reports wait (A1's newest
  // and A2's), three were superseded.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  telemetry::TelemetryService::Stats stats;
  while (absl::Now() < deadline) {
    stats = service_->stats();
    if (stats.waiting_reports == 2 && stats.superseded_reports == 3) break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(stats.waiting_reports, 2u);
  EXPECT_EQ(stats.superseded_reports, 3);
  gate_->Open();

  // The newest position was the one processed: outside the intent.
  EXPECT_TRUE(in.WaitFor(v1::ALERT_KIND_NONCONFORMANCE, v1::ALERT_STATE_RAISED)
                  .has_value());
  // Acknowledged within the second (held back by the once-a-second rule
  // until the ticker flushes it).
  clock_.Advance(absl::Seconds(1));
  service_->Tick();
  ASSERT_TRUE(in.WaitForAck(5));
  // Three lookups of the intent, not six: batch 1, A1's newest, A2.
  EXPECT_EQ(gate_->lookups(intent), 3);
  int64_t superseded = 0;
  for (const v1::AlertBatch& b : in.Batches()) {
    superseded = std::max(superseded, b.superseded_reports());
    EXPECT_THAT(b.errors(), testing::IsEmpty());
  }
  EXPECT_EQ(superseded, 3);
  EXPECT_EQ(core_->track_count(), 2u);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

// A report stamped ahead of the server clock (skew within the allowance)
// does not win the inbox over a correctly stamped report of the same
// aircraft that arrives after it, though its time is later.
TEST_F(TelemetryServiceTest, SkewedReportDoesNotSupersedeLaterOnes) {
  const std::string alice = Token("alice", "operator");
  const std::string intent = FlyingIntent(alice, 0);
  grpc::ClientContext context;
  Authorize(&context, alice);
  auto stream = stub_->StreamPositions(&context);
  Collector<grpc::ClientReaderWriter<v1::PositionBatch, v1::AlertBatch>> in(
      stream.get());

  gate_->Close();
  v1::PositionBatch batch;
  batch.set_batch_seq(1);
  *batch.add_reports() = Report("A1", intent, 1000, 0);
  ASSERT_TRUE(stream->Write(batch));
  ASSERT_TRUE(gate_->WaitUntilHeld());  // the core is busy with batch 1
  // Stamped 1.9 s ahead, inside the intent.
  batch.Clear();
  batch.set_batch_seq(2);
  *batch.add_reports() = Report("A1", intent, 1004, 0);
  *batch.mutable_reports(0)->mutable_time() =
      TimeToProto(clock_.Now() + absl::Seconds(1.9));
  ASSERT_TRUE(stream->Write(batch));
  // 0.3 s later, correctly stamped, outside the intent.
  clock_.Advance(absl::Milliseconds(300));
  batch.Clear();
  batch.set_batch_seq(3);
  *batch.add_reports() = Report("A1", intent, 3500, 0);
  ASSERT_TRUE(stream->Write(batch));
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  telemetry::TelemetryService::Stats stats;
  while (absl::Now() < deadline) {
    stats = service_->stats();
    if (stats.waiting_reports == 1 && stats.superseded_reports == 1) break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(stats.superseded_reports, 1);
  gate_->Open();
  // The later report was the one processed, and at once.
  EXPECT_TRUE(in.WaitFor(v1::ALERT_KIND_NONCONFORMANCE, v1::ALERT_STATE_RAISED)
                  .has_value());
  clock_.Advance(absl::Seconds(1));
  service_->Tick();
  ASSERT_TRUE(in.WaitForAck(3));
  for (const v1::AlertBatch& b : in.Batches()) {
    EXPECT_THAT(b.errors(), testing::IsEmpty());
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

// Conformance, geofence and lost-link alerts reach the operator's stream and
// a watcher of the area, and clear when the aircraft is back.
TEST_F(TelemetryServiceTest, ConformanceGeofenceAndLostLinkAlerts) {
  const std::string alice = Token("alice", "operator");
  const std::string intent = FlyingIntent(alice, 0);
  // A TFR 2.5 km east, published after alice's flight was accepted.
  v1::PublishConstraintRequest tfr;
  tfr.mutable_constraint()->set_type(v1::CONSTRAINT_TYPE_PROHIBITED);
  *tfr.mutable_constraint()->add_volumes() = VolumeToProto(
      geo::Volume4D{geo::Volume3D{geo::Circle{East(2500), 200}, {0, 1000}},
                    {kNow - absl::Hours(1), kNow + absl::Hours(2)}});
  absl::StatusOr<v1::PublishConstraintResponse> published =
      constraints_->Publish(constraint::Caller{"foca", true, false}, tfr);
  ASSERT_TRUE(published.ok()) << published.status();
  const std::string tfr_id = published->constraint().id();

  grpc::ClientContext watch_context;
  Authorize(&watch_context, Token("tower", "monitor"));
  auto watcher = stub_->WatchAlerts(&watch_context, WatchAroundTheFlights());
  Collector<grpc::ClientReader<v1::AlertBatch>> watched(watcher.get());

  grpc::ClientContext context;
  Authorize(&context, alice);
  auto stream = stub_->StreamPositions(&context);
  Collector<grpc::ClientReaderWriter<v1::PositionBatch, v1::AlertBatch>> in(
      stream.get());
  int64_t seq = 0;
  auto send = [&](double east_m) {
    v1::PositionBatch batch;
    batch.set_batch_seq(++seq);
    *batch.add_reports() = Report("A1", intent, east_m, 0);
    ASSERT_TRUE(stream->Write(batch));
    ASSERT_TRUE(in.WaitForAck(seq));
  };

  send(1000);  // inside the intent, clear of the TFR
  // Into the TFR: a geofence alert naming it.
  clock_.Advance(absl::Seconds(1));
  send(2500);
  std::optional<v1::Alert> fence =
      in.WaitFor(v1::ALERT_KIND_GEOFENCE_ENTRY, v1::ALERT_STATE_RAISED);
  ASSERT_TRUE(fence.has_value());
  EXPECT_EQ(fence->constraint_id(), tfr_id);
  EXPECT_TRUE(
      watched.WaitFor(v1::ALERT_KIND_GEOFENCE_ENTRY, v1::ALERT_STATE_RAISED)
          .has_value());
  // Out of the intent (3.5 km east; it ends at 3.1 km): nonconformance,
  // and the intent is NONCONFORMING; the geofence alert clears.
  clock_.Advance(absl::Seconds(1));
  send(3500);
  EXPECT_TRUE(in.WaitFor(v1::ALERT_KIND_NONCONFORMANCE, v1::ALERT_STATE_RAISED)
                  .has_value());
  EXPECT_TRUE(
      watched.WaitFor(v1::ALERT_KIND_NONCONFORMANCE, v1::ALERT_STATE_RAISED)
          .has_value());
  EXPECT_TRUE(in.WaitFor(v1::ALERT_KIND_GEOFENCE_ENTRY, v1::ALERT_STATE_CLEARED)
                  .has_value());
  EXPECT_EQ(intents_->Get("alice", intent)->intent.state,
            intent::IntentState::kNonconforming);

  // Silence for 11 s: lost link, to the operator and the watcher.
  clock_.Advance(absl::Seconds(11));
  service_->Tick();
  std::optional<v1::Alert> lost =
      in.WaitFor(v1::ALERT_KIND_LOST_LINK, v1::ALERT_STATE_RAISED);
  ASSERT_TRUE(lost.has_value());
  EXPECT_THAT(lost->aircraft_ids(), testing::ElementsAre("A1"));
  EXPECT_TRUE(watched.WaitFor(v1::ALERT_KIND_LOST_LINK, v1::ALERT_STATE_RAISED)
                  .has_value());
  // Back, inside the intent: the lost link and the nonconformance clear.
  send(1000);
  EXPECT_TRUE(in.WaitFor(v1::ALERT_KIND_LOST_LINK, v1::ALERT_STATE_CLEARED)
                  .has_value());
  EXPECT_TRUE(in.WaitFor(v1::ALERT_KIND_NONCONFORMANCE, v1::ALERT_STATE_CLEARED)
                  .has_value());
  // Silent past the retirement time: the track is gone.
  clock_.Advance(absl::Seconds(61));
  service_->Tick();
  EXPECT_EQ(core_->track_count(), 0u);

  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  watch_context.TryCancel();
}

TEST_F(TelemetryServiceTest, NeedsAnOperatorToken) {
  grpc::ClientContext context;
  Authorize(&context, Token("screen", "display"));
  auto s = stub_->StreamPositions(&context);
  v1::AlertBatch batch;
  EXPECT_FALSE(s->Read(&batch));
  EXPECT_EQ(s->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace utm
