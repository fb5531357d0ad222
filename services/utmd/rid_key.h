// The secret key of Remote ID session ids (services/remoteid): the same for
// every process of one deployment, so that a flight keeps its id whichever
// replica shows it and across restarts, and never shown to anyone.
#ifndef UTM_SERVICES_UTMD_RID_KEY_H_
#define UTM_SERVICES_UTMD_RID_KEY_H_

#include <string>

#include "absl/status/statusor.h"
#include "services/common/redis/redis_client.h"

namespace utm::utmd {

// The single process: `<data_dir>/rid-session-key`, created (0600, 32
// random bytes as hex) on first use. Errors as auth::LoadOrCreateSecret.
absl::StatusOr<std::string> RidSessionKeyFromFile(const std::string& data_dir);

// Replicas: the Redis string `key`, set once by whichever replica comes
// first (SET NX) and read by all. UNAVAILABLE when Redis cannot be reached.
absl::StatusOr<std::string> RidSessionKeyFromRedis(redis::ClientOptions options,
                                                   const std::string& key);

}  // namespace utm::utmd

#endif  // UTM_SERVICES_UTMD_RID_KEY_H_
