// The gRPC channel utmctl talks to utmd over (plaintext, or TLS verified
// against a CA certificate file), and the client plumbing every command
// family shares: a stub, call contexts carrying the bearer token, and the
// timestamp format of human output. The flags they come from are in
// connection.h.
//
// Typical usage:
//   ServiceClient<v1::StrategicCoordination> client(options);
//   client.stub()->GetIntent(client.Context().get(), request, &response);
#ifndef UTM_SERVICES_UTMCTL_CHANNEL_H_
#define UTM_SERVICES_UTMCTL_CHANNEL_H_

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "services/utmctl/connection.h"
#include "services/utmctl/request_id.h"

namespace utm::ctl {

// `tls_ca_file` empty: plaintext. Otherwise TLS, trusting the PEM
// certificates in the file; null (after printing why) when it is unreadable.
inline std::shared_ptr<grpc::Channel> OpenChannel(
    const std::string& server, const std::string& tls_ca_file) {
  // Every failed call's error text names its request id (request_id.h).
  auto open = [&server](std::shared_ptr<grpc::ChannelCredentials> credentials) {
    std::vector<
        std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
        interceptors;
    interceptors.push_back(std::make_unique<RequestIdInterceptorFactory>());
    return grpc::experimental::CreateCustomChannelWithInterceptors(
        server, credentials, grpc::ChannelArguments(), std::move(interceptors));
  };
  if (tls_ca_file.empty()) return open(grpc::InsecureChannelCredentials());
  std::ifstream in(tls_ca_file);
  if (!in) {
    std::cerr << tls_ca_file << ": cannot open\n";
    return nullptr;
  }
  std::stringstream pem;
  pem << in.rdbuf();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = pem.str();
  return open(grpc::SslCredentials(ssl));
}

// A stub of `Service` and the contexts of its calls. The token is the
// --token flag, else $UTM_TOKEN; none is sent when both are empty. An
// unreadable CA file has been reported by OpenChannel(); every call then
// fails UNAVAILABLE.
template <typename Service>
class ServiceClient {
 public:
  explicit ServiceClient(const ConnectionOptions& options)
      : token_(options.token), timeout_s_(options.timeout_s) {
    if (token_.empty()) {
      if (const char* env = std::getenv("UTM_TOKEN")) token_ = env;
    }
    std::shared_ptr<grpc::Channel> channel =
        OpenChannel(options.server, options.tls_ca_file);
    if (channel == nullptr) {
      channel = grpc::CreateChannel("unix:/nonexistent",
                                    grpc::InsecureChannelCredentials());
    }
    stub_ = Service::NewStub(channel);
  }

  // A unary call's context: the token and a deadline `timeout_s` away.
  std::unique_ptr<grpc::ClientContext> Context() const {
    auto context = StreamContext();
    context->set_deadline(
        std::chrono::system_clock::now() +
        std::chrono::milliseconds(static_cast<int64_t>(timeout_s_ * 1000)));
    return context;
  }
  // A stream's context: the token, no deadline (the caller cancels it).
  std::unique_ptr<grpc::ClientContext> StreamContext() const {
    auto context = std::make_unique<grpc::ClientContext>();
    if (!token_.empty()) {
      context->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
    }
    return context;
  }
  typename Service::Stub* stub() { return stub_.get(); }

 private:
  std::string token_;
  double timeout_s_;
  std::unique_ptr<typename Service::Stub> stub_;
};

// "2026-11-21T15:38:58Z" (whole seconds, UTC).
inline std::string Rfc3339(const google::protobuf::Timestamp& t) {
  return absl::FormatTime(
      "%Y-%m-%dT%H:%M:%SZ",
      absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos()),
      absl::UTCTimeZone());
}

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_CHANNEL_H_
