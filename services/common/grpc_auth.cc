#include "services/common/grpc_auth.h"

#include "absl/strings/string_view.h"

namespace utm {

absl::StatusOr<auth::Principal> AuthenticateCall(
    const grpc::ServerContextBase& context, const auth::Verifier& verifier) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError(
        "no credentials: send the metadata 'authorization: Bearer <token>'");
  }
  return verifier.Verify(
      absl::string_view(it->second.data(), it->second.size()));
}

}  // namespace utm
