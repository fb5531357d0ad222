#include "services/common/auth.h"

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/auth_test_util.h"

namespace utm::auth {
namespace {

using test_util::Base64Url;
using test_util::Claims;
using test_util::HmacToken;
using test_util::JwtFree;
using test_util::KeyPair;
using test_util::kSecret;
using test_util::kStart;
using test_util::kStartSeconds;
using test_util::Sign;
using test_util::StatusIs;
using test_util::ToPem;

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Keys generated once per test binary (RSA generation is the slow part).
struct TestKeys {
  KeyPair rsa;
  KeyPair rsa_other;
  KeyPair rsa_1024;
  KeyPair ec;
  KeyPair ec_other;
  KeyPair ec_p384;
  KeyPair ed25519;
};
const TestKeys& Keys() {
  static const TestKeys* const kKeys = [] {
    auto* keys = new TestKeys;
    keys->rsa = ToPem(EVP_RSA_gen(2048));
    keys->rsa_other = ToPem(EVP_RSA_gen(2048));
    keys->rsa_1024 = ToPem(EVP_RSA_gen(1024));
    keys->ec = ToPem(EVP_EC_gen("P-256"));
    keys->ec_other = ToPem(EVP_EC_gen("P-256"));
    keys->ec_p384 = ToPem(EVP_EC_gen("P-384"));
    keys->ed25519 = ToPem(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    return keys;
  }();
  return *kKeys;
}

std::unique_ptr<Verifier> HmacVerifier(const Clock* clock,
                                       VerifierOptions options = {}) {
  auto verifier = Verifier::FromHmacSecret(kSecret, std::move(options), clock);
  EXPECT_TRUE(verifier.ok()) << verifier.status();
  return verifier.ok() ? *std::move(verifier) : nullptr;
}

std::unique_ptr<Verifier> PemVerifier(const std::string& pem,
                                      const Clock* clock) {
  auto verifier = Verifier::FromPublicKeyPem(pem, {}, clock);
  EXPECT_TRUE(verifier.ok()) << verifier.status();
  return verifier.ok() ? *std::move(verifier) : nullptr;
}

// A fresh, empty directory for this test, removed when it ends.
class TestDir {
 public:
  TestDir()
      : path_(absl::StrCat(
            testing::TempDir(), "/auth_test_",
            testing::UnitTest::GetInstance()->current_test_info()->name())) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  TestDir(const TestDir&) = delete;
  TestDir& operator=(const TestDir&) = delete;
  ~TestDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// --- Scopes and roles --------------------------------------------------------

TEST(ScopeName, RoundTripsThroughParseScope) {
  const std::vector<std::pair<Scope, std::string>> cases = {
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
  };
  for (const auto& [scope, name] : cases) {
    EXPECT_EQ(ScopeName(scope), name);
    const absl::StatusOr<Scope> parsed = ParseScope(name);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, scope);
  }
}

TEST(ParseScope, RejectsUnknownNamesListingValidOnes) {
  EXPECT_THAT(ParseScope("utm.strategic"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "unknown scope \"utm.strategic\"; valid scopes: "
                       "utm.strategic_coordination, "));
  EXPECT_THAT(ParseScope("UTM.ADMIN"),
              StatusIs(absl::StatusCode::kInvalidArgument, "unknown scope"));
}

TEST(ScopesForRole, MapsEachRole) {
  using S = Scope;
  const std::vector<std::pair<std::string, std::vector<Scope>>> cases = {
      {"operator", {S::kStrategicCoordination}},
      {"regulator", {S::kConstraintManagement, S::kRegistry}},
      {"monitor", {S::kConformanceMonitoring}},
      {"display", {S::kRemoteIdDisplay}},
      {"police", {S::kRemoteIdDisplay, S::kLawEnforcement}},
      {"public-safety", {S::kStrategicCoordination, S::kPriorityPublicSafety}},
      {"emergency", {S::kStrategicCoordination, S::kPriorityEmergency}},
      {"receiver", {S::kRemoteIdReceiver}},
      {"auditor", {S::kAudit}},
      {"admin",
       {S::kStrategicCoordination, S::kConstraintManagement,
        S::kConformanceMonitoring, S::kRemoteIdDisplay, S::kLawEnforcement,
        S::kAdmin}},
  };
  for (const auto& [role, scopes] : cases) {
    const absl::StatusOr<std::vector<Scope>> got = ScopesForRole(role);
    ASSERT_TRUE(got.ok()) << role << ": " << got.status();
    EXPECT_EQ(*got, scopes) << role;
  }
}

TEST(ScopesForRole, RejectsUnknownRoleListingValidOnes) {
  EXPECT_THAT(ScopesForRole("pilot"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "unknown role \"pilot\"; valid roles: operator, "
                       "regulator, monitor, display, police, public-safety, "
                       "emergency, receiver, auditor, admin"));
}

TEST(RequireScope, AllowsGrantedAndDeniesMissingScope) {
  Principal p;
  p.subject = "op-7";
  p.scopes = {Scope::kStrategicCoordination, Scope::kRemoteIdDisplay};
  EXPECT_TRUE(p.Has(Scope::kRemoteIdDisplay));
  EXPECT_FALSE(p.Has(Scope::kAdmin));
  EXPECT_TRUE(RequireScope(p, Scope::kStrategicCoordination).ok());
  EXPECT_THAT(RequireScope(p, Scope::kConstraintManagement),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "token for op-7 lacks scope utm.constraint_management"));
}

// --- Minting and HS256 verification -----------------------------------------

TEST(MintHmacToken, RoundTripsThroughVerify) {
  SimulatedClock clock(kStart + absl::Milliseconds(400));
  MintOptions options;
  options.subject = "operator-42";
  options.scopes = {Scope::kAdmin, Scope::kStrategicCoordination,
                    Scope::kAdmin};
  const absl::StatusOr<std::string> token =
      MintHmacToken(kSecret, options, &clock);
  ASSERT_TRUE(token.ok()) << token.status();

  auto verifier = HmacVerifier(&clock);
  ASSERT_NE(verifier, nullptr);
  EXPECT_EQ(verifier->algorithm(), "HS256");
  const absl::StatusOr<Principal> p =
      verifier->Verify(absl::StrCat("Bearer ", *token));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->subject, "operator-42");
  EXPECT_THAT(p->scopes,
              ElementsAre(Scope::kStrategicCoordination, Scope::kAdmin));
  EXPECT_EQ(p->expires, kStart + absl::Hours(1));
  EXPECT_TRUE(RequireScope(*p, Scope::kAdmin).ok());

