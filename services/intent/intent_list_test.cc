// IntentCore::ListOwned: an operator's own intents, filtered by state, paged
// by id, kept across restarts and dropped when forgotten.
#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/file_testing.h"
#include "services/common/store.h"
#include "services/intent/intent_core.h"

namespace utm::intent {
namespace {

using geo::test_util::kZurich;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

// A cylinder `east_m` east of Zurich, minutes 10 to 40 after `base`:
// intents 1 km apart never conflict.
geo::Volume4D Cylinder(double east_m, absl::Time base = kNow) {
  return geo::Volume4D{
      geo::Volume3D{geo::Circle{geo::GeodesicDestination(kZurich, 90, east_m),
                                100},
                    {500, 620}},
      {base + absl::Minutes(10), base + absl::Minutes(40)}};
}

std::vector<std::string> Ids(const IntentCore::OwnedPage& page) {
  std::vector<std::string> ids;
  for (const Intent& i : page.intents) ids.push_back(i.id);
  return ids;
}

class IntentListTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(testing::TempDir()) /
           absl::StrCat(
               "intent-list-",
               testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    Reopen();
  }
  void TearDown() override {
    core_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    core_.reset();
    store_.reset();
    store::StoreOptions options;
    options.dir = dir_.string();
    store_ = *store::OpenStore(options);
    core_ = std::make_unique<IntentCore>(
        IntentOptions(), &clock_,
        [this] { return absl::StrCat("intent-", ++ids_); }, store_.get());
    ASSERT_TRUE(core_->Recover().ok());
  }
  // Files an intent `east_m` east of Zurich for `owner`; returns its id.
  std::string File(const std::string& owner, double east_m) {
    absl::StatusOr<WriteOutcome> out =
        core_->File(owner, {"", 0, {Cylinder(east_m, clock_.Now())}});
    EXPECT_TRUE(out.ok() && out->accepted());
    return out.ok() && out->accepted() ? out->intent->id : "";
  }

