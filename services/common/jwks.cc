#include "services/common/jwks.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "geo/status_macros.h"
#include "services/common/log/log.h"
#include "services/common/scoped_fd.h"

namespace utm::auth {
namespace {

constexpr int kMinRsaBits = 2048;
constexpr size_t kMaxPemBytes = 64 * 1024;
constexpr size_t kMaxJwksBytes = 1024 * 1024;
constexpr size_t kMaxKeys = 100;
// Most kids an error message lists.
constexpr size_t kMaxKidsListed = 10;

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;
struct BnDeleter {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;
struct ParamBldDeleter {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter>;
struct ParamDeleter {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
using ParamPtr = std::unique_ptr<OSSL_PARAM, ParamDeleter>;


// A string from outside, quoted, escaped and bounded for a message.
std::string Quote(absl::string_view s) {
  constexpr size_t kMax = 64;
  if (s.size() <= kMax) return absl::StrCat("\"", absl::CEscape(s), "\"");
  return absl::StrCat("\"", absl::CEscape(s.substr(0, kMax)), "\"...");
}

// `kids` quoted, at most kMaxKidsListed of them.
std::string ListKids(const std::vector<std::string>& kids) {
  std::vector<std::string> quoted;
  for (size_t i = 0; i < kids.size() && i < kMaxKidsListed; ++i) {
    quoted.push_back(Quote(kids[i]));
  }
  std::string out = absl::StrJoin(quoted, ", ");
  if (kids.size() > kMaxKidsListed) {
    absl::StrAppend(&out, " and ", kids.size() - kMaxKidsListed, " more");
  }
  return out;
}

// The PEM OpenSSL writes for `key`.
absl::StatusOr<std::string> ToPem(EVP_PKEY* key) {
  BioPtr out(BIO_new(BIO_s_mem()));
  if (out == nullptr || PEM_write_bio_PUBKEY(out.get(), key) != 1) {
    ERR_clear_error();
    return absl::InternalError("encoding a public key as PEM failed");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(out.get(), &data);
  if (len <= 0 || data == nullptr) {
    return absl::InternalError("encoding a public key as PEM failed");
  }
  return std::string(data, static_cast<size_t>(len));
}

// The algorithm `key` verifies; INVALID_ARGUMENT if it is not one we accept.
absl::StatusOr<std::string> AlgorithmOf(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA: {
      const int bits = EVP_PKEY_get_bits(key);
      if (bits < kMinRsaBits) {
        return absl::InvalidArgumentError(
            absl::StrCat("RSA public key has ", bits, " bits; at least ",
                         kMinRsaBits, " required"));
      }
      return std::string("RS256");
    }
    case EVP_PKEY_EC: {
      char group[80] = {};
      size_t group_len = 0;
      if (EVP_PKEY_get_group_name(key, group, sizeof(group), &group_len) != 1) {
        ERR_clear_error();
        return absl::InvalidArgumentError(
            "EC public key has no named curve; only P-256 (ES256) is "
            "supported");
      }
      if (absl::string_view(group, group_len) != "prime256v1") {
        return absl::InvalidArgumentError(absl::StrCat(
            "EC public key is on curve ", absl::string_view(group, group_len),
            "; only P-256 (prime256v1, ES256) is supported"));
      }
      return std::string("ES256");
    }
    default: {
      const char* type = EVP_PKEY_get0_type_name(key);
      return absl::InvalidArgumentError(absl::StrCat(
          "unsupported public key type ", type != nullptr ? type : "(unknown)",
          "; expected RSA (RS256) or EC P-256 (ES256)"));
    }
  }
}

// A public key from OpenSSL parameters (EVP_PKEY_fromdata).
absl::StatusOr<PkeyPtr> KeyFromParams(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (params == nullptr || ctx == nullptr ||
      EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) !=
          1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "not a valid public key (OpenSSL refuses it: e.g. an EC point not on "
        "the curve)");
  }
  PkeyPtr key(raw);
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (check == nullptr || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "not a valid public key (e.g. an EC point not on the curve)");
  }
  return key;
}

// A base64url member of a JWK, decoded. `want_bytes` 0 means any length.
absl::StatusOr<std::string> Base64UrlMember(const nlohmann::json& jwk,
                                            const char* name,
                                            size_t want_bytes = 0) {
  const auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", name, "\" is missing or not a string"));
  }
  const std::string& text = it->get_ref<const std::string&>();
  std::string bytes;
  if (text.empty() || !absl::WebSafeBase64Unescape(text, &bytes) ||
      bytes.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", name, "\" is not base64url"));
  }
  if (want_bytes != 0 && bytes.size() != want_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", name, "\" is ", bytes.size(), " bytes; expected ", want_bytes));
  }
  return bytes;
}

