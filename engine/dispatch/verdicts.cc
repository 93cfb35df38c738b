#include "engine/dispatch/verdicts.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "qa/majority_vote.h"
#include "qa/numeric.h"

namespace mw::dispatch {

namespace v1 = ::microwork::v1;

Verdict DecideVerdict(const v1::QaPolicy& qa, const v1::AnswerSchema& schema,
                      const std::vector<std::string>& labels, const std::vector<double>& skills) {
  if (schema.has_number()) {
    std::vector<double> values;
    values.reserve(labels.size());
    for (const std::string& label : labels) {
      double v = 0;
      if (absl::SimpleAtod(label, &v)) values.push_back(v);  // checked on arrival (CheckAnswer)
    }
    const bool whole = schema.number().integer();
    qa::NumberEstimate e;
    if (qa.method() == v1::MEAN) {
      e = qa::Mean(values);
      if (whole) e.value = std::round(e.value);  // half away from zero
    } else {
      e = whole ? qa::LowerMedian(values) : qa::Median(values);
    }
    return {.label = whole ? absl::StrCat(static_cast<int64_t>(e.value))
                           : absl::StrFormat("%.10g", e.value),
            .confidence = e.confidence,
            .votes = static_cast<int>(std::lround(e.confidence * e.count)),
            .total = e.count};
  }
  const int options = schema.has_single_choice() ? schema.single_choice().options_size() : 2;
  const qa::Vote vote = qa.method() == v1::WEIGHTED_VOTE
                            ? qa::SkillWeightedVote(labels, skills, options)
                            : qa::MajorityVote(labels);
  return {
      .label = vote.label, .confidence = vote.confidence, .votes = vote.votes, .total = vote.total};
}

}  // namespace mw::dispatch
