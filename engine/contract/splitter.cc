#include "engine/contract/splitter.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace mw::contract {

using microwork::v1::Item;

Splitter::Splitter(const microwork::v1::SplitStage& spec, microwork::v1::InputFormat format,
                   Options options)
    : spec_(spec), format_(format), options_(options), csv_(options.csv) {}

void Splitter::Emit(Item item, const OnItem& on_item, const OnBad& on_bad) {
  if (check_) {
    if (std::string why = check_(&item); !why.empty()) {
      Bad(item.source_line(), std::move(why), on_bad);
      return;
    }
  }
  item.set_index(next_index_++);
  on_item(std::move(item));
}

void Splitter::Bad(uint64_t line, std::string reason, const OnBad& on_bad) {
  ++quarantined_;
  on_bad(BadRow{line, std::move(reason)});
}

absl::Status Splitter::OnCsvRow(CsvReader::Row row, const OnItem& on_item, const OnBad& on_bad) {
  if (header_.empty()) {
    if (!row.error.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", row.line, ": the CSV header is unreadable: ", row.error));
    }
    for (size_t i = 0; i < row.fields.size(); ++i) {
      if (row.fields[i].empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", row.line, ": header column ", i + 1, " has no name"));
      }
    }
    header_ = std::move(row.fields);
    return absl::OkStatus();
  }
  if (!row.error.empty()) {
    Bad(row.line, std::move(row.error), on_bad);
    return absl::OkStatus();
  }
  if (row.fields.size() != header_.size()) {
    Bad(row.line,
        absl::StrCat("expected ", header_.size(), " fields as in the header, got ",
                     row.fields.size()),
        on_bad);
    return absl::OkStatus();
  }
  Item item;
  item.set_source_line(row.line);
  for (size_t i = 0; i < header_.size(); ++i) {
    auto* f = item.add_fields();
    f->set_name(header_[i]);
    f->set_value(std::move(row.fields[i]));
  }
  Emit(std::move(item), on_item, on_bad);
  return absl::OkStatus();
}

void Splitter::OnLine(std::string line, uint64_t line_no, const OnItem& on_item,
                      const OnBad& on_bad) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (!IsValidUtf8(line)) {
    Bad(line_no, "not valid UTF-8", on_bad);
    return;
  }
  if (format_ == microwork::v1::FORMAT_JSONL) {
    if (line.find_first_not_of(" \t") == std::string::npos) return;  // blank line
    // Ordered: an item's fields keep the order the client wrote them in, through to the export.
    nlohmann::ordered_json record =
        nlohmann::ordered_json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (record.is_discarded()) {
      Bad(line_no, "not valid JSON", on_bad);
      return;
    }
    if (!record.is_object()) {
      Bad(line_no, "expected a JSON object", on_bad);
      return;
    }
    Item item;
    item.set_source_line(line_no);
    for (const auto& [key, value] : record.items()) {
      auto* f = item.add_fields();
      f->set_name(key);
      f->set_value(value.is_string() ? value.get<std::string>() : value.dump());
    }
    Emit(std::move(item), on_item, on_bad);
    return;
  }
  // Text split by lines: `chunk_size` lines per item.
  if (text_units_ == 0) text_start_line_ = line_no;
  absl::StrAppend(&text_, text_units_ == 0 ? "" : "\n", line);
  if (++text_units_ >= spec_.chunk_size()) EmitText(on_item, on_bad);
}

void Splitter::EmitText(const OnItem& on_item, const OnBad& on_bad) {
  if (text_units_ == 0) return;
  if (text_.size() > options_.max_record_bytes) {
    Bad(text_start_line_,
        absl::StrCat("chunk is longer than ", options_.max_record_bytes, " bytes"), on_bad);
  } else {
    Item item;
    item.set_index(next_index_++);
    item.set_source_line(text_start_line_);
    auto* f = item.add_fields();
    f->set_name("text");
    f->set_value(std::move(text_));
    on_item(std::move(item));
  }
  text_.clear();
  text_units_ = 0;
}

absl::Status Splitter::Feed(absl::string_view data, const OnItem& on_item, const OnBad& on_bad) {
  if (!error_.ok()) return error_;
  if (format_ == microwork::v1::FORMAT_CSV) {
    csv_.Feed(data, [&](CsvReader::Row row) {
      if (error_.ok()) error_ = OnCsvRow(std::move(row), on_item, on_bad);
    });
    return error_;
  }
  if (format_ == microwork::v1::FORMAT_TEXT && spec_.by() == microwork::v1::SPLIT_CHARS) {
    // Count code points (UTF-8 lead bytes); cut only at a code point boundary.
    for (char c : data) {
      const bool lead = (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      if (lead && text_units_ == spec_.chunk_size()) EmitText(on_item, on_bad);
      if (text_units_ == 0 && text_.empty()) text_start_line_ = line_no_ + 1;
      if (c == '\n') ++line_no_;
      text_.push_back(c);
      if (lead) ++text_units_;
    }
    return absl::OkStatus();
  }
  // Line-oriented: JSONL records or text lines.
  size_t start = 0;
  while (start < data.size()) {
    const size_t nl = data.find('\n', start);
    const absl::string_view piece =
        data.substr(start, nl == absl::string_view::npos ? absl::string_view::npos : nl - start);
    if (!line_too_long_) {
      if (partial_line_.size() + piece.size() > options_.max_record_bytes) {
        line_too_long_ = true;
        partial_line_.clear();
      } else {
        partial_line_.append(piece.data(), piece.size());
      }
    }
    if (nl == absl::string_view::npos) break;
    ++line_no_;
    if (line_too_long_) {
      Bad(line_no_, absl::StrCat("line is longer than ", options_.max_record_bytes, " bytes"),
          on_bad);
      line_too_long_ = false;
    } else {
      OnLine(std::move(partial_line_), line_no_, on_item, on_bad);
    }
    partial_line_.clear();
    start = nl + 1;
  }
  return absl::OkStatus();
}

absl::Status Splitter::Finish(const OnItem& on_item, const OnBad& on_bad) {
  if (!error_.ok()) return error_;
  if (format_ == microwork::v1::FORMAT_CSV) {
    csv_.Finish([&](CsvReader::Row row) {
      if (error_.ok()) error_ = OnCsvRow(std::move(row), on_item, on_bad);
    });
    if (error_.ok() && header_.empty()) {
      error_ = absl::InvalidArgumentError("the CSV input is empty: expected a header row");
    }
    return error_;
  }
  if (format_ == microwork::v1::FORMAT_TEXT && spec_.by() == microwork::v1::SPLIT_CHARS) {
    EmitText(on_item, on_bad);
    return absl::OkStatus();
  }
  if (!partial_line_.empty() || line_too_long_) {
    ++line_no_;
    if (line_too_long_) {
      Bad(line_no_, absl::StrCat("line is longer than ", options_.max_record_bytes, " bytes"),
          on_bad);
    } else {
      OnLine(std::move(partial_line_), line_no_, on_item, on_bad);
    }
    partial_line_.clear();
  }
  EmitText(on_item, on_bad);
  return absl::OkStatus();
}

}  // namespace mw::contract
