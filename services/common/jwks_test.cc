// JWK Sets: parsing, the key file reloaded on change (rotation), and the
// Verifier that picks a token's key by kid — with real RS256 and ES256 keys
// generated here and tokens signed by libjwt.
#include "services/common/jwks.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdio.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/auth.h"
#include "services/common/auth_test_util.h"
#include "services/common/clock.h"

namespace utm::auth {
namespace {

using test_util::Claims;
using test_util::KeyPair;
using test_util::kStart;
using test_util::Sign;
using test_util::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
constexpr absl::StatusCode kUnauthenticated =
    absl::StatusCode::kUnauthenticated;

// A generated key: its PEM pair and its public JWK (without kid).
struct TestKey {
  KeyPair pem;
  nlohmann::json jwk;

  nlohmann::json Jwk(const std::string& kid) const {
    nlohmann::json out = jwk;
    out["kid"] = kid;
    return out;
  }
};

std::string B64(const std::string& bytes) {
  return absl::WebSafeBase64Escape(bytes);  // No padding.
}

std::string BnParam(EVP_PKEY* key, const char* name, int pad_to = 0) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &bn), 1) << name;
  std::string out(pad_to > 0 ? pad_to : BN_num_bytes(bn), '\0');
  if (pad_to > 0) {
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), pad_to);
  } else {
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  }
  BN_free(bn);
  return out;
}

TestKey Rsa(int bits = 2048) {
  EVP_PKEY* key = EVP_RSA_gen(bits);
  TestKey out;
  out.jwk = {{"kty", "RSA"},
             {"n", B64(BnParam(key, OSSL_PKEY_PARAM_RSA_N))},
             {"e", B64(BnParam(key, OSSL_PKEY_PARAM_RSA_E))}};
  out.pem = test_util::ToPem(key);  // Frees the key.
  return out;
}

TestKey Ec() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  TestKey out;
  out.jwk = {{"kty", "EC"},
             {"crv", "P-256"},
             {"x", B64(BnParam(key, OSSL_PKEY_PARAM_EC_PUB_X, 32))},
             {"y", B64(BnParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32))}};
  out.pem = test_util::ToPem(key);
  return out;
}

// Generated once per binary: RSA generation is slow.
struct Keys {
  TestKey rsa1 = Rsa(), rsa2 = Rsa(), rsa_1024 = Rsa(1024), ec1 = Ec(),
          ec2 = Ec();
};
const Keys& K() {
  static const Keys* const keys = new Keys;
  return *keys;
}

std::string Set(std::vector<nlohmann::json> keys) {
  return nlohmann::json{{"keys", keys}}.dump();
}

std::string Rs256(const TestKey& key, const std::optional<std::string>& kid,
                  const Claims& claims = Claims()) {
  return Sign(JWT_ALG_RS256, key.pem.private_pem, claims.Json(), kid);
}
std::string Es256(const TestKey& key, const std::optional<std::string>& kid,
                  const Claims& claims = Claims()) {
  return Sign(JWT_ALG_ES256, key.pem.private_pem, claims.Json(), kid);
}

