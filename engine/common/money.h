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

// Hourly pay has one home, here: the piece rate's (above), what was earned, and what time at a
// floor is owed.
// What `earned_minor` over `seconds` of measured time comes to per hour, rounded down; 0 when
// no time was measured. Saturates instead of overflowing.
int64_t EarnedPerHour(int64_t earned_minor, uint64_t seconds);
// What `seconds` of work at `per_hour` comes to, rounded up (a wage floor is a minimum).
// Saturates instead of overflowing.
int64_t PayForTime(uint64_t seconds, int64_t per_hour);

// `per_mille` thousandths of `minor`, rounded half up (fees and shares on a wage).
// REQUIRES: the result fits in int64 (piece rates are small).
int64_t PerMilleOf(int64_t minor, uint32_t per_mille);

// An exchange rate fixed when it was agreed: `to` units per unit of `from`, as the exact
// fraction numerator / denominator of its decimal text.
struct FxRate {
  std::string from, to;
  int64_t numerator = 0, denominator = 1;
  std::string text;  // what each converted transfer records: "1 USD = 129.50 KES (...)"
};

// Parses a positive decimal rate ("129.50", at most 9 decimals and 12 integer digits) for
// converting `from` into `to`; `agreed` is appended to the recorded text. INVALID_ARGUMENT
// naming what was wrong.
[[nodiscard]] absl::StatusOr<FxRate> ParseFxRate(absl::string_view from, absl::string_view to,
                                                 absl::string_view rate, absl::string_view agreed);

// `minor` units of rate.from in minor units of rate.to, rounded half up. OUT_OF_RANGE on overflow.
[[nodiscard]] absl::StatusOr<int64_t> ConvertMinor(int64_t minor, const FxRate& rate);
// The same, rounded down: for comparing a rate with a floor, which must never be flattered.
[[nodiscard]] absl::StatusOr<int64_t> ConvertMinorDown(int64_t minor, const FxRate& rate);
// The fewest minor units of rate.from that convert to at least `minor` units of rate.to: what
// an amount owed in the centre's currency costs in the contract's.
[[nodiscard]] absl::StatusOr<int64_t> CostInSourceMinor(int64_t minor, const FxRate& rate);

}  // namespace mw

#endif  // MW_ENGINE_COMMON_MONEY_H_
