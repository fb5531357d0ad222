// Authenticating a gRPC call: the bearer token in its `authorization`
// metadata, verified into a Principal. Shared by every service adapter.
#ifndef UTM_SERVICES_COMMON_GRPC_AUTH_H_
#define UTM_SERVICES_COMMON_GRPC_AUTH_H_

#include <grpcpp/server_context.h>

#include "absl/status/statusor.h"
#include "services/common/auth.h"

namespace utm {

// UNAUTHENTICATED without credentials or with a token `verifier` refuses.
absl::StatusOr<auth::Principal> AuthenticateCall(
    const grpc::ServerContextBase& context, const auth::Verifier& verifier);

}  // namespace utm

#endif  // UTM_SERVICES_COMMON_GRPC_AUTH_H_
