// SigningKey: an Ed25519 key pair (OpenSSL) that signs work records: the dispatcher's
// installation key and each centre's key. The private key lives in a PEM file only its owner may
// read; the public key is 32 bytes, written in records as "ed25519:<base64>".
//
//   MW_ASSIGN_OR_RETURN(SigningKey key, SigningKey::LoadOrCreate(dir + "/installation.key"));
//   std::string signature = key.Sign(text);
//   bool ok = VerifySignature(key.public_key(), text, signature);
#ifndef MW_ENGINE_RECORD_SIGNING_KEY_H_
#define MW_ENGINE_RECORD_SIGNING_KEY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace mw::record {

inline constexpr size_t kPublicKeyBytes = 32;
inline constexpr size_t kSignatureBytes = 64;

class SigningKey {
 public:
  // A new random key, kept in memory only.
  static absl::StatusOr<SigningKey> Generate();
  // The key in the PEM file at `path`; when there is no file, a new key written there first
  // (mode 0600, created exclusively). INVALID_ARGUMENT for a file that is not an Ed25519 key.
  static absl::StatusOr<SigningKey> LoadOrCreate(const std::string& path);

  const std::string& public_key() const { return public_key_; }  // 32 bytes
  // The 64-byte Ed25519 signature of `message`.
  std::string Sign(absl::string_view message) const;

 private:
  explicit SigningKey(std::shared_ptr<EVP_PKEY> key);
  std::shared_ptr<EVP_PKEY> key_;
  std::string public_key_;
};

// Whether `signature` is the Ed25519 signature of `message` by `public_key` (false for a key or
// signature of the wrong length).
bool VerifySignature(absl::string_view public_key, absl::string_view message,
                     absl::string_view signature);

// "ed25519:<base64>" for a public key or signature, and back: empty for anything but the one
// canonical text of some bytes.
std::string KeyText(absl::string_view bytes);
std::string FromKeyText(absl::string_view text);

}  // namespace mw::record

#endif  // MW_ENGINE_RECORD_SIGNING_KEY_H_
