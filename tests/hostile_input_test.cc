// Integration: hostile input over the wire. The strategic, constraint and
// telemetry services on one real gRPC server on a loopback port, sent
// oversized strings, oversized repeated fields, unknown enum numbers and
// control characters. Every one is refused with INVALID_ARGUMENT naming the
// field (and the size or value), nothing is stored, and no error message
// echoes more than a short quoted prefix of what the caller sent.
#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/client_context.h>

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/server.h"
#include "services/common/volume_convert.h"
#include "services/constraint/constraint_core.h"
#include "services/constraint/constraint_service.h"
#include "services/intent/intent_core.h"
#include "services/intent/intent_service.h"
#include "services/telemetry/live_airspace.h"
#include "services/telemetry/telemetry_core.h"
#include "services/telemetry/telemetry_service.h"
#include "tests/service_test_util.h"
#include "utm/v1/constraint.grpc.pb.h"
#include "utm/v1/strategic.grpc.pb.h"
#include "utm/v1/telemetry.grpc.pb.h"

namespace utm {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
const std::string k4MiB(4 << 20, 'x');
// What any error message may cost at most, whatever the input.
constexpr size_t kMaxMessageBytes = 400;

geo::LatLng East(double m) {
  return geo::GeodesicDestination(geo::test_util::kZurich, 90, m);
}

v1::Volume4D Flight() {
  return VolumeToProto(
      geo::Volume4D{geo::Volume3D{geo::Circle{East(0), 100}, {500, 620}},
                    {kNow + absl::Minutes(10), kNow + absl::Minutes(40)}});
}

v1::Volume4D Area() {
  v1::Volume4D area;
  v1::Circle* c = area.mutable_volume()->mutable_outline_circle();
  c->mutable_center()->set_lat_deg(geo::test_util::kZurich.lat_deg);
  c->mutable_center()->set_lng_deg(geo::test_util::kZurich.lng_deg);
  c->set_radius_m(1000);
  return area;
}

v1::Constraint Zone() {
  v1::Constraint c;
  c.set_type(v1::CONSTRAINT_TYPE_PROHIBITED);
  geo::Volume4D v;
  v.volume.footprint = geo::Circle{East(0), 500};
  v.volume.altitude = {0, 1000};
  v.time = {absl::InfinitePast(), absl::InfiniteFuture()};
  *c.add_volumes() = VolumeToProto(v);
  return c;
}

// Refused with INVALID_ARGUMENT and exactly `message`.
void ExpectInvalid(const grpc::Status& status, const std::string& message) {
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message().substr(0, 200);
  EXPECT_EQ(status.error_message().substr(0, 200), message);
}

class HostileInputTest : public testing::Test {
 protected:
  void SetUp() override {
    intents_ =
        std::make_unique<intent::IntentCore>(intent::IntentOptions(), &clock_);
    constraints_ = std::make_unique<constraint::ConstraintCore>(
        constraint::ConstraintOptions(), &clock_);
    intents_->SetConstraintChecker(constraints_.get());
    airspace_ = std::make_unique<telemetry::LiveAirspace>(intents_.get(),
                                                          constraints_.get());
    telemetry_ = std::make_unique<telemetry::TelemetryCore>(
        telemetry::TelemetryOptions(), &clock_, airspace_.get());
    intent_service_ = std::make_unique<intent::IntentService>(
        intents_.get(), auth_.verifier(), nullptr);
    constraint_service_ = std::make_unique<constraint::ConstraintService>(
        constraints_.get(), auth_.verifier());
    telemetry_service_ = std::make_unique<telemetry::TelemetryService>(
        telemetry_.get(), auth_.verifier(), &clock_);
    absl::StatusOr<std::unique_ptr<Server>> server = test_util::StartOnLoopback(
        {intent_service_.get(), constraint_service_.get(),
         telemetry_service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    auto channel = test_util::LoopbackChannel(*server_);
    intent_stub_ = v1::StrategicCoordination::NewStub(channel);
    constraint_stub_ = v1::ConstraintService::NewStub(channel);
    telemetry_stub_ = v1::TelemetryService::NewStub(channel);
  }

  static std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
    return test_util::ServiceTestAuth::As(token, 30);
  }

  grpc::Status Publish(const v1::PublishConstraintRequest& request) {
    v1::PublishConstraintResponse response;
    return constraint_stub_->PublishConstraint(As(regulator_).get(), request,
                                               &response);
  }

  SimulatedClock clock_{kNow};
  test_util::ServiceTestAuth auth_{&clock_};
  std::unique_ptr<intent::IntentCore> intents_;
  std::unique_ptr<constraint::ConstraintCore> constraints_;
  std::unique_ptr<telemetry::LiveAirspace> airspace_;
  std::unique_ptr<telemetry::TelemetryCore> telemetry_;
  std::unique_ptr<intent::IntentService> intent_service_;
  std::unique_ptr<constraint::ConstraintService> constraint_service_;
  std::unique_ptr<telemetry::TelemetryService> telemetry_service_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<v1::StrategicCoordination::Stub> intent_stub_;
  std::unique_ptr<v1::ConstraintService::Stub> constraint_stub_;
  std::unique_ptr<v1::TelemetryService::Stub> telemetry_stub_;
  const std::string alice_ = auth_.Token("alice", "operator");
  const std::string regulator_ = auth_.Token("ch-foca", "regulator");
};

// --- Error messages quote a short prefix only --------------------------------

TEST_F(HostileInputTest, GetIntentWithA4MiBIdAnswersAShortMessage) {
  v1::GetIntentRequest request;
  request.set_intent_id(k4MiB);
  v1::GetIntentResponse response;
  const grpc::Status s =
      intent_stub_->GetIntent(As(alice_).get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LT(s.error_message().size(), kMaxMessageBytes);
  EXPECT_EQ(s.error_message(), "intent_id: 4194304 bytes, at most 128");
}

TEST_F(HostileInputTest, NotFoundQuotesACutEscapedPrefix) {
  // Within the id cap, so it reaches the lookup: the message quotes 64
  // bytes of it, escaped, and says how long it was.
  v1::GetIntentRequest request;
  request.set_intent_id(std::string(100, 'q'));
  v1::GetIntentResponse response;
  grpc::Status s =
      intent_stub_->GetIntent(As(alice_).get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), absl::StrCat("intent \"", std::string(64, 'q'),
                                            "\"\u2026 (100 bytes) does not "
                                            "exist"));
  v1::GetConstraintRequest get;
  get.set_constraint_id("no\\such \"zone\"");
  v1::GetConstraintResponse got;
  s = constraint_stub_->GetConstraint(As(alice_).get(), get, &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(),
            "constraint \"no\\\\such \\\"zone\\\"\" not found");
}

TEST_F(HostileInputTest, UnknownTimeZoneIsQuotedShort) {
  v1::PublishConstraintRequest request;
  *request.mutable_constraint() = Zone();
  v1::WeeklyWindow* w =
      request.mutable_constraint()->mutable_schedule()->add_weekly();
  w->add_days(v1::DAY_OF_WEEK_MONDAY);
  w->set_end_second_of_day(3600);
  request.mutable_constraint()->mutable_schedule()->set_time_zone(
      std::string(64, 'z'));
  const grpc::Status s = Publish(request);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LT(s.error_message().size(), kMaxMessageBytes);
  EXPECT_THAT(s.error_message(),
              StartsWith("constraint.schedule.time_zone: \"zzz"));
}

// --- Strategic coordination: ids, counts, enums ------------------------------

TEST_F(HostileInputTest, IntentIdsAndRequestIdsAreCapped) {
  v1::FileIntentRequest file;
  file.set_request_id(k4MiB);
  *file.add_volumes() = Flight();
  v1::FileIntentResponse filed;
  ExpectInvalid(intent_stub_->FileIntent(As(alice_).get(), file, &filed),
                "request_id: 4194304 bytes, at most 128");

  v1::ModifyIntentRequest modify;
  modify.set_intent_id(k4MiB);
  *modify.add_volumes() = Flight();
  v1::ModifyIntentResponse modified;
  ExpectInvalid(intent_stub_->ModifyIntent(As(alice_).get(), modify, &modified),
                "intent_id: 4194304 bytes, at most 128");

  v1::ActivateIntentRequest activate;
  activate.set_intent_id("line\nbreak");
  v1::ActivateIntentResponse activated;
  const grpc::Status s =
      intent_stub_->ActivateIntent(As(alice_).get(), activate, &activated);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(),
              StartsWith("intent_id: \"line\\nbreak\" has a control"));

