#include "engine/dispatch/verdicts.h"

#include "gtest/gtest.h"

namespace mw::dispatch {
namespace {

namespace v1 = ::microwork::v1;

v1::AnswerSchema Numbers(bool integer) {
  v1::AnswerSchema s;
  s.mutable_number()->set_min(0);
  s.mutable_number()->set_max(1000);
  s.mutable_number()->set_integer(integer);
  return s;
}

v1::QaPolicy Method(v1::Aggregation m) {
  v1::QaPolicy qa;
  qa.set_method(m);
  return qa;
}

TEST(VerdictsTest, NumbersTakeTheMedianByDefault) {
  const Verdict v = DecideVerdict(v1::QaPolicy(), Numbers(false), {"3", "2", "40"}, {.5, .5, .5});
  EXPECT_EQ(v.label, "3");
  EXPECT_EQ(v.votes, 1);
  EXPECT_EQ(v.total, 3);
  EXPECT_DOUBLE_EQ(v.confidence, 1.0 / 3);
}

TEST(VerdictsTest, WholeNumbersStayWhole) {
  // The median of 2 and 3 on a whole-number stage is the lower middle answer, not 2.5.
  EXPECT_EQ(DecideVerdict(Method(v1::MEDIAN), Numbers(true), {"3", "2"}, {.5, .5}).label, "2");
  EXPECT_EQ(DecideVerdict(Method(v1::MEDIAN), Numbers(false), {"3", "2"}, {.5, .5}).label, "2.5");
  // A mean rounds half away from zero.
  EXPECT_EQ(DecideVerdict(Method(v1::MEAN), Numbers(true), {"2", "3"}, {.5, .5}).label, "3");
  EXPECT_EQ(DecideVerdict(Method(v1::MEAN), Numbers(false), {"1", "2", "4"}, {.5, .5, .5}).label,
            "2.333333333");
}

TEST(VerdictsTest, ChoicesAndTextAreVoted) {
  v1::AnswerSchema choice;
  for (const char* o : {"yes", "no"}) choice.mutable_single_choice()->add_options(o);
  const Verdict v = DecideVerdict(v1::QaPolicy(), choice, {"no", "yes", "no"}, {.5, .5, .5});
  EXPECT_EQ(v.label, "no");
  EXPECT_EQ(v.votes, 2);
  v1::AnswerSchema text;
  text.mutable_text();
  EXPECT_EQ(DecideVerdict(Method(v1::TEXT_AGREEMENT), text, {"nairobi", "nairobi", "mombasa"},
                          {.5, .5, .5})
                .label,
            "nairobi");
  // Skill-weighted: one sure worker outweighs two who guess.
  EXPECT_EQ(
      DecideVerdict(Method(v1::WEIGHTED_VOTE), choice, {"yes", "no", "no"}, {.99, .5, .5}).label,
      "yes");
}

}  // namespace
}  // namespace mw::dispatch
