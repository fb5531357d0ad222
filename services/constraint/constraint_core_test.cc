#include "services/constraint/constraint_core.h"

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/store.h"
#include "services/common/volume_convert.h"
#include "services/constraint/constraint_core_fixture.h"
#include "services/constraint/constraint_testing.h"
#include "services/intent/intent_core.h"

namespace utm::constraint {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

using test_util::Area;
using test_util::ConstraintCoreTest;
using test_util::Cylinder;
using test_util::kAuthority;
using test_util::kOtherAuthority;
using test_util::kPilot;
using test_util::kRescue;
using test_util::kT0;
using test_util::Zone;

// --- Validation and authority ------------------------------------------------

TEST_F(ConstraintCoreTest, RejectsMalformedConstraintsNamingTheField) {
  struct Case {
    std::string name;
    std::function<void(v1::Constraint*)> mutate;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"no type", [](v1::Constraint* c) { c->clear_type(); },
       "constraint.type: set PROHIBITED"},
      {"no volumes", [](v1::Constraint* c) { c->clear_volumes(); },
       "constraint.volumes: at least one"},
      {"negative radius",
       [](v1::Constraint* c) {
         c->mutable_volumes(0)
             ->mutable_volume()
             ->mutable_outline_circle()
             ->set_radius_m(-1);
       },
       "constraint.volumes[0].volume.outline_circle"},
      {"weekly without zone",
       [](v1::Constraint* c) {
         v1::WeeklyWindow* w = c->mutable_schedule()->add_weekly();
         w->add_days(v1::DAY_OF_WEEK_MONDAY);
         w->set_end_second_of_day(3600);
       },
       "constraint.schedule.time_zone: required"},
      {"unknown zone",
       [](v1::Constraint* c) {
         v1::WeeklyWindow* w = c->mutable_schedule()->add_weekly();
         w->add_days(v1::DAY_OF_WEEK_MONDAY);
         w->set_end_second_of_day(3600);
         c->mutable_schedule()->set_time_zone("Mars/Olympus");
       },
       "constraint.schedule.time_zone"},
      {"unspecified day",
       [](v1::Constraint* c) {
         v1::WeeklyWindow* w = c->mutable_schedule()->add_weekly();
         w->add_days(v1::DAY_OF_WEEK_UNSPECIFIED);
         c->mutable_schedule()->set_time_zone("UTC");
       },
       "constraint.schedule.weekly[0].days[0]"},
      {"conditions on prohibited",
       [](v1::Constraint* c) {
         c->mutable_conditions()->add_text("below 120 m");
       },
       "constraint.conditions: only for CONDITIONAL"},
      {"self-unlock on prohibited",
       [](v1::Constraint* c) { c->set_self_unlock_allowed(true); },
       "constraint.self_unlock_allowed"},
      {"already over",
       [](v1::Constraint* c) {
         *c->mutable_schedule()->mutable_absolute()->mutable_end() =
             TimeToProto(kT0 - absl::Hours(1));
       },
       "constraint.volumes: the constraint is over"},
  };
  for (const Case& test : cases) {
    v1::PublishConstraintRequest request;
    *request.mutable_constraint() = Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0);
    test.mutate(request.mutable_constraint());
    absl::StatusOr<v1::PublishConstraintResponse> r =
        core_->Publish(kAuthority, request);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument)
        << test.name;
    EXPECT_THAT(r.status().message(), HasSubstr(test.error)) << test.name;
  }
  EXPECT_EQ(core_->constraint_count(), 0u);
  EXPECT_EQ(core_->last_sequence(), 0);
}

