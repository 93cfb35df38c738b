// libFuzzer target: the streaming CSV / JSONL / text splitter, fed in chunks whose sizes the
// input chooses. Items must come out numbered 0, 1, 2..., every bad row with a line and a reason.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "engine/contract/splitter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  namespace v1 = microwork::v1;
  v1::SplitStage spec;
  v1::InputFormat format;
  switch (data[0] % 4) {
    case 0:
      spec.set_by(v1::SPLIT_ROWS);
      format = v1::FORMAT_CSV;
      break;
    case 1:
      spec.set_by(v1::SPLIT_RECORDS);
      format = v1::FORMAT_JSONL;
      break;
    case 2:
      spec.set_by(v1::SPLIT_LINES);
      format = v1::FORMAT_TEXT;
      break;
    default:
      spec.set_by(v1::SPLIT_CHARS);
      format = v1::FORMAT_TEXT;
      break;
  }
  spec.set_chunk_size(1 + data[1] % 7);
  const size_t chunk = 1 + data[1] % 13;
  mw::contract::Splitter::Options options;
  options.max_record_bytes = 256;
  options.csv.max_field_bytes = 64;
  mw::contract::Splitter splitter(spec, format, options);
  uint64_t expected = 0;
  auto on_item = [&](v1::Item item) {
    if (item.index() != expected++ || item.source_line() == 0) std::abort();
  };
  auto on_bad = [&](mw::contract::BadRow bad) {
    if (bad.line == 0 || bad.reason.empty()) std::abort();
  };
  const std::string input(reinterpret_cast<const char*>(data) + 2, size - 2);
  for (size_t i = 0; i < input.size(); i += chunk) {
    if (!splitter.Feed(input.substr(i, chunk), on_item, on_bad).ok()) return 0;
  }
  (void)splitter.Finish(on_item, on_bad);
  if (splitter.items() != expected) std::abort();
  return 0;
}