  // The claims on the wire.
  jwt_t* raw = nullptr;
  ASSERT_EQ(jwt_decode(&raw, token->c_str(),
                       reinterpret_cast<const unsigned char*>(kSecret),
                       sizeof(kSecret) - 1),
            0);
  std::unique_ptr<jwt_t, JwtFree> jwt(raw);
  EXPECT_EQ(jwt_get_alg(jwt.get()), JWT_ALG_HS256);
  EXPECT_STREQ(jwt_get_grant(jwt.get(), "iss"), "utmd");
  EXPECT_STREQ(jwt_get_grant(jwt.get(), "aud"), "utmd");
  EXPECT_STREQ(jwt_get_grant(jwt.get(), "scope"),
               "utm.strategic_coordination utm.admin");
  EXPECT_EQ(jwt_get_grant_int(jwt.get(), "iat"), kStartSeconds);
  EXPECT_EQ(jwt_get_grant_int(jwt.get(), "nbf"), kStartSeconds);
  EXPECT_EQ(jwt_get_grant_int(jwt.get(), "exp"), kStartSeconds + 3600);
  ASSERT_NE(jwt_get_grant(jwt.get(), "jti"), nullptr);
  EXPECT_THAT(std::string(jwt_get_grant(jwt.get(), "jti")), SizeIs(32));

