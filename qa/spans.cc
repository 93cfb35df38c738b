#include "qa/spans.h"

#include <algorithm>
#include <iterator>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace mw::qa {

std::string FormatSpans(const std::vector<LabelledSpan>& spans) {
  std::string out;
  for (const LabelledSpan& s : spans) {
    absl::StrAppend(&out, out.empty() ? "" : ";", s.start, "-", s.end, ":", s.label);
  }
  return out;
}

std::optional<std::vector<LabelledSpan>> ParseSpans(absl::string_view text) {
  std::vector<LabelledSpan> spans;
  if (text.empty()) return spans;
  for (absl::string_view part : absl::StrSplit(text, ';')) {
    const size_t colon = part.find(':');
    const size_t dash = part.find('-');
    if (colon == absl::string_view::npos || dash == absl::string_view::npos || dash > colon) {
      return std::nullopt;
    }
    LabelledSpan s;
    if (!absl::SimpleAtoi(part.substr(0, dash), &s.start) ||
        !absl::SimpleAtoi(part.substr(dash + 1, colon - dash - 1), &s.end) || s.start >= s.end) {
      return std::nullopt;
    }
    s.label = std::string(part.substr(colon + 1));
    if (!spans.empty() && s.start < spans.back().end) return std::nullopt;
    spans.push_back(std::move(s));
  }
  return spans;
}

SpanVerdict VoteSpans(const std::vector<std::vector<LabelledSpan>>& answers) {
  SpanVerdict out;
  out.total = static_cast<int>(answers.size());
  if (answers.empty()) return out;
  std::vector<uint32_t> cuts;
  for (const auto& spans : answers) {
    for (const LabelledSpan& s : spans) {
      cuts.push_back(s.start);
      cuts.push_back(s.end);
    }
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());

  std::vector<size_t> next(answers.size(), 0);  // per answer: its first span not yet passed
  double agreed = 0, marked = 0;
  for (size_t k = 0; k + 1 < cuts.size(); ++k) {
    const uint32_t from = cuts[k], to = cuts[k + 1];
    std::map<std::string, std::pair<int, int>> given;  // label -> (answers, of them beginning)
    int none = 0;
    for (size_t i = 0; i < answers.size(); ++i) {
      const auto& spans = answers[i];
      while (next[i] < spans.size() && spans[next[i]].end <= from) ++next[i];
      if (next[i] < spans.size() && spans[next[i]].start <= from) {
        auto& [count, begins] = given[spans[next[i]].label];
        ++count;
        if (spans[next[i]].start == from) ++begins;
      } else {
        ++none;
      }
    }
    if (given.empty()) continue;  // a gap between spans: nobody marked it
    const std::string* winner = nullptr;
    int best = none;
    for (const auto& [label, counts] : given) {
      if (counts.first > best) {  // strictly more: "none" and earlier labels win ties
        best = counts.first;
        winner = &label;
      }
    }
    marked += to - from;
    agreed += (to - from) * static_cast<double>(best) / out.total;
    if (winner == nullptr) continue;
    const bool begins = 2 * given[*winner].second > given[*winner].first;
    if (!out.spans.empty() && !begins && out.spans.back().end == from &&
        out.spans.back().label == *winner) {
      out.spans.back().end = to;
    } else {
      out.spans.push_back({from, to, *winner});
    }
  }
  // A stretch that won alone may begin at a word's end or stop at a word's start (in the space
  // between words): each span is narrowed to start where some answer started a span and to end
  // where some answer ended one (those are on words), or dropped when nothing is left of it.
  std::vector<uint32_t> starts, ends;
  for (const auto& spans : answers) {
    for (const LabelledSpan& s : spans) {
      starts.push_back(s.start);
      ends.push_back(s.end);
    }
  }
  std::sort(starts.begin(), starts.end());
  std::sort(ends.begin(), ends.end());
  std::vector<LabelledSpan> snapped;
  for (LabelledSpan& s : out.spans) {
    auto start = std::lower_bound(starts.begin(), starts.end(), s.start);
    auto end = std::upper_bound(ends.begin(), ends.end(), s.end);
    if (start == starts.end() || end == ends.begin()) continue;
    const uint32_t from = *start, to = *std::prev(end);
    if (from >= to) continue;
    snapped.push_back({from, to, std::move(s.label)});
  }
  out.spans = std::move(snapped);
  out.confidence = marked == 0 ? 1.0 : agreed / marked;
  out.votes = static_cast<int>(std::count(answers.begin(), answers.end(), out.spans));
  return out;
}

}  // namespace mw::qa
