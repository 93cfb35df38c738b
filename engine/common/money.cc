#include "engine/common/money.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <utility>

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

namespace {
int64_t Saturate(__int128 v) {
  if (v > INT64_MAX) return INT64_MAX;
  if (v < INT64_MIN) return INT64_MIN;
  return static_cast<int64_t>(v);
}
}  // namespace

int64_t EarnedPerHour(int64_t earned_minor, uint64_t seconds) {
  if (seconds == 0) return 0;
  return Saturate(static_cast<__int128>(earned_minor) * 3600 / static_cast<__int128>(seconds));
}

int64_t PayForTime(uint64_t seconds, int64_t per_hour) {
  const __int128 num = static_cast<__int128>(seconds) * per_hour;
  return Saturate(num >= 0 ? (num + 3599) / 3600 : num / 3600);
}

int64_t PerMilleOf(int64_t minor, uint32_t per_mille) {
  return static_cast<int64_t>((static_cast<__int128>(minor) * per_mille + 500) / 1000);
}

absl::StatusOr<FxRate> ParseFxRate(absl::string_view from, absl::string_view to,
                                   absl::string_view rate, absl::string_view agreed) {
  if (!IsCurrencyCode(from) || !IsCurrencyCode(to) || from == to) {
    return absl::InvalidArgumentError(
        absl::StrCat("a rate converts between two ISO 4217 codes, got ", from, " and ", to));
  }
  FxRate out{.from = std::string(from), .to = std::string(to)};
  const size_t dot = rate.find('.');
  absl::string_view whole = rate.substr(0, dot);
  absl::string_view frac = dot == absl::string_view::npos ? "" : rate.substr(dot + 1);
  auto digits = [](absl::string_view d) {
    return std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (whole.empty() || whole.size() > 12 || frac.size() > 9 || !digits(whole) || !digits(frac) ||
      (dot != absl::string_view::npos && frac.empty())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected a decimal rate such as \"129.50\" (at most 12 digits, 9 decimals), got \"", rate,
        "\""));
  }
  for (char c : whole) out.numerator = out.numerator * 10 + (c - '0');
  for (char c : frac) {
    out.numerator = out.numerator * 10 + (c - '0');
    out.denominator *= 10;
  }
  if (out.numerator == 0) return absl::InvalidArgumentError("a rate must be above zero");
  out.text = absl::StrCat("1 ", from, " = ", rate, " ", to);
  if (!agreed.empty()) absl::StrAppend(&out.text, " (", agreed, ")");
  return out;
}

namespace {
// rate.to minor units per rate.from minor unit, as a fraction num / den.
std::pair<__int128, __int128> MinorRatio(const FxRate& rate) {
  __int128 num = rate.numerator, den = rate.denominator;
  for (int d = MinorDigits(rate.to); d > 0; --d) num *= 10;
  for (int d = MinorDigits(rate.from); d > 0; --d) den *= 10;
  return {num, den};
}

absl::StatusOr<int64_t> Narrow(__int128 v, int64_t minor) {
  if (v > std::numeric_limits<int64_t>::max() || v < std::numeric_limits<int64_t>::min()) {
    return absl::OutOfRangeError(absl::StrCat("amount overflow converting ", minor));
  }
  return static_cast<int64_t>(v);
}
}  // namespace

absl::StatusOr<int64_t> ConvertMinor(int64_t minor, const FxRate& rate) {
  auto [num, den] = MinorRatio(rate);
  const __int128 scaled = static_cast<__int128>(minor) * num;
  const __int128 half_up =
      scaled >= 0 ? (2 * scaled + den) / (2 * den) : -((-2 * scaled + den) / (2 * den));
  return Narrow(half_up, minor);
}

absl::StatusOr<int64_t> ConvertMinorDown(int64_t minor, const FxRate& rate) {
  auto [num, den] = MinorRatio(rate);
  const __int128 scaled = static_cast<__int128>(minor) * num;
  return Narrow(scaled >= 0 ? scaled / den : -((-scaled + den - 1) / den), minor);
}

absl::StatusOr<int64_t> CostInSourceMinor(int64_t minor, const FxRate& rate) {
  if (minor <= 0) return int64_t{0};
  auto [num, den] = MinorRatio(rate);
  // Smallest s with round_half_up(s * num / den) >= minor, i.e. s * num / den >= minor - 1/2.
  const __int128 need = (2 * static_cast<__int128>(minor) - 1) * den;
  return Narrow((need + 2 * num - 1) / (2 * num), minor);
}

}  // namespace mw
