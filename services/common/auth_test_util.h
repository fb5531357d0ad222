// What the auth tests share: hand-made tokens (any header, any claims,
// signed with libjwt), PEM key pairs, and a Status matcher. Header-only; for
// tests.
#ifndef UTM_SERVICES_COMMON_AUTH_TEST_UTIL_H_
#define UTM_SERVICES_COMMON_AUTH_TEST_UTIL_H_

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::auth::test_util {

// 2027-01-15T08:00:00Z.
inline const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);
inline constexpr int64_t kStartSeconds = 1'800'000'000;
inline constexpr char kSecret[] =
    "test-secret-0123456789abcdef-0123456789abcdef";

inline const absl::Status& GetStatus(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// Matches a Status or StatusOr with `code` whose message contains `fragment`.
MATCHER_P2(StatusIs, code, fragment,
           absl::StrCat("has code ", absl::StatusCodeToString(code),
                        " and a message containing \"", fragment, "\"")) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code && absl::StrContains(status.message(), fragment);
}

// --- Helpers: hand-made tokens and keys ------------------------------------

struct JwtFree {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};

// Signs `claims_json` with libjwt. `key` is the HMAC secret or a private key
// PEM.
// `kid`, when given, goes into the header.
inline std::string Sign(jwt_alg_t alg, const std::string& key,
                        const std::string& claims_json,
                        const std::optional<std::string>& kid = std::nullopt) {
  jwt_t* raw = nullptr;
  EXPECT_EQ(jwt_new(&raw), 0);
  std::unique_ptr<jwt_t, JwtFree> jwt(raw);
  if (kid.has_value()) {
    EXPECT_EQ(jwt_add_header(jwt.get(), "kid", kid->c_str()), 0);
  }
  EXPECT_EQ(jwt_set_alg(jwt.get(), alg,
                        reinterpret_cast<const unsigned char*>(key.data()),
                        static_cast<int>(key.size())),
            0);
  EXPECT_EQ(jwt_add_grants_json(jwt.get(), claims_json.c_str()), 0)
      << claims_json;
  char* token = jwt_encode_str(jwt.get());
  EXPECT_NE(token, nullptr);
  if (token == nullptr) return "";
  std::string out(token);
  std::free(token);
  return out;
}

// A token's claims; each optional member is omitted from the JSON when unset.
// Values are raw JSON.
struct Claims {
  std::optional<std::string> iss = "\"utmd\"";
  std::optional<std::string> aud = "\"utmd\"";
  std::optional<std::string> sub = "\"op-1\"";
  std::optional<std::string> iat = absl::StrCat(kStartSeconds);
  std::optional<std::string> nbf = absl::StrCat(kStartSeconds);
  std::optional<std::string> exp = absl::StrCat(kStartSeconds + 3600);
  std::optional<std::string> scope = "\"utm.strategic_coordination\"";
  std::optional<std::string> home_region;  // absent unless set

  std::string Json() const {
    std::vector<std::string> fields;
    auto add = [&](const char* name, const std::optional<std::string>& v) {
      if (v.has_value()) fields.push_back(absl::StrCat("\"", name, "\":", *v));
    };
    add("iss", iss);
    add("aud", aud);
    add("sub", sub);
    add("iat", iat);
    add("nbf", nbf);
    add("exp", exp);
    add("scope", scope);
    add("home_region", home_region);
    return absl::StrCat("{", absl::StrJoin(fields, ","), "}");
  }
};

inline std::string HmacToken(const Claims& claims,
                             const std::string& secret = kSecret) {
  return Sign(JWT_ALG_HS256, secret, claims.Json());
}

inline std::string Base64Url(absl::string_view s) {
  return absl::WebSafeBase64Escape(s);
}

struct KeyPair {
  std::string private_pem;
  std::string public_pem;
};

inline KeyPair ToPem(EVP_PKEY* key) {
  KeyPair pair;
  auto write = [](EVP_PKEY* k, bool is_private) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (is_private) {
      EXPECT_EQ(PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr,
                                         nullptr),
                1);
    } else {
      EXPECT_EQ(PEM_write_bio_PUBKEY(bio, k), 1);
    }
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(len));
    BIO_free(bio);
    return pem;
  };
  pair.private_pem = write(key, true);
  pair.public_pem = write(key, false);
  EVP_PKEY_free(key);
  return pair;
}

}  // namespace utm::auth::test_util

#endif  // UTM_SERVICES_COMMON_AUTH_TEST_UTIL_H_
