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

// Lowercase hex of `bytes`.
std::string ToHex(absl::string_view bytes);

}  // namespace mw

#endif  // MW_ENGINE_COMMON_SHA256_H_
