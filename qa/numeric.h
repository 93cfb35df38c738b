// Aggregation of numeric answers for one task. Confidence is the share of answers within
// `tolerance` (relative to the estimate's magnitude, at least `tolerance` absolute) of the
// estimate: how many workers the result agrees with.
#ifndef MW_QA_NUMERIC_H_
#define MW_QA_NUMERIC_H_

#include <vector>

namespace mw::qa {

struct NumberEstimate {
  double value = 0;
  double confidence = 0;
  int count = 0;
};

// The middle value (the mean of the two middle values for an even count).
NumberEstimate Median(std::vector<double> values, double tolerance = 0.05);
// The lower of the two middle values for an even count (the middle one for an odd count): always
// one of the answers, so a whole-number question gets a whole-number answer.
NumberEstimate LowerMedian(std::vector<double> values, double tolerance = 0.05);
NumberEstimate Mean(const std::vector<double>& values, double tolerance = 0.05);
// The mean after dropping floor(trim * n) values from each end.
NumberEstimate TrimmedMean(std::vector<double> values, double trim = 0.2, double tolerance = 0.05);

}  // namespace mw::qa

#endif  // MW_QA_NUMERIC_H_