TEST_F(ConstraintCoreTest, OnlyAuthoritiesPublishAndOnlyTheirOwn) {
  v1::PublishConstraintRequest request;
  *request.mutable_constraint() = Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0);
  EXPECT_EQ(core_->Publish(kPilot, request).status().code(),
            absl::StatusCode::kPermissionDenied);

  const v1::Constraint c = Publish(request.constraint());
  EXPECT_EQ(c.version(), 1);
  EXPECT_EQ(c.authority().id(), "ch-foca");
  EXPECT_TRUE(c.active());
  EXPECT_EQ(c.source().format(), v1::SOURCE_FORMAT_MANUAL);

  v1::UpdateConstraintRequest update;
  *update.mutable_constraint() = c;
  update.mutable_constraint()->set_reason("changed");
  EXPECT_EQ(core_->Update(kOtherAuthority, update).status().code(),
            absl::StatusCode::kPermissionDenied);
  absl::StatusOr<v1::UpdateConstraintResponse> updated =
      core_->Update(kAuthority, update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->constraint().version(), 2);
  EXPECT_EQ(updated->constraint().reason(), "changed");
  EXPECT_EQ(updated->constraint().create_time().seconds(),
            c.create_time().seconds());
  // Stale version.
  absl::StatusOr<v1::UpdateConstraintResponse> stale =
      core_->Update(kAuthority, update);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(stale.status().message(), HasSubstr("version 2"));

  v1::WithdrawConstraintRequest withdraw;
  withdraw.set_constraint_id(c.id());
  withdraw.set_version(2);
  EXPECT_EQ(core_->Withdraw(kOtherAuthority, withdraw).status().code(),
            absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(core_->Withdraw(kAuthority, withdraw).ok());
  v1::GetConstraintRequest get;
  get.set_constraint_id(c.id());
  // Kept as history (withdrawn_history_test.cc has the rest).
  EXPECT_EQ(core_->Get(get)->constraint().state(),
            v1::CONSTRAINT_STATE_WITHDRAWN);
  // An admin may act on anyone's constraint.
  const v1::Constraint d = Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, 0));
  withdraw.set_constraint_id(d.id());
  withdraw.set_version(1);
  EXPECT_TRUE(core_->Withdraw(Caller{"root", false, true}, withdraw).ok());
}

TEST_F(ConstraintCoreTest, RequestIdsMakeWritesIdempotentAndSourceIdsUnique) {
  v1::PublishConstraintRequest request;
  request.set_request_id("req-1");
  *request.mutable_constraint() = Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0);
  request.mutable_constraint()->mutable_source()->set_format(
      v1::SOURCE_FORMAT_ED269);
  request.mutable_constraint()->mutable_source()->set_original_id("LSZH-1");
  absl::StatusOr<v1::PublishConstraintResponse> first =
      core_->Publish(kAuthority, request);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<v1::PublishConstraintResponse> again =
      core_->Publish(kAuthority, request);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->constraint().id(), first->constraint().id());
  EXPECT_EQ(core_->constraint_count(), 1u);
  EXPECT_EQ(core_->last_sequence(), 1);  // the retry logged nothing

  request.mutable_constraint()->set_reason("other");
  EXPECT_EQ(core_->Publish(kAuthority, request).status().code(),
            absl::StatusCode::kAlreadyExists);
  // A new request for the same source id.
  request.set_request_id("req-2");
  absl::StatusOr<v1::PublishConstraintResponse> dup =
      core_->Publish(kAuthority, request);
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(dup.status().message(), HasSubstr("LSZH-1"));
  // Another authority may use the same source id.
  EXPECT_TRUE(core_->Publish(kOtherAuthority, request).ok());
}

