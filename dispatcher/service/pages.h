// An export's rows go out many to a message (ResultPage, AnswerPage): up to kPageRows rows or
// kPageBytes bytes, whichever comes first (a client takes messages of up to 4 MiB by default).
// The rows are made on a thread of their own and handed over kBatchRows (or kPageBytes) at a
// time; the handler's thread gathers them into pages and sends each (at most kBatchesAhead
// batches wait). So reading the store and writing to the network overlap: an export of a million
// rows runs at the slower of the two, not at their sum. Memory stays that of about
// kBatchesAhead + 2 pages however many rows there are and however large.
//
//   absl::Status s = SendPages<v1::ResultPage, v1::ResultRecord>(
//       writer, &v1::ResultPage::add_results,
//       [&](const std::function<bool(v1::ResultRecord&&)>& put) {
//         return engine->ExportResults(job, put);  // put: false once the client has gone
//       });
//
// An export asked for in a format (CSV, JSONL) goes out as its file's text instead
// (SendTextPages): each row is written as text on the thread that made it, and a page holds
// about kTextPageBytes of whole rows. The rows are neither measured nor handed over nor
// serialized one by one, and the client has only to write the text out.
#ifndef MW_DISPATCHER_SERVICE_PAGES_H_
#define MW_DISPATCHER_SERVICE_PAGES_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "engine/common/run_ahead.h"
#include "grpcpp/support/sync_stream.h"

namespace mw::rpc {

inline constexpr int kPageRows = 1024;
inline constexpr size_t kPageBytes = 1 << 20;
inline constexpr size_t kBatchRows = 256;
inline constexpr size_t kBatchesAhead = 8;
inline constexpr size_t kTextPageBytes = 256 << 10;
inline constexpr size_t kMaxTextPageBytes = 1 << 20;

// Calls `produce` on a thread of its own with a `put` that gathers rows into pages, and writes
// each full page to `writer` on this thread, in order; then the last, partly full one unless
// `produce` failed. Returns what `produce` returned (OK once the client has gone). Once a write
// fails (the client has gone), `put` returns false, and `produce` is expected to stop soon after.
template <typename Page, typename Row>
absl::Status SendPages(
    grpc::ServerWriterInterface<Page>* writer, Row* (Page::*add)(),
    const std::function<absl::Status(const std::function<bool(Row&&)>&)>& produce) {
  Page page;
  int rows = 0;
  size_t bytes = 0;
  bool sent = true;  // every write so far went through
  absl::Status produced = RunAhead<Row>(
      produce,
      [&](Row& row) -> absl::StatusOr<bool> {
        bytes += static_cast<size_t>(row.GetCachedSize());  // measured by the maker
        *(page.*add)() = std::move(row);
        if (++rows < kPageRows && bytes < kPageBytes) return true;
        sent = writer->Write(page);
        page.Clear();
        rows = 0;
        bytes = 0;
        return sent;
      },
      {.batch_items = kBatchRows,
       .batches_ahead = kBatchesAhead,
       // Measured where it stays (a move does not carry the measure): the pages read it back.
       .weigh = [](const Row& row) { return row.ByteSizeLong(); },
       .batch_weight = kPageBytes});
  if (produced.ok() && sent && rows > 0) writer->Write(page);
  return produced;
}

// As SendPages, but `write` appends each row's text (whole lines) on the making thread, and a
// page holds the text of whole rows (`Page::text`) and their number (`Page::rows`): it ends with
// the row that takes it to kTextPageBytes or past. Text longer than kMaxTextPageBytes (a row that
// long, say) goes over several pages of that size, its rows counted on the last, so no message
// is larger than a client takes. A failed `produce` sends no last, partly full page: the client
// sees the rows up to a page's end, then the error.
template <typename Page, typename Row>
absl::Status SendTextPages(
    grpc::ServerWriterInterface<Page>* writer,
    const std::function<void(const Row&, std::string*)>& write,
    const std::function<absl::Status(const std::function<bool(Row&&)>&)>& produce) {
  struct Text {
    std::string text;
    uint64_t rows = 0;
  };
  return RunAhead<Text>(
      [&](const std::function<bool(Text &&)>& put) -> absl::Status {
        Text text;
        text.text.reserve(kTextPageBytes + kTextPageBytes / 4);
        bool taken = true;  // every text put so far was taken
        absl::Status made = produce([&](Row&& row) {
          write(row, &text.text);
          ++text.rows;
          if (text.text.size() < kTextPageBytes) return true;
          taken = put(std::move(text));
          text = Text();
          text.text.reserve(kTextPageBytes + kTextPageBytes / 4);
          return taken;
        });
        if (made.ok() && taken && text.rows > 0) put(std::move(text));
        return made;
      },
      [&](Text& text) -> absl::StatusOr<bool> {
        Page page;
        size_t at = 0;
        for (; text.text.size() - at > kMaxTextPageBytes; at += kMaxTextPageBytes) {
          page.set_text(text.text.substr(at, kMaxTextPageBytes));
          if (!writer->Write(page)) return false;
        }
        page.set_text(at == 0 ? std::move(text.text) : text.text.substr(at));
        page.set_rows(text.rows);
        return writer->Write(page);
      },
      {.batch_items = 1, .batches_ahead = kBatchesAhead});
}

}  // namespace mw::rpc

#endif  // MW_DISPATCHER_SERVICE_PAGES_H_
