#include "services/common/log/log.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace utm::log {
namespace {

const absl::Time kTime = absl::FromUnixMicros(1796670895356951);

TEST(LogTest, TextLinesAreTheProgramTheMessageAndTheFields) {
  Options text;
  EXPECT_EQ(
      Render(text, Level::kInfo, "listening on 127.0.0.1:7400\n",
             {{"request_id", "abc"}, {"duration_ms", "1.5", true}}, kTime),
      "utmd: listening on 127.0.0.1:7400 request_id=abc duration_ms=1.5");
  EXPECT_EQ(
      Render(text, Level::kInfo, "call failed",
             {{"error", "lat 95 out of \"range\""}, {"empty", ""}}, kTime),
      "utmd: call failed error=\"lat 95 out of \\\"range\\\"\" empty=\"\"");
}

TEST(LogTest, JsonLinesAreOneObjectWithTypedFields) {
  Options json;
  json.format = Format::kJson;
  const std::string line =
      Render(json, Level::kWarning, "call \"failed\"\nagain",
             {{"code", "UNAVAILABLE"}, {"duration_ms", "12.25", true}}, kTime);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  const nlohmann::json parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["time"], "2026-12-07T19:14:55.356951Z");
  EXPECT_EQ(parsed["level"], "warning");
  EXPECT_EQ(parsed["logger"], "utmd");
  EXPECT_EQ(parsed["msg"], "call \"failed\"\nagain");
  EXPECT_EQ(parsed["code"], "UNAVAILABLE");
  EXPECT_EQ(parsed["duration_ms"], 12.25);
}

TEST(LogTest, InvalidUtf8IsReplacedNotThrown) {
  Options json;
  json.format = Format::kJson;
  const std::string line =
      Render(json, Level::kInfo, std::string("bad \xff byte"), {}, kTime);
  EXPECT_TRUE(nlohmann::json::accept(line)) << line;
}

TEST(LogTest, FlagWordsAreParsedAndOthersNamed) {
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_EQ(*ParseLevel("warning"), Level::kWarning);
  EXPECT_EQ(ParseFormat("xml").status().message(),
            "log format \"xml\": expected text or json");
  EXPECT_FALSE(ParseLevel("verbose").ok());
}

}  // namespace
}  // namespace utm::log
