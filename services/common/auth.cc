#include "services/common/auth.h"

#include <fcntl.h>
#include <jwt.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <stdio.h>  // renameat2, RENAME_NOREPLACE (glibc, _GNU_SOURCE).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "geo/status_macros.h"
#include "nlohmann/json.hpp"
#include "services/common/scoped_fd.h"

namespace utm::auth {
namespace {

// HS256 keys shorter than the hash output weaken HMAC (RFC 7518 §3.2).
constexpr size_t kMinHmacSecretBytes = 32;
// Far above any real token (ours are ~400 bytes); bounds the work an
// unauthenticated caller can make us do.
constexpr size_t kMaxTokenBytes = 16 * 1024;
constexpr char kDevKeyFileName[] = "dev-signing-key";
constexpr size_t kDevKeyRandomBytes = 32;
// MintOptions::ttl upper bound: keeps exp arithmetic far from overflow.
constexpr absl::Duration kMaxTtl = absl::Hours(24 * 366 * 100);

struct ScopeEntry {
  Scope scope;
  absl::string_view name;
};
// In enum order.
constexpr ScopeEntry kScopes[] = {
    {Scope::kStrategicCoordination, "utm.strategic_coordination"},
    {Scope::kConstraintManagement, "utm.constraint_management"},
    {Scope::kConformanceMonitoring, "utm.conformance_monitoring"},
    {Scope::kRemoteIdDisplay, "utm.rid_display"},
    {Scope::kLawEnforcement, "utm.law_enforcement"},
    {Scope::kAdmin, "utm.admin"},
    {Scope::kPriorityPublicSafety, "utm.priority.public_safety"},
    {Scope::kPriorityEmergency, "utm.priority.emergency"},
    {Scope::kRemoteIdReceiver, "utm.rid_receiver"},
    {Scope::kAudit, "utm.audit"},
    {Scope::kRegistry, "utm.registry"},
};

struct RoleEntry {
  absl::string_view role;
  std::vector<Scope> scopes;  // Sorted.
};
const std::vector<RoleEntry>& Roles() {
  static const auto* const kRoles = new std::vector<RoleEntry>{
      {"operator", {Scope::kStrategicCoordination}},
      {"regulator", {Scope::kConstraintManagement, Scope::kRegistry}},
      {"monitor", {Scope::kConformanceMonitoring}},
      {"display", {Scope::kRemoteIdDisplay}},
      {"police", {Scope::kRemoteIdDisplay, Scope::kLawEnforcement}},
      {"public-safety",
       {Scope::kStrategicCoordination, Scope::kPriorityPublicSafety}},
      {"emergency", {Scope::kStrategicCoordination, Scope::kPriorityEmergency}},
      {"receiver", {Scope::kRemoteIdReceiver}},
      {"auditor", {Scope::kAudit}},
      {"admin",
       {Scope::kStrategicCoordination, Scope::kConstraintManagement,
        Scope::kConformanceMonitoring, Scope::kRemoteIdDisplay,
        Scope::kLawEnforcement, Scope::kAdmin}},
  };
  return *kRoles;
}

// RAII for libjwt objects.
struct JwtDeleter {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;
// libjwt 1.10 returns malloc'ed strings and has no jwt_free_str().
struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};
using MallocedStr = std::unique_ptr<char, FreeDeleter>;

absl::Status Unauthenticated(absl::string_view message) {
  return absl::UnauthenticatedError(message);
}

// "<op> <path>: <strerror(errno)>", with the code errno maps to. Reads errno
// before anything (such as building the message) can clobber it.
absl::Status PosixError(const char* op, const std::string& path) {
  const int error_number = errno;
  return absl::ErrnoToStatus(error_number, absl::StrCat(op, " ", path));
}

// RFC 3339 UTC, whole seconds. (Not named FormatTime: that collides with
// absl::FormatTime through argument-dependent lookup.)
std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// A caller-supplied string, quoted, escaped and bounded for an error message.
std::string Quote(absl::string_view s) {
  constexpr size_t kMax = 64;
  if (s.size() <= kMax) return absl::StrCat("\"", absl::CEscape(s), "\"");
  return absl::StrCat("\"", absl::CEscape(s.substr(0, kMax)), "\"...");
}

absl::StatusOr<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()),
                 static_cast<int>(n)) != 1) {
    ERR_clear_error();
    return absl::InternalError("OpenSSL RAND_bytes failed");
  }
  return out;
}