TEST_F(ConstraintCoreTest, QueryFiltersByAreaAndTypeAndPages) {
  std::vector<std::string> near;
  for (int i = 0; i < 5; ++i) {
    near.push_back(Publish(Zone(v1::CONSTRAINT_TYPE_PROHIBITED, i * 100)).id());
  }
  const std::string advisory =
      Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, 0)).id();
  Publish(Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 20000));  // far away
  near.push_back(advisory);
  std::sort(near.begin(), near.end());

  v1::QueryConstraintsRequest query;
  *query.mutable_area() = Area(200, 1000);
  query.set_page_size(4);
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    absl::StatusOr<v1::QueryConstraintsResponse> r = core_->Query(query);
    ASSERT_TRUE(r.ok()) << r.status();
    for (const v1::Constraint& c : r->constraints()) seen.push_back(c.id());
    if (r->next_page_token().empty()) break;
    query.set_page_token(r->next_page_token());
  }
  EXPECT_EQ(seen, near);

  query.clear_page_token();
  query.add_types(v1::CONSTRAINT_TYPE_ADVISORY);
  absl::StatusOr<v1::QueryConstraintsResponse> r = core_->Query(query);
  ASSERT_TRUE(r.ok());
  ASSERT_THAT(r->constraints(), SizeIs(1));
  EXPECT_EQ(r->constraints(0).id(), advisory);
}

// --- Intents against constraints ---------------------------------------------

TEST_F(ConstraintCoreTest, ProhibitedZoneRefusesIntentNamingVolumeAndWindow) {
  const v1::Constraint tfr = Publish(Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0));
  const geo::Volume4D away =
      Cylinder(5000, 100, kT0 + absl::Minutes(10), kT0 + absl::Minutes(40));
  const geo::Volume4D inside =
      Cylinder(300, 100, kT0 + absl::Minutes(10), kT0 + absl::Minutes(40));
  absl::StatusOr<intent::WriteOutcome> out = File("op-1", {away, inside});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_FALSE(out->accepted());
  ASSERT_THAT(out->conflicts, SizeIs(1));
  const intent::Conflict& c = out->conflicts[0];
  EXPECT_EQ(c.constraint_id, tfr.id());
  EXPECT_EQ(c.constraint_type, v1::CONSTRAINT_TYPE_PROHIBITED);
  EXPECT_EQ(c.constraint_reason, v1::CONFLICT_REASON_CONSTRAINT_PROHIBITED);
  ASSERT_THAT(c.overlaps, SizeIs(1));
  EXPECT_EQ(c.overlaps[0].volume_index, 1);
  EXPECT_EQ(c.overlaps[0].other_volume_index, 0);
  EXPECT_EQ(c.overlaps[0].time.start, kT0 + absl::Minutes(10));
  EXPECT_EQ(c.overlaps[0].time.end, kT0 + absl::Minutes(40));
  EXPECT_EQ(c.overlaps[0].altitude.lower_m, 400);
  EXPECT_EQ(c.overlaps[0].altitude.upper_m, 600);
  // Outside it, accepted.
  out = File("op-1", {away});
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->accepted());
}

TEST_F(ConstraintCoreTest, AdvisoryAndConditionalZones) {
  const v1::Constraint advisory =
      Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, 0));
  v1::Constraint conditional = Zone(v1::CONSTRAINT_TYPE_CONDITIONAL, 3000);
  conditional.mutable_conditions()->mutable_altitude_ceiling()->set_value_m(
      500);
  conditional.mutable_conditions()->mutable_altitude_ceiling()->set_reference(
      v1::ALTITUDE_REFERENCE_W84);
  conditional = Publish(conditional);
  const absl::Time s = kT0 + absl::Minutes(10), e = kT0 + absl::Minutes(20);

  // Advisory: accepted with a warning.
  absl::StatusOr<intent::WriteOutcome> out =
      File("op-1", {Cylinder(0, 50, s, e)});
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->accepted());
  ASSERT_THAT(out->advisories, SizeIs(1));
  EXPECT_EQ(out->advisories[0].constraint_id, advisory.id());
  EXPECT_EQ(out->advisories[0].constraint_reason,
            v1::CONFLICT_REASON_CONSTRAINT_ADVISORY);

  // Conditional, below the ceiling: accepted with the condition.
  out = File("op-1", {Cylinder(3000, 50, s, e, 400, 480)});
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->accepted());
  ASSERT_THAT(out->advisories, SizeIs(1));
  EXPECT_EQ(out->advisories[0].constraint_reason,
            v1::CONFLICT_REASON_CONSTRAINT_CONDITIONAL);

  // Above the ceiling: the part above blocks.
  out = File("op-1", {Cylinder(3000, 50, s + absl::Hours(1), e + absl::Hours(1),
                               400, 600)});
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->accepted());
  ASSERT_THAT(out->conflicts, SizeIs(1));
  EXPECT_EQ(out->conflicts[0].constraint_id, conditional.id());
  EXPECT_EQ(out->conflicts[0].constraint_reason,
            v1::CONFLICT_REASON_CONSTRAINT_CONDITIONS_VIOLATED);
  EXPECT_EQ(out->conflicts[0].overlaps[0].altitude.lower_m, 500);
  EXPECT_EQ(out->conflicts[0].overlaps[0].altitude.upper_m, 600);
}

