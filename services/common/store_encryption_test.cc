// The embedded store encrypted at rest (StoreOptions::key): a round trip;
// the plaintext never on disk; a wrong key, no key, or a key on a store in
// the clear refused with every file left byte for byte as it was; an altered
// or moved record found by its tag; the torn tail still dropped; no nonce
// reused when a copy of a log is written to twice; key rotation, and a crash
// in the middle of it; key loading.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/file_testing.h"
#include "services/common/store.h"
#include "services/common/store_crypto.h"
#include "services/common/store_format.h"

namespace utm::store {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

using Contents = std::map<std::string, std::string>;

constexpr absl::string_view kMarker = "operator-secret-7431";

using ::utm::test_util::ReadFileBytes;
using ::utm::test_util::WriteFileBytes;

// Every file under `dir` (LOCK included), by relative path.
std::map<std::string, std::string> Files(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) {
      files[fs::relative(e.path(), dir).string()] = ReadFileBytes(e.path());
    }
  }
  return files;
}

std::string Key(char fill) { return std::string(crypto::kKeyBytes, fill); }

uint32_t GetU32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= static_cast<uint32_t>(static_cast<uint8_t>(s[at + i])) << (8 * i);
  }
  return v;
}

void PutU32(std::string* s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*s)[at + i] = static_cast<char>(v >> (8 * i));
}

// The offsets of the records of a format-3 file.
std::vector<size_t> RecordOffsets(const std::string& file) {
  std::vector<size_t> offsets;
  size_t at = format::kEncryptedFileHeaderBytes;
  while (at + format::kRecordHeaderBytes <= file.size()) {
    offsets.push_back(at);
    at += format::kRecordHeaderBytes + GetU32(file, at);
  }
  return offsets;
}

// Recomputes both CRCs of the record at `at`, so that only the GCM tag can
// tell that its payload was changed.
void FixCrcs(std::string* file, size_t at) {
  const uint32_t length = GetU32(*file, at);
  PutU32(file, at + 4,
         format::Crc(absl::string_view(*file).substr(
             at + format::kRecordHeaderBytes, length)));
  PutU32(file, at + 8, format::Crc(absl::string_view(*file).substr(at, 8)));
}

class StoreEncryptionTest : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(testing::TempDir()) /
            absl::StrCat(
                "store-encryption-", getpid(), "-",
                testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    dir_ = root_ / "store";
  }
  void TearDown() override { fs::remove_all(root_); }

  StoreOptions Options(const std::string& key,
                       int64_t compact_after = int64_t{64} << 20) const {
    StoreOptions options;
    options.dir = dir_.string();
    options.key = key;
    options.sync = false;  // no power cuts here: no need to wait for the disk
    options.compact_after_bytes = compact_after;
    return options;
  }

  // Commits `n` batches, numbered from `from`, each holding the marker in
  // its key and value; over 10 keys, so that the log outgrows the live data
  // and compacts.
  void Write(Store& store, int from, int n) {
    for (int i = from; i < from + n; ++i) {
      const std::string key = absl::StrCat(kMarker, "-key-", i % 10);
      const std::string value = absl::StrCat("value ", kMarker, " ", i);
      ASSERT_TRUE(store.Commit({Put("t", key, value)}).ok());
      expected_[key] = value;
    }
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

  std::string Only(absl::string_view prefix) const {
    std::string found;
    for (const auto& e : fs::directory_iterator(dir_)) {
      const std::string name = e.path().filename().string();
      if (absl::StartsWith(name, prefix)) {
        EXPECT_TRUE(found.empty()) << "two files start with " << prefix;
        found = name;
      }
    }
    EXPECT_FALSE(found.empty()) << "no file starts with " << prefix;
    return found;
  }

  fs::path root_;
  fs::path dir_;
  Contents expected_;
};

TEST_F(StoreEncryptionTest, RoundTripThroughCompactionsAndReopens) {
  const std::string key = Key('k');
  for (int round = 0; round < 3; ++round) {
    auto store = OpenStore(Options(key, /*compact_after=*/2048));
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ(Scan(**store), expected_) << "round " << round;
    EXPECT_EQ(GetRecoveryStats(**store)->key_id,
              crypto::KeyIdHex(crypto::KeyId(key)));
    Write(**store, round * 40, 40);
  }
  auto store = OpenStore(Options(key));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(Scan(**store), expected_);
  store->reset();
  EXPECT_TRUE(
      absl::StartsWith(ReadFileBytes(dir_ / Only("log-")), "utmlog3\n"));
  EXPECT_TRUE(
      absl::StartsWith(ReadFileBytes(dir_ / Only("snapshot-")), "utmsnp3\n"));
}

