#include "sim/foreign_traffic.h"

#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::sim {
namespace {

using ::testing::ElementsAre;

v1::IntentRejection Meets(std::vector<std::string> intents,
                          std::vector<std::string> constraints = {}) {
  v1::IntentRejection r;
  for (const std::string& id : intents) {
    r.add_conflicts()->mutable_intent()->set_id(id);
  }
  for (const std::string& id : constraints) {
    r.add_conflicts()->mutable_constraint()->set_id(id);
  }
  return r;
}

TEST(ClassifyRejections, OwnWhenAnyConflictIsWithThisRunsIntents) {
  const std::vector<std::optional<v1::IntentRejection>> rejections = {
      std::nullopt,                   // filed
      Meets({"mine-1"}),              // own
      Meets({"other-9", "mine-1"}),   // own: meets one of ours too
      Meets({"other-9"}),             // foreign
      Meets({}, {"tfr-1"}),           // foreign: a constraint
      Meets({"other-9", "other-8"}),  // foreign
      v1::IntentRejection(),          // no conflict listed: own
  };
  const ForeignTraffic f =
      ClassifyRejections(rejections, {"mine-0", "", "mine-1"}, 20);
  EXPECT_EQ(f.own, 3);
  EXPECT_EQ(f.foreign, 3);
  EXPECT_THAT(f.foreign_flags, ElementsAre(0, 0, 0, 1, 1, 1, 0));
  EXPECT_THAT(f.met, ElementsAre("intent other-9", "constraint tfr-1",
                                 "intent other-8"));
}

TEST(ClassifyRejections, ListsAtMostMaxListed) {
  std::vector<std::optional<v1::IntentRejection>> rejections;
  for (int i = 0; i < 5; ++i) {
    rejections.push_back(Meets({"other-" + std::to_string(i)}));
  }
  const ForeignTraffic f = ClassifyRejections(rejections, {}, 2);
  EXPECT_EQ(f.foreign, 5);
  EXPECT_THAT(f.met, ElementsAre("intent other-0", "intent other-1"));
}

TEST(ClassifyRejections, AnEmptyIdOfOursNeverMakesARejectionOwn) {
  const ForeignTraffic f =
      ClassifyRejections({Meets({""})}, {"", "mine-1"}, 20);
  EXPECT_EQ(f.foreign, 1);
  EXPECT_EQ(f.own, 0);
}

}  // namespace
}  // namespace utm::sim
