#include "services/utmctl/global_args.h"

#include <cstddef>

#include "CLI/CLI.hpp"

namespace utm::ctl {

const std::set<std::string>& GlobalValueOptions() {
  static const auto* const kOptions = new std::set<std::string>{
      "--server", "--token",   "--tls-ca",     "--timeout",    "--ground-m",
      "--dem",    "--geoid-m", "--geoid-grid", "--dem-heights"};
  return *kOptions;
}

const std::set<std::string>& GlobalFlags() {
  static const auto* const kFlags = new std::set<std::string>{"--json"};
  return *kFlags;
}

std::vector<std::string> HoistGlobalOptions(
    int argc, const char* const* argv, const std::set<std::string>& families) {
  std::vector<std::string> args(argv, argv + argc);
  std::vector<std::string> kept, hoisted;
  if (!args.empty()) kept.push_back(args[0]);
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (families.count(a) > 0) {
      kept.push_back(a);
      kept.insert(kept.end(), hoisted.begin(), hoisted.end());
      kept.insert(kept.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                  args.end());
      return kept;
    }
    const std::string name = a.substr(0, a.find('='));
    if (GlobalFlags().count(a) > 0 ||
        (GlobalValueOptions().count(name) > 0 && name != a)) {
      hoisted.push_back(a);
    } else if (GlobalValueOptions().count(a) > 0 && i + 1 < args.size()) {
      hoisted.push_back(a);
      hoisted.push_back(args[++i]);
    } else {
      kept.push_back(a);
    }
  }
  return args;  // no family named: leave it all to the parser
}

void FallThroughEverywhere(CLI::App* app) {
  for (CLI::App* sub : app->get_subcommands({})) {
    sub->fallthrough();
    FallThroughEverywhere(sub);
  }
}

}  // namespace utm::ctl
