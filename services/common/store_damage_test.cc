// The embedded store against damaged files: every flipped byte and every cut
// of its logs and snapshots either recovers every acknowledged write or
// refuses with DATA_LOSS, changing nothing on disk; salvage; the lock; the
// format-1 reader; failure reporting.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/file_testing.h"
#include "services/common/store.h"
#include "services/common/store_format.h"

namespace utm::store {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

using Contents = std::map<std::string, std::string>;  // key -> value

using ::utm::test_util::ReadFileBytes;
using ::utm::test_util::WriteFileBytes;

// Every file of a directory, by name (LOCK left out: it holds a pid).
std::map<std::string, std::string> Files(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().filename() != "LOCK") {
      files[e.path().filename().string()] = ReadFileBytes(e.path());
    }
  }
  return files;
}

class StoreDamageTest : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(testing::TempDir()) /
            absl::StrCat(
                "store-damage-", getpid(), "-",
                testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    pristine_ = root_ / "pristine";
    dir_ = root_ / "case";
  }
  void TearDown() override { fs::remove_all(root_); }

  StoreOptions Options(const fs::path& dir, int64_t compact_after) const {
    StoreOptions options;
    options.dir = dir.string();
    options.compact_after_bytes = compact_after;
    // Damage is made by hand here, not by power cuts: no need to wait for
    // the disk in each of these thousands of cases.
    options.sync = false;
    return options;
  }

  // Writes `batches` acknowledged batches of distinct keys into pristine_
  // (compacting past `compact_after` bytes) and closes it cleanly.
  void Fill(int batches, int64_t compact_after = int64_t{64} << 20) {
    auto store = *OpenStore(Options(pristine_, compact_after));
    for (int i = 0; i < batches; ++i) {
      const std::string key = absl::StrCat("k", i);
      const std::string value = absl::StrCat("value-", i, "-", i * i);
      ASSERT_TRUE(store->Commit({Put("t", key, value)}).ok());
      acknowledged_[key] = value;
    }
  }

  // A fresh copy of pristine_ in dir_.
  void CopyPristine() {
    fs::remove_all(dir_);
    fs::copy(pristine_, dir_);
    fs::remove(dir_ / "LOCK");
  }

  static Contents Scan(Store& store) {
    Contents rows;
    EXPECT_TRUE(store
                    .Scan("t",
                          [&](absl::string_view k, absl::string_view v) {
                            rows[std::string(k)] = std::string(v);
                          })
                    .ok());
    return rows;
  }

  // Opens dir_: either every acknowledged write is there, or DATA_LOSS
  // naming `file` and a byte offset, with nothing on disk changed. Returns
  // true for DATA_LOSS.
  bool RecoversAllOrRefuses(const std::string& file, const std::string& what) {
    const auto before = Files(dir_);
    absl::StatusOr<std::unique_ptr<Store>> store =
        OpenStore(Options(dir_, int64_t{64} << 20));
    if (store.ok()) {
      EXPECT_EQ(Scan(**store), acknowledged_) << what;
      return false;
    }
    EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss)
        << what << ": " << store.status();
    EXPECT_THAT(std::string(store.status().message()),
                HasSubstr(absl::StrCat((dir_ / file).string(), ": ")))
        << what;
    EXPECT_THAT(std::string(store.status().message()), HasSubstr(" at byte"))
        << what;
    EXPECT_EQ(Files(dir_), before) << what << ": files changed on refusal";
    return true;
  }

  std::string Only(absl::string_view prefix) const {
    for (const auto& [name, bytes] : Files(pristine_)) {
      if (absl::StartsWith(name, prefix)) return name;
    }
    ADD_FAILURE() << "no " << prefix << " file";
    return "";
  }

  fs::path root_, pristine_, dir_;
  Contents acknowledged_;
};

// Offsets to damage in a file of `size` bytes: every byte of the first and
// last 64, and a stride through the middle.
std::vector<size_t> Offsets(size_t size) {
  std::vector<size_t> offsets;
  for (size_t i = 0; i < size; ++i) {
    if (i < 64 || i + 64 >= size || i % 7 == 0) offsets.push_back(i);
  }
  return offsets;
}

