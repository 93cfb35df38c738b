#include "worker-agent/web/page_parts.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "engine/common/money.h"
#include "engine/dispatch/answers.h"
#include "worker-agent/web/html.h"

namespace mw::agent::web {

Html Hidden(absl::string_view name, absl::string_view value) {
  return HtmlCat("<input type=\"hidden\" name=\"", Escape(name), "\" value=\"", Escape(value),
                 "\">");
}

std::string LocalMoney(const std::string& lang, int64_t minor, const std::string& currency) {
  std::string text = FormatMoney(minor, currency);
  const std::string separator = Messages::Get().Text(lang, "decimal_separator");
  if (separator != "." && !separator.empty()) {
    if (const size_t dot = text.find('.'); dot != std::string::npos) {
      text.replace(dot, 1, separator);
    }
  }
  return text;
}

std::string LocalDate(const std::string& lang, int64_t ms) {
  const Messages& m = Messages::Get();
  const absl::CivilMinute t = absl::ToCivilMinute(absl::FromUnixMillis(ms), absl::LocalTimeZone());
  const std::vector<std::string> months =
      absl::StrSplit(m.Text(lang, "months"), ' ', absl::SkipEmpty());
  const std::string month = months.size() == 12 ? months[t.month() - 1] : absl::StrCat(t.month());
  return m.Text(lang, "date_format",
                {{"day", absl::StrCat(t.day())},
                 {"month", month},
                 {"time", absl::StrFormat("%02d:%02d", t.hour(), t.minute())}});
}

Html WebServer::Call::FormToken() const {
  return form_token.empty() ? Html() : Hidden(kFormTokenField, form_token);
}

// The answer form's fields for the stage's schema.
Html AnswerFields(const v1::AnswerSchema& schema, const Messages& m, const std::string& lang) {
  Html out;
  switch (schema.kind_case()) {
    case v1::AnswerSchema::kSingleChoice:
      for (const auto& o : schema.single_choice().options()) {
        out.Append("<label class=\"opt\"><input type=\"radio\" name=\"choice\" value=\"", Escape(o),
                   "\" required> ", Escape(o), "</label>");
      }
      break;
    case v1::AnswerSchema::kMultiChoice:
      for (const auto& o : schema.multi_choice().options()) {
        out.Append("<label class=\"opt\"><input type=\"checkbox\" name=\"choices\" value=\"",
                   Escape(o), "\"> ", Escape(o), "</label>");
      }
      break;
    case v1::AnswerSchema::kText: {
      const uint32_t max = schema.text().max_length() > 0 ? schema.text().max_length() : 2000;
      out.Append("<p>",
                 Escape(m.Text(lang, "answer_text_limits",
                               {{"min", absl::StrCat(schema.text().min_length())},
                                {"max", absl::StrCat(max)}})),
                 "</p><textarea name=\"text\" rows=\"4\" maxlength=\"", max, "\" minlength=\"",
                 schema.text().min_length(), "\" required></textarea>");
      break;
    }
    case v1::AnswerSchema::kNumber: {
      const auto& n = schema.number();
      out.Append("<p>",
                 Escape(m.Text(lang, "answer_number_limits",
                               {{"min", absl::StrCat(n.min())}, {"max", absl::StrCat(n.max())}})),
                 "</p><input type=\"number\" name=\"number\" inputmode=\"decimal\" step=\"",
                 n.integer() ? Html("1") : Html("any"), "\" min=\"", n.min(), "\" max=\"", n.max(),
                 "\" required>");
      break;
    }
    default:
      break;
  }
  return out;
}

std::vector<std::string> FormValues(const httplib::Request& req, const std::string& name) {
  std::vector<std::string> out;
  for (auto [it, end] = req.params.equal_range(name); it != end; ++it) out.push_back(it->second);
  for (auto [it, end] = req.files.equal_range(name); it != end; ++it) {
    out.push_back(it->second.content);
  }
  return out;
}

std::string FormValue(const httplib::Request& req, const std::string& name) {
  std::vector<std::string> values = FormValues(req, name);
  return values.empty() ? "" : std::move(values[0]);
}

absl::StatusOr<v1::Answer> ParseAnswer(const httplib::Request& req,
                                       const v1::AnswerSchema& schema) {
  v1::Answer a;
  switch (schema.kind_case()) {
    case v1::AnswerSchema::kSingleChoice:
      if (FormValue(req, "choice").empty()) {
        return absl::InvalidArgumentError("choose one of the options");
      }
      a.set_choice(FormValue(req, "choice"));
      break;
    case v1::AnswerSchema::kMultiChoice: {
      auto* set = a.mutable_choices();
      for (std::string& v : FormValues(req, "choices")) set->add_options(std::move(v));
      break;
    }
    case v1::AnswerSchema::kText:
      a.set_text(FormValue(req, "text"));
      break;
    case v1::AnswerSchema::kNumber:
      if (FormValue(req, "number").empty()) return absl::InvalidArgumentError("give a number");
      a.set_number(FormValue(req, "number"));
      break;
    default:
      return absl::FailedPreconditionError("this task has no answer schema");
  }
  if (absl::Status s = dispatch::CheckAnswer(schema, a); !s.ok()) return s;
  return a;
}

}  // namespace mw::agent::web