// The scan that proves the encrypted store keeps the marker off the disk
// must find it when encryption is off.
TEST_F(StoreEncryptionTest, ThePlaintextNeverReachesTheDisk) {
  for (const bool encrypted : {false, true}) {
    fs::remove_all(dir_);
    const std::string key = encrypted ? Key('m') : "";
    {
      auto store = OpenStore(Options(key, /*compact_after=*/4096));
      ASSERT_TRUE(store.ok()) << store.status();
      Write(**store, 0, 100);  // compacts several times: logs and snapshots
      ASSERT_TRUE((*store)
                      ->Commit({Delete("t", absl::StrCat(kMarker, "-key-3"))})
                      .ok());
    }
    {
      auto store = OpenStore(Options(key));  // and a reopened log
      ASSERT_TRUE(store.ok()) << store.status();
      Write(**store, 100, 5);
    }
    const auto files = Files(dir_);
    bool snapshot = false;
    int found = 0;
    for (const auto& [name, bytes] : files) {
      snapshot |= absl::StartsWith(name, "snapshot-");
      found += absl::StrContains(bytes, kMarker) ? 1 : 0;
    }
    EXPECT_TRUE(snapshot);
    if (encrypted) {
      EXPECT_EQ(found, 0) << "the marker is on disk in the clear";
    } else {
      EXPECT_EQ(found, 2) << "the scan should see the log and the snapshot";
    }
  }
}

TEST_F(StoreEncryptionTest, AKeyMismatchIsRefusedAndNothingIsTouched) {
  const std::string right = Key('r');
  const std::string wrong = Key('w');
  const std::string right_id = crypto::KeyIdHex(crypto::KeyId(right));
  const std::string wrong_id = crypto::KeyIdHex(crypto::KeyId(wrong));
  struct Case {
    std::string name;
    std::string written_with;  // "" in the clear
    std::string opened_with;
    bool crashed;  // no clean close: a torn tail would be cut
    std::vector<std::string> fragments;
  };
  const std::vector<Case> cases = {
      {"wrong key",
       right,
       wrong,
       false,
       {"store key: the store was written with key " + right_id,
        "--store-key gives " + wrong_id, "Nothing was changed"}},
      {"wrong key after a crash",
       right,
       wrong,
       true,
       {"written with key " + right_id, "--store-key gives " + wrong_id}},
      {"no key",
       right,
       "",
       true,
       {"is encrypted with key " + right_id, "no store key is given"}},
      {"a key on a store in the clear",
       "",
       right,
       true,
       {"is not encrypted, but a store key is given", "--store-old-key none"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    fs::remove_all(dir_);
    {
      auto store = OpenStore(Options(c.written_with, /*compact_after=*/1024));
      ASSERT_TRUE(store.ok()) << store.status();
      Write(**store, 0, 30);
    }
    if (c.crashed) {
      // As a crash while appending leaves it: no marker, a torn record.
      fs::remove(dir_ / "CLEAN");
      const fs::path log = dir_ / Only("log-");
      std::string bytes = ReadFileBytes(log);
      bytes += bytes.substr(bytes.size() - 20, 15);
      WriteFileBytes(log, bytes);
    }
    for (const bool salvage : {false, true}) {
      const auto before = Files(dir_);
      StoreOptions options = Options(c.opened_with);
      options.salvage = salvage;
      auto store = OpenStore(options);
      ASSERT_FALSE(store.ok());
      EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition)
          << store.status();
      for (const std::string& f : c.fragments) {
        EXPECT_THAT(std::string(store.status().message()), HasSubstr(f));
      }
      if (!c.opened_with.empty()) {
        EXPECT_THAT(std::string(store.status().message()),
                    Not(HasSubstr(c.opened_with)));
      }
      EXPECT_EQ(Files(dir_), before) << "a file changed";
    }
  }
}

// CRCs fixed after the change: only the tag can find it.
TEST_F(StoreEncryptionTest, AnAlteredRecordIsDamageAtItsOffset) {
  const std::string key = Key('a');
  {
    auto store = OpenStore(Options(key, /*compact_after=*/1024));
    ASSERT_TRUE(store.ok()) << store.status();
    Write(**store, 0, 30);
  }
  // After a crash: the log is checked record by record, not against the
  // clean-close marker.
  fs::remove(dir_ / "CLEAN");
  const fs::path pristine = root_ / "pristine";
  fs::copy(dir_, pristine);
  for (const std::string prefix : {"log-", "snapshot-"}) {
    const std::string name = Only(prefix);
    const std::string file = ReadFileBytes(pristine / name);
    const std::vector<size_t> records = RecordOffsets(file);
    ASSERT_GE(records.size(), 2u) << name;
    const size_t at = records[records.size() / 2];
    std::string flipped = file;
    flipped[at + format::kRecordHeaderBytes + 3] ^= 0x20;
    FixCrcs(&flipped, at);
    // Two records exchanged (each with its own CRCs): the position is
    // authenticated, so the tag fails at the first.
    std::string swapped = file.substr(0, records[0]);
    const size_t second_end = records.size() > 2 ? records[2] : file.size();
    swapped += file.substr(records[1], second_end - records[1]);
    swapped += file.substr(records[0], records[1] - records[0]);
    swapped += file.substr(second_end);
    for (const auto& [what, bytes, offset] :
         {std::tuple<std::string, std::string, size_t>{"flipped", flipped, at},
          {"swapped", swapped, records[0]}}) {
      SCOPED_TRACE(name + " " + what);
      fs::remove_all(dir_);
      fs::copy(pristine, dir_);
      WriteFileBytes(dir_ / name, bytes);
      auto store = OpenStore(Options(key));
      ASSERT_FALSE(store.ok());
      EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss)
          << store.status();
      EXPECT_THAT(std::string(store.status().message()),
                  HasSubstr(absl::StrCat((dir_ / name).string(),
                                         ": record authentication failed")));
      EXPECT_THAT(std::string(store.status().message()),
                  HasSubstr(absl::StrCat(" at byte ", offset, " of ")));
    }
  }
}