// A fresh directory for this test, removed when it ends.
class TestDir {
 public:
  TestDir()
      : path_(absl::StrCat(
            testing::TempDir(), "/jwks_test_",
            testing::UnitTest::GetInstance()->current_test_info()->name())) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TestDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Replaces `path` as a deployment would: a new file renamed into place.
void Deploy(const std::string& path, const std::string& content) {
  const std::string temp = path + ".new";
  std::ofstream(temp, std::ios::trunc) << content;
  ASSERT_EQ(::rename(temp.c_str(), path.c_str()), 0);
}

// Collects what a JwksFile logs.
class LogLines {
 public:
  std::function<void(const std::string&)> Sink() {
    return [this](const std::string& line) {
      absl::MutexLock lock(&mu_);
      lines_.push_back(line);
    };
  }
  std::vector<std::string> Take() {
    absl::MutexLock lock(&mu_);
    return std::move(lines_);
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> lines_;
};

// --- ParseJwks ---------------------------------------------------------------

TEST(ParseJwks, ReadsRsaAndEcKeysSortedByKid) {
  const absl::StatusOr<KeySet> set =
      ParseJwks(Set({K().rsa1.Jwk("r1"), K().ec1.Jwk("e1")}));
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->keys.size(), 2u);
  EXPECT_THAT(set->skipped, IsEmpty());
  EXPECT_EQ(set->keys[0].kid, "e1");
  EXPECT_EQ(set->keys[0].algorithm, "ES256");
  EXPECT_EQ(set->keys[0].pem, K().ec1.pem.public_pem);
  EXPECT_EQ(set->keys[1].kid, "r1");
  EXPECT_EQ(set->keys[1].algorithm, "RS256");
  EXPECT_EQ(set->keys[1].pem, K().rsa1.pem.public_pem);
}

// What an identity provider publishes for other purposes is left out, with
// the reason; the keys for us are kept.
TEST(ParseJwks, SkipsKeysForOtherAlgorithmsOrUses) {
  nlohmann::json rs384 = K().rsa2.Jwk("rs384");
  rs384["alg"] = "RS384";
  nlohmann::json enc = K().rsa2.Jwk("enc");
  enc["use"] = "enc";
  nlohmann::json sign_only = K().ec2.Jwk("sign-only");
  sign_only["key_ops"] = {"sign"};
  nlohmann::json p384 = {{"kty", "EC"}, {"crv", "P-384"}, {"kid", "p384"}};
  nlohmann::json oct = {{"kty", "oct"}, {"kid", "hmac"}};
  nlohmann::json explicit_alg = K().ec1.Jwk("e1");
  explicit_alg["alg"] = "ES256";
  explicit_alg["use"] = "sig";
  explicit_alg["key_ops"] = {"verify"};
  const absl::StatusOr<KeySet> set =
      ParseJwks(Set({rs384, enc, sign_only, p384, oct, explicit_alg}));
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->keys.size(), 1u);
  EXPECT_EQ(set->keys[0].kid, "e1");
  EXPECT_THAT(
      set->skipped,
      ElementsAre(
          "keys[0] (kid \"rs384\"): alg \"RS384\" is not RS256",
          "keys[1] (kid \"enc\"): \"use\" is \"enc\", not \"sig\"",
          "keys[2] (kid \"sign-only\"): \"key_ops\" does not include "
          "\"verify\"",
          "keys[3] (kid \"p384\"): curve \"P-384\" is not supported (P-256)",
          "keys[4] (kid \"hmac\"): kty \"oct\" is not supported (RSA, EC)"));
}

