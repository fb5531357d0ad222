#include "services/common/redis/redis_subscriber.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/redis/redis_client.h"
#include "tests/testing/redis_server.h"

namespace utm::redis {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

struct Inbox {
  absl::Mutex mu;
  std::vector<std::pair<std::string, std::string>> got ABSL_GUARDED_BY(mu);

  Subscriber::Handler Handler() {
    return [this](absl::string_view ch, absl::string_view payload) {
      absl::MutexLock lock(&mu);
      got.emplace_back(std::string(ch), std::string(payload));
    };
  }
  // Waits (bounded) until `n` messages arrived.
  std::vector<std::pair<std::string, std::string>> WaitFor(size_t n) {
    absl::MutexLock lock(&mu);
    auto enough = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu) {
      return got.size() >= n;
    };
    mu.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10));
    return got;
  }
};

#define REQUIRE_REDIS()                                                   \
  if (!utm::testing::RedisServerAvailable())                              \
  GTEST_SKIP() << "redis-server is not installed (/usr/bin/redis-server); " \
                  "this test needs a real one"

TEST(Subscriber, RefusesBadOptions) {
  SubscriberOptions o;
  o.client.addr = "127.0.0.1:1";
  Subscriber none(o, [](absl::string_view, absl::string_view) {});
  absl::Status s = none.Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("channels"));

  o.channels = {"a", ""};
  Subscriber empty(o, [](absl::string_view, absl::string_view) {});
  s = empty.Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("channels[1]"));

  o.channels = {"a"};
  o.client.addr = "::1:6379";
  Subscriber addr(o, [](absl::string_view, absl::string_view) {});
  s = addr.Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("addr"));

  o.client.addr = "127.0.0.1:1";
  o.dead_after = o.ping_interval;
  Subscriber ping(o, [](absl::string_view, absl::string_view) {});
  s = ping.Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("dead_after"));
}

TEST(Subscriber, DeliversMessagesOfItsChannelsInOrderBinarySafe) {
  REQUIRE_REDIS();
  auto server = utm::testing::RedisServer::Start({});
  ASSERT_TRUE(server.ok()) << server.status();
  SubscriberOptions o;
  o.client.addr = (*server)->addr();
  o.channels = {"c1", "c2"};
  Inbox inbox;
  Subscriber sub(o, inbox.Handler());
  ASSERT_TRUE(sub.Start().ok());
  ASSERT_TRUE(sub.WaitSubscribed(absl::Seconds(10))) << sub.last_error();

  ClientOptions co;
  co.addr = (*server)->addr();
  auto client = Client::Connect(co);
  ASSERT_TRUE(client.ok()) << client.status();
  const std::string binary("a\0b\r\n", 5);
  for (const auto& [ch, msg] : std::vector<std::pair<std::string, std::string>>{
           {"c1", "one"}, {"other", "never"}, {"c2", binary}, {"c1", "three"}}) {
    auto r = (*client)->Command({"PUBLISH", ch, msg});
    ASSERT_TRUE(r.ok()) << r.status();
  }
  EXPECT_THAT(inbox.WaitFor(3),
              ElementsAre(Pair("c1", "one"), Pair("c2", binary),
                          Pair("c1", "three")));
  EXPECT_EQ(sub.messages(), 3);
}

TEST(Subscriber, SubscribesAgainAfterRedisRestarts) {
  REQUIRE_REDIS();
  auto server = utm::testing::RedisServer::Start({});
  ASSERT_TRUE(server.ok()) << server.status();
  SubscriberOptions o;
  o.client.addr = (*server)->addr();
  o.channels = {"c"};
  Inbox inbox;
  Subscriber sub(o, inbox.Handler());
  ASSERT_TRUE(sub.Start().ok());
  ASSERT_TRUE(sub.WaitSubscribed(absl::Seconds(10))) << sub.last_error();
  ASSERT_TRUE((*server)->Restart().ok());

  ClientOptions co;
  co.addr = (*server)->addr();
  auto client = Client::Connect(co);
  ASSERT_TRUE(client.ok()) << client.status();
  // Published until someone hears it: PUBLISH answers how many subscribers
  // got the message, so the test sees when the subscription is back.
  int64_t receivers = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (receivers == 0 && absl::Now() < deadline) {
    auto r = (*client)->Command({"PUBLISH", "c", "after"});
    if (r.ok()) receivers = r->integer;
    if (receivers == 0) absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(receivers, 1) << "not subscribed again: " << sub.last_error();
  EXPECT_THAT(inbox.WaitFor(1), ElementsAre(Pair("c", "after")));
  EXPECT_GE(sub.subscriptions(), 2);
}

TEST(Subscriber, DropsAConnectionThatStopsAnsweringAndStopIsBounded) {
  REQUIRE_REDIS();
  auto server = utm::testing::RedisServer::Start({});
  ASSERT_TRUE(server.ok()) << server.status();
  SubscriberOptions o;
  o.client.addr = (*server)->addr();
  o.channels = {"c"};
  o.ping_interval = absl::Milliseconds(100);
  o.dead_after = absl::Milliseconds(400);
  Inbox inbox;
  Subscriber sub(o, inbox.Handler());
  ASSERT_TRUE(sub.Start().ok());
  ASSERT_TRUE(sub.WaitSubscribed(absl::Seconds(10))) << sub.last_error();
  (*server)->Stop();  // accepts, never answers
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (sub.subscribed() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_FALSE(sub.subscribed());
  EXPECT_THAT(sub.last_error(), HasSubstr("no answer"));
  const absl::Time before = absl::Now();
  sub.Stop();
  // Bounded by connect_timeout (500 ms) + poll_interval + slack.
  EXPECT_LT(absl::Now() - before, absl::Seconds(3));
  (*server)->Continue();
}

}  // namespace
}  // namespace utm::redis