  // A random jti makes every token unique.
  const absl::StatusOr<std::string> again =
      MintHmacToken(kSecret, options, &clock);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_NE(*token, *again);
}

TEST(MintHmacToken, HonoursIssuerAudienceAndTtl) {
  SimulatedClock clock(kStart);
  MintOptions options;
  options.subject = "regulator-1";
  options.issuer = "utm.example";
  options.audience = "utmd-eu";
  options.ttl = absl::Minutes(5);
  const auto token = MintHmacToken(kSecret, options, &clock);
  ASSERT_TRUE(token.ok()) << token.status();

  VerifierOptions vopts;
  vopts.issuers = {"utm.example"};
  vopts.audiences = {"utmd-eu"};
  auto verifier = HmacVerifier(&clock, vopts);
  const auto p = verifier->Verify(*token);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->expires, kStart + absl::Minutes(5));
  EXPECT_THAT(p->scopes, IsEmpty());  // No scope claim minted.
  EXPECT_THAT(RequireScope(*p, Scope::kStrategicCoordination),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "token for regulator-1 lacks scope "
                       "utm.strategic_coordination"));

  // The default verifier wants iss "utmd".
  EXPECT_THAT(HmacVerifier(&clock)->Verify(*token),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "token issuer \"utm.example\" is not the expected "
                       "\"utmd\""));
}

TEST(MintHmacToken, RejectsBadOptions) {
  SimulatedClock clock(kStart);
  MintOptions ok;
  ok.subject = "op";
  EXPECT_TRUE(MintHmacToken(kSecret, ok, &clock).ok());

  MintOptions no_subject = ok;
  no_subject.subject = "";
  EXPECT_THAT(MintHmacToken(kSecret, no_subject, &clock),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "MintOptions.subject is empty"));
  for (absl::Duration ttl :
       {absl::ZeroDuration(), absl::Seconds(-1), absl::InfiniteDuration()}) {
    MintOptions bad_ttl = ok;
    bad_ttl.ttl = ttl;
    EXPECT_THAT(MintHmacToken(kSecret, bad_ttl, &clock),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         "MintOptions.ttl must be positive"))
        << ttl;
  }
  EXPECT_THAT(MintHmacToken(std::string(31, 'k'), ok, &clock),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "HS256 secret is 31 bytes; at least 32 required"));
}

TEST(Verifier, FromHmacSecretRejectsShortSecretAndBadOptions) {
  SimulatedClock clock(kStart);
  EXPECT_THAT(Verifier::FromHmacSecret(std::string(31, 'k'), {}, &clock),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "HS256 secret is 31 bytes; at least 32 required"));
  EXPECT_TRUE(Verifier::FromHmacSecret(std::string(32, 'k'), {}, &clock).ok());

  VerifierOptions no_issuer;
  no_issuer.issuers = {};
  EXPECT_THAT(Verifier::FromHmacSecret(kSecret, no_issuer, &clock),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "VerifierOptions.issuers is empty"));
  VerifierOptions empty_issuer;
  empty_issuer.issuers = {"utmd", ""};
  EXPECT_THAT(Verifier::FromHmacSecret(kSecret, empty_issuer, &clock),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "VerifierOptions.issuers holds an empty value"));
  VerifierOptions no_audience;
  no_audience.audiences = {};
  EXPECT_THAT(Verifier::FromHmacSecret(kSecret, no_audience, &clock),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "VerifierOptions.audiences is empty"));
  VerifierOptions negative_skew;
  negative_skew.clock_skew = absl::Seconds(-1);
  EXPECT_THAT(Verifier::FromHmacSecret(kSecret, negative_skew, &clock),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "clock_skew must be finite and >= 0"));
  EXPECT_THAT(Verifier::FromHmacSecret(kSecret, {}, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument, "clock is null"));
}

TEST(Verify, AcceptsBearerSchemeInAnyCaseOrBareToken) {
  SimulatedClock clock(kStart);
  auto verifier = HmacVerifier(&clock);
  const std::string token = HmacToken(Claims());
  for (const std::string& header :
       {absl::StrCat("Bearer ", token), absl::StrCat("bearer ", token),
        absl::StrCat("BEARER \t ", token, "  "), token}) {
    const auto p = verifier->Verify(header);
    ASSERT_TRUE(p.ok()) << header << ": " << p.status();
    EXPECT_EQ(p->subject, "op-1");
    EXPECT_THAT(p->scopes, ElementsAre(Scope::kStrategicCoordination));
  }
}