TEST_F(StoreDamageTest, EveryFlippedLogByteIsFoundAfterACleanClose) {
  Fill(40);
  const std::string log = Only("log-");
  const size_t size = fs::file_size(pristine_ / log);
  for (size_t offset : Offsets(size)) {
    CopyPristine();
    std::string bytes = ReadFileBytes(dir_ / log);
    bytes[offset] ^= 0x10;
    WriteFileBytes(dir_ / log, bytes);
    EXPECT_TRUE(RecoversAllOrRefuses(log, absl::StrCat("flip at ", offset)));
  }
}

TEST_F(StoreDamageTest, EveryFlippedLogByteIsFoundAfterACrash) {
  Fill(40);
  const std::string log = Only("log-");
  const size_t size = fs::file_size(pristine_ / log);
  int refused = 0, cases = 0;
  for (size_t offset : Offsets(size)) {
    CopyPristine();
    fs::remove(dir_ / "CLEAN");  // as a crash leaves it
    std::string bytes = ReadFileBytes(dir_ / log);
    bytes[offset] ^= 0x10;
    WriteFileBytes(dir_ / log, bytes);
    refused += RecoversAllOrRefuses(log, absl::StrCat("flip at ", offset));
    ++cases;
  }
  // Every byte is under a checksum: no flip goes unnoticed.
  EXPECT_EQ(refused, cases);
}

TEST_F(StoreDamageTest, EveryCutOfACleanlyClosedLogIsFound) {
  Fill(40);
  const std::string log = Only("log-");
  const size_t size = fs::file_size(pristine_ / log);
  for (size_t length = 0; length < size; ++length) {
    CopyPristine();
    fs::resize_file(dir_ / log, length);
    EXPECT_TRUE(RecoversAllOrRefuses(log, absl::StrCat("cut to ", length)))
        << "cut to " << length;
  }
}

// After a crash, a cut log looks exactly like a torn tail: what is kept must
// be a prefix of the batches, never part of one, and new writes must follow.
TEST_F(StoreDamageTest, CutAfterACrashKeepsAPrefixOfWholeBatches) {
  Fill(20);
  const std::string log = Only("log-");
  const size_t size = fs::file_size(pristine_ / log);
  for (size_t length = 0; length < size; length += 3) {
    CopyPristine();
    fs::remove(dir_ / "CLEAN");
    fs::resize_file(dir_ / log, length);
    absl::StatusOr<std::unique_ptr<Store>> store =
        OpenStore(Options(dir_, int64_t{64} << 20));
    ASSERT_TRUE(store.ok()) << length << ": " << store.status();
    const Contents rows = Scan(**store);
    for (int i = 0; i < static_cast<int>(rows.size()); ++i) {
      const std::string key = absl::StrCat("k", i);
      ASSERT_EQ(rows.count(key), 1u) << "cut to " << length;
      EXPECT_EQ(rows.at(key), acknowledged_.at(key));
    }
    ASSERT_TRUE((*store)->Commit({Put("t", "after", "x")}).ok());
    store->reset();
    auto reopened = *OpenStore(Options(dir_, int64_t{64} << 20));
    EXPECT_EQ(Scan(*reopened).count("after"), 1u) << "cut to " << length;
  }
}

TEST_F(StoreDamageTest, EveryFlipOrCutOfASnapshotIsFound) {
  Fill(60, /*compact_after=*/512);
  const std::string snapshot = Only("snapshot-");
  const size_t size = fs::file_size(pristine_ / snapshot);
  for (size_t offset : Offsets(size)) {
    CopyPristine();
    std::string bytes = ReadFileBytes(dir_ / snapshot);
    bytes[offset] ^= 0x01;
    WriteFileBytes(dir_ / snapshot, bytes);
    EXPECT_TRUE(
        RecoversAllOrRefuses(snapshot, absl::StrCat("flip at ", offset)));
  }
  for (size_t length = 0; length < size; ++length) {
    CopyPristine();
    fs::remove(dir_ / "CLEAN");  // snapshots have no torn tail, crash or not
    fs::resize_file(dir_ / snapshot, length);
    EXPECT_TRUE(
        RecoversAllOrRefuses(snapshot, absl::StrCat("cut to ", length)));
  }
}

