// The words of a text as a worker taps them: runs of characters between white space (ASCII
// space, tab and line breaks), placed in Unicode code points. Labelled spans start and end on
// them (SpanLabels), the worker's page draws them as buttons, and the CoNLL export writes them
// as its tokens, so the three always agree on where a word is.
//
//   SplitWords("Juma  anaishi Nairobi")
//   // {0, 4, "Juma"}, {6, 13, "anaishi"}, {14, 21, "Nairobi"}
#ifndef MW_ENGINE_COMMON_WORDS_H_
#define MW_ENGINE_COMMON_WORDS_H_

#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"

namespace mw {

struct Word {
  uint32_t start = 0;      // code point where the word starts
  uint32_t end = 0;        // one past its last code point
  absl::string_view text;  // its bytes, a view into the text split
};

// The words of `text` in order. A code point is counted at every byte that is not a UTF-8
// continuation byte (10xxxxxx), so text that is not UTF-8 still splits.
std::vector<Word> SplitWords(absl::string_view text);

// How many code points `text` has, counted the same way.
uint32_t CodePoints(absl::string_view text);

}  // namespace mw

#endif  // MW_ENGINE_COMMON_WORDS_H_