TEST_F(ConstraintCoreTest, UnlockRules) {
  v1::Constraint req = Zone(v1::CONSTRAINT_TYPE_REQUIRES_AUTHORISATION, 0);
  req.set_self_unlock_allowed(true);
  req = Publish(req);
  const v1::Constraint locked =
      Publish(Zone(v1::CONSTRAINT_TYPE_REQUIRES_AUTHORISATION, 3000));
  const v1::Constraint prohibited =
      Publish(Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 6000));
  const v1::Constraint advisory =
      Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, 9000));
  const absl::Time s = kT0 + absl::Minutes(10), e = kT0 + absl::Minutes(20);

  absl::StatusOr<intent::WriteOutcome> out =
      File("op-1", {Cylinder(0, 50, s, e)});
  ASSERT_TRUE(out.ok());
  ASSERT_FALSE(out->accepted());
  EXPECT_EQ(out->conflicts[0].constraint_reason,
            v1::CONFLICT_REASON_CONSTRAINT_AUTHORISATION_REQUIRED);

  v1::SelfUnlockRequest unlock;
  unlock.set_constraint_id(req.id());
  *unlock.mutable_window()->mutable_start() = TimeToProto(kT0);
  *unlock.mutable_window()->mutable_end() = TimeToProto(kT0 + absl::Hours(2));
  // Must acknowledge.
  EXPECT_EQ(core_->SelfUnlock(kPilot, unlock).status().code(),
            absl::StatusCode::kInvalidArgument);
  unlock.set_acknowledged(true);
  absl::StatusOr<v1::SelfUnlockResponse> unlocked =
      core_->SelfUnlock(kPilot, unlock);
  ASSERT_TRUE(unlocked.ok()) << unlocked.status();
  EXPECT_EQ(unlocked->authorisation().kind(),
            v1::AUTHORISATION_KIND_SELF_UNLOCK);
  EXPECT_EQ(unlocked->authorisation().operator_id(), "op-1");
  EXPECT_EQ(unlocked->authorisation().granted_by(), "op-1");
  EXPECT_EQ(unlocked->authorisation().create_time().seconds(),
            absl::ToUnixSeconds(kT0));

  out = File("op-1", {Cylinder(0, 50, s, e)});
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->accepted());
  ASSERT_THAT(out->advisories, SizeIs(1));
  EXPECT_EQ(out->advisories[0].constraint_reason,
            v1::CONFLICT_REASON_CONSTRAINT_ADVISORY);
  // Another operator is not unlocked.
  out = File("op-2", {Cylinder(0, 50, s, e)});
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->accepted());

  // No self-unlock without self_unlock_allowed, nor on PROHIBITED.
  unlock.set_constraint_id(locked.id());
  EXPECT_EQ(core_->SelfUnlock(kPilot, unlock).status().code(),
            absl::StatusCode::kPermissionDenied);
  unlock.set_constraint_id(prohibited.id());
  absl::StatusOr<v1::SelfUnlockResponse> refused =
      core_->SelfUnlock(kPilot, unlock);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(refused.status().message(), HasSubstr("PROHIBITED"));

  // Grants: only by the constraint's authority; never on ADVISORY.
  v1::GrantAuthorisationRequest grant;
  grant.set_constraint_id(prohibited.id());
  grant.set_operator_id("op-rescue");
  grant.set_reference("SAR-7");
  *grant.mutable_window()->mutable_start() = TimeToProto(kT0);
  *grant.mutable_window()->mutable_end() = TimeToProto(kT0 + absl::Hours(1));
  EXPECT_EQ(core_->Grant(kPilot, grant).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(core_->Grant(kOtherAuthority, grant).status().code(),
            absl::StatusCode::kPermissionDenied);
  grant.set_constraint_id(advisory.id());
  EXPECT_EQ(core_->Grant(kAuthority, grant).status().code(),
            absl::StatusCode::kFailedPrecondition);
  grant.set_constraint_id(prohibited.id());
  *grant.mutable_window()->mutable_end() = TimeToProto(kT0 - absl::Hours(1));
  EXPECT_EQ(core_->Grant(kAuthority, grant).status().code(),
            absl::StatusCode::kInvalidArgument);
  *grant.mutable_window()->mutable_end() = TimeToProto(kT0 + absl::Hours(1));
  absl::StatusOr<v1::GrantAuthorisationResponse> granted =
      core_->Grant(kAuthority, grant);
  ASSERT_TRUE(granted.ok()) << granted.status();
  EXPECT_EQ(granted->authorisation().kind(), v1::AUTHORISATION_KIND_GRANTED);

  // The rescue operator may fly in the TFR within the grant's window ...
  out = File("op-rescue", {Cylinder(6000, 50, s, e)});
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->accepted());
  // ... but a flight running past the window is refused for the rest.
  out = File("op-rescue", {Cylinder(6000, 50, kT0 + absl::Minutes(50),
                                    kT0 + absl::Minutes(70))});
  ASSERT_TRUE(out.ok());
  ASSERT_FALSE(out->accepted());
  ASSERT_THAT(out->conflicts[0].overlaps, SizeIs(1));
  EXPECT_EQ(out->conflicts[0].overlaps[0].time.start, kT0 + absl::Hours(1));
  EXPECT_EQ(out->conflicts[0].overlaps[0].time.end, kT0 + absl::Minutes(70));

  // Listing: the operator sees its own, the authority those on its zones.
  v1::ListAuthorisationsRequest list;
  absl::StatusOr<v1::ListAuthorisationsResponse> mine =
      core_->ListAuthorisations(kPilot, list);
  ASSERT_TRUE(mine.ok());
  ASSERT_THAT(mine->authorisations(), SizeIs(1));
  EXPECT_EQ(mine->authorisations(0).id(), unlocked->authorisation().id());
  absl::StatusOr<v1::ListAuthorisationsResponse> theirs =
      core_->ListAuthorisations(kAuthority, list);
  ASSERT_TRUE(theirs.ok());
  EXPECT_THAT(theirs->authorisations(), SizeIs(2));
  EXPECT_THAT(
      core_->ListAuthorisations(kOtherAuthority, list)->authorisations(),
      IsEmpty());

  // Revocation: the operator may revoke its self-unlock but not a grant;
  // afterwards the zone blocks again (and activation re-checks it).
  intent::FileRequest rescue_flight;
  rescue_flight.volumes = {
      Cylinder(6000, 50, kT0 + absl::Minutes(25), kT0 + absl::Minutes(35))};
  absl::StatusOr<intent::WriteOutcome> filed =
      intents_.File("op-rescue", rescue_flight);
  ASSERT_TRUE(filed.ok() && filed->accepted());
  v1::RevokeAuthorisationRequest revoke;
  revoke.set_authorisation_id(granted->authorisation().id());
  revoke.set_reason("fire out");
  EXPECT_EQ(core_->Revoke(kRescue, revoke).status().code(),
            absl::StatusCode::kPermissionDenied);
  absl::StatusOr<v1::RevokeAuthorisationResponse> revoked =
      core_->Revoke(kAuthority, revoke);
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_TRUE(revoked->authorisation().has_revoke_time());
  EXPECT_EQ(revoked->authorisation().revoke_reason(), "fire out");
  // Revoking again returns it unchanged.
  absl::StatusOr<v1::RevokeAuthorisationResponse> again =
      core_->Revoke(kAuthority, revoke);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->authorisation().revoke_reason(), "fire out");
  intent::TransitionRequest activate;
  activate.intent_id = filed->intent->id;
  activate.version = filed->intent->version;
  activate.to = intent::IntentState::kActivated;
  absl::StatusOr<intent::WriteOutcome> activation =
      intents_.Transition("op-rescue", activate);
  ASSERT_TRUE(activation.ok());
  EXPECT_FALSE(activation->accepted());
  ASSERT_THAT(activation->conflicts, SizeIs(1));
  EXPECT_EQ(activation->conflicts[0].constraint_id, prohibited.id());

  revoke.set_authorisation_id(unlocked->authorisation().id());
  EXPECT_TRUE(core_->Revoke(kPilot, revoke).ok());
  EXPECT_THAT(core_->ListAuthorisations(kPilot, list)->authorisations(),
              IsEmpty());
  list.set_include_inactive(true);
  EXPECT_THAT(core_->ListAuthorisations(kPilot, list)->authorisations(),
              SizeIs(1));
}