bool IsBase64UrlChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
         c == '_';
}

// Strips an optional "Bearer" scheme. The returned view points into
// `authorization`.
absl::StatusOr<absl::string_view> ExtractToken(
    absl::string_view authorization) {
  const absl::string_view value = absl::StripAsciiWhitespace(authorization);
  if (value.empty()) {
    return Unauthenticated("missing bearer token: authorization is empty");
  }
  const size_t space = value.find_first_of(" \t");
  if (space == absl::string_view::npos) {
    if (absl::EqualsIgnoreCase(value, "bearer")) {
      return Unauthenticated("missing bearer token after \"Bearer\"");
    }
    return value;  // A bare token.
  }
  const absl::string_view scheme = value.substr(0, space);
  if (!absl::EqualsIgnoreCase(scheme, "bearer")) {
    return Unauthenticated(absl::StrCat("unsupported authorization scheme ",
                                        Quote(scheme),
                                        "; expected \"Bearer <jwt>\""));
  }
  // Non-empty: `value` ends in a non-space character.
  return absl::StripLeadingAsciiWhitespace(value.substr(space + 1));
}

// JWS compact serialization: base64url header, payload and signature
// (possibly empty, as with alg "none") joined by '.'.
bool LooksLikeJwt(absl::string_view token) {
  const std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty()) return false;
  return std::all_of(token.begin(), token.end(),
                     [](char c) { return c == '.' || IsBase64UrlChar(c); });
}

// Parses a JSON array of strings, as libjwt's jwt_get_grants_json() renders
// an array-valued "aud". nullopt if `text` is anything else.
std::optional<std::vector<std::string>> ParseJsonStringArray(
    absl::string_view text) {
  const nlohmann::json doc = nlohmann::json::parse(
      text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const nlohmann::json& item : doc) {
    if (!item.is_string()) return std::nullopt;
    out.push_back(item.get<std::string>());
  }
  return out;
}

// `values` quoted and joined for a message: "a" or "a", "b".
std::string QuoteAll(const std::vector<std::string>& values) {
  std::vector<std::string> quoted;
  for (const std::string& v : values) quoted.push_back(Quote(v));
  return absl::StrJoin(quoted, ", ");
}

// The JSON text of claim `name`, or null when absent.
MallocedStr ClaimJson(jwt_t* jwt, const char* name) {
  return MallocedStr(jwt_get_grants_json(jwt, name));
}

// A NumericDate claim (RFC 7519 §2: seconds since the epoch, integer or
// not). nullopt when absent; UNAUTHENTICATED when present but not a number.
absl::StatusOr<std::optional<absl::Time>> NumericDateClaim(jwt_t* jwt,
                                                           const char* name) {
  const MallocedStr json = ClaimJson(jwt, name);
  if (json == nullptr) return std::nullopt;
  const absl::string_view text(json.get());
  int64_t seconds;
  if (absl::SimpleAtoi(text, &seconds)) return absl::FromUnixSeconds(seconds);
  double real;
  // JSON numbers start with a digit or '-'; this also keeps out quoted
  // strings and SimpleAtod's "inf"/"nan".
  if (!text.empty() && (absl::ascii_isdigit(text[0]) || text[0] == '-') &&
      absl::SimpleAtod(text, &real) && std::isfinite(real)) {
    return absl::UnixEpoch() + absl::Seconds(real);
  }
  return Unauthenticated(absl::StrCat("token ", name, " claim ", Quote(text),
                                      " is not a number of seconds since "
                                      "the epoch"));
}

