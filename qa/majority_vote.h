// Majority vote over one task's answers: the label most workers gave, with the share of answers
// that agreed as its confidence. Ties go to the label that sorts first (byte order), so the result
// depends only on the answers, never on their arrival order.
//
//   Vote v = MajorityVote({"positive", "negative", "positive"});
//   // v.label == "positive", v.votes == 2, v.confidence == 2.0 / 3
#ifndef MW_QA_MAJORITY_VOTE_H_
#define MW_QA_MAJORITY_VOTE_H_

#include <string>
#include <vector>

namespace mw::qa {

struct Vote {
  std::string label;
  int votes = 0;          // answers equal to `label`
  int total = 0;          // answers counted
  double confidence = 0;  // votes / total; 0 when there were no answers
};

// REQUIRES nothing: an empty input gives an empty label with confidence 0.
Vote MajorityVote(const std::vector<std::string>& labels);

// A vote where each answer counts by its worker's skill (probability of being right): the
// posterior of the one-coin model with a uniform prior over `num_options` labels, so
// `confidence` is a probability. `skills[i]` belongs to `labels[i]`; skills are clamped to
// [0.01, 0.99]. Ties go to the smallest label.
Vote SkillWeightedVote(const std::vector<std::string>& labels, const std::vector<double>& skills,
                       int num_options);

}  // namespace mw::qa

#endif  // MW_QA_MAJORITY_VOTE_H_