  SimulatedClock clock_{kNow};
  int ids_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<IntentCore> core_;
};

TEST_F(IntentListTest, OnlyTheOwnersIntentsInIdOrder) {
  const std::string a1 = File("op-a", 0);     // intent-1
  const std::string b1 = File("op-b", 1000);  // intent-2
  const std::string a2 = File("op-a", 2000);  // intent-3
  // "op-a" is a prefix of "op-ab": the index must not mix them.
  const std::string ab = File("op-ab", 3000);
  EXPECT_THAT(Ids(core_->ListOwned("op-a", {}, "", 100)), ElementsAre(a1, a2));
  EXPECT_THAT(Ids(core_->ListOwned("op-b", {}, "", 100)), ElementsAre(b1));
  EXPECT_THAT(Ids(core_->ListOwned("op-ab", {}, "", 100)), ElementsAre(ab));
  EXPECT_THAT(Ids(core_->ListOwned("op-c", {}, "", 100)), IsEmpty());
  const IntentCore::OwnedPage page = core_->ListOwned("op-a", {}, "", 100);
  ASSERT_EQ(page.intents.size(), 2u);
  EXPECT_EQ(page.intents[0].owner, "op-a");
  EXPECT_EQ(page.intents[0].volumes.size(), 1u);
  EXPECT_FALSE(page.more);
}

TEST_F(IntentListTest, PagesFollowTheLastIdAndSayWhetherMoreFollow) {
  std::vector<std::string> mine;
  for (int i = 0; i < 5; ++i) {
    mine.push_back(File("op-a", 1000.0 * i));
    File("op-b", 1000.0 * i + 10000);  // interleaved, never listed
  }
  std::sort(mine.begin(), mine.end());
  IntentCore::OwnedPage page = core_->ListOwned("op-a", {}, "", 2);
  EXPECT_THAT(Ids(page), ElementsAre(mine[0], mine[1]));
  EXPECT_TRUE(page.more);
  page = core_->ListOwned("op-a", {}, mine[1], 2);
  EXPECT_THAT(Ids(page), ElementsAre(mine[2], mine[3]));
  EXPECT_TRUE(page.more);
  page = core_->ListOwned("op-a", {}, mine[3], 2);
  EXPECT_THAT(Ids(page), ElementsAre(mine[4]));
  EXPECT_FALSE(page.more);
  // Exactly a page left: no further (empty) page is promised.
  page = core_->ListOwned("op-a", {}, mine[2], 2);
  EXPECT_THAT(Ids(page), ElementsAre(mine[3], mine[4]));
  EXPECT_FALSE(page.more);
}

TEST_F(IntentListTest, StatesFilterAndTerminalOnesOnlyWhenAsked) {
  const std::string accepted = File("op-a", 0);
  const std::string activated = File("op-a", 1000);
  const std::string cancelled = File("op-a", 2000);
  ASSERT_TRUE(core_->Transition("op-a", {"", activated, 1,
                                         IntentState::kActivated, {}})
                  ->accepted());
  ASSERT_TRUE(core_->Transition("op-a", {"", cancelled, 1,
                                         IntentState::kCancelled, {}})
                  ->accepted());
  EXPECT_THAT(Ids(core_->ListOwned("op-a", {}, "", 100)),
              ElementsAre(accepted, activated));
  EXPECT_THAT(
      Ids(core_->ListOwned("op-a", {IntentState::kCancelled}, "", 100)),
      ElementsAre(cancelled));
  EXPECT_THAT(Ids(core_->ListOwned(
                  "op-a", {IntentState::kActivated, IntentState::kCancelled},
                  "", 100)),
              ElementsAre(activated, cancelled));
  // The filter applies before the page is cut: one per page, no gaps.
  IntentCore::OwnedPage page =
      core_->ListOwned("op-a", {IntentState::kAccepted,
                                IntentState::kCancelled}, "", 1);
  EXPECT_THAT(Ids(page), ElementsAre(accepted));
  EXPECT_TRUE(page.more);
  page = core_->ListOwned(
      "op-a", {IntentState::kAccepted, IntentState::kCancelled}, accepted, 1);
  EXPECT_THAT(Ids(page), ElementsAre(cancelled));
  EXPECT_FALSE(page.more);
}

TEST_F(IntentListTest, SurvivesARestartAndForgetsWhatRetentionDrops) {
  const std::string a = File("op-a", 0);
  const std::string b = File("op-a", 1000);
  ASSERT_TRUE(
      core_->Transition("op-a", {"", b, 1, IntentState::kCancelled, {}})
          ->accepted());
  Reopen();
  EXPECT_THAT(Ids(core_->ListOwned("op-a", {}, "", 100)), ElementsAre(a));
  EXPECT_THAT(Ids(core_->ListOwned("op-a", {IntentState::kCancelled}, "", 100)),
              ElementsAre(b));
  // Past the end of the flights plus the 24 h retention, a write runs the
  // forgetting: both are gone from the list as from Get.
  clock_.Advance(absl::Hours(26));
  File("op-z", 50000);
  EXPECT_FALSE(core_->Get("op-a", a).ok());
  EXPECT_THAT(Ids(core_->ListOwned("op-a", {IntentState::kAccepted,
                                            IntentState::kCancelled},
                                   "", 100)),
              IsEmpty());
}

// An operator's erasure: every intent of theirs and every request record
// they made goes, from memory and (after compaction) from the files; nobody
// else's does; a flight in progress must end first.
TEST_F(IntentListTest, EraseOwnerRemovesEverythingOfTheOwnerOnly) {
  const std::string a = File("op-a", 0);
  const std::string b = File("op-a", 1000);
  const std::string other = File("op-b", 2000);
  ASSERT_TRUE(
      core_->File("op-a", {"op-a-request-9", 0, {Cylinder(3000)}})->accepted());
  ASSERT_TRUE(core_->Transition("op-a", {"", b, 1, IntentState::kActivated, {}})
                  ->accepted());
  absl::StatusOr<int64_t> refused = core_->EraseOwner("op-a");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), ::testing::HasSubstr(absl::StrCat(
                                              "intent ", b, " is ACTIVATED")));
  EXPECT_TRUE(core_->Get("op-a", a).ok());  // nothing erased
  ASSERT_TRUE(core_->Transition("op-a", {"", b, 2, IntentState::kEnded, {}})
                  ->accepted());

  absl::StatusOr<int64_t> erased = core_->EraseOwner("op-a");
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(*erased, 3);
  EXPECT_EQ(core_->Get("op-a", a).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(
      Ids(core_->ListOwned(
          "op-a", {IntentState::kAccepted, IntentState::kEnded}, "", 100)),
      IsEmpty());
  EXPECT_TRUE(core_->Get("op-b", other).ok());
  // Its airspace is free again.
  EXPECT_TRUE(core_->File("op-c", {"", 0, {Cylinder(0)}})->accepted());
  // The request id is forgotten too: reusing it files anew.
  absl::StatusOr<WriteOutcome> again =
      core_->File("op-a", {"op-a-request-9", 0, {Cylinder(5000)}});
  ASSERT_TRUE(again.ok() && again->accepted());
  EXPECT_EQ(*core_->EraseOwner("op-a"), 1);
  EXPECT_EQ(*core_->EraseOwner("op-a"), 0);  // idempotent

  // Durable, and gone from the files once the store compacts.
  ASSERT_TRUE(store_->Compact().ok());
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(test_util::ReadFileBytes(e.path()).find("op-a"),
              std::string::npos)
        << e.path();
  }
  Reopen();
  EXPECT_EQ(core_->Get("op-a", a).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(core_->Get("op-b", other).ok());
}

}  // namespace
}  // namespace utm::intent
