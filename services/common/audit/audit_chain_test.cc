#include "services/common/audit/audit_chain.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::audit {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

AuditEvent Event(int i) {
  AuditEvent event;
  event.subject = absl::StrCat("police-", i);
  event.case_reference = absl::StrCat("CASE-2026-", i);
  event.action = "intent-owner";
  event.target = absl::StrCat("intent-", i);
  event.disclosed = absl::StrCat("operator-", i);
  return event;
}

// A chain of `n` entries, one second apart.
std::vector<std::string> Chain(int n) {
  std::vector<std::string> lines;
  AuditHead head;
  for (int i = 1; i <= n; ++i) {
    lines.push_back(FormatAuditEntry(
        i, absl::FromUnixSeconds(1'800'000'000 + i), Event(i), head.hash));
    head.sequence = i;
    head.hash = lines.back().substr(lines.back().size() - 64);
  }
  return lines;
}

// Re-seals an edited line: recomputes its own hash, as a forger who knows
// the format would.
std::string Reseal(const std::string& line) {
  const std::string body = line.substr(0, line.rfind(" hash="));
  std::vector<std::string> tokens = absl::StrSplit(body, ' ');
  const std::string salt = tokens[8].substr(5);
  for (int i = 5; i < 8; ++i) {
    const size_t eq = tokens[i].find('=');
    const std::string name = tokens[i].substr(0, eq);
    tokens[i] = absl::StrCat(
        name, "#=",
        FieldDigest(salt, name, *UnescapeField(tokens[i].substr(eq + 1))));
  }
  return absl::StrCat(body, " hash=", Sha256Hex(absl::StrJoin(tokens, " ")));
}

constexpr char kSalt[] = "00112233445566778899aabbccddeeff";

TEST(AuditChain, BuildsAChainThatVerifies) {
  const std::vector<std::string> lines = Chain(5);
  absl::StatusOr<VerifyResult> result = VerifyAuditLines(lines);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->count, 5);
  EXPECT_EQ(result->head.sequence, 5);
  EXPECT_EQ(result->head.hash, lines[4].substr(lines[4].size() - 64));
  EXPECT_THAT(lines[0], HasSubstr(absl::StrCat(" prev=", kGenesisHash, " ")));
  EXPECT_THAT(lines[1], HasSubstr(absl::StrCat(
                            " prev=", lines[0].substr(lines[0].size() - 64))));
}

TEST(AuditChain, FormatIsStable) {
  AuditEvent event = Event(7);
  event.about = "operator-7";
  const std::string line = FormatAuditEntry(
      1, absl::FromUnixSeconds(1'800'000'000), event, kGenesisHash, kSalt);
  const std::string head =
      "seq=1 time=2027-01-15T08:00:00Z action=intent-owner subject=police-7 "
      "case=CASE-2026-7 ";
  const std::string tail =
      absl::StrCat(" salt=", kSalt, " prev=", kGenesisHash);
  const std::string hashed = absl::StrCat(
      head, "target#=", Sha256Hex(absl::StrCat(kSalt, ":target:intent-7")),
      " about#=", Sha256Hex(absl::StrCat(kSalt, ":about:operator-7")),
      " disclosed#=", Sha256Hex(absl::StrCat(kSalt, ":disclosed:operator-7")),
      tail);
  EXPECT_EQ(line, absl::StrCat(head,
                               "target=intent-7 about=operator-7 "
                               "disclosed=operator-7",
                               tail, " hash=", Sha256Hex(hashed)));
  // Each entry has its own salt.
  EXPECT_NE(NewAuditSalt(), NewAuditSalt());
  EXPECT_EQ(NewAuditSalt().size(), 32u);
  // FIPS 180-4 example "abc".
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(AuditChain, ParsesItsFields) {
  const std::vector<std::string> lines = Chain(2);
  absl::StatusOr<AuditEntry> entry = ParseAuditEntry(lines[1]);
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(entry->sequence, 2);
  EXPECT_EQ(entry->time, absl::FromUnixSeconds(1'800'000'002));
  EXPECT_EQ(entry->event.subject, "police-2");
  EXPECT_EQ(entry->event.case_reference, "CASE-2026-2");
  EXPECT_EQ(entry->event.target, "intent-2");
  EXPECT_EQ(entry->event.disclosed, "operator-2");
  EXPECT_EQ(entry->prev_hash, lines[0].substr(lines[0].size() - 64));
  EXPECT_EQ(entry->line, lines[1]);
}

TEST(AuditChain, CatchesAnEditedEntry) {
  std::vector<std::string> lines = Chain(5);
  lines[2] = absl::StrReplaceAll(lines[2], {{"operator-3", "operator-9"}});
  absl::StatusOr<VerifyResult> result = VerifyAuditLines(lines);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(result.status().message(),
              HasSubstr("audit entry 3 (line 3): hash: does not match"));
}

TEST(AuditChain, CatchesAnEditedEntryWhoseHashWasRecomputed) {
  std::vector<std::string> lines = Chain(5);
  lines[2] = Reseal(absl::StrReplaceAll(lines[2], {{"operator-3", "x"}}));
  ASSERT_TRUE(ParseAuditEntry(lines[2]).ok());
  absl::StatusOr<VerifyResult> result = VerifyAuditLines(lines);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(result.status().message(),
              HasSubstr("audit entry 4 (line 4): prev does not match the hash "
                        "of entry 3"));
}

TEST(AuditChain, CatchesADroppedEntry) {
  std::vector<std::string> lines = Chain(5);
  lines.erase(lines.begin() + 2);
  absl::StatusOr<VerifyResult> result = VerifyAuditLines(lines);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(result.status().message(),
              HasSubstr("audit entry 3 (line 3): has seq=4"));
}

TEST(AuditChain, CatchesADroppedFirstEntry) {
  std::vector<std::string> lines = Chain(3);
  lines.erase(lines.begin());
  absl::StatusOr<VerifyResult> result = VerifyAuditLines(lines);
  EXPECT_THAT(result.status().message(),
              HasSubstr("audit entry 1 (line 1): has seq=2"));
}

TEST(AuditChain, CatchesAnInsertedEntry) {
  std::vector<std::string> lines = Chain(5);
  // A well-formed entry claiming seq 3, chained to entry 2: its own hash is
  // right, but entry 3 that follows it no longer matches.
  const std::string forged =
      FormatAuditEntry(3, absl::FromUnixSeconds(1'800'000'100), Event(42),
                       lines[1].substr(lines[1].size() - 64));
  lines.insert(lines.begin() + 2, forged);
  absl::StatusOr<VerifyResult> result = VerifyAuditLines(lines);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(result.status().message(),
              HasSubstr("audit entry 4 (line 4): has seq=3"));
}

TEST(AuditChain, CatchesAnInsertedEntryWithTheRestRenumbered) {
  std::vector<std::string> lines = Chain(4);
  const std::string forged =
      FormatAuditEntry(3, absl::FromUnixSeconds(1'800'000'100), Event(42),
                       lines[1].substr(lines[1].size() - 64));
  lines.insert(lines.begin() + 2, forged);
  // The later entries renumbered and resealed, but their prev left alone
  // (rewriting it too would be rewriting the whole tail: see CheckHead).
  lines[3] = Reseal(absl::StrReplaceAll(lines[3], {{"seq=3 ", "seq=4 "}}));
  lines[4] = Reseal(absl::StrReplaceAll(lines[4], {{"seq=4 ", "seq=5 "}}));
  absl::StatusOr<VerifyResult> result = VerifyAuditLines(lines);
  EXPECT_THAT(result.status().message(),
              HasSubstr("audit entry 4 (line 4): prev does not match"));
}

TEST(AuditChain, CatchesTwoSwappedEntries) {
  std::vector<std::string> lines = Chain(5);
  std::swap(lines[1], lines[2]);
  absl::StatusOr<VerifyResult> result = VerifyAuditLines(lines);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(result.status().message(),
              HasSubstr("audit entry 2 (line 2): has seq=3"));
}

TEST(AuditChain, CatchesSwappedEntriesWithSwappedNumbers) {
  std::vector<std::string> lines = Chain(5);
  std::swap(lines[1], lines[2]);
  lines[1] = Reseal(absl::StrReplaceAll(lines[1], {{"seq=3 ", "seq=2 "}}));
  lines[2] = Reseal(absl::StrReplaceAll(lines[2], {{"seq=2 ", "seq=3 "}}));
  absl::StatusOr<VerifyResult> result = VerifyAuditLines(lines);
  EXPECT_THAT(result.status().message(),
              HasSubstr("audit entry 2 (line 2): prev does not match the hash "
                        "of entry 1"));
}

TEST(AuditChain, ContinuesFromAStart) {
  const std::vector<std::string> lines = Chain(5);
  absl::StatusOr<VerifyResult> first =
      VerifyAuditLines(absl::MakeConstSpan(lines).subspan(0, 2));
  ASSERT_TRUE(first.ok());
  absl::StatusOr<VerifyResult> rest =
      VerifyAuditLines(absl::MakeConstSpan(lines).subspan(2), first->head);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(rest->count, 3);
  EXPECT_EQ(rest->head.sequence, 5);
  // Starting from the wrong place fails at the first line.
  EXPECT_THAT(VerifyAuditLines(absl::MakeConstSpan(lines).subspan(2))
                  .status()
                  .message(),
              HasSubstr("audit entry 1 (line 1): has seq=3"));
}

TEST(AuditChain, EscapingLeavesNoSeparatorOrLineEnd) {
  AuditEvent event = Event(1);
  // A subject that tries to end its field and start a forged one, and
  // another that tries to start a new entry.
  event.subject = "p case=FAKE disclosed=x";
  event.target = "t\nseq=2 time=2027-01-15T08:00:00Z";
  event.disclosed = "%41 caf\xc3\xa9";
  const std::string line = FormatAuditEntry(
      1, absl::FromUnixSeconds(1'800'000'000), event, kGenesisHash);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_THAT(line, HasSubstr(" subject=p%20case%3DFAKE%20disclosed%3Dx "));
  EXPECT_THAT(line, HasSubstr(" target=t%0Aseq%3D2%20time%3D2027"));
  EXPECT_THAT(line, HasSubstr(" disclosed=%2541%20caf%C3%A9 "));
  absl::StatusOr<AuditEntry> entry = ParseAuditEntry(line);
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(entry->event.subject, event.subject);
  EXPECT_EQ(entry->event.case_reference, "CASE-2026-1");
  EXPECT_EQ(entry->event.target, event.target);
  EXPECT_EQ(entry->event.disclosed, event.disclosed);
  EXPECT_EQ(VerifyAuditLines({line})->count, 1);
}

TEST(AuditChain, RejectsNonCanonicalEscapes) {
  EXPECT_EQ(*UnescapeField("a%20b%25"), "a b%");
  EXPECT_THAT(UnescapeField("a%2").status().message(),
              HasSubstr("byte 1: % is not followed"));
  EXPECT_THAT(UnescapeField("a%2f").status().message(),
              HasSubstr("byte 1: % is not followed"));
  EXPECT_THAT(UnescapeField("%41").status().message(),
              HasSubstr("byte 0: %41 escapes a byte"));
  EXPECT_THAT(UnescapeField("a=b").status().message(),
              HasSubstr("byte 1 (0x3d) must be written %XX"));
}

TEST(AuditChain, NamesTheMalformedField) {
  struct Case {
    std::string line;
    std::string error;
  };
  const std::string good = Chain(1)[0];
  const std::vector<Case> cases = {
      {"", "has 1 space-separated fields, not 11 (or 9 in format 1)"},
      {absl::StrReplaceAll(good, {{"seq=1 ", "seq=01 "}}), "seq: \"01\""},
      {absl::StrReplaceAll(good, {{"seq=1 ", "sq=1 "}}),
       "field 1: expected seq="},
      {absl::StrReplaceAll(good, {{"time=2027", "time=x2027"}}),
       "time: not RFC 3339"},
      {absl::StrReplaceAll(good, {{":01Z ", ":01+00:00 "}}),
       "time: not in UTC with a Z"},
      {absl::StrReplaceAll(good, {{"subject=police-1", "subject=a%zz"}}),
       "subject: byte 1"},
      {absl::StrReplaceAll(good, {{" prev=0", " prev=A"}}),
       "prev: not 64 lower-case hex"},
      {good + "0", "hash: not 64 lower-case hex"},
      {std::string(kMaxEntryBytes + 1, 'a'), "more than 16384"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<AuditEntry> entry = ParseAuditEntry(c.line);
    EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument)
        << c.line;
    EXPECT_THAT(entry.status().message(), HasSubstr(c.error)) << c.line;
  }
}

TEST(AuditChain, ReadsFormatOne) {
  // Written before redaction existed: hashed over its own bytes.
  const std::string body = absl::StrCat(
      "seq=1 time=2027-01-15T08:00:00Z action=intent-owner subject=police-7 "
      "case=CASE-2026-7 target=intent-7 disclosed=operator-7 prev=",
      kGenesisHash);
  const std::string line = absl::StrCat(body, " hash=", Sha256Hex(body));
  absl::StatusOr<AuditEntry> entry = ParseAuditEntry(line);
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(entry->format, 1);
  EXPECT_EQ(entry->event.disclosed, "operator-7");
  EXPECT_EQ(entry->event.about, "");
  // It continues into format 2 entries.
  const std::string next = FormatAuditEntry(
      2, absl::FromUnixSeconds(1'800'000'001), Event(8), entry->hash);
  EXPECT_TRUE(VerifyAuditLines({line, next}).ok());
  // It cannot be redacted without breaking the chain; one that does not
  // hold the id is left alone.
  EXPECT_EQ(RedactAuditEntry(line, "operator-7", "p-1").status().code(),
            absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<std::optional<std::string>> untouched =
      RedactAuditEntry(line, "operator-9", "p-1");
  ASSERT_TRUE(untouched.ok());
  EXPECT_FALSE(untouched->has_value());
  // Edited, it fails.
  EXPECT_THAT(
      ParseAuditEntry(absl::StrReplaceAll(line, {{"operator-7", "operator-8"}}))
          .status()
          .message(),
      HasSubstr("does not match"));
}

TEST(AuditChain, RedactionKeepsTheHashAndTheChain) {
  std::vector<std::string> lines = Chain(4);
  AuditEvent about = Event(5);
  about.about = "alice";
  about.target = "alice-drone-1";
  about.disclosed =
      "serial_number=1596A,operator_account=alice,"
      "aircraft_id=alice";
  const AuditHead before = VerifyAuditLines(lines)->head;
  lines.push_back(FormatAuditEntry(5, absl::FromUnixSeconds(1'800'000'005),
                                   about, before.hash));
  const AuditHead head = VerifyAuditLines(lines)->head;

  absl::StatusOr<std::optional<std::string>> redacted =
      RedactAuditEntry(lines[4], "alice", "pseudonym-7f3a");
  ASSERT_TRUE(redacted.ok()) << redacted.status();
  ASSERT_TRUE(redacted->has_value());
  const std::string& line = **redacted;
  EXPECT_THAT(line, Not(HasSubstr("about=alice")));
  EXPECT_THAT(line, Not(HasSubstr("=alice,")));
  EXPECT_THAT(line, Not(HasSubstr("id=alice")));
  absl::StatusOr<AuditEntry> entry = ParseAuditEntry(line);
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_TRUE(entry->redacted);
  EXPECT_EQ(entry->event.about, "pseudonym-7f3a");
  // "alice-drone-1" does not stand alone: it is another id.
  EXPECT_EQ(entry->event.target, "alice-drone-1");
  EXPECT_EQ(entry->event.disclosed,
            "serial_number=1596A,operator_account=pseudonym-7f3a,"
            "aircraft_id=pseudonym-7f3a");
  EXPECT_EQ(entry->hash, head.hash);
  lines[4] = line;
  absl::StatusOr<VerifyResult> verified = VerifyAuditLines(lines);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->head, head);

  // Redacting again keeps the original's digest.
  absl::StatusOr<std::optional<std::string>> again =
      RedactAuditEntry(line, "pseudonym-7f3a", "p-2");
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ(ParseAuditEntry(**again)->hash, head.hash);
  // An entry that does not hold the id is left alone.
  absl::StatusOr<std::optional<std::string>> other =
      RedactAuditEntry(lines[0], "alice", "p");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());

  // A redacted value edited afterwards no longer verifies: the digest is
  // of the original, the value is what it is, but the digest itself is
  // hashed. Changing the digest fails.
  const size_t at = line.find("about~=") + 7;
  std::string forged = line;
  forged[at] = forged[at] == '0' ? '1' : '0';
  EXPECT_THAT(ParseAuditEntry(forged).status().message(),
              HasSubstr("does not match"));
  // Neither may an unredacted value change.
  EXPECT_THAT(ParseAuditEntry(absl::StrReplaceAll(line, {{"case=CASE-2026-5",
                                                          "case=CASE-2026-6"}}))
                  .status()
                  .message(),
              HasSubstr("does not match"));
}

TEST(AuditChain, EchoLeavesOutWhatWouldOutliveErasure) {
  AuditEvent event = Event(1);
  event.about = "alice";
  event.disclosed = "operator_account=alice";
  const std::string line = FormatAuditEntry(
      1, absl::FromUnixSeconds(1'800'000'000), event, kGenesisHash);
  const std::string echo = AuditEcho(line);
  EXPECT_THAT(echo, HasSubstr("utmd: audit: seq=1 time=2027-01-15T08:00:00Z "
                              "action=intent-owner subject=police-1 "
                              "case=CASE-2026-1 hash="));
  EXPECT_THAT(echo, Not(HasSubstr("alice")));
  EXPECT_THAT(echo, Not(HasSubstr("intent-1")));
}

TEST(AuditChain, ChecksTheHead) {
  const std::vector<std::string> lines = Chain(5);
  absl::StatusOr<VerifyResult> all = VerifyAuditLines(lines);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(CheckHead(all->head, all->head).ok());
  // A truncated tail verifies on its own; only the head shows it.
  absl::StatusOr<VerifyResult> cut =
      VerifyAuditLines(absl::MakeConstSpan(lines).subspan(0, 3));
  ASSERT_TRUE(cut.ok());
  const absl::Status truncated = CheckHead(cut->head, all->head);
  EXPECT_EQ(truncated.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(truncated.message(),
              HasSubstr("entries 4..5 are missing from the end"));
  AuditHead rewritten = all->head;
  rewritten.hash = std::string(64, 'a');
  EXPECT_THAT(CheckHead(all->head, rewritten).message(),
              HasSubstr("the tail was rewritten"));
}

TEST(AuditChain, HeadRoundTrips) {
  AuditHead head;
  head.sequence = 12;
  head.hash = std::string(64, 'b');
  absl::StatusOr<AuditHead> parsed = ParseHead(FormatHead(head), "head");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, head);
  EXPECT_TRUE(ParseHead(FormatHead(AuditHead()), "head").ok());
  EXPECT_THAT(ParseHead("12", "head").status().message(),
              HasSubstr("head: \"12\" is not"));
  EXPECT_FALSE(ParseHead(absl::StrCat("0 ", std::string(64, 'b')), "h").ok());
}

}  // namespace
}  // namespace utm::audit
