#include "services/utmctl/global_args.h"

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::ctl {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Hoist(std::vector<const char*> argv) {
  return HoistGlobalOptions(static_cast<int>(argv.size()), argv.data(),
                            {"intent", "geo", "health"});
}

TEST(HoistGlobalOptions, MovesOptionsBeforeTheFamilyToJustAfterIt) {
  EXPECT_THAT(Hoist({"utmctl", "--json", "--server", "h:1", "--token=t",
                     "intent", "get", "X"}),
              ElementsAre("utmctl", "intent", "--json", "--server", "h:1",
                          "--token=t", "get", "X"));
  EXPECT_THAT(Hoist({"utmctl", "--ground-m", "400", "geo", "check", "f"}),
              ElementsAre("utmctl", "geo", "--ground-m", "400", "check", "f"));
}

TEST(HoistGlobalOptions, LeavesEverythingElseWhereItIs) {
  // After the family: the parser's fall-through takes them.
  EXPECT_THAT(Hoist({"utmctl", "intent", "get", "X", "--json"}),
              ElementsAre("utmctl", "intent", "get", "X", "--json"));
  // Unknown options stay before the family, for the parser to refuse.
  EXPECT_THAT(Hoist({"utmctl", "--bogus", "--json", "intent", "get", "X"}),
              ElementsAre("utmctl", "--bogus", "intent", "--json", "get", "X"));
  // No family named: nothing moves.
  EXPECT_THAT(Hoist({"utmctl", "--json", "--server", "h:1"}),
              ElementsAre("utmctl", "--json", "--server", "h:1"));
  // A value option at the very end has no value to take.
  EXPECT_THAT(Hoist({"utmctl", "--server"}), ElementsAre("utmctl", "--server"));
}

// The two pieces together, on a CLI11 app shaped like utmctl's.
struct Parsed {
  std::string server = "default";
  bool json = false;
  std::string id;
  bool ok = true;
};

Parsed Parse(std::vector<const char*> argv) {
  Parsed p;
  CLI::App app;
  CLI::App* intent = app.add_subcommand("intent");
  intent->add_option("--server", p.server);
  intent->add_flag("--json", p.json);
  CLI::App* get = intent->add_subcommand("get");
  get->add_option("id", p.id)->required();
  app.add_subcommand("geo")->add_subcommand("check");
  FallThroughEverywhere(&app);
  std::vector<std::string> args = HoistGlobalOptions(
      static_cast<int>(argv.size()), argv.data(), {"intent", "geo"});
  try {
    app.parse(std::vector<std::string>(args.rbegin(), args.rend() - 1));
  } catch (const CLI::ParseError&) {
    p.ok = false;
  }
  return p;
}

TEST(GlobalOptions, AreAcceptedInEveryPosition) {
  for (const std::vector<const char*>& argv :
       std::vector<std::vector<const char*>>{
           {"utmctl", "--json", "--server", "h:1", "intent", "get", "X"},
           {"utmctl", "intent", "--json", "--server", "h:1", "get", "X"},
           {"utmctl", "intent", "get", "X", "--json", "--server", "h:1"},
           {"utmctl", "intent", "get", "--server=h:1", "X", "--json"},
           {"utmctl", "--server=h:1", "intent", "get", "--json", "X"}}) {
    const Parsed p = Parse(argv);
    std::string line;
    for (const char* a : argv) line += std::string(a) + " ";
    EXPECT_TRUE(p.ok) << line;
    EXPECT_EQ(p.server, "h:1") << line;
    EXPECT_TRUE(p.json) << line;
    EXPECT_EQ(p.id, "X") << line;
  }
}

TEST(GlobalOptions, UnknownOptionsAreStillRefused) {
  EXPECT_FALSE(Parse({"utmctl", "intent", "get", "X", "--bogus"}).ok);
  EXPECT_FALSE(Parse({"utmctl", "--bogus", "intent", "get", "X"}).ok);
  // geo has no --server, wherever it is written.
  EXPECT_FALSE(Parse({"utmctl", "--server", "h:1", "geo", "check"}).ok);
  EXPECT_FALSE(Parse({"utmctl", "geo", "check", "--server", "h:1"}).ok);
}

}  // namespace
}  // namespace utm::ctl
