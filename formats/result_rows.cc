#include "formats/result_rows.h"

#include <array>
#include <charconv>
#include <cmath>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "engine/common/plain_text.h"
#include "engine/dispatch/answers.h"
#include "formats/annotation_formats.h"
#include "nlohmann/json.hpp"

namespace mw::formats {
namespace {

// The JSON text nlohmann's json dump writes, appended to a string as a row is walked (no json
// value is built, nor a string for each of its parts): no spaces; in a string `"` and `\`
// escaped, \b \f \n \r \t for those control characters and \u00xx (small letters) for the
// others, every other byte as it is.

void JsonString(absl::string_view s, std::string* out) {
  out->push_back('"');
  size_t plain = 0;  // s[plain, i) is written as it is
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
        out->append(escape, sizeof escape);
      }
    }
  }
  out->append(s.data() + plain, s.size() - plain);
  out->push_back('"');
}

// Whether `d` is a whole number below 10^15 in size, other than -0: most numbers of an export
// (a confidence of 1 or 0), whose digits are those of an integer.
bool SmallWhole(double d) {
  return std::trunc(d) == d && std::fabs(d) < 1e15 && !(d == 0 && std::signbit(d));
}

// As nlohmann writes it ("1e-05", "1.0", and null for NaN and the infinities), by the number
// writer its dump uses (to_chars).
void JsonDouble(double d, std::string* out) {
  if (!std::isfinite(d)) {
    out->append("null");
    return;
  }
  // As nlohmann writes a whole number below 10^15, "1.0", without its search for the shortest
  // digits.
  if (SmallWhole(d)) {
    absl::StrAppend(out, static_cast<int64_t>(d), ".0");
    return;
  }
  std::array<char, 64> text;  // nlohmann's own number buffer is as long
  const char* end = nlohmann::detail::to_chars(text.data(), text.data() + text.size(), d);
  out->append(text.data(), static_cast<size_t>(end - text.data()));
}

void JsonBool(bool b, std::string* out) { out->append(b ? "true" : "false"); }

void JsonStrings(const google::protobuf::RepeatedPtrField<std::string>& list, std::string* out) {
  out->push_back('[');
  for (int i = 0; i < list.size(); ++i) {
    if (i > 0) out->push_back(',');
    JsonString(list[i], out);
  }
  out->push_back(']');
}

// `v` with `digits` after the point, as printf's "%.*f" writes it, appended to `out`.
void AppendFixed(double v, int digits, std::string* out) {
  if (SmallWhole(v)) {  // without to_chars' digit generation
    absl::StrAppend(out, static_cast<int64_t>(v));
    if (digits > 0) {
      out->push_back('.');
      out->append(static_cast<size_t>(digits), '0');
    }
    return;
  }
  char buf[64];
  const std::to_chars_result r =
      std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, digits);
  if (r.ec == std::errc()) {
    out->append(buf, r.ptr);
  } else {
    absl::StrAppendFormat(out, "%.*f", digits, v);  // too long for the buffer
  }
}

// `list` joined by ";", appended to `out`.
void AppendJoined(const google::protobuf::RepeatedPtrField<std::string>& list, std::string* out) {
  for (int i = 0; i < list.size(); ++i) {
    if (i > 0) out->push_back(';');
    out->append(list[i]);
  }
}

}  // namespace

std::string AnswerText(const v1::Answer& a) {
  switch (a.value_case()) {
    case v1::Answer::kChoice:
      return a.choice();
    case v1::Answer::kChoices:
      return absl::StrJoin(a.choices().options(), "|");
    case v1::Answer::kText:
      return a.text();
    case v1::Answer::kNumber:
      return a.number();
    case v1::Answer::kSpans:
    case v1::Answer::kShapes:
      return dispatch::AnswerLabel(a);
    case v1::Answer::kPick:
      return a.pick().reason().empty() ? a.pick().winner()
                                       : absl::StrCat(a.pick().winner(), ": ", a.pick().reason());
    case v1::Answer::kRanking:
      return absl::StrJoin(a.ranking().options(), ">");
    default:
      return "";
  }
}