TEST(Verify, RejectsMissingOrMalformedTokens) {
  SimulatedClock clock(kStart);
  auto verifier = HmacVerifier(&clock);
  const struct {
    std::string header;
    std::string message;
  } cases[] = {
      {"", "missing bearer token: authorization is empty"},
      {"   ", "missing bearer token: authorization is empty"},
      {"Bearer ", "missing bearer token after \"Bearer\""},
      {"bearer", "missing bearer token after \"Bearer\""},
      {"Basic dXNlcjpwYXNz", "unsupported authorization scheme \"Basic\""},
      {"garbage", "malformed token: not a JWT"},
      {"Bearer a.b", "malformed token: not a JWT"},
      {"Bearer a.b.c.d.e", "malformed token: not a JWT"},
      {"Bearer .e30.", "malformed token: not a JWT"},
      {"Bearer a+b.c/d.e", "malformed token: not a JWT"},
      {absl::StrCat("Bearer ", Base64Url("not json"), ".", Base64Url("{}"),
                    ".sig"),
       "malformed token: header or payload is not base64url-encoded JSON"},
      {absl::StrCat("Bearer ", std::string(20000, 'a')),
       "token is 20000 bytes; limit is 16384"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(verifier->Verify(c.header),
                StatusIs(absl::StatusCode::kUnauthenticated, c.message))
        << "header: " << c.header.substr(0, 80);
  }
}

TEST(Verify, ExpiryAllowsClockSkewButNoMore) {
  SimulatedClock clock(kStart);
  auto verifier = HmacVerifier(&clock);
  const std::string token = HmacToken(Claims());  // exp = start + 1 h.
  const absl::Time exp = kStart + absl::Hours(1);

  clock.Set(exp - absl::Seconds(1));
  EXPECT_TRUE(verifier->Verify(token).ok());
  clock.Set(exp + absl::Seconds(29));  // Inside the 30 s skew.
  EXPECT_TRUE(verifier->Verify(token).ok());
  clock.Set(exp + absl::Seconds(30));  // exp + skew is already too late.
  EXPECT_THAT(verifier->Verify(token),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "token expired at 2027-01-15T09:00:00Z"));
  clock.Set(exp + absl::Seconds(31));  // 1 s beyond the skew.
  EXPECT_THAT(verifier->Verify(token),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "token expired at 2027-01-15T09:00:00Z (now "
                       "2027-01-15T09:00:31Z, allowed clock skew 30s)"));
}

TEST(Verify, ZeroSkewIsExact) {
  SimulatedClock clock(kStart + absl::Hours(1) - absl::Milliseconds(1));
  VerifierOptions options;
  options.clock_skew = absl::ZeroDuration();
  auto verifier = HmacVerifier(&clock, options);
  const std::string token = HmacToken(Claims());
  EXPECT_TRUE(verifier->Verify(token).ok());
  clock.Advance(absl::Milliseconds(1));
  EXPECT_THAT(verifier->Verify(token),
              StatusIs(absl::StatusCode::kUnauthenticated, "token expired"));
}

TEST(Verify, RejectsTokenNotYetValid) {
  SimulatedClock clock(kStart);
  auto verifier = HmacVerifier(&clock);
  Claims claims;
  claims.nbf = absl::StrCat(kStartSeconds + 300);
  EXPECT_THAT(verifier->Verify(HmacToken(claims)),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "token not valid before 2027-01-15T08:05:00Z"));
  claims.nbf = absl::StrCat(kStartSeconds + 20);  // Within the skew.
  EXPECT_TRUE(verifier->Verify(HmacToken(claims)).ok());
}

TEST(Verify, RejectsTokenIssuedInTheFuture) {
  SimulatedClock clock(kStart);
  auto verifier = HmacVerifier(&clock);
  Claims claims;
  claims.iat = absl::StrCat(kStartSeconds + 120);
  EXPECT_THAT(verifier->Verify(HmacToken(claims)),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "token issued in the future at 2027-01-15T08:02:00Z"));
}

TEST(Verify, ExpIsRequiredAndNumeric) {
  SimulatedClock clock(kStart);
  auto verifier = HmacVerifier(&clock);
  Claims claims;
  claims.exp.reset();
  EXPECT_THAT(verifier->Verify(HmacToken(claims)),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "token has no exp claim; tokens must expire"));
  claims.exp = "\"1800003600\"";
  EXPECT_THAT(verifier->Verify(HmacToken(claims)),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "token exp claim \"\\\"1800003600\\\"\" is not a "
                       "number"));
  claims.exp = "1800003600.5";  // NumericDate may be fractional.
  const auto p = verifier->Verify(HmacToken(claims));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->expires, kStart + absl::Seconds(3600.5));
}

