#include "qa/numeric.h"

#include "gtest/gtest.h"

namespace mw::qa {
namespace {

TEST(NumericTest, MedianResistsAnOutlier) {
  NumberEstimate m = Median({120.0, 121.0, 119.0, 9000.0});
  EXPECT_DOUBLE_EQ(m.value, 120.5);
  EXPECT_DOUBLE_EQ(m.confidence, 0.75);
  EXPECT_EQ(m.count, 4);
  EXPECT_DOUBLE_EQ(Median({3.0, 1.0, 2.0}).value, 2.0);
}

TEST(NumericTest, MeanAndTrimmedMean) {
  EXPECT_DOUBLE_EQ(Mean({1, 2, 3, 10}).value, 4.0);
  // 20% of 5 values: one dropped from each end.
  EXPECT_DOUBLE_EQ(TrimmedMean({1, 2, 3, 4, 100}, 0.2).value, 3.0);
  EXPECT_EQ(Median({}).count, 0);
}

}  // namespace
TEST(NumericTest, LowerMedianIsAlwaysOneOfTheAnswers) {
  EXPECT_EQ(LowerMedian({3, 2}).value, 2);
  EXPECT_EQ(LowerMedian({5, 1, 3}).value, 3);
  EXPECT_EQ(LowerMedian({4, 1, 3, 2}).value, 2);
  EXPECT_EQ(LowerMedian({}).count, 0);
}

}  // namespace mw::qa
