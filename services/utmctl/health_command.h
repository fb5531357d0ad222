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
int Health(const std::string& server, double timeout_s);

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_HEALTH_COMMAND_H_
