// Money is an integer count of minor units (cents, paise...) beside an ISO 4217 code. Nothing
// here, or anywhere near an amount, uses floating point.
//
//   MW_ASSIGN_OR_RETURN(int64_t cost, MulMinor(rate_minor, tasks));
//   std::string shown = FormatMoney(cost, "USD");   // "12.34 USD"
#ifndef MW_ENGINE_COMMON_MONEY_H_
#define MW_ENGINE_COMMON_MONEY_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mw {

// True for three uppercase ASCII letters.
bool IsCurrencyCode(absl::string_view code);

// Digits after the decimal point for `currency` (ISO 4217 exponent); 2 when not in the table.
int MinorDigits(absl::string_view currency);

// "1234.05 USD", "1500 UGX"; negative amounts get a leading '-'.
std::string FormatMoney(int64_t minor, absl::string_view currency);

// OUT_OF_RANGE on int64 overflow.
[[nodiscard]] absl::StatusOr<int64_t> AddMinor(int64_t a, int64_t b);
[[nodiscard]] absl::StatusOr<int64_t> MulMinor(int64_t a, int64_t b);

// What a piece rate pays per hour of the estimated time, rounded down, so a comparison with a
// wage floor never flatters the contract. INVALID_ARGUMENT when `seconds` is 0.
[[nodiscard]] absl::StatusOr<int64_t> HourlyRateMinor(int64_t piece_rate_minor, uint32_t seconds);

}  // namespace mw

#endif  // MW_ENGINE_COMMON_MONEY_H_
