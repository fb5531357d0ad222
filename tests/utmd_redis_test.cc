// utmd on a real Redis, end to end: the audit log in the {utm}:audit Stream
// (and refusing to disclose when it cannot be written), constraints shared
// between replicas, and --services splitting one airspace between a
// strategic and a telemetry process.
#include <string>

#include "absl/strings/str_cat.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/audit/audit_chain.h"
#include "services/common/redis/redis_client.h"
#include "services/common/volume_convert.h"
#include "tests/utmd_redis_fixture.h"
#include "utm/v1/constraint.grpc.pb.h"

namespace utm::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

const geo::LatLng kCentre{47.3769, 8.5417};

v1::FileIntentRequest Filing(const std::string& request_id) {
  const absl::Time now = absl::Now();
  v1::FileIntentRequest request;
  request.set_request_id(request_id);
  *request.add_volumes() = VolumeToProto(
      geo::Volume4D{geo::Volume3D{geo::Circle{kCentre, 100}, {500, 600}},
                    {now + absl::Minutes(10), now + absl::Minutes(40)}});
  return request;
}

class UtmdOnRedisTest : public UtmdRedisTest {
 protected:
  std::unique_ptr<redis::Client> Redis() {
    redis::ClientOptions options;
    options.addr = redis_->addr();
    absl::StatusOr<std::unique_ptr<redis::Client>> client =
        redis::Client::Connect(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }
  // The `line` field of every entry of {utm}:audit.
  std::vector<std::string> AuditLines(redis::Client& redis) {
    std::vector<std::string> lines;
    absl::StatusOr<redis::Reply> r =
        redis.Command({"XRANGE", "{utm}:audit", "-", "+"});
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return lines;
    for (const redis::Reply& entry : r->elements) {
      const redis::Reply& fields = entry.elements.at(1);
      for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
        if (fields.elements[i].str == "line") {
          lines.push_back(fields.elements[i + 1].str);
        }
      }
    }
    return lines;
  }
};

TEST_F(UtmdOnRedisTest, DisclosuresGoToTheAuditStreamAndFailClosed) {
  UtmdProcess* utmd = StartReplica();
  ASSERT_NE(utmd, nullptr);
  std::unique_ptr<redis::Client> redis = Redis();
  ASSERT_NE(redis, nullptr);
  auto stub = Strategic(utmd->address());
  const std::string alice =
      Token("alice", {auth::Scope::kStrategicCoordination});
  v1::FileIntentResponse filed;
  ASSERT_TRUE(
      stub->FileIntent(Context(alice).get(), Filing("r1"), &filed).ok());
  ASSERT_TRUE(filed.has_intent());
  const std::string id = filed.intent().id();

  // A subject with a line break cannot forge a second line.
  const std::string police =
      Token("cop\nforged owner=x", {auth::Scope::kLawEnforcement});
  v1::GetIntentRequest get;
  get.set_intent_id(id);
  get.set_case_reference("CASE-1");
  v1::GetIntentResponse response;
  grpc::Status s = stub->GetIntent(Context(police).get(), get, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.intent().owner(), "alice");
  std::vector<std::string> lines = AuditLines(*redis);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0],
              MatchesRegex(absl::StrCat(
                  "seq=1 time=[0-9T:.Z-]+ action=intent-owner "
                  "subject=cop%0Aforged%20owner%3Dx case=CASE-1 target=",
                  id,
                  " about=alice disclosed=alice salt=[0-9a-f]{32} prev=0{64} "
                  "hash=[0-9a-f]{64}")));
  // The owner's own reads are no disclosure.
  get.clear_case_reference();
  ASSERT_TRUE(stub->GetIntent(Context(alice).get(), get, &response).ok());
  EXPECT_EQ(AuditLines(*redis).size(), 1u);
  get.set_case_reference("CASE-1");

  // The Stream cannot be written (the key holds a string): the owner is not
  // disclosed, and the caller is told to retry.
  ASSERT_TRUE(
      redis->Command({"RENAME", "{utm}:audit", "{utm}:audit-aside"}).ok());
  ASSERT_TRUE(redis->Command({"SET", "{utm}:audit", "not a stream"}).ok());
  response.Clear();
  s = stub->GetIntent(Context(police).get(), get, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(s.error_message(),
              HasSubstr("the audit log cannot be written"));
  EXPECT_THAT(s.error_message(), HasSubstr("the owner is not disclosed"));
  EXPECT_FALSE(response.has_intent());
  EXPECT_FALSE(response.has_redacted());

  // Writable again: disclosed and recorded again, on the same chain.
  ASSERT_TRUE(redis->Command({"DEL", "{utm}:audit"}).ok());
  ASSERT_TRUE(
      redis->Command({"RENAME", "{utm}:audit-aside", "{utm}:audit"}).ok());
  s = stub->GetIntent(Context(police).get(), get, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.intent().owner(), "alice");
  lines = AuditLines(*redis);
  EXPECT_EQ(lines.size(), 2u);
  absl::StatusOr<audit::VerifyResult> verified = audit::VerifyAuditLines(lines);
  ASSERT_TRUE(verified.ok()) << verified.status();
  absl::StatusOr<redis::Reply> head =
      redis->Command({"GET", "{utm}:audit:head"});
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->str, audit::FormatHead(verified->head));

  // Redis gone: the intent is in the replica's memory, but its owner is
  // not disclosed without the record.
  redis.reset();
  redis_->Kill9();
  response.Clear();
  s = stub->GetIntent(Context(police).get(), get, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(s.error_message(), HasSubstr("the owner is not disclosed"));
  EXPECT_FALSE(response.has_intent());
  // ... while other readers are answered from memory.
  get.clear_case_reference();
  s = stub->GetIntent(Context(alice).get(), get, &response);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.intent().id(), id);
  // No file: in redis mode the audit log is only in Redis.
  EXPECT_FALSE(std::filesystem::exists(dir_ / "replica-0" / "audit.log"));
}

