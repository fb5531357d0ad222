// An operator's erasure on replicas sharing a real Redis: one operator
// files intents (with request ids) through replica A, another operator too;
// the erasure, asked of replica B over gRPC, is refused while one of the
// operator's intents flies, then erases them through the ledger and forgets
// the ledger's history (the feed of old entries, the guards' version keys).
// Then every Redis key and every value under it is read by its type:
// nothing of the erased operator (its id, its aircraft, its intent ids, its
// request ids, the coordinates of its volumes) remains, while the other
// operator's data does; and both replicas, having reloaded, still file and
// answer. After BGREWRITEAOF (what docs/operations.md asks of the Redis
// host) the AOF files hold nothing of the operator either.
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/redis/redis_client.h"
#include "services/common/volume_convert.h"
#include "tests/data_scan_util.h"
#include "tests/redis_scan_util.h"
#include "tests/utmd_redis_fixture.h"
#include "utm/v1/operator.grpc.pb.h"

namespace utm::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kErased[] = "opERSr4Qm7Zx";
constexpr char kErasedAircraft[] = "acERSr2Lp9Kd";
constexpr char kKept[] = "opKEPr6Tn3Wb";
constexpr char kKeptAircraft[] = "acKEPr5Hd8Jc";
const geo::LatLng kErasedCentres[] = {{47.36871234, 8.53913217},
                                      {47.37192345, 8.54321987},
                                      {47.37514567, 8.54732109}};
const geo::LatLng kKeptCentre{47.38233311, 8.55366677};

// About 40 m from `p`: a volume around it overlaps one around `p`, and no
// text or binary form of its coordinates is one of `p`'s.
geo::LatLng Near(const geo::LatLng& p) {
  return {p.lat_deg + 0.0003, p.lng_deg + 0.0004};
}

class OperatorEraseRedisTest : public UtmdRedisTest {
 protected:
  grpc::Status Erase(const std::string& address, const std::string& who,
                     v1::EraseDataResponse* response) {
    auto stub = v1::OperatorService::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    v1::EraseDataRequest request;
    request.set_confirm(who);
    return stub->EraseData(
        Context(Token(who, {auth::Scope::kStrategicCoordination}),
                absl::Seconds(20))
            .get(),
        request, response);
  }

  grpc::StatusCode Get(const std::string& address, const std::string& token,
                       const std::string& id) {
    v1::GetIntentRequest get;
    get.set_intent_id(id);
    v1::GetIntentResponse got;
    return Strategic(address)
        ->GetIntent(Context(token).get(), get, &got)
        .error_code();
  }
};