  v1::EndIntentRequest end;
  end.set_request_id(std::string(129, 'r'));
  end.set_intent_id("i");
  v1::EndIntentResponse ended;
  ExpectInvalid(intent_stub_->EndIntent(As(alice_).get(), end, &ended),
                "request_id: 129 bytes, at most 128");
  EXPECT_EQ(intents_->live_count(), 0u);
}

TEST_F(HostileInputTest, IntentVolumesAreCountedBeforeConversion) {
  v1::FileIntentRequest file;
  for (int i = 0; i < 101; ++i) *file.add_volumes() = Flight();
  v1::FileIntentResponse filed;
  ExpectInvalid(intent_stub_->FileIntent(As(alice_).get(), file, &filed),
                "volumes: 101 entries, at most 100");
}

TEST_F(HostileInputTest, IntentStateEnumsAreChecked) {
  v1::SetIntentStateRequest set;
  set.set_intent_id("some-intent");
  set.set_state(static_cast<v1::IntentState>(99));
  v1::SetIntentStateResponse out;
  grpc::Status s = intent_stub_->SetIntentState(As(alice_).get(), set, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            "state: 99 is not an IntentState (ACCEPTED, ACTIVATED, "
            "NONCONFORMING, CONTINGENT, ENDED, CANCELLED)");

  v1::QueryIntentsRequest query;
  *query.mutable_area() = Area();
  query.add_states(v1::INTENT_STATE_ACCEPTED);
  query.add_states(static_cast<v1::IntentState>(99));
  v1::QueryIntentsResponse found;
  s = intent_stub_->QueryIntents(As(alice_).get(), query, &found);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(),
              StartsWith("states[1]: 99 is not an IntentState (ACCEPTED"));

