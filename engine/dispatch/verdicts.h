// Verdicts: how a task's counted answers become one answer with a confidence, under its stage's
// QA policy. Each aggregation method the schema offers is one Aggregation here, so a method the
// contract can name and the dispatcher cannot run is refused when the job is built
// (AggregationFor), never found at the first verdict:
//   choices and text   MajorityVote (the default; also TEXT_AGREEMENT, since AnswerLabel folds
//                      case and spaces, it is the majority vote of text answers) and
//                      WeightedVote (by each worker's skill); text also TextMedoid (the answer
//                      closest to most others, qa/text.h);
//   numbers            Median (the default) and Mean;
//   comparisons        MajorityVote (the default) and WeightedVote, of "a" and "b";
//   spans              SpanVote, a vote per stretch of text (qa/spans.h), their only one;
//   shapes             ShapeVote, matched by overlap or distance (qa/shapes.h), their only one;
//   rankings           Borda, a Borda count (qa/ranking.h), their only one.
// On a whole-number stage the verdict stays whole: the median of an even count is the lower of
// the two middle answers, and a mean is rounded half away from zero.
//
//   MW_ASSIGN_OR_RETURN(auto aggregation, AggregationFor(stage.qa(), stage.answer()));
//   Verdict v = aggregation->Decide({"3", "2", "40"}, {.5, .5, .5});
//   // v.label == "3" (median), v.votes == 1, v.confidence == 1.0 / 3
#ifndef MW_ENGINE_DISPATCH_VERDICTS_H_
#define MW_ENGINE_DISPATCH_VERDICTS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "microwork/v1/contract.pb.h"

namespace mw::dispatch {

struct Verdict {
  std::string label;      // as AnswerLabel writes answers (a number as its digits)
  double confidence = 0;  // the share of answers that agree with it
  int votes = 0;          // answers that agree with it
  int total = 0;          // answers counted
};

class Aggregation {
 public:
  virtual ~Aggregation() = default;
  // The verdict of `labels` (AnswerLabel of each counted answer; `skills` the workers' skill
  // estimates, in the same order). REQUIRES: labels non-empty.
  virtual Verdict Decide(const std::vector<std::string>& labels,
                         const std::vector<double>& skills) const = 0;
  // Whether an answer `label` agrees with the verdict `verdict` (Decide's label), for the
  // worker's skill estimate: equal labels, or for the medoid of text answers, one within its
  // distance.
  virtual bool Agrees(const std::string& label, const std::string& verdict) const {
    return label == verdict;
  }
};

// The aggregation `qa` names for answers of `schema`. INVALID_ARGUMENT, naming the method, for a
// method the schema's answers cannot use or one without an implementation.
[[nodiscard]] absl::StatusOr<std::shared_ptr<const Aggregation>> AggregationFor(
    const microwork::v1::QaPolicy& qa, const microwork::v1::AnswerSchema& schema);

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_VERDICTS_H_
