// The Redis client against a real redis-server (and Sentinel) started by the
// fixture in tests/testing/redis_server.h, on loopback ports.
#include "services/common/redis/redis_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/redis_server.h"

namespace utm::redis {
namespace {

using ::testing::HasSubstr;
using ::utm::testing::RedisServer;
using ::utm::testing::RedisServerAvailable;
using ::utm::testing::RedisServerOptions;

#define SKIP_WITHOUT_REDIS()                                         \
  if (!RedisServerAvailable())                                       \
  GTEST_SKIP() << "/usr/bin/redis-server is not installed (package " \
                  "redis-server); skipping a test that needs it"

std::unique_ptr<RedisServer> StartServer(RedisServerOptions options = {}) {
  absl::StatusOr<std::unique_ptr<RedisServer>> server =
      RedisServer::Start(std::move(options));
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

ClientOptions OptionsFor(const RedisServer& server) {
  ClientOptions options;
  options.addr = server.addr();
  return options;
}

std::unique_ptr<Client> ConnectTo(const ClientOptions& options) {
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? std::move(*client) : nullptr;
}

// A loopback port that refuses connections for as long as the returned
// socket lives (bound, never listening).
struct RefusingPort {
  int fd = -1;
  int port = 0;
  RefusingPort() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(a);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length) == 0) {
      port = ntohs(a.sin_port);
    }
  }
  ~RefusingPort() { ::close(fd); }
};

TEST(Client, RejectsBadOptionsNamingTheField) {
  ClientOptions options;
  options.addr = "localhost";
  absl::StatusOr<std::unique_ptr<Client>> c = Client::Connect(options);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("addr \"localhost\": missing :port"));

  options.addr = "127.0.0.1:6379";
  options.command_timeout = absl::ZeroDuration();
  c = Client::Connect(options);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("command_timeout: must be positive"));

  options.command_timeout = absl::Seconds(1);
  options.sentinels = {"127.0.0.1:26379", "bad"};
  c = Client::Connect(options);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("sentinels[1] \"bad\""));
}

// ------------------------------------------------------------ commands

TEST(Client, SetGetBinarySafe) {
  SKIP_WITHOUT_REDIS();
  std::unique_ptr<RedisServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = ConnectTo(OptionsFor(*server));
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->address(), server->addr());

  const std::string key("k\0ey\r\n", 6);
  std::string value("\0\xff\r\n$3\r\n*", 10);
  value += std::string(100000, '\0');
  absl::StatusOr<Reply> set = client->Command({"SET", key, value});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->type, Reply::Type::kStatus);
  EXPECT_EQ(set->str, "OK");

  absl::StatusOr<Reply> get = client->Command({"GET", key});
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->type, Reply::Type::kString);
  EXPECT_EQ(get->str, value);

  absl::StatusOr<Reply> strlen = client->Command({"STRLEN", key});
  ASSERT_TRUE(strlen.ok());
  EXPECT_EQ(strlen->type, Reply::Type::kInteger);
  EXPECT_EQ(strlen->integer, static_cast<int64_t>(value.size()));

  absl::StatusOr<Reply> nil = client->Command({"GET", "absent"});
  ASSERT_TRUE(nil.ok());
  EXPECT_TRUE(nil->is_nil());

  EXPECT_EQ(client->Command({}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client->round_trips(), 4);
}

TEST(Client, ConnectsOverIpv6) {
  SKIP_WITHOUT_REDIS();
  RedisServerOptions server_options;
  // "-::1": bind ::1 too, where the machine has it.
  server_options.extra_args = {"--bind", "127.0.0.1", "-::1"};
  std::unique_ptr<RedisServer> server = StartServer(server_options);
  ASSERT_NE(server, nullptr);
  ClientOptions options;
  options.addr = absl::StrCat("[::1]:", server->port());
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  if (!client.ok() && absl::IsUnavailable(client.status())) {
    GTEST_SKIP() << "no IPv6 loopback here: " << client.status();
  }
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->address(), options.addr);
  absl::StatusOr<Reply> ping = (*client)->Command({"PING"});
  ASSERT_TRUE(ping.ok()) << ping.status();
  EXPECT_EQ(ping->str, "PONG");
}

