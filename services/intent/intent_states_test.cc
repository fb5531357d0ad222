// The intent lifecycle (intent_states.h) through IntentCore: every
// transition, off-nominal declarations and their advisories, activation with
// new volumes, and the volume length limit.
#include "services/intent/intent_states.h"

#include <ostream>
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
#include "services/intent/intent_core.h"

namespace utm::intent {
namespace {

using geo::Circle;
using geo::Volume4D;
using geo::test_util::kZurich;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using S = IntentState;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);  // 2027-01-15

// A cylinder around a point `east_m` east of Zurich, 500-620 m, from
// `start_min` to `end_min` minutes after kNow.
Volume4D Cylinder(double east_m, double radius_m = 100, int start_min = 10,
                  int end_min = 40) {
  return Volume4D{
      geo::Volume3D{
          Circle{geo::GeodesicDestination(kZurich, 90, east_m), radius_m},
          {500, 620}},
      {kNow + absl::Minutes(start_min), kNow + absl::Minutes(end_min)}};
}

// Reports one constraint, "zone-1", met by volume 0 of every check while
// `on`: blocking or not as `blocking` says.
class FakeConstraints final : public ConstraintChecker {
 public:
  bool on = false;
  bool blocking = true;
  void Check(const std::string&, const std::vector<Volume4D>& volumes,
             std::vector<Conflict>* blocking_out,
             std::vector<Conflict>* advisory_out) const override {
    if (!on || volumes.empty()) return;
    Conflict c;
    c.constraint_id = "zone-1";
    c.constraint_type = v1::CONSTRAINT_TYPE_PROHIBITED;
    c.constraint_reason = v1::CONFLICT_REASON_CONSTRAINT_PROHIBITED;
    c.overlaps.push_back(
        VolumeOverlap{0, 0, false, volumes[0].time, volumes[0].volume.altitude});
    (blocking ? blocking_out : advisory_out)->push_back(std::move(c));
  }
};

class IntentStatesTest : public testing::Test {
 protected:
  IntentStatesTest() : IntentStatesTest(IntentOptions()) {}
  explicit IntentStatesTest(IntentOptions options)
      : clock_(kNow), core_(std::move(options), &clock_, [this] {
          return absl::StrCat("intent-", ++ids_);
        }) {
    core_.SetConstraintChecker(&constraints_);
  }

  std::string Accepted(const std::string& owner, std::vector<Volume4D> volumes,
                       int32_t priority = 0) {
    absl::StatusOr<WriteOutcome> out =
        core_.File(owner, {"", priority, std::move(volumes)});
    EXPECT_TRUE(out.ok() && out->accepted()) << out.status();
    return out.ok() && out->accepted() ? out->intent->id : "";
  }

  absl::StatusOr<WriteOutcome> Move(const std::string& id, int64_t version,
                                    S to, std::vector<Volume4D> off = {}) {
    return core_.Transition("op-a", {"", id, version, to, std::move(off)});
  }

  // An intent of op-a at `east_m`, brought to `state`, and its version.
  std::pair<std::string, int64_t> InState(S state, double east_m) {
    const std::string id = Accepted("op-a", {Cylinder(east_m)});
    std::vector<S> path;
    switch (state) {
      case S::kAccepted:
        break;
      case S::kActivated:
        path = {S::kActivated};
        break;
      case S::kNonconforming:
      case S::kContingent:
        path = {S::kActivated, state};
        break;
      case S::kEnded:
        path = {S::kActivated, S::kEnded};
        break;
      case S::kCancelled:
        path = {S::kCancelled};
        break;
    }
    int64_t version = 1;
    for (S to : path) {
      absl::StatusOr<WriteOutcome> out =
          Move(id, version, to,
               IsOffNominal(to) ? std::vector<Volume4D>{Cylinder(east_m + 300)}
                                : std::vector<Volume4D>{});
      EXPECT_TRUE(out.ok() && out->accepted()) << out.status();
      ++version;
    }
    return {id, version};
  }

