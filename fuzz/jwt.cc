// Fuzz target: the authorization header of a call, as every service checks
// it (auth::Verifier::Verify), with a fixed HS256 secret and a fixed clock.
//
// Input: one mode byte, then
//   even: the header value as it arrives ("Bearer <jwt>", anything at all);
//   odd:  a JOSE header and a claims set, separated by the first '\n', which
//         the target signs with the verifier's secret, so that the claim
//         checks past the signature (exp, nbf, iat, iss, aud, sub, scope) see
//         arbitrary JSON rather than only tokens with a bad signature.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/auth.h"
#include "services/common/clock.h"

namespace {

constexpr absl::string_view kSecret =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

std::string Base64Url(absl::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (unsigned char c : in) {
    bits = (bits << 8) | c;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out.push_back(kAlphabet[(bits >> count) & 63]);
    }
  }
  if (count > 0) out.push_back(kAlphabet[(bits << (6 - count)) & 63]);
  return out;
}

std::string Sign(absl::string_view header, absl::string_view claims) {
  const std::string input =
      absl::StrCat(Base64Url(header), ".", Base64Url(claims));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
       &mac_len);
  return absl::StrCat(
      input, ".",
      Base64Url(absl::string_view(reinterpret_cast<const char*>(mac), mac_len)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // 2027-03-01T10:00:00Z: seeds carry exp/nbf/iat around it.
  static const utm::SimulatedClock* const clock =
      new utm::SimulatedClock(absl::FromUnixSeconds(1803895200));
  static const utm::auth::Verifier* const verifier =
      utm::auth::Verifier::FromHmacSecret(std::string(kSecret), {}, clock)
          ->release();
  if (size == 0) return 0;
  const absl::string_view rest(reinterpret_cast<const char*>(data) + 1,
                               size - 1);
  std::string header_value;
  if ((data[0] & 1) == 0) {
    header_value = std::string(rest);
  } else {
    const size_t split = rest.find('\n');
    if (split == absl::string_view::npos) return 0;
    header_value = absl::StrCat(
        "Bearer ", Sign(rest.substr(0, split), rest.substr(split + 1)));
  }
  absl::StatusOr<utm::auth::Principal> principal =
      verifier->Verify(header_value);
  if (principal.ok()) {
    for (utm::auth::Scope s : principal->scopes) {
      (void)utm::auth::RequireScope(*principal, s);
    }
  }
  return 0;
}