TEST(Client, PipelineIsOneRoundTripWithRepliesInOrder) {
  SKIP_WITHOUT_REDIS();
  std::unique_ptr<RedisServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = ConnectTo(OptionsFor(*server));
  ASSERT_NE(client, nullptr);

  std::vector<std::vector<std::string>> commands;
  for (int i = 0; i < 200; ++i) commands.push_back({"RPUSH", "list", absl::StrCat(i)});
  commands.push_back({"HSET", "list", "f", "v"});  // wrong type, mid-pipeline
  commands.push_back({"LRANGE", "list", "0", "2"});
  const int64_t before = client->round_trips();
  absl::StatusOr<std::vector<Reply>> replies = client->Pipeline(commands);
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ(client->round_trips(), before + 1);
  ASSERT_EQ(replies->size(), commands.size());
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ((*replies)[i].type, Reply::Type::kInteger);
    EXPECT_EQ((*replies)[i].integer, i + 1);
  }
  EXPECT_TRUE((*replies)[200].is_error());
  EXPECT_THAT((*replies)[200].str, HasSubstr("WRONGTYPE"));
  const Reply& range = (*replies)[201];
  ASSERT_EQ(range.type, Reply::Type::kArray);
  ASSERT_EQ(range.elements.size(), 3u);
  EXPECT_EQ(range.elements[2].str, "2");

  absl::StatusOr<std::vector<Reply>> none = client->Pipeline({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(client->Pipeline({{"PING"}, {}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Client, ErrorRepliesAreRepliesNotStatuses) {
  SKIP_WITHOUT_REDIS();
  std::unique_ptr<RedisServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = ConnectTo(OptionsFor(*server));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Command({"SET", "s", "not a number"}).ok());

  absl::StatusOr<Reply> incr = client->Command({"INCR", "s"});
  ASSERT_TRUE(incr.ok()) << incr.status();
  EXPECT_TRUE(incr->is_error());
  EXPECT_THAT(incr->str, HasSubstr("not an integer"));

  absl::StatusOr<Reply> unknown = client->Command({"NO-SUCH-COMMAND"});
  ASSERT_TRUE(unknown.ok());
  EXPECT_TRUE(unknown->is_error());
  EXPECT_THAT(unknown->str, HasSubstr("unknown command"));

  // The connection is still good after error replies.
  absl::StatusOr<Reply> ping = client->Command({"PING"});
  ASSERT_TRUE(ping.ok());
  EXPECT_EQ(ping->str, "PONG");
  EXPECT_TRUE(client->connected());
}

// hiredis 0.14 reads arrays nested at most 8 deep, the outermost included
// (Lua tables returned by a script or function): deeper is a protocol error,
// reported as UNAVAILABLE, and the next call starts on a fresh connection.
TEST(Client, NestedArraysUpToHiredisDepthLimit) {
  SKIP_WITHOUT_REDIS();
  std::unique_ptr<RedisServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = ConnectTo(OptionsFor(*server));
  ASSERT_NE(client, nullptr);
  auto nested = [](int depth) {
    return absl::StrCat("return ", std::string(depth, '{'), "1",
                        std::string(depth, '}'));
  };
  absl::StatusOr<Reply> eight = client->Command({"EVAL", nested(8), "0"});
  ASSERT_TRUE(eight.ok()) << eight.status();
  const Reply* r = &*eight;
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(r->type, Reply::Type::kArray) << "depth " << i;
    ASSERT_EQ(r->elements.size(), 1u);
    r = &r->elements[0];
  }
  EXPECT_EQ(r->integer, 1);

  absl::StatusOr<Reply> nine = client->Command({"EVAL", nested(9), "0"});
  EXPECT_EQ(nine.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(nine.status().message(),
              HasSubstr("no support for nested multi bulk replies"));
  absl::StatusOr<Reply> after = client->Command({"PING"});
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->str, "PONG");
}

TEST(Client, LongerTimeoutForOneBlockingCommand) {
  SKIP_WITHOUT_REDIS();
  std::unique_ptr<RedisServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  ClientOptions options = OptionsFor(*server);
  options.command_timeout = absl::Milliseconds(300);
  std::unique_ptr<Client> client = ConnectTo(options);
  ASSERT_NE(client, nullptr);
  // BLPOP waits 1 s for an empty list: too long for the 300 ms default...
  absl::StatusOr<Reply> short_wait = client->Command({"BLPOP", "empty", "1"});
  EXPECT_EQ(short_wait.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(short_wait.status().message(), HasSubstr("timed out after 300ms"));
  // ...and fine with a per-call timeout; the client reconnected by itself.
  absl::StatusOr<Reply> long_wait =
      client->Command({"BLPOP", "empty", "1"}, absl::Seconds(5));
  ASSERT_TRUE(long_wait.ok()) << long_wait.status();
  EXPECT_TRUE(long_wait->is_nil());
  EXPECT_EQ(client->Command({"PING"}, absl::ZeroDuration()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------- AUTH

TEST(Client, AuthWithRequirepass) {
  SKIP_WITHOUT_REDIS();
  RedisServerOptions server_options;
  server_options.requirepass = "correct horse";
  std::unique_ptr<RedisServer> server = StartServer(server_options);
  ASSERT_NE(server, nullptr);

  ClientOptions options = OptionsFor(*server);
  options.password = "correct horse";
  std::unique_ptr<Client> client = ConnectTo(options);
  ASSERT_NE(client, nullptr);
  absl::StatusOr<Reply> ping = client->Command({"PING"});
  ASSERT_TRUE(ping.ok());
  EXPECT_EQ(ping->str, "PONG");

  options.password = "wrong";
  absl::StatusOr<std::unique_ptr<Client>> refused = Client::Connect(options);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(refused.status().message(),
              HasSubstr(absl::StrCat("redis ", server->addr(),
                                     ": AUTH refused for user \"default\"")));
  EXPECT_THAT(refused.status().message(), HasSubstr("WRONGPASS"));

  options.password.clear();
  std::unique_ptr<Client> anonymous = ConnectTo(options);
  ASSERT_NE(anonymous, nullptr);
  absl::StatusOr<Reply> noauth = anonymous->Command({"GET", "k"});
  ASSERT_TRUE(noauth.ok()) << noauth.status();
  EXPECT_TRUE(noauth->is_error());
  EXPECT_THAT(noauth->str, HasSubstr("NOAUTH"));
}

TEST(Client, AuthWithAclUser) {
  SKIP_WITHOUT_REDIS();
  std::unique_ptr<RedisServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> admin = ConnectTo(OptionsFor(*server));
  ASSERT_NE(admin, nullptr);
  // May read and write keys utm:*, nothing else.
  absl::StatusOr<Reply> acl = admin->Command(
      {"ACL", "SETUSER", "utmd", "on", ">pw", "~utm:*", "+get", "+set"});
  ASSERT_TRUE(acl.ok());
  ASSERT_FALSE(acl->is_error()) << acl->DebugString();

  ClientOptions options = OptionsFor(*server);
  options.username = "utmd";
  options.password = "pw";
  std::unique_ptr<Client> client = ConnectTo(options);
  ASSERT_NE(client, nullptr);
  absl::StatusOr<Reply> set = client->Command({"SET", "utm:a", "1"});
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->str, "OK");
  absl::StatusOr<Reply> denied = client->Command({"SET", "other", "1"});
  ASSERT_TRUE(denied.ok());
  EXPECT_THAT(denied->str, HasSubstr("NOPERM"));

  options.password = "nope";
  absl::StatusOr<std::unique_ptr<Client>> refused = Client::Connect(options);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("AUTH refused for user \"utmd\""));
}

// -------------------------------------------------------------- faults

TEST(Client, ConnectionRefusedNamesTheAddress) {
  RefusingPort unused;
  ASSERT_NE(unused.port, 0);
  ClientOptions options;
  options.addr = absl::StrCat("127.0.0.1:", unused.port);
  absl::StatusOr<std::unique_ptr<Client>> c = Client::Connect(options);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(c.status().message(),
              HasSubstr(absl::StrCat("redis 127.0.0.1:", unused.port,
                                     ": connection refused")));

  Pool pool(options, 2);
  absl::StatusOr<Pool::Lease> lease = pool.Acquire();
  EXPECT_EQ(lease.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(lease.status().message(), HasSubstr("connection refused"));
  EXPECT_EQ(pool.size(), 0);
}

TEST(Client, ServerKilledThenRestartedReconnectsByItself) {
  SKIP_WITHOUT_REDIS();
  RedisServerOptions server_options;
  server_options.appendonly = true;
  std::unique_ptr<RedisServer> server = StartServer(server_options);
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = ConnectTo(OptionsFor(*server));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Command({"SET", "k", "before"}).ok());

  server->Kill9();
  // A large write to the dead connection: the peer resets it, and hiredis's
  // write(2) would raise SIGPIPE; the call must fail, not end the process.
  absl::StatusOr<Reply> dead =
      client->Command({"SET", "big", std::string(8 << 20, 'x')});
  EXPECT_EQ(dead.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(dead.status().message(), HasSubstr(server->addr()));
  EXPECT_FALSE(client->connected());
  // Next call: one reconnect attempt, refused.
  absl::StatusOr<Reply> refused = client->Command({"GET", "k"});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(refused.status().message(),
              HasSubstr(absl::StrCat("redis ", server->addr(),
                                     ": connection refused")));

  ASSERT_TRUE(server->Restart().ok());
  absl::StatusOr<Reply> get = client->Command({"GET", "k"});
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->str, "before");
  EXPECT_TRUE(client->connected());
}

TEST(Client, StoppedServerTimesOutInsteadOfHanging) {
  SKIP_WITHOUT_REDIS();
  std::unique_ptr<RedisServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  ClientOptions options = OptionsFor(*server);
  options.command_timeout = absl::Milliseconds(300);
  options.connect_timeout = absl::Milliseconds(300);
  std::unique_ptr<Client> client = ConnectTo(options);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Command({"SET", "k", "v"}).ok());

  server->Stop();
  absl::StatusOr<Reply> stuck = client->Command({"GET", "k"});
  EXPECT_EQ(stuck.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(stuck.status().message(),
              HasSubstr(absl::StrCat("redis ", server->addr(),
                                     ": timed out after 300ms")));
  // The pipeline path too (a new connection: the kernel still accepts it).
  absl::StatusOr<std::vector<Reply>> piped =
      client->Pipeline({{"GET", "k"}, {"GET", "k"}});
  EXPECT_EQ(piped.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(piped.status().message(), HasSubstr("timed out after 300ms"));

  server->Continue();
  absl::StatusOr<Reply> get = client->Command({"GET", "k"});
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->str, "v");
}

// --------------------------------------------------------------- pool

TEST(Pool, ConcurrentIncrementsAddUpExactly) {
  SKIP_WITHOUT_REDIS();
  std::unique_ptr<RedisServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  constexpr int kThreads = 8;
  constexpr int kIncrements = 300;
  Pool pool(OptionsFor(*server), /*max_size=*/3);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&pool, &failures] {
      for (int i = 0; i < kIncrements; ++i) {
        absl::StatusOr<Pool::Lease> lease = pool.Acquire();
        if (!lease.ok()) {
          ++failures;
          continue;
        }
        absl::StatusOr<Reply> r = (*lease)->Command({"INCR", "counter"});
        if (!r.ok() || r->type != Reply::Type::kInteger) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(pool.size(), 3);
  EXPECT_EQ(pool.round_trips(), kThreads * kIncrements);

  absl::StatusOr<Pool::Lease> lease = pool.Acquire();
  ASSERT_TRUE(lease.ok());
  absl::StatusOr<Reply> total = (*lease)->Command({"GET", "counter"});
  ASSERT_TRUE(total.ok());
  EXPECT_EQ(total->str, absl::StrCat(kThreads * kIncrements));
}

TEST(Pool, WaitsForALeaseThenGivesUp) {
  SKIP_WITHOUT_REDIS();
  std::unique_ptr<RedisServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  Pool pool(OptionsFor(*server), /*max_size=*/1, absl::Milliseconds(100));
  {
    absl::StatusOr<Pool::Lease> held = pool.Acquire();
    ASSERT_TRUE(held.ok()) << held.status();
    absl::StatusOr<Pool::Lease> second = pool.Acquire();
    EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_THAT(second.status().message(), HasSubstr("all 1 pooled connections busy"));
  }
  absl::StatusOr<Pool::Lease> again = pool.Acquire();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(pool.size(), 1);

  // An idle client whose connection died reconnects in Acquire; with Redis
  // down, Acquire says so.
  Pool::Lease moved = std::move(*again);
  server->Kill9();
  EXPECT_FALSE(moved->Command({"PING"}).ok());
  { Pool::Lease returned = std::move(moved); }
  absl::StatusOr<Pool::Lease> down = pool.Acquire();
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(down.status().message(), HasSubstr("connection refused"));
}

// ----------------------------------------------------------- sentinel

// A primary, one replica and one Sentinel (quorum 1) on loopback.
class SentinelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServerAvailable()) GTEST_SKIP() << "redis-server is not installed";
    primary_ = StartServer();
    ASSERT_NE(primary_, nullptr);
    RedisServerOptions replica_options;
    replica_options.extra_args = {"--replicaof", "127.0.0.1",
                                  absl::StrCat(primary_->port())};
    replica_ = StartServer(replica_options);
    ASSERT_NE(replica_, nullptr);
    utm::testing::SentinelOptions sentinel_options;
    sentinel_options.down_after = absl::Milliseconds(500);
    sentinel_options.failover_timeout = absl::Seconds(3);
    absl::StatusOr<std::unique_ptr<RedisServer>> sentinel =
        RedisServer::StartSentinel(primary_->addr(), "utm", 1, sentinel_options);
    ASSERT_TRUE(sentinel.ok()) << sentinel.status();
    sentinel_ = std::move(*sentinel);

    // Bounded: the replica has synced, and Sentinel has found it (from the
    // primary's INFO).
    std::unique_ptr<Client> replica = ConnectTo(OptionsFor(*replica_));
    std::unique_ptr<Client> sentinel_client = ConnectTo(OptionsFor(*sentinel_));
    ASSERT_TRUE(replica != nullptr && sentinel_client != nullptr);
    bool ready = false;
    for (int i = 0; i < 200 && !ready; ++i) {
      absl::StatusOr<Reply> info = replica->Command({"INFO", "replication"});
      absl::StatusOr<Reply> known =
          sentinel_client->Command({"SENTINEL", "replicas", "utm"});
      ready = info.ok() &&
              info->str.find("master_link_status:up") != std::string::npos &&
              known.ok() && known->type == Reply::Type::kArray &&
              !known->elements.empty();
      if (!ready) absl::SleepFor(absl::Milliseconds(50));
    }
    ASSERT_TRUE(ready) << "replica did not sync or Sentinel did not see it in 10 s";
  }

  ClientOptions ThroughSentinel() const {
    ClientOptions options;
    options.addr = "ignored:1";
    options.sentinels = {sentinel_->addr()};
    options.connect_timeout = absl::Milliseconds(300);
    options.command_timeout = absl::Milliseconds(500);
    return options;
  }

  // Writes through `client` until the write lands on the replica, now the
  // primary (bounded: 450 attempts, 100 ms apart).
  void WriteUntilOnNewPrimary(Client& client) {
    bool moved = false;
    for (int i = 0; i < 450 && !moved; ++i) {
      absl::StatusOr<Reply> set = client.Command({"SET", "after", "failover"});
      moved = set.ok() && !set->is_error() && client.address() == replica_->addr();
      if (!moved) absl::SleepFor(absl::Milliseconds(100));
    }
    ASSERT_TRUE(moved) << "still on " << client.address() << " after 45 s";
    std::unique_ptr<Client> direct = ConnectTo(OptionsFor(*replica_));
    ASSERT_NE(direct, nullptr);
    absl::StatusOr<Reply> role = direct->Command({"ROLE"});
    ASSERT_TRUE(role.ok() && role->type == Reply::Type::kArray);
    EXPECT_EQ(role->elements[0].str, "master");
    absl::StatusOr<Reply> kept = direct->Command({"GET", "before"});
    ASSERT_TRUE(kept.ok());
    EXPECT_EQ(kept->str, "failover");  // replicated before the failover
  }

  std::unique_ptr<RedisServer> primary_;
  std::unique_ptr<RedisServer> replica_;
  std::unique_ptr<RedisServer> sentinel_;
};

TEST_F(SentinelTest, FindsThePrimary) {
  std::unique_ptr<Client> client = ConnectTo(ThroughSentinel());
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->address(), primary_->addr());
  absl::StatusOr<Reply> set = client->Command({"SET", "k", "v"});
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->str, "OK");

  ClientOptions wrong_name = ThroughSentinel();
  wrong_name.master_name = "other";
  absl::StatusOr<std::unique_ptr<Client>> none = Client::Connect(wrong_name);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(none.status().message(), HasSubstr("knows no primary named \"other\""));

  // A dead sentinel first in the list: the next one answers.
  RefusingPort dead;
  ClientOptions two = ThroughSentinel();
  two.sentinels.insert(two.sentinels.begin(), absl::StrCat("127.0.0.1:", dead.port));
  std::unique_ptr<Client> second = ConnectTo(two);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->address(), primary_->addr());
}

