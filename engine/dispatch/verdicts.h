// Verdicts: how a task's counted answers become one answer with a confidence, under its stage's
// QA policy. One home for the online aggregation rule, so every method the schema offers is one
// the dispatcher runs:
//   choices and text   MAJORITY_VOTE (the default), WEIGHTED_VOTE (by each worker's skill), or
//                      TEXT_AGREEMENT (a vote on the normalised text: AnswerLabel folds case and
//                      spaces, so it is the majority vote of text answers);
//   numbers            MEDIAN (the default) or MEAN.
// On a whole-number stage the verdict stays whole: the median of an even count is the lower of
// the two middle answers, and a mean is rounded half away from zero.
//
//   Verdict v = DecideVerdict(stage.qa(), stage.answer(), {"3", "2", "40"}, {.5, .5, .5});
//   // v.label == "3" (MEDIAN), v.votes == 1, v.confidence == 1.0 / 3
#ifndef MW_ENGINE_DISPATCH_VERDICTS_H_
#define MW_ENGINE_DISPATCH_VERDICTS_H_

#include <string>
#include <vector>

#include "microwork/v1/contract.pb.h"

namespace mw::dispatch {

struct Verdict {
  std::string label;      // as AnswerLabel writes answers (a number as its digits)
  double confidence = 0;  // the share of answers that agree with it
  int votes = 0;          // answers that agree with it
  int total = 0;          // answers counted
};

// The verdict of `labels` (AnswerLabel of each counted answer; `skills` the workers' skill
// estimates, in the same order) under `qa` for answers of `schema`. REQUIRES: labels non-empty,
// and `qa`'s method one ValidateContract accepts for `schema`.
Verdict DecideVerdict(const microwork::v1::QaPolicy& qa, const microwork::v1::AnswerSchema& schema,
                      const std::vector<std::string>& labels, const std::vector<double>& skills);

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_VERDICTS_H_