absl::StatusOr<PkeyPtr> RsaKey(const nlohmann::json& jwk) {
  UTM_ASSIGN_OR_RETURN(const std::string n, Base64UrlMember(jwk, "n"));
  UTM_ASSIGN_OR_RETURN(const std::string e, Base64UrlMember(jwk, "e"));
  BnPtr n_bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                       static_cast<int>(n.size()), nullptr));
  BnPtr e_bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                       static_cast<int>(e.size()), nullptr));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (n_bn == nullptr || e_bn == nullptr || bld == nullptr ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n_bn.get()) !=
          1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e_bn.get()) !=
          1) {
    ERR_clear_error();
    return absl::InternalError("building RSA parameters failed");
  }
  return KeyFromParams("RSA", bld.get());
}

absl::StatusOr<PkeyPtr> EcKey(const nlohmann::json& jwk) {
  // P-256 coordinates are 32 bytes, left-padded (RFC 7518 §6.2.1.2).
  UTM_ASSIGN_OR_RETURN(const std::string x, Base64UrlMember(jwk, "x", 32));
  UTM_ASSIGN_OR_RETURN(const std::string y, Base64UrlMember(jwk, "y", 32));
  const std::string point = absl::StrCat("\x04", x, y);  // Uncompressed.
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                      "prime256v1", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                       point.data(), point.size()) != 1) {
    ERR_clear_error();
    return absl::InternalError("building EC parameters failed");
  }
  return KeyFromParams("EC", bld.get());
}

// Why a JWK is not for us (it is skipped), or "" if it is.
std::string NotForUs(const nlohmann::json& jwk, const std::string& kty) {
  if (kty != "RSA" && kty != "EC") {
    return absl::StrCat("kty ", Quote(kty), " is not supported (RSA, EC)");
  }
  if (kty == "EC") {
    const auto crv = jwk.find("crv");
    if (crv == jwk.end() || !crv->is_string()) return "";  // Malformed.
    if (crv->get_ref<const std::string&>() != "P-256") {
      return absl::StrCat("curve ", Quote(crv->get_ref<const std::string&>()),
                          " is not supported (P-256)");
    }
  }
  if (const auto alg = jwk.find("alg"); alg != jwk.end()) {
    const std::string want = kty == "RSA" ? "RS256" : "ES256";
    if (!alg->is_string() || alg->get_ref<const std::string&>() != want) {
      return absl::StrCat(
          "alg ",
          Quote(alg->is_string() ? alg->get<std::string>() : alg->dump()),
          " is not ", want);
    }
  }
  if (const auto use = jwk.find("use"); use != jwk.end()) {
    if (!use->is_string() || use->get_ref<const std::string&>() != "sig") {
      return absl::StrCat(
          "\"use\" is ",
          Quote(use->is_string() ? use->get<std::string>() : use->dump()),
          ", not \"sig\"");
    }
  }
  if (const auto ops = jwk.find("key_ops"); ops != jwk.end()) {
    const bool verify =
        ops->is_array() &&
        std::any_of(ops->begin(), ops->end(), [](const nlohmann::json& op) {
          return op.is_string() && op.get_ref<const std::string&>() == "verify";
        });
    if (!verify) return "\"key_ops\" does not include \"verify\"";
  }
  return "";
}

// The identity of a version of a file, from its stat.
template <typename Stamp>
Stamp StampOf(const struct stat& st) {
  return {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
          static_cast<int64_t>(st.st_size),
          st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec,
          st.st_ctim.tv_sec * 1'000'000'000LL + st.st_ctim.tv_nsec};
}

}  // namespace

absl::StatusOr<PublicKey> PublicKeyFromPem(absl::string_view pem) {
  if (pem.size() > kMaxPemBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "public key PEM is ", pem.size(), " bytes; limit is ", kMaxPemBytes));
  }
  BioPtr in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (in == nullptr) return absl::InternalError("BIO_new_mem_buf failed");
  PkeyPtr key(PEM_read_bio_PUBKEY(in.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    ERR_clear_error();
    if (absl::StrContains(pem, "PRIVATE KEY")) {
      return absl::InvalidArgumentError(
          "expected a PEM public key but got a private key; extract the "
          "public half (openssl pkey -pubout) and keep the private key on "
          "the token issuer");
    }
    return absl::InvalidArgumentError(
        "unreadable public key: expected PEM \"-----BEGIN PUBLIC KEY-----\" "
        "(SubjectPublicKeyInfo)");
  }
  PublicKey out;
  UTM_ASSIGN_OR_RETURN(out.algorithm, AlgorithmOf(key.get()));
  // Re-encode what we checked, so libjwt reads exactly this key (and not,
  // say, a second PEM block that followed it).
  UTM_ASSIGN_OR_RETURN(out.pem, ToPem(key.get()));
  return out;
}