TEST_F(SentinelTest, FollowsAFailoverWhenThePrimaryDies) {
  std::unique_ptr<Client> client = ConnectTo(ThroughSentinel());
  ASSERT_NE(client, nullptr);
  absl::StatusOr<Reply> wait_replica;
  ASSERT_TRUE(client->Command({"SET", "before", "failover"}).ok());
  wait_replica = client->Command({"WAIT", "1", "2000"});
  ASSERT_TRUE(wait_replica.ok());
  ASSERT_EQ(wait_replica->integer, 1);

  primary_->Kill9();
  WriteUntilOnNewPrimary(*client);
}

TEST_F(SentinelTest, FollowsAManualFailover) {
  std::unique_ptr<Client> client = ConnectTo(ThroughSentinel());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Command({"SET", "before", "failover"}).ok());
  absl::StatusOr<Reply> synced = client->Command({"WAIT", "1", "2000"});
  ASSERT_TRUE(synced.ok());
  ASSERT_EQ(synced->integer, 1);

  std::unique_ptr<Client> sentinel = ConnectTo(OptionsFor(*sentinel_));
  ASSERT_NE(sentinel, nullptr);
  absl::StatusOr<Reply> failover = sentinel->Command({"SENTINEL", "failover", "utm"});
  ASSERT_TRUE(failover.ok()) << failover.status();
  ASSERT_FALSE(failover->is_error()) << failover->DebugString();
  // The old primary stays up: the client leaves it when Sentinel demotes it
  // (its connections are killed, or writes answer READONLY).
  WriteUntilOnNewPrimary(*client);
}

}  // namespace
}  // namespace utm::redis