TEST_F(StoreDamageTest, ZeroedStartOfTheLogIsFound) {
  Fill(200);
  const std::string log = Only("log-");
  for (bool crash : {false, true}) {
    CopyPristine();
    if (crash) fs::remove(dir_ / "CLEAN");
    std::string bytes = ReadFileBytes(dir_ / log);
    std::fill(bytes.begin(), bytes.begin() + 4096, '\0');
    WriteFileBytes(dir_ / log, bytes);
    EXPECT_TRUE(RecoversAllOrRefuses(log, "zeroed 4 KiB"));
  }
}

TEST_F(StoreDamageTest, LogWithoutItsSnapshotIsFound) {
  Fill(60, /*compact_after=*/512);
  CopyPristine();
  const std::string snapshot = Only("snapshot-");
  fs::remove(dir_ / snapshot);
  const absl::Status status =
      OpenStore(Options(dir_, int64_t{64} << 20)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(
      std::string(status.message()),
      HasSubstr(absl::StrCat("its snapshot ", snapshot, " is missing")));
}

TEST_F(StoreDamageTest, SalvageKeepsTheDamagedFilesAndTheValidPrefix) {
  Fill(40);
  CopyPristine();
  const std::string log = Only("log-");
  const std::string original = ReadFileBytes(dir_ / log);
  std::string bytes = original;
  bytes[bytes.size() / 2] ^= 0x55;
  WriteFileBytes(dir_ / log, bytes);

  StoreOptions options = Options(dir_, int64_t{64} << 20);
  options.salvage = true;
  Contents salvaged;
  std::string aside;
  {
    auto store = *OpenStore(options);
    const RecoveryStats stats = *GetRecoveryStats(*store);
    aside = stats.salvaged_to;
    ASSERT_FALSE(aside.empty());
    ASSERT_EQ(stats.salvage_notes.size(), 1u);
    EXPECT_THAT(stats.salvage_notes[0], HasSubstr(log));
    salvaged = Scan(*store);
    // A prefix of the batches survives, the damaged one and later do not.
    EXPECT_GT(salvaged.size(), 0u);
    EXPECT_LT(salvaged.size(), acknowledged_.size());
    for (const auto& [key, value] : salvaged) {
      EXPECT_EQ(acknowledged_.at(key), value);
    }
    ASSERT_TRUE(store->Commit({Put("t", "after", "x")}).ok());
  }
  // The damaged files are kept aside, byte for byte.
  EXPECT_EQ(ReadFileBytes(fs::path(aside) / log), bytes);
  EXPECT_TRUE(fs::exists(fs::path(aside) / "CLEAN"));
  // And the store starts normally from now on.
  auto store = *OpenStore(Options(dir_, int64_t{64} << 20));
  salvaged["after"] = "x";
  EXPECT_EQ(Scan(*store), salvaged);
  EXPECT_TRUE(GetRecoveryStats(*store)->salvaged_to.empty());
}

TEST_F(StoreDamageTest, SalvageOfAnUndamagedStoreChangesNothing) {
  Fill(10);
  CopyPristine();
  StoreOptions options = Options(dir_, int64_t{64} << 20);
  options.salvage = true;
  auto store = *OpenStore(options);
  EXPECT_TRUE(GetRecoveryStats(*store)->salvaged_to.empty());
  EXPECT_EQ(Scan(*store), acknowledged_);
}

TEST_F(StoreDamageTest, SecondOpenOfTheSameDirectoryIsRefused) {
  auto first = *OpenStore(Options(pristine_, int64_t{64} << 20));
  const absl::Status second =
      OpenStore(Options(pristine_, int64_t{64} << 20)).status();
  EXPECT_EQ(second.code(), absl::StatusCode::kFailedPrecondition) << second;
  EXPECT_THAT(std::string(second.message()),
              HasSubstr(absl::StrCat("pid ", ::getpid(), " holds")));
  first.reset();
  EXPECT_TRUE(OpenStore(Options(pristine_, int64_t{64} << 20)).ok());
}

// Format 1 (no file header, 8-byte record headers): still read, and
// rewritten in format 2 at once.
std::string Format1Record(const std::vector<Mutation>& batch) {
  std::string payload;
  auto varint = [&](uint64_t v) {
    while (v >= 0x80) {
      payload.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    payload.push_back(static_cast<char>(v));
  };
  auto bytes = [&](const std::string& s) {
    varint(s.size());
    payload += s;
  };
  varint(batch.size());
  for (const Mutation& m : batch) {
    payload.push_back(m.value ? 1 : 2);
    bytes(m.table);
    bytes(m.key);
    if (m.value) bytes(*m.value);
  }
  std::string out;
  auto u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  };
  u32(static_cast<uint32_t>(payload.size()));
  u32(format::Crc(payload));
  return out + payload;
}

TEST_F(StoreDamageTest, Format1LogIsReadAndRewritten) {
  fs::create_directories(dir_);
  WriteFileBytes(dir_ / "log-00000000000000000000",
                 Format1Record({Put("t", "a", "1"), Put("t", "b", "2")}) +
                     Format1Record({Delete("t", "b"), Put("t", "c", "3")}));
  {
    auto store = *OpenStore(Options(dir_, int64_t{64} << 20));
    EXPECT_EQ(Scan(*store), (Contents{{"a", "1"}, {"c", "3"}}));
  }
  const auto files = Files(dir_);
  EXPECT_EQ(files.count("log-00000000000000000000"), 0u);
  ASSERT_EQ(files.count("snapshot-00000000000000000001"), 1u);
  EXPECT_EQ(files.at("snapshot-00000000000000000001").substr(0, 8),
            std::string("utmsnp2\n"));
  auto store = *OpenStore(Options(dir_, int64_t{64} << 20));
  EXPECT_EQ(Scan(*store), (Contents{{"a", "1"}, {"c", "3"}}));
}

TEST_F(StoreDamageTest, Format1LogWithATornHeaderKeepsItsWholeRecords) {
  fs::create_directories(dir_);
  const std::string first = Format1Record({Put("t", "a", "1")});
  WriteFileBytes(dir_ / "log-00000000000000000000",
                 first + std::string("\x05\x00", 2));
  auto store = *OpenStore(Options(dir_, int64_t{64} << 20));
  EXPECT_EQ(Scan(*store), (Contents{{"a", "1"}}));
  EXPECT_EQ(GetRecoveryStats(*store)->torn_tail_bytes, 2);
}

TEST_F(StoreDamageTest, DamagedFormat1LogIsRefused) {
  fs::create_directories(dir_);
  std::string bytes =
      Format1Record({Put("t", "a", "1")}) + Format1Record({Put("t", "b", "2")});
  bytes[bytes.size() - 1] ^= 1;
  WriteFileBytes(dir_ / "log-00000000000000000000", bytes);
  EXPECT_TRUE(RecoversAllOrRefuses("log-00000000000000000000", "format 1"));
}

// A write that fails (here: the file-size limit, as a full disk would) makes
// the store refuse every later write and tell its failure listeners.
TEST_F(StoreDamageTest, FailedWriteIsReportedToListeners) {
  auto store = *OpenStore(Options(pristine_, int64_t{64} << 20));
  absl::Status reported;
  absl::Notification told;
  store->OnFailure([&](const absl::Status& s) {
    reported = s;
    told.Notify();
  });
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit old;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit small = old;
  small.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const absl::Status write =
      store->Commit({Put("t", "big", std::string(8192, 'x'))});
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  EXPECT_EQ(write.code(), absl::StatusCode::kUnavailable) << write;
  ASSERT_TRUE(told.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(reported.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store->Commit({Put("t", "small", "x")}).code(),
            absl::StatusCode::kUnavailable);
  absl::Status late;
  store->OnFailure([&](const absl::Status& s) { late = s; });
  EXPECT_EQ(late.code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace utm::store