TEST_F(ConstraintCoreTest, WeeklyScheduleOnlyBlocksWhileActive) {
  // Stadium: Saturdays 14:00-18:00 Europe/Zurich (UTC+1 in March).
  v1::Constraint stadium = Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0);
  v1::WeeklyWindow* w = stadium.mutable_schedule()->add_weekly();
  w->add_days(v1::DAY_OF_WEEK_SATURDAY);
  w->set_start_second_of_day(14 * 3600);
  w->set_end_second_of_day(18 * 3600);
  stadium.mutable_schedule()->set_time_zone("Europe/Zurich");
  stadium = Publish(stadium);
  EXPECT_FALSE(stadium.active());  // Monday

  // Monday: fine. Saturday 2027-03-06 12:00-14:00 UTC = 13:00-15:00 local:
  // refused for the hour 13:00-14:00 UTC only.
  absl::StatusOr<intent::WriteOutcome> out =
      File("op-1",
           {Cylinder(0, 50, kT0 + absl::Minutes(10), kT0 + absl::Minutes(50))});
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->accepted());
  const absl::Time sat = absl::FromCivil(absl::CivilMinute(2027, 3, 6, 12, 0),
                                         absl::UTCTimeZone());
  out = File("op-1", {Cylinder(0, 50, sat, sat + absl::Hours(2))});
  ASSERT_TRUE(out.ok());
  ASSERT_FALSE(out->accepted());
  ASSERT_THAT(out->conflicts[0].overlaps, SizeIs(1));
  EXPECT_EQ(out->conflicts[0].overlaps[0].time.start, sat + absl::Hours(1));
  EXPECT_EQ(out->conflicts[0].overlaps[0].time.end, sat + absl::Hours(2));
}

