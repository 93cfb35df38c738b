#include "qa/text.h"

#include "gtest/gtest.h"

namespace mw::qa {
namespace {

TEST(TextTest, Normalisation) {
  EXPECT_EQ(NormalizeText("  Total   AMOUNT: 1,200. "), "total amount: 1,200");
  EXPECT_EQ(NormalizeText("Nairobi!"), "nairobi");
}

TEST(TextTest, EditDistanceCountsCodePoints) {
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
  EXPECT_EQ(EditDistance("caf\xc3\xa9", "cafe"), 1);  // é is one code point
  EXPECT_EQ(EditDistance("", "abc"), 3);
}

TEST(TextTest, NormalisedExactAgreement) {
  TextEstimate e = TextAgreement({"Mombasa Road", "mombasa  road.", "Mombasa Rd"});
  EXPECT_EQ(e.text, "Mombasa Road");
  EXPECT_EQ(e.support, 2);
  EXPECT_DOUBLE_EQ(e.confidence, 2.0 / 3);
}

TEST(TextTest, EditDistanceClusterGroupsTypos) {
  TextEstimate e = EditDistanceCluster(
      {"Kenyatta Avenue", "Kenyata Avenue", "Kenyatta Avenu", "Moi Avenue"}, 0.2);
  EXPECT_EQ(e.text, "Kenyatta Avenue");
  EXPECT_EQ(e.support, 3);
  EXPECT_DOUBLE_EQ(e.confidence, 0.75);
}

}  // namespace
}  // namespace mw::qa
