#include "services/utmd/rid_key.h"

#include <openssl/rand.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/common/auth.h"

namespace utm::utmd {

absl::StatusOr<std::string> RidSessionKeyFromFile(const std::string& data_dir) {
  return auth::LoadOrCreateSecret(data_dir, "rid-session-key");
}

absl::StatusOr<std::string> RidSessionKeyFromRedis(redis::ClientOptions options,
                                                   const std::string& key) {
  absl::StatusOr<std::unique_ptr<redis::Client>> client =
      redis::Client::Connect(std::move(options));
  if (!client.ok()) return client.status();
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return absl::InternalError("no random bytes from OpenSSL");
  }
  const std::string fresh = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
  absl::StatusOr<redis::Reply> set =
      (*client)->Command({"SET", key, fresh, "NX"});
  if (!set.ok()) return set.status();
  if (set->is_error()) {
    return absl::UnavailableError(
        absl::StrCat("SET ", key, ": ", set->DebugString()));
  }
  absl::StatusOr<redis::Reply> got = (*client)->Command({"GET", key});
  if (!got.ok()) return got.status();
  if (got->type != redis::Reply::Type::kString || got->str.size() < 16) {
    return absl::UnavailableError(
        absl::StrCat("GET ", key, ": ", got->DebugString()));
  }
  return got->str;
}

}  // namespace utm::utmd