TEST_F(ConstraintCoreTest, NewConstraintReportsTheIntentsItCutsThrough) {
  const absl::Time s = kT0 + absl::Minutes(10), e = kT0 + absl::Minutes(20);
  absl::StatusOr<intent::WriteOutcome> mine =
      File("op-1", {Cylinder(0, 50, s, e)});
  absl::StatusOr<intent::WriteOutcome> theirs =
      File("op-2", {Cylinder(200, 50, s, e)});
  absl::StatusOr<intent::WriteOutcome> far =
      File("op-1", {Cylinder(9000, 50, s, e)});
  ASSERT_TRUE(mine.ok() && mine->accepted());
  ASSERT_TRUE(theirs.ok() && theirs->accepted());
  ASSERT_TRUE(far.ok() && far->accepted());
  // op-1 watches somewhere else entirely: it is still told.
  std::shared_ptr<Watcher> op1 = Watch(kPilot, Area(50000, 1000));
  std::shared_ptr<Watcher> op2 = Watch(Caller{"op-2"}, Area(0, 1000));
  Drain(op1.get());
  Drain(op2.get());

  v1::PublishConstraintRequest request;
  *request.mutable_constraint() = Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0);
  absl::StatusOr<v1::PublishConstraintResponse> r =
      core_->Publish(kAuthority, request);
  ASSERT_TRUE(r.ok());
  ASSERT_THAT(r->affected_intents(), SizeIs(2));
  std::vector<std::string> affected = {r->affected_intents(0).intent().id(),
                                       r->affected_intents(1).intent().id()};
  std::vector<std::string> expected = {mine->intent->id, theirs->intent->id};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(affected, expected);
  EXPECT_EQ(r->affected_intents(0).reason(),
            v1::CONFLICT_REASON_CONSTRAINT_PROHIBITED);
  EXPECT_EQ(r->affected_intents(0).intent().state(), v1::INTENT_STATE_ACCEPTED);
  const std::string id = r->constraint().id();
  EXPECT_THAT(
      Describe(Drain(op1.get())),
      ElementsAre(absl::StrCat("affected:", id, ":", mine->intent->id)));
  EXPECT_THAT(
      Describe(Drain(op2.get())),
      ElementsAre(absl::StrCat("upsert:", id, ":v1"),
                  absl::StrCat("affected:", id, ":", theirs->intent->id)));
}

