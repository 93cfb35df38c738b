// SHA-256 digests (OpenSSL), for body hashes, credentials and the ledger's hash chain.
#ifndef MW_ENGINE_COMMON_SHA256_H_
#define MW_ENGINE_COMMON_SHA256_H_

#include <string>

#include "absl/strings/string_view.h"

namespace mw {

// The 32-byte digest of `data`.
std::string Sha256(absl::string_view data);

// The 32-byte digest of the concatenation of `a` and `b`.
std::string Sha256(absl::string_view a, absl::string_view b);

// HMAC-SHA-256 of `data` under `key` (32 bytes).
std::string HmacSha256(absl::string_view key, absl::string_view data);

// Whether two secrets (tokens, codes) are equal, in time that depends on neither: their digests
// are compared with CRYPTO_memcmp, so not even the length leaks.
bool SecretsEqual(absl::string_view a, absl::string_view b);

// Whether `s` is a SHA-256 digest as media files are named: 64 lower-case hex digits.
bool IsSha256Hex(absl::string_view s);

// `n` bytes from the operating system's cryptographic generator.
std::string RandomBytes(size_t n);

// Incremental SHA-256, for bodies that arrive in pieces. Not thread-safe.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void Update(absl::string_view data);
  // The digest of everything so far. REQUIRES: called once, last.
  std::string Finish();

 private:
  void* ctx_;  // EVP_MD_CTX
};

// Lowercase hex of `bytes`.
std::string ToHex(absl::string_view bytes);

}  // namespace mw

#endif  // MW_ENGINE_COMMON_SHA256_H_