TEST_F(UtmdOnRedisTest, AConstraintPublishedOnOneReplicaHoldsOnAnother) {
  UtmdProcess* a = StartReplica();
  ASSERT_NE(a, nullptr);
  UtmdProcess* b = StartReplica();
  ASSERT_NE(b, nullptr);
  // A permanent PROHIBITED zone, published through replica a.
  v1::PublishConstraintRequest publish;
  publish.set_request_id("zone-1");
  v1::Constraint& zone = *publish.mutable_constraint();
  zone.set_type(v1::CONSTRAINT_TYPE_PROHIBITED);
  geo::Volume4D v;
  v.volume.footprint = geo::Circle{kCentre, 500};
  v.volume.altitude = {0, 1000};
  v.time = {absl::InfinitePast(), absl::InfiniteFuture()};
  *zone.add_volumes() = VolumeToProto(v);
  zone.set_message_for_pilots("Wildfire: fire-fighting aircraft");
  auto constraints = v1::ConstraintService::NewStub(grpc::CreateChannel(
      a->address(), grpc::InsecureChannelCredentials()));
  v1::PublishConstraintResponse published;
  grpc::Status s = constraints->PublishConstraint(
      Context(Token("ch-foca", {auth::Scope::kConstraintManagement})).get(),
      publish, &published);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const std::string zone_id = published.constraint().id();

  // A filing inside it, through replica b, meets it (b's model has it once
  // its follower applied the entry: retried for up to 5 s).
  const std::string alice =
      Token("alice", {auth::Scope::kStrategicCoordination});
  v1::FileIntentResponse filed;
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  int attempt = 0;
  do {
    filed.Clear();
    s = Strategic(b->address())
            ->FileIntent(Context(alice).get(),
                         Filing(absl::StrCat("r", attempt++)), &filed);
    ASSERT_TRUE(s.ok()) << s.error_message();
    if (!filed.has_intent()) break;
    absl::SleepFor(absl::Milliseconds(100));
  } while (absl::Now() < deadline);
  ASSERT_TRUE(filed.has_rejection()) << filed.DebugString();
  ASSERT_GE(filed.rejection().conflicts_size(), 1);
  EXPECT_EQ(filed.rejection().conflicts(0).constraint().id(), zone_id)
      << filed.DebugString();
  EXPECT_EQ(attempt, 1) << "the first filing through b already met the zone";

  // And it outlives both replicas: a new one loads it from Redis.
  replicas_.clear();
  UtmdProcess* c = StartReplica();
  ASSERT_NE(c, nullptr);
  v1::GetConstraintRequest get;
  get.set_constraint_id(zone_id);
  v1::GetConstraintResponse got;
  s = v1::ConstraintService::NewStub(
          grpc::CreateChannel(c->address(), grpc::InsecureChannelCredentials()))
          ->GetConstraint(Context(alice).get(), get, &got);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(got.constraint().type(), v1::CONSTRAINT_TYPE_PROHIBITED);
}

TEST_F(UtmdOnRedisTest, ServicesSplitOneAirspace) {
  UtmdProcess* strategic = StartReplica({"--services", "intent,constraint"});
  ASSERT_NE(strategic, nullptr);
  UtmdProcess* telemetry = StartReplica({"--services", "telemetry"});
  ASSERT_NE(telemetry, nullptr);

  // Health names only what each serves.
  EXPECT_EQ(Health(strategic->address()), "SERVING");
  EXPECT_EQ(Health(strategic->address(), "utm.v1.StrategicCoordination"),
            "SERVING");
  EXPECT_EQ(Health(strategic->address(), "utm.v1.ConstraintService"),
            "SERVING");
  EXPECT_EQ(Health(strategic->address(), "utm.v1.TelemetryService"),
            absl::StrCat("error ", grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(Health(telemetry->address()), "SERVING");
  EXPECT_EQ(Health(telemetry->address(), "utm.v1.TelemetryService"),
            "SERVING");
  EXPECT_EQ(Health(telemetry->address(), "utm.v1.StrategicCoordination"),
            absl::StrCat("error ", grpc::StatusCode::NOT_FOUND));

  // Filed through the strategic process; the telemetry process does not
  // serve intents.
  const std::string alice =
      Token("alice", {auth::Scope::kStrategicCoordination});
  v1::FileIntentResponse filed;
  ASSERT_TRUE(Strategic(strategic->address())
                  ->FileIntent(Context(alice).get(), Filing("r1"), &filed)
                  .ok());
  ASSERT_TRUE(filed.has_intent());
  v1::FileIntentResponse refused;
  grpc::Status s = Strategic(telemetry->address())
                       ->FileIntent(Context(alice).get(), Filing("r2"),
                                    &refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);

  // Redis gone: the strategic process stops serving; the telemetry process,
  // which writes nothing to Redis, stays SERVING.
  redis_->Kill9();
  EXPECT_TRUE(AwaitHealth(strategic->address(), "NOT_SERVING",
                          absl::Seconds(5)));
  EXPECT_EQ(Health(telemetry->address()), "SERVING");
  EXPECT_EQ(Health(telemetry->address(), "utm.v1.TelemetryService"),
            "SERVING");
  ASSERT_TRUE(redis_->Restart().ok());
  EXPECT_TRUE(
      AwaitHealth(strategic->address(), "SERVING", absl::Seconds(10)));
}

}  // namespace
}  // namespace utm::testing
