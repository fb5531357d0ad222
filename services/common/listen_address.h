// The listening addresses utmd's flags take (--listen, --http, --metrics):
// "HOST:PORT", the host a name or address ("[v6]" in brackets), the port
// 0-65535 (0: the system picks a free one). One parser, so that every flag
// refuses the same mistakes with the same words.
//
// Typical usage:
//   UTM_ASSIGN_OR_RETURN(ListenAddress a,
//                        ParseListenAddress(flag_value, "--metrics"));
//   ... bind a.host, a.port ...
#ifndef UTM_SERVICES_COMMON_LISTEN_ADDRESS_H_
#define UTM_SERVICES_COMMON_LISTEN_ADDRESS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace utm {

struct ListenAddress {
  // The host without IPv6 brackets ("::1" for "[::1]:7400"). Never empty.
  std::string host;
  int port = 0;
};

// INVALID_ARGUMENT `<what> "<address>": expected host:port with a port from
// 0 to 65535` when there is no colon, no host, or a port that is not a whole
// number in range. `what` names where the address came from ("listen
// address", "--http").
absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view address,
                                                 absl::string_view what);

}  // namespace utm

#endif  // UTM_SERVICES_COMMON_LISTEN_ADDRESS_H_
