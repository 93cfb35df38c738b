#include "engine/dispatch/answers.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace mw::dispatch {
namespace {

using microwork::v1::Answer;
using microwork::v1::AnswerSchema;

TEST(AnswersTest, SingleChoiceMustBeAnOption) {
  AnswerSchema s;
  s.mutable_single_choice()->add_options("yes");
  s.mutable_single_choice()->add_options("no");
  Answer a;
  a.set_choice("no");
  EXPECT_TRUE(CheckAnswer(s, a).ok());
  a.set_choice("perhaps");
  EXPECT_EQ(CheckAnswer(s, a).message(), "choice \"perhaps\" is not one of the options (yes, no)");
  // A value from outside is quoted short: an error never carries a megabyte back.
  a.set_choice(std::string(1 << 20, 'x'));
  EXPECT_EQ(CheckAnswer(s, a).message(),
            absl::StrCat("choice \"", std::string(60, 'x'),
                         "...\" (1048576 bytes) is not one of the options (yes, no)"));
  a.set_text("no");
  EXPECT_EQ(CheckAnswer(s, a).message(), "expected a single choice");
  a.set_skipped(true);
  EXPECT_TRUE(CheckAnswer(s, a).ok());
}

TEST(AnswersTest, TextLengthInCodePoints) {
  AnswerSchema s;
  s.mutable_text()->set_min_length(2);
  s.mutable_text()->set_max_length(3);
  Answer a;
  a.set_text("\xc3\xb1\xc3\xb1\xc3\xb1");  // three code points, six bytes
  EXPECT_TRUE(CheckAnswer(s, a).ok());
  a.set_text("abcd");
  EXPECT_EQ(CheckAnswer(s, a).message(), "expected 2 to 3 characters, got 4");
}

TEST(AnswersTest, NumbersAreRangeChecked) {
  AnswerSchema s;
  s.mutable_number()->set_min(0);
  s.mutable_number()->set_max(100);
  s.mutable_number()->set_integer(true);
  Answer a;
  a.set_number("42");
  EXPECT_TRUE(CheckAnswer(s, a).ok());
  a.set_number("4.5");
  EXPECT_EQ(CheckAnswer(s, a).message(), "expected a whole number, got 4.5");
  a.set_number("101");
  EXPECT_EQ(CheckAnswer(s, a).message(), "101 is outside 0 to 100");
  a.set_number("x");
  EXPECT_EQ(CheckAnswer(s, a).message(), "\"x\" is not a number; expected digits such as 12.5");
  // Not-a-number and infinity parse as doubles and compare false with every bound: refused
  // before the range check, whatever the range.
  s.mutable_number()->set_integer(false);
  for (const char* bad : {"-nan", "nan", "NaN", "inf", "-infinity"}) {
    a.set_number(bad);
    EXPECT_EQ(CheckAnswer(s, a).message(),
              absl::StrCat("\"", bad, "\" is not a number; expected digits such as 12.5"))
        << bad;
  }
}

TEST(AnswersTest, LabelsNormaliseTextAndSortChoices) {
  Answer a;
  a.set_text("  Hello   World ");
  EXPECT_EQ(AnswerLabel(a), "hello world");
  a.mutable_choices()->add_options("b");
  a.mutable_choices()->add_options("a");
  EXPECT_EQ(AnswerLabel(a), "a|b");
  AnswerSchema s;
  s.mutable_multi_choice();
  EXPECT_EQ(LabelToAnswer(s, "a|b").choices().options_size(), 2);
}

}  // namespace
}  // namespace mw::dispatch
