// Integration: the strategic coordination service over a real gRPC server on
// a loopback port, with real JWT authentication. Every rule of the intent
// service is exercised through the wire contract.
#include "services/intent/intent_service.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/server.h"
#include "services/common/volume_convert.h"
#include "services/intent/intent_core.h"
#include "tests/service_test_util.h"
#include "utm/v1/strategic.grpc.pb.h"

namespace utm {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

v1::Volume4D Cylinder(double east_m, double radius_m = 100, int start_min = 10,
                      int end_min = 40) {
  geo::Volume4D v{
      geo::Volume3D{geo::Circle{geo::GeodesicDestination(
                                    geo::test_util::kZurich, 90, east_m),
                                radius_m},
                    {500, 620}},
      {kNow + absl::Minutes(start_min), kNow + absl::Minutes(end_min)}};
  return VolumeToProto(v);
}

class IntentServiceTest : public testing::Test {
 protected:
  void SetUp() override { Start(intent::IntentOptions()); }

  void Start(intent::IntentOptions options,
             intent::PriorityPolicy priorities = intent::PriorityPolicy()) {
    server_.reset();
    service_.reset();
    core_ = std::make_unique<intent::IntentCore>(options, &clock_);
    service_ = std::make_unique<intent::IntentService>(
        core_.get(), auth_.verifier(),
        [this](const audit::AuditEvent& event) {
          audit_.push_back(event);
          return absl::OkStatus();
        },
        geo::ValidationLimits(), priorities);
    absl::StatusOr<std::unique_ptr<Server>> server =
        test_util::StartOnLoopback({service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::StrategicCoordination::NewStub(
        test_util::LoopbackChannel(*server_));
  }

  std::string Token(const std::string& subject, const std::string& role,
                    absl::Duration ttl = absl::Hours(1)) {
    return auth_.Token(subject, role, ttl);
  }

  // A client context carrying `token` (none when empty).
  static std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
    return test_util::ServiceTestAuth::As(token);
  }

  grpc::Status File(const std::string& token, std::vector<v1::Volume4D> volumes,
                    int priority, v1::FileIntentResponse* response,
                    const std::string& request_id = "") {
    v1::FileIntentRequest request;
    request.set_request_id(request_id);
    request.set_priority(priority);
    for (auto& v : volumes) *request.add_volumes() = v;
    return stub_->FileIntent(As(token).get(), request, response);
  }

  std::string FileAccepted(const std::string& token,
                           std::vector<v1::Volume4D> volumes,
                           int priority = 0) {
    v1::FileIntentResponse response;
    const grpc::Status status = File(token, volumes, priority, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(response.has_intent()) << response.DebugString();
    return response.intent().id();
  }

  SimulatedClock clock_{kNow};
  test_util::ServiceTestAuth auth_{&clock_};
  std::unique_ptr<intent::IntentCore> core_;
  std::unique_ptr<intent::IntentService> service_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<v1::StrategicCoordination::Stub> stub_;
  std::vector<audit::AuditEvent> audit_;
};

// FileIntentRequest.no_retention reaches the core and comes back on the
// intent (the core's test checks that nothing reaches the store).
TEST_F(IntentServiceTest, NoRetentionIsCarriedThrough) {
  v1::FileIntentRequest request;
  request.set_no_retention(true);
  *request.add_volumes() = Cylinder(0);
  v1::FileIntentResponse filed;
  ASSERT_TRUE(
      stub_->FileIntent(As(Token("alice", "operator")).get(), request, &filed)
          .ok());
  ASSERT_TRUE(filed.has_intent());
  EXPECT_TRUE(filed.intent().no_retention());
  EXPECT_FALSE(core_->Get("alice", filed.intent().id())->intent.retained);
  v1::GetIntentRequest get;
  get.set_intent_id(filed.intent().id());
  v1::GetIntentResponse got;
  ASSERT_TRUE(
      stub_->GetIntent(As(Token("alice", "operator")).get(), get, &got).ok());
  EXPECT_TRUE(got.intent().no_retention());
  // The default keeps the intent.
  const std::string kept =
      FileAccepted(Token("alice", "operator"), {Cylinder(5000)});
  EXPECT_TRUE(core_->Get("alice", kept)->intent.retained);
}

TEST_F(IntentServiceTest, FileAcceptsAndRejectsWithExplanation) {
  const std::string alice = Token("alice", "operator");
  const std::string bob = Token("bob", "operator");
  v1::FileIntentResponse first;
  ASSERT_TRUE(File(alice, {Cylinder(0), Cylinder(3000)}, 0, &first).ok());
  ASSERT_TRUE(first.has_intent());
  EXPECT_EQ(first.intent().owner(), "alice");
  EXPECT_EQ(first.intent().state(), v1::INTENT_STATE_ACCEPTED);
  EXPECT_EQ(first.intent().version(), 1);

  v1::FileIntentResponse second;
  ASSERT_TRUE(File(bob, {Cylinder(8000), Cylinder(3100)}, 0, &second).ok());
  ASSERT_TRUE(second.has_rejection());
  ASSERT_EQ(second.rejection().conflicts_size(), 1);
  const v1::Conflict& c = second.rejection().conflicts(0);
  EXPECT_EQ(c.intent().id(), first.intent().id());
  EXPECT_EQ(c.intent().priority(), 0);
  EXPECT_EQ(c.intent().state(), v1::INTENT_STATE_ACCEPTED);
  EXPECT_EQ(c.reason(), v1::CONFLICT_REASON_INTENT_PRIORITY);
  ASSERT_EQ(c.overlaps_size(), 1);
  EXPECT_EQ(c.overlaps(0).volume_index(), 1);
  EXPECT_EQ(c.overlaps(0).other_volume_index(), 1);
  EXPECT_EQ(c.overlaps(0).time_overlap().start().seconds(),
            absl::ToUnixSeconds(kNow + absl::Minutes(10)));
  EXPECT_EQ(c.overlaps(0).altitude_overlap().upper().value_m(), 620);
  // The rejection names no owner anywhere.
  EXPECT_THAT(second.DebugString(), testing::Not(HasSubstr("alice")));
}

TEST_F(IntentServiceTest, PriorityRules) {
  const std::string low =
      FileAccepted(Token("alice", "operator"), {Cylinder(0)}, 1);
  v1::FileIntentResponse high;
  ASSERT_TRUE(File(Token("bob", "operator"), {Cylinder(50)}, 9, &high).ok());
  ASSERT_TRUE(high.has_intent());
  ASSERT_EQ(high.advisories_size(), 1);
  EXPECT_EQ(high.advisories(0).intent().id(), low);
  EXPECT_EQ(high.advisories(0).reason(),
            v1::CONFLICT_REASON_INTENT_LOWER_PRIORITY);
  v1::FileIntentResponse lower;
  ASSERT_TRUE(File(Token("carol", "operator"), {Cylinder(20)}, 5, &lower).ok());
  ASSERT_TRUE(lower.has_rejection());
  ASSERT_EQ(lower.rejection().conflicts_size(), 1);
  EXPECT_EQ(lower.rejection().conflicts(0).intent().id(), high.intent().id());
}

// Each band of the default priority policy, over the wire: an operator token
// up to 99, utm.priority.public_safety up to 199, utm.priority.emergency up
// to 1000; a refused filing leaves nothing behind.
TEST_F(IntentServiceTest, PriorityBandsNeedTheirScopes) {
  struct Case {
    const char* role;
    int priority;
    grpc::StatusCode code;
    const char* message;
  };
  const char kOperatorLimit[] =
      "exceeds 99, the most an operator token may take; 100-199 need scope "
      "utm.priority.public_safety, 200-1000 utm.priority.emergency";
  const char kPublicSafetyLimit[] =
      "exceeds 199, the most a utm.priority.public_safety token may take; "
      "200-1000 need scope utm.priority.emergency";
  const std::vector<Case> cases = {
      {"operator", 99, grpc::StatusCode::OK, ""},
      {"operator", 100, grpc::StatusCode::PERMISSION_DENIED, kOperatorLimit},
      {"operator", 1000, grpc::StatusCode::PERMISSION_DENIED, kOperatorLimit},
      {"admin", 100, grpc::StatusCode::PERMISSION_DENIED, kOperatorLimit},
      {"public-safety", 199, grpc::StatusCode::OK, ""},
      {"public-safety", 200, grpc::StatusCode::PERMISSION_DENIED,
       kPublicSafetyLimit},
      {"emergency", 1000, grpc::StatusCode::OK, ""},
      {"emergency", 1001, grpc::StatusCode::INVALID_ARGUMENT,
       "is outside [0, 1000]"},
      {"operator", -1, grpc::StatusCode::INVALID_ARGUMENT,
       "is outside [0, 1000]"},
  };
  size_t accepted = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    v1::FileIntentResponse response;
    // Far apart, so only the policy decides.
    const grpc::Status status = File(
        Token(absl::StrCat("pilot-", i), c.role),
        {Cylinder(1000.0 * static_cast<double>(i))}, c.priority, &response);
    EXPECT_EQ(status.error_code(), c.code)
        << c.role << " " << c.priority << ": " << status.error_message();
    if (c.code == grpc::StatusCode::OK) {
      EXPECT_TRUE(response.has_intent()) << c.role << " " << c.priority;
      ++accepted;
    } else {
      EXPECT_EQ(status.error_message(),
                absl::StrCat("priority: ", c.priority, " ", c.message));
    }
  }
  EXPECT_EQ(core_->live_count(), accepted);
}

// ModifyIntent is held to the same bands: an operator cannot raise its own
// intent past 99, nor keep an intent a public-safety token filed at 150.
TEST_F(IntentServiceTest, ModifyIsHeldToTheCallersBand) {
  const std::string alice = Token("alice", "operator");
  const std::string mine = FileAccepted(alice, {Cylinder(0)}, 5);
  v1::ModifyIntentRequest modify;
  modify.set_intent_id(mine);
  modify.set_version(1);
  modify.set_priority(100);
  *modify.add_volumes() = Cylinder(0);
  v1::ModifyIntentResponse response;
  grpc::Status status = stub_->ModifyIntent(As(alice).get(), modify, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("priority: 100 exceeds 99, the most an operator "
                        "token may take"));
  EXPECT_EQ(core_->Get("alice", mine)->intent.priority, 5);
  EXPECT_EQ(core_->Get("alice", mine)->intent.version, 1);
  modify.set_priority(99);
  status = stub_->ModifyIntent(As(alice).get(), modify, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.intent().priority(), 99);

  // Rega files in the public-safety band; a token of the same subject
  // without the scope cannot modify it while keeping 150.
  const std::string rega =
      FileAccepted(Token("rega", "public-safety"), {Cylinder(3000)}, 150);
  modify.set_intent_id(rega);
  modify.set_version(1);
  modify.set_priority(150);
  status = stub_->ModifyIntent(As(Token("rega", "operator")).get(), modify,
                               &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  status = stub_->ModifyIntent(As(Token("rega", "public-safety")).get(), modify,
                               &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

// The bands come from configuration (utmd's --max-operator-priority, ...).
TEST_F(IntentServiceTest, ConfiguredPriorityBands) {
  intent::PriorityBands bands;
  bands.max_operator = 9;
  bands.max_public_safety = 19;
  bands.max_priority = 1000;
  absl::StatusOr<intent::PriorityPolicy> policy =
      intent::PriorityPolicy::Create(bands);
  ASSERT_TRUE(policy.ok()) << policy.status();
  Start(intent::IntentOptions(), *policy);
  v1::FileIntentResponse response;
  const grpc::Status status =
      File(Token("alice", "operator"), {Cylinder(0)}, 10, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(status.error_message(),
            "priority: 10 exceeds 9, the most an operator token may take; "
            "10-19 need scope utm.priority.public_safety, 20-1000 "
            "utm.priority.emergency");
  FileAccepted(Token("alice", "operator"), {Cylinder(0)}, 9);
  FileAccepted(Token("bob", "public-safety"), {Cylinder(0)}, 19);
}

TEST_F(IntentServiceTest, EqualPriorityFlag) {
  FileAccepted(Token("alice", "operator"), {Cylinder(0)}, 3);
  v1::FileIntentResponse refused;
  ASSERT_TRUE(File(Token("bob", "operator"), {Cylinder(0)}, 3, &refused).ok());
  EXPECT_TRUE(refused.has_rejection());

  intent::IntentOptions allow;
  allow.allow_equal_priority_overlap = true;
  Start(allow);
  FileAccepted(Token("alice", "operator"), {Cylinder(0)}, 3);
  v1::FileIntentResponse allowed;
  ASSERT_TRUE(File(Token("bob", "operator"), {Cylinder(0)}, 3, &allowed).ok());
  EXPECT_TRUE(allowed.has_intent());
  EXPECT_EQ(allowed.advisories_size(), 1);
}

TEST_F(IntentServiceTest, ActivatedModifyRuleAndStaleVersions) {
  const std::string alice = Token("alice", "operator");
  const std::string mine = FileAccepted(alice, {Cylinder(0)}, 0);
  v1::ActivateIntentRequest activate;
  activate.set_intent_id(mine);
  activate.set_version(1);
  v1::ActivateIntentResponse activated;
  ASSERT_TRUE(
      stub_->ActivateIntent(As(alice).get(), activate, &activated).ok());
  ASSERT_EQ(activated.intent().state(), v1::INTENT_STATE_ACTIVATED);
  FileAccepted(Token("bob", "operator"), {Cylinder(100)}, 10);  // over mine
  const std::string peer =
      FileAccepted(Token("carol", "operator"), {Cylinder(5000)}, 0);

  v1::ModifyIntentRequest modify;
  modify.set_intent_id(mine);
  modify.set_version(2);
  *modify.add_volumes() = Cylinder(30, 120);
  v1::ModifyIntentResponse kept;
  ASSERT_TRUE(stub_->ModifyIntent(As(alice).get(), modify, &kept).ok());
  ASSERT_TRUE(kept.has_intent()) << kept.DebugString();
  EXPECT_EQ(kept.intent().version(), 3);
  EXPECT_EQ(kept.advisories_size(), 1);  // the conflict it keeps

  modify.set_version(3);
  *modify.add_volumes() = Cylinder(5000);
  v1::ModifyIntentResponse added;
  ASSERT_TRUE(stub_->ModifyIntent(As(alice).get(), modify, &added).ok());
  ASSERT_TRUE(added.has_rejection());
  ASSERT_EQ(added.rejection().conflicts_size(), 1);
  EXPECT_EQ(added.rejection().conflicts(0).intent().id(), peer);

  modify.set_version(1);  // stale
  v1::ModifyIntentResponse stale;
  const grpc::Status status =
      stub_->ModifyIntent(As(alice).get(), modify, &stale);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_THAT(status.error_message(), HasSubstr("is at version 3, not 1"));
}

TEST_F(IntentServiceTest, RetriedFileIsIdempotent) {
  const std::string alice = Token("alice", "operator");
  v1::FileIntentResponse first, retry, reuse;
  ASSERT_TRUE(File(alice, {Cylinder(0)}, 0, &first, "req-42").ok());
  ASSERT_TRUE(File(alice, {Cylinder(0)}, 0, &retry, "req-42").ok());
  EXPECT_EQ(retry.intent().id(), first.intent().id());
  EXPECT_EQ(core_->live_count(), 1u);
  const grpc::Status status = File(alice, {Cylinder(900)}, 0, &reuse, "req-42");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(IntentServiceTest, LimitsGivePreciseErrors) {
  const std::string alice = Token("alice", "operator");
  v1::FileIntentResponse response;
  v1::Volume4D past = Cylinder(0, 100, -120, -60);
  grpc::Status status = File(alice, {Cylinder(0), past}, 0, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("volumes[1].time_end: 2027-01-15T07:00:00+00:00 is in "
                        "the past"));
  status = File(alice, {Cylinder(0, 100, 60 * 24 * 31, 60 * 24 * 31 + 10)}, 0,
                &response);
  EXPECT_THAT(status.error_message(),
              HasSubstr("volumes[0].time_start: 2027-02-15T08:00:00+00:00 is "
                        "more than 720h ahead"));
  std::vector<v1::Volume4D> many(101, Cylinder(0));
  status = File(alice, many, 0, &response);
  EXPECT_EQ(status.error_message(), "volumes: 101 entries, at most 100");
  v1::Volume4D huge = Cylinder(0, 30000);
  status = File(alice, {huge}, 0, &response);
  EXPECT_THAT(status.error_message(),
              HasSubstr("volumes[0].volume.outline_circle.radius_m"));
  v1::Volume4D no_ref = Cylinder(0);
  no_ref.mutable_volume()->mutable_altitude_lower()->clear_reference();
  status = File(alice, {no_ref}, 0, &response);
  EXPECT_EQ(status.error_message(),
            "volumes[0].volume.altitude_lower.reference: must be "
            "ALTITUDE_REFERENCE_W84 (metres above the WGS84 ellipsoid)");
  // Too many vertices, a priority out of range, an oversized request id.
  v1::Volume4D many_vertices = Cylinder(0);
  v1::Polygon* ring = many_vertices.mutable_volume()->mutable_outline_polygon();
  for (int i = 0; i < 1001; ++i) {
    const geo::LatLng p = geo::GeodesicDestination(geo::test_util::kZurich,
                                                   -360.0 * i / 1001, 500);
    v1::LatLng* v = ring->add_vertices();
    v->set_lat_deg(p.lat_deg);
    v->set_lng_deg(p.lng_deg);
  }
  status = File(alice, {many_vertices}, 0, &response);
  EXPECT_EQ(status.error_message(),
            "volumes[0].volume.outline_polygon: has 1001 vertices; at most "
            "1000 are allowed");
  status = File(alice, {Cylinder(0)}, 1001, &response);
  EXPECT_EQ(status.error_message(), "priority: 1001 is outside [0, 1000]");
  status = File(alice, {Cylinder(0)}, 0, &response, std::string(200, 'r'));
  EXPECT_EQ(status.error_message(), "request_id: 200 bytes, at most 128");
  EXPECT_EQ(core_->live_count(), 0u);
}

TEST_F(IntentServiceTest, AuthenticationFailures) {
  v1::FileIntentResponse response;
  grpc::Status status = File("", {Cylinder(0)}, 0, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("no credentials"));

  auth::MintOptions forged;
  forged.subject = "mallory";
  forged.scopes = {auth::Scope::kStrategicCoordination};
  const std::string bad_signature = *auth::MintHmacToken(
      "another-secret-another-secret-another-secret", forged, &clock_);
  status = File(bad_signature, {Cylinder(0)}, 0, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);

  const std::string short_lived = Token("alice", "operator", absl::Minutes(1));
  clock_.Advance(absl::Minutes(5));
  status = File(short_lived, {Cylinder(0)}, 0, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("expired"));

  status = File(Token("regulator-1", "regulator"), {Cylinder(0)}, 0, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("utm.strategic_coordination"));
  EXPECT_EQ(core_->live_count(), 0u);
}

TEST_F(IntentServiceTest, OperatorsChangeOnlyTheirOwnIntents) {
  const std::string id =
      FileAccepted(Token("alice", "operator"), {Cylinder(0)});
  v1::CancelIntentRequest cancel;
  cancel.set_intent_id(id);
  cancel.set_version(1);
  v1::CancelIntentResponse response;
  const grpc::Status status = stub_->CancelIntent(
      As(Token("bob", "operator")).get(), cancel, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("belongs to another operator"));
  ASSERT_TRUE(stub_
                  ->CancelIntent(As(Token("alice", "operator")).get(), cancel,
                                 &response)
                  .ok());
  EXPECT_EQ(response.intent().state(), v1::INTENT_STATE_CANCELLED);
}

TEST_F(IntentServiceTest, OwnerIdentityIsRedactedExceptForAuditedPolice) {
  const std::string id =
      FileAccepted(Token("alice", "operator"), {Cylinder(0)}, 2);
  v1::GetIntentRequest get;
  get.set_intent_id(id);
  v1::GetIntentResponse own, other, police;
  ASSERT_TRUE(
      stub_->GetIntent(As(Token("alice", "operator")).get(), get, &own).ok());
  EXPECT_EQ(own.intent().owner(), "alice");
  ASSERT_TRUE(
      stub_->GetIntent(As(Token("bob", "operator")).get(), get, &other).ok());
  ASSERT_TRUE(other.has_redacted());
  EXPECT_EQ(other.redacted().priority(), 2);
  EXPECT_FALSE(other.redacted().owned_by_caller());
  EXPECT_TRUE(audit_.empty());
  // Police without a case reference see what the public sees.
  ASSERT_TRUE(
      stub_->GetIntent(As(Token("officer-7", "police")).get(), get, &police)
          .ok());
  EXPECT_TRUE(police.has_redacted());
  EXPECT_TRUE(audit_.empty());
  get.set_case_reference("WARRANT-2026-0042");
  ASSERT_TRUE(
      stub_->GetIntent(As(Token("officer-7", "police")).get(), get, &police)
          .ok());
  EXPECT_EQ(police.intent().owner(), "alice");
  ASSERT_EQ(audit_.size(), 1u);
  EXPECT_EQ(audit_[0].subject, "officer-7");
  EXPECT_EQ(audit_[0].case_reference, "WARRANT-2026-0042");
  EXPECT_EQ(audit_[0].action, "intent-owner");
  EXPECT_EQ(audit_[0].target, id);
  EXPECT_EQ(audit_[0].disclosed, "alice");
  get.clear_case_reference();
  get.set_intent_id("no-such-intent");
  EXPECT_EQ(stub_->GetIntent(As(Token("bob", "operator")).get(), get, &other)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(IntentServiceTest, QueryPagesThroughTheArea) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(FileAccepted(Token(absl::StrCat("op-", i), "operator"),
                               {Cylinder(i * 300)}));
  }
  std::sort(ids.begin(), ids.end());
  v1::QueryIntentsRequest query;
  *query.mutable_area() = Cylinder(600, 2000, 0, 60);
  query.mutable_area()->clear_time_start();  // open bounds are allowed
  query.set_page_size(2);
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    v1::QueryIntentsResponse response;
    ASSERT_TRUE(stub_
                    ->QueryIntents(As(Token("op-0", "operator")).get(), query,
                                   &response)
                    .ok());
    for (const auto& v : response.intents()) seen.push_back(v.id());
    if (response.next_page_token().empty()) break;
    query.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(seen, ids);
  query.clear_area();
  v1::QueryIntentsResponse response;
  EXPECT_EQ(
      stub_->QueryIntents(As(Token("op-0", "operator")).get(), query, &response)
          .error_message(),
      "area: required");
}

// ListIntents: the caller's own intents only (by the token's subject),
// paged, a state filter; the scope and bad input are refused precisely.
TEST_F(IntentServiceTest, ListIntentsShowsOnlyTheCallersOwnPaged) {
  const std::string alice = Token("alice", "operator");
  std::vector<std::string> mine;
  for (int i = 0; i < 3; ++i) {
    mine.push_back(FileAccepted(alice, {Cylinder(1000.0 * i)}));
  }
  FileAccepted(Token("bob", "operator"), {Cylinder(9000)});
  std::sort(mine.begin(), mine.end());

  v1::ListIntentsRequest request;
  request.set_page_size(2);
  std::vector<std::string> listed;
  int pages = 0;
  while (true) {
    v1::ListIntentsResponse response;
    const grpc::Status status =
        stub_->ListIntents(As(alice).get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ++pages;
    for (const v1::FlightIntent& intent : response.intents()) {
      EXPECT_EQ(intent.owner(), "alice");  // in full: her own
      EXPECT_EQ(intent.volumes_size(), 1);
      listed.push_back(intent.id());
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(listed, mine);
  EXPECT_EQ(pages, 2);

  // Cancelled: gone from the default list, there when asked for.
  v1::CancelIntentRequest cancel;
  cancel.set_intent_id(mine[0]);
  cancel.set_version(1);
  v1::CancelIntentResponse cancelled;
  ASSERT_TRUE(stub_->CancelIntent(As(alice).get(), cancel, &cancelled).ok());
  v1::ListIntentsResponse response;
  ASSERT_TRUE(stub_->ListIntents(As(alice).get(), v1::ListIntentsRequest(),
                                 &response)
                  .ok());
  ASSERT_EQ(response.intents_size(), 2);
  EXPECT_EQ(response.intents(0).id(), mine[1]);
  v1::ListIntentsRequest only_cancelled;
  only_cancelled.add_states(v1::INTENT_STATE_CANCELLED);
  ASSERT_TRUE(
      stub_->ListIntents(As(alice).get(), only_cancelled, &response).ok());
  ASSERT_EQ(response.intents_size(), 1);
  EXPECT_EQ(response.intents(0).id(), mine[0]);
  EXPECT_EQ(response.intents(0).state(), v1::INTENT_STATE_CANCELLED);

  // Someone with no intents gets an empty list, not another's.
  ASSERT_TRUE(stub_->ListIntents(As(Token("carol", "operator")).get(),
                                 v1::ListIntentsRequest(), &response)
                  .ok());
  EXPECT_EQ(response.intents_size(), 0);
  EXPECT_TRUE(response.next_page_token().empty());
}

TEST_F(IntentServiceTest, ListIntentsRefusesBadInputAndOtherScopes) {
  struct Case {
    std::function<void(v1::ListIntentsRequest*)> edit;
    grpc::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](auto* r) { r->set_page_size(-1); }, grpc::INVALID_ARGUMENT,
       "page_size: -1 is negative"},
      {[](auto* r) { r->add_states(v1::INTENT_STATE_UNSPECIFIED); },
       grpc::INVALID_ARGUMENT, "states[0]"},
      {[](auto* r) {
         r->add_states(v1::INTENT_STATE_ACCEPTED);
         r->add_states(static_cast<v1::IntentState>(99));
       },
       grpc::INVALID_ARGUMENT, "states[1]"},
      {[](auto* r) { r->set_page_token(std::string(100000, 'x')); },
       grpc::INVALID_ARGUMENT, "page_token"},
  };
  const std::string alice = Token("alice", "operator");
  for (size_t i = 0; i < cases.size(); ++i) {
    v1::ListIntentsRequest request;
    cases[i].edit(&request);
    v1::ListIntentsResponse response;
    const grpc::Status status =
        stub_->ListIntents(As(alice).get(), request, &response);
    EXPECT_EQ(status.error_code(), cases[i].code) << "case " << i;
    EXPECT_THAT(status.error_message(), HasSubstr(cases[i].message))
        << "case " << i;
  }
  // Listing is an operator's: a monitor has no intents of its own.
  v1::ListIntentsResponse response;
  EXPECT_EQ(stub_->ListIntents(As(Token("mon", "monitor")).get(),
                               v1::ListIntentsRequest(), &response)
                .error_code(),
            grpc::PERMISSION_DENIED);
  EXPECT_EQ(
      stub_->ListIntents(As("").get(), v1::ListIntentsRequest(), &response)
          .error_code(),
      grpc::UNAUTHENTICATED);
}

}  // namespace
}  // namespace utm
