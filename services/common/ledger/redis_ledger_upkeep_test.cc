// The Redis ledger's guarantees beyond a single commit, on real
// redis-servers started on loopback: the durable watermark (raised only
// after the replicas confirmed), the Function library's versions across a
// rolling upgrade, the pruning that keeps the version keys bounded, and
// forgetting the history for an erasure.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/redis_ledger.h"
#include "services/common/redis/redis_client.h"
#include "tests/testing/redis_server.h"

namespace utm::ledger {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using redis::Reply;
using utm::testing::RedisServer;

class RedisLedgerUpkeepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!utm::testing::RedisServerAvailable()) {
      GTEST_SKIP() << "redis-server is not installed (apt-get install "
                      "redis-server); the Redis ledger is not tested";
    }
    absl::StatusOr<std::unique_ptr<RedisServer>> s = RedisServer::Start({});
    ASSERT_TRUE(s.ok()) << s.status();
    redis_ = *std::move(s);
    absl::StatusOr<std::unique_ptr<redis::Client>> admin =
        redis::Client::Connect(Options().client);
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = *std::move(admin);
  }
  RedisLedgerOptions Options() const {
    RedisLedgerOptions o;
    o.client.addr = redis_->addr();
    o.client.connect_timeout = absl::Milliseconds(300);
    o.client.command_timeout = absl::Seconds(5);
    return o;
  }
  // A replica of redis_, in sync.
  std::unique_ptr<RedisServer> StartReplica() {
    // The first sync starts at once, not after the default 5 s.
    EXPECT_TRUE(
        admin_->Command({"CONFIG", "SET", "repl-diskless-sync-delay", "0"}).ok());
    utm::testing::RedisServerOptions ro;
    ro.extra_args = {"--replicaof", "127.0.0.1", absl::StrCat(redis_->port())};
    absl::StatusOr<std::unique_ptr<RedisServer>> r = RedisServer::Start(ro);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return nullptr;
    for (int i = 0; i < 200; ++i) {  // bounded: 10 s
      absl::StatusOr<Reply> info = admin_->Command({"INFO", "replication"});
      if (info.ok() && info->str.find("connected_slaves:1") != std::string::npos &&
          info->str.find("state=online") != std::string::npos) {
        return *std::move(r);
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    ADD_FAILURE() << "the replica did not come online in 10 s";
    return nullptr;
  }
  // {version, compatible_from} of the library Redis runs.
  std::vector<int64_t> LibraryVersion() {
    absl::StatusOr<Reply> r = admin_->Command({"FCALL_RO", "utm_version", "0"});
    if (!r.ok() || r->is_error()) return {};
    std::vector<int64_t> v;
    for (const Reply& e : r->elements) v.push_back(e.integer);
    return v;
  }
  // This build's library source with other version numbers.
  static std::string SourceWithVersion(int version, int compatible_from) {
    const int mine = RedisLedger::FunctionVersion();
    // Two passes: the two lines are adjacent and share a newline.
    const std::string versioned = absl::StrReplaceAll(
        RedisLedger::FunctionSource(),
        {{absl::StrCat("\nlocal VERSION = ", mine, "\n"),
          absl::StrCat("\nlocal VERSION = ", version, "\n")}});
    return absl::StrReplaceAll(
        versioned,
        {{"\nlocal COMPATIBLE_FROM = 1\n",
          absl::StrCat("\nlocal COMPATIBLE_FROM = ", compatible_from, "\n")}});
  }
  // An integer reply, or a string one holding an integer; -1 otherwise.
  int64_t Integer(const std::vector<std::string>& argv) {
    absl::StatusOr<Reply> r = admin_->Command(argv);
    if (!r.ok()) return -1;
    if (r->type == Reply::Type::kInteger) return r->integer;
    int64_t v = -1;
    if (r->type == Reply::Type::kString && absl::SimpleAtoi(r->str, &v)) return v;
    return -1;
  }

  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<redis::Client> admin_;
};

// Records what a follower announces durable.
struct DurableRecorder {
  absl::Mutex mu;
  std::vector<uint64_t> announced ABSL_GUARDED_BY(mu);
  void AddTo(Follower* f) {
    f->AddTable("t", [](absl::string_view, const std::optional<std::string>&) {},
                [] {});
    f->OnDurable([this](uint64_t d) {
      absl::MutexLock lock(&mu);
      announced.push_back(d);
    });
  }
  std::vector<uint64_t> Get() {
    absl::MutexLock lock(&mu);
    return announced;
  }
};

bool WaitFor(const std::function<bool()>& done, absl::Duration limit) {
  for (absl::Time end = absl::Now() + limit; absl::Now() < end;) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return done();
}

TEST_F(RedisLedgerUpkeepTest, DurableRisesOnlyAfterTheReplicaConfirms) {
  std::unique_ptr<RedisServer> replica = StartReplica();
  ASSERT_NE(replica, nullptr);
  RedisLedgerOptions o = Options();
  o.wait_replicas = 1;
  o.wait_timeout = absl::Seconds(4);
  absl::StatusOr<std::unique_ptr<RedisLedger>> writer = RedisLedger::Open(o);
  ASSERT_TRUE(writer.ok()) << writer.status();
  absl::StatusOr<std::unique_ptr<RedisLedger>> reader = RedisLedger::Open(o);
  ASSERT_TRUE(reader.ok()) << reader.status();
  FollowerOptions fo;
  fo.durable_poll = absl::Milliseconds(5);
  Follower follower(reader->get(), fo);
  DurableRecorder rec;
  rec.AddTo(&follower);
  ASSERT_TRUE(follower.Start().ok());

  ASSERT_TRUE((*writer)->CommitAndWait(Guard{}, {store::Put("t", "a", "1")}).ok());
  ASSERT_TRUE(WaitFor([&] { return follower.durable() == 1; }, absl::Seconds(5)))
      << "durable " << follower.durable();

  // The replica stops answering: the next commit is on the primary, read by
  // the follower, and waits for the replica.
  replica->Stop();
  absl::StatusOr<CommitResult> second;
  std::thread commit([&] {
    second = (*writer)->CommitAndWait(Guard{Position{}, {}, {"x"}},
                                      {store::Put("t", "b", "2")});
  });
  ASSERT_TRUE(WaitFor([&] { return follower.applied().seq == 2; },
                      absl::Seconds(3)));
  absl::SleepFor(absl::Milliseconds(300));  // 60 watermark reads meanwhile
  EXPECT_EQ(follower.durable(), 1u) << "announced before the replica confirmed";
  replica->Continue();
  commit.join();
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE(WaitFor([&] { return follower.durable() == 2; }, absl::Seconds(5)))
      << "durable " << follower.durable();
  follower.Stop();
  EXPECT_THAT(rec.Get(), ElementsAre(1, 2));
  EXPECT_EQ(*(*reader)->Durable(), 2u);
}

TEST_F(RedisLedgerUpkeepTest, WithAReplicaMissingDurableNeverPassesUnconfirmedCommits) {
  RedisLedgerOptions o = Options();
  o.wait_replicas = 1;  // there is none
  o.wait_timeout = absl::Milliseconds(50);
  absl::StatusOr<std::unique_ptr<RedisLedger>> writer = RedisLedger::Open(o);
  ASSERT_TRUE(writer.ok()) << writer.status();
  FollowerOptions fo;
  fo.durable_poll = absl::Milliseconds(5);
  fo.confirm_after = absl::Milliseconds(50);  // it tries to confirm, too
  Follower follower(writer->get(), fo);
  DurableRecorder rec;
  rec.AddTo(&follower);
  ASSERT_TRUE(follower.Start().ok());
  for (int i = 0; i < 6; ++i) {
    absl::StatusOr<CommitResult> c = (*writer)->CommitAndWait(
        Guard{Position{}, {}, {"x"}}, {store::Put("t", absl::StrCat(i), "v")});
    EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable) << c.status();
  }
  ASSERT_TRUE(follower.CatchUp().ok());
  EXPECT_EQ(follower.applied().seq, 6u);  // written, read, never confirmed
  absl::SleepFor(absl::Milliseconds(500));  // several confirmations tried
  EXPECT_EQ(Integer({"EXISTS", "{utm}:durable"}), 0);
  EXPECT_GT(Integer({"GET", "{utm}:durable:probe"}), 0)
      << "the follower never tried to confirm: the test proves less";
  EXPECT_EQ(follower.durable(), 0u);
  EXPECT_EQ(*(*writer)->Durable(), 0u);
  follower.Stop();
  EXPECT_TRUE(rec.Get().empty());
}

