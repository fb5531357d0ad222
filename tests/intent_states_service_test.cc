// Integration: the intent lifecycle through the wire contract of
// utm.v1.StrategicCoordination (real gRPC server on a loopback port, real
// JWT authentication): every SetIntentState transition, the advisories of
// off-nominal declarations, and ActivateIntent with new volumes.
#include <grpcpp/client_context.h>

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/server.h"
#include "services/common/volume_convert.h"
#include "services/intent/intent_core.h"
#include "services/intent/intent_service.h"
#include "tests/service_test_util.h"
#include "utm/v1/strategic.grpc.pb.h"

namespace utm {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

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

std::string Name(v1::IntentState s) {
  return v1::IntentState_Name(s).substr(13);  // "INTENT_STATE_" dropped
}

class IntentStatesServiceTest : public testing::Test {
 protected:
  void SetUp() override {
    core_ = std::make_unique<intent::IntentCore>(intent::IntentOptions(),
                                                 &clock_);
    service_ = std::make_unique<intent::IntentService>(core_.get(),
                                                       auth_.verifier(),
                                                       nullptr);
    absl::StatusOr<std::unique_ptr<Server>> server =
        test_util::StartOnLoopback({service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::StrategicCoordination::NewStub(
        test_util::LoopbackChannel(*server_));
    alice_ = auth_.Token("alice", "operator");
  }

  std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
    return test_util::ServiceTestAuth::As(token);
  }

  std::string File(const std::string& token, std::vector<v1::Volume4D> volumes,
                   int priority = 0) {
    v1::FileIntentRequest request;
    request.set_priority(priority);
    for (auto& v : volumes) *request.add_volumes() = std::move(v);
    v1::FileIntentResponse response;
    const grpc::Status s =
        stub_->FileIntent(As(token).get(), request, &response);
    EXPECT_TRUE(s.ok() && response.has_intent())
        << s.error_message() << response.DebugString();
    return response.intent().id();
  }

  grpc::Status Set(const std::string& id, int64_t version, v1::IntentState to,
                   std::vector<v1::Volume4D> off,
                   v1::SetIntentStateResponse* response) {
    v1::SetIntentStateRequest request;
    request.set_intent_id(id);
    request.set_version(version);
    request.set_state(to);
    for (auto& v : off) *request.add_off_nominal_volumes() = std::move(v);
    return stub_->SetIntentState(As(alice_).get(), request, response);
  }

  // An intent of alice's at `east_m` brought to `state` through the wire,
  // and its version.
  std::pair<std::string, int64_t> InState(v1::IntentState state,
                                          double east_m) {
    const std::string id = File(alice_, {Cylinder(east_m)});
    int64_t version = 1;
    auto ok = [&](const grpc::Status& s) {
      EXPECT_TRUE(s.ok()) << s.error_message();
      ++version;
    };
    if (state == v1::INTENT_STATE_CANCELLED) {
      v1::CancelIntentRequest cancel;
      cancel.set_intent_id(id);
      cancel.set_version(version);
      v1::CancelIntentResponse out;
      ok(stub_->CancelIntent(As(alice_).get(), cancel, &out));
      return {id, version};
    }
    if (state == v1::INTENT_STATE_ACCEPTED) return {id, version};
    v1::ActivateIntentRequest activate;
    activate.set_intent_id(id);
    activate.set_version(version);
    v1::ActivateIntentResponse activated;
    ok(stub_->ActivateIntent(As(alice_).get(), activate, &activated));
    if (state == v1::INTENT_STATE_ENDED) {
      v1::EndIntentRequest end;
      end.set_intent_id(id);
      end.set_version(version);
      v1::EndIntentResponse out;
      ok(stub_->EndIntent(As(alice_).get(), end, &out));
    } else if (state != v1::INTENT_STATE_ACTIVATED) {
      v1::SetIntentStateResponse out;
      ok(Set(id, version, state, {Cylinder(east_m + 300)}, &out));
    }
    return {id, version};
  }

  SimulatedClock clock_{kNow};
  test_util::ServiceTestAuth auth_{&clock_};
  std::unique_ptr<intent::IntentCore> core_;
  std::unique_ptr<intent::IntentService> service_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<v1::StrategicCoordination::Stub> stub_;
  std::string alice_;
};

// Every (from, requested state, with or without off-nominal volumes) of
// SetIntentState, against the table of strategic.proto written out here.
TEST_F(IntentStatesServiceTest, SetIntentStateEveryTransition) {
  using v1::IntentState;
  const IntentState A = v1::INTENT_STATE_ACCEPTED,
                    V = v1::INTENT_STATE_ACTIVATED,
                    N = v1::INTENT_STATE_NONCONFORMING,
                    C = v1::INTENT_STATE_CONTINGENT,
                    E = v1::INTENT_STATE_ENDED,
                    X = v1::INTENT_STATE_CANCELLED;
  // What SetIntentState may do: from ACCEPTED to ACTIVATED is activation.
  const std::set<std::pair<IntentState, IntentState>> allowed = {
      {A, V}, {A, N}, {A, C}, {V, N}, {V, C},
      {N, V}, {N, N}, {N, C}, {C, C},
  };
  int n = 0;
  for (IntentState from : {A, V, N, C, E, X}) {
    for (IntentState to : {A, V, N, C, E, X}) {
      for (bool with_volumes : {false, true}) {
        const double east = 2000.0 * n++;
        const auto [id, version] = InState(from, east);
        SCOPED_TRACE(absl::StrCat(Name(from), " -> ", Name(to),
                                  with_volumes ? " with" : " without",
                                  " off-nominal volumes"));
        std::vector<v1::Volume4D> off;
        if (with_volumes) off = {Cylinder(east + 600)};
        v1::SetIntentStateResponse response;
        const grpc::Status s = Set(id, version, to, off, &response);
        if (to == A || to == E || to == X) {
          EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
          EXPECT_THAT(s.error_message(),
                      StartsWith(absl::StrCat(
                          "state: ", Name(to),
                          " is not declared with SetIntentState")));
        } else if ((to == N || to == C) && !with_volumes) {
          EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
          EXPECT_EQ(s.error_message(),
                    absl::StrCat("off_nominal_volumes: ", Name(to),
                                 " needs at least one off-nominal volume "
                                 "(where the aircraft is or will be)"));
        } else if (to == V && with_volumes) {
          EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
          EXPECT_EQ(s.error_message(),
                    "off_nominal_volumes: only for NONCONFORMING or "
                    "CONTINGENT, not ACTIVATED");
        } else if (allowed.count({from, to}) == 0) {
          EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
          EXPECT_THAT(s.error_message(),
                      HasSubstr(absl::StrCat("is ", Name(from), "; it ")));
        } else {
          ASSERT_TRUE(s.ok()) << s.error_message();
          EXPECT_EQ(response.intent().state(), to);
          EXPECT_EQ(response.intent().version(), version + 1);
          EXPECT_EQ(response.intent().off_nominal_volumes_size(),
                    with_volumes ? 1 : 0);
          continue;
        }
        EXPECT_EQ(core_->Get("alice", id)->intent.version, version);
      }
    }
  }
}

// SetIntentStateResponse.advisories: what the off-nominal volumes meet,
// explained as a conflict is.
TEST_F(IntentStatesServiceTest, DeclarationAdvisoriesCrossTheWire) {
  const std::string bobs = File(auth_.Token("bob", "operator"),
                                {Cylinder(3000)}, 50);
  const auto [mine, version] = InState(v1::INTENT_STATE_ACTIVATED, 0);
  v1::SetIntentStateResponse response;
  ASSERT_TRUE(Set(mine, version, v1::INTENT_STATE_NONCONFORMING,
                  {Cylinder(0), Cylinder(3100, 100, 20, 60)}, &response)
                  .ok());
  ASSERT_EQ(response.advisories_size(), 1);
  const v1::Conflict& c = response.advisories(0);
  EXPECT_EQ(c.intent().id(), bobs);
  EXPECT_EQ(c.intent().priority(), 50);
  EXPECT_EQ(c.intent().state(), v1::INTENT_STATE_ACCEPTED);
  EXPECT_EQ(c.reason(), v1::CONFLICT_REASON_INTENT_PRIORITY);
  ASSERT_EQ(c.overlaps_size(), 1);
  EXPECT_EQ(c.overlaps(0).volume_index(), 1);
  EXPECT_EQ(c.overlaps(0).other_volume_index(), 0);
  EXPECT_EQ(*TimeFromProto(c.overlaps(0).time_overlap().start(), "start"),
            kNow + absl::Minutes(20));
  EXPECT_EQ(*TimeFromProto(c.overlaps(0).time_overlap().end(), "end"),
            kNow + absl::Minutes(40));
}

TEST_F(IntentStatesServiceTest, ActivationCarriesVolumesAndPriority) {
  const std::string bobs = File(auth_.Token("bob", "operator"),
                                {Cylinder(3000)}, 50);
  const std::string mine = File(alice_, {Cylinder(0)}, 10);
  v1::ActivateIntentRequest activate;
  activate.set_intent_id(mine);
  activate.set_version(1);

  // Into bob's higher-priority intent: rejected, nothing changed.
  *activate.add_volumes() = Cylinder(3050);
  v1::ActivateIntentResponse rejected;
  ASSERT_TRUE(
      stub_->ActivateIntent(As(alice_).get(), activate, &rejected).ok());
  ASSERT_TRUE(rejected.has_rejection());
  EXPECT_EQ(rejected.rejection().conflicts(0).intent().id(), bobs);
  EXPECT_EQ(core_->Get("alice", mine)->intent.version, 1);

  // Above the operator band: PERMISSION_DENIED, as ModifyIntent.
  activate.set_priority(500);
  EXPECT_EQ(stub_->ActivateIntent(As(alice_).get(), activate, &rejected)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // At 60 it outranks bob: one write, one new version.
  activate.set_priority(60);
  v1::ActivateIntentResponse out;
  ASSERT_TRUE(stub_->ActivateIntent(As(alice_).get(), activate, &out).ok());
  ASSERT_TRUE(out.has_intent()) << out.DebugString();
  EXPECT_EQ(out.intent().state(), v1::INTENT_STATE_ACTIVATED);
  EXPECT_EQ(out.intent().version(), 2);
  EXPECT_EQ(out.intent().priority(), 60);
  ASSERT_EQ(out.intent().volumes_size(), 1);
  ASSERT_EQ(out.advisories_size(), 1);
  EXPECT_EQ(out.advisories(0).intent().id(), bobs);
  EXPECT_EQ(out.advisories(0).reason(),
            v1::CONFLICT_REASON_INTENT_LOWER_PRIORITY);

  // Malformed volumes are refused before anything happens.
  const std::string other = File(alice_, {Cylinder(9000)});
  v1::ActivateIntentRequest bad;
  bad.set_intent_id(other);
  bad.set_version(1);
  for (int i = 0; i < 101; ++i) *bad.add_volumes() = Cylinder(9000);
  grpc::Status s = stub_->ActivateIntent(As(alice_).get(), bad, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "volumes: 101 entries, at most 100");
  bad.clear_volumes();
  *bad.add_volumes() = Cylinder(9000, 100, 30, 20);  // ends before it starts
  s = stub_->ActivateIntent(As(alice_).get(), bad, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("volumes[0]"));
  EXPECT_EQ(core_->Get("alice", other)->intent.state,
            intent::IntentState::kAccepted);

  // Only an ACCEPTED intent takes new volumes with activation.
  const auto [nc, version] = InState(v1::INTENT_STATE_NONCONFORMING, 20000);
  v1::ActivateIntentRequest back;
  back.set_intent_id(nc);
  back.set_version(version);
  *back.add_volumes() = Cylinder(20000);
  s = stub_->ActivateIntent(As(alice_).get(), back, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("(use ModifyIntent)"));
  // Without: the return to conformance.
  back.clear_volumes();
  ASSERT_TRUE(stub_->ActivateIntent(As(alice_).get(), back, &out).ok());
  EXPECT_EQ(out.intent().state(), v1::INTENT_STATE_ACTIVATED);
  EXPECT_EQ(out.intent().off_nominal_volumes_size(), 0);
}

}  // namespace
}  // namespace utm
