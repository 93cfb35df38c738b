#include "engine/contract/csv_reader.h"

#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace mw::contract {

size_t ValidUtf8Prefix(absl::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    // Eight ASCII bytes at a time, the common case: none has its top bit set.
    for (uint64_t word; i + 8 <= n; i += 8) {
      std::memcpy(&word, s.data() + i, 8);
      if ((word & 0x8080808080808080u) != 0) break;
    }
    if (i == n) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return n;
}

void CsvReader::Fail(std::string why) {
  if (row_.error.empty()) row_.error = std::move(why);
}

void CsvReader::Append(char c) {
  if (field_.size() >= options_.max_field_bytes) {
    Fail(absl::StrCat("field ", row_.fields.size() + 1, " is longer than ",
                      options_.max_field_bytes, " bytes"));
    state_ = State::kSkipToEol;
    return;
  }
  if (row_bytes_ >= options_.max_row_bytes) {
    Fail(absl::StrCat("the row is longer than ", options_.max_row_bytes,
                      " bytes (all its fields together)"));
    state_ = State::kSkipToEol;
    return;
  }
  field_.push_back(c);
  ++row_bytes_;
}

void CsvReader::EndField() {
  if (row_.error.empty()) {
    if (row_.fields.size() >= options_.max_fields) {
      Fail(absl::StrCat("more than ", options_.max_fields, " fields"));
    } else if (!IsValidUtf8(field_)) {
      Fail(absl::StrCat("field ", row_.fields.size() + 1, " is not valid UTF-8"));
    } else {
      row_.fields.push_back(std::move(field_));
    }
  }
  field_.clear();
}

void CsvReader::EndRow(const Emit& emit) {
  EndField();
  if (!row_.error.empty()) row_.fields.clear();
  emit(std::move(row_));
  row_ = Row();
  row_started_ = false;
  row_bytes_ = 0;
  state_ = State::kFieldStart;
}

void CsvReader::Feed(absl::string_view data, const Emit& emit) {
  for (char c : data) {
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') continue;  // CRLF: the row already ended at CR
    }
    if (!row_started_) {
      if (c == '\n' || c == '\r') {  // blank line: not a row
        if (c == '\r') after_cr_ = true;
        ++line_;
        continue;
      }
      row_started_ = true;
      row_.line = line_;
    }
    switch (state_) {
      case State::kFieldStart:
        if (c == '"') {
          state_ = State::kQuoted;
          break;
        }
        state_ = State::kUnquoted;
        [[fallthrough]];
      case State::kUnquoted:
        if (c == ',') {
          EndField();
          state_ = State::kFieldStart;
        } else if (c == '\n' || c == '\r') {
          after_cr_ = c == '\r';
          ++line_;
          EndRow(emit);
        } else if (c == '"') {
          Fail(absl::StrCat("field ", row_.fields.size() + 1,
                            " has a quote but does not start with one"));
          state_ = State::kSkipToEol;
        } else {
          Append(c);
        }
        break;
      case State::kQuoted:
        if (c == '"') {
          state_ = State::kQuoteInQuoted;
        } else {
          if (c == '\n') ++line_;
          Append(c);
        }
        break;
      case State::kQuoteInQuoted:
        if (c == '"') {
          Append('"');
          state_ = State::kQuoted;
        } else if (c == ',') {
          EndField();
          state_ = State::kFieldStart;
        } else if (c == '\n' || c == '\r') {
          after_cr_ = c == '\r';
          ++line_;
          EndRow(emit);
        } else {
          Fail(absl::StrCat("field ", row_.fields.size() + 1,
                            " has characters after its closing quote"));
          state_ = State::kSkipToEol;
        }
        break;
      case State::kSkipToEol:
        // A bad row ends at the next newline; inside a broken quote we cannot know better.
        if (c == '\n' || c == '\r') {
          after_cr_ = c == '\r';
          ++line_;
          EndRow(emit);
        }
        break;
    }
  }
}

void CsvReader::Finish(const Emit& emit) {
  if (!row_started_) return;
  if (state_ == State::kQuoted) Fail("the input ends inside a quoted field");
  EndRow(emit);
}

}  // namespace mw::contract
