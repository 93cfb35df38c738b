#include "qa/majority_vote.h"

#include "gtest/gtest.h"

namespace mw::qa {
namespace {

TEST(MajorityVoteTest, MostCommonLabelWins) {
  Vote v = MajorityVote({"positive", "negative", "positive"});
  EXPECT_EQ(v.label, "positive");
  EXPECT_EQ(v.votes, 2);
  EXPECT_EQ(v.total, 3);
  EXPECT_DOUBLE_EQ(v.confidence, 2.0 / 3);
}

TEST(MajorityVoteTest, TieGoesToTheSmallestLabelWhateverTheOrder) {
  EXPECT_EQ(MajorityVote({"neutral", "negative"}).label, "negative");
  EXPECT_EQ(MajorityVote({"negative", "neutral"}).label, "negative");
  EXPECT_DOUBLE_EQ(MajorityVote({"b", "a", "c"}).confidence, 1.0 / 3);
}

TEST(MajorityVoteTest, EmptyInput) {
  Vote v = MajorityVote({});
  EXPECT_EQ(v.label, "");
  EXPECT_EQ(v.total, 0);
  EXPECT_EQ(v.confidence, 0);
}

}  // namespace
}  // namespace mw::qa

namespace mw::qa {
namespace {

TEST(SkillWeightedVoteTest, TwoSkilledWorkersOutweighThreeGuessers) {
  Vote v = SkillWeightedVote({"a", "a", "b", "b", "b"}, {0.95, 0.95, 0.4, 0.4, 0.4}, 3);
  EXPECT_EQ(v.label, "a");
  EXPECT_EQ(v.votes, 2);
  EXPECT_GT(v.confidence, 0.9);
  EXPECT_LT(v.confidence, 1.0);
}

TEST(SkillWeightedVoteTest, AgreementRaisesConfidenceAndItIsAProbability) {
  const double one = SkillWeightedVote({"x"}, {0.8}, 2).confidence;
  const double two = SkillWeightedVote({"x", "x"}, {0.8, 0.8}, 2).confidence;
  EXPECT_DOUBLE_EQ(one, 0.8);  // one worker right 80% of the time, two labels
  EXPECT_NEAR(two, 0.64 / (0.64 + 0.04), 1e-12);
  EXPECT_EQ(SkillWeightedVote({}, {}, 2).total, 0);
}

}  // namespace
}  // namespace mw::qa