  SimulatedClock clock_;
  int ids_ = 0;
  FakeConstraints constraints_;
  IntentCore core_;
};

// Every (from, requested, with or without off-nominal volumes), against a
// table written out by hand: the F3548 transitions of the InterUSS reference
// USS, ENDED and CANCELLED final, and off-nominal volumes required with
// NONCONFORMING / CONTINGENT and refused otherwise.
TEST_F(IntentStatesTest, EveryTransition) {
  const std::set<std::pair<S, S>> allowed = {
      {S::kAccepted, S::kActivated},       {S::kAccepted, S::kNonconforming},
      {S::kAccepted, S::kContingent},      {S::kAccepted, S::kCancelled},
      {S::kActivated, S::kNonconforming},  {S::kActivated, S::kContingent},
      {S::kActivated, S::kEnded},          {S::kNonconforming, S::kActivated},
      {S::kNonconforming, S::kNonconforming},
      {S::kNonconforming, S::kContingent}, {S::kNonconforming, S::kEnded},
      {S::kContingent, S::kContingent},    {S::kContingent, S::kEnded},
  };
  const std::vector<S> all = {S::kAccepted,   S::kActivated, S::kNonconforming,
                              S::kContingent, S::kEnded,     S::kCancelled};
  int n = 0;
  for (S from : all) {
    for (S to : all) {
      for (bool with_volumes : {false, true}) {
        const double east = 2000.0 * n++;
        const auto [id, version] = InState(from, east);
        SCOPED_TRACE(absl::StrCat(IntentStateName(from), " -> ",
                                  IntentStateName(to),
                                  with_volumes ? " with" : " without",
                                  " off-nominal volumes"));
        std::vector<Volume4D> off;
        if (with_volumes) off = {Cylinder(east + 600), Cylinder(east + 700)};
        const absl::StatusOr<WriteOutcome> out = Move(id, version, to, off);
        const bool off_nominal = to == S::kNonconforming || to == S::kContingent;
        const IntentView before_or_after = *core_.Get("op-a", id);
        if (off_nominal && !with_volumes) {
          EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
          EXPECT_EQ(out.status().message(),
                    absl::StrCat("off_nominal_volumes: ", IntentStateName(to),
                                 " needs at least one off-nominal volume "
                                 "(where the aircraft is or will be)"));
        } else if (!off_nominal && with_volumes) {
          EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
          EXPECT_EQ(out.status().message(),
                    absl::StrCat("off_nominal_volumes: only for NONCONFORMING "
                                 "or CONTINGENT, not ",
                                 IntentStateName(to)));
        } else if (from == S::kEnded || from == S::kCancelled) {
          EXPECT_EQ(out.status().code(),
                    absl::StatusCode::kFailedPrecondition);
          EXPECT_EQ(out.status().message(),
                    absl::StrCat("intent ", id, " is ", IntentStateName(from),
                                 "; it can no longer change"));
        } else if (allowed.count({from, to}) == 0) {
          EXPECT_EQ(out.status().code(),
                    absl::StatusCode::kFailedPrecondition);
          EXPECT_THAT(out.status().message(),
                      HasSubstr(absl::StrCat("is ", IntentStateName(from),
                                             "; it cannot become ",
                                             IntentStateName(to),
                                             " (allowed: ")));
        } else {
          ASSERT_TRUE(out.ok()) << out.status();
          ASSERT_TRUE(out->accepted());
          EXPECT_EQ(out->intent->state, to);
          EXPECT_EQ(out->intent->version, version + 1);
          EXPECT_EQ(out->intent->off_nominal_volumes.size(),
                    with_volumes ? 2u : 0u);
          EXPECT_EQ(before_or_after.intent.state, to);
          continue;
        }
        // Refused: nothing changed.
        EXPECT_EQ(before_or_after.intent.state, from);
        EXPECT_EQ(before_or_after.intent.version, version);
      }
    }
  }
}

TEST_F(IntentStatesTest, AllowedTransitionsAreListed) {
  EXPECT_EQ(AllowedTransitions(S::kAccepted),
            "ACTIVATED, NONCONFORMING, CONTINGENT, CANCELLED");
  EXPECT_EQ(AllowedTransitions(S::kContingent), "CONTINGENT, ENDED");
  EXPECT_EQ(AllowedTransitions(S::kEnded), "none: it is final");
  const auto [id, version] = InState(S::kContingent, 0);
  EXPECT_EQ(Move(id, version, S::kActivated).status().message(),
            absl::StrCat("intent ", id,
                         " is CONTINGENT; it cannot become ACTIVATED (allowed: "
                         "CONTINGENT, ENDED)"));
}

// Nonconforming -> Nonconforming and Contingent -> Contingent: the new
// off-nominal volumes replace the old ones, in a new version, and the
// airspace follows.
TEST_F(IntentStatesTest, RedeclaringReplacesTheOffNominalVolumes) {
  for (S state : {S::kNonconforming, S::kContingent}) {
    SCOPED_TRACE(IntentStateName(state));
    const double base = state == S::kNonconforming ? 0 : 20000;
    const auto [id, version] = InState(state, base);  // off-nominal at +300
    absl::StatusOr<WriteOutcome> out =
        Move(id, version, state, {Cylinder(base + 3000)});
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_TRUE(out->accepted());
    EXPECT_EQ(out->intent->state, state);
    EXPECT_EQ(out->intent->version, version + 1);
    ASSERT_EQ(out->intent->off_nominal_volumes.size(), 1u);
    EXPECT_EQ(geo::DebugString(out->intent->off_nominal_volumes[0].volume.footprint),
              geo::DebugString(Cylinder(base + 3000).volume.footprint));
    // The old off-nominal place is free, the new one taken.
    EXPECT_TRUE(core_.File("op-b", {"", 0, {Cylinder(base + 300, 50)}})
                    ->accepted());
    absl::StatusOr<WriteOutcome> blocked =
        core_.File("op-b", {"", 0, {Cylinder(base + 3000, 50)}});
    ASSERT_EQ(blocked->conflicts.size(), 1u);
    EXPECT_EQ(blocked->conflicts[0].intent_id, id);
    EXPECT_TRUE(blocked->conflicts[0].overlaps[0].other_off_nominal);
  }
}

// F3548 lets an intent not yet activated be declared off-nominal (the
// aircraft took off off its plan).
TEST_F(IntentStatesTest, AcceptedMayBeDeclaredOffNominal) {
  const std::string id = Accepted("op-a", {Cylinder(0)});
  absl::StatusOr<WriteOutcome> nc =
      Move(id, 1, S::kNonconforming, {Cylinder(500)});
  ASSERT_TRUE(nc.ok()) << nc.status();
  EXPECT_EQ(nc->intent->state, S::kNonconforming);
  absl::StatusOr<WriteOutcome> back = Move(id, 2, S::kActivated);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->intent->state, S::kActivated);
  EXPECT_THAT(back->intent->off_nominal_volumes, IsEmpty());