TEST(ParseJwks, RejectsMalformedSetsNamingTheKey) {
  nlohmann::json short_x = K().ec1.Jwk("e1");
  short_x["x"] = B64(std::string(31, 'x'));
  nlohmann::json off_curve = K().ec1.Jwk("e1");
  off_curve["y"] = off_curve["x"];
  nlohmann::json bad_b64 = K().rsa1.Jwk("r1");
  bad_b64["n"] = "not*base64";
  nlohmann::json no_e = K().rsa1.Jwk("r1");
  no_e.erase("e");
  nlohmann::json private_rsa = K().rsa1.Jwk("r1");
  private_rsa["d"] = "AQAB";
  nlohmann::json no_kid = K().ec1.jwk;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{", "key set is not valid JSON"},
      {"[]", "expected {\"keys\": [...]}"},
      {"{\"keys\": {}}", "expected {\"keys\": [...]}"},
      {"{\"keys\": []}", "key set has no usable key"},
      {"{\"keys\": [42]}", "keys[0]: not a JSON object"},
      {"{\"keys\": [{\"kid\": 7, \"kty\": \"EC\"}]}",
       "keys[0]: \"kid\" is not a string"},
      {"{\"keys\": [{\"kid\": \"a\"}]}",
       "keys[0] (kid \"a\"): \"kty\" is missing or not a string"},
      {Set({short_x}), "keys[0] (kid \"e1\"): \"x\" is 31 bytes; expected 32"},
      {Set({off_curve}), "keys[0] (kid \"e1\"): not a valid public key"},
      {Set({bad_b64}), "keys[0] (kid \"r1\"): \"n\" is not base64url"},
      {Set({no_e}), "keys[0] (kid \"r1\"): \"e\" is missing or not a string"},
      {Set({private_rsa}),
       "keys[0] (kid \"r1\"): holds private key material (\"d\")"},
      {Set({K().rsa_1024.Jwk("weak")}),
       "keys[0] (kid \"weak\"): RSA public key has 1024 bits; at least 2048 "
       "required"},
      {Set({K().rsa1.Jwk("same"), K().ec1.Jwk("same")}),
       "keys[1] (kid \"same\"): a second usable key with this kid"},
      {Set({K().rsa1.Jwk("r1"), no_kid}),
       "several usable keys and one has no \"kid\""},
      {Set({nlohmann::json{{"kty", "oct"}}}),
       "key set has no usable key (RSA >= 2048 bits for RS256, EC P-256 for "
       "ES256); keys[0]: kty \"oct\" is not supported"},
      {Set(std::vector<nlohmann::json>(101, K().ec1.jwk)),
       "key set has 101 keys; limit is 100"},
      {std::string(1024 * 1024 + 1, ' '), "limit is 1048576"},
  };
  for (const auto& [json, fragment] : cases) {
    EXPECT_THAT(ParseJwks(json), StatusIs(kInvalid, fragment))
        << json.substr(0, 200);
  }
  // One key without kid is fine: tokens without kid use it.
  EXPECT_TRUE(ParseJwks(Set({no_kid})).ok());
}

// --- Verifier with a key set
// --------------------------------------------------

class JwksVerifierTest : public testing::Test {
 protected:
  void Write(const std::string& content) { Deploy(path_, content); }

  std::unique_ptr<Verifier> Open(VerifierOptions options = {}) {
    JwksFileOptions jwks;
    jwks.log = log_.Sink();
    absl::StatusOr<std::unique_ptr<Verifier>> verifier =
        Verifier::FromJwksFile(path_, std::move(options), &clock_, jwks);
    EXPECT_TRUE(verifier.ok()) << verifier.status();
    opening_log_ = log_.Take();
    return verifier.ok() ? *std::move(verifier) : nullptr;
  }

  TestDir dir_;
  std::vector<std::string> opening_log_;  // What Open() logged.
  const std::string path_ = dir_.path() + "/jwks.json";
  SimulatedClock clock_{kStart};
  LogLines log_;
};

TEST_F(JwksVerifierTest, PicksTheKeyByKidForRs256AndEs256) {
  Write(Set({K().rsa1.Jwk("rsa-2027"), K().ec1.Jwk("ec-2027")}));
  auto verifier = Open();
  ASSERT_NE(verifier, nullptr);
  EXPECT_EQ(verifier->algorithm(), "JWKS");
  EXPECT_THAT(opening_log_,
              ElementsAre(absl::StrCat("key set ", path_,
                                       " loaded: 2 key(s), "
                                       "kids \"ec-2027\", \"rsa-2027\"")));
  const absl::StatusOr<Principal> rsa =
      verifier->Verify(absl::StrCat("Bearer ", Rs256(K().rsa1, "rsa-2027")));
  ASSERT_TRUE(rsa.ok()) << rsa.status();
  EXPECT_EQ(rsa->subject, "op-1");
  EXPECT_TRUE(rsa->Has(Scope::kStrategicCoordination));
  const absl::StatusOr<Principal> ec =
      verifier->Verify(Es256(K().ec1, "ec-2027"));
  ASSERT_TRUE(ec.ok()) << ec.status();

  // Signed by another key under a known kid.
  EXPECT_THAT(verifier->Verify(Rs256(K().rsa2, "rsa-2027")),
              StatusIs(kUnauthenticated,
                       "token signature verification failed (RS256)"));
  EXPECT_THAT(verifier->Verify(Es256(K().ec2, "ec-2027")),
              StatusIs(kUnauthenticated,
                       "token signature verification failed (ES256)"));
  // An unknown kid is named, with the kids there are.
  EXPECT_THAT(verifier->Verify(Rs256(K().rsa2, "rsa-2028")),
              StatusIs(kUnauthenticated,
                       "token kid \"rsa-2028\" is not in the key set (kids "
                       "\"ec-2027\", \"rsa-2027\")"));
  // No kid, with two keys to choose from.
  EXPECT_THAT(verifier->Verify(Rs256(K().rsa1, std::nullopt)),
              StatusIs(kUnauthenticated,
                       "token header has no kid, and the key set holds 2 "
                       "keys"));
}

