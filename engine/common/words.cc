#include "engine/common/words.h"

namespace mw {

namespace {

bool Space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool Continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

std::vector<Word> SplitWords(absl::string_view text) {
  std::vector<Word> words;
  uint32_t point = 0;  // code points before text[i]
  size_t i = 0;
  while (i < text.size()) {
    if (Space(text[i])) {
      ++i;
      ++point;
      continue;
    }
    Word w;
    w.start = point;
    const size_t from = i;
    while (i < text.size() && !Space(text[i])) {
      if (!Continuation(text[i])) ++point;
      ++i;
    }
    w.end = point;
    w.text = text.substr(from, i - from);
    words.push_back(w);
  }
  return words;
}

uint32_t CodePoints(absl::string_view text) {
  uint32_t n = 0;
  for (char c : text) n += Continuation(c) ? 0 : 1;
  return n;
}

}  // namespace mw