absl::Status ValidateVerifierOptions(const VerifierOptions& options,
                                     const Clock* clock) {
  if (clock == nullptr) {
    return absl::InvalidArgumentError("Verifier: clock is null");
  }
  for (const auto& [name, values] :
       {std::pair<const char*, const std::vector<std::string>*>{
            "issuers", &options.issuers},
        {"audiences", &options.audiences}}) {
    if (values->empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("VerifierOptions.", name, " is empty"));
    }
    for (const std::string& v : *values) {
      if (v.empty() || v.find('\0') != std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat(
            "VerifierOptions.", name, " holds an empty value or a NUL"));
      }
    }
  }
  if (options.clock_skew < absl::ZeroDuration() ||
      options.clock_skew == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("VerifierOptions.clock_skew must be finite and >= 0, got ",
                     absl::FormatDuration(options.clock_skew)));
  }
  return absl::OkStatus();
}

bool IsHexKey(absl::string_view s) {
  return s.size() == 2 * kDevKeyRandomBytes &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return absl::ascii_isxdigit(static_cast<unsigned char>(c));
         });
}

// Reads an existing dev key. nullopt if the file does not exist.
absl::StatusOr<std::optional<std::string>> ReadDevKey(const std::string& path) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::nullopt;
    return PosixError("open", path);
  }
  // A valid file is 65 bytes; stop well past that.
  constexpr size_t kReadLimit = 4096;
  std::string content;
  char buf[512];
  while (content.size() <= kReadLimit) {
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError("read", path);
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
  }
  const absl::string_view key = absl::StripTrailingAsciiWhitespace(content);
  if (!IsHexKey(key)) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": malformed key: expected ", 2 * kDevKeyRandomBytes,
        " hex characters and a newline, found ",
        content.size() > kReadLimit ? "over 4096"
                                    : absl::StrCat(content.size()),
        " bytes; delete the file to have a new key generated (tokens signed "
        "with the old key will then be rejected)"));
  }
  return std::string(key);
}

absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError("write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// Writes `content` to a fresh 0600 file at `path`, synced to disk.
absl::Status WriteNewPrivateFile(const std::string& path,
                                 absl::string_view content) {
  ScopedFd fd(::open(path.c_str(),
                     O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                     0600));
  if (fd.get() < 0) {
    return PosixError("create", path);
  }
  // The umask can only have removed bits, but be exact.
  if (::fchmod(fd.get(), 0600) != 0) {
    return PosixError("chmod", path);
  }
  UTM_RETURN_IF_ERROR(WriteAll(fd.get(), content, path));
  if (::fsync(fd.get()) != 0) {
    return PosixError("fsync", path);
  }
  if (fd.Close() != 0) {
    return PosixError("close", path);
  }
  return absl::OkStatus();
}

// Makes a completed rename durable. Best effort: some file systems refuse
// fsync on a directory, and the key is already in place either way.
void SyncDirectory(const std::string& dir) {
  ScopedFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() >= 0) (void)::fsync(fd.get());
}

}  // namespace

absl::string_view ScopeName(Scope s) {
  for (const ScopeEntry& entry : kScopes) {
    if (entry.scope == s) return entry.name;
  }
  return "utm.unknown";  // Unreachable for a valid enumerator.
}

absl::StatusOr<Scope> ParseScope(absl::string_view name) {
  for (const ScopeEntry& entry : kScopes) {
    if (entry.name == name) return entry.scope;
  }
  std::vector<absl::string_view> names;
  for (const ScopeEntry& entry : kScopes) names.push_back(entry.name);
  return absl::InvalidArgumentError(
      absl::StrCat("unknown scope ", Quote(name),
                   "; valid scopes: ", absl::StrJoin(names, ", ")));
}

