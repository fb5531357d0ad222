// The keys an embedded store may be read with (StoreOptions::key and
// old_key), and which one reads each file: the part of opening an encrypted
// store that decides, from file headers alone, whether the keys given cover
// the store, so that a wrong key is refused before anything is touched.
// Internal to the embedded store (store.cc).
//
// Typical usage:
//   KeyRing keys(options);
//   UTM_RETURN_IF_ERROR(CheckKeys(options, keys));  // before the lock
//   ...
//   UTM_ASSIGN_OR_RETURN(crypto::Cipher* cipher,
//                        keys.For(data, format::FileKind::kLog, path));
#ifndef UTM_SERVICES_COMMON_STORE_KEYS_H_
#define UTM_SERVICES_COMMON_STORE_KEYS_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/store.h"
#include "services/common/store_crypto.h"
#include "services/common/store_format.h"

namespace utm::store {

// Not thread-safe (its ciphers are not): the store uses it on its writer
// thread, and in Open before that thread starts.
class KeyRing {
 public:
  // REQUIRES: options.key and a non-empty *options.old_key are 32 bytes.
  explicit KeyRing(const StoreOptions& options);

  // The cipher that writes (null: in the clear).
  crypto::Cipher* key() const { return key_.get(); }
  // Whether files in the clear may be read.
  bool plain_allowed() const { return key_ == nullptr || old_plain_; }

  // The cipher to read the file at `path` with, which starts with `head`
  // (null: a file in the clear); FAILED_PRECONDITION, naming the key ids
  // (never a key), when no key given covers it. A header that is damaged or
  // cut short gets a key (or null) all the same: the reader reports it.
  absl::StatusOr<crypto::Cipher*> For(absl::string_view head,
                                      format::FileKind kind,
                                      const std::string& path) const;

 private:
  std::string Given() const;

  std::unique_ptr<crypto::Cipher> key_;
  std::unique_ptr<crypto::Cipher> old_;
  bool old_plain_ = false;
};

// Reads the headers of the files recovery would read in `options.dir` (the
// newest snapshot and its log) and checks that `keys` cover them. Changes
// nothing; OK when the directory does not exist.
absl::Status CheckKeys(const StoreOptions& options, const KeyRing& keys);

}  // namespace utm::store

#endif  // UTM_SERVICES_COMMON_STORE_KEYS_H_
