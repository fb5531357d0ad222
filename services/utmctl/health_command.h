// `utmctl health`: asks a utmd server whether it is serving
// (grpc.health.v1.Health/Check).
#ifndef UTM_SERVICES_UTMCTL_HEALTH_COMMAND_H_
#define UTM_SERVICES_UTMCTL_HEALTH_COMMAND_H_

#include <string>

#include "services/utmctl/connection.h"

namespace utm::ctl {

// Exit code when the server is not serving or cannot be reached
// (EX_UNAVAILABLE).
inline constexpr int kExitUnavailable = 69;

// Prints SERVING (exit 0) or why not (exit kExitUnavailable), asking
// `options.server` (over TLS when `options.tls_ca_file` is set) and waiting
// up to `options.timeout_s`; no token is sent, --json is not offered.
// `service`: a full service name (e.g. "utm.v1.StrategicCoordination") or ""
// for the server as a whole.
int Health(const ConnectionOptions& options, const std::string& service);

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_HEALTH_COMMAND_H_
