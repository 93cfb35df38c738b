#include "worker-agent/state/sign_in_code.h"

#include <argon2.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/common/sha256.h"

namespace mw::centre {
namespace {

constexpr uint32_t kPasses = 2;
constexpr uint32_t kMemoryKiB = 19 * 1024;
constexpr uint32_t kLanes = 1;
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;

std::string Hash(absl::string_view secret, const std::string& salt) {
  const size_t length =
      argon2_encodedlen(kPasses, kMemoryKiB, kLanes, kSaltBytes, kHashBytes, Argon2_id);
  std::string encoded(length, '\0');
  const int rc =
      argon2id_hash_encoded(kPasses, kMemoryKiB, kLanes, secret.data(), secret.size(), salt.data(),
                            salt.size(), kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) return "";
  encoded.resize(encoded.find('\0'));
  return encoded;
}

// A verifier of a secret nobody has: checked when the number is unknown, so that takes as long.
const std::string& Dummy() {
  static const std::string* dummy = new std::string(Hash("00000000", RandomBytes(kSaltBytes)));
  return *dummy;
}

// `digits` random decimal digits, eight per draw of 64 random bits (the bias of 2^64 modulo 10^8
// is below 10^-10).
std::string RandomDigits(int digits) {
  std::string out;
  while (static_cast<int>(out.size()) < digits) {
    const int n = std::min(digits - static_cast<int>(out.size()), 8);
    const std::string r = RandomBytes(8);
    uint64_t v = 0;
    for (char c : r) v = (v << 8) | static_cast<uint8_t>(c);
    uint64_t mod = 1;
    for (int i = 0; i < n; ++i) mod *= 10;
    absl::StrAppend(&out, absl::StrFormat("%0*d", n, v % mod));
  }
  return out;
}

IssuedCode NewCode(uint32_t number, int secret_digits) {
  const std::string secret = RandomDigits(secret_digits);
  return {.code = absl::StrFormat("%04d%s", number, secret),
          .verifier = Hash(secret, RandomBytes(kSaltBytes))};
}

std::optional<TypedCode> ParseCode(absl::string_view typed, size_t length, uint32_t first,
                                   uint32_t last) {
  std::string digits;
  for (char c : typed) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      digits += c;
    } else if (c != ' ' && c != '-') {
      return std::nullopt;
    }
    if (digits.size() > length) return std::nullopt;
  }
  uint32_t number = 0;
  if (digits.size() != length || !absl::SimpleAtoi(digits.substr(0, 4), &number) ||
      number < first || number > last) {
    return std::nullopt;
  }
  return TypedCode{.number = number, .secret = digits.substr(4)};
}

}  // namespace

IssuedCode NewSignInCode(uint32_t number) { return NewCode(number, 8); }

std::optional<TypedCode> ParseSignInCode(absl::string_view typed) {
  return ParseCode(typed, 12, kFirstSignInNumber, kLastSignInNumber);
}

IssuedCode NewManagerCode(uint32_t number) { return NewCode(number, 16); }

std::optional<TypedCode> ParseManagerCode(absl::string_view typed) {
  return ParseCode(typed, 20, kFirstManagerNumber, kLastManagerNumber);
}

bool VerifySignInCode(const std::string& verifier, absl::string_view secret) {
  const std::string& against = verifier.empty() ? Dummy() : verifier;
  const bool match = argon2id_verify(against.c_str(), secret.data(), secret.size()) == ARGON2_OK;
  return match && !verifier.empty();
}

}  // namespace mw::centre
