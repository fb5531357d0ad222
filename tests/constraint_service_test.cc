// Integration: the constraint service next to the intent service on a real
// gRPC server on a loopback port, with real JWT authentication: scopes,
// intents refused and unlocked over the wire, and WatchConstraints streams
// (snapshot, live changes, reconnect-and-catch-up, heartbeats, a stalled
// reader told to resync while another keeps up).
#include "services/constraint/constraint_service.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <chrono>
#include <memory>
#include <optional>
#include <set>
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
#include "tests/service_test_util.h"
#include "utm/v1/constraint.grpc.pb.h"
#include "utm/v1/strategic.grpc.pb.h"

namespace utm {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

geo::LatLng East(double m) {
  return geo::GeodesicDestination(geo::test_util::kZurich, 90, m);
}

v1::Volume4D Flight(double east_m, int start_min = 10, int end_min = 40) {
  return VolumeToProto(geo::Volume4D{
      geo::Volume3D{geo::Circle{East(east_m), 100}, {500, 620}},
      {kNow + absl::Minutes(start_min), kNow + absl::Minutes(end_min)}});
}

// A permanent zone; `vertices` > 0 makes it a polygon with that many.
v1::Constraint Zone(v1::ConstraintType type, double east_m, int vertices = 0) {
  v1::Constraint c;
  c.set_type(type);
  geo::Volume4D v;
  if (vertices > 0) {
    v.volume.footprint =
        geo::test_util::RegularPolygon(East(east_m), 500, vertices);
  } else {
    v.volume.footprint = geo::Circle{East(east_m), 500};
  }
  v.volume.altitude = {0, 1000};
  v.time = {absl::InfinitePast(), absl::InfiniteFuture()};
  *c.add_volumes() = VolumeToProto(v);
  c.set_message_for_pilots("Wildfire: fire-fighting aircraft");
  return c;
}

v1::Volume4D Area(double radius_m) {
  v1::Volume4D area;
  v1::Circle* c = area.mutable_volume()->mutable_outline_circle();
  c->mutable_center()->set_lat_deg(geo::test_util::kZurich.lat_deg);
  c->mutable_center()->set_lng_deg(geo::test_util::kZurich.lng_deg);
  c->set_radius_m(radius_m);
  return area;
}

class ConstraintServiceTest : public testing::Test {
 protected:
  void SetUp() override { Start(constraint::ConstraintOptions()); }

