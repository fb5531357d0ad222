// Telling a TLS/plaintext mismatch apart from other connection failures. A
// plaintext client talking to a TLS server sees only "Socket closed", and a
// TLS client talking to a plaintext server an OpenSSL "wrong version number";
// neither says what to do. TransportHint() says it: "the server speaks TLS:
// add --tls-ca CA.pem ..." (after a TLS handshake with the address in the
// error succeeds, certificate unchecked) or "the server does not speak TLS:
// drop --tls-ca".
//
// Typical usage:
//   if (std::string hint = TransportHint(status); !hint.empty())
//     std::cerr << hint << "\n";
#ifndef UTM_SERVICES_UTMCTL_TLS_HINT_H_
#define UTM_SERVICES_UTMCTL_TLS_HINT_H_

#include <grpcpp/support/status.h>

#include <string>

#include "absl/time/time.h"

namespace utm::ctl {

// The hint for a failed call's `status`, or "" when it is no TLS mismatch
// (or not UNAVAILABLE). May probe the address named in the message with a
// TLS handshake (blocking, at most about `probe_timeout`).
std::string TransportHint(const grpc::Status& status,
                          absl::Duration probe_timeout = absl::Seconds(2));

// Whether a TLS server answers at `host:port` (IPv6 as [addr]:port): true
// once a handshake completes, the certificate unchecked.
bool SpeaksTls(const std::string& address, absl::Duration timeout);

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_TLS_HINT_H_
