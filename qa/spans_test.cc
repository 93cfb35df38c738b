#include "qa/spans.h"

#include <algorithm>
#include <iostream>
#include <random>

#include "gtest/gtest.h"

namespace mw::qa {
namespace {

std::vector<LabelledSpan> S(const char* text) { return ParseSpans(text).value(); }

TEST(SpansTest, TheTextFormRoundTrips) {
  const std::vector<LabelledSpan> spans = {{0, 4, "PER"}, {14, 21, "LOC place"}};
  EXPECT_EQ(FormatSpans(spans), "0-4:PER;14-21:LOC place");
  EXPECT_EQ(S("0-4:PER;14-21:LOC place"), spans);
  EXPECT_EQ(FormatSpans({}), "");
  EXPECT_TRUE(S("").empty());
}

TEST(SpansTest, MalformedOverlappingOrEmptySpansDoNotParse) {
  for (const char* bad : {"0-4", "4:PER", "a-4:PER", "4-4:PER", "5-2:PER", "0-5:A;3-8:B",
                          "6-9:A;0-2:B", "0-4:PER;", "-1-4:X"}) {
    EXPECT_FALSE(ParseSpans(bad).has_value()) << bad;
  }
}

TEST(SpansTest, ASpanMostWorkersMarkedIsKept) {
  // "Juma anaishi Nairobi": all three mark Juma; one also marks Nairobi.
  SpanVerdict v = VoteSpans({S("0-4:PER"), S("0-4:PER;13-20:LOC"), S("0-4:PER")});
  EXPECT_EQ(FormatSpans(v.spans), "0-4:PER");
  EXPECT_EQ(v.votes, 2);
  EXPECT_EQ(v.total, 3);
  EXPECT_DOUBLE_EQ(v.confidence, (4 * 1.0 + 7 * (2.0 / 3)) / 11);
}

TEST(SpansTest, BoundariesAndLabelsAreVotedStretchByStretch) {
  // Two say "New York" [0,8) is one LOC; one says York [4,8) alone; the label of "City" [9,13)
  // is split ORG/LOC/none: nobody has more than "none", so it is left out.
  SpanVerdict v = VoteSpans({S("0-8:LOC;9-13:ORG"), S("0-8:LOC;9-13:LOC"), S("4-8:LOC")});
  EXPECT_EQ(FormatSpans(v.spans), "0-8:LOC");
  EXPECT_EQ(v.votes, 0);
  // [0,4): 2/3, [4,8): 3/3, [9,13): 1/3 (none, ORG and LOC one each; none wins the tie).
  EXPECT_DOUBLE_EQ(v.confidence, (4 * (2.0 / 3) + 4 * 1.0 + 4 * (1.0 / 3)) / 12);
}

TEST(SpansTest, AdjacentSpansStaySeparateWhenMostBeginASecondOne) {
  SpanVerdict v = VoteSpans({S("0-4:PER;5-10:PER"), S("0-10:PER"), S("0-4:PER;5-10:PER")});
  EXPECT_EQ(FormatSpans(v.spans), "0-4:PER;5-10:PER");
  SpanVerdict joined = VoteSpans({S("0-10:PER"), S("0-10:PER"), S("0-4:PER;5-10:PER")});
  // [4,5) is inside two of three answers: it stays, and the span runs on through it.
  EXPECT_EQ(FormatSpans(joined.spans), "0-10:PER");
  EXPECT_EQ(joined.votes, 2);
}

TEST(SpansTest, AVotedSpanNeverStartsOrEndsBetweenWords) {
  // "aa bb": words [0,2) and [3,5); every answer is on words, and so is the verdict.
  auto vote = [](std::vector<const char*> answers) {
    std::vector<std::vector<LabelledSpan>> parsed;
    for (const char* a : answers) parsed.push_back(S(a));
    return FormatSpans(VoteSpans(parsed).spans);
  };
  // The stretch [2,5) (the space and "bb") wins for A, but no answer starts a span at 2 or
  // later: A is left with nothing.
  EXPECT_EQ(vote({"0-5:A", "0-5:A", "0-5:A", "0-2:B", "0-2:B", "0-5:B", "0-5:B"}), "0-2:B");
  // A wins [0,3), the word "aa" and the space after it; but no answer ends a span at 2, so it
  // cannot be narrowed to "aa" alone and is left out.
  EXPECT_EQ(vote({"0-5:A", "0-5:A", "0-5:A", "3-5:B", "3-5:B", "0-5:B", "0-5:B"}), "3-5:B");
  // B wins only the space [2,3): nothing of it is a word.
  EXPECT_EQ(vote({"0-5:B", "0-5:B", "0-5:B", "0-5:A", "0-5:A", "0-2:A", "3-5:A"}), "0-2:A;3-5:A");
}

TEST(SpansTest, NoSpansAnywhereIsACertainEmptyAnswer) {
  SpanVerdict v = VoteSpans({S(""), S("")});
  EXPECT_TRUE(v.spans.empty());
  EXPECT_EQ(v.votes, 2);
  EXPECT_DOUBLE_EQ(v.confidence, 1.0);
  EXPECT_EQ(VoteSpans({}).total, 0);
}

// Simulated noisy workers: sentences of 12 one-letter words (word k at [2k, 2k+1)) with two to
// three true spans of one or two words. Each worker gets each span right 4 times in 5; otherwise
// leaves it out, gives it another label, or runs it on to the next word, and marks a stray word
// one time in ten. A word's tag (its label, or none) is right when it is the truth's.
TEST(SpansTest, OnNoisyWorkersTheVoteTagsMoreWordsRightThanAnyOneOfThem) {
  std::mt19937 rng(20261203);
  auto chance = [&](int in) { return static_cast<int>(rng() % static_cast<uint32_t>(in)); };
  const std::vector<std::string> labels = {"PER", "LOC", "ORG"};
  constexpr int kWords = 12, kSentences = 400, kWorkers = 3;
  auto tags = [&](const std::vector<LabelledSpan>& spans) {
    std::vector<std::string> t(kWords);
    for (const auto& s : spans) {
      for (uint32_t w = s.start / 2; w * 2 < s.end; ++w) t[w] = s.label;
    }
    return t;
  };
  std::vector<int> right(kWorkers, 0);
  int voted_right = 0, exact = 0;
  for (int n = 0; n < kSentences; ++n) {
    std::vector<LabelledSpan> truth;
    for (int w = chance(3); w < kWords - 2; w += 3 + chance(3)) {
      const uint32_t len = 1 + chance(2);
      truth.push_back({2u * w, 2u * (w + len) - 1, labels[chance(3)]});
    }
    std::vector<std::vector<LabelledSpan>> answers;
    for (int k = 0; k < kWorkers; ++k) {
      std::vector<LabelledSpan> a;
      for (size_t i = 0; i < truth.size(); ++i) {
        LabelledSpan s = truth[i];
        if (chance(5) == 0) {
          const int slip = chance(3);
          if (slip == 0) continue;
          if (slip == 1)
            s.label = labels[(chance(2) + 1 + (s.label == "LOC") + 2 * (s.label == "ORG")) % 3];
          if (slip == 2 && s.end + 2 < 2u * kWords &&
              (i + 1 == truth.size() || s.end + 2 < truth[i + 1].start)) {
            s.end += 2;
          }
        }
        a.push_back(s);
      }
      if (chance(10) == 0) {
        const uint32_t w = chance(kWords);
        bool free = true;
        for (const auto& s : a) free &= s.end <= 2 * w || s.start > 2 * w;
        if (free) {
          a.push_back({2 * w, 2 * w + 1, labels[chance(3)]});
          std::sort(a.begin(), a.end(), [](auto& x, auto& y) { return x.start < y.start; });
        }
      }
      answers.push_back(a);
    }
    const std::vector<std::string> want = tags(truth);
    for (int k = 0; k < kWorkers; ++k) {
      const std::vector<std::string> got = tags(answers[k]);
      for (int w = 0; w < kWords; ++w) right[k] += got[w] == want[w];
    }
    const SpanVerdict v = VoteSpans(answers);
    for (const LabelledSpan& s : v.spans) {
      EXPECT_TRUE(s.start % 2 == 0 && s.end % 2 == 1) << FormatSpans(v.spans);  // on words
    }
    const std::vector<std::string> got = tags(v.spans);
    for (int w = 0; w < kWords; ++w) voted_right += got[w] == want[w];
    exact += v.spans == truth;
  }
  const double total = kWords * kSentences;
  const int best = *std::max_element(right.begin(), right.end());
  std::cout << "spans: the vote of " << kWorkers << " tags " << voted_right / total
            << " of words right (" << exact << " of " << kSentences
            << " sentences exactly); the best single worker " << best / total << "\n";
  EXPECT_GT(voted_right, best);
}

}  // namespace
}  // namespace mw::qa
