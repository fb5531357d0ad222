// utmctl: the command-line client of utmd. See docs/utmctl.md.
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "services/utmctl/geo_commands.h"
#include "services/utmctl/health_command.h"
#include "services/utmctl/intent_commands.h"

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
  double geo_ground_m = 0, intent_ground_m = 0;
  CLI::Option* geo_ground = geo->add_option(
      "--ground-m", geo_ground_m,
      "Ground elevation (metres above WGS84) for GeoJSON AGL altitudes");

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
  std::string health_tls_ca;
  health
      ->add_option("--tls-ca", health_tls_ca,
                   "Speak TLS, trusting this CA certificate (PEM)")
      ->check(CLI::ExistingFile);
  health->add_option("--timeout", timeout_s, "Seconds to wait for an answer")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();

  utm::ctl::TokenOptions token_options;
  CLI::App* token = app.add_subcommand(
      "token", "Mint a dev-mode token (utmd --auth dev) for a role");
  token
      ->add_option("--role", token_options.role,
                   "operator, regulator, monitor, display, police or admin")
      ->required();
  token
      ->add_option("--sub", token_options.subject,
                   "Identity the token speaks for (operator id, ...)")
      ->required();
  token
      ->add_option("--data-dir", token_options.data_dir,
                   "utmd's data directory (holds dev-signing-key)")
      ->capture_default_str();
  token->add_option("--ttl", token_options.ttl_s, "Lifetime, seconds")
      ->check(CLI::Range(1, 366 * 86400))
      ->capture_default_str();

  utm::ctl::IntentOptions intent_options;
  CLI::App* intent =
      app.add_subcommand("intent", "File, change and read flight intents");
  intent->require_subcommand(1);
  intent->add_option("--server", intent_options.server, "utmd address")
      ->capture_default_str();
  intent
      ->add_option("--tls-ca", intent_options.tls_ca_file,
                   "Speak TLS, trusting this CA certificate (PEM)")
      ->check(CLI::ExistingFile);
  intent->add_option("--token", intent_options.token,
                     "Bearer token (default: $UTM_TOKEN)");
  intent->add_flag("--json", intent_options.json, "Machine-readable output");
  CLI::Option* intent_ground = intent->add_option(
      "--ground-m", intent_ground_m,
      "Ground elevation (metres above WGS84) for GeoJSON AGL altitudes");
  std::string intent_file, intent_id, request_id;
  int priority = -1;
  int64_t version = 0;
  CLI::App* file = intent->add_subcommand("file", "File a flight intent");
  file->add_option("file", intent_file, "Volume file (FileIntentRequest JSON)")
      ->required()
      ->check(CLI::ExistingFile);
  file->add_option("--priority", priority, "Overrides the file's priority");
  file->add_option("--request-id", request_id,
                   "Makes a retry idempotent (reuse it to retry)");
  CLI::App* modify = intent->add_subcommand("modify", "Change an intent");
  modify->add_option("id", intent_id, "Intent id")->required();
  modify->add_option("file", intent_file, "New volumes (volume file)")
      ->required()
      ->check(CLI::ExistingFile);
  modify->add_option("--version", version, "Version last read")->required();
  modify->add_option("--priority", priority, "New priority");
  modify->add_option("--request-id", request_id, "Idempotency key");
  std::vector<CLI::App*> transitions;
  for (const char* action : {"activate", "end", "cancel"}) {
    CLI::App* t = intent->add_subcommand(
        action, absl::StrCat(action, " an intent").c_str());
    t->add_option("id", intent_id, "Intent id")->required();
    t->add_option("--version", version, "Version last read")->required();
    t->add_option("--request-id", request_id, "Idempotency key");
    transitions.push_back(t);
  }
  CLI::App* get = intent->add_subcommand("get", "Show one intent");
  get->add_option("id", intent_id, "Intent id")->required();
  CLI::App* query =
      intent->add_subcommand("query", "List live intents in an area");
  query
      ->add_option("area", intent_file,
                   "Volume file whose first volume is the area")
      ->required()
      ->check(CLI::ExistingFile);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : utm::ctl::kExitUsage;
  }
  if (geo_ground->count() > 0) geo_options.input.ground_m = geo_ground_m;
  if (intent_ground->count() > 0)
    intent_options.input.ground_m = intent_ground_m;
  if (check->parsed()) return utm::ctl::GeoCheck(check_files, geo_options);
  if (health->parsed()) {
    return utm::ctl::Health(server, timeout_s, health_tls_ca);
  }
  if (token->parsed()) return utm::ctl::Token(token_options);
  if (file->parsed()) {
    return utm::ctl::IntentFile(intent_options, intent_file, priority,
                                request_id);
  }
  if (modify->parsed()) {
    return utm::ctl::IntentModify(intent_options, intent_id, version,
                                  intent_file, priority, request_id);
  }
  for (CLI::App* t : transitions) {
    if (t->parsed()) {
      return utm::ctl::IntentTransition(intent_options, t->get_name(),
                                        intent_id, version, request_id);
    }
  }
  if (get->parsed()) return utm::ctl::IntentGet(intent_options, intent_id);
  if (query->parsed())
    return utm::ctl::IntentQuery(intent_options, intent_file);
  if (intersect->parsed()) {
    return utm::ctl::GeoIntersect(file_a, file_b, geo_options);
  }
  return utm::ctl::kExitUsage;
}
