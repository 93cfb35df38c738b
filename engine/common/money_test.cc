#include "engine/common/money.h"

#include <cstdint>
#include <limits>

#include "gtest/gtest.h"

namespace mw {
namespace {

TEST(MoneyTest, FormatsByCurrencyExponent) {
  EXPECT_EQ(FormatMoney(123405, "USD"), "1234.05 USD");
  EXPECT_EQ(FormatMoney(5, "KES"), "0.05 KES");
  EXPECT_EQ(FormatMoney(1500, "UGX"), "1500 UGX");
  EXPECT_EQ(FormatMoney(1234, "KWD"), "1.234 KWD");
  EXPECT_EQ(FormatMoney(-250, "USD"), "-2.50 USD");
  EXPECT_EQ(FormatMoney(std::numeric_limits<int64_t>::min(), "USD"), "-92233720368547758.08 USD");
}

TEST(MoneyTest, OverflowIsAnErrorNotAWrap) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(AddMinor(max, 1).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(MulMinor(max / 2 + 1, 2).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(*AddMinor(40, 2), 42);
  EXPECT_EQ(*MulMinor(-7, 6), -42);
}

TEST(MoneyTest, HourlyRateRoundsDown) {
  // 5 cents per 30 s is exactly 6.00 per hour; 7 cents per 40 s is 6.30 per hour.
  EXPECT_EQ(*HourlyRateMinor(5, 30), 600);
  EXPECT_EQ(*HourlyRateMinor(7, 40), 630);
  // 1 cent per 7 s is 514.28... per hour: rounded down, never up.
  EXPECT_EQ(*HourlyRateMinor(1, 7), 514);
  EXPECT_EQ(HourlyRateMinor(5, 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MoneyTest, EarnedPerHourRoundsDownAndTimeAtAFloorRoundsUp) {
  EXPECT_EQ(EarnedPerHour(100, 1800), 200);
  EXPECT_EQ(EarnedPerHour(1, 7), 514);  // 514.28...
  EXPECT_EQ(EarnedPerHour(250, 0), 0);  // no time measured
  EXPECT_EQ(EarnedPerHour(INT64_MAX, 1), INT64_MAX);
  EXPECT_EQ(PayForTime(1800, 600), 300);
  EXPECT_EQ(PayForTime(1, 600), 1);  // a sixth of a minor unit owed is a whole one
  EXPECT_EQ(PayForTime(0, 600), 0);
  EXPECT_EQ(PayForTime(UINT64_MAX, INT64_MAX), INT64_MAX);
}

TEST(MoneyTest, ConvertsAtTheAgreedRateHalfUp) {
  auto kes = ParseFxRate("USD", "KES", "129.50", "agreed 2026-11-01 by Amina");
  ASSERT_TRUE(kes.ok()) << kes.status();
  EXPECT_EQ(kes->text, "1 USD = 129.50 KES (agreed 2026-11-01 by Amina)");
  EXPECT_EQ(kes->numerator, 12950);
  EXPECT_EQ(kes->denominator, 100);
  // 5 cents is 6.475 KES: 648 cents, half up. 1.00 USD is exactly 129.50 KES.
  EXPECT_EQ(*ConvertMinor(5, *kes), 648);
  EXPECT_EQ(*ConvertMinor(100, *kes), 12950);
  EXPECT_EQ(*ConvertMinor(-5, *kes), -648);
  EXPECT_EQ(*ConvertMinorDown(5, *kes), 647);
  EXPECT_EQ(*ConvertMinorDown(100, *kes), 12950);
  // Into a currency without minor units: 1 cent at 3,700 UGX per USD is exactly 37 UGX.
  auto ugx = ParseFxRate("USD", "UGX", "3700", "");
  EXPECT_EQ(*ConvertMinor(1, *ugx), 37);
  EXPECT_EQ(ugx->text, "1 USD = 3700 UGX");
  // What 600 KES cents cost in USD cents: the fewest that convert to at least that.
  const int64_t cost = *CostInSourceMinor(600, *kes);
  EXPECT_EQ(cost, 5);  // 5 cents give 648; 4 give 518
  EXPECT_GE(*ConvertMinor(cost, *kes), 600);
  EXPECT_LT(*ConvertMinor(cost - 1, *kes), 600);
  for (int64_t owed : {1, 2, 129, 130, 12949, 12950, 12951}) {
    const int64_t c = *CostInSourceMinor(owed, *kes);
    EXPECT_GE(*ConvertMinor(c, *kes), owed) << owed;
    EXPECT_LT(*ConvertMinor(c - 1, *kes), owed) << owed;
  }
  EXPECT_EQ(ConvertMinor(std::numeric_limits<int64_t>::max(), *kes).status().code(),
            absl::StatusCode::kOutOfRange);
}

TEST(MoneyTest, PerMilleRoundsHalfUp) {
  EXPECT_EQ(PerMilleOf(5, 100), 1);  // 0.5 -> 1
  EXPECT_EQ(PerMilleOf(4, 100), 0);  // 0.4 -> 0
  EXPECT_EQ(PerMilleOf(1000, 150), 150);
  EXPECT_EQ(PerMilleOf(7, 0), 0);
}

TEST(MoneyTest, MalformedRatesAreRefusedWithWhatWasExpected) {
  for (const char* bad :
       {"", "0", "0.00", "-1", "1,5", "1.", ".5", "1.1234567890", "1e3", "1234567890123"}) {
    auto r = ParseFxRate("USD", "KES", bad, "");
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ParseFxRate("USD", "USD", "1", "").status().message(),
            "a rate converts between two ISO 4217 codes, got USD and USD");
}

TEST(MoneyTest, CurrencyCodes) {
  EXPECT_TRUE(IsCurrencyCode("USD"));
  EXPECT_FALSE(IsCurrencyCode("usd"));
  EXPECT_FALSE(IsCurrencyCode("US"));
  EXPECT_FALSE(IsCurrencyCode("USDT"));
}

}  // namespace
}  // namespace mw