  query.clear_states();
  for (int i = 0; i < 33; ++i) query.add_states(v1::INTENT_STATE_ACCEPTED);
  ExpectInvalid(intent_stub_->QueryIntents(As(alice_).get(), query, &found),
                "states: 33 entries, at most 32");
  query.clear_states();
  query.set_page_token(k4MiB);
  ExpectInvalid(intent_stub_->QueryIntents(As(alice_).get(), query, &found),
                "page_token: 4194304 bytes, at most 256");
}

TEST_F(HostileInputTest, AltitudeReferencesNameTheValue) {
  v1::FileIntentRequest file;
  *file.add_volumes() = Flight();
  file.mutable_volumes(0)
      ->mutable_volume()
      ->mutable_altitude_lower()
      ->set_reference(static_cast<v1::AltitudeReference>(99));
  v1::FileIntentResponse filed;
  ExpectInvalid(intent_stub_->FileIntent(As(alice_).get(), file, &filed),
                "volumes[0].volume.altitude_lower.reference: must be "
                "ALTITUDE_REFERENCE_W84 (metres above the WGS84 ellipsoid), "
                "not 99");
  v1::CheckPositionRequest check;
  check.mutable_position()->set_lat_deg(geo::test_util::kZurich.lat_deg);
  check.mutable_position()->set_lng_deg(geo::test_util::kZurich.lng_deg);
  check.mutable_altitude()->set_reference(
      static_cast<v1::AltitudeReference>(99));
  v1::CheckPositionResponse checked;
  ExpectInvalid(
      constraint_stub_->CheckPosition(As(alice_).get(), check, &checked),
      "altitude.reference: must be W84 (metres above the WGS84 ellipsoid), "
      "not 99");
}

// --- Constraints: every string and repeated field of a Constraint ------------

