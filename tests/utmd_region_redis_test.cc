// Data residency of a shared Redis: the first replica started with --region
// marks the Redis with its region ({utm}:region); replicas of another region,
// and replicas without --region, are then refused at start-up (exit 1, one
// line naming the Redis and both regions) and change nothing in it. An
// unmarked Redis (used without a region before) is judged by its records:
// claimed when they all lie inside the region, refused naming the first
// that does not, and left unmarked.
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/latlng.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/redis/redis_client.h"
#include "tests/redis_scan_util.h"
#include "tests/utmd_redis_fixture.h"

namespace utm::testing {
namespace {

using ::testing::HasSubstr;

// Two regions, as GeoJSON: EU-CH a box around Zurich, EU-DE one to the
// north-east of it.
constexpr char kEuCh[] = R"({"type": "Polygon", "coordinates":
  [[[8.0, 47.0], [9.0, 47.0], [9.0, 47.8], [8.0, 47.8], [8.0, 47.0]]]})";
constexpr char kEuDe[] = R"({"type": "Polygon", "coordinates":
  [[[9.5, 48.0], [10.5, 48.0], [10.5, 49.0], [9.5, 49.0], [9.5, 48.0]]]})";
const geo::LatLng kInCh{47.4, 8.3};
const geo::LatLng kInDe{48.5, 10.0};
constexpr char kMarker[] = "{utm}:region";

class UtmdRegionRedisTest : public UtmdRedisTest {
 protected:
  void SetUp() override {
    UtmdRedisTest::SetUp();
    if (IsSkipped()) return;
    for (const auto& [code, geojson] :
         {std::pair<std::string, const char*>{"EU-CH", kEuCh},
          std::pair<std::string, const char*>{"EU-DE", kEuDe}}) {
      const std::string path = (dir_ / (code + ".geojson")).string();
      std::ofstream(path) << geojson;
      serving_[code] = {"--region", code, "--region-boundary", path};
    }
    client_options_.addr = redis_->addr();
  }

  std::vector<std::string> Serving(const std::string& code) {
    return serving_[code];
  }

  // The marker's value; "(none)" when it is not set.
  std::string Marker() {
    absl::StatusOr<std::unique_ptr<redis::Client>> c =
        redis::Client::Connect(client_options_);
    EXPECT_TRUE(c.ok()) << c.status();
    if (!c.ok()) return "";
    absl::StatusOr<redis::Reply> r = (*c)->Command({"GET", kMarker});
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return "";
    return r->type == redis::Reply::Type::kString ? r->str : "(none)";
  }

  // Everything in Redis, every key and value.
  std::string Everything() {
    absl::StatusOr<std::unique_ptr<redis::Client>> c =
        redis::Client::Connect(client_options_);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? test_util::AllOfRedis(**c) : "";
  }

  // A replica start that must be refused: its error names `expected`.
  void ExpectRefused(const std::string& what, std::vector<std::string> flags,
                     const std::string& expected) {
    absl::StatusOr<std::unique_ptr<UtmdProcess>> p =
        TryStartReplica(std::move(flags));
    ASSERT_FALSE(p.ok()) << what << ": started";
    EXPECT_THAT(std::string(p.status().message()), HasSubstr(expected)) << what;
  }

  std::string Operator() {
    return Token("opREGr", {auth::Scope::kStrategicCoordination});
  }

  std::map<std::string, std::vector<std::string>> serving_;
  redis::ClientOptions client_options_;
};

TEST_F(UtmdRegionRedisTest, MarkedByTheFirstRegionAndRefusedToOthers) {
  UtmdProcess* ch = StartReplica(Serving("EU-CH"));
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(Marker(), "EU-CH");
  const std::string id =
      File(ch->address(), Operator(), CircleFiling("req-1", kInCh, "acREG1"));
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(ch->Terminate(), 0);

  const std::string before = Everything();
  const std::string redis = absl::StrCat("Redis at ", redis_->addr());
  ExpectRefused("EU-DE", Serving("EU-DE"),
                absl::StrCat(redis, " is kept under region EU-CH (", kMarker,
                             "); this deployment serves region EU-DE"));
  ExpectRefused("no --region", {},
                absl::StrCat(redis, " is kept under region EU-CH (", kMarker,
                             "); this deployment serves no region"));
  EXPECT_TRUE(Everything() == before) << "a refused replica changed Redis";

  // Its own region's replicas start, and serve what it holds.
  UtmdProcess* again = StartReplica(Serving("EU-CH"));
  ASSERT_NE(again, nullptr);
  auto strategic = Strategic(again->address());
  v1::GetIntentRequest get;
  get.set_intent_id(id);
  v1::GetIntentResponse got;
  grpc::Status s = strategic->GetIntent(Context(Operator()).get(), get, &got);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(got.intent().id(), id);
}

TEST_F(UtmdRegionRedisTest, UnmarkedRedisWithRecordsInsideIsClaimed) {
  UtmdProcess* anywhere = StartReplica();
  ASSERT_NE(anywhere, nullptr);
  ASSERT_FALSE(File(anywhere->address(), Operator(),
                    CircleFiling("req-1", kInCh, "acREG1"))
                   .empty());
  EXPECT_EQ(anywhere->Terminate(), 0);
  EXPECT_EQ(Marker(), "(none)") << "marked by a replica without a region";

  ASSERT_NE(StartReplica(Serving("EU-CH")), nullptr);
  EXPECT_EQ(Marker(), "EU-CH");
}

TEST_F(UtmdRegionRedisTest, UnmarkedRedisWithARecordOutsideIsRefused) {
  UtmdProcess* anywhere = StartReplica();
  ASSERT_NE(anywhere, nullptr);
  const std::string inside =
      File(anywhere->address(), Operator(), CircleFiling("req-1", kInCh, "a1"));
  const std::string outside =
      File(anywhere->address(), Operator(), CircleFiling("req-2", kInDe, "a2"));
  ASSERT_FALSE(inside.empty());
  ASSERT_FALSE(outside.empty());
  EXPECT_EQ(anywhere->Terminate(), 0);

  const std::string before = Everything();
  ExpectRefused(
      "EU-CH", Serving("EU-CH"),
      absl::StrCat("Redis at ", redis_->addr(), " holds intent ", outside,
                   ", written without a region, whose "
                   "volumes[0] lies outside region EU-CH"));
  EXPECT_EQ(Marker(), "(none)");
  EXPECT_TRUE(Everything() == before) << "a refused replica changed Redis";
}

}  // namespace
}  // namespace utm::testing