// --- CheckPosition
// -------------------------------------------------------------

TEST_F(ConstraintCoreTest, CheckPositionListsApplicableAndNearby) {
  const v1::Constraint advisory =
      Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, 0, 1000));
  const v1::Constraint prohibited =
      Publish(Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0, 500));
  const v1::Constraint near =
      Publish(Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 2000, 500));
  v1::Constraint weekend = Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0, 200);
  v1::WeeklyWindow* w = weekend.mutable_schedule()->add_weekly();
  w->add_days(v1::DAY_OF_WEEK_SUNDAY);
  weekend.mutable_schedule()->set_time_zone("UTC");
  w->set_end_second_of_day(86400);
  weekend = Publish(weekend);

  v1::CheckPositionRequest check;
  check.mutable_position()->set_lat_deg(geo::test_util::kZurich.lat_deg);
  check.mutable_position()->set_lng_deg(geo::test_util::kZurich.lng_deg);
  check.set_radius_m(2000);
  absl::StatusOr<v1::CheckPositionResponse> r =
      core_->CheckPosition(kPilot, check);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->applicable(), SizeIs(2));
  EXPECT_EQ(r->applicable(0).constraint().id(), prohibited.id());  // first
  EXPECT_EQ(r->applicable(1).constraint().id(), advisory.id());
  EXPECT_FALSE(r->applicable(0).authorised());
  ASSERT_THAT(r->nearby(), SizeIs(2));
  EXPECT_EQ(r->nearby(0).constraint().id(), weekend.id());  // inactive here
  EXPECT_EQ(r->nearby(0).horizontal_distance_m(), 0);
  EXPECT_FALSE(r->nearby(0).constraint().active());
  EXPECT_EQ(r->nearby(1).constraint().id(), near.id());
  EXPECT_NEAR(r->nearby(1).horizontal_distance_m(), 1500, 0.01);

  // Above the zones: nothing applies; vertical distances.
  check.mutable_altitude()->set_value_m(1100);
  check.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  check.set_radius_m(0);
  r = core_->CheckPosition(kPilot, check);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->applicable(), IsEmpty());
  ASSERT_THAT(r->nearby(), SizeIs(3));
  EXPECT_EQ(r->nearby(0).vertical_distance_m(), 100);

  check.set_radius_m(60000);
  EXPECT_EQ(core_->CheckPosition(kPilot, check).status().code(),
            absl::StatusCode::kInvalidArgument);
  check.set_radius_m(0);
  check.mutable_position()->set_lat_deg(91);
  EXPECT_EQ(core_->CheckPosition(kPilot, check).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace utm::constraint
