#include "engine/contract/answers_csv.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "engine/contract/csv_reader.h"

namespace mw::contract {
namespace {

// Streams `path` through the CSV reader, calling `row` for each data row (after the header).
absl::Status ForEachRow(const std::string& path, size_t fields,
                        const std::function<void(std::vector<std::string>&)>& row) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read"));
  CsvReader reader;
  absl::Status status;
  bool header = true;
  auto on_row = [&](CsvReader::Row r) {
    if (!status.ok()) return;
    if (!r.error.empty() || r.fields.size() != fields) {
      status = absl::InvalidArgumentError(absl::StrCat(
          path, ":", r.line, ": expected ", fields, " fields",
          r.error.empty() ? absl::StrCat(", got ", r.fields.size()) : absl::StrCat(": ", r.error)));
      return;
    }
    if (header) {
      header = false;
      return;
    }
    row(r.fields);
  };
  std::string buf(1 << 16, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    reader.Feed(absl::string_view(buf.data(), static_cast<size_t>(in.gcount())), on_row);
  }
  reader.Finish(on_row);
  return status;
}

}  // namespace

absl::StatusOr<qa::CrowdData> ReadAnswersCsv(const std::string& path) {
  qa::CrowdData data;
  absl::Status s =
      ForEachRow(path, 3, [&](std::vector<std::string>& f) { data.Add(f[0], f[1], f[2]); });
  if (!s.ok()) return s;
  data.Finalize();
  return data;
}

absl::StatusOr<std::map<std::string, std::string>> ReadGoldCsv(const std::string& path) {
  std::map<std::string, std::string> gold;
  absl::Status s = ForEachRow(path, 2, [&](std::vector<std::string>& f) { gold[f[0]] = f[1]; });
  if (!s.ok()) return s;
  return gold;
}

}  // namespace mw::contract
