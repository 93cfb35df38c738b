#include "engine/common/money.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace mw {

bool IsCurrencyCode(absl::string_view code) {
  if (code.size() != 3) return false;
  for (char c : code) {
    if (c < 'A' || c > 'Z') return false;
  }
  return true;
}

int MinorDigits(absl::string_view currency) {
  // ISO 4217 exponents that differ from 2, for currencies of the regions this serves.
  static constexpr struct {
    const char* code;
    int digits;
  } kExceptions[] = {{"JPY", 0}, {"KRW", 0}, {"UGX", 0}, {"RWF", 0}, {"VND", 0},
                     {"XOF", 0}, {"XAF", 0}, {"CLP", 0}, {"PYG", 0}, {"BIF", 0},
                     {"GNF", 0}, {"KMF", 0}, {"BHD", 3}, {"KWD", 3}, {"OMR", 3},
                     {"JOD", 3}, {"TND", 3}, {"IQD", 3}, {"LYD", 3}};
  for (const auto& e : kExceptions) {
    if (currency == e.code) return e.digits;
  }
  return 2;
}

std::string FormatMoney(int64_t minor, absl::string_view currency) {
  const int digits = MinorDigits(currency);
  const bool negative = minor < 0;
  // Work in unsigned so INT64_MIN formats correctly.
  uint64_t magnitude =
      negative ? uint64_t{0} - static_cast<uint64_t>(minor) : static_cast<uint64_t>(minor);
  uint64_t scale = 1;
  for (int i = 0; i < digits; ++i) scale *= 10;
  std::string out = negative ? "-" : "";
  if (digits == 0) {
    absl::StrAppend(&out, magnitude);
  } else {
    absl::StrAppend(&out, magnitude / scale, ".",
                    absl::StrFormat("%0*d", digits, static_cast<int>(magnitude % scale)));
  }
  absl::StrAppend(&out, " ", currency);
  return out;
}

absl::StatusOr<int64_t> AddMinor(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_add_overflow(a, b, &out)) {
    return absl::OutOfRangeError(absl::StrCat("amount overflow: ", a, " + ", b));
  }
  return out;
}

absl::StatusOr<int64_t> MulMinor(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_mul_overflow(a, b, &out)) {
    return absl::OutOfRangeError(absl::StrCat("amount overflow: ", a, " * ", b));
  }
  return out;
}

absl::StatusOr<int64_t> HourlyRateMinor(int64_t piece_rate_minor, uint32_t seconds) {
  if (seconds == 0) return absl::InvalidArgumentError("estimated seconds must be positive");
  auto per_hour = MulMinor(piece_rate_minor, 3600);
  if (!per_hour.ok()) return per_hour.status();
  return *per_hour / static_cast<int64_t>(seconds);
}

}  // namespace mw