TEST_F(RedisLedgerUpkeepTest, AWriterThatDiesAfterItsWaitIsConfirmedByAFollower) {
  std::unique_ptr<RedisServer> replica = StartReplica();
  ASSERT_NE(replica, nullptr);
  RedisLedgerOptions o = Options();
  o.wait_replicas = 1;
  absl::StatusOr<std::unique_ptr<RedisLedger>> reader = RedisLedger::Open(o);
  ASSERT_TRUE(reader.ok()) << reader.status();
  FollowerOptions fo;
  fo.durable_poll = absl::Milliseconds(5);
  fo.confirm_after = absl::Milliseconds(100);
  Follower follower(reader->get(), fo);
  DurableRecorder rec;
  rec.AddTo(&follower);
  ASSERT_TRUE(follower.Start().ok());
  // A writer commits and waits for the replica, then dies before raising
  // the watermark: nothing else will raise it.
  absl::StatusOr<std::vector<Reply>> r = admin_->Pipeline(
      {{"FCALL", "utm_commit", "1", "{utm}:seq", "0", "", "0", "1", "1",
        "1000000", "x", "p", "t", "a", "1"},
       {"WAIT", "1", "2000"}});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ((*r)[0].elements.size(), 3u) << (*r)[0].DebugString();
  ASSERT_EQ((*r)[1].integer, 1);
  ASSERT_TRUE(WaitFor([&] { return follower.applied().seq == 1; },
                      absl::Seconds(3)));
  ASSERT_TRUE(WaitFor([&] { return follower.durable() == 1; }, absl::Seconds(5)))
      << "the follower never confirmed what its writer left unannounced";
  follower.Stop();
  EXPECT_EQ(Integer({"GET", "{utm}:durable"}), 1);
  EXPECT_THAT(rec.Get(), ElementsAre(1));
}