// --salvage on an encrypted store: the damaged files kept aside, the valid
// prefix written again under the key.
TEST_F(StoreEncryptionTest, SalvageKeepsTheValidPrefixEncrypted) {
  const std::string key = Key('s');
  {
    auto store = OpenStore(Options(key));
    ASSERT_TRUE(store.ok()) << store.status();
    Write(**store, 0, 10);
  }
  fs::remove(dir_ / "CLEAN");
  const fs::path log = dir_ / Only("log-");
  std::string bytes = ReadFileBytes(log);
  const std::vector<size_t> records = RecordOffsets(bytes);
  ASSERT_EQ(records.size(), 10u);
  const size_t at = records[7];
  bytes[at + format::kRecordHeaderBytes + 1] ^= 0x01;
  FixCrcs(&bytes, at);
  WriteFileBytes(log, bytes);
  StoreOptions options = Options(key);
  options.salvage = true;
  {
    auto store = OpenStore(options);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_FALSE(GetRecoveryStats(**store)->salvaged_to.empty());
    EXPECT_EQ(Scan(**store).size(), 7u);  // batches 0..6, before the damage
  }
  for (const auto& e : fs::directory_iterator(dir_)) {
    const std::string name = e.path().filename().string();
    if (absl::StartsWith(name, "log-") || absl::StartsWith(name, "snapshot-")) {
      EXPECT_FALSE(absl::StrContains(ReadFileBytes(e.path()), kMarker)) << name;
      EXPECT_EQ(format::PeekKey(ReadFileBytes(e.path()),
                                absl::StartsWith(name, "log-")
                                    ? format::FileKind::kLog
                                    : format::FileKind::kSnapshot)
                    .key_id,
                crypto::KeyId(key))
          << name;
    }
  }
  auto store = OpenStore(Options(key));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(Scan(**store).size(), 7u);
}

TEST_F(StoreEncryptionTest, ATornTailIsStillDropped) {
  const std::string key = Key('t');
  {
    auto store = OpenStore(Options(key));
    ASSERT_TRUE(store.ok()) << store.status();
    Write(**store, 0, 10);
  }
  // A crash while appending the 11th batch: no marker, its record cut short.
  fs::remove(dir_ / "CLEAN");
  const fs::path log = dir_ / Only("log-");
  const std::string whole = ReadFileBytes(log);
  const std::vector<size_t> records = RecordOffsets(whole);
  const std::string last =
      whole.substr(records.back());  // a record of the same shape
  WriteFileBytes(log, whole + last.substr(0, last.size() - 5));
  {
    auto store = OpenStore(Options(key));
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ(GetRecoveryStats(**store)->torn_tail_bytes,
              static_cast<int64_t>(last.size() - 5));
    EXPECT_EQ(Scan(**store), expected_);
    Write(**store, 10, 5);
  }
  auto store = OpenStore(Options(key));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(Scan(**store), expected_);
}

