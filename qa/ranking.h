// Rankings of a few options by several workers: how they become one order.
//
// BordaCount: each answer gives an option n-1 points for first place down to 0 for last; the
// order is by total points (ties in the order of `options`). Confidence is the share of pairs
// of options each answer puts in the verdict's order, averaged over the answers.
//
//   BordaCount({{"b", "a", "c"}, {"b", "c", "a"}, {"a", "b", "c"}}, {"a", "b", "c"})
//   // order {"b", "a", "c"}, votes 1, confidence (3 + 2 + 2) / 9
#ifndef MW_QA_RANKING_H_
#define MW_QA_RANKING_H_

#include <string>
#include <vector>

namespace mw::qa {

struct RankVerdict {
  std::vector<std::string> order;  // best first
  double confidence = 0;
  int votes = 0;  // answers equal to `order`
  int total = 0;
};

// REQUIRES: each answer is a permutation of `options`.
RankVerdict BordaCount(const std::vector<std::vector<std::string>>& answers,
                       const std::vector<std::string>& options);

}  // namespace mw::qa

#endif  // MW_QA_RANKING_H_
