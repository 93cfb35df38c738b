#include "cli/annotation_formats.h"

#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
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

// `text` as one CoNLL column: white space of any kind (no-break, ideographic, line and
// paragraph separators, which SplitWords keeps inside a word) becomes '_', so a reader that
// splits on any white space finds the same columns; and a word "-DOCSTART-" is not read as a
// document's start.
std::string ConllColumn(absl::string_view text) {
  static constexpr absl::string_view kSpaces[] = {" ",
                                                  "\t",
                                                  "\xc2\x85",
                                                  "\xc2\xa0",
                                                  "\xe1\x9a\x80",
                                                  "\xe2\x80\xa8",
                                                  "\xe2\x80\xa9",
                                                  "\xe2\x80\xaf",
                                                  "\xe2\x81\x9f",
                                                  "\xe3\x80\x80"};
  std::string out;
  for (size_t i = 0; i < text.size();) {
    size_t matched = 0;
    for (absl::string_view space : kSpaces) {
      if (text.substr(i, space.size()) == space) matched = space.size();
    }
    // U+2000 to U+200A: E2 80 80 to E2 80 8A.
    if (matched == 0 && text.substr(i, 2) == "\xe2\x80" && i + 2 < text.size() &&
        static_cast<unsigned char>(text[i + 2]) <= 0x8A) {
      matched = 3;
    }
    if (matched > 0) {
      out += '_';
      i += matched;
    } else {
      out += text[i++];
    }
  }
  if (out == "-DOCSTART-") out = "_DOCSTART-";
  return out;
}

// Where code point `point` of `text` is in UTF-16 code units.
uint32_t Utf16Offset(std::string_view text, uint32_t point) {
  uint32_t units = 0, seen = 0;
  for (size_t i = 0; i < text.size() && seen < point; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) == 0x80) continue;
    units += c >= 0xF0 ? 2 : 1;  // four UTF-8 bytes: outside the BMP, a surrogate pair
    ++seen;
  }
  return units + (point - seen);
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

bool HasSpansVerdict(const v1::ResultRecord& rec, const std::string& stage) {
  if (SpansVerdict(rec, stage) != nullptr) return true;
  for (const auto& child : rec.children()) {
    if (HasSpansVerdict(child, stage)) return true;
  }
  return false;
}

const v1::Provenance* SpansVerdict(const v1::ResultRecord& rec, const std::string& stage) {
  for (const auto& p : rec.provenance()) {
    if (p.value().has_spans() && (stage.empty() || p.stage() == stage)) return &p;
  }
  return nullptr;
}

bool WriteConllItem(const v1::ResultRecord& rec, const std::string& stage, std::ostream* out) {
  // A verify stage turned it down (or a piece of it, kept as it was cut): not an answer to train
  // on.
  if (absl::StrContains(rec.status(), "rejected by ")) return false;
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
    *out << ConllColumn(w.text) << " -X- _ " << ConllColumn(tag) << "\n";
  }
  *out << "\n";
  return true;
}

nlohmann::ordered_json LabelStudioTask(const v1::ResultRecord& rec, uint64_t id,
                                       const std::map<std::string, v1::AnswerSchema>& answers) {
  nlohmann::ordered_json data = nlohmann::ordered_json::object();
  for (const auto& f : rec.item().fields()) data[f.name()] = f.value();
  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  for (const auto& p : rec.provenance()) {
    auto schema = answers.find(p.stage());
    if (schema == answers.end()) continue;
    auto result = [&](const std::string& to_name, const char* type, nlohmann::ordered_json value) {
      results.push_back({{"id", absl::StrCat(p.stage(), "-", results.size() + 1)},
                         {"from_name", p.stage()},
                         {"to_name", to_name},
                         {"type", type},
                         {"value", std::move(value)}});
    };
    const v1::AnswerSchema& a = schema->second;
    if (a.has_spans()) {
      const std::string* text = FieldValue(rec.item(), a.spans().field());
      if (text == nullptr) continue;
      for (const auto& s : p.value().spans().spans()) {
        result(a.spans().field(), "labels",
               {{"start", Utf16Offset(*text, s.start())},
                {"end", Utf16Offset(*text, s.end())},
                {"text", CodePointSlice(*text, s.start(), s.end())},
                {"labels", {s.label()}}});
      }
    } else if (a.has_comparison()) {
      result(absl::StrCat(a.comparison().a_field(), ",", a.comparison().b_field()), "pairwise",
             {{"selected", p.value().pick().winner() == "a" ? "left" : "right"}});
    } else if (a.has_single_choice()) {
      result("item", "choices", {{"choices", {p.answer()}}});
    } else if (a.has_multi_choice()) {
      std::vector<std::string> chosen = absl::StrSplit(p.answer(), '|', absl::SkipEmpty());
      result("item", "choices", {{"choices", chosen}});
    } else if (a.has_text()) {
      result("item", "textarea", {{"text", {p.answer()}}});
    } else if (a.has_number()) {
      double n = 0;
      if (absl::SimpleAtod(p.answer(), &n)) result("item", "number", {{"number", n}});
    }
  }
  nlohmann::ordered_json task;
  task["id"] = id;
  task["data"] = std::move(data);
  task["meta"] = {{"item", rec.item_index()}, {"status", rec.status()}};
  task["annotations"] = nlohmann::ordered_json::array({{{"id", id},
                                                        {"result", std::move(results)},
                                                        {"ground_truth", false},
                                                        {"was_cancelled", false}}});
  return task;
}

}  // namespace mw::cli
