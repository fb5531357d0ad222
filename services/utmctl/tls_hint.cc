#include "services/utmctl/tls_hint.h"

#include <netdb.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace utm::ctl {
namespace {

// "ipv4:127.0.0.1:7400" / "ipv6:[::1]:7400" in a gRPC error message.
std::string AddressIn(absl::string_view message) {
  for (absl::string_view scheme : {"ipv4:", "ipv6:"}) {
    const size_t at = message.find(scheme);
    if (at == absl::string_view::npos) continue;
    absl::string_view rest = message.substr(at + scheme.size());
    // The address ends at ": " (the error after it) or the end.
    const size_t end = rest.find(": ");
    return std::string(rest.substr(0, end));
  }
  return "";
}

}  // namespace

bool SpeaksTls(const std::string& address, absl::Duration timeout) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) {
    return false;
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, &freeaddrinfo);
  const int fd = socket(found->ai_family, SOCK_STREAM, 0);
  if (fd < 0) return false;
  // Bounds connect(), SSL_connect()'s reads and writes (Linux).
  const timeval tv = absl::ToTimeval(timeout);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  bool tls = false;
  if (connect(fd, found->ai_addr, found->ai_addrlen) == 0) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = ctx != nullptr ? SSL_new(ctx) : nullptr;
    if (ssl != nullptr) {
      SSL_set_verify(ssl, SSL_VERIFY_NONE, nullptr);
      SSL_set_tlsext_host_name(ssl, host.c_str());
      SSL_set_fd(ssl, fd);
      tls = SSL_connect(ssl) == 1;
      if (tls) SSL_shutdown(ssl);
      SSL_free(ssl);
    }
    if (ctx != nullptr) SSL_CTX_free(ctx);
  }
  close(fd);
  return tls;
}

std::string TransportHint(const grpc::Status& status,
                          absl::Duration probe_timeout) {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return "";
  const std::string message = absl::AsciiStrToLower(status.error_message());
  if (absl::StrContains(message, "handshake failed") &&
      (absl::StrContains(message, "wrong_version_number") ||
       absl::StrContains(message, "wrong version number") ||
       absl::StrContains(message, "http_request") ||
       absl::StrContains(message, "packet length too long") ||
       absl::StrContains(message, "record layer failure"))) {
    return "the server does not speak TLS: drop --tls-ca";
  }
  if (absl::StrContains(message, "socket closed") ||
      absl::StrContains(message, "connection reset")) {
    const std::string address = AddressIn(status.error_message());
    if (!address.empty() && SpeaksTls(address, probe_timeout)) {
      return "the server speaks TLS: add --tls-ca CA.pem (the CA that signed "
             "its certificate) and use the name in the certificate in "
             "--server";
    }
  }
  return "";
}

}  // namespace utm::ctl
