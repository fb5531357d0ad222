// What the gRPC service tests share: HMAC tokens for test callers, client
// contexts carrying them, and services started on a free loopback port.
// Header-only; for tests.
//
//   ServiceTestAuth auth(&clock);
//   Service service(&core, auth.verifier());
//   std::unique_ptr<Server> server = *StartOnLoopback({&service});
//   auto stub = v1::X::NewStub(LoopbackChannel(*server));
//   stub->Call(ServiceTestAuth::As(auth.Token("alice", "operator")).get(),
//   ...);
#ifndef UTM_TESTS_SERVICE_TEST_UTIL_H_
#define UTM_TESTS_SERVICE_TEST_UTIL_H_

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/server.h"

namespace utm::test_util {

inline constexpr char kTestSecret[] =
    "0123456789abcdef0123456789abcdef-test-secret";

// A verifier for kTestSecret and tokens signed with it, on `clock`.
class ServiceTestAuth {
 public:
  explicit ServiceTestAuth(const Clock* clock)
      : clock_(clock),
        verifier_(*auth::Verifier::FromHmacSecret(kTestSecret, {}, clock)) {}

  const auth::Verifier* verifier() const { return verifier_.get(); }

  // A token for `subject` with the scopes of `role` (auth::ScopesForRole).
  std::string Token(const std::string& subject, const std::string& role,
                    absl::Duration ttl = absl::Hours(1)) const {
    auth::MintOptions options;
    options.subject = subject;
    options.scopes = *auth::ScopesForRole(role);
    options.ttl = ttl;
    return *auth::MintHmacToken(kTestSecret, options, clock_);
  }

  // Adds `token` (none when empty) and a deadline to `context`.
  static void Authorize(grpc::ClientContext* context, const std::string& token,
                        int deadline_s = 30) {
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(deadline_s));
    if (!token.empty()) {
      context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
    }
  }

  // A fresh client context carrying `token`.
  static std::unique_ptr<grpc::ClientContext> As(const std::string& token,
                                                 int deadline_s = 10) {
    auto context = std::make_unique<grpc::ClientContext>();
    Authorize(context.get(), token, deadline_s);
    return context;
  }

 private:
  const Clock* const clock_;
  std::unique_ptr<auth::Verifier> verifier_;
};

// `services` (not owned) on a free port of 127.0.0.1.
inline absl::StatusOr<std::unique_ptr<Server>> StartOnLoopback(
    const std::vector<grpc::Service*>& services) {
  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  return Server::Start(options, services);
}

// An insecure channel to `server`'s loopback port.
inline std::shared_ptr<grpc::Channel> LoopbackChannel(const Server& server) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", server.port()),
                             grpc::InsecureChannelCredentials());
}

}  // namespace utm::test_util

#endif  // UTM_TESTS_SERVICE_TEST_UTIL_H_
