// The one place where absl::Status and grpc::Status meet. Codes have the
// same numbers in both; messages pass unchanged.
#ifndef UTM_SERVICES_COMMON_GRPC_STATUS_H_
#define UTM_SERVICES_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace utm {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace utm

#endif  // UTM_SERVICES_COMMON_GRPC_STATUS_H_
