#include "engine/dispatch/answers.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/common/plain_text.h"

namespace mw::dispatch {

using microwork::v1::Answer;
using microwork::v1::AnswerSchema;

namespace {

size_t CodePoints(const std::string& s) {
  return std::count_if(s.begin(), s.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

// A value from outside, for an error message: at most 60 bytes (cut at a character boundary),
// control characters shown as U+FFFD.
std::string Quoted(const std::string& value) {
  if (value.size() <= 60) return absl::StrCat("\"", TerminalText(value), "\"");
  size_t cut = 60;
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat("\"", TerminalText(value.substr(0, cut)), "...\" (", value.size(), " bytes)");
}

bool Listed(const google::protobuf::RepeatedPtrField<std::string>& options,
            const std::string& value) {
  return std::find(options.begin(), options.end(), value) != options.end();
}

}  // namespace

absl::Status CheckAnswer(const AnswerSchema& schema, const Answer& answer) {
  if (answer.skipped()) return absl::OkStatus();
  switch (schema.kind_case()) {
    case AnswerSchema::kSingleChoice:
      if (answer.value_case() != Answer::kChoice) {
        return absl::InvalidArgumentError("expected a single choice");
      }
      if (!Listed(schema.single_choice().options(), answer.choice())) {
        return absl::InvalidArgumentError(
            absl::StrCat("choice ", Quoted(answer.choice()), " is not one of the options (",
                         absl::StrJoin(schema.single_choice().options(), ", "), ")"));
      }
      return absl::OkStatus();
    case AnswerSchema::kMultiChoice: {
      if (answer.value_case() != Answer::kChoices) {
        return absl::InvalidArgumentError("expected a set of choices");
      }
      const auto& mc = schema.multi_choice();
      std::set<std::string> seen;
      for (const auto& c : answer.choices().options()) {
        if (!Listed(mc.options(), c)) {
          return absl::InvalidArgumentError(
              absl::StrCat("choice ", Quoted(c), " is not an option"));
        }
        if (!seen.insert(c).second) {
          return absl::InvalidArgumentError(absl::StrCat("choice ", Quoted(c), " is given twice"));
        }
      }
      const uint32_t n = static_cast<uint32_t>(seen.size());
      if (n < mc.min_selected() || (mc.max_selected() != 0 && n > mc.max_selected())) {
        return absl::InvalidArgumentError(absl::StrCat("expected ", mc.min_selected(), " to ",
                                                       mc.max_selected(), " choices, got ", n));
      }
      return absl::OkStatus();
    }
    case AnswerSchema::kText: {
      if (answer.value_case() != Answer::kText) return absl::InvalidArgumentError("expected text");
      const size_t n = CodePoints(answer.text());
      const auto& t = schema.text();
      if (n < t.min_length() || (t.max_length() != 0 && n > t.max_length())) {
        return absl::InvalidArgumentError(absl::StrCat("expected ", t.min_length(), " to ",
                                                       t.max_length(), " characters, got ", n));
      }
      return absl::OkStatus();
    }
    case AnswerSchema::kNumber: {
      if (answer.value_case() != Answer::kNumber) {
        return absl::InvalidArgumentError("expected a number");
      }
      double v;
      if (!absl::SimpleAtod(answer.number(), &v) || !std::isfinite(v)) {
        return absl::InvalidArgumentError(absl::StrCat(
            Quoted(answer.number()), " is not a number; expected digits such as 12.5"));
      }
      const auto& r = schema.number();
      if (v < r.min() || v > r.max()) {
        return absl::InvalidArgumentError(
            absl::StrCat(answer.number(), " is outside ", r.min(), " to ", r.max()));
      }
      int64_t i;
      if (r.integer() && !absl::SimpleAtoi(answer.number(), &i)) {
        return absl::InvalidArgumentError(
            absl::StrCat("expected a whole number, got ", answer.number()));
      }
      return absl::OkStatus();
    }
    case AnswerSchema::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("the stage has no answer schema");
}

std::string AnswerLabel(const Answer& answer) {
  switch (answer.value_case()) {
    case Answer::kChoice:
      return answer.choice();
    case Answer::kChoices: {
      std::vector<std::string> c(answer.choices().options().begin(),
                                 answer.choices().options().end());
      std::sort(c.begin(), c.end());
      return absl::StrJoin(c, "|");
    }
    case Answer::kText: {
      std::vector<std::string> words =
          absl::StrSplit(absl::AsciiStrToLower(answer.text()), ' ', absl::SkipWhitespace());
      for (auto& w : words) absl::StripAsciiWhitespace(&w);
      return absl::StrJoin(words, " ");
    }
    case Answer::kNumber:
      return answer.number();
    case Answer::VALUE_NOT_SET:
      break;
  }
  return "";
}

Answer LabelToAnswer(const AnswerSchema& schema, const std::string& label) {
  Answer a;
  switch (schema.kind_case()) {
    case AnswerSchema::kSingleChoice:
      a.set_choice(label);
      break;
    case AnswerSchema::kMultiChoice:
      for (auto part : absl::StrSplit(label, '|', absl::SkipEmpty())) {
        a.mutable_choices()->add_options(std::string(part));
      }
      break;
    case AnswerSchema::kNumber:
      a.set_number(label);
      break;
    default:
      a.set_text(label);
  }
  return a;
}

absl::StatusOr<std::string> TakeGoldAnswer(const microwork::v1::AnswerSchema& schema,
                                           const std::string& answer_field,
                                           microwork::v1::Item* item) {
  const std::string& name = answer_field.empty() ? std::string("answer") : answer_field;
  auto* fields = item->mutable_fields();
  for (int i = 0; i < fields->size(); ++i) {
    if (fields->Get(i).name() != name) continue;
    const std::string label = fields->Get(i).value();
    fields->DeleteSubrange(i, 1);
    const microwork::v1::Answer answer = LabelToAnswer(schema, label);
    if (absl::Status s = CheckAnswer(schema, answer); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("gold answer: ", s.message()));
    }
    return AnswerLabel(answer);
  }
  return absl::InvalidArgumentError(absl::StrCat("gold row has no \"", name, "\" field"));
}

}  // namespace mw::dispatch