// Two copies of one log (a crash, or a backup restored while the original
// runs on) written to with the same batch: the records at the same place
// must differ, or one (key, nonce) pair would seal two plaintexts.
TEST_F(StoreEncryptionTest, ACopyWrittenToAgainUsesFreshNonces) {
  const std::string key = Key('n');
  {
    auto store = OpenStore(Options(key));
    ASSERT_TRUE(store.ok()) << store.status();
    Write(**store, 0, 5);
  }
  for (const std::string copy : {"a", "b"}) {
    fs::copy(dir_, root_ / copy);
  }
  std::vector<std::string> logs;
  for (const std::string copy : {"a", "b"}) {
    StoreOptions options = Options(key);
    options.dir = (root_ / copy).string();
    {
      auto store = OpenStore(options);
      ASSERT_TRUE(store.ok()) << store.status();
      ASSERT_TRUE((*store)->Commit({Put("t", "same", "same value")}).ok());
    }
    for (const auto& e : fs::directory_iterator(root_ / copy)) {
      if (absl::StartsWith(e.path().filename().string(), "log-")) {
        logs.push_back(ReadFileBytes(e.path()));
      }
    }
  }
  ASSERT_EQ(logs.size(), 2u);
  ASSERT_EQ(logs[0].size(), logs[1].size());
  const std::string original = ReadFileBytes(dir_ / Only("log-"));
  EXPECT_EQ(logs[0].substr(0, original.size()), original);
  EXPECT_EQ(logs[1].substr(0, original.size()), original);
  EXPECT_NE(logs[0].substr(original.size()), logs[1].substr(original.size()));
  // And the very last record (same plaintext, same offset) differs too.
  const size_t last = RecordOffsets(logs[0]).back();
  EXPECT_NE(logs[0].substr(last), logs[1].substr(last));
}

TEST_F(StoreEncryptionTest, RotationRewritesUnderTheNewKey) {
  const std::string old_key = Key('1');
  const std::string new_key = Key('2');
  {
    auto store = OpenStore(Options(old_key, /*compact_after=*/1024));
    ASSERT_TRUE(store.ok()) << store.status();
    Write(**store, 0, 30);
  }
  {
    StoreOptions options = Options(new_key);
    options.old_key = old_key;
    auto store = OpenStore(options);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_TRUE(GetRecoveryStats(**store)->rekeyed);
    EXPECT_EQ(Scan(**store), expected_);
    Write(**store, 30, 5);
  }
  for (const auto& [name, bytes] : Files(dir_)) {
    if (name == "LOCK" || name == "CLEAN") continue;
    const format::KeyInfo info = format::PeekKey(
        bytes, absl::StartsWith(name, "log-") ? format::FileKind::kLog
                                              : format::FileKind::kSnapshot);
    ASSERT_TRUE(info.key_id.has_value()) << name;
    EXPECT_EQ(*info.key_id, crypto::KeyId(new_key)) << name;
  }
  // The old key is no longer needed, nor accepted alone.
  auto old_only = OpenStore(Options(old_key));
  EXPECT_EQ(old_only.status().code(), absl::StatusCode::kFailedPrecondition);
  auto store = OpenStore(Options(new_key));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_FALSE(GetRecoveryStats(**store)->rekeyed);
  EXPECT_EQ(Scan(**store), expected_);
}

TEST_F(StoreEncryptionTest, EncryptingAndDecryptingAnExistingStore) {
  {
    auto store = OpenStore(Options(""));
    ASSERT_TRUE(store.ok()) << store.status();
    Write(**store, 0, 10);
  }
  const std::string key = Key('e');
  {
    StoreOptions options = Options(key);
    options.old_key = "";  // --store-old-key none
    auto store = OpenStore(options);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_TRUE(GetRecoveryStats(**store)->rekeyed);
    EXPECT_EQ(Scan(**store), expected_);
  }
  for (const auto& [name, bytes] : Files(dir_)) {
    EXPECT_FALSE(absl::StrContains(bytes, kMarker)) << name;
  }
  {
    StoreOptions options = Options("");
    options.old_key = key;
    auto store = OpenStore(options);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_TRUE(GetRecoveryStats(**store)->rekeyed);
  }
  auto store = OpenStore(Options(""));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(Scan(**store), expected_);
}

