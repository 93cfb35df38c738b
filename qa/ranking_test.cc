#include "qa/ranking.h"

#include <algorithm>
#include <iostream>
#include <random>

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

// Simulated noisy workers: 400 tasks ranking four options whose true order is a, b, c, d. Each
// worker gives the truth 3 times in 5; otherwise swaps two neighbours (which two at random).
TEST(RankingTest, OnNoisyWorkersTheBordaCountGetsTheOrderRightMoreOftenThanAnyOneOfThem) {
  std::mt19937 rng(20261203);
  const std::vector<std::string> truth = {"a", "b", "c", "d"};
  constexpr int kTasks = 400, kWorkers = 3;
  std::vector<int> right(kWorkers, 0);
  int voted_right = 0;
  for (int t = 0; t < kTasks; ++t) {
    std::vector<std::vector<std::string>> answers;
    for (int k = 0; k < kWorkers; ++k) {
      std::vector<std::string> order = truth;
      if (rng() % 5 >= 3) {
        const size_t at = rng() % (order.size() - 1);
        std::swap(order[at], order[at + 1]);
      }
      right[k] += order == truth;
      answers.push_back(order);
    }
    // Ties go to the order the options are listed in: listed backwards, a tie never helps.
    voted_right += BordaCount(answers, {"d", "c", "b", "a"}).order == truth;
  }
  const int best = *std::max_element(right.begin(), right.end());
  std::cout << "rankings: the Borda count of " << kWorkers << " gets " << voted_right << " of "
            << kTasks << " orders right; the best single worker " << best << "\n";
  EXPECT_GT(voted_right, best);
}

}  // namespace
}  // namespace mw::qa