  const std::string other = Accepted("op-a", {Cylinder(9000)});
  absl::StatusOr<WriteOutcome> contingent =
      Move(other, 1, S::kContingent, {Cylinder(9000)});
  ASSERT_TRUE(contingent.ok()) << contingent.status();
  EXPECT_EQ(contingent->intent->state, S::kContingent);
  EXPECT_EQ(Move(other, 2, S::kActivated).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Move(other, 2, S::kEnded)->intent->state, S::kEnded);
}

// What the off-nominal volumes meet comes back, explained exactly as a
// conflict is, and never blocks the declaration.
TEST_F(IntentStatesTest, DeclarationsReportWhatTheOffNominalVolumesMeet) {
  const std::string high = Accepted("op-b", {Cylinder(5000)}, 9);
  const std::string low = Accepted("op-c", {Cylinder(5250)}, 0);
  const std::string mine = Accepted("op-a", {Cylinder(0)}, 3);
  ASSERT_TRUE(Move(mine, 1, S::kActivated)->accepted());
  constraints_.on = true;  // a prohibited zone under the off-nominal volumes
  // Off-nominal volume 1 meets both (volume 0 meets nothing of theirs).
  absl::StatusOr<WriteOutcome> out =
      Move(mine, 2, S::kNonconforming,
           {Cylinder(20000), Cylinder(5125, 100, 20, 60)});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE(out->accepted());
  EXPECT_THAT(out->conflicts, IsEmpty());
  ASSERT_EQ(out->advisories.size(), 3u);
  // Intents by id (the higher and the lower priority alike), then
  // constraints.
  EXPECT_EQ(out->advisories[0].intent_id, high);
  EXPECT_EQ(out->advisories[0].priority, 9);
  EXPECT_EQ(out->advisories[1].intent_id, low);
  EXPECT_EQ(out->advisories[1].priority, 0);
  EXPECT_EQ(out->advisories[2].constraint_id, "zone-1");
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(out->advisories[i].overlaps.size(), 1u);
    const VolumeOverlap& o = out->advisories[i].overlaps[0];
    EXPECT_EQ(o.volume_index, 1);  // into the off-nominal volumes
    EXPECT_EQ(o.other_volume_index, 0);
    EXPECT_FALSE(o.other_off_nominal);
    EXPECT_EQ(o.time.start, kNow + absl::Minutes(20));
    EXPECT_EQ(o.time.end, kNow + absl::Minutes(40));
    EXPECT_EQ(o.altitude.lower_m, 500);
    EXPECT_EQ(o.altitude.upper_m, 620);
  }
  // Re-declaring CONTINGENT elsewhere: only what the new volumes meet.
  constraints_.on = false;
  absl::StatusOr<WriteOutcome> moved =
      Move(mine, 3, S::kContingent, {Cylinder(5200, 10)});
  ASSERT_TRUE(moved.ok()) << moved.status();
  ASSERT_EQ(moved->advisories.size(), 1u);
  EXPECT_EQ(moved->advisories[0].intent_id, low);
  // Another intent's off-nominal volume is named as such.
  const std::string other = Accepted("op-d", {Cylinder(30000)}, 0);
  ASSERT_TRUE(core_
                  .Transition("op-d", {"", other, 1, S::kNonconforming,
                                       {Cylinder(5200, 10)}})
                  ->accepted());
  absl::StatusOr<WriteOutcome> again =
      Move(mine, 4, S::kContingent, {Cylinder(5200, 10)});
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->advisories.size(), 2u);
  EXPECT_EQ(again->advisories[1].intent_id, other);
  EXPECT_TRUE(again->advisories[1].overlaps[0].other_off_nominal);
  // The return to ACTIVATED declares no off-nominal volume: no advisory.
  // (CONTINGENT cannot return; a fresh NONCONFORMING intent shows it.)
  const auto [nc, version] = InState(S::kNonconforming, 50000);
  absl::StatusOr<WriteOutcome> back = Move(nc, version, S::kActivated);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_THAT(back->advisories, IsEmpty());
}

