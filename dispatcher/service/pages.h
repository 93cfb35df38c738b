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
#ifndef MW_DISPATCHER_SERVICE_PAGES_H_
#define MW_DISPATCHER_SERVICE_PAGES_H_

#include <functional>

#include "absl/status/status.h"
#include "engine/common/run_ahead.h"
#include "grpcpp/support/sync_stream.h"

namespace mw::rpc {

inline constexpr int kPageRows = 1024;
inline constexpr size_t kPageBytes = 1 << 20;
inline constexpr size_t kBatchRows = 256;
inline constexpr size_t kBatchesAhead = 8;

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

}  // namespace mw::rpc

#endif  // MW_DISPATCHER_SERVICE_PAGES_H_