TEST_F(JwksVerifierTest, AlgorithmMustMatchTheKeyAndNeverHmacOrNone) {
  Write(Set({K().rsa1.Jwk("r"), K().ec1.Jwk("e")}));
  auto verifier = Open();
  ASSERT_NE(verifier, nullptr);
  // An RS256 token naming the EC key.
  EXPECT_THAT(verifier->Verify(Rs256(K().rsa1, "e")),
              StatusIs(kUnauthenticated,
                       "token alg \"RS256\" does not match its key \"e\", "
                       "which verifies ES256 only"));
  // HS256 "signed" with the public key as the secret: alg confusion.
  EXPECT_THAT(
      verifier->Verify(
          Sign(JWT_ALG_HS256, K().rsa1.pem.public_pem, Claims().Json(), "r")),
      StatusIs(kUnauthenticated,
               "token alg \"HS256\" is not accepted; this server verifies "
               "RS256 and ES256 only"));
  // alg none.
  const std::string header =
      test_util::Base64Url(R"({"alg":"none","typ":"JWT","kid":"r"})");
  const std::string payload = test_util::Base64Url(Claims().Json());
  EXPECT_THAT(verifier->Verify(absl::StrCat(header, ".", payload, ".")),
              StatusIs(kUnauthenticated, "alg \"none\""));
  // kid of the wrong type.
  const std::string numeric_kid = absl::StrCat(
      test_util::Base64Url(R"({"alg":"RS256","typ":"JWT","kid":7})"), ".",
      payload, ".c2ln");
  EXPECT_THAT(verifier->Verify(numeric_kid),
              StatusIs(kUnauthenticated, "header kid is not a string"));
}

TEST_F(JwksVerifierTest, SingleKeyServesTokensWithoutKid) {
  // An HMAC key beside it is skipped (and said so), not counted.
  Write(Set({K().ec1.jwk, nlohmann::json{{"kty", "oct"}, {"k", "c2VjcmV0"}}}));
  auto verifier = Open();
  ASSERT_NE(verifier, nullptr);
  EXPECT_THAT(opening_log_,
              ElementsAre(absl::StrCat("key set ", path_,
                                       ": skipped keys[1]: kty \"oct\" is not "
                                       "supported (RSA, EC)"),
                          absl::StrCat("key set ", path_,
                                       " loaded: 1 key(s), kids \"\"")));
  EXPECT_TRUE(verifier->Verify(Es256(K().ec1, std::nullopt)).ok());
  EXPECT_THAT(verifier->Verify(Es256(K().ec1, "k")),
              StatusIs(kUnauthenticated,
                       "token kid \"k\" is not in the key "
                       "set (kids \"\")"));
}

