// `utmctl health`: asks a utmd server whether it is serving
// (grpc.health.v1.Health/Check).
#ifndef UTM_SERVICES_UTMCTL_HEALTH_COMMAND_H_
#define UTM_SERVICES_UTMCTL_HEALTH_COMMAND_H_

#include <string>

namespace utm::ctl {

// Exit code when the server is not serving or cannot be reached
// (EX_UNAVAILABLE).
inline constexpr int kExitUnavailable = 69;

// Prints SERVING (exit 0) or why not (exit kExitUnavailable).
// `tls_ca_file`: empty for plaintext, else TLS trusting that CA.
int Health(const std::string& server, double timeout_s,
           const std::string& tls_ca_file = "");

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_HEALTH_COMMAND_H_
