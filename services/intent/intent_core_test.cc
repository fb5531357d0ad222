#include "services/intent/intent_core.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "geo/intersect.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/store.h"

namespace utm::intent {
namespace {

using geo::Circle;
using geo::LatLng;
using geo::Volume4D;
using geo::test_util::kZurich;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);  // 2027-01-15

// A cylinder around a point `east_m` east of Zurich, 0-120 m above 500 m,
// from `start_min` to `end_min` minutes after kNow.
Volume4D Cylinder(double east_m, double radius_m = 100, int start_min = 10,
                  int end_min = 40, double lower = 500, double upper = 620) {
  return Volume4D{
      geo::Volume3D{
          Circle{geo::GeodesicDestination(kZurich, 90, east_m), radius_m},
          {lower, upper}},
      {kNow + absl::Minutes(start_min), kNow + absl::Minutes(end_min)}};
}

class IntentCoreTest : public testing::Test {
 protected:
  IntentCoreTest() : IntentCoreTest(IntentOptions()) {}
  explicit IntentCoreTest(IntentOptions options)
      : clock_(kNow), core_(std::move(options), &clock_, [this] {
          return absl::StrCat("intent-", ++ids_);
        }) {}

  WriteOutcome FileOk(const std::string& owner, std::vector<Volume4D> volumes,
                      int32_t priority = 0, std::string request_id = "") {
    absl::StatusOr<WriteOutcome> out = core_.File(
        owner, {std::move(request_id), priority, std::move(volumes)});
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : WriteOutcome();
  }

  std::string Accepted(const std::string& owner, std::vector<Volume4D> volumes,
                       int32_t priority = 0) {
    WriteOutcome out = FileOk(owner, std::move(volumes), priority);
    EXPECT_TRUE(out.accepted());
    return out.accepted() ? out.intent->id : "";
  }

  absl::StatusOr<WriteOutcome> Move(const std::string& owner,
                                    const std::string& id, int64_t version,
                                    IntentState to) {
    return core_.Transition(owner, {"", id, version, to, {}});
  }

