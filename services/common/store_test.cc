#include "services/common/store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/file_testing.h"

namespace utm::store {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

using Rows = std::vector<std::pair<std::string, std::string>>;

Rows ScanAll(Store& store, const std::string& table) {
  Rows rows;
  const absl::Status s =
      store.Scan(table, [&](absl::string_view k, absl::string_view v) {
        rows.emplace_back(std::string(k), std::string(v));
      });
  EXPECT_TRUE(s.ok()) << s;
  std::sort(rows.begin(), rows.end());  // Scan promises no order
  return rows;
}

class EmbeddedStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) /
           absl::StrCat(
               "store-", getpid(), "-",
               testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Store> Open(int64_t compact_after = int64_t{64} << 20) {
    StoreOptions options;
    options.dir = dir_.string();
    options.compact_after_bytes = compact_after;
    absl::StatusOr<std::unique_ptr<Store>> store = OpenStore(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  std::vector<std::string> Files() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
};

TEST(MemoryStore, KeepsNothingButWorks) {
  StoreOptions options;
  options.backend = "memory";
  auto store = *OpenStore(options);
  ASSERT_TRUE(store->Commit({Put("t", "b", "2"), Put("t", "a", "1")}).ok());
  ASSERT_TRUE(store->Commit({Delete("t", "b"), Put("u", "x", "y")}).ok());
  EXPECT_THAT(ScanAll(*store, "t"), ElementsAre(Pair("a", "1")));
  EXPECT_FALSE(GetRecoveryStats(*store).has_value());
}

// Get sees every batch enqueued before it, without the caller waiting: a
// put, an overwrite, a delete, a table or key never written.
void ExpectGetSeesEnqueuedBatches(Store& store) {
  store.Enqueue({Put("t", "a", "1"), Put("t", "b", std::string("\0\xff", 2))});
  store.Enqueue({Put("t", "a", "2"), Delete("t", "b")});
  EXPECT_EQ(*store.Get("t", "a"), std::optional<std::string>("2"));
  EXPECT_EQ(*store.Get("t", "b"), std::nullopt);
  EXPECT_EQ(*store.Get("t", "c"), std::nullopt);
  EXPECT_EQ(*store.Get("u", "a"), std::nullopt);
  store.Enqueue({Put("t", "b", std::string("\0\xff", 2))});
  EXPECT_EQ(*store.Get("t", "b"),
            std::optional<std::string>(std::string("\0\xff", 2)));
}

TEST(MemoryStore, GetSeesEnqueuedBatches) {
  StoreOptions options;
  options.backend = "memory";
  auto store = *OpenStore(options);
  ExpectGetSeesEnqueuedBatches(*store);
}

TEST(OpenStore, RejectsBadConfiguration) {
  StoreOptions options;
  options.backend = "floppy";
  EXPECT_EQ(OpenStore(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.backend = "embedded";
  options.dir = "";
  EXPECT_THAT(OpenStore(options).status().message(), HasSubstr("needs a dir"));
}

TEST_F(EmbeddedStoreTest, SurvivesReopen) {
  {
    auto store = Open();
    ASSERT_TRUE(
        store->Commit({Put("intents", "a", "1"), Put("intents", "b", "2")})
            .ok());
    ASSERT_TRUE(store
                    ->Commit({Put("intents", "a", "1b"), Delete("intents", "b"),
                              Put("requests", "r", std::string("\0x\xff", 3))})
                    .ok());
  }
  auto store = Open();
  EXPECT_THAT(ScanAll(*store, "intents"), ElementsAre(Pair("a", "1b")));
  EXPECT_THAT(ScanAll(*store, "requests"),
              ElementsAre(Pair("r", std::string("\0x\xff", 3))));
  EXPECT_EQ(GetRecoveryStats(*store)->log_batches, 2);
  EXPECT_EQ(GetRecoveryStats(*store)->torn_tail_bytes, 0);
}

TEST_F(EmbeddedStoreTest, GetSeesEnqueuedBatchesAndSurvivesReopen) {
  {
    auto store = Open();
    ExpectGetSeesEnqueuedBatches(*store);
  }
  auto store = Open();
  EXPECT_EQ(*store->Get("t", "a"), std::optional<std::string>("2"));
  EXPECT_EQ(*store->Get("t", "c"), std::nullopt);
}

TEST_F(EmbeddedStoreTest, ConcurrentWritersShareSyncsAndKeepOrder) {
  constexpr int kThreads = 8, kPerThread = 200;
  {
    auto store = Open();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&store, t] {
        for (int i = 0; i < kPerThread; ++i) {
          // Each thread overwrites its own key: the last value must win.
          ASSERT_TRUE(
              store
                  ->Commit({Put("t", absl::StrCat("k", t), absl::StrCat(i)),
                            Put("log", absl::StrCat(t, "-", i), "")})
                  .ok());
        }
      });
    }
    for (auto& th : threads) th.join();
    const WriteStats stats = *GetWriteStats(*store);
    EXPECT_EQ(stats.batches, kThreads * kPerThread);
    // Eight writers waiting at once share syncs (group commit).
    EXPECT_LT(stats.syncs, stats.batches);
    EXPECT_GT(stats.syncs, 0);
  }
  auto store = Open();
  const Rows rows = ScanAll(*store, "t");
  ASSERT_EQ(rows.size(), static_cast<size_t>(kThreads));
  for (const auto& [key, value] : rows) EXPECT_EQ(value, "199") << key;
  EXPECT_EQ(ScanAll(*store, "log").size(), size_t{kThreads * kPerThread});
  // Each batch is its own record (atomic on its own), even when it shared
  // a sync with others.
  EXPECT_EQ(GetRecoveryStats(*store)->log_batches, kThreads * kPerThread);
}

TEST_F(EmbeddedStoreTest, OnDurableCallsBackOncePerTicket) {
  auto store = Open();
  std::atomic<int> called{0};
  absl::Mutex mu;
  std::vector<Store::Ticket> order;
  std::vector<Store::Ticket> tickets;
  for (int i = 0; i < 100; ++i) {
    const Store::Ticket t = store->Enqueue({Put("t", absl::StrCat(i), "v")});
    tickets.push_back(t);
    store->OnDurable(t, [&, t](absl::Status s) {
      EXPECT_TRUE(s.ok()) << s;
      absl::MutexLock lock(&mu);
      order.push_back(t);
      ++called;
    });
  }
  ASSERT_TRUE(store->Wait(tickets.back()).ok());
  // Registered after the fact: called at once.
  bool immediate = false;
  store->OnDurable(tickets.front(),
                   [&](absl::Status s) { immediate = s.ok(); });
  EXPECT_TRUE(immediate);
  // Wait() returning says the batches are durable; their callbacks run on
  // the writer thread right after, so wait (bounded) for them.
  absl::MutexLock lock(&mu);
  auto all_called = [&] { return called.load() >= 100; };
  mu.AwaitWithTimeout(absl::Condition(&all_called), absl::Seconds(10));
  EXPECT_EQ(called.load(), 100);
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
}

TEST_F(EmbeddedStoreTest, TornTailAfterACrashIsDroppedNeverHalfApplied) {
  {
    auto store = Open();
    ASSERT_TRUE(store->Commit({Put("t", "a", "1")}).ok());
    ASSERT_TRUE(store->Commit({Put("t", "b", "2"), Put("t", "c", "3")}).ok());
  }
  // A crash leaves no clean-close marker.
  ASSERT_TRUE(fs::remove(dir_ / "CLEAN"));
  const fs::path log = dir_ / "log-00000000000000000000";
  const auto full = fs::file_size(log);
  // Cut the last record in half, as a crash mid-write would.
  fs::resize_file(log, full - 5);
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    EXPECT_THAT(ScanAll(*store, "t"), ElementsAre(Pair("a", "1")));
    const RecoveryStats stats = *GetRecoveryStats(*store);
    EXPECT_EQ(stats.log_batches, 1);
    EXPECT_GT(stats.torn_tail_bytes, 0);
    EXPECT_FALSE(stats.clean);
    // New writes follow the last whole record.
    ASSERT_TRUE(store->Commit({Put("t", "d", "4")}).ok());
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(ScanAll(*store, "t"),
              ElementsAre(Pair("a", "1"), Pair("d", "4")));
  EXPECT_TRUE(GetRecoveryStats(*store)->clean);
}

TEST_F(EmbeddedStoreTest, CorruptLastRecordIsDataLossNotATornTail) {
  {
    auto store = Open();
    ASSERT_TRUE(store->Commit({Put("t", "a", "1")}).ok());
    ASSERT_TRUE(store->Commit({Put("t", "b", "2")}).ok());
  }
  ASSERT_TRUE(fs::remove(dir_ / "CLEAN"));  // even after a crash
  const fs::path log = dir_ / "log-00000000000000000000";
  {
    std::fstream f(log, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-1, std::ios::end);
    f.put('X');  // flip the last byte of the last value
  }
  const auto size = fs::file_size(log);
  StoreOptions options;
  options.dir = dir_.string();
  const absl::Status status = OpenStore(options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(status.message(), HasSubstr("log-00000000000000000000: record "
                                          "checksum mismatch at byte"));
  EXPECT_EQ(fs::file_size(log), size);  // nothing truncated
}

TEST_F(EmbeddedStoreTest, CompactionBoundsTheLogAndKeepsTheData) {
  {
    auto store = Open(/*compact_after=*/4096);
    for (int i = 0; i < 2000; ++i) {
      ASSERT_TRUE(
          store->Commit({Put("t", absl::StrCat("k", i % 10), absl::StrCat(i))})
              .ok());
    }
  }
  // Only the newest generation is left (with the clean-close marker and
  // the lock file), and its log is short.
  const std::vector<std::string> files = Files();
  ASSERT_EQ(files.size(), 4u) << testing::PrintToString(files);
  EXPECT_EQ(files[0], "CLEAN");
  EXPECT_EQ(files[1], "LOCK");
  EXPECT_THAT(files[2], testing::StartsWith("log-"));
  EXPECT_THAT(files[3], testing::StartsWith("snapshot-"));
  EXPECT_EQ(files[2].substr(4), files[3].substr(9));
  EXPECT_LT(fs::file_size(dir_ / files[2]), 8192u);
  auto store = Open(4096);
  const Rows rows = ScanAll(*store, "t");
  ASSERT_EQ(rows.size(), 10u);
  for (int k = 0; k < 10; ++k) {
    EXPECT_EQ(rows[k].second, absl::StrCat(1990 + k));
  }
  EXPECT_EQ(GetRecoveryStats(*store)->snapshot_records, 10);
}

// Compact() on demand (erasure): a deleted record's bytes are in the log
// until then, and in no file after it; what is live survives a reopen.
TEST_F(EmbeddedStoreTest, CompactRemovesDeletedRecordsFromTheFiles) {
  const std::string marker = "erase-me-7f3a9c";
  auto files_hold = [&](const std::string& what) {
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (test_util::ReadFileBytes(e.path()).find(what) != std::string::npos) {
        return true;
      }
    }
    return false;
  };
  {
    auto store = Open();
    ASSERT_TRUE(store->Commit({Put("t", "keep", "kept-value")}).ok());
    ASSERT_TRUE(store->Commit({Put("t", "gone", marker)}).ok());
    ASSERT_TRUE(store->Commit({Delete("t", "gone")}).ok());
    EXPECT_TRUE(files_hold(marker));  // the log still has the put
    ASSERT_TRUE(store->Compact().ok());
    EXPECT_FALSE(files_hold(marker));
    EXPECT_TRUE(files_hold("kept-value"));
    // Writes go on in the new generation, and a second compaction with
    // nothing new to write is fine too.
    ASSERT_TRUE(store->Commit({Put("t", "after", "v")}).ok());
    ASSERT_TRUE(store->Compact().ok());
    ASSERT_TRUE(store->Compact().ok());
  }
  EXPECT_FALSE(files_hold(marker));
  auto store = Open();
  EXPECT_THAT(ScanAll(*store, "t"),
              ElementsAre(Pair("after", "v"), Pair("keep", "kept-value")));
}

// Compactions asked for from several threads while others write all
// return, and nothing written is lost.
TEST_F(EmbeddedStoreTest, CompactWhileWriting) {
  auto store = Open();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        if (t % 2 == 0) {
          EXPECT_TRUE(
              store->Commit({Put("t", absl::StrCat(t, "-", i), "v")}).ok());
        } else if (i % 10 == 0) {
          EXPECT_TRUE(store->Compact().ok());
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  store.reset();
  EXPECT_EQ(ScanAll(*Open(), "t").size(), 100u);
}

TEST_F(EmbeddedStoreTest, InterruptedSnapshotIsIgnored) {
  {
    auto store = Open();
    ASSERT_TRUE(store->Commit({Put("t", "a", "1")}).ok());
  }
  {
    std::ofstream junk(dir_ / "snapshot-00000000000000000001.tmp");
    junk << "half a snapshot";
  }
  auto store = Open();
  EXPECT_THAT(ScanAll(*store, "t"), ElementsAre(Pair("a", "1")));
  EXPECT_THAT(Files(), ElementsAre("LOCK", "log-00000000000000000000"));
}

TEST_F(EmbeddedStoreTest, DamagedSnapshotIsDataLoss) {
  {
    auto store = Open(/*compact_after=*/256);
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(store->Commit({Put("t", "k", absl::StrCat(i))}).ok());
    }
  }
  fs::path snapshot;
  for (const auto& e : fs::directory_iterator(dir_)) {
    if (e.path().filename().string().rfind("snapshot-", 0) == 0)
      snapshot = e.path();
  }
  ASSERT_FALSE(snapshot.empty());
  fs::resize_file(snapshot, fs::file_size(snapshot) - 1);
  StoreOptions options;
  options.dir = dir_.string();
  const absl::Status status = OpenStore(options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(absl::StrCat(snapshot.string(),
                                     ": a record of 2 bytes "
                                     "cut short by the end of the file")));
}

}  // namespace
}  // namespace utm::store
