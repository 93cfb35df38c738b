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
