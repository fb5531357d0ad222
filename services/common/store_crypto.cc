#include "services/common/store_crypto.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace utm::store::crypto {
namespace {

constexpr absl::string_view kKeyIdLabel = "utmd store key id v1";
constexpr size_t kReadLimit = 4096;

bool IsHex(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

absl::StatusOr<std::string> ParseKey(absl::string_view text,
                                     absl::string_view source) {
  if (text.size() == kKeyBytes) return std::string(text);
  const absl::string_view hex = absl::StripTrailingAsciiWhitespace(text);
  if (hex.size() == 2 * kKeyBytes && IsHex(hex)) {
    return absl::HexStringToBytes(hex);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "store key: ", source, " must hold 32 raw bytes or 64 hex characters, ",
      "found ",
      text.size() > kReadLimit ? "over 4096" : absl::StrCat(text.size()),
      " bytes",
      hex.size() == 2 * kKeyBytes ? " with a non-hex character" : ""));
}

absl::StatusOr<std::string> LoadKey(absl::string_view spec) {
  if (spec.empty()) {
    return absl::InvalidArgumentError(
        "store key: empty; give a file path or env:NAME");
  }
  if (absl::StartsWith(spec, "env:")) {
    const std::string name(spec.substr(4));
    const char* value = name.empty() ? nullptr : std::getenv(name.c_str());
    if (value == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "store key: the environment variable \"", name, "\" is not set"));
    }
    const absl::string_view hex =
        absl::StripTrailingAsciiWhitespace(absl::string_view(value));
    if (hex.size() != 2 * kKeyBytes || !IsHex(hex)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "store key: the environment variable ", name,
          " must hold 64 hex characters, found ", hex.size(), " characters",
          hex.size() == 2 * kKeyBytes ? " with a non-hex character" : ""));
    }
    return absl::HexStringToBytes(hex);
  }
  const std::string path(spec);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT) {
      return absl::InvalidArgumentError(
          absl::StrCat("store key: ", path, " does not exist"));
    }
    return absl::UnavailableError(
        absl::StrCat("store key: cannot open ", path, ": ", std::strerror(e)));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat("store key: ", path, " is not a regular file"));
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return absl::FailedPreconditionError(absl::StrFormat(
        "store key: %s is readable or writable by its group or others (mode "
        "%04o); chmod 600 it",
        path, st.st_mode & 07777));
  }
  std::string content;
  char buf[512];
  while (content.size() <= kReadLimit) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      return absl::UnavailableError(absl::StrCat("store key: cannot read ",
                                                 path, ": ", std::strerror(e)));
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  absl::StatusOr<std::string> key = ParseKey(content, path);
  std::fill(content.begin(), content.end(), '\0');
  return key;
}

std::string KeyId(absl::string_view key) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       Bytes(kKeyIdLabel), kKeyIdLabel.size(), mac, &mac_len);
  return std::string(reinterpret_cast<const char*>(mac), kKeyIdBytes);
}

std::string KeyIdHex(absl::string_view key_id) {
  return absl::BytesToHexString(key_id);
}

uint64_t RandomSalt() {
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) std::abort();
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(bytes[i]) << (8 * i);
  return v;
}

struct Cipher::Contexts {
  EVP_CIPHER_CTX* seal = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX* open = EVP_CIPHER_CTX_new();
  ~Contexts() {
    EVP_CIPHER_CTX_free(seal);
    EVP_CIPHER_CTX_free(open);
  }
};

// OpenSSL fails these calls only on allocation failure or misuse (a wrong
// length), both bugs here rather than input: abort rather than write a
// record that cannot be read back.
#define UTM_EVP_CHECK(call) \
  if ((call) != 1) std::abort()

Cipher::Cipher(absl::string_view key)
    : contexts_(std::make_unique<Contexts>()), key_id_(KeyId(key)) {
  if (key.size() != kKeyBytes || contexts_->seal == nullptr ||
      contexts_->open == nullptr) {
    std::abort();
  }
  // The key schedule is set once; each record only sets its nonce.
  UTM_EVP_CHECK(EVP_EncryptInit_ex(contexts_->seal, EVP_aes_256_gcm(), nullptr,
                                   Bytes(key), nullptr));
  UTM_EVP_CHECK(EVP_DecryptInit_ex(contexts_->open, EVP_aes_256_gcm(), nullptr,
                                   Bytes(key), nullptr));
}

Cipher::~Cipher() = default;

void Cipher::Seal(absl::string_view nonce, absl::string_view aad,
                  absl::string_view plaintext, std::string* out) {
  EVP_CIPHER_CTX* ctx = contexts_->seal;
  if (nonce.size() != kNonceBytes) std::abort();
  UTM_EVP_CHECK(
      EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, Bytes(nonce)));
  int n = 0;
  UTM_EVP_CHECK(EVP_EncryptUpdate(ctx, nullptr, &n, Bytes(aad),
                                  static_cast<int>(aad.size())));
  const size_t start = out->size();
  out->resize(start + plaintext.size() + kTagBytes);
  unsigned char* dst = reinterpret_cast<unsigned char*>(&(*out)[start]);
  UTM_EVP_CHECK(EVP_EncryptUpdate(ctx, dst, &n, Bytes(plaintext),
                                  static_cast<int>(plaintext.size())));
  int tail = 0;
  UTM_EVP_CHECK(EVP_EncryptFinal_ex(ctx, dst + n, &tail));
  UTM_EVP_CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
                                    static_cast<int>(kTagBytes),
                                    dst + plaintext.size()));
}

bool Cipher::Open(absl::string_view nonce, absl::string_view aad,
                  absl::string_view sealed, std::string* out) {
  out->clear();
  if (sealed.size() < kTagBytes || nonce.size() != kNonceBytes) return false;
  EVP_CIPHER_CTX* ctx = contexts_->open;
  const absl::string_view ciphertext =
      sealed.substr(0, sealed.size() - kTagBytes);
  std::string tag(sealed.substr(ciphertext.size()));
  UTM_EVP_CHECK(
      EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, Bytes(nonce)));
  int n = 0;
  UTM_EVP_CHECK(EVP_DecryptUpdate(ctx, nullptr, &n, Bytes(aad),
                                  static_cast<int>(aad.size())));
  out->resize(ciphertext.size());
  unsigned char* dst = reinterpret_cast<unsigned char*>(out->data());
  UTM_EVP_CHECK(EVP_DecryptUpdate(ctx, dst, &n, Bytes(ciphertext),
                                  static_cast<int>(ciphertext.size())));
  UTM_EVP_CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG,
                                    static_cast<int>(kTagBytes), tag.data()));
  int tail = 0;
  if (EVP_DecryptFinal_ex(ctx, dst + n, &tail) != 1) {
    out->clear();
    return false;
  }
  return true;
}

#undef UTM_EVP_CHECK

}  // namespace utm::store::crypto
