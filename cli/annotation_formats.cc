#include "cli/annotation_formats.h"

#include <string_view>

#include "engine/common/words.h"

namespace mw::cli {

namespace {

const std::string* FieldValue(const v1::Item& item, const std::string& name) {
  for (const auto& f : item.fields()) {
    if (f.name() == name) return &f.value();
  }
  return nullptr;
}

// The bytes of code points [start, end) of `text`.
std::string CodePointSlice(std::string_view text, uint32_t start, uint32_t end) {
  size_t from = text.size(), to = text.size();
  uint32_t point = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (point == start && from == text.size()) from = i;
    if (point == end) {
      to = i;
      break;
    }
    ++point;
  }
  return from < to ? std::string(text.substr(from, to - from)) : std::string();
}

}  // namespace

nlohmann::ordered_json AnswerJson(const v1::Answer& answer, const v1::Item& item) {
  switch (answer.value_case()) {
    case v1::Answer::kSpans: {
      const std::string* text = FieldValue(item, answer.spans().field());
      nlohmann::ordered_json spans = nlohmann::ordered_json::array();
      for (const auto& s : answer.spans().spans()) {
        spans.push_back({{"start", s.start()},
                         {"end", s.end()},
                         {"label", s.label()},
                         {"text", text ? CodePointSlice(*text, s.start(), s.end()) : ""}});
      }
      return spans;
    }
    case v1::Answer::kPick:
      return {{"winner", answer.pick().winner()}, {"reason", answer.pick().reason()}};
    case v1::Answer::kRanking:
      return std::vector<std::string>(answer.ranking().options().begin(),
                                      answer.ranking().options().end());
    case v1::Answer::kChoices:
      return std::vector<std::string>(answer.choices().options().begin(),
                                      answer.choices().options().end());
    case v1::Answer::kChoice:
      return answer.choice();
    case v1::Answer::kText:
      return answer.text();
    case v1::Answer::kNumber:
      return answer.number();
    case v1::Answer::VALUE_NOT_SET:
      break;
  }
  return nullptr;
}

const v1::Provenance* SpansVerdict(const v1::ResultRecord& rec, const std::string& stage) {
  for (const auto& p : rec.provenance()) {
    if (p.value().has_spans() && (stage.empty() || p.stage() == stage)) return &p;
  }
  return nullptr;
}

bool WriteConllItem(const v1::ResultRecord& rec, const std::string& stage, std::ostream* out) {
  const v1::Provenance* verdict = SpansVerdict(rec, stage);
  if (verdict == nullptr) return false;
  const std::string* text = FieldValue(rec.item(), verdict->value().spans().field());
  if (text == nullptr) return false;
  const auto& spans = verdict->value().spans().spans();
  int at = 0;  // the first span not yet passed
  for (const Word& w : SplitWords(*text)) {
    while (at < spans.size() && spans[at].end() <= w.start) ++at;
    std::string tag = "O";
    if (at < spans.size() && spans[at].start() <= w.start && w.end <= spans[at].end()) {
      tag = (w.start == spans[at].start() ? "B-" : "I-") + spans[at].label();
    }
    // A label with spaces would add columns: CoNLL's tags are single tokens.
    for (char& c : tag) {
      if (c == ' ') c = '_';
    }
    *out << w.text << " -X- _ " << tag << "\n";
  }
  *out << "\n";
  return true;
}

}  // namespace mw::cli