// The two moments a crash can interrupt a rotation: before the new snapshot
// is renamed into place (only the old key's files count), and after (the
// new snapshot counts; the old generation is stale and removed).
TEST_F(StoreEncryptionTest, ACrashDuringRotationRecovers) {
  const std::string old_key = Key('o');
  const std::string new_key = Key('N');
  {
    auto store = OpenStore(Options(old_key));
    ASSERT_TRUE(store.ok()) << store.status();
    Write(**store, 0, 20);
  }
  const fs::path before = root_ / "before";
  fs::copy(dir_, before);
  {
    StoreOptions options = Options(new_key);
    options.old_key = old_key;
    auto store = OpenStore(options);
    ASSERT_TRUE(store.ok()) << store.status();
  }
  const std::string new_snapshot = Only("snapshot-");
  const std::string rotated = ReadFileBytes(dir_ / new_snapshot);

  // Before the rename: the old files and a snapshot-*.tmp. The new key
  // alone is refused, untouched; with both keys it rotates.
  fs::remove_all(dir_);
  fs::copy(before, dir_);
  fs::remove(dir_ / "CLEAN");
  WriteFileBytes(dir_ / (new_snapshot + ".tmp"), rotated.substr(0, 100));
  const auto files = Files(dir_);
  auto refused = OpenStore(Options(new_key));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Files(dir_), files);
  {
    StoreOptions options = Options(new_key);
    options.old_key = old_key;
    auto store = OpenStore(options);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ(Scan(**store), expected_);
  }

  // After the rename: the new snapshot next to the old generation's files;
  // the new key alone is enough.
  fs::remove_all(dir_);
  fs::copy(before, dir_);
  fs::remove(dir_ / "CLEAN");
  WriteFileBytes(dir_ / new_snapshot, rotated);
  auto store = OpenStore(Options(new_key));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(Scan(**store), expected_);
}

TEST(StoreKeyTest, LoadKeyFromAFileOrTheEnvironment) {
  const fs::path dir =
      fs::path(testing::TempDir()) / absl::StrCat("store-key-", getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string raw(crypto::kKeyBytes, '\x07');
  const std::string hex = absl::BytesToHexString(raw);
  auto write = [&](const std::string& name, const std::string& bytes,
                   mode_t mode) {
    const fs::path p = dir / name;
    WriteFileBytes(p, bytes);
    ::chmod(p.c_str(), mode);
    return p.string();
  };
  EXPECT_EQ(*crypto::LoadKey(write("raw", raw, 0600)), raw);
  EXPECT_EQ(*crypto::LoadKey(write("hex", hex + "\n", 0400)), raw);

  struct Bad {
    std::string spec;
    absl::StatusCode code;
    std::string fragment;
  };
  ::setenv("UTM_TEST_STORE_KEY", hex.c_str(), 1);
  ::setenv("UTM_TEST_STORE_KEY_SHORT", hex.substr(2).c_str(), 1);
  EXPECT_EQ(*crypto::LoadKey("env:UTM_TEST_STORE_KEY"), raw);
  const std::vector<Bad> bad = {
      {write("lax", hex, 0644), absl::StatusCode::kFailedPrecondition,
       "(mode 0644); chmod 600 it"},
      {write("short", hex.substr(1), 0600), absl::StatusCode::kInvalidArgument,
       "must hold 32 raw bytes or 64 hex characters, found 63 bytes"},
      {write("nonhex", "z" + hex.substr(1), 0600),
       absl::StatusCode::kInvalidArgument, "with a non-hex character"},
      {(dir / "missing").string(), absl::StatusCode::kInvalidArgument,
       "does not exist"},
      {"env:UTM_TEST_STORE_KEY_UNSET", absl::StatusCode::kInvalidArgument,
       "\"UTM_TEST_STORE_KEY_UNSET\" is not set"},
      {"env:UTM_TEST_STORE_KEY_SHORT", absl::StatusCode::kInvalidArgument,
       "must hold 64 hex characters, found 62"},
      {"", absl::StatusCode::kInvalidArgument, "empty"},
  };
  for (const Bad& b : bad) {
    const absl::StatusOr<std::string> key = crypto::LoadKey(b.spec);
    EXPECT_EQ(key.status().code(), b.code) << b.spec << ": " << key.status();
    EXPECT_THAT(std::string(key.status().message()), HasSubstr(b.fragment))
        << b.spec;
    EXPECT_THAT(std::string(key.status().message()), Not(HasSubstr(hex)));
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace utm::store
