#include "qa/majority_vote.h"

#include <map>

namespace mw::qa {

Vote MajorityVote(const std::vector<std::string>& labels) {
  Vote v;
  v.total = static_cast<int>(labels.size());
  if (labels.empty()) return v;
  std::map<std::string, int> counts;  // ordered: the first maximum is the smallest label
  for (const auto& l : labels) ++counts[l];
  for (const auto& [label, n] : counts) {
    if (n > v.votes) {
      v.label = label;
      v.votes = n;
    }
  }
  v.confidence = static_cast<double>(v.votes) / v.total;
  return v;
}

}  // namespace mw::qa
