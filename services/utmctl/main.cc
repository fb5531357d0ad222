// utmctl: the command-line client of utmd. See docs/utmctl.md.
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "services/utmctl/area_flags.h"
#include "services/utmctl/audit_commands.h"
#include "services/utmctl/connection.h"
#include "services/utmctl/constraint_commands.h"
#include "services/utmctl/fleet_commands.h"
#include "services/utmctl/operator_data_commands.h"
#include "services/utmctl/flight_commands.h"
#include "services/utmctl/operator_commands.h"
#include "services/utmctl/geo_commands.h"
#include "services/utmctl/geofence_commands.h"
#include "services/utmctl/global_args.h"
#include "services/utmctl/health_command.h"
#include "services/utmctl/intent_commands.h"
#include "services/utmctl/intent_list_command.h"
#include "services/utmctl/registry_commands.h"
#include "services/utmctl/rid_commands.h"
#include "services/utmctl/telemetry_commands.h"
#include "services/utmctl/vertical_flags.h"

int main(int argc, char** argv) {
  CLI::App app{
      "utmctl: command-line client for utmd, the UTM airspace "
      "deconfliction service"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "utmctl " UTM_VERSION);
  utm::ctl::GeoOptions geo_options;

  CLI::App* geo = app.add_subcommand(
      "geo", "Offline geometry checks of volume files (no server needed)");
  geo->require_subcommand(1);
  geo->add_flag("--json", geo_options.json, "Machine-readable output");
  utm::ctl::VerticalFlags geo_vertical, intent_vertical;
  utm::ctl::AddVerticalFlags(geo, &geo_vertical);

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

  utm::ctl::ConnectionOptions health_options;
  health_options.timeout_s = 5;
  CLI::App* health =
      app.add_subcommand("health", "Ask a utmd server whether it is serving");
  health
      ->add_option("--server", health_options.server,
                   "utmd address (host:port; default: $UTM_SERVER)")
      ->envname("UTM_SERVER")
      ->capture_default_str();
  health
      ->add_option("--tls-ca", health_options.tls_ca_file,
                   "Speak TLS, trusting this CA certificate (PEM)")
      ->check(CLI::ExistingFile);
  std::string health_service;
  health->add_option("--service", health_service,
                     "Ask about one service (e.g. "
                     "utm.v1.StrategicCoordination) instead of the server");
  health
      ->add_option("--timeout", health_options.timeout_s,
                   "Seconds to wait for an answer")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();

  utm::ctl::TokenOptions token_options;
  CLI::App* token = app.add_subcommand(
      "token",
      "Mint a dev-mode token (utmd --auth dev) for a role, signed with the "
      "key utmd created in --data-dir");
  token
      ->add_option("--role", token_options.role,
                   "operator, regulator, monitor, display, police, "
                   "public-safety, emergency, receiver, auditor or admin")
      ->required();
  token->add_option("--scope", token_options.scopes,
                    "A scope granted on top of the role's, e.g. "
                    "utm.priority.public_safety (repeatable)");
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
  token->add_option("--home-region", token_options.home_region,
                    "The token's home_region claim: the region whose "
                    "deployment keeps this caller's data, e.g. EU-DE");

  utm::ctl::IntentOptions intent_options;
  CLI::App* intent =
      app.add_subcommand("intent", "File, change and read flight intents");
  intent->require_subcommand(1);
  utm::ctl::AddConnectionFlags(intent, &intent_options);
  utm::ctl::AddVerticalFlags(intent, &intent_vertical);
  std::string intent_file, intent_id, request_id, intent_start;
  int priority = -1;
  int64_t version = 0;
  CLI::App* file = intent->add_subcommand("file", "File a flight intent");
  file->add_option("file", intent_file,
                   "Volume file (FileIntentRequest JSON or GeoJSON)")
      ->required()
      ->check(CLI::ExistingFile);
  file->add_option("--priority", priority, "Overrides the file's priority");
  file->add_option("--request-id", request_id,
                   "Makes a retry idempotent (reuse it to retry)");
  const char* start_help =
      "Shift every volume so the first starts then: now, +DURATION (+5m, "
      "+1h30m) or RFC 3339";
  file->add_option("--start", intent_start, start_help);
  const char* aircraft_help =
      "The aircraft that flies it: its serial number (ANSI/CTA-2063-A, as "
      "registered), or your own id for an unregistered one";
  const char* mass_help =
      "Its declared mass, grams: lets an unregistered aircraft at or below "
      "the registration threshold fly";
  auto aircraft_flags = [&](CLI::App* c) {
    c->add_option("--aircraft", intent_options.aircraft_serial, aircraft_help);
    c->add_option("--mass-g", intent_options.aircraft_mass_g, mass_help)
        ->check(CLI::Range(int64_t{0}, int64_t{25000000}));
  };
  aircraft_flags(file);
  file->add_flag("--no-retention", intent_options.no_retention,
                 "Fly without anything being retained: the intent is never "
                 "written to disk and is forgotten once over");
  CLI::App* modify = intent->add_subcommand("modify", "Change an intent");
  modify->add_option("id", intent_id, "Intent id")->required();
  modify->add_option("file", intent_file, "New volumes (volume file)")
      ->required()
      ->check(CLI::ExistingFile);
  modify->add_option("--version", version, "Version last read")->required();
  modify->add_option("--priority", priority, "New priority");
  modify->add_option("--request-id", request_id, "Idempotency key");
  modify->add_option("--start", intent_start, start_help);
  aircraft_flags(modify);
  std::vector<CLI::App*> transitions;
  for (const char* action : {"activate", "end", "cancel"}) {
    CLI::App* t = intent->add_subcommand(
        action, absl::StrCat(action, " an intent").c_str());
    t->add_option("id", intent_id, "Intent id")->required();
    t->add_option("--version", version, "Version last read")->required();
    t->add_option("--request-id", request_id, "Idempotency key");
    transitions.push_back(t);
  }
  std::string activate_file;
  transitions[0]
      ->add_option("--volumes", activate_file,
                   "New volumes (volume file), changed with the activation "
                   "in one write (the file's priority is not used)")
      ->check(CLI::ExistingFile);
  transitions[0]->add_option("--priority", priority,
                             "New priority, changed with the activation");
  aircraft_flags(transitions[0]);
  CLI::App* get = intent->add_subcommand("get", "Show one intent");
  get->add_option("id", intent_id, "Intent id")->required();
  const char* case_help =
      "Law enforcement: the warrant, subpoena or court order id under which "
      "owners are shown (each disclosure is audited)";
  get->add_option("--case", intent_options.case_reference, case_help);
  CLI::App* query =
      intent->add_subcommand("query", "List live intents in an area");
  utm::ctl::AreaFlags intent_area;
  CLI::Option* query_file =
      query
          ->add_option("area", intent_area.file,
                       "Volume file whose first volume is the area")
          ->check(CLI::ExistingFile);
  CLI::Option* query_area =
      query->add_option("--area", intent_area.file, "The same, as an option")
          ->check(CLI::ExistingFile);
  query
      ->add_option("--bbox", intent_area.bbox,
                   "minlat,minlng,maxlat,maxlng (degrees) instead of a file")
      ->excludes(query_file)
      ->excludes(query_area);
  query_file->excludes(query_area);
  query->add_option("--case", intent_options.case_reference, case_help);
  utm::ctl::IntentListCommand intent_list(intent, &intent_options);

  utm::ctl::GeofenceOptions fence;
  CLI::App* geofence = app.add_subcommand(
      "geofence", "Import zone files as constraints; export an area's");
  geofence->require_subcommand(1);
  utm::ctl::AddConnectionFlags(geofence, &fence);
  // Altitude flags on the family, like the connection flags, so that they
  // are taken in any position (before `geofence`, after `import FILE`).
  utm::ctl::AddVerticalFlags(geofence, &fence.vertical);
  std::string fence_file, fence_area, fence_bbox, fence_out;
  double fence_lower_m = 0, fence_upper_m = 0;
  std::vector<std::pair<CLI::Option*, CLI::Option*>> fence_limits;
  auto zone_file_options = [&](CLI::App* c) {
    c->add_option("file", fence_file,
                  "Zone file: ED-269, ED-318, GeoJSON or XNOTAM")
        ->required();
    c->add_option("--format", fence.format,
                  "auto, ed269, ed318, geojson or xnotam")
        ->capture_default_str();
    c->add_option("--type", fence.geojson_type,
                  "GeoJSON without a type: prohibited, "
                  "requires_authorisation, conditional or advisory")
        ->capture_default_str();
    c->add_option("--altitude-ref", fence.geojson_reference,
                  "GeoJSON bare heights: agl, amsl or wgs84")
        ->capture_default_str();
    fence_limits.push_back(
        {c->add_option("--lower-m", fence_lower_m,
                       "GeoJSON without limits: bottom, metres above "
                       "--altitude-ref (default: the surface)"),
         c->add_option("--upper-m", fence_upper_m,
                       "GeoJSON without limits: top, metres above "
                       "--altitude-ref (default: 50,000 m WGS84)")});
  };
  CLI::App* fence_import = geofence->add_subcommand(
      "import", "Publish every zone of a zone file (idempotent per zone)");
  zone_file_options(fence_import);
  fence_import->add_flag("--dry-run", fence.dry_run,
                         "Only parse and validate; no server");
  CLI::App* fence_convert = geofence->add_subcommand(
      "convert", "Print the constraints a zone file converts to (offline)");
  zone_file_options(fence_convert);
  fence_convert->add_flag("--geojson", fence.geojson,
                          "GeoJSON (as export writes) instead of proto JSON");
  CLI::App* fence_export = geofence->add_subcommand(
      "export", "Write the constraints in an area as GeoJSON");
  // --server, --token, --json, ... also after the subcommand.
  for (CLI::App* c : {fence_import, fence_convert, fence_export}) {
    c->fallthrough();
  }
  CLI::Option* export_area = fence_export->add_option(
      "--area", fence_area, "Volume file whose first volume is the area");
  fence_export
      ->add_option("--bbox", fence_bbox,
                   "minlat,minlng,maxlat,maxlng (degrees) instead of --area")
      ->excludes(export_area);
  fence_export->add_option("--out", fence_out, "Output file (default stdout)");

  utm::ctl::ConstraintCommands constraint(&app);
  utm::ctl::TelemetryCommands telemetry(&app);
  utm::ctl::RidCommands rid(&app);
  utm::ctl::AuditCommands audit(&app);
  utm::ctl::RegistryCommands registry(&app);
  utm::ctl::FleetCommands fleet(&app);
  utm::ctl::FlightCommands flight(&app);
  utm::ctl::OperatorCommands operator_commands(&app);
  utm::ctl::OperatorDataCommands operator_data(operator_commands.command(),
                                               operator_commands.options());

  // --server, --token, --json, --ground-m, ... before or after the family's
  // subcommand, or before the family's name.
  utm::ctl::FallThroughEverywhere(&app);
  std::set<std::string> families;
  for (const CLI::App* c : app.get_subcommands({})) {
    families.insert(c->get_name());
  }
  std::vector<std::string> args =
      utm::ctl::HoistGlobalOptions(argc, argv, families);
  if (argc > 0) app.name(argv[0]);  // as parse(argc, argv) would
  try {
    app.parse(std::vector<std::string>(args.rbegin(), args.rend() - 1));
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : utm::ctl::kExitUsage;
  }
  // The geoid and terrain for `geo` and `intent` volume files.
  std::unique_ptr<utm::zones::EarthElevation> geo_earth, intent_earth;
  for (auto [vertical, earth, input] :
       {std::tuple{&geo_vertical, &geo_earth, &geo_options.input},
        std::tuple{&intent_vertical, &intent_earth, &intent_options.input}}) {
    absl::StatusOr<std::unique_ptr<utm::zones::EarthElevation>> model =
        utm::ctl::MakeElevation(*vertical);
    if (!model.ok()) {
      std::cerr << absl::StatusCodeToString(model.status().code()) << ": "
                << model.status().message() << "\n";
      return utm::ctl::kExitIo;
    }
    *earth = *std::move(model);
    input->elevation = earth->get();
  }
  for (const auto& [lower, upper] : fence_limits) {
    if (lower->count() > 0) fence.lower_m = fence_lower_m;
    if (upper->count() > 0) fence.upper_m = fence_upper_m;
  }
  if (fence_import->parsed()) {
    return utm::ctl::GeofenceImport(fence, fence_file);
  }
  if (fence_convert->parsed()) {
    return utm::ctl::GeofenceConvert(fence, fence_file);
  }
  if (fence_export->parsed()) {
    if (fence_area.empty() == fence_bbox.empty()) {
      std::cerr << "geofence export: give --area FILE or --bbox\n";
      return utm::ctl::kExitUsage;
    }
    return utm::ctl::GeofenceExport(fence, fence_area, fence_bbox, fence_out);
  }
  if (constraint.parsed()) return constraint.Run();
  if (telemetry.parsed()) return telemetry.Run();
  if (rid.parsed()) return rid.Run();
  if (audit.parsed()) return audit.Run();
  if (registry.parsed()) return registry.Run();
  if (fleet.parsed()) return fleet.Run();
  if (flight.parsed()) return flight.Run();
  if (operator_data.parsed()) return operator_data.Run();
  if (operator_commands.parsed()) return operator_commands.Run();
  if (check->parsed()) return utm::ctl::GeoCheck(check_files, geo_options);
  if (health->parsed()) {
    return utm::ctl::Health(health_options, health_service);
  }
  if (token->parsed()) return utm::ctl::Token(token_options);
  if (file->parsed()) {
    return utm::ctl::IntentFile(intent_options, intent_file, priority,
                                request_id, intent_start);
  }
  if (modify->parsed()) {
    return utm::ctl::IntentModify(intent_options, intent_id, version,
                                  intent_file, priority, request_id,
                                  intent_start);
  }
  if (transitions[0]->parsed()) {
    return utm::ctl::IntentActivate(intent_options, intent_id, version,
                                    activate_file, priority, request_id);
  }
  for (CLI::App* t : transitions) {
    if (t->parsed()) {
      return utm::ctl::IntentTransition(intent_options, t->get_name(),
                                        intent_id, version, request_id);
    }
  }
  if (get->parsed()) return utm::ctl::IntentGet(intent_options, intent_id);
  if (intent_list.parsed()) return intent_list.Run();
  if (query->parsed()) {
    return utm::ctl::IntentQuery(intent_options, intent_area);
  }
  if (intersect->parsed()) {
    return utm::ctl::GeoIntersect(file_a, file_b, geo_options);
  }
  return utm::ctl::kExitUsage;
}
