// The file backend of the audit log: entries are chained and durable, a
// reopened log continues its chain, and a tampered log is refused at open.
#include "services/common/audit/audit_log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::audit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

AuditEvent Event(int i) {
  AuditEvent event;
  event.subject = "police-1";
  event.case_reference = "CASE-7";
  event.action = "intent-owner";
  event.target = absl::StrCat("intent-", i);
  event.disclosed = absl::StrCat("operator-", i);
  return event;
}

class FileAuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           absl::StrCat(
               "audit-", getpid(), "-",
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "audit.log").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> Lines() const {
    std::ifstream in(path_);
    std::stringstream content;
    content << in.rdbuf();
    std::vector<std::string> lines =
        absl::StrSplit(content.str(), '\n', absl::SkipEmpty());
    return lines;
  }
  void Write(const std::vector<std::string>& lines) const {
    std::ofstream out(path_, std::ios::trunc);
    for (const std::string& line : lines) out << line << "\n";
  }
  void Fill(int n) {
    absl::StatusOr<std::unique_ptr<AuditLog>> log =
        OpenFileAuditLog(path_, &clock_);
    ASSERT_TRUE(log.ok()) << log.status();
    for (int i = 1; i <= n; ++i) {
      ASSERT_TRUE((*log)->Record(Event(i)).ok());
      clock_.Advance(absl::Seconds(1));
    }
  }

  fs::path dir_;
  std::string path_;
  SimulatedClock clock_{absl::FromUnixSeconds(1'800'000'000)};
};

TEST_F(FileAuditLogTest, RecordsAChainMode0600) {
  Fill(3);
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0], HasSubstr("seq=1 time=2027-01-15T08:00:00Z "
                                  "action=intent-owner subject=police-1 "
                                  "case=CASE-7 target=intent-1 "));
  absl::StatusOr<VerifyResult> verified = VerifyAuditLines(lines);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->count, 3);
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(FileAuditLogTest, ReopenContinuesTheChain) {
  Fill(2);
  Fill(2);
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_THAT(lines[2], HasSubstr("seq=3 "));
  absl::StatusOr<VerifyResult> verified = VerifyAuditLines(lines);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->head.sequence, 4);
}

TEST_F(FileAuditLogTest, ReadsPagesAndTheHead) {
  Fill(5);
  absl::StatusOr<std::unique_ptr<AuditLog>> log =
      OpenFileAuditLog(path_, &clock_);
  ASSERT_TRUE(log.ok()) << log.status();
  const std::vector<std::string> lines = Lines();
  absl::StatusOr<AuditPage> page = (*log)->Read(1, 2);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(page->lines, ::testing::ElementsAre(lines[1], lines[2]));
  EXPECT_EQ(page->head, VerifyAuditLines(lines)->head);
  page = (*log)->Read(3, 100);
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(page->lines, ::testing::ElementsAre(lines[3], lines[4]));
  page = (*log)->Read(5, 100);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->lines.empty());
  EXPECT_EQ(page->head.sequence, 5);
  // A record after the read shows up in the next one.
  ASSERT_TRUE((*log)->Record(Event(6)).ok());
  page = (*log)->Read(5, 100);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->lines.size(), 1u);
  EXPECT_THAT(page->lines[0], HasSubstr("seq=6 "));
}