absl::StatusOr<std::vector<Scope>> ScopesForRole(absl::string_view role) {
  for (const RoleEntry& entry : Roles()) {
    if (entry.role == role) return entry.scopes;
  }
  std::vector<absl::string_view> roles;
  for (const RoleEntry& entry : Roles()) roles.push_back(entry.role);
  return absl::InvalidArgumentError(
      absl::StrCat("unknown role ", Quote(role),
                   "; valid roles: ", absl::StrJoin(roles, ", ")));
}

bool Principal::Has(Scope s) const {
  return std::binary_search(scopes.begin(), scopes.end(), s);
}

absl::Status RequireScope(const Principal& p, Scope s) {
  if (p.Has(s)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("token for ", p.subject, " lacks scope ", ScopeName(s)));
}

Verifier::Verifier(std::string algorithm, std::string key,
                   std::unique_ptr<JwksFile> jwks, VerifierOptions options,
                   const Clock* clock)
    : algorithm_(std::move(algorithm)),
      key_(std::move(key)),
      jwks_(std::move(jwks)),
      options_(std::move(options)),
      clock_(clock) {}

Verifier::~Verifier() = default;

absl::StatusOr<std::unique_ptr<Verifier>> Verifier::FromHmacSecret(
    std::string secret, VerifierOptions options, const Clock* clock) {
  UTM_RETURN_IF_ERROR(ValidateVerifierOptions(options, clock));
  if (secret.size() < kMinHmacSecretBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("HS256 secret is ", secret.size(), " bytes; at least ",
                     kMinHmacSecretBytes, " required"));
  }
  return std::unique_ptr<Verifier>(new Verifier(
      "HS256", std::move(secret), nullptr, std::move(options), clock));
}

absl::StatusOr<std::unique_ptr<Verifier>> Verifier::FromPublicKeyPem(
    std::string pem, VerifierOptions options, const Clock* clock) {
  UTM_RETURN_IF_ERROR(ValidateVerifierOptions(options, clock));
  UTM_ASSIGN_OR_RETURN(PublicKey key, PublicKeyFromPem(pem));
  return std::unique_ptr<Verifier>(new Verifier(std::move(key.algorithm),
                                                std::move(key.pem), nullptr,
                                                std::move(options), clock));
}

absl::StatusOr<std::unique_ptr<Verifier>> Verifier::FromJwksFile(
    std::string path, VerifierOptions options, const Clock* clock,
    JwksFileOptions jwks_options) {
  UTM_RETURN_IF_ERROR(ValidateVerifierOptions(options, clock));
  UTM_ASSIGN_OR_RETURN(
      std::unique_ptr<JwksFile> jwks,
      JwksFile::Open(std::move(path), std::move(jwks_options), clock));
  return std::unique_ptr<Verifier>(
      new Verifier("JWKS", "", std::move(jwks), std::move(options), clock));
}

absl::StatusOr<std::pair<std::string, std::string>> Verifier::KeyFor(
    absl::string_view alg, std::optional<absl::string_view> kid) const {
  if (jwks_ == nullptr) {
    if (alg != algorithm_) {
      return Unauthenticated(absl::StrCat("token alg ", Quote(alg),
                                          " is not accepted; this server "
                                          "verifies ",
                                          algorithm_, " only"));
    }
    return std::make_pair(algorithm_, key_);
  }
  // Never HS* against a public key, whatever the key set says.
  if (alg != "RS256" && alg != "ES256") {
    return Unauthenticated(absl::StrCat("token alg ", Quote(alg),
                                        " is not accepted; this server "
                                        "verifies RS256 and ES256 only"));
  }
  UTM_ASSIGN_OR_RETURN(PublicKey key, jwks_->Find(kid));
  if (key.algorithm != alg) {
    return Unauthenticated(absl::StrCat(
        "token alg ", Quote(alg), " does not match its key ", Quote(key.kid),
        ", which verifies ", key.algorithm, " only"));
  }
  return std::make_pair(std::move(key.algorithm), std::move(key.pem));
}

