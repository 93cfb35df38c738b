#include "engine/contract/answers_csv.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/contract/csv_reader.h"

namespace mw::contract {
namespace {

// Streams `path` through the CSV reader, calling `row` for each data row (after the header).
absl::Status ForEachRow(
    const std::string& path, size_t fields,
    const std::function<absl::Status(std::vector<std::string>&, uint64_t line)>& row) {
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
    status = row(r.fields, r.line);
  };
  std::string buf(1 << 16, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    reader.Feed(absl::string_view(buf.data(), static_cast<size_t>(in.gcount())), on_row);
  }
  reader.Finish(on_row);
  return status;
}

// The plain case, at memory speed: a file of valid UTF-8 with no quotes, no carriage returns and
// no line past the reader's row limit is read whole and split on newlines and commas, each row
// as the CSV reader would give it. NOT_FOUND when `path` cannot be read; nullopt when the file
// is not plain (the caller uses the CSV reader); otherwise the first bad row's error, or OK.
std::optional<absl::Status> ReadPlainAnswers(const std::string& path, qa::CrowdData* data) {
  // Mapped with its pages populated at once: one call, not a fault per page as it is read.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat(path, ": cannot read"));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t{1} << 32)) {
    close(fd);
    return std::nullopt;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  void* mapped =
      size == 0 ? nullptr : mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  close(fd);
  if (mapped == MAP_FAILED) return std::nullopt;
  struct Unmap {
    void* p;
    size_t n;
    ~Unmap() {
      if (p != nullptr) munmap(p, n);
    }
  } unmap{mapped, size};
  const absl::string_view text(static_cast<const char*>(mapped), size);
  // Two memchr scans: find_first_of tests every byte against the set one by one.
  if (text.find('"') != absl::string_view::npos || text.find('\r') != absl::string_view::npos ||
      !IsValidUtf8(text) || absl::StartsWith(text, "\xEF\xBB\xBF")) {
    return std::nullopt;
  }
  const size_t max_row = CsvReader::Options().max_row_bytes;
  data->Reserve(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')));
  absl::string_view rest(text);
  uint64_t line = 0;
  while (!rest.empty()) {
    ++line;
    const size_t end = rest.find('\n');
    const absl::string_view row = rest.substr(0, end);
    rest.remove_prefix(end == absl::string_view::npos ? rest.size() : end + 1);
    if (row.size() >= max_row) return std::nullopt;  // the reader's own error says why
    const size_t a = row.find(','), b = a == absl::string_view::npos ? a : row.find(',', a + 1);
    if (b == absl::string_view::npos || row.find(',', b + 1) != absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", line, ": expected 3 fields, got ",
                                                     std::count(row.begin(), row.end(), ',') + 1));
    }
    if (line == 1) continue;  // the header
    data->Add(row.substr(0, a), row.substr(a + 1, b - a - 1), row.substr(b + 1));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<qa::CrowdData> ReadAnswersCsv(const std::string& path) {
  qa::CrowdData data;
  std::optional<absl::Status> plain = ReadPlainAnswers(path, &data);
  if (plain.has_value()) {
    if (!plain->ok()) return *plain;
  } else {
    data = qa::CrowdData();
    absl::Status s = ForEachRow(path, 3, [&](std::vector<std::string>& f, uint64_t) {
      data.Add(f[0], f[1], f[2]);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
  }
  data.Finalize();
  return data;
}

absl::StatusOr<std::map<std::string, std::string>> ReadGoldCsv(const std::string& path) {
  std::map<std::string, std::string> gold;
  absl::Status s = ForEachRow(path, 2, [&](std::vector<std::string>& f, uint64_t) {
    gold[f[0]] = f[1];
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return gold;
}

absl::StatusOr<std::vector<qa::PairVote>> ReadComparisonsCsv(const std::string& path) {
  std::vector<qa::PairVote> votes;
  absl::Status s = ForEachRow(path, 4, [&](std::vector<std::string>& f, uint64_t line) {
    qa::PairVote v{f[0], f[1], f[2], false};
    const std::string& winner = f[3];
    if (v.a.empty() || v.b.empty() || v.a == v.b) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ":", line, ": expected two different items, got \"", v.a, "\" and \"", v.b, "\""));
    }
    if (winner == "a" || winner == v.a) {
      v.a_won = true;
    } else if (winner != "b" && winner != v.b) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", line, ": the winner \"", winner,
                                                     "\" is neither a nor b (", v.a, " or ", v.b,
                                                     ")"));
    }
    votes.push_back(std::move(v));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return votes;
}

}  // namespace mw::contract
