#include "services/common/server.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"

namespace utm {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;

grpc::Status CheckHealth(int port, HealthCheckResponse* response) {
  auto stub = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  return stub->Check(&context, HealthCheckRequest(), response);
}

ServerOptions Loopback() {
  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  return options;
}

TEST(Server, ServesHealthOnAPickedPort) {
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(Loopback(), {});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_GT((*server)->port(), 0);
  HealthCheckResponse response;
  const grpc::Status status = CheckHealth((*server)->port(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
}

TEST(Server, RefusesCallsAfterShutdown) {
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(Loopback(), {});
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  (*server)->Shutdown(absl::Seconds(1));
  (*server)->Shutdown(absl::Seconds(1));  // idempotent
  HealthCheckResponse response;
  EXPECT_EQ(CheckHealth(port, &response).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST(Server, SecondServerOnTheSamePortIsRefused) {
  absl::StatusOr<std::unique_ptr<Server>> first = Server::Start(Loopback(), {});
  ASSERT_TRUE(first.ok()) << first.status();
  ServerOptions same;
  same.listen_address = absl::StrCat("127.0.0.1:", (*first)->port());
  absl::StatusOr<std::unique_ptr<Server>> second = Server::Start(same, {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(
      second.status().message(),
      HasSubstr(absl::StrCat("cannot listen on ", same.listen_address)));
}

TEST(Server, MalformedAddressesAreRefused) {
  for (const std::string address :
       {"127.0.0.1:99999", "127.0.0.1", "127.0.0.1:-1", "127.0.0.1:http"}) {
    ServerOptions options;
    options.listen_address = address;
    absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options, {});
    ASSERT_FALSE(server.ok()) << address;
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(server.status().message(),
                HasSubstr("expected host:port with a port from 0 to 65535"));
  }
}

TEST(Server, DefaultListensOnLoopbackOnly) {
  EXPECT_EQ(ServerOptions().listen_address, "127.0.0.1:7400");
}

}  // namespace
}  // namespace utm
