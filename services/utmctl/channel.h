// The gRPC channel utmctl talks to utmd over: plaintext, or TLS verified
// against a CA certificate file.
#ifndef UTM_SERVICES_UTMCTL_CHANNEL_H_
#define UTM_SERVICES_UTMCTL_CHANNEL_H_

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

namespace utm::ctl {

// `tls_ca_file` empty: plaintext. Otherwise TLS, trusting the PEM
// certificates in the file; null (after printing why) when it is unreadable.
inline std::shared_ptr<grpc::Channel> OpenChannel(
    const std::string& server, const std::string& tls_ca_file) {
  if (tls_ca_file.empty()) {
    return grpc::CreateChannel(server, grpc::InsecureChannelCredentials());
  }
  std::ifstream in(tls_ca_file);
  if (!in) {
    std::cerr << tls_ca_file << ": cannot open\n";
    return nullptr;
  }
  std::stringstream pem;
  pem << in.rdbuf();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = pem.str();
  return grpc::CreateChannel(server, grpc::SslCredentials(ssl));
}

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_CHANNEL_H_