TEST_F(HostileInputTest, EveryConstraintFieldIsCapped) {
  struct Case {
    std::function<void(v1::PublishConstraintRequest*)> mutate;
    std::string error;
  };
  auto c = [](v1::PublishConstraintRequest* r) {
    return r->mutable_constraint();
  };
  const std::vector<Case> cases = {
      {[&](auto* r) { c(r)->mutable_source()->set_dataset(k4MiB); },
       "constraint.source.dataset: 4194304 bytes, at most 1024"},
      {[&](auto* r) {
         c(r)->mutable_source()->set_original_id(std::string(1 << 20, 'o'));
       },
       "constraint.source.original_id: 1048576 bytes, at most 256"},
      {[&](auto* r) {
         c(r)->mutable_source()->set_original_altitude_lower(k4MiB);
       },
       "constraint.source.original_altitude_lower: 4194304 bytes, at most "
       "256"},
      {[&](auto* r) {
         c(r)->mutable_source()->set_original_altitude_upper(k4MiB);
       },
       "constraint.source.original_altitude_upper: 4194304 bytes, at most "
       "256"},
      {[&](auto* r) { c(r)->mutable_source()->set_content_digest(k4MiB); },
       "constraint.source.content_digest: 4194304 bytes, at most 128"},
      {[&](auto* r) {
         c(r)->mutable_source()->set_format(static_cast<v1::SourceFormat>(99));
       },
       "constraint.source.format: 99 is not a SourceFormat (UNSPECIFIED, "
       "MANUAL, ED269, ED318, GEOJSON, XNOTAM)"},
      {[&](auto* r) {
         c(r)->set_type(v1::CONSTRAINT_TYPE_CONDITIONAL);
         c(r)->mutable_conditions()->add_text(std::string(10'000'000, 't'));
       },
       "constraint.conditions.text[0]: 10000000 bytes, at most 4096"},
      {[&](auto* r) {
         c(r)->set_type(v1::CONSTRAINT_TYPE_CONDITIONAL);
         for (int i = 0; i < 2441; ++i) {
           c(r)->mutable_conditions()->add_text(std::string(4096, 't'));
         }
       },
       "constraint.conditions.text: 2441 entries, at most 16"},
      {[&](auto* r) { c(r)->set_reason(std::string(10001, 'r')); },
       "constraint.reason: 10001 bytes, at most 10000"},
      {[&](auto* r) { c(r)->set_message_for_pilots(k4MiB); },
       "constraint.message_for_pilots: 4194304 bytes, at most 10000"},
      {[&](auto* r) { c(r)->mutable_authority()->set_name(k4MiB); },
       "constraint.authority.name: 4194304 bytes, at most 256"},
      {[&](auto* r) { c(r)->mutable_authority()->set_contact(k4MiB); },
       "constraint.authority.contact: 4194304 bytes, at most 1024"},
      // Output-only fields are ignored, but a retried request is
      // remembered whole.
      {[&](auto* r) { c(r)->mutable_authority()->set_id(k4MiB); },
       "constraint.authority.id: 4194304 bytes, at most 128"},
      {[&](auto* r) { c(r)->set_id(k4MiB); },
       "constraint.id: 4194304 bytes, at most 128"},
      {[&](auto* r) { c(r)->mutable_schedule()->set_time_zone(k4MiB); },
       "constraint.schedule.time_zone: 4194304 bytes, at most 64"},
      {[&](auto* r) {
         for (int i = 0; i < 65; ++i) {
           c(r)->mutable_schedule()->add_weekly()->add_days(
               v1::DAY_OF_WEEK_MONDAY);
         }
       },
       "constraint.schedule.weekly: 65 entries, at most 64"},
      {[&](auto* r) {
         v1::WeeklyWindow* w = c(r)->mutable_schedule()->add_weekly();
         for (int i = 0; i < 8; ++i) w->add_days(v1::DAY_OF_WEEK_MONDAY);
       },
       "constraint.schedule.weekly[0].days: 8 entries, at most 7"},
      {[&](auto* r) {
         c(r)->mutable_schedule()->add_weekly()->add_days(
             static_cast<v1::DayOfWeek>(99));
       },
       "constraint.schedule.weekly[0].days[0]: 99 is not a DayOfWeek "
       "(MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY)"},
      {[&](auto* r) { c(r)->set_type(static_cast<v1::ConstraintType>(99)); },
       "constraint.type: 99 is not a ConstraintType (PROHIBITED, "
       "REQUIRES_AUTHORISATION, CONDITIONAL, ADVISORY)"},
      {[&](auto* r) { r->set_request_id(k4MiB); },
       "request_id: 4194304 bytes, at most 128"},
  };
  for (const Case& test : cases) {
    v1::PublishConstraintRequest request;
    *request.mutable_constraint() = Zone();
    test.mutate(&request);
    const grpc::Status s = Publish(request);
    ExpectInvalid(s, test.error);
    EXPECT_LT(s.error_message().size(), kMaxMessageBytes);
  }
  EXPECT_EQ(constraints_->constraint_count(), 0u);

  // UpdateConstraint runs the same checks, and needs an id.
  v1::UpdateConstraintRequest update;
  *update.mutable_constraint() = Zone();
  update.mutable_constraint()->mutable_source()->set_dataset(k4MiB);
  update.mutable_constraint()->set_id("c-1");
  v1::UpdateConstraintResponse updated;
  ExpectInvalid(constraint_stub_->UpdateConstraint(As(regulator_).get(), update,
                                                   &updated),
                "constraint.source.dataset: 4194304 bytes, at most 1024");
  update.mutable_constraint()->set_id(k4MiB);
  ExpectInvalid(constraint_stub_->UpdateConstraint(As(regulator_).get(), update,
                                                   &updated),
                "constraint.id: 4194304 bytes, at most 128");
}

