// How a utmctl command family reaches utmd and how it prints: one set of
// options and flags (--server, --tls-ca, --token, --json) shared by
// `intent`, `constraint`, `geofence` and `telemetry`; `health` uses the
// server, CA and timeout. channel.h opens the channel they describe.
//
// Typical usage:
//   ConnectionOptions options;
//   AddConnectionFlags(intent_app, &options);  // before app.parse()
//   ...
//   ServiceClient<v1::StrategicCoordination> client(options);  // channel.h
#ifndef UTM_SERVICES_UTMCTL_CONNECTION_H_
#define UTM_SERVICES_UTMCTL_CONNECTION_H_

#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace utm::ctl {

struct ConnectionOptions {
  std::string server = "127.0.0.1:7400";  // host:port
  std::string tls_ca_file;  // TLS trusting this CA; DEFAULT: plaintext
  std::string token;        // DEFAULT: $UTM_TOKEN
  bool json = false;        // machine-readable output
  double timeout_s = 10;    // per unary call
};

// Adds --server, --tls-ca (an existing file), --token and --json, with
// `json_help` as the help of --json, to `app` (not owned), writing to
// `options` (not owned; outlives the parse). Subcommands that fall through
// to `app` take them too.
void AddConnectionFlags(
    CLI::App* app, ConnectionOptions* options,
    const std::string& json_help = "Machine-readable output");

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_CONNECTION_H_
