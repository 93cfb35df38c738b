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

TEST(MoneyTest, CurrencyCodes) {
  EXPECT_TRUE(IsCurrencyCode("USD"));
  EXPECT_FALSE(IsCurrencyCode("usd"));
  EXPECT_FALSE(IsCurrencyCode("US"));
  EXPECT_FALSE(IsCurrencyCode("USDT"));
}

}  // namespace
}  // namespace mw