TEST_F(HostileInputTest, UnknownFieldsAreNeitherStoredNorServed) {
  v1::PublishConstraintRequest request;
  *request.mutable_constraint() = Zone();
  for (google::protobuf::Message* m :
       std::initializer_list<google::protobuf::Message*>{
           request.mutable_constraint(),
           request.mutable_constraint()->mutable_source()}) {
    m->GetReflection()->MutableUnknownFields(m)->AddLengthDelimited(999, k4MiB);
  }
  v1::PublishConstraintResponse published;
  ASSERT_TRUE(constraint_stub_
                  ->PublishConstraint(As(regulator_).get(), request, &published)
                  .ok());
  v1::GetConstraintRequest get;
  get.set_constraint_id(published.constraint().id());
  v1::GetConstraintResponse got;
  ASSERT_TRUE(
      constraint_stub_->GetConstraint(As(alice_).get(), get, &got).ok());
  EXPECT_LT(got.ByteSizeLong(), 1000u);
  EXPECT_LT(published.ByteSizeLong(), 1000u);

  // Nor are they part of what a request id remembers: the same request
  // without them is a retry, answered with the first response.
  request.set_request_id("r-unknown");
  ASSERT_TRUE(constraint_stub_
                  ->PublishConstraint(As(regulator_).get(), request, &published)
                  .ok());
  for (google::protobuf::Message* m :
       std::initializer_list<google::protobuf::Message*>{
           request.mutable_constraint(),
           request.mutable_constraint()->mutable_source()}) {
    m->GetReflection()->MutableUnknownFields(m)->Clear();
  }
  v1::PublishConstraintResponse replayed;
  ASSERT_TRUE(constraint_stub_
                  ->PublishConstraint(As(regulator_).get(), request, &replayed)
                  .ok());
  EXPECT_EQ(replayed.constraint().id(), published.constraint().id());
}

TEST_F(HostileInputTest, AuthorisationFieldsAreCapped) {
  v1::GrantAuthorisationRequest grant;
  grant.set_constraint_id("c-1");
  grant.set_operator_id(k4MiB);
  v1::GrantAuthorisationResponse granted;
  ExpectInvalid(constraint_stub_->GrantAuthorisation(As(regulator_).get(),
                                                     grant, &granted),
                "operator_id: 4194304 bytes, at most 128");
  grant.set_operator_id("op-1");
  grant.set_reference(std::string(257, 'p'));
  ExpectInvalid(constraint_stub_->GrantAuthorisation(As(regulator_).get(),
                                                     grant, &granted),
                "reference: 257 bytes, at most 256");
  grant.set_reference("");
  grant.set_constraint_id(k4MiB);
  ExpectInvalid(constraint_stub_->GrantAuthorisation(As(regulator_).get(),
                                                     grant, &granted),
                "constraint_id: 4194304 bytes, at most 128");

  v1::SelfUnlockRequest unlock;
  unlock.set_constraint_id(k4MiB);
  unlock.set_acknowledged(true);
  v1::SelfUnlockResponse unlocked;
  ExpectInvalid(
      constraint_stub_->SelfUnlock(As(alice_).get(), unlock, &unlocked),
      "constraint_id: 4194304 bytes, at most 128");

  v1::ListAuthorisationsRequest list;
  list.set_operator_id(k4MiB);
  v1::ListAuthorisationsResponse listed;
  ExpectInvalid(
      constraint_stub_->ListAuthorisations(As(alice_).get(), list, &listed),
      "operator_id: 4194304 bytes, at most 128");
  list.set_operator_id("");
  list.set_page_token(k4MiB);
  ExpectInvalid(
      constraint_stub_->ListAuthorisations(As(alice_).get(), list, &listed),
      "page_token: 4194304 bytes, at most 256");

  v1::RevokeAuthorisationRequest revoke;
  revoke.set_authorisation_id("a-1");
  revoke.set_reason(k4MiB);
  v1::RevokeAuthorisationResponse revoked;
  ExpectInvalid(constraint_stub_->RevokeAuthorisation(As(regulator_).get(),
                                                      revoke, &revoked),
                "reason: 4194304 bytes, at most 10000");
  revoke.set_reason("");
  revoke.set_authorisation_id(k4MiB);
  ExpectInvalid(constraint_stub_->RevokeAuthorisation(As(regulator_).get(),
                                                      revoke, &revoked),
                "authorisation_id: 4194304 bytes, at most 128");

  v1::WithdrawConstraintRequest withdraw;
  withdraw.set_constraint_id("c-1");
  withdraw.set_reason(k4MiB);
  v1::WithdrawConstraintResponse withdrawn;
  ExpectInvalid(constraint_stub_->WithdrawConstraint(As(regulator_).get(),
                                                     withdraw, &withdrawn),
                "reason: 4194304 bytes, at most 10000");
}