  SimulatedClock clock_;
  int ids_ = 0;
  IntentCore core_;
};

TEST_F(IntentCoreTest, FilesAnIntent) {
  const WriteOutcome out = FileOk("op-a", {Cylinder(0), Cylinder(500)}, 5);
  ASSERT_TRUE(out.accepted());
  EXPECT_THAT(out.conflicts, IsEmpty());
  EXPECT_EQ(out.intent->id, "intent-1");
  EXPECT_EQ(out.intent->owner, "op-a");
  EXPECT_EQ(out.intent->priority, 5);
  EXPECT_EQ(out.intent->state, IntentState::kAccepted);
  EXPECT_EQ(out.intent->version, 1);
  EXPECT_EQ(out.intent->created, kNow);
  EXPECT_EQ(out.intent->volumes.size(), 2u);
  EXPECT_EQ(core_.live_count(), 1u);
}

TEST_F(IntentCoreTest, EqualPriorityOverlapIsRejectedAndExplained) {
  const std::string first = Accepted("op-a", {Cylinder(0), Cylinder(1000)});
  // Volume 1 meets the first intent's volume 0 from minute 20 to 40, between
  // 600 and 620 m.
  const WriteOutcome out =
      FileOk("op-b", {Cylinder(5000), Cylinder(150, 100, 20, 60, 600, 700)});
  EXPECT_FALSE(out.accepted());
  ASSERT_EQ(out.conflicts.size(), 1u);
  const Conflict& c = out.conflicts[0];
  EXPECT_EQ(c.intent_id, first);
  EXPECT_EQ(c.priority, 0);
  EXPECT_EQ(c.state, IntentState::kAccepted);
  ASSERT_EQ(c.overlaps.size(), 1u);
  EXPECT_EQ(c.overlaps[0].volume_index, 1);
  EXPECT_EQ(c.overlaps[0].other_volume_index, 0);
  EXPECT_EQ(c.overlaps[0].time.start, kNow + absl::Minutes(20));
  EXPECT_EQ(c.overlaps[0].time.end, kNow + absl::Minutes(40));
  EXPECT_EQ(c.overlaps[0].altitude.lower_m, 600);
  EXPECT_EQ(c.overlaps[0].altitude.upper_m, 620);
  EXPECT_EQ(core_.live_count(), 1u);  // nothing stored
}

TEST_F(IntentCoreTest, TouchingCountsAsConflict) {
  Accepted("op-a", {Cylinder(0, 100)});
  // Circles 200 m apart with radii 100 m touch; the windows touch at minute 40.
  EXPECT_FALSE(FileOk("op-b", {Cylinder(200, 100)}).accepted());
  EXPECT_FALSE(FileOk("op-b", {Cylinder(0, 100, 40, 50)}).accepted());
  EXPECT_TRUE(FileOk("op-b", {Cylinder(200.01, 100)}).accepted());
  EXPECT_TRUE(FileOk("op-c", {Cylinder(0, 100, 41, 50)}).accepted());
}

TEST_F(IntentCoreTest, PriorityDecidesWhoMayOverlap) {
  const std::string low = Accepted("op-a", {Cylinder(0)}, 1);
  // Higher may overlap lower.
  const std::string high = Accepted("op-b", {Cylinder(50)}, 9);
  // Lower may not overlap higher; the verdict names only the blocking one.
  const WriteOutcome out = FileOk("op-c", {Cylinder(20)}, 3);
  EXPECT_FALSE(out.accepted());
  ASSERT_EQ(out.conflicts.size(), 1u);
  EXPECT_EQ(out.conflicts[0].intent_id, high);
  EXPECT_EQ(out.conflicts[0].priority, 9);
  // Equal priority to the low one, below the high one: both block.
  const WriteOutcome both = FileOk("op-c", {Cylinder(20)}, 1);
  ASSERT_EQ(both.conflicts.size(), 2u);
  EXPECT_EQ(both.conflicts[0].intent_id, low);
  EXPECT_EQ(both.conflicts[1].intent_id, high);
}

TEST_F(IntentCoreTest, NonBlockingOverlapsAreAdvisories) {
  const std::string low = Accepted("op-a", {Cylinder(0)}, 1);
  const WriteOutcome out = FileOk("op-b", {Cylinder(30)}, 5);
  ASSERT_TRUE(out.accepted());
  EXPECT_THAT(out.conflicts, IsEmpty());
  ASSERT_EQ(out.advisories.size(), 1u);
  EXPECT_EQ(out.advisories[0].intent_id, low);
  EXPECT_EQ(out.advisories[0].priority, 1);
}

TEST_F(IntentCoreTest, OffNominalVolumesAreKeptAndAreObstacles) {
  const std::string id = Accepted("op-a", {Cylinder(0)});
  ASSERT_TRUE(Move("op-a", id, 1, IntentState::kActivated)->accepted());
  // Off-nominal volumes only go with NONCONFORMING / CONTINGENT.
  absl::StatusOr<WriteOutcome> wrong =
      core_.Transition("op-a", {"", id, 2, IntentState::kEnded, {Cylinder(0)}});
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(wrong.status().message(),
            "off_nominal_volumes: only for NONCONFORMING or CONTINGENT, not "
            "ENDED");
  // The aircraft strays 2 km east; that is where it now blocks others.
  absl::StatusOr<WriteOutcome> strayed = core_.Transition(
      "op-a", {"", id, 2, IntentState::kNonconforming, {Cylinder(2000)}});
  ASSERT_TRUE(strayed.ok()) << strayed.status();
  ASSERT_TRUE(strayed->accepted());
  EXPECT_EQ(strayed->intent->off_nominal_volumes.size(), 1u);
  const WriteOutcome blocked = FileOk("op-b", {Cylinder(2050)});
  ASSERT_EQ(blocked.conflicts.size(), 1u);
  EXPECT_TRUE(blocked.conflicts[0].overlaps[0].other_off_nominal);
  EXPECT_EQ(blocked.conflicts[0].overlaps[0].other_volume_index, 0);
  // Back in conformance: the off-nominal volumes are gone.
  absl::StatusOr<WriteOutcome> back =
      Move("op-a", id, 3, IntentState::kActivated);
  ASSERT_TRUE(back.ok() && back->accepted());
  EXPECT_THAT(back->intent->off_nominal_volumes, IsEmpty());
  EXPECT_TRUE(FileOk("op-b", {Cylinder(2050)}).accepted());
}

class EqualPriorityAllowedTest : public IntentCoreTest {
 protected:
  static IntentOptions Options() {
    IntentOptions options;
    options.allow_equal_priority_overlap = true;
    return options;
  }
  EqualPriorityAllowedTest() : IntentCoreTest(Options()) {}
};

TEST_F(EqualPriorityAllowedTest, EqualPrioritiesMayOverlap) {
  Accepted("op-a", {Cylinder(0)}, 4);
  EXPECT_TRUE(FileOk("op-b", {Cylinder(10)}, 4).accepted());
  EXPECT_FALSE(FileOk("op-c", {Cylinder(10)}, 3).accepted());
}

TEST_F(IntentCoreTest, ModifyChecksVersionOwnerAndExistence) {
  const std::string id = Accepted("op-a", {Cylinder(0)});
  absl::StatusOr<WriteOutcome> stale =
      core_.Modify("op-a", {"", id, 7, 0, {Cylinder(10)}});
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(stale.status().message(),
            "intent intent-1 is at version 1, not 7; read it again and retry");
  absl::StatusOr<WriteOutcome> theirs =
      core_.Modify("op-b", {"", id, 1, 0, {Cylinder(10)}});
  EXPECT_EQ(theirs.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(theirs.status().message(), HasSubstr("another operator"));
  EXPECT_EQ(
      core_.Modify("op-a", {"", "nope", 1, 0, {Cylinder(10)}}).status().code(),
      absl::StatusCode::kNotFound);

  clock_.Advance(absl::Minutes(1));
  absl::StatusOr<WriteOutcome> moved =
      core_.Modify("op-a", {"", id, 1, 2, {Cylinder(3000)}});
  ASSERT_TRUE(moved.ok()) << moved.status();
  ASSERT_TRUE(moved->accepted());
  EXPECT_EQ(moved->intent->version, 2);
  EXPECT_EQ(moved->intent->priority, 2);
  EXPECT_EQ(moved->intent->updated, kNow + absl::Minutes(1));
  EXPECT_EQ(moved->intent->created, kNow);
  // The old place is free, the new one taken.
  EXPECT_TRUE(FileOk("op-b", {Cylinder(0)}, 2).accepted());
  EXPECT_FALSE(FileOk("op-b", {Cylinder(3000)}, 2).accepted());
}

TEST_F(IntentCoreTest, AcceptedModifyIsFullyDeconflicted) {
  Accepted("op-a", {Cylinder(0)});
  const std::string mine = Accepted("op-b", {Cylinder(2000)});
  const absl::StatusOr<WriteOutcome> out =
      core_.Modify("op-b", {"", mine, 1, 0, {Cylinder(100)}});
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->accepted());
  ASSERT_EQ(out->conflicts.size(), 1u);
  EXPECT_EQ(out->conflicts[0].intent_id, "intent-1");
  // Rejected: nothing changed.
  EXPECT_EQ(core_.Get("op-b", mine)->intent.version, 1);
}

TEST_F(IntentCoreTest, ActivatedModifyMayKeepButNotAddConflicts) {
  const std::string mine = Accepted("op-a", {Cylinder(0)}, 0);
  ASSERT_TRUE(Move("op-a", mine, 1, IntentState::kActivated)->accepted());
  // A higher-priority flight is filed over mine (allowed: it outranks me).
  const std::string priority = Accepted("op-b", {Cylinder(100)}, 10);
  // Another flight of my priority, elsewhere.
  const std::string peer = Accepted("op-c", {Cylinder(5000)}, 0);

  // Still overlapping the higher-priority one only: allowed.
  absl::StatusOr<WriteOutcome> keep =
      core_.Modify("op-a", {"", mine, 2, 0, {Cylinder(30, 120)}});
  ASSERT_TRUE(keep.ok()) << keep.status();
  EXPECT_TRUE(keep->accepted());
  EXPECT_EQ(keep->intent->version, 3);

  // Stretching to the peer adds a new conflict: refused, naming only it.
  absl::StatusOr<WriteOutcome> add = core_.Modify(
      "op-a", {"", mine, 3, 0, {Cylinder(30, 120), Cylinder(5000)}});
  ASSERT_TRUE(add.ok()) << add.status();
  EXPECT_FALSE(add->accepted());
  ASSERT_EQ(add->conflicts.size(), 1u);
  EXPECT_EQ(add->conflicts[0].intent_id, peer);
  EXPECT_EQ(add->conflicts[0].overlaps[0].volume_index, 1);
  (void)priority;
}

TEST_F(IntentCoreTest, OffNominalModifyIsNotDeconflicted) {
  const std::string mine = Accepted("op-a", {Cylinder(0)});
  Accepted("op-b", {Cylinder(3000)});
  ASSERT_TRUE(Move("op-a", mine, 1, IntentState::kActivated)->accepted());
  ASSERT_TRUE(core_
                  .Transition("op-a", {"", mine, 2, IntentState::kContingent,
                                       {Cylinder(0)}})
                  ->accepted());
  // The aircraft is where it is: its new volume is recorded even though it
  // overlaps another flight, and it is now an obstacle to others there.
  absl::StatusOr<WriteOutcome> out =
      core_.Modify("op-a", {"", mine, 3, 0, {Cylinder(3000)}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->accepted());
  EXPECT_FALSE(FileOk("op-c", {Cylinder(3050)}, 0).accepted());
}

TEST_F(IntentCoreTest, TransitionsFollowTheStateMachine) {
  const std::string id = Accepted("op-a", {Cylinder(0)});
  absl::StatusOr<WriteOutcome> bad = Move("op-a", id, 1, IntentState::kEnded);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(bad.status().message(),
            "intent intent-1 is ACCEPTED; it cannot become ENDED (allowed: "
            "ACTIVATED, NONCONFORMING, CONTINGENT, CANCELLED)");
  ASSERT_TRUE(Move("op-a", id, 1, IntentState::kActivated)->accepted());
  ASSERT_TRUE(core_
                  .Transition("op-a", {"", id, 2, IntentState::kNonconforming,
                                       {Cylinder(0)}})
                  ->accepted());
  ASSERT_TRUE(Move("op-a", id, 3, IntentState::kActivated)->accepted());
  EXPECT_EQ(Move("op-b", id, 4, IntentState::kEnded).status().code(),
            absl::StatusCode::kPermissionDenied);
  absl::StatusOr<WriteOutcome> ended = Move("op-a", id, 4, IntentState::kEnded);
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(ended->intent->state, IntentState::kEnded);
  EXPECT_EQ(ended->intent->version, 5);
  // Ended intents leave the airspace and can no longer change.
  EXPECT_TRUE(FileOk("op-b", {Cylinder(0)}).accepted());
  absl::StatusOr<WriteOutcome> after =
      Move("op-a", id, 5, IntentState::kActivated);
  EXPECT_EQ(after.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(after.status().message(), HasSubstr("is ENDED"));
  EXPECT_EQ(core_.Modify("op-a", {"", id, 5, 0, {Cylinder(0)}}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Get still finds it.
  EXPECT_EQ(core_.Get("op-a", id)->intent.state, IntentState::kEnded);
}

TEST_F(IntentCoreTest, CancelFreesTheAirspace) {
  const std::string id = Accepted("op-a", {Cylinder(0)});
  EXPECT_FALSE(FileOk("op-b", {Cylinder(0)}).accepted());
  ASSERT_TRUE(Move("op-a", id, 1, IntentState::kCancelled)->accepted());
  EXPECT_TRUE(FileOk("op-b", {Cylinder(0)}).accepted());
  EXPECT_EQ(core_.live_count(), 1u);
}

TEST_F(IntentCoreTest, ActivationIsCheckedAgainstLaterHigherPriorityIntents) {
  const std::string mine = Accepted("op-a", {Cylinder(0)}, 0);
  const std::string later = Accepted("op-b", {Cylinder(50)}, 7);
  absl::StatusOr<WriteOutcome> out =
      Move("op-a", mine, 1, IntentState::kActivated);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_FALSE(out->accepted());
  ASSERT_EQ(out->conflicts.size(), 1u);
  EXPECT_EQ(out->conflicts[0].intent_id, later);
  EXPECT_EQ(core_.Get("op-a", mine)->intent.state, IntentState::kAccepted);
}

TEST_F(IntentCoreTest, RetriedFileIsIdempotent) {
  const WriteOutcome first = FileOk("op-a", {Cylinder(0)}, 0, "req-1");
  ASSERT_TRUE(first.accepted());
  clock_.Advance(absl::Minutes(5));
  const WriteOutcome retry = FileOk("op-a", {Cylinder(0)}, 0, "req-1");
  ASSERT_TRUE(retry.accepted());
  EXPECT_EQ(retry.intent->id, first.intent->id);
  EXPECT_EQ(retry.intent->version, 1);
  EXPECT_EQ(core_.live_count(), 1u);  // filed once
  // The same id for a different request.
  absl::StatusOr<WriteOutcome> reuse =
      core_.File("op-a", {"req-1", 0, {Cylinder(900)}});
  EXPECT_EQ(reuse.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(reuse.status().message(),
              HasSubstr("request_id \"req-1\" was already used"));
  // Request ids are per operator.
  EXPECT_FALSE(FileOk("op-b", {Cylinder(0)}, 0, "req-1").accepted());
  // After the retention period the id is forgotten.
  clock_.Advance(absl::Hours(25));
  EXPECT_TRUE(
      FileOk("op-a", {Cylinder(8000, 100, 1500, 1520)}, 0, "req-1").accepted());
}

TEST_F(IntentCoreTest, RetriedRejectionAndModifyReplay) {
  Accepted("op-a", {Cylinder(0)});
  const WriteOutcome rejected = FileOk("op-b", {Cylinder(0)}, 0, "r");
  EXPECT_FALSE(rejected.accepted());
  EXPECT_EQ(FileOk("op-b", {Cylinder(0)}, 0, "r").conflicts.size(), 1u);

  const std::string id = Accepted("op-c", {Cylinder(9000)});
  absl::StatusOr<WriteOutcome> first =
      core_.Modify("op-c", {"m1", id, 1, 0, {Cylinder(9100)}});
  ASSERT_TRUE(first.ok() && first->accepted());
  // A retry after a lost response replays the success instead of ABORTED.
  absl::StatusOr<WriteOutcome> retry =
      core_.Modify("op-c", {"m1", id, 1, 0, {Cylinder(9100)}});
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->intent->version, 2);
  EXPECT_EQ(core_.Get("op-c", id)->intent.version, 2);
}

struct LimitCase {
  std::string name;
  std::function<void(FileRequest&)> mutate;
  std::string message;
};

void PrintTo(const LimitCase& c, std::ostream* os) { *os << c.name; }

class IntentLimits : public IntentCoreTest,
                     public testing::WithParamInterface<LimitCase> {};

TEST_P(IntentLimits, RefusedWithThePreciseReason) {
  FileRequest request{"", 0, {Cylinder(0), Cylinder(500)}};
  GetParam().mutate(request);
  const absl::StatusOr<WriteOutcome> out = core_.File("op-a", request);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(out.status().message()), GetParam().message);
  EXPECT_EQ(core_.live_count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    All, IntentLimits,
    testing::Values(
        LimitCase{"NoVolumes", [](FileRequest& r) { r.volumes.clear(); },
                  "volumes: an intent needs at least one volume"},
        LimitCase{"TooManyVolumes",
                  [](FileRequest& r) { r.volumes.resize(101, r.volumes[0]); },
                  "volumes: 101 volumes; at most 100 are allowed"},
        LimitCase{"EndsInThePast",
                  [](FileRequest& r) {
                    r.volumes[1].time = {kNow - absl::Hours(2),
                                         kNow - absl::Hours(1)};
                  },
                  "volumes[1].time_end: 2027-01-15T07:00:00+00:00 is in the "
                  "past (now 2027-01-15T08:00:00+00:00)"},
        LimitCase{"StartsTooFarAhead",
                  [](FileRequest& r) {
                    r.volumes[0].time = {kNow + absl::Hours(24 * 31),
                                         kNow + absl::Hours(24 * 31 + 1)};
                  },
                  "volumes[0].time_start: 2027-02-15T08:00:00+00:00 is more "
                  "than 720h ahead (now 2027-01-15T08:00:00+00:00)"},
        LimitCase{"LastsTooLong",
                  [](FileRequest& r) {
                    r.volumes[0].time.end =
                        r.volumes[0].time.start + absl::Hours(24 * 31);
                  },
                  "volumes[0]: lasts 744h; at most 720h is allowed"},
        LimitCase{"NeverEnds",
                  [](FileRequest& r) {
                    r.volumes[0].time.end = absl::InfiniteFuture();
                  },
                  "volumes[0].time_end: a flight intent must end"},
        LimitCase{"PriorityOutOfRange", [](FileRequest& r) { r.priority = -1; },
                  "priority: -1 is outside [0, 1000]"},
        LimitCase{"RequestIdTooLong",
                  [](FileRequest& r) { r.request_id = std::string(129, 'x'); },
                  "request_id: 129 bytes; at most 128 are allowed"},
        LimitCase{"BadGeometry",
                  [](FileRequest& r) {
                    r.volumes[1].volume.footprint =
                        geo::test_util::LocalPolygon(
                            kZurich, {{0, 0}, {100, 100}, {100, 0}, {0, 100}});
                  },
                  "volumes[1].volume.outline_polygon: edges 0 and 2 cross"},
        LimitCase{"FootprintTooLarge",
                  [](FileRequest& r) {
                    r.volumes[0].volume.footprint = Circle{kZurich, 30000};
                  },
                  "volumes[0].volume.outline_circle.radius_m: 30000 m encloses "
                  "2827.433 km²; at most 2500.000 km² is allowed"}),
    [](const auto& info) { return info.param.name; });

TEST_F(IntentCoreTest, OthersSeeVolumesPriorityAndStateOnly) {
  const std::string id = Accepted("op-a", {Cylinder(0)}, 3);
  absl::StatusOr<IntentView> mine = core_.Get("op-a", id);
  ASSERT_TRUE(mine.ok());
  EXPECT_TRUE(mine->owned_by_caller);
  EXPECT_EQ(mine->intent.owner, "op-a");
  absl::StatusOr<IntentView> theirs = core_.Get("op-b", id);
  ASSERT_TRUE(theirs.ok());
  EXPECT_FALSE(theirs->owned_by_caller);
  EXPECT_EQ(theirs->intent.owner, "");
  EXPECT_EQ(theirs->intent.priority, 3);
  EXPECT_EQ(theirs->intent.volumes.size(), 1u);
  EXPECT_EQ(core_.Get("op-a", "missing").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(IntentCoreTest, QueryFindsLiveIntentsInTheArea) {
  const std::string a = Accepted("op-a", {Cylinder(0)});
  const std::string b = Accepted("op-b", {Cylinder(400)});
  const std::string far = Accepted("op-c", {Cylinder(20000)});
  const std::string ended = Accepted("op-a", {Cylinder(800)});
  ASSERT_TRUE(Move("op-a", ended, 1, IntentState::kActivated)->accepted());
  ASSERT_TRUE(Move("op-a", ended, 2, IntentState::kEnded)->accepted());
  const std::vector<IntentView> found =
      core_.Query("op-a", Cylinder(400, 1000, 0, 60, 0, 1000));
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].intent.id, a);
  EXPECT_TRUE(found[0].owned_by_caller);
  EXPECT_EQ(found[1].intent.id, b);
  EXPECT_EQ(found[1].intent.owner, "");
  (void)far;
}

class DurableIntentCoreTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(testing::TempDir()) /
           absl::StrCat(
               "intents-", getpid(), "-",
               testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    Reopen();
  }
  void TearDown() override {
    core_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Drops the core and its store, as a restart does, and recovers.
  void Reopen() {
    core_.reset();
    store_.reset();
    store::StoreOptions options;
    options.dir = dir_.string();
    store_ = *store::OpenStore(options);
    core_ = std::make_unique<IntentCore>(IntentOptions(), &clock_, nullptr,
                                         store_.get());
    ASSERT_TRUE(core_->Recover().ok());
  }

  SimulatedClock clock_{kNow};
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<IntentCore> core_;
};

TEST_F(DurableIntentCoreTest, EverythingSurvivesARestart) {
  absl::StatusOr<WriteOutcome> a =
      core_->File("op-a", {"req-a", 2, {Cylinder(0), Cylinder(700)}});
  ASSERT_TRUE(a.ok() && a->accepted());
  const std::string id = a->intent->id;
  ASSERT_TRUE(
      core_->Transition("op-a", {"", id, 1, IntentState::kActivated, {}})
          ->accepted());
  absl::StatusOr<WriteOutcome> rejected =
      core_->File("op-b", {"req-b", 0, {Cylinder(10)}});
  ASSERT_TRUE(rejected.ok() && !rejected->accepted());
  absl::StatusOr<WriteOutcome> gone =
      core_->File("op-c", {"", 0, {Cylinder(5000)}});
  ASSERT_TRUE(gone.ok() && gone->accepted());
  ASSERT_TRUE(
      core_
          ->Transition("op-c",
                       {"", gone->intent->id, 1, IntentState::kCancelled, {}})
          ->accepted());

  Reopen();

  absl::StatusOr<IntentView> back = core_->Get("op-a", id);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->intent.state, IntentState::kActivated);
  EXPECT_EQ(back->intent.version, 2);
  EXPECT_EQ(back->intent.priority, 2);
  EXPECT_EQ(back->intent.owner, "op-a");
  ASSERT_EQ(back->intent.volumes.size(), 2u);
  EXPECT_FALSE(geo::Intersect(back->intent.volumes[1], Cylinder(0)));
  EXPECT_TRUE(geo::Intersect(back->intent.volumes[0], Cylinder(0)));
  EXPECT_EQ(back->intent.created, kNow);
  EXPECT_EQ(core_->live_count(), 1u);
  // The airspace is rebuilt: the live intent still blocks, the cancelled
  // one does not.
  EXPECT_FALSE(core_->File("op-d", {"", 0, {Cylinder(20)}})->accepted());
  EXPECT_TRUE(core_->File("op-d", {"", 0, {Cylinder(5000)}})->accepted());
  // Retries after the restart replay the first answers.
  absl::StatusOr<WriteOutcome> retry =
      core_->File("op-a", {"req-a", 2, {Cylinder(0), Cylinder(700)}});
  ASSERT_TRUE(retry.ok() && retry->accepted());
  EXPECT_EQ(retry->intent->id, id);
  EXPECT_EQ(retry->intent->version, 1);  // as first answered
  absl::StatusOr<WriteOutcome> retry_b =
      core_->File("op-b", {"req-b", 0, {Cylinder(10)}});
  ASSERT_TRUE(retry_b.ok());
  ASSERT_EQ(retry_b->conflicts.size(), 1u);
  EXPECT_EQ(retry_b->conflicts[0].intent_id, id);
  EXPECT_EQ(retry_b->conflicts[0].overlaps[0].altitude.upper_m, 620);
}

TEST_F(DurableIntentCoreTest, ExpiredRequestIdsAreForgottenAcrossRestarts) {
  ASSERT_TRUE(core_->File("op-a", {"req", 0, {Cylinder(0)}})->accepted());
  clock_.Advance(absl::Hours(25));
  Reopen();
  // Forgotten: the same id now files a new intent (elsewhere, later).
  absl::StatusOr<WriteOutcome> again =
      core_->File("op-a", {"req", 0, {Cylinder(3000, 100, 1510, 1520)}});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->accepted());
  // (The first intent ended 24 h 20 min ago: forgotten too.)
  EXPECT_EQ(core_->live_count(), 1u);
}

// Intents are forgotten a retention time after they are over — ended or
// cancelled, or past their last volume — in memory and in the store;
// nothing else is.
TEST_F(DurableIntentCoreTest, IntentsAreForgottenOnceOverForTheRetention) {
  // Over by time 40 min from now; ended after 5 min; long-lived.
  const std::string by_time =
      core_->File("op-a", {"", 0, {Cylinder(0)}})->intent->id;
  const std::string ended =
      core_->File("op-b", {"", 0, {Cylinder(1000)}})->intent->id;
  const std::string lasting =
      core_->File("op-c", {"", 0, {Cylinder(2000, 100, 60 * 23, 60 * 47 - 10)}})
          ->intent->id;
  clock_.Advance(absl::Minutes(5));
  ASSERT_TRUE(
      core_->Transition("op-b", {"", ended, 1, IntentState::kActivated, {}})
          ->accepted());
  ASSERT_TRUE(core_->Transition("op-b", {"", ended, 2, IntentState::kEnded, {}})
                  ->accepted());

  // 24 h after the end: the ended one goes at the next write; the one over
  // by time (40 min) is not due yet.
  clock_.Advance(absl::Hours(24) + absl::Seconds(1));
  ASSERT_TRUE(
      core_->File("op-d", {"", 0, {Cylinder(9000, 100, 60 * 25, 60 * 25 + 10)}})
          ->accepted());
  EXPECT_EQ(core_->Get("op-b", ended).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(core_->Get("op-a", by_time).ok());
  // Past 24 h after its volume ended: forgotten, its airspace free.
  clock_.Advance(absl::Minutes(36));
  ASSERT_TRUE(
      core_->File("op-e", {"", 0, {Cylinder(9000, 100, 60 * 25, 60 * 25 + 10)}})
          .ok());
  EXPECT_EQ(core_->Get("op-a", by_time).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(core_->Get("op-c", lasting).ok());
  // And in the store (deleted with the write that forgot them).
  std::set<std::string> stored;
  ASSERT_TRUE(store_
                  ->Scan("intents",
                         [&](absl::string_view key, absl::string_view) {
                           stored.insert(std::string(key));
                         })
                  .ok());
  EXPECT_FALSE(stored.count(by_time) > 0);
  EXPECT_FALSE(stored.count(ended) > 0);
  EXPECT_TRUE(stored.count(lasting) > 0);
  Reopen();
  EXPECT_EQ(core_->Get("op-a", by_time).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(core_->Get("op-b", ended).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(core_->Get("op-c", lasting).ok());
}

// An operator can fly without anything being retained: the intent and its
// request records never reach the store, it deconflicts like any other, it
// is forgotten as soon as it ends, and a restart does not know it.
TEST_F(DurableIntentCoreTest, NoRetentionIntentNeverReachesTheStore) {
  auto stored_keys = [&](const char* table) {
    std::set<std::string> keys;
    EXPECT_TRUE(store_
                    ->Scan(table,
                           [&](absl::string_view key, absl::string_view) {
                             keys.insert(std::string(key));
                           })
                    .ok());
    return keys;
  };
  FileRequest quiet{"quiet-1", 0, {Cylinder(0)}, /*retain=*/false};
  absl::StatusOr<WriteOutcome> filed = core_->File("op-q", quiet);
  ASSERT_TRUE(filed.ok() && filed->accepted());
  const std::string id = filed->intent->id;
  EXPECT_FALSE(filed->intent->retained);
  // Idempotent all the same (in memory).
  EXPECT_EQ(core_->File("op-q", quiet)->intent->id, id);
  // It blocks others like any intent.
  EXPECT_FALSE(core_->File("op-r", {"", 0, {Cylinder(20)}})->accepted());
  // A refused modification by request id leaves no record either.
  ModifyRequest grow{"quiet-2", id, 1, 0, {Cylinder(0, 100)}};
  ASSERT_TRUE(core_->File("op-s", {"", 5, {Cylinder(300)}})->accepted());
  grow.volumes = {Cylinder(0, 400)};
  ASSERT_FALSE(core_->Modify("op-q", grow)->accepted());
  ASSERT_TRUE(
      core_->Transition("op-q", {"quiet-3", id, 1, IntentState::kActivated, {}})
          ->accepted());
  EXPECT_FALSE(stored_keys("intents").count(id));
  for (const std::string& k : stored_keys("requests")) {
    EXPECT_EQ(k.find("op-q"), std::string::npos) << "a request record of op-q";
  }
  // Ended: forgotten at the next write, not 24 h later.
  ASSERT_TRUE(core_->Transition("op-q", {"", id, 2, IntentState::kEnded, {}})
                  ->accepted());
  ASSERT_TRUE(core_->File("op-t", {"", 0, {Cylinder(5000)}})->accepted());
  EXPECT_EQ(core_->Get("op-q", id).status().code(),
            absl::StatusCode::kNotFound);
  Reopen();
  EXPECT_EQ(core_->Get("op-q", id).status().code(),
            absl::StatusCode::kNotFound);
}

// An operator in Local Data Mode files as without retention whatever it
// asks: nothing of its intent reaches the store; others are unaffected.
TEST_F(DurableIntentCoreTest, LocalDataModeFilesWithoutRetention) {
  core_->SetLocalDataMode(
      [](const std::string& owner) { return owner == "op-local"; });
  FileRequest asks_retain{"local-1", 0, {Cylinder(0)}, /*retain=*/true};
  absl::StatusOr<WriteOutcome> local = core_->File("op-local", asks_retain);
  ASSERT_TRUE(local.ok() && local->accepted()) << local.status();
  EXPECT_FALSE(local->intent->retained);
  absl::StatusOr<WriteOutcome> ordinary =
      core_->File("op-plain", {"plain-1", 0, {Cylinder(5000)}});
  ASSERT_TRUE(ordinary.ok() && ordinary->accepted());
  EXPECT_TRUE(ordinary->intent->retained);
  std::set<std::string> intents, requests;
  ASSERT_TRUE(store_
                  ->Scan("intents",
                         [&](absl::string_view key, absl::string_view) {
                           intents.insert(std::string(key));
                         })
                  .ok());
  ASSERT_TRUE(store_
                  ->Scan("requests",
                         [&](absl::string_view key, absl::string_view) {
                           requests.insert(std::string(key));
                         })
                  .ok());
  EXPECT_FALSE(intents.count(local->intent->id));
  EXPECT_TRUE(intents.count(ordinary->intent->id));
  for (const std::string& k : requests) {
    EXPECT_EQ(k.find("op-local"), std::string::npos) << k;
  }
  Reopen();
  EXPECT_EQ(core_->Get("op-local", local->intent->id).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(core_->Get("op-plain", ordinary->intent->id).ok());
}

TEST_F(DurableIntentCoreTest, ConcurrentWritersShareSyncs) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 50; ++i) {
        const absl::StatusOr<WriteOutcome> out = core_->File(
            absl::StrCat("op-", t), {"", 0, {Cylinder(t * 20000 + i * 300)}});
        ASSERT_TRUE(out.ok() && out->accepted());
      }
    });
  }
  for (std::thread& th : threads) th.join();
  const store::WriteStats stats = *store::GetWriteStats(*store_);
  EXPECT_EQ(stats.batches, 200);
  EXPECT_LT(stats.syncs, stats.batches);
  Reopen();
  EXPECT_EQ(core_->live_count(), 200u);
}

// Many threads filing at once never leave two overlapping equal-priority
// intents accepted: the check and the write are one step.
TEST(IntentCoreConcurrency, NoOverlapSlipsThrough) {
  SimulatedClock clock(kNow);
  IntentCore core(IntentOptions(), &clock);
  constexpr int kThreads = 4, kPerThread = 150;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&core, t] {
      std::mt19937_64 rng(1000 + t);
      for (int i = 0; i < kPerThread; ++i) {
        const double east =
            std::uniform_real_distribution<double>(0, 3000)(rng);
        const double north =
            std::uniform_real_distribution<double>(0, 3000)(rng);
        const LatLng centre = geo::GeodesicDestination(
            geo::GeodesicDestination(kZurich, 90, east), 0, north);
        Volume4D v{geo::Volume3D{Circle{centre, 80}, {500, 600}},
                   {kNow + absl::Minutes(5), kNow + absl::Minutes(65)}};
        const absl::StatusOr<WriteOutcome> out =
            core.File(absl::StrCat("op-", t), {"", 0, {v}});
        ASSERT_TRUE(out.ok()) << out.status();
      }
    });
  }
  for (std::thread& th : threads) th.join();
  const std::vector<IntentView> all =
      core.Query("x", Cylinder(1500, 5000, 0, 120, 0, 2000));
  ASSERT_EQ(all.size(), core.live_count());
  ASSERT_GT(all.size(), 20u);
  for (size_t i = 0; i < all.size(); ++i) {
    for (size_t j = i + 1; j < all.size(); ++j) {
      EXPECT_FALSE(
          geo::Intersect(all[i].intent.volumes[0], all[j].intent.volumes[0]))
          << all[i].intent.id << " and " << all[j].intent.id;
    }
  }
}

}  // namespace
}  // namespace utm::intent
