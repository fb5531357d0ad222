// The Redis backend of the audit log against a real redis-server: replicas
// appending at once still form one chain, the head key follows it, and a
// tampered stream is refused at open.
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/audit/audit_log.h"
#include "tests/testing/redis_server.h"

namespace utm::audit {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kStream[] = "{utm}:audit";

class RedisAuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!utm::testing::RedisServerAvailable()) {
      GTEST_SKIP() << "redis-server is not installed";
    }
    absl::StatusOr<std::unique_ptr<utm::testing::RedisServer>> server =
        utm::testing::RedisServer::Start({});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    options_.addr = server_->addr();
  }

  std::unique_ptr<AuditLog> Open() {
    absl::StatusOr<std::unique_ptr<AuditLog>> log =
        OpenRedisAuditLog(options_, kStream, &clock_);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *std::move(log) : nullptr;
  }
  std::unique_ptr<redis::Client> Client() {
    absl::StatusOr<std::unique_ptr<redis::Client>> client =
        redis::Client::Connect(options_);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }
  // Every line of the stream, in stream order.
  std::vector<std::string> Lines() {
    std::vector<std::string> lines;
    absl::StatusOr<redis::Reply> reply =
        Client()->Command({"XRANGE", kStream, "-", "+"});
    EXPECT_TRUE(reply.ok());
    for (const redis::Reply& item : reply->elements) {
      lines.push_back(item.elements[1].elements[1].str);
    }
    return lines;
  }

  std::unique_ptr<utm::testing::RedisServer> server_;
  redis::ClientOptions options_;
  SimulatedClock clock_{absl::FromUnixSeconds(1'800'000'000)};
};

AuditEvent Event(int thread, int i) {
  AuditEvent event;
  event.subject = absl::StrCat("replica-", thread);
  event.case_reference = "CASE-1";
  event.action = "intent-owner";
  event.target = absl::StrCat("intent-", thread, "-", i);
  event.disclosed = "operator-1";
  return event;
}

TEST_F(RedisAuditLogTest, ConcurrentReplicasFormOneChain) {
  constexpr int kThreads = 4;
  constexpr int kAppends = 50;
  // Each thread is a replica: its own log, its own connection.
  std::vector<std::unique_ptr<AuditLog>> logs;
  for (int t = 0; t < kThreads; ++t) {
    logs.push_back(Open());
    ASSERT_NE(logs.back(), nullptr);
  }
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppends; ++i) {
        if (!logs[t]->Record(Event(t, i)).ok()) ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << t;

  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kAppends));
  absl::StatusOr<VerifyResult> verified = VerifyAuditLines(lines);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->count, kThreads * kAppends);
  // Every event is there exactly once.
  std::set<std::string> targets;
  for (const std::string& line : lines) {
    targets.insert(ParseAuditEntry(line)->event.target);
  }
  EXPECT_EQ(targets.size(), static_cast<size_t>(kThreads * kAppends));

  absl::StatusOr<redis::Reply> head =
      Client()->Command({"GET", absl::StrCat(kStream, ":head")});
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->str, FormatHead(verified->head));
  // Read() pages the same lines and reports the same head.
  absl::StatusOr<AuditPage> page = logs[0]->Read(150, 1000);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->lines.size(), 50u);
  EXPECT_EQ(page->lines[0], lines[150]);
  EXPECT_EQ(page->head, verified->head);
  // A new replica verifies the whole chain at open, then continues it.
  std::unique_ptr<AuditLog> late = Open();
  ASSERT_NE(late, nullptr);
  ASSERT_TRUE(late->Record(Event(9, 9)).ok());
  EXPECT_TRUE(VerifyAuditLines(Lines()).ok());
}

TEST_F(RedisAuditLogTest, RefusesAnEditedStream) {
  std::unique_ptr<AuditLog> log = Open();
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->Record(Event(0, i)).ok());
  std::string line = Lines()[1];
  line[line.find("intent-0-1")] = 'I';
  std::unique_ptr<redis::Client> client = Client();
  ASSERT_TRUE(client->Command({"XDEL", kStream, "2-0"}).ok());
  // XADD cannot put an id back below the last, so rebuild the stream.
  std::vector<std::string> lines = Lines();
  ASSERT_TRUE(client->Command({"DEL", kStream}).ok());
  lines.insert(lines.begin() + 1, line);
  for (size_t i = 0; i < lines.size(); ++i) {
    ASSERT_TRUE(client
                    ->Command({"XADD", kStream, absl::StrCat(i + 1, "-0"),
                               "line", lines[i]})
                    .ok());
  }
  absl::StatusOr<std::unique_ptr<AuditLog>> reopened =
      OpenRedisAuditLog(options_, kStream, &clock_);
  EXPECT_EQ(reopened.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(reopened.status().message(),
              HasSubstr("audit entry 2 (line 2): hash: does not match"));
}

TEST_F(RedisAuditLogTest, RefusesATruncatedStream) {
  std::unique_ptr<AuditLog> log = Open();
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->Record(Event(0, i)).ok());
  ASSERT_TRUE(Client()->Command({"XDEL", kStream, "3-0"}).ok());
  absl::StatusOr<std::unique_ptr<AuditLog>> reopened =
      OpenRedisAuditLog(options_, kStream, &clock_);
  EXPECT_EQ(reopened.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(reopened.status().message(),
              HasSubstr("entries 3..3 are missing from the end"));
  // A running replica does not re-read the chain on each append: it goes
  // on from the head key, and the gap stays for every verifier to see.
  const absl::Status appended = log->Record(Event(0, 9));
  EXPECT_TRUE(appended.ok()) << appended;
  EXPECT_THAT(VerifyAuditLines(Lines()).status().message(),
              HasSubstr("audit entry 3 (line 3): has seq=4"));
}

// Redaction rewrites the stream in place of the old one: the id is in no
// entry afterwards, the chain and the head key are unchanged, and another
// replica keeps appending to the same chain.
TEST_F(RedisAuditLogTest, RedactsAnOperatorKeepingTheChain) {
  std::unique_ptr<AuditLog> a = Open();
  std::unique_ptr<AuditLog> b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  for (int i = 0; i < 1500; ++i) {
    AuditEvent event = Event(i % 2, i);
    if (i % 100 == 0) {
      event.about = "alice";
      event.disclosed = "operator_account=alice";
    }
    ASSERT_TRUE((i % 2 == 0 ? a : b)->Record(event).ok());
  }
  const AuditHead head = VerifyAuditLines(Lines())->head;
  absl::StatusOr<int64_t> redacted = a->Redact({{"alice", "op-51c0"}});
  ASSERT_TRUE(redacted.ok()) << redacted.status();
  EXPECT_EQ(*redacted, 15);
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1500u);
  for (const std::string& line : lines) {
    ASSERT_THAT(line, Not(HasSubstr("alice")));
  }
  absl::StatusOr<VerifyResult> verified = VerifyAuditLines(lines);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->head, head);
  EXPECT_EQ(EntriesAbout(*b, "op-51c0", 100)->size(), 15u);
  // No copy is left behind, and both replicas go on appending.
  absl::StatusOr<redis::Reply> copy =
      Client()->Command({"EXISTS", absl::StrCat(kStream, ":redact")});
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(copy->integer, 0);
  ASSERT_TRUE(b->Record(Event(1, 9999)).ok());
  ASSERT_TRUE(a->Record(Event(0, 9999)).ok());
  EXPECT_TRUE(VerifyAuditLines(Lines()).ok());
  EXPECT_NE(Open(), nullptr);
}

}  // namespace
}  // namespace utm::audit