TEST_F(FileAuditLogTest, RefusesAnEditedLogNamingTheEntry) {
  Fill(4);
  std::vector<std::string> lines = Lines();
  const size_t at = lines[1].find("operator-2");
  ASSERT_NE(at, std::string::npos);
  lines[1][at] = 'O';  // one byte
  Write(lines);
  absl::StatusOr<std::unique_ptr<AuditLog>> log =
      OpenFileAuditLog(path_, &clock_);
  EXPECT_EQ(log.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(log.status().message(),
              HasSubstr(absl::StrCat(path_,
                                     ": audit entry 2 (line 2): hash: "
                                     "does not match")));
}

TEST_F(FileAuditLogTest, RefusesADroppedEntry) {
  Fill(4);
  std::vector<std::string> lines = Lines();
  lines.erase(lines.begin() + 2);
  Write(lines);
  absl::StatusOr<std::unique_ptr<AuditLog>> log =
      OpenFileAuditLog(path_, &clock_);
  EXPECT_EQ(log.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(log.status().message(), HasSubstr("audit entry 3 (line 3)"));
}

TEST_F(FileAuditLogTest, RefusesAnIncompleteLastLine) {
  Fill(2);
  {
    std::ofstream out(path_, std::ios::app);
    out << "seq=3 time=";
  }
  absl::StatusOr<std::unique_ptr<AuditLog>> log =
      OpenFileAuditLog(path_, &clock_);
  EXPECT_EQ(log.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(log.status().message(),
              HasSubstr("audit entry 3 (line 3): incomplete, no line end"));
}

TEST_F(FileAuditLogTest, RefusesAnOversizedEvent) {
  absl::StatusOr<std::unique_ptr<AuditLog>> log =
      OpenFileAuditLog(path_, &clock_);
  ASSERT_TRUE(log.ok());
  AuditEvent event = Event(1);
  event.disclosed = std::string(kMaxEntryBytes, 'x');
  const absl::Status status = (*log)->Record(event);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("nothing is disclosed"));
  EXPECT_TRUE(Lines().empty());
  // The chain goes on from where it was.
  ASSERT_TRUE((*log)->Record(Event(2)).ok());
  EXPECT_THAT(Lines()[0], HasSubstr("seq=1 "));
}

TEST_F(FileAuditLogTest, OpenNamesAnUnopenablePath) {
  absl::StatusOr<std::unique_ptr<AuditLog>> log =
      OpenFileAuditLog((dir_ / "missing" / "audit.log").string(), &clock_);
  EXPECT_EQ(log.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(log.status().message(), HasSubstr("missing/audit.log"));
}

// Entries about an erased operator keep their place in the chain with its
// id replaced by a pseudonym: the file holds the id nowhere afterwards, the
// chain and its head are unchanged, and appending goes on.
TEST_F(FileAuditLogTest, RedactsAnOperatorKeepingTheChain) {
  absl::StatusOr<std::unique_ptr<AuditLog>> log =
      OpenFileAuditLog(path_, &clock_);
  ASSERT_TRUE(log.ok()) << log.status();
  for (int i = 1; i <= 5; ++i) {
    AuditEvent event = Event(i);
    if (i % 2 == 1) {
      event.about = "alice";
      event.disclosed = "operator_account=alice,aircraft_id=A-1";
    }
    ASSERT_TRUE((*log)->Record(event).ok());
  }
  absl::StatusOr<std::vector<AuditEntry>> about =
      EntriesAbout(**log, "alice", 100);
  ASSERT_TRUE(about.ok()) << about.status();
  ASSERT_EQ(about->size(), 3u);
  EXPECT_EQ((*about)[1].sequence, 3);
  EXPECT_EQ(EntriesAbout(**log, "alice", 2)->front().sequence, 3);
  const AuditHead head = VerifyAuditLines(Lines())->head;

  absl::StatusOr<int64_t> redacted = (*log)->Redact({{"alice", "op-9f2c"}});
  ASSERT_TRUE(redacted.ok()) << redacted.status();
  EXPECT_EQ(*redacted, 3);
  std::ifstream in(path_);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_THAT(content.str(), Not(HasSubstr("alice")));
  absl::StatusOr<VerifyResult> verified = VerifyAuditLines(Lines());
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->head, head);
  EXPECT_EQ(EntriesAbout(**log, "op-9f2c", 100)->size(), 3u);
  EXPECT_TRUE(EntriesAbout(**log, "alice", 100)->empty());
  // Reads see the new file; appends continue it; a reopen verifies it.
  absl::StatusOr<AuditPage> page = (*log)->Read(2, 1);
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(page->lines[0], HasSubstr("about~="));
  ASSERT_TRUE((*log)->Record(Event(6)).ok());
  EXPECT_EQ(*(*log)->Redact({{"alice", "op-9f2c"}}), 0);
  log->reset();
  log = OpenFileAuditLog(path_, &clock_);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(VerifyAuditLines(Lines())->head.sequence, 6);
}

// A redaction cut short leaves its new file beside the log; the log is
// whole, and the next open removes the leftover.
TEST_F(FileAuditLogTest, ALeftoverRedactionIsRemovedAtOpen) {
  Fill(2);
  {
    std::ofstream leftover(path_ + ".redact-tmp");
    leftover << "seq=1 half";
  }
  absl::StatusOr<std::unique_ptr<AuditLog>> log =
      OpenFileAuditLog(path_, &clock_);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_FALSE(fs::exists(path_ + ".redact-tmp"));
  EXPECT_EQ(Lines().size(), 2u);
}

TEST_F(FileAuditLogTest, RefusesToRedactFormatOneEntriesHoldingTheId) {
  const std::string body =
      "seq=1 time=2027-01-15T08:00:00Z action=intent-owner subject=p "
      "case=C target=i-1 disclosed=alice "
      "prev=0000000000000000000000000000000000000000000000000000000000000000";
  Write({absl::StrCat(body, " hash=", Sha256Hex(body))});
  absl::StatusOr<std::unique_ptr<AuditLog>> log =
      OpenFileAuditLog(path_, &clock_);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ((*log)->Redact({{"alice", "p"}}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Lines()[0], HasSubstr("disclosed=alice "));
  EXPECT_EQ((*log)->Redact({{"", "p"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace utm::audit
