#include "engine/common/words.h"

#include "gtest/gtest.h"

namespace mw {
namespace {

TEST(WordsTest, WordsArePlacedInCodePoints) {
  // "Dodoma" after a two-byte "é" and a three-byte "€": places count characters, not bytes.
  const std::vector<Word> w = SplitWords("  Café €5\tDodoma\n");
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].start, 2u);
  EXPECT_EQ(w[0].end, 6u);
  EXPECT_EQ(w[0].text, "Café");
  EXPECT_EQ(w[1].start, 7u);
  EXPECT_EQ(w[1].end, 9u);
  EXPECT_EQ(w[1].text, "€5");
  EXPECT_EQ(w[2].start, 10u);
  EXPECT_EQ(w[2].end, 16u);
  EXPECT_EQ(CodePoints("  Café €5\tDodoma\n"), 17u);
}

TEST(WordsTest, EmptyAndBlankTextsHaveNoWords) {
  EXPECT_TRUE(SplitWords("").empty());
  EXPECT_TRUE(SplitWords(" \t\n ").empty());
  EXPECT_EQ(CodePoints(""), 0u);
}

}  // namespace
}  // namespace mw
