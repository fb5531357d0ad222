#include "services/common/pseudonym.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/common/auth.h"
#include "services/common/store_crypto.h"

namespace utm::pseudonym {
namespace {

// Domain separation: a MAC made under this key for another purpose never
// equals a pseudonym.
constexpr absl::string_view kDomain = "utm-pseudonym-v1:";

}  // namespace

absl::StatusOr<Pseudonymizer> Pseudonymizer::Create(std::string key) {
  if (key.size() != kKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a pseudonym key is ", kKeyBytes, " bytes, not ", key.size()));
  }
  return Pseudonymizer(std::move(key));
}

std::string Pseudonymizer::Of(absl::string_view id) const {
  const std::string message = absl::StrCat(kDomain, id);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  // One-shot HMAC: no shared context, so concurrent calls need no lock.
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
       mac, &mac_size);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(mac), mac_size));
}

absl::StatusOr<std::string> LoadKey(const std::string& spec,
                                    const std::string& data_dir) {
  if (!spec.empty()) {
    absl::StatusOr<std::string> key = store::crypto::LoadKey(spec);
    if (!key.ok()) {
      return absl::Status(
          key.status().code(),
          absl::StrCat("--pseudonym-key: ", key.status().message()));
    }
    return key;
  }
  absl::StatusOr<std::string> hex =
      auth::LoadOrCreateSecret(data_dir, kKeyFileName);
  if (!hex.ok()) return hex.status();
  return absl::HexStringToBytes(*hex);
}

}  // namespace utm::pseudonym