  void Start(constraint::ConstraintOptions options) {
    server_.reset();
    intents_ =
        std::make_unique<intent::IntentCore>(intent::IntentOptions(), &clock_);
    constraints_ =
        std::make_unique<constraint::ConstraintCore>(options, &clock_);
    intents_->SetConstraintChecker(constraints_.get());
    constraints_->SetIntentLookup([this](const std::vector<geo::Volume4D>& v) {
      return intents_->Overlapping(v);
    });
    intent_service_ = std::make_unique<intent::IntentService>(
        intents_.get(), auth_.verifier(), nullptr);
    constraint_service_ = std::make_unique<constraint::ConstraintService>(
        constraints_.get(), auth_.verifier());
    absl::StatusOr<std::unique_ptr<Server>> server = test_util::StartOnLoopback(
        {intent_service_.get(), constraint_service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = test_util::LoopbackChannel(*server_);
    intent_stub_ = v1::StrategicCoordination::NewStub(channel_);
    stub_ = v1::ConstraintService::NewStub(channel_);
  }

  std::string Token(const std::string& subject, const std::string& role) {
    return auth_.Token(subject, role);
  }

  static std::unique_ptr<grpc::ClientContext> As(const std::string& token,
                                                 int deadline_s = 10) {
    return test_util::ServiceTestAuth::As(token, deadline_s);
  }

  v1::Constraint Publish(const v1::Constraint& c,
                         v1::PublishConstraintResponse* out = nullptr) {
    v1::PublishConstraintRequest request;
    *request.mutable_constraint() = c;
    v1::PublishConstraintResponse response;
    const grpc::Status s =
        stub_->PublishConstraint(As(regulator_).get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (out != nullptr) *out = response;
    return response.constraint();
  }

  v1::FileIntentResponse File(const std::string& token, v1::Volume4D volume) {
    v1::FileIntentRequest request;
    *request.add_volumes() = std::move(volume);
    v1::FileIntentResponse response;
    const grpc::Status s =
        intent_stub_->FileIntent(As(token).get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  SimulatedClock clock_{kNow};
  test_util::ServiceTestAuth auth_{&clock_};
  std::unique_ptr<intent::IntentCore> intents_;
  std::unique_ptr<constraint::ConstraintCore> constraints_;
  std::unique_ptr<intent::IntentService> intent_service_;
  std::unique_ptr<constraint::ConstraintService> constraint_service_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::StrategicCoordination::Stub> intent_stub_;
  std::unique_ptr<v1::ConstraintService::Stub> stub_;
  std::string regulator_ = Token("ch-foca", "regulator");
  std::string pilot_ = Token("op-1", "operator");
  std::string rescue_ = Token("op-rescue", "operator");
};

TEST_F(ConstraintServiceTest, ScopesDecideWhoMayDoWhat) {
  v1::PublishConstraintRequest request;
  *request.mutable_constraint() = Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0);
  v1::PublishConstraintResponse response;
  grpc::Status s = stub_->PublishConstraint(As("").get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  s = stub_->PublishConstraint(As(pilot_).get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s = stub_->PublishConstraint(As(regulator_).get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.constraint().authority().id(), "ch-foca");

  // A display (no planning scope) reads and checks, but cannot self-unlock.
  const std::string display = Token("screen", "display");
  v1::GetConstraintRequest get;
  get.set_constraint_id(response.constraint().id());
  v1::GetConstraintResponse got;
  EXPECT_TRUE(stub_->GetConstraint(As(display).get(), get, &got).ok());
  EXPECT_EQ(got.constraint().message_for_pilots(),
            "Wildfire: fire-fighting aircraft");
  v1::SelfUnlockRequest unlock;
  unlock.set_constraint_id(response.constraint().id());
  v1::SelfUnlockResponse unlocked;
  EXPECT_EQ(
      stub_->SelfUnlock(As(display).get(), unlock, &unlocked).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  // Bad input gets a precise error.
  request.mutable_constraint()->clear_volumes();
  s = stub_->PublishConstraint(As(regulator_).get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("constraint.volumes"));
}

TEST_F(ConstraintServiceTest, TfrRefusesIntentsUntilAGrant) {
  const v1::FileIntentResponse before = File(pilot_, Flight(0));
  ASSERT_TRUE(before.has_intent());
  v1::PublishConstraintResponse published;
  const v1::Constraint tfr =
      Publish(Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0), &published);
  ASSERT_THAT(published.affected_intents(), SizeIs(1));
  EXPECT_EQ(published.affected_intents(0).intent().id(), before.intent().id());

  const v1::FileIntentResponse refused = File(rescue_, Flight(200, 50, 70));
  ASSERT_TRUE(refused.has_rejection());
  ASSERT_THAT(refused.rejection().conflicts(), SizeIs(1));
  const v1::Conflict& c = refused.rejection().conflicts(0);
  EXPECT_EQ(c.constraint().id(), tfr.id());
  EXPECT_EQ(c.constraint().type(), v1::CONSTRAINT_TYPE_PROHIBITED);
  EXPECT_EQ(c.reason(), v1::CONFLICT_REASON_CONSTRAINT_PROHIBITED);
  ASSERT_THAT(c.overlaps(), SizeIs(1));
  EXPECT_EQ(c.overlaps(0).time_overlap().start().seconds(),
            absl::ToUnixSeconds(kNow + absl::Minutes(50)));

  v1::GrantAuthorisationRequest grant;
  grant.set_constraint_id(tfr.id());
  grant.set_operator_id("op-rescue");
  grant.set_reference("SAR-2026-117");
  *grant.mutable_window()->mutable_start() = TimeToProto(kNow);
  *grant.mutable_window()->mutable_end() = TimeToProto(kNow + absl::Hours(3));
  v1::GrantAuthorisationResponse granted;
  ASSERT_TRUE(
      stub_->GrantAuthorisation(As(regulator_).get(), grant, &granted).ok());
  const v1::FileIntentResponse accepted = File(rescue_, Flight(200, 50, 70));
  ASSERT_TRUE(accepted.has_intent()) << accepted.DebugString();
  ASSERT_THAT(accepted.advisories(), SizeIs(1));
  EXPECT_EQ(accepted.advisories(0).reason(),
            v1::CONFLICT_REASON_CONSTRAINT_ADVISORY);

  v1::CheckPositionRequest check;
  check.mutable_position()->set_lat_deg(East(100).lat_deg);
  check.mutable_position()->set_lng_deg(East(100).lng_deg);
  v1::CheckPositionResponse where;
  ASSERT_TRUE(stub_->CheckPosition(As(rescue_).get(), check, &where).ok());
  ASSERT_THAT(where.applicable(), SizeIs(1));
  EXPECT_TRUE(where.applicable(0).authorised());
  ASSERT_TRUE(stub_->CheckPosition(As(pilot_).get(), check, &where).ok());
  EXPECT_FALSE(where.applicable(0).authorised());
}

// Reads a watch stream on its own thread.
class StreamReader {
 public:
  StreamReader(v1::ConstraintService::Stub* stub, const std::string& token,
               v1::WatchConstraintsRequest request) {
    context_.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    context_.set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(60));
    reader_ = stub->WatchConstraints(&context_, request);
    thread_ = std::thread([this] {
      v1::ConstraintEvent event;
      while (true) {
        {
          absl::MutexLock lock(&mu_);
          mu_.Await(absl::Condition(
              +[](bool* reading) { return *reading; }, &reading_));
        }
        if (!reader_->Read(&event)) break;
        absl::MutexLock lock(&mu_);
        events_.push_back(event);
      }
      grpc::Status status = reader_->Finish();
      absl::MutexLock lock(&mu_);
      status_ = std::move(status);
      ended_ = true;
    });
  }
  ~StreamReader() {
    context_.TryCancel();
    SetReading(true);
    thread_.join();
  }
  void SetReading(bool reading) {
    absl::MutexLock lock(&mu_);
    reading_ = reading;
  }
  // Waits (bounded) until `pred(events)` holds; returns the events.
  std::vector<v1::ConstraintEvent> WaitFor(
      const std::function<bool(const std::vector<v1::ConstraintEvent>&)>& pred,
      absl::Duration timeout = absl::Seconds(20)) {
    const absl::Time deadline = absl::Now() + timeout;
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        if (ended_ || pred(events_) || absl::Now() > deadline) return events_;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
  // The stream's final status, once it has ended (bounded wait); nullopt if
  // it is still open.
  std::optional<grpc::Status> Ended(absl::Duration timeout = absl::Seconds(20)) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      {
        absl::MutexLock lock(&mu_);
        if (ended_) return status_;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    return std::nullopt;
  }
  size_t Count(v1::ConstraintEvent::EventCase kind) {
    absl::MutexLock lock(&mu_);
    size_t n = 0;
    for (const auto& e : events_) n += e.event_case() == kind;
    return n;
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::ConstraintEvent>> reader_;
  absl::Mutex mu_;
  std::vector<v1::ConstraintEvent> events_ ABSL_GUARDED_BY(mu_);
  bool reading_ ABSL_GUARDED_BY(mu_) = true;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

size_t CountOf(const std::vector<v1::ConstraintEvent>& events,
               v1::ConstraintEvent::EventCase kind) {
  size_t n = 0;
  for (const auto& e : events) n += e.event_case() == kind;
  return n;
}

TEST_F(ConstraintServiceTest, WatchSnapshotLiveReconnectAndHeartbeat) {
  const v1::Constraint first = Publish(Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0));
  v1::WatchConstraintsRequest request;
  *request.mutable_area() = Area(5000);
  request.mutable_heartbeat_interval()->set_seconds(5);
  int64_t last_seen = 0;
  {
    StreamReader reader(stub_.get(), pilot_, request);
    std::vector<v1::ConstraintEvent> events = reader.WaitFor([](const auto& e) {
      return CountOf(e, v1::ConstraintEvent::kSnapshotEnd) == 1;
    });
    ASSERT_THAT(events, SizeIs(3));
    EXPECT_EQ(events[1].upsert().id(), first.id());
    const v1::Constraint second =
        Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, 1000));
    events = reader.WaitFor([](const auto& e) { return e.size() >= 4; });
    ASSERT_THAT(events, SizeIs(4));
    EXPECT_EQ(events[3].upsert().id(), second.id());
    last_seen = events[3].sequence();
    // Idle: heartbeats carry the resume point.
    clock_.Advance(absl::Seconds(6));
    ASSERT_TRUE(constraints_->Tick().ok());
    events = reader.WaitFor([](const auto& e) { return e.size() >= 5; });
    ASSERT_THAT(events, SizeIs(5));
    EXPECT_TRUE(events[4].has_heartbeat());
    EXPECT_EQ(events[4].sequence(), last_seen);
  }
  // Disconnected: changes happen.
  const v1::Constraint third =
      Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, 2000));
  Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, 40000));  // not in the area
  v1::WithdrawConstraintRequest withdraw;
  withdraw.set_constraint_id(first.id());
  withdraw.set_version(1);
  v1::WithdrawConstraintResponse withdrawn;
  ASSERT_TRUE(
      stub_->WithdrawConstraint(As(regulator_).get(), withdraw, &withdrawn)
          .ok());
  // Reconnect with the last sequence: exactly what was missed, then live.
  request.set_since_sequence(last_seen);
  StreamReader reader(stub_.get(), pilot_, request);
  std::vector<v1::ConstraintEvent> events =
      reader.WaitFor([](const auto& e) { return e.size() >= 2; });
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[0].upsert().id(), third.id());
  EXPECT_EQ(events[1].removed().constraint_id(), first.id());
  EXPECT_EQ(events[1].removed().reason(),
            v1::CONSTRAINT_REMOVED_REASON_WITHDRAWN);
  EXPECT_LT(events[0].sequence(), events[1].sequence());
  const v1::Constraint fourth =
      Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, 3000));
  events = reader.WaitFor([](const auto& e) { return e.size() >= 3; });
  ASSERT_THAT(events, SizeIs(3));
  EXPECT_EQ(events[2].upsert().id(), fourth.id());
}

