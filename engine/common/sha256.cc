#include "engine/common/sha256.h"

#include <openssl/evp.h>

#include "absl/strings/escaping.h"

namespace mw {

std::string Sha256(absl::string_view a, absl::string_view b) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, a.data(), a.size());
  EVP_DigestUpdate(ctx, b.data(), b.size());
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  return std::string(reinterpret_cast<const char*>(digest), len);
}

std::string Sha256(absl::string_view data) { return Sha256(data, absl::string_view()); }

std::string ToHex(absl::string_view bytes) { return absl::BytesToHexString(bytes); }

}  // namespace mw
