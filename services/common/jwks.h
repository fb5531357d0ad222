// Public keys that verify RS256 and ES256 bearer tokens: one PEM key, or a
// JSON Web Key Set (RFC 7517) as identity providers publish them, kept in a
// file that is reread when it changes so the provider can rotate its keys.
//
// A token names its key in the JWS header's "kid"; JwksFile::Find() picks
// that key. Rotation: the provider adds the new key to the set, starts
// signing with it, and drops the old key once the old tokens have expired;
// whoever deploys utmd rewrites the file (atomically, e.g. rename) at each
// step. utmd notices within JwksFileOptions::check_interval, at once (rate
// limited) when a token names a kid it does not know. A file that no longer
// parses, or holds no usable key, is logged and ignored: the previous keys
// stay in force, so a bad deployment never locks every caller out.
//
// Typical usage:
//   UTM_ASSIGN_OR_RETURN(std::unique_ptr<JwksFile> keys,
//                        JwksFile::Open("/etc/utmd/jwks.json", {}, clock));
//   UTM_ASSIGN_OR_RETURN(PublicKey key, keys->Find(kid_from_token_header));
//   ... verify the token's signature with key.pem, requiring key.algorithm.
#ifndef UTM_SERVICES_COMMON_JWKS_H_
#define UTM_SERVICES_COMMON_JWKS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/clock.h"

namespace utm::auth {

// A key that verifies token signatures.
struct PublicKey {
  std::string kid;        // The JWK's "kid"; empty if it has none.
  std::string algorithm;  // "RS256" or "ES256": the only alg it verifies.
  std::string pem;        // SubjectPublicKeyInfo PEM, as OpenSSL writes it.
};

// Checks a PEM public key ("-----BEGIN PUBLIC KEY-----") and fixes its
// algorithm: RSA of at least 2048 bits -> RS256, EC on P-256 -> ES256.
// INVALID_ARGUMENT for anything else: an unreadable key (a private key, a
// PKCS#1 "RSA PUBLIC KEY"), another key type or curve, a short RSA key, more
// than 64 KiB. The returned pem is re-encoded: exactly the key checked.
absl::StatusOr<PublicKey> PublicKeyFromPem(absl::string_view pem);

// The usable keys of a JWK Set, and what was left out.
struct KeySet {
  std::vector<PublicKey> keys;  // Unique kids; at least one.
  // One line for each key skipped, e.g. `keys[2] (kid "enc-1"): "use" is
  // "enc", not "sig"`. An identity provider's set may hold keys for other
  // purposes or algorithms; they are not an error.
  std::vector<std::string> skipped;
};

// Parses a JWK Set: `{"keys": [{"kty": "RSA", "kid": ..., "n": ..., "e":
// ...}, {"kty": "EC", "crv": "P-256", "x": ..., "y": ...}]}` (base64url
// numbers without padding, RFC 7518 §6). "alg", if present, must be RS256
// for RSA and ES256 for EC; "use", if present, must be "sig"; "key_ops", if
// present, must include "verify". Keys failing these, or of another type or
// curve, are skipped (KeySet::skipped). INVALID_ARGUMENT, naming the key by
// index and kid, for: text that is not a JSON object with a "keys" array,
// more than 1 MiB or 100 keys, a supported key with malformed or missing
// members, an RSA key under 2048 bits, an EC point not on P-256, private key
// material ("d", "p", ...: publish only the public half), two usable keys
// with the same kid, a usable key without kid when there are several, or no
// usable key at all.
absl::StatusOr<KeySet> ParseJwks(absl::string_view json);

struct JwksFileOptions {
  // How often Find() checks whether the file changed (stat: inode, size,
  // mtime, ctime; it is reread only when one of them did). DEFAULT: 30 s.
  // REQUIRES: > 0.
  absl::Duration check_interval = absl::Seconds(30);
  // A token naming an unknown kid triggers a check at once, but at most this
  // often: a stream of forged kids costs one stat a second. DEFAULT: 1 s.
  // REQUIRES: >= 0.
  absl::Duration unknown_kid_interval = absl::Seconds(1);
  // Where reloads and reload failures are reported, one line each, e.g.
  // `key set /etc/jwks.json: keeping the previous 2 keys: ...`.
  // DEFAULT: stderr, prefixed "utmd: ".
  std::function<void(const std::string& line)> log;
};

// A JWK Set file, reread when it changes. Thread-safe: Find() may be called
// from any number of threads; a reload never blocks callers that need no
// reload, and each caller sees either the old set or the new, never a mix.
class JwksFile {
 public:
  // Reads and parses `path` now: its errors (as ParseJwks(), or the I/O
  // error) fail the start-up rather than a later call. Logs the kids in
  // force and each key skipped. REQUIRES: `clock` non-null and outlives the
  // JwksFile.
  static absl::StatusOr<std::unique_ptr<JwksFile>> Open(std::string path,
                                                        JwksFileOptions options,
                                                        const Clock* clock);

  JwksFile(const JwksFile&) = delete;
  JwksFile& operator=(const JwksFile&) = delete;

  // The key a token's "kid" header names; `kid` is nullopt when the header
  // has none, which selects the set's only key. UNAUTHENTICATED, with the
  // kid quoted and the known kids listed, for an unknown kid or a missing
  // kid when the set has several keys. Checks the file first when
  // check_interval has passed, or (rate limited) when the kid is unknown.
  absl::StatusOr<PublicKey> Find(std::optional<absl::string_view> kid);

  // The kids of the keys in force, sorted.
  std::vector<std::string> kids() const;

  const std::string& path() const { return path_; }

 private:
  // Identifies one version of the file.
  struct Stamp {
    uint64_t device = 0, inode = 0;
    int64_t size = -1, mtime_ns = 0, ctime_ns = 0;
    bool operator==(const Stamp& o) const {
      return device == o.device && inode == o.inode && size == o.size &&
             mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns;
    }
  };
  struct Loaded {
    Stamp stamp;
    KeySet set;
  };

  JwksFile(std::string path, JwksFileOptions options, const Clock* clock);

  // Reads and parses the file as it is now.
  static absl::StatusOr<Loaded> Load(const std::string& path);
  // Rereads the file if its stamp changed; keeps the current keys if the new
  // version does not load.
  void Refresh() ABSL_LOCKS_EXCLUDED(mu_);
  std::shared_ptr<const KeySet> Current() const ABSL_LOCKS_EXCLUDED(mu_);
  void Log(const std::string& line) const;

  const std::string path_;
  const JwksFileOptions options_;
  const Clock* const clock_;

  // Serialises Refresh(); callers that need no refresh never take it.
  absl::Mutex refresh_mu_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const KeySet> keys_ ABSL_GUARDED_BY(mu_);
  // The version last tried, loaded or not: a broken file is reported once,
  // not at every check.
  Stamp stamp_ ABSL_GUARDED_BY(mu_);
  absl::Time next_check_ ABSL_GUARDED_BY(mu_);
  absl::Time next_unknown_kid_check_ ABSL_GUARDED_BY(mu_);
};

}  // namespace utm::auth

#endif  // UTM_SERVICES_COMMON_JWKS_H_