TEST(Verify, ChecksIssuer) {
  SimulatedClock clock(kStart);
  auto verifier = HmacVerifier(&clock);
  Claims claims;
  claims.iss = "\"someone-else\"";
  EXPECT_THAT(verifier->Verify(HmacToken(claims)),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "token issuer \"someone-else\" is not the expected "
                       "\"utmd\""));
  claims.iss.reset();
  EXPECT_THAT(verifier->Verify(HmacToken(claims)),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "token has no string iss claim; expected \"utmd\""));
}

TEST(Verify, ChecksAudienceAsStringOrArray) {
  SimulatedClock clock(kStart);
  auto verifier = HmacVerifier(&clock);
  Claims claims;
  claims.aud = "\"other-service\"";
  EXPECT_THAT(verifier->Verify(HmacToken(claims)),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "token audience \"other-service\" is not the expected "
                       "\"utmd\""));

  claims.aud = "[\"other-service\", \"utmd\"]";
  EXPECT_TRUE(verifier->Verify(HmacToken(claims)).ok());
  claims.aud = "[\"ut\\u006dd\"]";  // Escapes are decoded before comparing.
  EXPECT_TRUE(verifier->Verify(HmacToken(claims)).ok());

  claims.aud = "[\"other-service\", \"utmd2\"]";
  EXPECT_THAT(verifier->Verify(HmacToken(claims)),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "does not include \"utmd\""));
  claims.aud = "[]";
  EXPECT_THAT(verifier->Verify(HmacToken(claims)),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "does not include \"utmd\""));
  claims.aud = "42";
  EXPECT_THAT(verifier->Verify(HmacToken(claims)),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "is neither a string nor an array of strings"));
  claims.aud = "[\"utmd\", 7]";
  EXPECT_THAT(verifier->Verify(HmacToken(claims)),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "is neither a string nor an array of strings"));
  claims.aud.reset();
  EXPECT_THAT(verifier->Verify(HmacToken(claims)),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "token has no aud claim; expected \"utmd\""));
}

TEST(Verify, RequiresSubject) {
  SimulatedClock clock(kStart);
  auto verifier = HmacVerifier(&clock);
  Claims claims;
  claims.sub.reset();
  EXPECT_THAT(
      verifier->Verify(HmacToken(claims)),
      StatusIs(absl::StatusCode::kUnauthenticated, "token has no sub claim"));
  claims.sub = "\"\"";
  EXPECT_THAT(
      verifier->Verify(HmacToken(claims)),
      StatusIs(absl::StatusCode::kUnauthenticated, "token has no sub claim"));
}

TEST(Verify, IgnoresUnknownScopeNames) {
  SimulatedClock clock(kStart);
  auto verifier = HmacVerifier(&clock);
  Claims claims;
  claims.scope =
      "\"openid utm.rid_display  utm.future_thing utm.law_enforcement "
      "utm.rid_display\"";
  auto p = verifier->Verify(HmacToken(claims));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->scopes,
              ElementsAre(Scope::kRemoteIdDisplay, Scope::kLawEnforcement));

  claims.scope = "\"openid profile\"";  // Valid, but grants nothing here.
  p = verifier->Verify(HmacToken(claims));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->scopes, IsEmpty());
  EXPECT_THAT(RequireScope(*p, Scope::kRemoteIdDisplay),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "token for op-1 lacks scope utm.rid_display"));

  claims.scope = "[\"utm.admin\"]";
  EXPECT_THAT(verifier->Verify(HmacToken(claims)),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "token scope claim is not a string"));
}

TEST(Verify, ReadsHomeRegion) {
  SimulatedClock clock(kStart);
  auto verifier = HmacVerifier(&clock);
  Claims claims;
  auto p = verifier->Verify(HmacToken(claims));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->home_region, "");  // absent: none

  claims.home_region = "\"EU-DE\"";
  p = verifier->Verify(HmacToken(claims));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->home_region, "EU-DE");

  for (const char* bad :
       {"\"eu-de\"", "\"E\"", "\"EU_DE\"", "\"ABCDEFGHIJKLMNOPQ\"", "\"\""}) {
    claims.home_region = bad;
    EXPECT_THAT(
        verifier->Verify(HmacToken(claims)),
        StatusIs(absl::StatusCode::kUnauthenticated, "token home_region claim"))
        << bad;
  }
  claims.home_region = "[\"EU-DE\"]";
  EXPECT_THAT(verifier->Verify(HmacToken(claims)),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "token home_region claim is not a string"));
}