TEST_F(OperatorEraseRedisTest, ErasureLeavesNothingOfTheOperatorInRedis) {
  const std::string key_file = PseudonymKeyFile('e');
  UtmdProcess* a = StartReplica({"--pseudonym-key", key_file});
  ASSERT_NE(a, nullptr);
  UtmdProcess* b = StartReplica({"--pseudonym-key", key_file});
  ASSERT_NE(b, nullptr);
  const std::string erased =
      Token(kErased, {auth::Scope::kStrategicCoordination});
  const std::string kept = Token(kKept, {auth::Scope::kStrategicCoordination});

  // Through A: two intents of each, the erased operator's third one flying.
  std::vector<std::string> erased_ids;
  const std::vector<std::string> request_ids = {
      "req-ERSr-81f3c2", "req-ERSr-92a7d4", "req-ERSr-a3b6e5"};
  for (int i = 0; i < 3; ++i) {
    erased_ids.push_back(
        File(a->address(), erased,
             CircleFiling(request_ids[i], kErasedCentres[i], kErasedAircraft)));
  }
  const std::string kept_id =
      File(a->address(), kept,
           CircleFiling("req-KEPr-1", kKeptCentre, kKeptAircraft));
  ASSERT_EQ(erased_ids.size(), 3u);
  ASSERT_FALSE(kept_id.empty());
  auto strategic_a = Strategic(a->address());
  v1::ActivateIntentRequest activate;
  activate.set_intent_id(erased_ids[2]);
  activate.set_version(1);
  v1::ActivateIntentResponse activated;
  grpc::Status s =
      strategic_a->ActivateIntent(Context(erased).get(), activate, &activated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(activated.has_intent()) << activated.DebugString();

  // Through B: refused while it flies, and nothing is erased.
  v1::EraseDataResponse report;
  s = Erase(b->address(), kErased, &report);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr(erased_ids[2]));
  EXPECT_EQ(Get(a->address(), erased, erased_ids[0]), grpc::StatusCode::OK);

  // Once it has ended, erased.
  v1::EndIntentRequest end;
  end.set_intent_id(erased_ids[2]);
  end.set_version(2);
  v1::EndIntentResponse ended;
  s = strategic_a->EndIntent(Context(erased).get(), end, &ended);
  ASSERT_TRUE(s.ok()) << s.error_message();
  report.Clear();
  s = Erase(b->address(), kErased, &report);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(report.intents_erased(), 3);

  // Both replicas serve, on a reloaded model: the erased intents are gone,
  // the other operator's is there, and filing works (in the airspace the
  // erased intents held, now free).
  for (UtmdProcess* r : {a, b}) {
    for (const std::string& id : erased_ids) {
      // A applies the erasure from the ledger as it follows it: bounded.
      grpc::StatusCode code = grpc::StatusCode::OK;
      for (int i = 0; i < 100; ++i) {
        code = Get(r->address(), erased, id);
        if (code != grpc::StatusCode::OK) break;
        absl::SleepFor(absl::Milliseconds(50));
      }
      EXPECT_EQ(code, grpc::StatusCode::NOT_FOUND) << r->address() << " " << id;
    }
    EXPECT_EQ(Get(r->address(), kept, kept_id), grpc::StatusCode::OK)
        << r->address();
  }
  EXPECT_FALSE(
      File(a->address(), kept,
           CircleFiling("req-KEPr-2", Near(kErasedCentres[0]), kKeptAircraft))
          .empty());
  EXPECT_FALSE(
      File(b->address(), kept,
           CircleFiling("req-KEPr-3", Near(kErasedCentres[1]), kKeptAircraft))
          .empty());
  EXPECT_EQ(a->Terminate(), 0);
  EXPECT_EQ(b->Terminate(), 0);

  redis::ClientOptions o;
  o.addr = redis_->addr();
  absl::StatusOr<std::unique_ptr<redis::Client>> c = redis::Client::Connect(o);
  ASSERT_TRUE(c.ok()) << c.status();
  std::vector<test_util::Haystack> all = {
      {"Redis", test_util::AllOfRedis(**c)}};

  std::vector<std::string> needles = {kErased, kErasedAircraft};
  needles.insert(needles.end(), erased_ids.begin(), erased_ids.end());
  needles.insert(needles.end(), request_ids.begin(), request_ids.end());
  for (const geo::LatLng& p : kErasedCentres) {
    for (double deg : {p.lat_deg, p.lng_deg}) {
      for (std::string& f : test_util::CoordinateForms(deg)) {
        needles.push_back(f);
      }
    }
  }
  for (const std::string& needle : needles) {
    EXPECT_THAT(test_util::FoundIn(all, needle), IsEmpty())
        << "found " << test_util::Printable(needle);
  }
  // The scan finds the other operator's: its id, aircraft, intent and
  // request id, in the ledger's tables.
  for (const std::string& mine :
       {std::string(kKept), std::string(kKeptAircraft), kept_id,
        std::string("req-KEPr-1")}) {
    EXPECT_THAT(test_util::FoundIn(all, mine), Contains("Redis")) << mine;
  }

  // What the Redis host must do (docs/operations.md): rewrite the AOF, after
  // which its files hold the current data only.
  // (Commands rather than an RDB preamble, so that the files can be read.)
  absl::StatusOr<redis::Reply> plain =
      (*c)->Command({"CONFIG", "SET", "aof-use-rdb-preamble", "no"});
  ASSERT_TRUE(plain.ok() && !plain->is_error());
  absl::StatusOr<redis::Reply> rewrite = (*c)->Command({"BGREWRITEAOF"});
  ASSERT_TRUE(rewrite.ok()) << rewrite.status();
  ASSERT_FALSE(rewrite->is_error()) << rewrite->str;
  bool done = false;
  for (int i = 0; i < 200 && !done; ++i) {
    absl::StatusOr<redis::Reply> info = (*c)->Command({"INFO", "persistence"});
    ASSERT_TRUE(info.ok()) << info.status();
    done = absl::StrContains(info->str, "aof_rewrite_in_progress:0") &&
           absl::StrContains(info->str, "aof_rewrite_scheduled:0") &&
           absl::StrContains(info->str, "aof_last_bgrewrite_status:ok");
    if (!done) absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(done);
  // Redis deletes the replaced files right after the rewrite; give it a
  // bounded moment.
  std::vector<test_util::Haystack> files;
  for (int i = 0; i < 100; ++i) {
    files.clear();
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(dir_ / "redis")) {
      if (!entry.is_regular_file()) continue;
      const std::string name = entry.path().filename().string();
      if (!absl::StrContains(name, "appendonly")) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      files.push_back({entry.path().string(),
                       std::string(std::istreambuf_iterator<char>(in), {})});
    }
    if (test_util::FoundIn(files, kErased).empty()) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_FALSE(files.empty());
  for (const std::string& needle : needles) {
    EXPECT_THAT(test_util::FoundIn(files, needle), IsEmpty())
        << "found " << test_util::Printable(needle);
  }
  EXPECT_THAT(test_util::FoundIn(files, kKept), Not(IsEmpty()));
}

}  // namespace
}  // namespace utm::testing
