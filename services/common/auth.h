// Authentication for utmd: JWT bearer tokens and the scopes they grant.
//
// Every call to a utmd service carries `authorization: Bearer <jwt>`. A
// Verifier checks the token's signature (HS256 with a shared secret in dev
// mode; in production RS256 or ES256 with one public key, or with the key an
// identity provider's JWK Set names by the token's kid), its time claims
// against an injected Clock, its issuer and audience against the accepted
// ones, and turns it into a Principal: who is calling (`sub`) and which
// UTM scopes the token grants (the OAuth-style space-separated `scope`
// claim). Services then ask RequireScope() before acting.
//
// Dev mode needs no key management: LoadOrCreateDevKey() keeps one random
// HMAC secret in the data directory, utmd verifies with it and
// `utmctl token` mints with it (LoadDevKey(), MintHmacToken()).
//
// Typical usage:
//   UTM_ASSIGN_OR_RETURN(std::string secret, LoadOrCreateDevKey(data_dir));
//   UTM_ASSIGN_OR_RETURN(std::unique_ptr<Verifier> verifier,
//                        Verifier::FromHmacSecret(secret, {}, clock));
//   ...
//   UTM_ASSIGN_OR_RETURN(Principal caller, verifier->Verify(header_value));
//   UTM_RETURN_IF_ERROR(RequireScope(caller, Scope::kStrategicCoordination));
#ifndef UTM_SERVICES_COMMON_AUTH_H_
#define UTM_SERVICES_COMMON_AUTH_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/jwks.h"

namespace utm::auth {

// What a token allows its holder to do. Declaration order is the sort order
// of Principal::scopes.
enum class Scope {
  kStrategicCoordination,  // "utm.strategic_coordination": plan/fly intents.
  kConstraintManagement,   // "utm.constraint_management": publish constraints.
  kConformanceMonitoring,  // "utm.conformance_monitoring": watch conformance.
  kRemoteIdDisplay,        // "utm.rid_display": read Remote ID.
  kLawEnforcement,         // "utm.law_enforcement": Remote ID operator details.
  kAdmin,                  // "utm.admin": operate the server itself.
  // Priority bands above an operator's (see services/intent/priority_policy.h):
  kPriorityPublicSafety,  // "utm.priority.public_safety": police, fire, SAR.
  kPriorityEmergency,     // "utm.priority.emergency": the top band.
  kRemoteIdReceiver,  // "utm.rid_receiver": a ground receiver streams what it
                      // hears.
  kAudit,             // "utm.audit": read (never write) the audit log.
  kRegistry,          // "utm.registry": register and revoke aircraft.
};

// The wire name of `s` in a token's "scope" claim, e.g.
// "utm.strategic_coordination". The view is of static storage.
absl::string_view ScopeName(Scope s);

// Inverse of ScopeName(); exact, case-sensitive match. INVALID_ARGUMENT
// (listing the valid names) for anything else.
absl::StatusOr<Scope> ParseScope(absl::string_view name);

// The scopes `utmctl token --role <role>` grants, sorted:
//   operator  -> strategic_coordination
//   regulator -> constraint_management, registry
//   monitor   -> conformance_monitoring
//   display   -> rid_display
//   police    -> rid_display, law_enforcement
//   public-safety -> strategic_coordination, priority.public_safety
//   emergency -> strategic_coordination, priority.emergency
//   receiver  -> rid_receiver
//   auditor   -> audit
//   admin     -> the six above (no priority band: an operator's priorities)
// INVALID_ARGUMENT (listing the valid roles) for an unknown role.
absl::StatusOr<std::vector<Scope>> ScopesForRole(absl::string_view role);

// A caller whose token verified.
struct Principal {
  std::string subject;        // The "sub" claim: operator/regulator identity.
  std::vector<Scope> scopes;  // Sorted, unique. May be empty.
  absl::Time expires;         // The "exp" claim.
  // The optional "home_region" claim: the region whose deployment keeps
  // this caller's data (e.g. "EU-DE"); empty when the token has none.
  // services/common/region.h decides what a deployment does with it.
  std::string home_region;