TEST(MintHmacToken, MintsHomeRegion) {
  SimulatedClock clock(kStart);
  MintOptions options;
  options.subject = "op-7";
  options.home_region = "US-CA";
  const absl::StatusOr<std::string> token =
      MintHmacToken(kSecret, options, &clock);
  ASSERT_TRUE(token.ok()) << token.status();
  auto verifier = HmacVerifier(&clock);
  const absl::StatusOr<Principal> p = verifier->Verify(*token);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->home_region, "US-CA");

  options.home_region = "us-ca";
  EXPECT_THAT(MintHmacToken(kSecret, options, &clock),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "MintOptions.home_region \"us-ca\" is not a region "
                       "code"));
}

TEST(ValidateRegionCode, AcceptsCodesAndNamesTheField) {
  for (const char* good : {"EU-DE", "US-CA", "EU", "A1-B2-C3-D4-E5-F"}) {
    EXPECT_TRUE(ValidateRegionCode(good, "--region").ok()) << good;
  }
  for (const char* bad :
       {"", "E", "eu-de", "EU DE", "EU/DE", "\xff\xfe", "ABCDEFGHIJKLMNOPQ"}) {
    EXPECT_THAT(ValidateRegionCode(bad, "--region"),
                StatusIs(absl::StatusCode::kInvalidArgument, "--region \""))
        << bad;
  }
}

TEST(Verify, RejectsTamperedPayload) {
  SimulatedClock clock(kStart);
  auto verifier = HmacVerifier(&clock);
  const std::string token = HmacToken(Claims());
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  ASSERT_THAT(parts, SizeIs(3));
  std::string payload;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[1], &payload));
  const std::string forged = absl::StrReplaceAll(
      payload, {{"utm.strategic_coordination", "utm.admin"}});
  ASSERT_NE(forged, payload);
  parts[1] = Base64Url(forged);
  EXPECT_THAT(verifier->Verify(absl::StrJoin(parts, ".")),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "token signature verification failed (HS256)"));
}

TEST(Verify, RejectsTokenSignedWithAnotherSecret) {
  SimulatedClock clock(kStart);
  auto verifier = HmacVerifier(&clock);
  const std::string token =
      HmacToken(Claims(), "another-secret-0123456789abcdef-0123456789");
  EXPECT_THAT(verifier->Verify(token),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "token signature verification failed"));
}

TEST(Verify, RejectsAlgNone) {
  SimulatedClock clock(kStart);
  auto verifier = HmacVerifier(&clock);
  const std::string header = Base64Url(R"({"alg":"none","typ":"JWT"})");
  const std::string payload = Base64Url(Claims().Json());
  EXPECT_THAT(
      verifier->Verify(absl::StrCat("Bearer ", header, ".", payload, ".")),
      StatusIs(absl::StatusCode::kUnauthenticated,
               "token alg \"none\" (unsigned) is never accepted"));
  // Keeping a valid token's signature does not help either.
  const std::vector<std::string> parts =
      absl::StrSplit(HmacToken(Claims()), '.');
  EXPECT_THAT(
      verifier->Verify(absl::StrCat(header, ".", payload, ".", parts[2])),
      StatusIs(absl::StatusCode::kUnauthenticated, "alg \"none\""));
}

TEST(Verify, RejectsAlgConfusionWithPublicKeyAsHmacSecret) {
  SimulatedClock clock(kStart);
  const KeyPair& rsa = Keys().rsa;
  auto verifier = PemVerifier(rsa.public_pem, &clock);
  ASSERT_NE(verifier, nullptr);
  EXPECT_EQ(verifier->algorithm(), "RS256");
  // The classic attack: HS256 "signed" with the server's public key PEM.
  const std::string forged =
      Sign(JWT_ALG_HS256, rsa.public_pem, Claims().Json());
  EXPECT_THAT(verifier->Verify(forged),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "token alg \"HS256\" is not accepted; this server "
                       "verifies RS256 only"));
  // And the other way round: an HS256 verifier given an RS256 token.
  const std::string rs256 =
      Sign(JWT_ALG_RS256, rsa.private_pem, Claims().Json());
  EXPECT_THAT(HmacVerifier(&clock)->Verify(rs256),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "token alg \"RS256\" is not accepted; this server "
                       "verifies HS256 only"));
}