TEST_F(RedisLedgerUpkeepTest, WithoutWaitEveryEntryReadIsDurable) {
  absl::StatusOr<std::unique_ptr<RedisLedger>> ledger = RedisLedger::Open(Options());
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  Follower follower(ledger->get());
  DurableRecorder rec;
  rec.AddTo(&follower);
  ASSERT_TRUE(follower.Start().ok());
  Position at;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<CommitResult> c =
        (*ledger)->CommitAndWait(Guard{at}, {store::Put("t", "k", "v")});
    ASSERT_TRUE(c.ok()) << c.status();
    at = c->position;
  }
  ASSERT_TRUE(follower.CatchUp().ok());
  EXPECT_EQ(follower.durable(), 3u);
  follower.Stop();
  ASSERT_FALSE(rec.Get().empty());
  EXPECT_EQ(rec.Get().back(), 3u);
}

TEST_F(RedisLedgerUpkeepTest, AFreshRedisGetsThisVersion) {
  ASSERT_TRUE(RedisLedger::Open(Options()).ok());
  EXPECT_EQ(RedisLedger::FunctionVersion(), 3);
  EXPECT_THAT(LibraryVersion(), ElementsAre(3, 1));
}

TEST_F(RedisLedgerUpkeepTest, AnOlderReplicaNeverDowngradesANewerLibrary) {
  // A newer replica loaded version 4 (still serving version 1 and later).
  ASSERT_TRUE(
      RedisLedger::EnsureFunctions(*admin_, "{utm}:", SourceWithVersion(4, 1))
          .ok());
  ASSERT_THAT(LibraryVersion(), ElementsAre(4, 1));
  // This (older) replica starts, works, and leaves version 4 in place; so
  // does one of version 1.
  absl::StatusOr<std::unique_ptr<RedisLedger>> ledger =
      RedisLedger::Open(Options());
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  absl::StatusOr<CommitResult> c =
      (*ledger)->CommitAndWait(Guard{}, {store::Put("t", "a", "1")});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->status, CommitStatus::kCommitted);
  ASSERT_TRUE(
      RedisLedger::EnsureFunctions(*admin_, "{utm}:", SourceWithVersion(1, 1))
          .ok());
  EXPECT_THAT(LibraryVersion(), ElementsAre(4, 1));
}

