// CsvReader: a streaming RFC 4180 reader. It is fed the input in chunks of any size (a chunk may
// end inside a quoted field) and emits complete rows, so memory does not grow with the file.
// A bad row (stray quote, over-long field, invalid UTF-8) is emitted with an error and the
// reader goes on at the next row; nothing stops the stream.
//
//   CsvReader reader;
//   reader.Feed(chunk, [](CsvReader::Row row) { ... });
//   reader.Finish([](CsvReader::Row row) { ... });
#ifndef MW_ENGINE_CONTRACT_CSV_READER_H_
#define MW_ENGINE_CONTRACT_CSV_READER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace mw::contract {

// The length of the longest prefix of `s` that is well-formed UTF-8 (no overlongs, no
// surrogates, nothing above U+10FFFF).
size_t ValidUtf8Prefix(absl::string_view s);
// True when all of `s` is well-formed UTF-8.
inline bool IsValidUtf8(absl::string_view s) { return ValidUtf8Prefix(s) == s.size(); }

class CsvReader {
 public:
  struct Options {
    size_t max_field_bytes = 64 * 1024;
    size_t max_fields = 1024;
    // All of a row's fields together: each item is one row, and an item travels whole in a
    // lease (1024 fields of 64 KB each made one 67 MB item that no lease could carry).
    size_t max_row_bytes = 64 * 1024;
  };
  struct Row {
    uint64_t line = 0;  // 1-based line where the row starts
    std::vector<std::string> fields;
    std::string error;  // non-empty: the row is bad and why
  };
  using Emit = std::function<void(Row)>;

  CsvReader() : CsvReader(Options()) {}
  explicit CsvReader(Options options) : options_(options) {}

  void Feed(absl::string_view data, const Emit& emit);
  // Ends the input: emits a last row without a trailing newline, or an unterminated quote.
  void Finish(const Emit& emit);

 private:
  enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted, kSkipToEol };
  void EndField();
  void EndRow(const Emit& emit);
  void Fail(std::string why);
  void Append(char c);

  Options options_;
  State state_ = State::kFieldStart;
  bool after_cr_ = false;
  uint64_t line_ = 1;
  Row row_;
  std::string field_;
  bool row_started_ = false;
  size_t row_bytes_ = 0;  // of the fields so far
};

}  // namespace mw::contract

#endif  // MW_ENGINE_CONTRACT_CSV_READER_H_