// A server stop: EndStreams() ends each watch at once with UNAVAILABLE and
// the sequence to resume from (that of the last event delivered outside an
// unfinished snapshot), and refuses later watches the same way.
TEST_F(ConstraintServiceTest, EndStreamsEndsWatchesWithTheirResumePoint) {
  const v1::Constraint first = Publish(Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0));
  v1::WatchConstraintsRequest request;
  *request.mutable_area() = Area(5000);
  StreamReader live(stub_.get(), pilot_, request);
  std::vector<v1::ConstraintEvent> events = live.WaitFor(
      [](const auto& e) { return e.size() >= 3; });  // begin, upsert, end
  ASSERT_THAT(events, SizeIs(3));
  const v1::Constraint second =
      Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, 1000));
  events = live.WaitFor([](const auto& e) { return e.size() >= 4; });
  ASSERT_THAT(events, SizeIs(4));
  ASSERT_EQ(events[3].upsert().id(), second.id());
  // Resuming from an older point: it replays, and its resume point follows.
  request.set_since_sequence(events[0].sequence());
  StreamReader resumed(stub_.get(), pilot_, request);
  ASSERT_THAT(resumed.WaitFor([](const auto& e) { return !e.empty(); }),
              SizeIs(1));

  constraint_service_->EndStreams();
  for (StreamReader* reader : {&live, &resumed}) {
    std::optional<grpc::Status> status = reader->Ended();
    ASSERT_TRUE(status.has_value()) << "the watch was not ended";
    EXPECT_EQ(status->error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(status->error_message(),
              absl::StrCat("server shutting down; resume from sequence ",
                           events[3].sequence()));
  }
  StreamReader late(stub_.get(), pilot_, request);
  std::optional<grpc::Status> status = late.Ended();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status->error_message(), HasSubstr("server shutting down"));
  (void)first;
}