absl::StatusOr<Principal> Verifier::Verify(
    absl::string_view authorization) const {
  UTM_ASSIGN_OR_RETURN(const absl::string_view token_view,
                       ExtractToken(authorization));
  if (token_view.size() > kMaxTokenBytes) {
    return Unauthenticated(absl::StrCat("token is ", token_view.size(),
                                        " bytes; limit is ", kMaxTokenBytes));
  }
  if (!LooksLikeJwt(token_view)) {
    return Unauthenticated(
        "malformed token: not a JWT (expected three base64url segments "
        "header.payload.signature)");
  }
  const std::string token(token_view);  // libjwt wants NUL termination.

  // First pass, without a key: libjwt only checks the format, and we learn
  // the header's alg and kid. Deciding on alg BEFORE any signature check is
  // what defeats alg confusion: libjwt 1.10 would happily verify an HS256
  // token using our RSA public key PEM as the HMAC secret.
  std::pair<std::string, std::string> key;  // (algorithm, key material)
  {
    jwt_t* raw = nullptr;
    const int rc = jwt_decode(&raw, token.c_str(), nullptr, 0);
    const JwtPtr unverified(raw);
    if (rc != 0 || unverified == nullptr) {
      return Unauthenticated(
          "malformed token: header or payload is not base64url-encoded JSON "
          "with a known alg");
    }
    const char* alg = jwt_get_header(unverified.get(), "alg");
    if (alg == nullptr) {
      return Unauthenticated("malformed token: header has no alg");
    }
    if (absl::EqualsIgnoreCase(alg, "none")) {
      return Unauthenticated("token alg \"none\" (unsigned) is never accepted");
    }
    std::optional<absl::string_view> kid;
    if (const char* k = jwt_get_header(unverified.get(), "kid"); k != nullptr) {
      kid = k;
    } else if (MallocedStr(jwt_get_headers_json(unverified.get(), "kid")) !=
               nullptr) {
      return Unauthenticated("malformed token: header kid is not a string");
    }
    UTM_ASSIGN_OR_RETURN(key, KeyFor(alg, kid));
  }
  const std::string& algorithm = key.first;

  jwt_t* raw = nullptr;
  const int rc =
      jwt_decode(&raw, token.c_str(),
                 reinterpret_cast<const unsigned char*>(key.second.data()),
                 static_cast<int>(key.second.size()));
  const JwtPtr jwt(raw);
  if (rc != 0 || jwt == nullptr) {
    return Unauthenticated(
        absl::StrCat("token signature verification failed (", algorithm, ")"));
  }
  // Belt and braces: the algorithm libjwt actually verified with.
  if (jwt_get_alg(jwt.get()) != jwt_str_alg(algorithm.c_str())) {
    return Unauthenticated(
        absl::StrCat("token was not verified with ", algorithm));
  }

  // Time claims. The skew widens every window in the caller's favour.
  const absl::Time now = clock_->Now();
  const absl::Duration skew = options_.clock_skew;
  const std::string skew_note =
      absl::StrCat(" (now ", Rfc3339(now), ", allowed clock skew ",
                   absl::FormatDuration(skew), ")");
  UTM_ASSIGN_OR_RETURN(const std::optional<absl::Time> exp,
                       NumericDateClaim(jwt.get(), "exp"));
  if (!exp.has_value()) {
    return Unauthenticated("token has no exp claim; tokens must expire");
  }
  if (now >= *exp + skew) {
    return Unauthenticated(
        absl::StrCat("token expired at ", Rfc3339(*exp), skew_note));
  }
  UTM_ASSIGN_OR_RETURN(const std::optional<absl::Time> nbf,
                       NumericDateClaim(jwt.get(), "nbf"));
  if (nbf.has_value() && now + skew < *nbf) {
    return Unauthenticated(
        absl::StrCat("token not valid before ", Rfc3339(*nbf), skew_note));
  }
  UTM_ASSIGN_OR_RETURN(const std::optional<absl::Time> iat,
                       NumericDateClaim(jwt.get(), "iat"));
  if (iat.has_value() && *iat > now + skew) {
    return Unauthenticated(absl::StrCat("token issued in the future at ",
                                        Rfc3339(*iat), skew_note));
  }

  // Issuer.
  const std::vector<std::string>& issuers = options_.issuers;
  const char* iss = jwt_get_grant(jwt.get(), "iss");
  if (iss == nullptr) {
    return Unauthenticated(absl::StrCat(
        "token has no string iss claim; expected ", QuoteAll(issuers)));
  }
  if (std::find(issuers.begin(), issuers.end(), iss) == issuers.end()) {
    return Unauthenticated(absl::StrCat("token issuer ", Quote(iss),
                                        issuers.size() == 1
                                            ? " is not the expected "
                                            : " is none of the accepted ",
                                        QuoteAll(issuers)));
  }

  // Audience: a string, or an array of strings (RFC 7519 §4.1.3).
  const std::vector<std::string>& audiences = options_.audiences;
  auto accepted = [&](const std::string& aud) {
    return std::find(audiences.begin(), audiences.end(), aud) !=
           audiences.end();
  };
  if (const char* aud = jwt_get_grant(jwt.get(), "aud"); aud != nullptr) {
    if (!accepted(aud)) {
      return Unauthenticated(absl::StrCat("token audience ", Quote(aud),
                                          audiences.size() == 1
                                              ? " is not the expected "
                                              : " is none of the accepted ",
                                          QuoteAll(audiences)));
    }
  } else {
    const MallocedStr json = ClaimJson(jwt.get(), "aud");
    if (json == nullptr) {
      return Unauthenticated(absl::StrCat("token has no aud claim; expected ",
                                          QuoteAll(audiences)));
    }
    const std::optional<std::vector<std::string>> token_audiences =
        ParseJsonStringArray(json.get());
    if (!token_audiences.has_value()) {
      return Unauthenticated(
          absl::StrCat("token aud claim ", Quote(json.get()),
                       " is neither a string nor an array of strings"));
    }
    if (std::none_of(token_audiences->begin(), token_audiences->end(),
                     accepted)) {
      return Unauthenticated(absl::StrCat(
          "token audience ", Quote(json.get()), " does not include ",
          audiences.size() == 1 ? "" : "any of ", QuoteAll(audiences)));
    }
  }

  // Subject.
  const char* sub = jwt_get_grant(jwt.get(), "sub");
  if (sub == nullptr || *sub == '\0') {
    return Unauthenticated(
        "token has no sub claim (a non-empty string naming the caller)");
  }

  Principal principal;
  principal.subject = sub;
  principal.expires = *exp;

  // Scopes. Absent means none; names we do not know are skipped.
  if (const char* scope = jwt_get_grant(jwt.get(), "scope"); scope != nullptr) {
    for (absl::string_view name :
         absl::StrSplit(scope, absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
      absl::StatusOr<Scope> parsed = ParseScope(name);
      if (parsed.ok()) principal.scopes.push_back(*parsed);
    }
    std::sort(principal.scopes.begin(), principal.scopes.end());
    principal.scopes.erase(
        std::unique(principal.scopes.begin(), principal.scopes.end()),
        principal.scopes.end());
  } else if (ClaimJson(jwt.get(), "scope") != nullptr) {
    return Unauthenticated(
        "token scope claim is not a string (expected space-separated scope "
        "names)");
  }

  // Home region. Absent means none.
  if (const char* region = jwt_get_grant(jwt.get(), "home_region");
      region != nullptr) {
    if (absl::Status s = ValidateRegionCode(region, "token home_region claim");
        !s.ok()) {
      return Unauthenticated(s.message());
    }
    principal.home_region = region;
  } else if (ClaimJson(jwt.get(), "home_region") != nullptr) {
    return Unauthenticated(
        "token home_region claim is not a string (expected a region code "
        "such as \"EU-DE\")");
  }
  return principal;
}

absl::Status ValidateRegionCode(absl::string_view code,
                                absl::string_view field) {
  constexpr size_t kMin = 2, kMax = 16;
  const bool charset_ok = std::all_of(code.begin(), code.end(), [](char c) {
    return absl::ascii_isupper(c) || absl::ascii_isdigit(c) || c == '-';
  });
  if (code.size() < kMin || code.size() > kMax || !charset_ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " ", Quote(code),
        " is not a region code (2 to 16 characters of A-Z, 0-9 and -, "
        "e.g. EU-DE)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> LoadOrCreateDevKey(const std::string& data_dir) {
  return LoadOrCreateSecret(data_dir, kDevKeyFileName);
}

absl::StatusOr<std::string> LoadOrCreateSecret(const std::string& data_dir,
                                               const std::string& file_name) {
  if (data_dir.empty()) {
    return absl::InvalidArgumentError("LoadOrCreateSecret: data_dir is empty");
  }
  const std::string path = absl::StrCat(data_dir, "/", file_name);
  UTM_ASSIGN_OR_RETURN(std::optional<std::string> existing, ReadDevKey(path));
  if (existing.has_value()) return *std::move(existing);

  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    return absl::ErrnoToStatus(ec.value(),
                               absl::StrCat("create directory ", data_dir));
  }
  UTM_ASSIGN_OR_RETURN(const std::string key_bytes,
                       RandomBytes(kDevKeyRandomBytes));
  const std::string secret = absl::BytesToHexString(key_bytes);
  UTM_ASSIGN_OR_RETURN(const std::string suffix, RandomBytes(8));
  const std::string temp_path =
      absl::StrCat(path, ".tmp-", absl::BytesToHexString(suffix));

  absl::Status written = WriteNewPrivateFile(temp_path, secret + "\n");
  if (!written.ok()) {
    ::unlink(temp_path.c_str());
    return written;
  }
  // RENAME_NOREPLACE: if another process created the key since we looked,
  // keep theirs so both use the same secret.
  int rc = ::renameat2(AT_FDCWD, temp_path.c_str(), AT_FDCWD, path.c_str(),
                       RENAME_NOREPLACE);
  if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
    // The file system cannot do RENAME_NOREPLACE; a plain rename is still
    // atomic, and losing that race only replaces one fresh key by another.
    rc = ::rename(temp_path.c_str(), path.c_str());
  }
  if (rc != 0) {
    const int rename_errno = errno;
    ::unlink(temp_path.c_str());
    if (rename_errno == EEXIST) {
      UTM_ASSIGN_OR_RETURN(std::optional<std::string> winner, ReadDevKey(path));
      if (winner.has_value()) return *std::move(winner);
      return absl::UnavailableError(
          absl::StrCat(path, " appeared and vanished while being created"));
    }
    return absl::ErrnoToStatus(
        rename_errno, absl::StrCat("rename ", temp_path, " to ", path));
  }
  SyncDirectory(data_dir);
  return secret;
}