absl::StatusOr<KeySet> ParseJwks(absl::string_view json) {
  if (json.size() > kMaxJwksBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key set is ", json.size(), " bytes; limit is ", kMaxJwksBytes));
  }
  const nlohmann::json doc =
      nlohmann::json::parse(json.begin(), json.end(), nullptr,
                            /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return absl::InvalidArgumentError("key set is not valid JSON");
  }
  const auto keys = doc.is_object() ? doc.find("keys") : doc.end();
  if (!doc.is_object() || keys == doc.end() || !keys->is_array()) {
    return absl::InvalidArgumentError(
        "key set is not a JWK Set: expected {\"keys\": [...]} (RFC 7517 §5)");
  }
  if (keys->size() > kMaxKeys) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key set has ", keys->size(), " keys; limit is ", kMaxKeys));
  }
  KeySet set;
  std::set<std::string> kids;
  size_t without_kid = 0;
  for (size_t i = 0; i < keys->size(); ++i) {
    const nlohmann::json& jwk = (*keys)[i];
    std::string kid;
    std::string where = absl::StrCat("keys[", i, "]");
    if (!jwk.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": not a JSON object"));
    }
    if (const auto it = jwk.find("kid"); it != jwk.end()) {
      if (!it->is_string()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": \"kid\" is not a string"));
      }
      kid = it->get_ref<const std::string&>();
      absl::StrAppend(&where, " (kid ", Quote(kid), ")");
    }
    const auto kty = jwk.find("kty");
    if (kty == jwk.end() || !kty->is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": \"kty\" is missing or not a string"));
    }
    if (std::string why = NotForUs(jwk, kty->get_ref<const std::string&>());
        !why.empty()) {
      set.skipped.push_back(absl::StrCat(where, ": ", why));
      continue;
    }
    // A published private key is compromised; refuse to trust it.
    for (const char* member : {"d", "p", "q", "dp", "dq", "qi", "k"}) {
      if (jwk.contains(member)) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": holds private key material (\"", member,
            "\"); publish only the public half, and replace this key"));
      }
    }
    absl::StatusOr<PkeyPtr> key =
        kty->get_ref<const std::string&>() == "RSA" ? RsaKey(jwk) : EcKey(jwk);
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", key.status().message()));
    }
    PublicKey public_key;
    public_key.kid = kid;
    absl::StatusOr<std::string> algorithm = AlgorithmOf(key->get());
    if (!algorithm.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", algorithm.status().message()));
    }
    public_key.algorithm = *std::move(algorithm);
    UTM_ASSIGN_OR_RETURN(public_key.pem, ToPem(key->get()));
    if (!kids.insert(kid).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": a second usable key with this kid"));
    }
    if (kid.empty()) ++without_kid;
    set.keys.push_back(std::move(public_key));
  }
  if (set.keys.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key set has no usable key (RSA >= 2048 bits for RS256, EC P-256 for "
        "ES256)",
        set.skipped.empty() ? "" : "; ", absl::StrJoin(set.skipped, "; ")));
  }
  if (without_kid > 0 && set.keys.size() > 1) {
    return absl::InvalidArgumentError(
        "key set has several usable keys and one has no \"kid\": tokens "
        "could not say which key signed them");
  }
  std::sort(
      set.keys.begin(), set.keys.end(),
      [](const PublicKey& a, const PublicKey& b) { return a.kid < b.kid; });
  return set;
}

JwksFile::JwksFile(std::string path, JwksFileOptions options,
                   const Clock* clock)
    : path_(std::move(path)), options_(std::move(options)), clock_(clock) {}

void JwksFile::Log(const std::string& line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    UTM_LOG(kInfo) << line;
  }
}

absl::StatusOr<JwksFile::Loaded> JwksFile::Load(const std::string& path) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int error_number = errno;
    return absl::ErrnoToStatus(error_number, absl::StrCat("open ", path));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    const int error_number = errno;
    return absl::ErrnoToStatus(error_number, absl::StrCat("stat ", path));
  }
  Loaded loaded;
  loaded.stamp = StampOf<Stamp>(st);
  std::string content;
  char buf[8192];
  while (content.size() <= kMaxJwksBytes) {
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error_number = errno;
      return absl::ErrnoToStatus(error_number, absl::StrCat("read ", path));
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
  }
  absl::StatusOr<KeySet> set = ParseJwks(content);
  if (!set.ok()) {
    return absl::Status(set.status().code(),
                        absl::StrCat(path, ": ", set.status().message()));
  }
  loaded.set = *std::move(set);
  return loaded;
}