  bool Has(Scope s) const;
};

// OK if `p` has `s`; otherwise PERMISSION_DENIED
// "token for <sub> lacks scope <wire name>".
absl::Status RequireScope(const Principal& p, Scope s);

// OK if `code` is a region code: 2 to 16 characters of [A-Z0-9-] (e.g.
// "EU-DE", "US-CA"); otherwise INVALID_ARGUMENT starting with `field`.
absl::Status ValidateRegionCode(absl::string_view code,
                                absl::string_view field);

struct VerifierOptions {
  // The accepted "iss" claims: a token's must be one of them.
  // DEFAULT: {"utmd"}. REQUIRES: at least one; none empty.
  std::vector<std::string> issuers = {"utmd"};
  // The accepted audiences: a token's "aud" claim (a string, or an array of
  // strings) must include at least one. DEFAULT: {"utmd"}.
  // REQUIRES: at least one; none empty.
  std::vector<std::string> audiences = {"utmd"};
  // Leeway for exp, nbf and iat against the verifier's clock, absorbing clock
  // differences between the minting host and this one. DEFAULT: 30 s.
  // REQUIRES: >= 0.
  absl::Duration clock_skew = absl::Seconds(30);
};

// Verifies bearer tokens: with one key (HS256 secret, or one RS256/ES256
// public key), or with the key a JWK Set file holds for the token's "kid".
// Verify() may be called from any number of threads at once.
class Verifier {
 public:
  // HS256 with a shared secret (dev mode); `secret` is used byte for byte.
  // INVALID_ARGUMENT if the secret is shorter than 32 bytes, or for invalid
  // options. REQUIRES: `clock` non-null and outlives the Verifier.
  static absl::StatusOr<std::unique_ptr<Verifier>> FromHmacSecret(
      std::string secret, VerifierOptions options, const Clock* clock);

  // A PEM public key ("-----BEGIN PUBLIC KEY-----", SubjectPublicKeyInfo)
  // for production. The key's type fixes the algorithm: RSA (>= 2048 bits)
  // -> RS256, EC on P-256 -> ES256. INVALID_ARGUMENT as PublicKeyFromPem(),
  // or for invalid options. Tokens' kid headers are ignored.
  // REQUIRES: `clock` non-null and outlives the Verifier.
  static absl::StatusOr<std::unique_ptr<Verifier>> FromPublicKeyPem(
      std::string pem, VerifierOptions options, const Clock* clock);

  // The keys of a JWK Set file (an identity provider's, see jwks.h), chosen
  // by each token's "kid" header and reloaded when the file changes. Errors
  // as JwksFile::Open(), or INVALID_ARGUMENT for invalid options.
  // REQUIRES: `clock` non-null and outlives the Verifier.
  static absl::StatusOr<std::unique_ptr<Verifier>> FromJwksFile(
      std::string path, VerifierOptions options, const Clock* clock,
      JwksFileOptions jwks_options = {});

  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;
  ~Verifier();

  // Verifies the value of an authorization header: "Bearer <jwt>" (scheme
  // matched case-insensitively) or a bare "<jwt>". Returns the caller, or
  // UNAUTHENTICATED whose message says exactly what was wrong: no token, a
  // scheme other than Bearer, not a JWT, alg "none" (never accepted), an alg
  // other than the key's (so an HS256 token "signed" with our RSA public key
  // fails, and a JWK Set never verifies HS*), a kid the key set does not
  // hold (or none when it holds several), bad signature, missing or
  // non-numeric exp (tokens must expire), expired (with when), not yet valid
  // (nbf), issued in the future (iat), an issuer not accepted, an audience
  // including none of ours, missing sub, a non-string scope claim, a
  // home_region claim that is not a region code (ValidateRegionCode). Scope
  // names this server does not know are ignored (a newer issuer may grant
  // more); a token with no known scope is valid but fails every
  // RequireScope(). Thread-safe.
  absl::StatusOr<Principal> Verify(absl::string_view authorization) const;