void WriteRowJson(const v1::ResultRecord& rec, std::string* out) {
  absl::StrAppend(out, R"({"item":)", rec.item_index(), R"(,"line":)", rec.item().source_line());
  if (!rec.item().cut_by().empty()) {
    absl::StrAppend(out, R"(,"parent":)", rec.item().parent(), R"(,"position":)",
                    rec.item().position(), R"(,"cut_by":)");
    JsonString(rec.item().cut_by(), out);
  }
  out->append(R"(,"fields":{)");
  const auto& fields = rec.item().fields();
  bool first = true;
  for (int i = 0; i < fields.size(); ++i) {
    // A name given twice (a CSV header may) is one key, where it first came, with its last value.
    bool seen = false;
    for (int j = 0; j < i && !seen; ++j) seen = fields[j].name() == fields[i].name();
    if (seen) continue;
    int last = i;
    for (int j = i + 1; j < fields.size(); ++j) {
      if (fields[j].name() == fields[i].name()) last = j;
    }
    if (!first) out->push_back(',');
    first = false;
    JsonString(fields[i].name(), out);
    out->push_back(':');
    JsonString(fields[last].value(), out);
  }
  out->append(R"(},"status":)");
  JsonString(rec.status(), out);
  out->append(R"(,"stage":)");
  JsonString(rec.stage(), out);
  out->append(R"(,"answer":)");
  JsonString(AnswerText(rec.answer()), out);
  out->append(R"(,"confidence":)");
  JsonDouble(rec.confidence(), out);
  absl::StrAppend(out, R"(,"votes":)", rec.votes(), R"(,"workers":)");
  JsonStrings(rec.workers(), out);
  if (rec.merged_items_size() > 0) {
    out->append(R"(,"merged_items":[)");
    for (int i = 0; i < rec.merged_items_size(); ++i) {
      absl::StrAppend(out, i > 0 ? "," : "", rec.merged_items(i));
    }
    out->push_back(']');
  }
  out->append(R"(,"provenance":[)");
  for (int i = 0; i < rec.provenance_size(); ++i) {
    const v1::Provenance& p = rec.provenance(i);
    out->append(i > 0 ? R"(,{"stage":)" : R"({"stage":)");
    JsonString(p.stage(), out);
    out->append(R"(,"answer":)");
    JsonString(p.answer(), out);
    out->append(R"(,"confidence":)");
    JsonDouble(p.confidence(), out);
    out->append(R"(,"workers":)");
    JsonStrings(p.workers(), out);
    out->append(R"(,"answers":)");
    JsonStrings(p.answers(), out);
    if (p.has_value()) {  // spans, shapes, comparisons and rankings also in their own shape
      out->append(R"(,"value":)");
      out->append(AnswerJson(p.value(), rec.item()).dump());
    }
    out->push_back('}');
  }
  out->push_back(']');
  if (rec.children_size() > 0) {
    out->append(R"(,"children":[)");
    for (int i = 0; i < rec.children_size(); ++i) {
      if (i > 0) out->push_back(',');
      WriteRowJson(rec.children(i), out);
    }
    out->push_back(']');
  }
  out->push_back('}');
}

std::string AnswerRowAnswer(const v1::AnswerRow& a) {
  return a.answer().skipped() ? a.answer().skip_reason() : AnswerText(a.answer());
}

void WriteAnswerJson(const v1::AnswerRow& a, std::string* out) {
  out->append(R"({"task":)");
  JsonString(a.task_id(), out);
  out->append(R"(,"stage":)");
  JsonString(a.stage(), out);
  absl::StrAppend(out, R"(,"item":)", a.item_index(), R"(,"worker":)");
  JsonString(a.worker(), out);
  out->append(R"(,"centre":)");
  JsonString(a.centre(), out);
  out->append(R"(,"answer":)");
  JsonString(AnswerRowAnswer(a), out);
  out->append(R"(,"skipped":)");
  JsonBool(a.answer().skipped(), out);
  absl::StrAppend(out, R"(,"active_seconds":)", a.active_seconds(), R"(,"credited_seconds":)",
                  a.credited_seconds(), R"(,"wage_minor":)", a.wage_minor(), R"(,"currency":)");
  JsonString(a.currency(), out);
  out->append(R"(,"late":)");
  JsonBool(a.late(), out);
  out->append(R"(,"counted":)");
  JsonBool(a.counted(), out);
  out->append(R"(,"check":)");
  JsonBool(a.check(), out);
  out->append(R"(,"check_correct":)");
  JsonBool(a.check_correct(), out);
  out->append(R"(,"withheld":)");
  JsonBool(a.withheld(), out);
  absl::StrAppend(out, R"(,"answered_at_ms":)", a.answered_at_ms(), "}");
}

std::string CsvHeader(const v1::ResultRecord& rec) {
  std::vector<std::string> header;
  for (const auto& f : rec.item().fields()) header.push_back(CsvField(f.name()));
  for (const char* h :
       {"status", "confidence", "votes", "workers", "provenance", "item", "parent"}) {
    header.push_back(h);
  }
  return absl::StrJoin(header, ",");
}

void AppendCsvRows(const v1::ResultRecord& rec, std::string* out) {
  for (const auto& f : rec.item().fields()) {
    AppendCsvField(f.value(), out);
    out->push_back(',');
  }
  AppendCsvField(rec.status(), out);
  out->push_back(',');
  AppendFixed(rec.confidence(), 4, out);
  absl::StrAppend(out, ",", rec.votes(), ",");
  AppendCsvFieldWith(out, [&](std::string* field) { AppendJoined(rec.workers(), field); });
  out->push_back(',');
  AppendCsvFieldWith(out, [&](std::string* field) {
    for (int i = 0; i < rec.provenance_size(); ++i) {
      const v1::Provenance& p = rec.provenance(i);
      absl::StrAppend(field, i > 0 ? " | " : "", p.stage(), "=", p.answer(), " (");
      AppendFixed(p.confidence(), 2, field);
      field->append("; ");
      AppendJoined(p.workers(), field);
      field->push_back(')');
    }
  });
  absl::StrAppend(out, ",", rec.item_index(), ",");
  if (!rec.item().cut_by().empty()) absl::StrAppend(out, rec.item().parent());
  out->push_back('\n');
  for (const auto& child : rec.children()) AppendCsvRows(child, out);
}

void ResultText::Append(const v1::ResultRecord& rec, std::string* out) {
  if (format_ == Format::kCsv) {
    if (!header_) {
      absl::StrAppend(out, CsvHeader(rec), "\n");
      header_ = true;
    }
    AppendCsvRows(rec, out);
    return;
  }
  WriteRowJson(rec, out);
  out->push_back('\n');
}

}  // namespace mw::formats