TEST_F(ConstraintServiceTest, StalledWatcherIsToldToResyncOthersGetEverything) {
  constraint::ConstraintOptions options;
  options.watcher_queue_limit = 16;
  Start(options);
  v1::WatchConstraintsRequest request;
  *request.mutable_area() = Area(20000);
  // The stalled client's own connection, with a fixed 64 kB flow-control
  // window (no BDP growth), as a constrained aircraft link would have.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 64 * 1024);
  auto small = v1::ConstraintService::NewStub(
      grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                grpc::InsecureChannelCredentials(), args));
  StreamReader stalled(small.get(), pilot_, request);
  StreamReader healthy(stub_.get(), rescue_, request);
  auto snapshot_done = [](const auto& e) {
    return CountOf(e, v1::ConstraintEvent::kSnapshotEnd) >= 1;
  };
  stalled.WaitFor(snapshot_done);
  healthy.WaitFor(snapshot_done);
  stalled.SetReading(false);
  // Large polygons (about 8 kB an event) fill the stalled stream's HTTP/2
  // window, then its queue.
  constexpr int kPublishes = 400;
  for (int i = 0; i < kPublishes; ++i) {
    Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, (i % 40) * 200, 400));
  }
  std::vector<v1::ConstraintEvent> events = healthy.WaitFor([](const auto& e) {
    return CountOf(e, v1::ConstraintEvent::kUpsert) >= kPublishes;
  });
  EXPECT_EQ(CountOf(events, v1::ConstraintEvent::kUpsert),
            static_cast<size_t>(kPublishes));
  EXPECT_EQ(CountOf(events, v1::ConstraintEvent::kResyncRequired), 0u);
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_LE(events[i - 1].sequence(), events[i].sequence());
  }
  // The stalled one, reading again, is told to resync and, applying the
  // stream as a client would (a resync clears its cache), ends up with every
  // constraint: nothing silently lost.
  stalled.SetReading(true);
  const int64_t head = constraints_->last_sequence();
  auto cache_of = [](const std::vector<v1::ConstraintEvent>& e) {
    std::set<std::string> cache;
    for (const v1::ConstraintEvent& event : e) {
      if (event.has_resync_required()) cache.clear();
      if (event.has_upsert()) cache.insert(event.upsert().id());
    }
    return cache;
  };
  events = stalled.WaitFor([&](const auto& e) {
    return !e.empty() && e.back().sequence() == head &&
           !e.back().has_snapshot_begin() &&
           cache_of(e).size() == static_cast<size_t>(kPublishes);
  });
  EXPECT_GE(CountOf(events, v1::ConstraintEvent::kResyncRequired), 1u);
  EXPECT_EQ(cache_of(events).size(), static_cast<size_t>(kPublishes));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().sequence(), head);
}

}  // namespace
}  // namespace utm
