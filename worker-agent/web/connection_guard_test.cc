#include "worker-agent/web/connection_guard.h"

#include "gtest/gtest.h"

namespace mw::agent::web {
namespace {

TEST(ReadBudgetTest, ARequestEarnsTimeOnlyWithTheBytesThatCome) {
  const ReadBudget budget({.first_ms = 20'000, .min_bytes_per_second = 500, .max_ms = 300'000});
  EXPECT_EQ(budget.AllowedMs(0), 20'000);
  EXPECT_EQ(budget.AllowedMs(499), 20'000);  // a header line every few seconds earns nothing
  EXPECT_EQ(budget.AllowedMs(500), 21'000);
  EXPECT_EQ(budget.AllowedMs(50'000), 120'000);   // a long answer on a slow phone goes on
  EXPECT_EQ(budget.AllowedMs(262'144), 300'000);  // never more than max_ms in all
  EXPECT_EQ(budget.AllowedMs(UINT64_MAX), 300'000);
}

TEST(ConnectionCounterTest, EachAddressHoldsItsShareAndGivesItBack) {
  ConnectionCounter counter(2);
  EXPECT_TRUE(counter.Acquire("10.0.0.7"));
  EXPECT_TRUE(counter.Acquire("10.0.0.7"));
  EXPECT_FALSE(counter.Acquire("10.0.0.7"));  // took nothing
  EXPECT_TRUE(counter.Acquire("10.0.0.8"));
  EXPECT_EQ(counter.Held(), 3u);
  counter.Release("10.0.0.7");
  EXPECT_EQ(counter.Held(), 2u);
  EXPECT_TRUE(counter.Acquire("10.0.0.7"));
  counter.Release("10.0.0.9");  // never held: nothing changes
  EXPECT_EQ(counter.Held(), 3u);
}

}  // namespace
}  // namespace mw::agent::web