// Activation may carry new volumes and priority: deconflicted as a
// modification of an ACCEPTED intent, applied with the activation in one
// write.
TEST_F(IntentStatesTest, ActivationWithNewVolumesIsOneCheckedWrite) {
  const std::string blocker = Accepted("op-b", {Cylinder(3000)}, 5);
  const std::string low = Accepted("op-c", {Cylinder(6000)}, 1);
  const std::string mine = Accepted("op-a", {Cylinder(0)}, 1);
  TransitionRequest activate{"", mine, 1, S::kActivated, {}};

  // Into the higher-priority intent: rejected, nothing changed.
  activate.volumes = {Cylinder(3050)};
  absl::StatusOr<WriteOutcome> rejected = core_.Transition("op-a", activate);
  ASSERT_TRUE(rejected.ok()) << rejected.status();
  EXPECT_FALSE(rejected->accepted());
  ASSERT_EQ(rejected->conflicts.size(), 1u);
  EXPECT_EQ(rejected->conflicts[0].intent_id, blocker);
  const Intent unchanged = core_.Get("op-a", mine)->intent;
  EXPECT_EQ(unchanged.state, S::kAccepted);
  EXPECT_EQ(unchanged.version, 1);
  EXPECT_EQ(geo::DebugString(unchanged.volumes[0].volume.footprint),
            geo::DebugString(Cylinder(0).volume.footprint));

  // Over the priority-1 intent at priority 1: blocked; at priority 2: taken,
  // with the lower one as an advisory, in one new version.
  activate.volumes = {Cylinder(6050), Cylinder(9000)};
  EXPECT_FALSE(core_.Transition("op-a", activate)->accepted());
  activate.priority = 2;
  clock_.Advance(absl::Minutes(1));
  absl::StatusOr<WriteOutcome> out = core_.Transition("op-a", activate);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE(out->accepted());
  EXPECT_EQ(out->intent->state, S::kActivated);
  EXPECT_EQ(out->intent->version, 2);
  EXPECT_EQ(out->intent->priority, 2);
  EXPECT_EQ(out->intent->volumes.size(), 2u);
  EXPECT_EQ(out->intent->updated, kNow + absl::Minutes(1));
  ASSERT_EQ(out->advisories.size(), 1u);
  EXPECT_EQ(out->advisories[0].intent_id, low);
  // The old place is free, the new one taken.
  EXPECT_TRUE(core_.File("op-d", {"", 1, {Cylinder(0)}})->accepted());
  EXPECT_FALSE(core_.File("op-d", {"", 1, {Cylinder(9000)}})->accepted());
}

