#include "services/utmd/flags.h"

#include <sys/stat.h>

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::utmd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ParseServices, TakesAnySubsetInAnyOrder) {
  absl::StatusOr<ServiceSet> all =
      ParseServices("telemetry,remoteid,registry,operator,intent,constraint");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_TRUE(all->intent && all->constraint && all->telemetry &&
              all->remoteid && all->registry && all->operator_data);
  absl::StatusOr<ServiceSet> one = ParseServices("telemetry");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_FALSE(one->intent);
  EXPECT_FALSE(one->constraint);
  EXPECT_TRUE(one->telemetry);
  EXPECT_FALSE(one->remoteid);
  EXPECT_FALSE(one->registry);
  EXPECT_FALSE(one->operator_data);
  absl::StatusOr<ServiceSet> two = ParseServices("intent,constraint,intent");
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_TRUE(two->intent && two->constraint);
  EXPECT_FALSE(two->telemetry);
  EXPECT_FALSE(two->remoteid);
}

TEST(ParseServices, NamesTheBadItem) {
  struct Case {
    std::string list;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"intent,telemtry",
            "--services: unknown service \"telemtry\" (item 2); expected "
            "intent, constraint, telemetry, remoteid, registry or operator"},
           {"", "--services: empty service (item 1)"},
           {"intent,,telemetry", "--services: empty service (item 2)"},
           {"Intent", "unknown service \"Intent\" (item 1)"},
           {std::string(500, 'x'), "\"xxxxxxxx"},
       }) {
    absl::StatusOr<ServiceSet> s = ParseServices(c.list);
    ASSERT_FALSE(s.ok()) << c.list;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.status().message(), HasSubstr(c.message));
    EXPECT_LT(s.status().message().size(), 200u) << "bounded";
  }
}

RedisFlags Redis() {
  RedisFlags f;
  f.store = "redis";
  return f;
}

TEST(RedisLedgerOptionsFrom, OneAddressOrSentinelsWithAMaster) {
  RedisFlags f = Redis();
  f.addr = "10.0.0.5:6379";
  f.wait_replicas = 2;
  absl::StatusOr<ledger::RedisLedgerOptions> o = RedisLedgerOptionsFrom(f);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->client.addr, "10.0.0.5:6379");
  EXPECT_TRUE(o->client.sentinels.empty());
  EXPECT_EQ(o->wait_replicas, 2);

  f = Redis();
  f.sentinels = "s1:26379,[::1]:26380";
  f.master = "utm-prod";
  o = RedisLedgerOptionsFrom(f);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_THAT(o->client.sentinels, ElementsAre("s1:26379", "[::1]:26380"));
  EXPECT_EQ(o->client.master_name, "utm-prod");
}

TEST(RedisLedgerOptionsFrom, RefusesWhatCannotWork) {
  struct Case {
    const char* name;
    RedisFlags flags;
    std::string message;
  };
  RedisFlags none = Redis();
  RedisFlags both = Redis();
  both.addr = "a:1";
  both.sentinels = "b:2";
  both.master = "m";
  RedisFlags no_master = Redis();
  no_master.sentinels = "b:2";
  RedisFlags master_only = Redis();
  master_only.addr = "a:1";
  master_only.master = "m";
  RedisFlags bad_addr = Redis();
  bad_addr.addr = "redis";
  RedisFlags bad_sentinel = Redis();
  bad_sentinel.sentinels = "b:2,c";
  bad_sentinel.master = "m";
  RedisFlags user_only = Redis();
  user_only.addr = "a:1";
  user_only.user = "utmd";
  for (const Case& c : std::vector<Case>{
           {"none", none, "--store redis needs --redis HOST:PORT or "
                          "--redis-sentinels"},
           {"both", both, "--redis and --redis-sentinels exclude each other"},
           {"no master", no_master, "--redis-sentinels needs --redis-master"},
           {"master only", master_only,
            "--redis-master goes with --redis-sentinels"},
           {"bad addr", bad_addr, "--redis \"redis\": missing :port"},
           {"bad sentinel", bad_sentinel,
            "--redis-sentinels[1] \"c\": missing :port"},
           {"user only", user_only, "--redis-user needs --redis-password-file"},
       }) {
    absl::StatusOr<ledger::RedisLedgerOptions> o =
        RedisLedgerOptionsFrom(c.flags);
    ASSERT_FALSE(o.ok()) << c.name;
    EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(o.status().message(), HasSubstr(c.message)) << c.name;
  }
}