TEST_F(JwksVerifierTest, SeveralIssuersAndAudiences) {
  Write(Set({K().ec1.Jwk("e")}));
  VerifierOptions options;
  options.issuers = {"https://idp.example/realms/utm", "https://idp2.example"};
  options.audiences = {"utmd-eu", "utmd"};
  auto verifier = Open(options);
  ASSERT_NE(verifier, nullptr);
  Claims claims;
  claims.iss = "\"https://idp2.example\"";
  claims.aud = "\"utmd-eu\"";
  EXPECT_TRUE(verifier->Verify(Es256(K().ec1, "e", claims)).ok());
  claims.iss = "\"https://idp.example/realms/utm\"";
  claims.aud = "[\"account\", \"utmd\"]";
  EXPECT_TRUE(verifier->Verify(Es256(K().ec1, "e", claims)).ok());

  claims.iss = "\"https://evil.example\"";
  EXPECT_THAT(verifier->Verify(Es256(K().ec1, "e", claims)),
              StatusIs(kUnauthenticated,
                       "token issuer \"https://evil.example\" is none of the "
                       "accepted \"https://idp.example/realms/utm\", "
                       "\"https://idp2.example\""));
  claims.iss = "\"https://idp2.example\"";
  claims.aud = "\"account\"";
  EXPECT_THAT(verifier->Verify(Es256(K().ec1, "e", claims)),
              StatusIs(kUnauthenticated,
                       "token audience \"account\" is none of the accepted "
                       "\"utmd-eu\", \"utmd\""));
  claims.aud = "[\"account\", \"utmd-us\"]";
  EXPECT_THAT(verifier->Verify(Es256(K().ec1, "e", claims)),
              StatusIs(kUnauthenticated,
                       "does not include any of \"utmd-eu\", \"utmd\""));
  // The defaults accept only "utmd".
  Claims defaults;
  defaults.iss = "\"https://idp2.example\"";
  EXPECT_THAT(Open()->Verify(Es256(K().ec1, "e", defaults)),
              StatusIs(kUnauthenticated,
                       "token issuer \"https://idp2.example\" is not the "
                       "expected \"utmd\""));
}

// Rotation: the provider publishes a new key and drops the old one.
TEST_F(JwksVerifierTest, RotationReloadsTheFile) {
  Write(Set({K().rsa1.Jwk("2027-01")}));
  auto verifier = Open();
  ASSERT_NE(verifier, nullptr);
  const std::string old_token = Rs256(K().rsa1, "2027-01");
  const std::string new_token = Es256(K().ec1, "2027-02");
  EXPECT_TRUE(verifier->Verify(old_token).ok());
  EXPECT_THAT(verifier->Verify(new_token),
              StatusIs(kUnauthenticated, "token kid \"2027-02\" is not in"));

  // Step 1: both keys. A token with the new kid makes utmd look at once...
  Write(Set({K().rsa1.Jwk("2027-01"), K().ec1.Jwk("2027-02")}));
  // ...but at most once a second (the failure above used this second).
  EXPECT_THAT(verifier->Verify(new_token),
              StatusIs(kUnauthenticated, "is not in"));
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(verifier->Verify(new_token).ok());
  EXPECT_TRUE(verifier->Verify(old_token).ok());
  EXPECT_THAT(log_.Take(), ElementsAre(absl::StrCat(
                               "key set ", path_,
                               " reloaded: 2 "
                               "key(s), kids \"2027-01\", \"2027-02\"")));

  // Step 2: the old key is dropped; noticed at the next periodic check.
  Write(Set({K().ec1.Jwk("2027-02")}));
  EXPECT_TRUE(verifier->Verify(old_token).ok());  // Not checked yet.
  clock_.Advance(absl::Seconds(30));
  EXPECT_THAT(verifier->Verify(old_token),
              StatusIs(kUnauthenticated,
                       "token kid \"2027-01\" is not in the key set (kids "
                       "\"2027-02\")"));
  EXPECT_TRUE(verifier->Verify(new_token).ok());
}