TEST_F(IntentStatesTest, ActivationVolumesAreCheckedAndIdempotent) {
  const std::string mine = Accepted("op-a", {Cylinder(0)});
  TransitionRequest activate{"act-1", mine, 1, S::kActivated, {}};
  activate.volumes = {Cylinder(100), Cylinder(200, 100, 50, 40)};
  absl::StatusOr<WriteOutcome> bad = core_.Transition("op-a", activate);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("volumes[1]"));
  activate.volumes = {Cylinder(100)};
  activate.priority = 1001;
  EXPECT_EQ(core_.Transition("op-a", activate).status().message(),
            "priority: 1001 is outside [0, 1000]");
  activate.priority.reset();

  absl::StatusOr<WriteOutcome> first = core_.Transition("op-a", activate);
  ASSERT_TRUE(first.ok() && first->accepted()) << first.status();
  // A retry replays; the same id with other volumes is another request.
  absl::StatusOr<WriteOutcome> retry = core_.Transition("op-a", activate);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->intent->version, 2);
  activate.volumes = {Cylinder(150)};
  EXPECT_EQ(core_.Transition("op-a", activate).status().code(),
            absl::StatusCode::kAlreadyExists);

  // Only with activation, and only of an ACCEPTED intent.
  TransitionRequest end{"", mine, 2, S::kEnded, {}};
  end.volumes = {Cylinder(100)};
  EXPECT_EQ(core_.Transition("op-a", end).status().message(),
            "volumes: only with activation, not ENDED");
  end.volumes.clear();
  end.priority = 3;
  EXPECT_EQ(core_.Transition("op-a", end).status().message(),
            "priority: only with activation, not ENDED");
  const auto [nc, version] = InState(S::kNonconforming, 40000);
  TransitionRequest back{"", nc, version, S::kActivated, {}};
  back.volumes = {Cylinder(40000)};
  absl::StatusOr<WriteOutcome> refused = core_.Transition("op-a", back);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(),
            absl::StrCat("intent ", nc,
                         " is NONCONFORMING; new volumes, priority or "
                         "aircraft go with the activation of an ACCEPTED "
                         "intent only (use ModifyIntent)"));
}

// The default fits multi-day flights (F3548 sets no limit; the default is
// its 30-day planning horizon); the option lowers or raises it.
TEST_F(IntentStatesTest, VolumeLengthDefaultsToThirtyDays) {
  EXPECT_EQ(IntentOptions().max_volume_duration, absl::Hours(24 * 30));
  Volume4D five_days = Cylinder(0);
  five_days.time.end = five_days.time.start + absl::Hours(24 * 5);
  EXPECT_TRUE(core_.File("op-a", {"", 0, {five_days}})->accepted());
  Volume4D too_long = Cylinder(5000);
  too_long.time.end = too_long.time.start + absl::Hours(24 * 30 + 1);
  absl::StatusOr<WriteOutcome> out = core_.File("op-a", {"", 0, {too_long}});
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(),
            "volumes[0]: lasts 721h; at most 720h is allowed");
}

class ShortVolumesTest : public IntentStatesTest {
 protected:
  static IntentOptions Options() {
    IntentOptions options;
    options.max_volume_duration = absl::Hours(24);
    return options;
  }
  ShortVolumesTest() : IntentStatesTest(Options()) {}
};

TEST_F(ShortVolumesTest, TheLimitIsAnOption) {
  Volume4D five_days = Cylinder(0);
  five_days.time.end = five_days.time.start + absl::Hours(24 * 5);
  absl::StatusOr<WriteOutcome> out = core_.File("op-a", {"", 0, {five_days}});
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(),
            "volumes[0]: lasts 120h; at most 24h is allowed");
  // Off-nominal and activation volumes are held to it too.
  const std::string id = Accepted("op-a", {Cylinder(0)});
  absl::StatusOr<WriteOutcome> nc = Move(id, 1, S::kNonconforming, {five_days});
  EXPECT_EQ(nc.status().message(),
            "off_nominal_volumes[0]: lasts 120h; at most 24h is allowed");
}

}  // namespace
}  // namespace utm::intent