TEST(RedisLedgerOptionsFrom, ReadsThePasswordFileAndNamesItsFlag) {
  const std::string dir = ::testing::TempDir();
  const std::string path = dir + "/utmd-flags-test-password";
  {
    std::ofstream out(path);
    out << "s3cret\n";
  }
  RedisFlags f = Redis();
  f.addr = "a:1";
  f.password_file = path;
  f.user = "utmd";
  absl::StatusOr<ledger::RedisLedgerOptions> o = RedisLedgerOptionsFrom(f);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->client.password, "s3cret");
  EXPECT_EQ(o->client.username, "utmd");

  // A short path: the message quotes at most 64 bytes of it, and a test's
  // temporary directory may be long (Bazel's sandbox).
  f.password_file = "/nonexistent/utmd-flags-test-no-such-file";
  o = RedisLedgerOptionsFrom(f);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(o.status().message(),
              HasSubstr("--redis-password-file: "));
  EXPECT_THAT(o.status().message(), HasSubstr("utmd-flags-test-no-such-file"));

  { std::ofstream out(path, std::ios::trunc); }
  f.password_file = path;
  o = RedisLedgerOptionsFrom(f);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(o.status().message(), HasSubstr("--redis-password-file: "));
}

TEST(RedisLedgerOptionsFrom, SentinelPasswordAndTimeouts) {
  const std::string path =
      ::testing::TempDir() + "/utmd-flags-test-sentinel-password";
  {
    std::ofstream out(path);
    out << "watchful\n";
  }
  RedisFlags f = Redis();
  f.sentinels = "s1:26379,s2:26379";
  f.master = "utm";
  f.sentinel_password_file = path;
  f.connect_timeout_s = 0.25;
  f.command_timeout_s = 5;
  absl::StatusOr<ledger::RedisLedgerOptions> o = RedisLedgerOptionsFrom(f);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->client.sentinel_password, "watchful");
  EXPECT_EQ(o->client.connect_timeout, absl::Milliseconds(250));
  EXPECT_EQ(o->client.command_timeout, absl::Seconds(5));

  // Unset timeouts keep the client's defaults.
  f.connect_timeout_s = 0;
  f.command_timeout_s = 0;
  o = RedisLedgerOptionsFrom(f);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->client.connect_timeout, redis::ClientOptions().connect_timeout);
  EXPECT_EQ(o->client.command_timeout, redis::ClientOptions().command_timeout);

  // Out of range, naming the flag.
  f.command_timeout_s = -1;
  o = RedisLedgerOptionsFrom(f);
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(o.status().message(), HasSubstr("--redis-command-timeout: -1 s"));
  f.command_timeout_s = 0;
  f.connect_timeout_s = 61;
  o = RedisLedgerOptionsFrom(f);
  EXPECT_THAT(o.status().message(), HasSubstr("--redis-connect-timeout: 61 s"));

  // The sentinels' password goes with sentinels only.
  RedisFlags direct = Redis();
  direct.addr = "a:1";
  direct.sentinel_password_file = path;
  o = RedisLedgerOptionsFrom(direct);
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(o.status().message(),
              HasSubstr("--redis-sentinel-password-file goes with "
                        "--redis-sentinels"));
}

TEST(AnyRedisFlag, SeesEachFlag) {
  RedisFlags f;
  f.store = "embedded";
  EXPECT_FALSE(AnyRedisFlag(f));
  f.master = "m";
  EXPECT_TRUE(AnyRedisFlag(f));
  RedisFlags timeout;
  timeout.command_timeout_s = 3;
  EXPECT_TRUE(AnyRedisFlag(timeout));
  RedisFlags sentinel_password;
  sentinel_password.sentinel_password_file = "p";
  EXPECT_TRUE(AnyRedisFlag(sentinel_password));
}

}  // namespace
}  // namespace utm::utmd