TEST_F(RedisLedgerUpkeepTest, ANewerIncompatibleLibraryIsRefusedNamingBoth) {
  ASSERT_TRUE(
      RedisLedger::EnsureFunctions(*admin_, "{utm}:", SourceWithVersion(4, 4))
          .ok());
  absl::StatusOr<std::unique_ptr<RedisLedger>> ledger =
      RedisLedger::Open(Options());
  EXPECT_EQ(ledger.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(ledger.status().message(),
              AllOf(HasSubstr("ledger library version 4"),
                    HasSubstr("replicas of version 4 and later"),
                    HasSubstr("this replica runs version 3")));
  EXPECT_THAT(LibraryVersion(), ElementsAre(4, 4));
}

TEST_F(RedisLedgerUpkeepTest, ANewerReplicaUpgradesAnOlderLibrary) {
  // Version 1: the library from before versions, without utm_version.
  std::string unversioned = absl::StrReplaceAll(
      SourceWithVersion(1, 1),
      {{"redis.register_function{function_name = 'utm_version'",
        "local _ = {function_name = 'utm_version'"}});
  ASSERT_NE(unversioned, SourceWithVersion(1, 1));
  absl::StatusOr<Reply> loaded =
      admin_->Command({"FUNCTION", "LOAD", "REPLACE", unversioned});
  ASSERT_TRUE(loaded.ok() && !loaded->is_error()) << loaded->str;
  ASSERT_TRUE(LibraryVersion().empty());
  ASSERT_TRUE(RedisLedger::Open(Options()).ok());
  EXPECT_THAT(LibraryVersion(), ElementsAre(3, 1));
  // And from a versioned older one.
  ASSERT_TRUE(
      admin_->Command({"FUNCTION", "LOAD", "REPLACE", SourceWithVersion(1, 1)})
          .ok());
  ASSERT_THAT(LibraryVersion(), ElementsAre(1, 1));
  ASSERT_TRUE(RedisLedger::Open(Options()).ok());
  EXPECT_THAT(LibraryVersion(), ElementsAre(3, 1));
}

TEST_F(RedisLedgerUpkeepTest, ALibraryLostByRedisIsLoadedAgainAtThisVersion) {
  absl::StatusOr<std::unique_ptr<RedisLedger>> ledger =
      RedisLedger::Open(Options());
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  ASSERT_TRUE(admin_->Command({"FUNCTION", "FLUSH"}).ok());
  ASSERT_TRUE(LibraryVersion().empty());
  absl::StatusOr<CommitResult> c =
      (*ledger)->CommitAndWait(Guard{}, {store::Put("t", "a", "1")});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->status, CommitStatus::kCommitted);
  EXPECT_THAT(LibraryVersion(), ElementsAre(3, 1));
}