absl::StatusOr<std::unique_ptr<JwksFile>> JwksFile::Open(
    std::string path, JwksFileOptions options, const Clock* clock) {
  if (clock == nullptr) {
    return absl::InvalidArgumentError("JwksFile: clock is null");
  }
  if (options.check_interval <= absl::ZeroDuration() ||
      options.unknown_kid_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "JwksFileOptions: check_interval must be > 0 and "
        "unknown_kid_interval >= 0");
  }
  UTM_ASSIGN_OR_RETURN(Loaded loaded, Load(path));
  std::unique_ptr<JwksFile> file(
      new JwksFile(std::move(path), std::move(options), clock));
  for (const std::string& skipped : loaded.set.skipped) {
    file->Log(absl::StrCat("key set ", file->path_, ": skipped ", skipped));
  }
  std::vector<std::string> kids;
  for (const PublicKey& key : loaded.set.keys) kids.push_back(key.kid);
  file->Log(absl::StrCat("key set ", file->path_, " loaded: ", kids.size(),
                         " key(s), kids ", ListKids(kids)));
  absl::MutexLock lock(&file->mu_);
  file->stamp_ = loaded.stamp;
  file->keys_ = std::make_shared<const KeySet>(std::move(loaded.set));
  const absl::Time now = clock->Now();
  file->next_check_ = now + file->options_.check_interval;
  file->next_unknown_kid_check_ = now;
  return file;
}

std::shared_ptr<const KeySet> JwksFile::Current() const {
  absl::MutexLock lock(&mu_);
  return keys_;
}

std::vector<std::string> JwksFile::kids() const {
  std::vector<std::string> out;
  for (const PublicKey& key : Current()->keys) out.push_back(key.kid);
  return out;
}

void JwksFile::Refresh() {
  absl::MutexLock refreshing(&refresh_mu_);
  struct stat st;
  Stamp now_stamp;
  if (::stat(path_.c_str(), &st) == 0) {
    now_stamp = StampOf<Stamp>(st);
  }  // A missing file gets the default stamp: reported once, below.
  size_t in_force;
  {
    absl::MutexLock lock(&mu_);
    if (now_stamp == stamp_) return;
    stamp_ = now_stamp;
    in_force = keys_->keys.size();
  }
  absl::StatusOr<Loaded> loaded = Load(path_);
  if (!loaded.ok()) {
    Log(absl::StrCat("key set ", path_, ": keeping the previous ", in_force,
                     " key(s): ", loaded.status().message()));
    return;
  }
  for (const std::string& skipped : loaded->set.skipped) {
    Log(absl::StrCat("key set ", path_, ": skipped ", skipped));
  }
  std::vector<std::string> kids;
  for (const PublicKey& key : loaded->set.keys) kids.push_back(key.kid);
  auto keys = std::make_shared<const KeySet>(std::move(loaded->set));
  {
    absl::MutexLock lock(&mu_);
    // The file may have changed again between stat and open; the stamp of
    // what was read is the one to compare with next time.
    stamp_ = loaded->stamp;
    keys_ = std::move(keys);
  }
  Log(absl::StrCat("key set ", path_, " reloaded: ", kids.size(),
                   " key(s), kids ", ListKids(kids)));
}

absl::StatusOr<PublicKey> JwksFile::Find(std::optional<absl::string_view> kid) {
  bool due;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_->Now();
    due = now >= next_check_;
    if (due) next_check_ = now + options_.check_interval;
  }
  if (due) Refresh();

  auto lookup = [&](const KeySet& set) -> const PublicKey* {
    if (!kid.has_value()) {
      return set.keys.size() == 1 ? &set.keys[0] : nullptr;
    }
    for (const PublicKey& key : set.keys) {
      if (key.kid == *kid) return &key;
    }
    return nullptr;
  };
  std::shared_ptr<const KeySet> set = Current();
  if (const PublicKey* key = lookup(*set)) return *key;

  if (kid.has_value()) {
    // Perhaps the provider has rotated to a key we have not read yet.
    bool check;
    {
      absl::MutexLock lock(&mu_);
      const absl::Time now = clock_->Now();
      check = now >= next_unknown_kid_check_;
      if (check) next_unknown_kid_check_ = now + options_.unknown_kid_interval;
    }
    if (check) {
      Refresh();
      set = Current();
      if (const PublicKey* key = lookup(*set)) return *key;
    }
  }
  std::vector<std::string> kids;
  for (const PublicKey& key : set->keys) kids.push_back(key.kid);
  if (!kid.has_value()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "token header has no kid, and the key set holds ", kids.size(),
        " keys (kids ", ListKids(kids), "): the token must name its key"));
  }
  return absl::UnauthenticatedError(
      absl::StrCat("token kid ", Quote(*kid), " is not in the key set (kids ",
                   ListKids(kids), ")"));
}

}  // namespace utm::auth
