#include "services/utmctl/health_command.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <iostream>

#include "grpc/health/v1/health.grpc.pb.h"
#include "services/utmctl/channel.h"
#include "services/utmctl/tls_hint.h"

namespace utm::ctl {

int Health(const ConnectionOptions& options, const std::string& service) {
  std::shared_ptr<grpc::Channel> channel =
      OpenChannel(options.server, options.tls_ca_file);
  if (channel == nullptr) return 66;
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(
                           static_cast<int64_t>(options.timeout_s * 1000)));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  request.set_service(service);
  const grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) {
    std::cerr << options.server << ": " << status.error_message() << " (code "
              << status.error_code() << ")\n";
    if (std::string hint = TransportHint(status); !hint.empty()) {
      std::cerr << hint << "\n";
    }
    return kExitUnavailable;
  }
  std::cout << options.server << (service.empty() ? "" : " ")
            << service << ": "
            << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                   response.status())
            << "\n";
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING
             ? 0
             : kExitUnavailable;
}

}  // namespace utm::ctl