TEST(Verify, IsSafeToCallConcurrently) {
  SimulatedClock clock(kStart);
  auto verifier = HmacVerifier(&clock);
  const std::string good = HmacToken(Claims());
  const std::string bad = HmacToken(Claims(), std::string(40, 'x'));
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        if (!verifier->Verify(good).ok()) ++failures[t];
        if (verifier->Verify(bad).ok()) ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(failures, ElementsAre(0, 0, 0, 0));
}

// --- RS256 / ES256
// -------------------------------------------------------------

TEST(Verify, AcceptsRs256SignedWithMatchingPrivateKey) {
  SimulatedClock clock(kStart);
  auto verifier = PemVerifier(Keys().rsa.public_pem, &clock);
  ASSERT_NE(verifier, nullptr);
  const std::string token =
      Sign(JWT_ALG_RS256, Keys().rsa.private_pem, Claims().Json());
  const auto p = verifier->Verify(absl::StrCat("Bearer ", token));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->subject, "op-1");
  EXPECT_THAT(p->scopes, ElementsAre(Scope::kStrategicCoordination));

  auto other = PemVerifier(Keys().rsa_other.public_pem, &clock);
  EXPECT_THAT(other->Verify(token),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "token signature verification failed (RS256)"));
  // Claims are still checked after a good signature.
  clock.Advance(absl::Hours(2));
  EXPECT_THAT(verifier->Verify(token),
              StatusIs(absl::StatusCode::kUnauthenticated, "token expired"));
}

TEST(Verify, AcceptsEs256SignedWithMatchingPrivateKey) {
  SimulatedClock clock(kStart);
  auto verifier = PemVerifier(Keys().ec.public_pem, &clock);
  ASSERT_NE(verifier, nullptr);
  EXPECT_EQ(verifier->algorithm(), "ES256");
  const std::string token =
      Sign(JWT_ALG_ES256, Keys().ec.private_pem, Claims().Json());
  const auto p = verifier->Verify(token);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->subject, "op-1");

  auto other = PemVerifier(Keys().ec_other.public_pem, &clock);
  EXPECT_THAT(other->Verify(token),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "token signature verification failed (ES256)"));
  const std::string rs256 =
      Sign(JWT_ALG_RS256, Keys().rsa.private_pem, Claims().Json());
  EXPECT_THAT(verifier->Verify(rs256),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "token alg \"RS256\" is not accepted"));
}

TEST(Verifier, FromPublicKeyPemRejectsUnusableKeys) {
  SimulatedClock clock(kStart);
  const struct {
    std::string pem;
    std::string message;
  } cases[] = {
      {"", "unreadable public key"},
      {"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
       "unreadable public key"},
      {Keys().rsa.private_pem, "expected a PEM public key but got a private"},
      {Keys().rsa_1024.public_pem,
       "RSA public key has 1024 bits; at least 2048 required"},
      {Keys().ec_p384.public_pem,
       "EC public key is on curve secp384r1; only P-256"},
      {Keys().ed25519.public_pem, "unsupported public key type ED25519"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(Verifier::FromPublicKeyPem(c.pem, {}, &clock),
                StatusIs(absl::StatusCode::kInvalidArgument, c.message))
        << c.pem;
  }
}

// --- Dev key
// -------------------------------------------------------------------

TEST(LoadOrCreateDevKey, CreatesPrivateHexKeyOnceAndRereadsIt) {
  const TestDir test_dir;
  const std::string dir = test_dir.path() + "/data";  // Created on demand.
  const absl::StatusOr<std::string> key = LoadOrCreateDevKey(dir);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_THAT(*key, SizeIs(64));
  EXPECT_EQ(key->find_first_not_of("0123456789abcdef"), std::string::npos);

  const std::string path = dir + "/dev-signing-key";
  EXPECT_EQ(ReadFile(path), *key + "\n");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir),
                          std::filesystem::directory_iterator()),
            1);

  const absl::StatusOr<std::string> again = LoadOrCreateDevKey(dir);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *key);

  // The key is usable as an HMAC secret end to end.
  SimulatedClock clock(kStart);
  MintOptions options;
  options.subject = "dev";
  const auto token = MintHmacToken(*key, options, &clock);
  ASSERT_TRUE(token.ok()) << token.status();
  auto verifier = Verifier::FromHmacSecret(*key, {}, &clock);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  EXPECT_TRUE((*verifier)->Verify(*token).ok());
}

