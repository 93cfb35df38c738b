// Splitter: runs a contract's `split` stage over one input streamed in chunks, turning it into
// Items (CSV rows, JSONL records, chunks of lines or characters) with consecutive indexes from 0.
// Bad rows are quarantined with their line and reason; they never stop the split.
//
//   Splitter splitter(stage.split(), input.format());
//   MW_RETURN_IF_ERROR(splitter.Feed(chunk, on_item, on_bad));
//   MW_RETURN_IF_ERROR(splitter.Finish(on_item, on_bad));
#ifndef MW_ENGINE_CONTRACT_SPLITTER_H_
#define MW_ENGINE_CONTRACT_SPLITTER_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/contract/csv_reader.h"
#include "microwork/v1/contract.pb.h"

namespace mw::contract {

struct BadRow {
  uint64_t line = 0;
  std::string reason;
};

class Splitter {
 public:
  using OnItem = std::function<void(microwork::v1::Item)>;
  using OnBad = std::function<void(BadRow)>;
  // Looks at a row's item before it takes an index: returns why the row is refused (it goes to
  // `on_bad` and takes no index), or "" to keep it, as it may have changed it.
  using CheckItem = std::function<std::string(microwork::v1::Item*)>;

  struct Options {
    size_t max_record_bytes = 64 * 1024;  // a JSONL line or a text chunk
    CsvReader::Options csv;
  };

  Splitter(const microwork::v1::SplitStage& spec, microwork::v1::InputFormat format)
      : Splitter(spec, format, Options()) {}
  Splitter(const microwork::v1::SplitStage& spec, microwork::v1::InputFormat format,
           Options options);

  // INVALID_ARGUMENT only for what makes the whole input unusable (a bad CSV header); the
  // error names the line. Bad rows go to `on_bad`.
  [[nodiscard]] absl::Status Feed(absl::string_view data, const OnItem& on_item,
                                  const OnBad& on_bad);
  [[nodiscard]] absl::Status Finish(const OnItem& on_item, const OnBad& on_bad);

  // Every CSV and JSONL row passes `check` from now on (text chunks are not rows of fields).
  void set_check(CheckItem check) { check_ = std::move(check); }

  uint64_t items() const { return next_index_; }
  uint64_t quarantined() const { return quarantined_; }

 private:
  absl::Status OnCsvRow(CsvReader::Row row, const OnItem& on_item, const OnBad& on_bad);
  void OnLine(std::string line, uint64_t line_no, const OnItem& on_item, const OnBad& on_bad);
  void EmitText(const OnItem& on_item, const OnBad& on_bad);
  void Emit(microwork::v1::Item item, const OnItem& on_item, const OnBad& on_bad);
  void Bad(uint64_t line, std::string reason, const OnBad& on_bad);

  microwork::v1::SplitStage spec_;
  microwork::v1::InputFormat format_;
  Options options_;
  CsvReader csv_;
  std::vector<std::string> header_;
  absl::Status error_;
  // Line-oriented formats.
  std::string partial_line_;
  bool line_too_long_ = false;
  uint64_t line_no_ = 0;
  // Text chunking.
  std::string text_;
  uint64_t text_start_line_ = 1;
  uint64_t text_units_ = 0;  // lines or code points in text_
  CheckItem check_;
  uint64_t next_index_ = 0;
  uint64_t quarantined_ = 0;
};

}  // namespace mw::contract

#endif  // MW_ENGINE_CONTRACT_SPLITTER_H_