TEST_F(RedisLedgerUpkeepTest, VersionKeysStayBoundedAndPruningKeepsVerdicts) {
  RedisLedgerOptions o = Options();
  o.feed_max_entries = 10;  // trimmed in whole nodes of 100 entries
  absl::StatusOr<std::unique_ptr<RedisLedger>> opened = RedisLedger::Open(o);
  ASSERT_TRUE(opened.ok()) << opened.status();
  RedisLedger& ledger = **opened;
  // Entry i writes key k<i> only: 1,500 distinct keys.
  constexpr int kCommits = 1500;
  Position at;
  for (int i = 1; i <= kCommits; ++i) {
    const std::string key = absl::StrCat("k", i);
    absl::StatusOr<CommitResult> c =
        ledger.CommitAndWait(Guard{at, {key}, {key}}, {store::Put("t", key, "v")});
    ASSERT_TRUE(c.ok()) << c.status();
    ASSERT_EQ(c->status, CommitStatus::kCommitted) << "commit " << i;
    at = c->position;
  }
  const int64_t feed_len = Integer({"XLEN", "{utm}:feed"});
  const int64_t versions = Integer({"HLEN", "{utm}:ver"});
  RecordProperty("feed_entries", static_cast<int>(feed_len));
  RecordProperty("version_fields", static_cast<int>(versions));
  EXPECT_LE(feed_len, 210);
  // Without pruning: 1,500. With it: the keys written by entries still in
  // the feed, plus what one pass of the cursor has not reached yet.
  EXPECT_LE(versions, 2 * feed_len + 50) << "of " << kCommits << " written";

  // The floor: the oldest entry still in the feed is F; fields <= F - 1 may
  // be gone.
  absl::StatusOr<Reply> first =
      admin_->Command({"XRANGE", "{utm}:feed", "-", "+", "COUNT", "1"});
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->elements.size(), 1u);
  const uint64_t f = std::stoull(first->elements[0].elements[0].str);
  ASSERT_GT(f, 1u) << "the feed was never trimmed";
  const Position base{f, first->elements[0].elements[1].elements[1].str};
  int pruned = 0;
  std::string gone;
  for (uint64_t s = f - 1; s >= 1; --s) {
    if (Integer({"HEXISTS", "{utm}:ver", absl::StrCat("k", s)}) == 0) {
      ++pruned;
      if (gone.empty()) gone = absl::StrCat("k", s);
    }
  }
  ASSERT_FALSE(gone.empty()) << "nothing was pruned";
  RecordProperty("pruned_below_floor", pruned);
  // Nothing at or above F was pruned.
  for (uint64_t s = f; s <= kCommits; ++s) {
    ASSERT_EQ(Integer({"HEXISTS", "{utm}:ver", absl::StrCat("k", s)}), 1)
        << "k" << s << " was written by entry " << s << " >= floor + 1";
  }
  // Checks only (nothing written, so the feed stays as it is):
  auto verdict = [&](const Position& b, std::vector<std::string> reads) {
    absl::StatusOr<CommitResult> c = ledger.CommitAndWait(Guard{b, reads, {}}, {});
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? c->status : CommitStatus::kReload;
  };
  // A base at the floor's entry reading a pruned key and the key written by
  // that very entry: nothing changed after the base.
  EXPECT_EQ(verdict(base, {gone, absl::StrCat("k", f)}), CommitStatus::kCommitted);
  // The key written just after the base: moved.
  EXPECT_EQ(verdict(base, {gone, absl::StrCat("k", f + 1)}), CommitStatus::kMoved);
  // A base below the oldest entry, or the empty history once trimmed: reload.
  absl::StatusOr<std::vector<Entry>> before =
      ledger.Read(Position{}, 1, absl::ZeroDuration());
  EXPECT_EQ(before.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(verdict(Position{f - 1, "anything"}, {gone}), CommitStatus::kReload);
  EXPECT_EQ(verdict(Position{}, {gone}), CommitStatus::kReload);
}

