// Keyed pseudonyms: a stable name for an identifier (an operator id) that
// reveals nothing of it to whoever reads the files or the Redis it is kept
// in, without the key. HMAC-SHA256 (OpenSSL) of the identifier under a
// 32-byte secret, lowercase hex.
//
// Why keyed: operator ids are few and guessable (an account name, an email),
// so a plain hash would be reversed by hashing candidates; under a secret key
// that the files do not hold, it cannot be. The same key gives the same
// pseudonym on every replica and across restarts, so a record kept under a
// pseudonym is found again — which is also why replicas sharing one Redis
// must all be given the same key (utmd --pseudonym-key), and why losing the
// key orphans what was kept under it (it is then as good as erased).
//
// Used for what must be found by operator but must not name it on disk:
// operators' data settings (services/operator/operator_settings.h); audit
// entries pseudonymised on erasure will use the same function.
//
// Typical usage:
//   UTM_ASSIGN_OR_RETURN(std::string key,
//                        pseudonym::LoadKey(flag_value, data_dir));
//   UTM_ASSIGN_OR_RETURN(pseudonym::Pseudonymizer p,
//                        pseudonym::Pseudonymizer::Create(key));
//   std::string name = p.Of("operator-42");  // 64 hex characters
#ifndef UTM_SERVICES_COMMON_PSEUDONYM_H_
#define UTM_SERVICES_COMMON_PSEUDONYM_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace utm::pseudonym {

inline constexpr size_t kKeyBytes = 32;
// Length of a pseudonym: hex of a SHA-256 MAC.
inline constexpr size_t kPseudonymChars = 64;
// The file utmd keeps its key in, in its data directory, when no
// --pseudonym-key is given.
inline constexpr char kKeyFileName[] = "pseudonym-key";

class Pseudonymizer {
 public:
  // INVALID_ARGUMENT unless `key` holds exactly 32 bytes.
  static absl::StatusOr<Pseudonymizer> Create(std::string key);

  // HMAC-SHA256(key, "utm-pseudonym-v1:" + id) as 64 lowercase hex
  // characters. Deterministic, thread-safe; a few microseconds (OpenSSL 3
  // sets up the MAC on each call: about 6 us measured on a loaded 2-core
  // build machine).
  std::string Of(absl::string_view id) const;

 private:
  explicit Pseudonymizer(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

// The key utmd pseudonymises under. `spec` non-empty: "env:NAME" (64 hex
// characters) or a file of 32 raw bytes or 64 hex characters, mode 0600
// (as --store-key reads it). `spec` empty: <data_dir>/pseudonym-key, created
// (64 hex characters, mode 0600) when missing. Errors name the source, never
// the key.
absl::StatusOr<std::string> LoadKey(const std::string& spec,
                                    const std::string& data_dir);

}  // namespace utm::pseudonym

#endif  // UTM_SERVICES_COMMON_PSEUDONYM_H_
