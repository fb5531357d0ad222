#include "services/utmctl/connection.h"

#include "CLI/CLI.hpp"

namespace utm::ctl {

void AddConnectionFlags(CLI::App* app, ConnectionOptions* options,
                        const std::string& json_help) {
  app->add_option("--server", options->server,
                  "utmd address (host:port; default: $UTM_SERVER)")
      ->envname("UTM_SERVER")
      ->capture_default_str();
  app->add_option("--tls-ca", options->tls_ca_file,
                  "Speak TLS, trusting this CA certificate (PEM)")
      ->check(CLI::ExistingFile);
  app->add_option("--token", options->token,
                  "Bearer token (default: $UTM_TOKEN)");
  app->add_flag("--json", options->json, json_help);
}

}  // namespace utm::ctl