// A broken deployment never locks everyone out: the previous keys stay, the
// error is logged once, and a fixed file is picked up.
TEST_F(JwksVerifierTest, BrokenOrMissingFileKeepsThePreviousKeys) {
  Write(Set({K().ec1.Jwk("e1")}));
  auto verifier = Open();
  ASSERT_NE(verifier, nullptr);
  const std::string token = Es256(K().ec1, "e1");

  Write("{\"keys\": [");  // Truncated.
  clock_.Advance(absl::Seconds(30));
  EXPECT_TRUE(verifier->Verify(token).ok());
  clock_.Advance(absl::Seconds(30));
  EXPECT_TRUE(verifier->Verify(token).ok());
  EXPECT_THAT(log_.Take(),
              ElementsAre(absl::StrCat(
                  "key set ", path_, ": keeping the previous 1 key(s): ", path_,
                  ": key set is not valid JSON")));

  std::filesystem::remove(path_);
  clock_.Advance(absl::Seconds(30));
  EXPECT_TRUE(verifier->Verify(token).ok());
  const std::vector<std::string> lines = log_.Take();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("keeping the previous 1 key(s): open "));

  // Rewritten in place (same inode) with a valid set: reloaded.
  Write(Set({K().ec2.Jwk("e2")}));
  clock_.Advance(absl::Seconds(30));
  EXPECT_THAT(verifier->Verify(token), StatusIs(kUnauthenticated, "e1"));
  EXPECT_TRUE(verifier->Verify(Es256(K().ec2, "e2")).ok());
  std::ofstream(path_, std::ios::trunc) << Set({K().ec1.Jwk("e1")});
  clock_.Advance(absl::Seconds(30));
  EXPECT_TRUE(verifier->Verify(token).ok());
}

TEST_F(JwksVerifierTest, OpenFailsOnAnUnusableFile) {
  JwksFileOptions jwks;
  EXPECT_THAT(Verifier::FromJwksFile(path_, {}, &clock_, jwks),
              StatusIs(absl::StatusCode::kNotFound, "open "));
  Write("{}");
  EXPECT_THAT(Verifier::FromJwksFile(path_, {}, &clock_, jwks),
              StatusIs(kInvalid, absl::StrCat(path_,
                                              ": key set is not a JWK "
                                              "Set")));
  Write(Set({K().ec1.Jwk("e")}));
  jwks.check_interval = absl::ZeroDuration();
  EXPECT_THAT(Verifier::FromJwksFile(path_, {}, &clock_, jwks),
              StatusIs(kInvalid, "check_interval must be > 0"));
  VerifierOptions no_audience;
  no_audience.audiences.clear();
  EXPECT_THAT(Verifier::FromJwksFile(path_, no_audience, &clock_, {}),
              StatusIs(kInvalid, "VerifierOptions.audiences is empty"));
}

// Many threads verify while the keys rotate underneath: each sees the old or
// the new set, never a torn one (run under ASan/TSan to see races).
TEST_F(JwksVerifierTest, VerifyIsSafeDuringReloads) {
  Write(Set({K().ec1.Jwk("a"), K().ec2.Jwk("b")}));
  auto verifier = Open();
  ASSERT_NE(verifier, nullptr);
  const std::string always = Es256(K().ec1, "a");
  const std::string sometimes = Es256(K().ec2, "b");
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        if (!verifier->Verify(always).ok()) failures.fetch_add(1);
        const absl::Status s = verifier->Verify(sometimes).status();
        if (!s.ok() && s.code() != kUnauthenticated) failures.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 50; ++i) {
    Write(i % 2 == 0 ? Set({K().ec1.Jwk("a")})
                     : Set({K().ec1.Jwk("a"), K().ec2.Jwk("b")}));
    clock_.Advance(absl::Seconds(31));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stop.store(true);
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

// --- One PEM key (--jwt-public-key) still works, kid or not
// -------------------

TEST(PemVerifier, IgnoresKid) {
  SimulatedClock clock(kStart);
  auto verifier =
      Verifier::FromPublicKeyPem(K().rsa1.pem.public_pem, {}, &clock);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  EXPECT_TRUE((*verifier)->Verify(Rs256(K().rsa1, "anything")).ok());
  EXPECT_TRUE((*verifier)->Verify(Rs256(K().rsa1, std::nullopt)).ok());
  EXPECT_THAT((*verifier)->Verify(Es256(K().ec1, std::nullopt)),
              StatusIs(kUnauthenticated,
                       "token alg \"ES256\" is not accepted; this server "
                       "verifies RS256 only"));
}

}  // namespace
}  // namespace utm::auth
