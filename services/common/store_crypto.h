// Encryption at rest for the embedded store: the key (loaded from a file or
// the environment, never logged), its public id, and AES-256-GCM sealing of
// one record through OpenSSL's EVP interface. store_format.h decides what is
// sealed and with which nonce and associated data; this file only knows
// bytes.
//
// Typical usage:
//   UTM_ASSIGN_OR_RETURN(std::string key,
//   crypto::LoadKey("env:UTMD_STORE_KEY")); crypto::Cipher cipher(key);
//   std::string sealed;
//   cipher.Seal(nonce, aad, plaintext, &sealed);
//   std::string plain;
//   if (!cipher.Open(nonce, aad, sealed, &plain)) { /* damaged or forged */ }
#ifndef UTM_SERVICES_COMMON_STORE_CRYPTO_H_
#define UTM_SERVICES_COMMON_STORE_CRYPTO_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace utm::store::crypto {

inline constexpr size_t kKeyBytes = 32;    // AES-256
inline constexpr size_t kNonceBytes = 12;  // GCM's 96-bit IV
inline constexpr size_t kTagBytes = 16;    // full-length GCM tag
inline constexpr size_t kKeyIdBytes = 8;

// Reads a store key. `spec` is "env:NAME" (the variable holds 64 hex
// characters) or the path of a file holding 32 raw bytes or 64 hex
// characters (a trailing newline allowed). A file readable by its group or
// by others is refused, like an ssh key. INVALID_ARGUMENT naming the source
// (never the key) when the key is missing or malformed; FAILED_PRECONDITION
// for a file with a lax mode; UNAVAILABLE when it cannot be read.
absl::StatusOr<std::string> LoadKey(absl::string_view spec);

// Parses what LoadKey read: 32 raw bytes, or 64 hex characters optionally
// followed by a newline. `source` names where it came from, for the error.
absl::StatusOr<std::string> ParseKey(absl::string_view text,
                                     absl::string_view source);

// The public name of a key, written in every encrypted file's header so that
// a wrong key is recognised before anything is read: the first 8 bytes of
// HMAC-SHA-256(key, "utmd store key id v1"). It reveals nothing usable about
// the key. REQUIRES: key.size() == kKeyBytes.
std::string KeyId(absl::string_view key);
// KeyId as 16 lower-case hex characters, for messages.
std::string KeyIdHex(absl::string_view key_id);

// 64 bits from OpenSSL's CSPRNG (a file salt). Aborts if the generator
// fails, which OpenSSL documents only for an unseeded system.
uint64_t RandomSalt();

// AES-256-GCM with one key. Not thread-safe: each instance keeps OpenSSL
// contexts; the store uses one per thread that seals or opens.
class Cipher {
 public:
  // REQUIRES: key.size() == kKeyBytes.
  explicit Cipher(absl::string_view key);
  ~Cipher();
  Cipher(const Cipher&) = delete;
  Cipher& operator=(const Cipher&) = delete;

  const std::string& key_id() const { return key_id_; }

  // Appends ciphertext || tag (plaintext.size() + kTagBytes bytes) to `out`.
  // REQUIRES: nonce.size() == kNonceBytes. The caller guarantees that a
  // nonce is never used twice with this key.
  void Seal(absl::string_view nonce, absl::string_view aad,
            absl::string_view plaintext, std::string* out);
  // Checks the tag and decrypts into `out` (replaced). False, with `out`
  // cleared, when `sealed` is shorter than a tag or the tag does not match
  // (a different key, nonce or aad, or altered bytes).
  bool Open(absl::string_view nonce, absl::string_view aad,
            absl::string_view sealed, std::string* out);

 private:
  struct Contexts;
  std::unique_ptr<Contexts> contexts_;
  std::string key_id_;
};

}  // namespace utm::store::crypto

#endif  // UTM_SERVICES_COMMON_STORE_CRYPTO_H_