TEST_F(RedisLedgerUpkeepTest, ForgettingTheHistoryLeavesOnlyLaterEntries) {
  absl::StatusOr<std::unique_ptr<RedisLedger>> opened =
      RedisLedger::Open(Options());
  ASSERT_TRUE(opened.ok()) << opened.status();
  RedisLedger& ledger = **opened;
  // Entries 1-3 write and then delete "secret" (guard key g/secret); entry
  // 4 writes another key.
  Position at;
  std::vector<Position> entries;
  for (std::vector<store::Mutation> m :
       {std::vector<store::Mutation>{store::Put("t", "secret", "coords-1")},
        std::vector<store::Mutation>{store::Put("t", "secret", "coords-2")},
        std::vector<store::Mutation>{store::Delete("t", "secret")}}) {
    absl::StatusOr<CommitResult> c = ledger.CommitAndWait(
        Guard{at, {"g/secret"}, {"g/secret"}}, std::move(m));
    ASSERT_TRUE(c.ok()) << c.status();
    ASSERT_EQ(c->status, CommitStatus::kCommitted);
    at = c->position;
    entries.push_back(at);
  }
  const Position erasure = at;
  absl::StatusOr<CommitResult> later = ledger.CommitAndWait(
      Guard{at, {"g/other"}, {"g/other"}}, {store::Put("t", "other", "v")});
  ASSERT_TRUE(later.ok() && later->status == CommitStatus::kCommitted);
  ASSERT_EQ(Integer({"XLEN", "{utm}:feed"}), 4);

  // A position not in this history (as after a failover that lost it):
  // ABORTED, and nothing is trimmed.
  EXPECT_EQ(ledger.ForgetHistory(Position{erasure.seq, "other-hash"}).code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(ledger.ForgetHistory(Position{99, later->position.hash}).code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(Integer({"XLEN", "{utm}:feed"}), 4);

  ASSERT_TRUE(ledger.ForgetHistory(erasure).ok());
  // Only entry 4 is left in the feed; no version field of the erased key.
  absl::StatusOr<Reply> feed =
      admin_->Command({"XRANGE", "{utm}:feed", "-", "+"});
  ASSERT_TRUE(feed.ok());
  ASSERT_EQ(feed->elements.size(), 1u);
  EXPECT_EQ(feed->elements[0].elements[0].str,
            absl::StrCat(later->position.seq, "-0"));
  EXPECT_EQ(Integer({"HEXISTS", "{utm}:ver", "g/secret"}), 0);
  EXPECT_EQ(Integer({"HEXISTS", "{utm}:ver", "g/other"}), 1);
  // Followers at or before the erasure reload; one after it reads on.
  for (const Position& p : entries) {
    EXPECT_EQ(ledger.Read(p, 10, absl::ZeroDuration()).status().code(),
              absl::StatusCode::kDataLoss)
        << p.seq;
  }
  EXPECT_TRUE(ledger.Read(later->position, 10, absl::ZeroDuration()).ok());
  // Commits on a base the history no longer has reload, the empty history
  // included; on the latest, they go on.
  auto verdict = [&](const Position& b) {
    absl::StatusOr<CommitResult> c =
        ledger.CommitAndWait(Guard{b, {"g/secret"}, {}}, {});
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? c->status : CommitStatus::kMoved;
  };
  EXPECT_EQ(verdict(entries[0]), CommitStatus::kReload);
  EXPECT_EQ(verdict(Position{}), CommitStatus::kReload);
  EXPECT_EQ(verdict(later->position), CommitStatus::kCommitted);
  // Forgetting everything (the latest entry too) leaves an empty feed, and
  // a commit on the latest position still goes on; forgetting again is OK.
  ASSERT_TRUE(ledger.ForgetHistory(later->position).ok());
  EXPECT_EQ(Integer({"XLEN", "{utm}:feed"}), 0);
  EXPECT_EQ(Integer({"HLEN", "{utm}:ver"}), 0);
  EXPECT_TRUE(ledger.ForgetHistory(erasure).ok());
  EXPECT_EQ(verdict(Position{}), CommitStatus::kReload);
  absl::StatusOr<CommitResult> after =
      ledger.CommitAndWait(Guard{later->position, {"g/other"}, {"g/other"}},
                           {store::Put("t", "other", "w")});
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->status, CommitStatus::kCommitted);
}

}  // namespace
}  // namespace utm::ledger