TEST_F(HostileInputTest, ConstraintTypeFiltersAreChecked) {
  v1::QueryConstraintsRequest query;
  *query.mutable_area() = Area();
  query.add_types(static_cast<v1::ConstraintType>(99));
  v1::QueryConstraintsResponse found;
  ExpectInvalid(
      constraint_stub_->QueryConstraints(As(alice_).get(), query, &found),
      "types[0]: 99 is not a ConstraintType (PROHIBITED, "
      "REQUIRES_AUTHORISATION, CONDITIONAL, ADVISORY)");
  query.clear_types();
  query.add_types(v1::CONSTRAINT_TYPE_UNSPECIFIED);
  const grpc::Status s =
      constraint_stub_->QueryConstraints(As(alice_).get(), query, &found);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(),
              StartsWith("types[0]: 0 (CONSTRAINT_TYPE_UNSPECIFIED) is not"));
}

// --- Telemetry
// ----------------------------------------------------------------

TEST_F(HostileInputTest, WatchAlertsRefusesUnknownKinds) {
  v1::WatchAlertsRequest watch;
  *watch.mutable_area() = Area();
  watch.add_kinds(v1::ALERT_KIND_LOST_LINK);
  watch.add_kinds(static_cast<v1::AlertKind>(99));
  auto context = As(alice_);
  auto stream = telemetry_stub_->WatchAlerts(context.get(), watch);
  v1::AlertBatch batch;
  EXPECT_FALSE(stream->Read(&batch));  // no stream opens
  const grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            "kinds[1]: 99 is not an AlertKind (CONFLICT_PREDICTED, "
            "CONFLICT_IMMINENT, SEPARATION_LOST, NONCONFORMANCE, "
            "GEOFENCE_ENTRY, LOST_LINK, UNKNOWN_INTENT, SPEED_ABOVE_LIMIT, "
            "REGISTRATION_REVOKED)");
}

TEST_F(HostileInputTest, ReportsWithHostileIdsAreDroppedNotStored) {
  auto context = As(alice_);
  auto stream = telemetry_stub_->StreamPositions(context.get());
  v1::PositionBatch batch;
  batch.set_batch_seq(1);
  v1::PositionReport* r = batch.add_reports();
  r->set_aircraft_id(k4MiB);
  r = batch.add_reports();
  r->set_aircraft_id("A1");
  r->set_intent_id(std::string(129, 'i'));
  r = batch.add_reports();
  r->set_aircraft_id("A\x1b[2J");
  ASSERT_TRUE(stream->Write(batch));
  std::vector<std::string> errors;
  v1::AlertBatch in;
  while (errors.size() < 3 && stream->Read(&in)) {
    for (const v1::ReportError& e : in.errors()) {
      EXPECT_LT(e.message().size(), kMaxMessageBytes);
      errors.push_back(e.message().substr(0, 200));
    }
  }
  EXPECT_THAT(errors,
              testing::UnorderedElementsAre(
                  "reports[0].aircraft_id: 4194304 bytes, at most 128",
                  "reports[1].intent_id: 129 bytes, at most 128",
                  StartsWith("reports[2].aircraft_id: \"A\\x1b[2J\" has a "
                             "control character")));
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());  // a bad report never ends the stream
  EXPECT_EQ(telemetry_->track_count(), 0u);
}

}  // namespace
}  // namespace utm
