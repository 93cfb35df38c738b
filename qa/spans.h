// Labelled spans of a text, and how several workers' spans become one answer: a vote per
// stretch of text. Every start and end any worker marked cuts the text into stretches; on each,
// the label most workers gave wins (no label when as many or more gave none), and among those
// who gave it, most say whether a new span begins there. Consecutive stretches with the same
// label join unless a new span begins. A span is then narrowed to start where some answer
// started one and end where some answer ended one, so it runs over whole words when the answers
// do (a stretch in the space between words never makes a span). Confidence is the winning share
// of each stretch, averaged by length over the stretches anyone marked (1 when nobody marked
// anything).
//
//   VoteSpans({ParseSpans("0-4:PER").value(), ParseSpans("0-4:PER;14-21:LOC").value(),
//              ParseSpans("0-4:PER").value()})
//   // spans {0-4 PER}, confidence (4 * 1 + 7 * 2/3) / 11, votes 2, total 3
//
// The text form, one owner of it: "start-end:label" for each span, in order, joined by ";"
// ("" for no span); start and end in code points, end exclusive.
#ifndef MW_QA_SPANS_H_
#define MW_QA_SPANS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace mw::qa {

struct LabelledSpan {
  uint32_t start = 0;
  uint32_t end = 0;
  std::string label;
  bool operator==(const LabelledSpan& o) const {
    return start == o.start && end == o.end && label == o.label;
  }
};

// The text form of `spans` (taken as given: in order, not overlapping).
std::string FormatSpans(const std::vector<LabelledSpan>& spans);

// The spans `text` writes; nullopt when it is not the text form, a span is empty (start >=
// end), or spans are out of order or overlap. A label is any text without ';' and ':'.
std::optional<std::vector<LabelledSpan>> ParseSpans(absl::string_view text);

struct SpanVerdict {
  std::vector<LabelledSpan> spans;
  double confidence = 0;
  int votes = 0;  // answers equal to `spans`
  int total = 0;
};

// REQUIRES: each answer in order and not overlapping (as ParseSpans returns them).
SpanVerdict VoteSpans(const std::vector<std::vector<LabelledSpan>>& answers);

}  // namespace mw::qa

#endif  // MW_QA_SPANS_H_
