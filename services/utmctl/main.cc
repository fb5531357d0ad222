// utmctl: the command-line client of utmd. See docs/utmctl.md.
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "services/utmctl/geo_commands.h"
#include "services/utmctl/health_command.h"

int main(int argc, char** argv) {
  CLI::App app{
      "utmctl: command-line client for utmd, the UTM airspace "
      "deconfliction service"};
  app.require_subcommand(1);
  utm::ctl::GeoOptions geo_options;

  CLI::App* geo = app.add_subcommand(
      "geo", "Offline geometry checks of volume files (no server needed)");
  geo->require_subcommand(1);
  geo->add_flag("--json", geo_options.json, "Machine-readable output");

  std::vector<std::string> check_files;
  CLI::App* check = geo->add_subcommand(
      "check", "Validate every volume in one or more volume files");
  check->add_option("files", check_files, "Volume files (utm.v1 JSON)")
      ->required()
      ->check(CLI::ExistingFile);

  std::string file_a, file_b;
  CLI::App* intersect = geo->add_subcommand(
      "intersect", "Report where the volumes of two files intersect");
  intersect->add_option("a", file_a, "First volume file")
      ->required()
      ->check(CLI::ExistingFile);
  intersect->add_option("b", file_b, "Second volume file")
      ->required()
      ->check(CLI::ExistingFile);

  std::string server = "127.0.0.1:7400";
  double timeout_s = 5;
  CLI::App* health =
      app.add_subcommand("health", "Ask a utmd server whether it is serving");
  health->add_option("--server", server, "utmd address (host:port)")
      ->capture_default_str();
  health->add_option("--timeout", timeout_s, "Seconds to wait for an answer")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : utm::ctl::kExitUsage;
  }
  if (check->parsed()) return utm::ctl::GeoCheck(check_files, geo_options);
  if (health->parsed()) return utm::ctl::Health(server, timeout_s);
  if (intersect->parsed()) {
    return utm::ctl::GeoIntersect(file_a, file_b, geo_options);
  }
  return utm::ctl::kExitUsage;
}
