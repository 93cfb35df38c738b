#include "qa/ranking.h"

#include "gtest/gtest.h"

namespace mw::qa {
namespace {

TEST(RankingTest, BordaCountOrdersByPoints) {
  RankVerdict v = BordaCount({{"b", "a", "c"}, {"b", "c", "a"}, {"a", "b", "c"}}, {"a", "b", "c"});
  // Points: b 2+2+1 = 5, a 1+0+2 = 3, c 0+1+0 = 1.
  EXPECT_EQ(v.order, (std::vector<std::string>{"b", "a", "c"}));
  EXPECT_EQ(v.votes, 1);
  EXPECT_EQ(v.total, 3);
  // Pairs in the verdict's order: 3 of 3, 2 of 3 (a/c swapped), 2 of 3 (a/b swapped).
  EXPECT_DOUBLE_EQ(v.confidence, 7.0 / 9);
}

TEST(RankingTest, TiesGoToTheOrderOfTheOptions) {
  RankVerdict v = BordaCount({{"x", "y"}, {"y", "x"}}, {"y", "x"});
  EXPECT_EQ(v.order, (std::vector<std::string>{"y", "x"}));
  EXPECT_DOUBLE_EQ(v.confidence, 0.5);
}

}  // namespace
}  // namespace mw::qa
