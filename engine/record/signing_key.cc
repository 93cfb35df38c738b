#include "engine/record/signing_key.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace mw::record {
namespace {

std::shared_ptr<EVP_PKEY> Own(EVP_PKEY* key) {
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

}  // namespace

SigningKey::SigningKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {
  size_t n = kPublicKeyBytes;
  public_key_.resize(n);
  EVP_PKEY_get_raw_public_key(key_.get(), reinterpret_cast<unsigned char*>(public_key_.data()), &n);
  public_key_.resize(n);
}

absl::StatusOr<SigningKey> SigningKey::Generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (key == nullptr) return absl::InternalError("could not generate an Ed25519 key");
  return SigningKey(Own(key));
}

absl::StatusOr<SigningKey> SigningKey::LoadOrCreate(const std::string& path) {
  // Read at most a few kilobytes: a PEM Ed25519 key is about 120 bytes.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    std::string pem(4096, '\0');
    const ssize_t n = read(fd, pem.data(), pem.size());
    close(fd);
    if (n <= 0 || static_cast<size_t>(n) == pem.size()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": expected a PEM Ed25519 key"));
    }
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(n)));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
    if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) {
      EVP_PKEY_free(key);
      return absl::InvalidArgumentError(absl::StrCat(path, ": expected a PEM Ed25519 key"));
    }
    return SigningKey(Own(key));
  }
  if (errno != ENOENT) {
    return absl::PermissionDeniedError(absl::StrCat(path, ": cannot read: ", std::strerror(errno)));
  }
  absl::StatusOr<SigningKey> key = Generate();
  if (!key.ok()) return key.status();
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key->key_.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
      1) {
    return absl::InternalError("could not encode the new key");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  const int out = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(path, ": cannot create: ", std::strerror(errno)));
  }
  const bool written = write(out, data, static_cast<size_t>(size)) == size && fsync(out) == 0;
  close(out);
  if (!written) return absl::InternalError(absl::StrCat(path, ": could not write the new key"));
  return key;
}

std::string SigningKey::Sign(absl::string_view message) const {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::string signature(kSignatureBytes, '\0');
  size_t n = signature.size();
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &n,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    return "";
  }
  signature.resize(n);
  return signature;
}

bool VerifySignature(absl::string_view public_key, absl::string_view message,
                     absl::string_view signature) {
  if (public_key.size() != kPublicKeyBytes || signature.size() != kSignatureBytes) return false;
  std::shared_ptr<EVP_PKEY> key = Own(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(public_key.data()),
      public_key.size()));
  if (key == nullptr) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  return EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

std::string KeyText(absl::string_view bytes) {
  return absl::StrCat("ed25519:", absl::Base64Escape(bytes));
}

std::string FromKeyText(absl::string_view text) {
  std::string bytes;
  if (!absl::ConsumePrefix(&text, "ed25519:") || !absl::Base64Unescape(text, &bytes)) return "";
  // One text per value: a changed padding bit or a stray character is a different record.
  if (absl::Base64Escape(bytes) != text) return "";
  return bytes;
}

}  // namespace mw::record
