#include "qa/majority_vote.h"

#include <algorithm>
#include <cmath>
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

Vote SkillWeightedVote(const std::vector<std::string>& labels, const std::vector<double>& skills,
                       int num_options) {
  Vote v;
  v.total = static_cast<int>(labels.size());
  if (labels.empty()) return v;
  std::map<std::string, int> counts;
  for (const auto& l : labels) ++counts[l];
  const int k = std::max<int>(num_options, static_cast<int>(counts.size()) + 1);
  // Log-likelihood of each candidate label, up to a shared constant: an answer equal to the
  // candidate contributes log(s), another answer log((1 - s) / (k - 1)).
  std::map<std::string, double> loglik;
  double rest = 0;  // any label nobody gave
  for (size_t i = 0; i < labels.size(); ++i) {
    const double s = std::clamp(skills[i], 0.01, 0.99);
    const double right = std::log(s), wrong = std::log((1 - s) / (k - 1));
    rest += wrong;
    for (const auto& [label, n] : counts) loglik[label] += labels[i] == label ? right : wrong;
  }
  double top = rest;
  for (const auto& [label, ll] : loglik) top = std::max(top, ll);
  const int unseen = k - static_cast<int>(counts.size());
  double sum = unseen * std::exp(rest - top);
  for (const auto& [label, ll] : loglik) sum += std::exp(ll - top);
  double best = -1;
  for (const auto& [label, ll] : loglik) {
    const double p = std::exp(ll - top) / sum;
    if (p > best + 1e-12) {
      best = p;
      v.label = label;
      v.votes = counts[label];
    }
  }
  v.confidence = best;
  return v;
}

}  // namespace mw::qa