// What `utmctl token` uses: it reads utmd's key and never makes one, since
// a key of its own would sign tokens no server accepts.
TEST(LoadDevKey, ReadsTheKeyButNeverCreatesOne) {
  const TestDir test_dir;
  const std::string dir = test_dir.path() + "/data";
  EXPECT_THAT(LoadDevKey(dir),
              StatusIs(absl::StatusCode::kNotFound,
                       absl::StrCat("no dev signing key: ", dir,
                                    "/dev-signing-key does not exist; utmd "
                                    "--auth dev --data-dir ",
                                    dir, " creates it when it starts")));
  EXPECT_FALSE(std::filesystem::exists(dir));
  std::filesystem::create_directories(dir);
  EXPECT_THAT(LoadDevKey(dir), StatusIs(absl::StatusCode::kNotFound, ""));
  EXPECT_TRUE(std::filesystem::is_empty(dir));

  const absl::StatusOr<std::string> created = LoadOrCreateDevKey(dir);
  ASSERT_TRUE(created.ok()) << created.status();
  const absl::StatusOr<std::string> read = LoadDevKey(dir);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, *created);

  std::ofstream(dir + "/dev-signing-key", std::ios::trunc) << "short\n";
  EXPECT_THAT(LoadDevKey(dir), StatusIs(absl::StatusCode::kInvalidArgument,
                                        "malformed key"));
  EXPECT_THAT(LoadDevKey(""), StatusIs(absl::StatusCode::kInvalidArgument,
                                       "data_dir is empty"));
}

TEST(LoadOrCreateDevKey, ConcurrentCreatorsAgreeOnOneKey) {
  const TestDir test_dir;
  const std::string dir = test_dir.path();
  constexpr int kThreads = 8;
  std::vector<absl::StatusOr<std::string>> keys(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] { keys[t] = LoadOrCreateDevKey(dir); });
  }
  for (std::thread& thread : threads) thread.join();
  const std::string on_disk = ReadFile(dir + "/dev-signing-key");
  for (const auto& key : keys) {
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ(*key + "\n", on_disk);
  }
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(LoadOrCreateDevKey, RejectsMalformedFile) {
  const TestDir test_dir;
  const std::string dir = test_dir.path();
  const std::string path = dir + "/dev-signing-key";
  for (const std::string& content :
       {std::string("abc123\n"), std::string(64, 'g') + "\n",
        std::string(66, 'a') + "\n", std::string()}) {
    std::ofstream(path, std::ios::trunc) << content;
    EXPECT_THAT(LoadOrCreateDevKey(dir),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         "malformed key: expected 64 hex "
                         "characters"))
        << content;
  }
  // Left alone: we never overwrite a key we could not read.
  EXPECT_EQ(ReadFile(path), "");

  // A key without the trailing newline (e.g. written by hand) is fine.
  const std::string hand_written(64, 'a');
  std::ofstream(path, std::ios::trunc) << hand_written;
  const auto key = LoadOrCreateDevKey(dir);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, hand_written);
}

TEST(LoadOrCreateDevKey, ReportsUnusableDirectory) {
  const TestDir test_dir;
  const std::string dir = test_dir.path();
  const std::string not_a_dir = dir + "/file";
  std::ofstream(not_a_dir) << "x";
  // open() fails with ENOTDIR, which absl maps to FAILED_PRECONDITION.
  EXPECT_THAT(LoadOrCreateDevKey(not_a_dir),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       absl::StrCat("open ", not_a_dir,
                                    "/dev-signing-key: Not a directory")));
  EXPECT_THAT(
      LoadOrCreateDevKey(""),
      StatusIs(absl::StatusCode::kInvalidArgument, "data_dir is empty"));
}

}  // namespace
}  // namespace utm::auth