  // "HS256", "RS256", "ES256", or "JWKS" for a key set.
  absl::string_view algorithm() const { return algorithm_; }

 private:
  Verifier(std::string algorithm, std::string key,
           std::unique_ptr<JwksFile> jwks, VerifierOptions options,
           const Clock* clock);

  // The key for a token with header `alg` and `kid`: (algorithm, key).
  absl::StatusOr<std::pair<std::string, std::string>> KeyFor(
      absl::string_view alg, std::optional<absl::string_view> kid) const;

  // One key: the only "alg" accepted and its key; "JWKS" with jwks_ set.
  const std::string algorithm_;
  const std::string key_;  // HMAC secret, or normalized PEM public key.
  const std::unique_ptr<JwksFile> jwks_;  // Thread-safe itself.
  const VerifierOptions options_;
  const Clock* const clock_;  // Not owned.
};

// The dev-mode HMAC secret, kept in `<data_dir>/dev-signing-key`: 32 random
// bytes (from OpenSSL's CSPRNG), hex-encoded, 64 characters plus a newline.
// The returned secret is the 64-character hex TEXT itself, not the 32 decoded
// bytes: anyone holding the file (utmctl, a test script) can use it verbatim.
//
// If the file is missing it is created (and `data_dir` too, if needed) with
// mode 0600, atomically: written to a temporary file, synced, then renamed
// into place without replacing a key another process created meanwhile (the
// loser reads the winner's key). A crash never leaves a half-written key;
// at worst a stray `dev-signing-key.tmp-*` file.
// If present it is read: INVALID_ARGUMENT unless it holds exactly 64 hex
// characters (trailing whitespace ignored). Other codes for I/O errors, by
// errno (e.g. PERMISSION_DENIED).
absl::StatusOr<std::string> LoadOrCreateDevKey(const std::string& data_dir);

// The same for any secret of the data directory, kept in
// `<data_dir>/<file_name>` (e.g. the key of Remote ID session ids).
absl::StatusOr<std::string> LoadOrCreateSecret(const std::string& data_dir,
                                               const std::string& file_name);

// Reads the key LoadOrCreateDevKey() keeps, and never creates one: a minting
// tool that made its own key would hand out tokens no server accepts.
// NOT_FOUND naming the file (and saying that utmd --auth dev creates it) if
// it is missing; otherwise as LoadOrCreateDevKey().
absl::StatusOr<std::string> LoadDevKey(const std::string& data_dir);

struct MintOptions {
  std::string subject;        // "sub". REQUIRES: non-empty.
  std::vector<Scope> scopes;  // "scope"; sorted and deduplicated when minted.
  // exp - iat, rounded up to whole seconds. DEFAULT: 1 h.
  // REQUIRES: > 0 and <= 100 years.
  absl::Duration ttl = absl::Hours(1);
  // "iss" and "aud". DEFAULT: "utmd". REQUIRES: non-empty.
  std::string issuer = "utmd";
  std::string audience = "utmd";
  // "home_region", omitted when empty. REQUIRES: empty or a region code
  // (ValidateRegionCode).
  std::string home_region;
};

// An HS256 token with iss, aud (a string), sub, iat = nbf = now (whole
// seconds, rounded down), exp = iat + ttl, scope (space-separated wire names,
// sorted; omitted when there are none), home_region (when set) and a random
// 128-bit hex jti.
// INVALID_ARGUMENT for an empty subject, issuer or audience, one containing
// NUL, ttl outside (0, 100 years], or a secret shorter than 32 bytes (no
// Verifier would accept its tokens). REQUIRES: `clock` non-null.
// Thread-safe.
absl::StatusOr<std::string> MintHmacToken(absl::string_view secret,
                                          const MintOptions& options,
                                          const Clock* clock);

}  // namespace utm::auth

#endif  // UTM_SERVICES_COMMON_AUTH_H_