absl::StatusOr<std::string> LoadDevKey(const std::string& data_dir) {
  if (data_dir.empty()) {
    return absl::InvalidArgumentError("LoadDevKey: data_dir is empty");
  }
  const std::string path = absl::StrCat(data_dir, "/", kDevKeyFileName);
  UTM_ASSIGN_OR_RETURN(std::optional<std::string> key, ReadDevKey(path));
  if (!key.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("no dev signing key: ", path,
                     " does not exist; utmd --auth dev --data-dir ", data_dir,
                     " creates it when it starts"));
  }
  return *std::move(key);
}

absl::StatusOr<std::string> MintHmacToken(absl::string_view secret,
                                          const MintOptions& options,
                                          const Clock* clock) {
  if (clock == nullptr) {
    return absl::InvalidArgumentError("MintHmacToken: clock is null");
  }
  if (options.subject.empty()) {
    return absl::InvalidArgumentError("MintOptions.subject is empty");
  }
  if (options.ttl <= absl::ZeroDuration() || options.ttl > kMaxTtl) {
    return absl::InvalidArgumentError(
        absl::StrCat("MintOptions.ttl must be positive and at most 100 "
                     "years, got ",
                     absl::FormatDuration(options.ttl)));
  }
  if (options.issuer.empty()) {
    return absl::InvalidArgumentError("MintOptions.issuer is empty");
  }
  if (options.audience.empty()) {
    return absl::InvalidArgumentError("MintOptions.audience is empty");
  }
  // libjwt takes C strings; a NUL would silently truncate the claim.
  for (const std::string* text :
       {&options.subject, &options.issuer, &options.audience}) {
    if (text->find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          "MintOptions: subject, issuer and audience must not contain NUL");
    }
  }
  if (secret.size() < kMinHmacSecretBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("HS256 secret is ", secret.size(), " bytes; at least ",
                     kMinHmacSecretBytes, " required"));
  }
  if (!options.home_region.empty()) {
    UTM_RETURN_IF_ERROR(
        ValidateRegionCode(options.home_region, "MintOptions.home_region"));
  }

  std::vector<Scope> scopes = options.scopes;
  std::sort(scopes.begin(), scopes.end());
  scopes.erase(std::unique(scopes.begin(), scopes.end()), scopes.end());
  std::vector<absl::string_view> scope_names;
  for (Scope s : scopes) scope_names.push_back(ScopeName(s));

  const int64_t iat = absl::ToUnixSeconds(clock->Now());
  const int64_t exp =
      iat + absl::ToInt64Seconds(absl::Ceil(options.ttl, absl::Seconds(1)));
  UTM_ASSIGN_OR_RETURN(const std::string jti_bytes, RandomBytes(16));
  const std::string jti = absl::BytesToHexString(jti_bytes);

  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0 || raw == nullptr) {
    return absl::ResourceExhaustedError("jwt_new failed");
  }
  const JwtPtr jwt(raw);
  const std::string scope_claim = absl::StrJoin(scope_names, " ");
  int rc = jwt_set_alg(jwt.get(), JWT_ALG_HS256,
                       reinterpret_cast<const unsigned char*>(secret.data()),
                       static_cast<int>(secret.size()));
  rc = rc != 0 ? rc : jwt_add_grant(jwt.get(), "iss", options.issuer.c_str());
  rc = rc != 0 ? rc : jwt_add_grant(jwt.get(), "aud", options.audience.c_str());
  rc = rc != 0 ? rc : jwt_add_grant(jwt.get(), "sub", options.subject.c_str());
  rc = rc != 0 ? rc : jwt_add_grant_int(jwt.get(), "iat", iat);
  rc = rc != 0 ? rc : jwt_add_grant_int(jwt.get(), "nbf", iat);
  rc = rc != 0 ? rc : jwt_add_grant_int(jwt.get(), "exp", exp);
  rc = rc != 0 ? rc : jwt_add_grant(jwt.get(), "jti", jti.c_str());
  if (rc == 0 && !scope_claim.empty()) {
    rc = jwt_add_grant(jwt.get(), "scope", scope_claim.c_str());
  }
  if (rc == 0 && !options.home_region.empty()) {
    rc = jwt_add_grant(jwt.get(), "home_region", options.home_region.c_str());
  }
  if (rc != 0) {
    return absl::ErrnoToStatus(rc, "building the token failed");
  }
  const MallocedStr token(jwt_encode_str(jwt.get()));
  if (token == nullptr) {
    return absl::ErrnoToStatus(errno, "signing the token failed");
  }
  return std::string(token.get());
}

}  // namespace utm::auth
