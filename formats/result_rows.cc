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

// Written by nlohmann's json, whatever it holds: the escapes and number forms stay as they were.
void Raw(const nlohmann::ordered_json& value, JsonWriter* w) {
  const std::string text = value.dump();
  w->RawValue(text.data(), text.size(),
              value.is_array()    ? rapidjson::kArrayType
              : value.is_object() ? rapidjson::kObjectType
              : value.is_string() ? rapidjson::kStringType
              : value.is_null()   ? rapidjson::kNullType
                                  : rapidjson::kNumberType);
}

void JsonString(const std::string& s, JsonWriter* w) {
  // A control character: RapidJSON writes its escape in capitals, nlohmann (and Python) in small
  // letters. Rare, so the slow way.
  for (const char c : s) {
    if (static_cast<unsigned char>(c) < 0x20) return Raw(s, w);
  }
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// As nlohmann writes it ("1e-05", "1.0", and null for NaN and the infinities), by the number
// writer its dump uses (to_chars), without a json value and a string for each.
void JsonDouble(double d, JsonWriter* w) {
  if (!std::isfinite(d)) {
    w->RawValue("null", 4, rapidjson::kNullType);
    return;
  }
  std::array<char, 64> text;  // nlohmann's own number buffer is as long
  const char* end = nlohmann::detail::to_chars(text.data(), text.data() + text.size(), d);
  w->RawValue(text.data(), static_cast<size_t>(end - text.data()), rapidjson::kNumberType);
}

void JsonStrings(const google::protobuf::RepeatedPtrField<std::string>& list, JsonWriter* w) {
  w->StartArray();
  for (const std::string& s : list) JsonString(s, w);
  w->EndArray();
}

// `v` with `digits` after the point, as printf's "%.*f" writes it, appended to `out`.
void AppendFixed(double v, int digits, std::string* out) {
  char buf[64];
  const std::to_chars_result r =
      std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, digits);
  if (r.ec == std::errc()) {
    out->append(buf, r.ptr);
  } else {
    absl::StrAppendFormat(out, "%.*f", digits, v);  // too long for the buffer
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

void WriteRowJson(const v1::ResultRecord& rec, JsonWriter* w) {
  w->StartObject();
  w->Key("item");
  w->Uint64(rec.item_index());
  w->Key("line");
  w->Uint64(rec.item().source_line());
  if (!rec.item().cut_by().empty()) {
    w->Key("parent");
    w->Uint64(rec.item().parent());
    w->Key("position");
    w->Uint(rec.item().position());
    w->Key("cut_by");
    JsonString(rec.item().cut_by(), w);
  }
  w->Key("fields");
  w->StartObject();
  const auto& fields = rec.item().fields();
  for (int i = 0; i < fields.size(); ++i) {
    // A name given twice (a CSV header may) is one key, where it first came, with its last value.
    bool seen = false;
    for (int j = 0; j < i && !seen; ++j) seen = fields[j].name() == fields[i].name();
    if (seen) continue;
    int last = i;
    for (int j = i + 1; j < fields.size(); ++j) {
      if (fields[j].name() == fields[i].name()) last = j;
    }
    JsonString(fields[i].name(), w);
    JsonString(fields[last].value(), w);
  }
  w->EndObject();
  w->Key("status");
  JsonString(rec.status(), w);
  w->Key("stage");
  JsonString(rec.stage(), w);
  w->Key("answer");
  JsonString(AnswerText(rec.answer()), w);
  w->Key("confidence");
  JsonDouble(rec.confidence(), w);
  w->Key("votes");
  w->Uint(rec.votes());
  w->Key("workers");
  JsonStrings(rec.workers(), w);
  if (rec.merged_items_size() > 0) {
    w->Key("merged_items");
    w->StartArray();
    for (uint64_t i : rec.merged_items()) w->Uint64(i);
    w->EndArray();
  }
  w->Key("provenance");
  w->StartArray();
  for (const auto& p : rec.provenance()) {
    w->StartObject();
    w->Key("stage");
    JsonString(p.stage(), w);
    w->Key("answer");
    JsonString(p.answer(), w);
    w->Key("confidence");
    JsonDouble(p.confidence(), w);
    w->Key("workers");
    JsonStrings(p.workers(), w);
    w->Key("answers");
    JsonStrings(p.answers(), w);
    if (p.has_value()) {  // spans, shapes, comparisons and rankings also in their own shape
      w->Key("value");
      Raw(AnswerJson(p.value(), rec.item()), w);
    }
    w->EndObject();
  }
  w->EndArray();
  if (rec.children_size() > 0) {
    w->Key("children");
    w->StartArray();
    for (const auto& child : rec.children()) WriteRowJson(child, w);
    w->EndArray();
  }
  w->EndObject();
}

std::string AnswerRowAnswer(const v1::AnswerRow& a) {
  return a.answer().skipped() ? a.answer().skip_reason() : AnswerText(a.answer());
}

void WriteAnswerJson(const v1::AnswerRow& a, JsonWriter* w) {
  w->StartObject();
  w->Key("task");
  JsonString(a.task_id(), w);
  w->Key("stage");
  JsonString(a.stage(), w);
  w->Key("item");
  w->Uint64(a.item_index());
  w->Key("worker");
  JsonString(a.worker(), w);
  w->Key("centre");
  JsonString(a.centre(), w);
  w->Key("answer");
  JsonString(AnswerRowAnswer(a), w);
  w->Key("skipped");
  w->Bool(a.answer().skipped());
  w->Key("active_seconds");
  w->Uint(a.active_seconds());
  w->Key("credited_seconds");
  w->Uint(a.credited_seconds());
  w->Key("wage_minor");
  w->Int64(a.wage_minor());
  w->Key("currency");
  JsonString(a.currency(), w);
  w->Key("late");
  w->Bool(a.late());
  w->Key("counted");
  w->Bool(a.counted());
  w->Key("check");
  w->Bool(a.check());
  w->Key("check_correct");
  w->Bool(a.check_correct());
  w->Key("withheld");
  w->Bool(a.withheld());
  w->Key("answered_at_ms");
  w->Int64(a.answered_at_ms());
  w->EndObject();
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
  AppendCsvField(absl::StrJoin(rec.workers(), ";"), out);
  out->push_back(',');
  std::string steps;
  for (const auto& p : rec.provenance()) {
    absl::StrAppend(&steps, steps.empty() ? "" : " | ", p.stage(), "=", p.answer(), " (");
    AppendFixed(p.confidence(), 2, &steps);
    absl::StrAppend(&steps, "; ", absl::StrJoin(p.workers(), ";"), ")");
  }
  AppendCsvField(steps, out);
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
  json_.Clear();
  JsonWriter writer(json_);
  WriteRowJson(rec, &writer);
  out->append(json_.GetString(), json_.GetSize());
  out->push_back('\n');
}

}  // namespace mw::formats
