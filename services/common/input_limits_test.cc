#include "services/common/input_limits.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "utm/v1/telemetry.pb.h"

namespace utm {
namespace {

using ::testing::HasSubstr;

TEST(QuoteForError, QuotesShortInputWhole) {
  EXPECT_EQ(QuoteForError("req-1"), "\"req-1\"");
  EXPECT_EQ(QuoteForError("a\"b\n"), "\"a\\\"b\\n\"");
}

TEST(QuoteForError, CutsLongInputAndSaysHowLong) {
  const std::string huge(4 << 20, 'x');
  const std::string quoted = QuoteForError(huge);
  EXPECT_LT(quoted.size(), 100u);
  EXPECT_THAT(quoted, HasSubstr("(4194304 bytes)"));
  EXPECT_THAT(quoted, HasSubstr(std::string(64, 'x')));
  EXPECT_THAT(quoted, ::testing::Not(HasSubstr(std::string(65, 'x'))));
}

TEST(QuoteForError, EscapesEveryByteItQuotes) {
  // At most 4 characters per quoted byte (\xNN), whatever the input.
  const std::string binary(1000, '\x01');
  EXPECT_LT(QuoteForError(binary).size(), 4u * kMaxQuoteBytes + 32);
  EXPECT_THAT(QuoteForError(binary), HasSubstr("\\x01"));
}

TEST(CheckText, NamesTheFieldAndBothSizes) {
  EXPECT_TRUE(CheckText(std::string(256, 'a'), "source.dataset", 256).ok());
  const absl::Status s =
      CheckText(std::string(257, 'a'), "source.dataset", 256);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "source.dataset: 257 bytes, at most 256");
}

TEST(CheckId, RefusesLongIdsAndControlCharacters) {
  EXPECT_TRUE(CheckId("", "intent_id").ok());
  EXPECT_TRUE(CheckId(std::string(kMaxIdBytes, 'a'), "intent_id").ok());
  EXPECT_EQ(CheckId(std::string(kMaxIdBytes + 1, 'a'), "intent_id").message(),
            "intent_id: 129 bytes, at most 128");
  const absl::Status s = CheckId("op\n1", "operator_id");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("operator_id: \"op\\n1\" has a control"));
  EXPECT_EQ(CheckRequiredId("", "operator_id").message(),
            "operator_id: required");
}

TEST(CheckPrintableAscii, NamesTheFirstBadByteAndBoundsTheLength) {
  EXPECT_TRUE(CheckPrintableAscii("", "f", 4).ok());
  EXPECT_TRUE(CheckPrintableAscii("A b~", "f", 4).ok());
  EXPECT_EQ(CheckPrintableAscii("abcde", "f", 4).message(),
            "f: 5 bytes, at most 4");
  EXPECT_EQ(CheckPrintableAscii("ab\ncd", "case_reference", 8).message(),
            "case_reference: byte 2 (0x0a) is not printable ASCII");
  EXPECT_EQ(CheckPrintableAscii("a\x7f", "f", 8).message(),
            "f: byte 1 (0x7f) is not printable ASCII");
  EXPECT_EQ(CheckPrintableAscii("\xc3\xa9", "f", 8).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CheckCount, NamesTheFieldAndBothCounts) {
  EXPECT_TRUE(CheckCount(7, "days", 7).ok());
  EXPECT_EQ(CheckCount(8, "days", 7).message(), "days: 8 entries, at most 7");
}

TEST(CheckEnum, RefusesUnknownValuesListingTheKnownOnes) {
  EXPECT_TRUE(CheckEnum(v1::AlertKind_descriptor(), 1, "kinds[0]").ok());
  const absl::Status s = CheckEnum(v1::AlertKind_descriptor(), 99, "kinds[0]");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(),
              HasSubstr("kinds[0]: 99 is not an AlertKind "
                        "(CONFLICT_PREDICTED, CONFLICT_IMMINENT,"));
  EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("UNSPECIFIED")));
}

TEST(CheckEnum, RefusesUnspecifiedUnlessAllowed) {
  const absl::Status s = CheckEnum(v1::AlertKind_descriptor(), 0, "kinds[1]");
  EXPECT_THAT(s.message(), HasSubstr("kinds[1]: 0 (ALERT_KIND_UNSPECIFIED) is "
                                     "not an AlertKind this request accepts"));
  EXPECT_TRUE(CheckEnum(v1::AlertKind_descriptor(), 0, "kinds[1]",
                        /*allow_unspecified=*/true)
                  .ok());
}

}  // namespace
}  // namespace utm
