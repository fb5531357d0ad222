// Global options of utmctl in any position. The connection, output and
// altitude options (--server, --token, --tls-ca, --json, --ground-m, ...)
// belong to a command family (`intent`, `constraint`, `geo`, ...); a user
// writes them where it feels natural: `utmctl --json intent get ID`,
// `utmctl intent --json get ID` or `utmctl intent get ID --json`.
//
// Two pieces make that work with CLI11: HoistGlobalOptions() moves the
// global options written before the family's name to just after it, and
// FallThroughEverywhere() lets every subcommand hand an option it does not
// know to its parent (so options after `get` reach `intent`).
//
// Typical usage:
//   std::vector<std::string> args =
//       HoistGlobalOptions(argc, argv, {"intent", "geo", ...});
//   FallThroughEverywhere(&app);  // after every subcommand is added
//   app.parse(std::vector<std::string>(args.rbegin(), args.rend() - 1));
#ifndef UTM_SERVICES_UTMCTL_GLOBAL_ARGS_H_
#define UTM_SERVICES_UTMCTL_GLOBAL_ARGS_H_

#include <set>
#include <string>
#include <vector>

namespace CLI {
class App;
}  // namespace CLI

namespace utm::ctl {

// The global options that take a value ("--server HOST:PORT" or
// "--server=HOST:PORT") and the global flags ("--json").
const std::set<std::string>& GlobalValueOptions();
const std::set<std::string>& GlobalFlags();

// argv[0..argc) with every global option (and its value) that comes before
// the first word naming one of `families` moved to just after that word, in
// their order. Anything else, and everything when no family is named, stays
// where it is (the parser then reports it).
std::vector<std::string> HoistGlobalOptions(
    int argc, const char* const* argv, const std::set<std::string>& families);

// Sets fallthrough() on every subcommand of `app`, at every depth. Call it
// after the last subcommand is added.
void FallThroughEverywhere(CLI::App* app);

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_GLOBAL_ARGS_H_
