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

#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/sync_stream.h"

namespace mw::rpc {

inline constexpr int kPageRows = 1024;
inline constexpr size_t kPageBytes = 1 << 20;
inline constexpr size_t kBatchRows = 256;
inline constexpr size_t kBatchesAhead = 8;

namespace pages_internal {

// What the two threads share: the batches of rows made and not yet sent, and how each side
// ended.
template <typename Row>
struct Queue {
  absl::Mutex mu;
  std::deque<std::vector<Row>> ready ABSL_GUARDED_BY(mu);
  bool done ABSL_GUARDED_BY(mu) = false;  // `produce` has returned
  bool gone ABSL_GUARDED_BY(mu) = false;  // a write failed: the client has gone
  absl::Status produced ABSL_GUARDED_BY(mu);

  bool Room() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return ready.size() < kBatchesAhead || gone;
  }
  bool ToSend() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return !ready.empty() || done; }
};

}  // namespace pages_internal

// Calls `produce` on a thread of its own with a `put` that gathers rows into pages, and writes
// each full page to `writer` on this thread, in order; then the last, partly full one unless
// `produce` failed. Returns what `produce` returned. Once a write fails (the client has gone),
// `put` returns false, and `produce` is expected to stop soon after.
template <typename Page, typename Row>
absl::Status SendPages(
    grpc::ServerWriterInterface<Page>* writer, Row* (Page::*add)(),
    const std::function<absl::Status(const std::function<bool(Row&&)>&)>& produce) {
  pages_internal::Queue<Row> q;
  std::thread maker([&] {
    std::vector<Row> batch;
    batch.reserve(kBatchRows);
    size_t batch_bytes = 0;
    // Hands the batch over, waiting while kBatchesAhead wait already. False once the client has
    // gone.
    auto hand_over = [&]() -> bool {
      absl::MutexLock l(&q.mu);
      q.mu.Await(absl::Condition(&q, &pages_internal::Queue<Row>::Room));
      if (q.gone) return false;
      q.ready.push_back(std::move(batch));
      batch = std::vector<Row>();
      batch.reserve(kBatchRows);
      batch_bytes = 0;
      return true;
    };
    absl::Status s = produce([&](Row&& row) {
      batch.push_back(std::move(row));
      // Measured where it stays (a move does not carry the measure): the pages read it back.
      batch_bytes += batch.back().ByteSizeLong();
      return batch.size() < kBatchRows && batch_bytes < kPageBytes ? true : hand_over();
    });
    // Even after a failure: what it completes of a page is sent (the rest is held back below).
    if (!batch.empty()) hand_over();
    absl::MutexLock l(&q.mu);
    q.produced = std::move(s);
    q.done = true;
  });
  Page page;
  int rows = 0;
  size_t bytes = 0;
  bool sent = true;  // every write so far went through
  while (sent) {
    std::vector<Row> batch;
    {
      absl::MutexLock l(&q.mu);
      q.mu.Await(absl::Condition(&q, &pages_internal::Queue<Row>::ToSend));
      if (q.ready.empty()) break;  // made and handed over, every one
      batch = std::move(q.ready.front());
      q.ready.pop_front();
    }
    for (Row& row : batch) {
      bytes += static_cast<size_t>(row.GetCachedSize());  // measured by the maker
      *(page.*add)() = std::move(row);
      if (++rows < kPageRows && bytes < kPageBytes) continue;
      sent = writer->Write(page);
      page.Clear();
      rows = 0;
      bytes = 0;
      if (!sent) break;
    }
  }  // each batch is freed here, on this thread, beside the making of the next
  if (!sent) {
    absl::MutexLock l(&q.mu);
    q.gone = true;
  }
  maker.join();
  absl::Status produced;
  {
    absl::MutexLock l(&q.mu);
    produced = std::move(q.produced);
  }
  if (produced.ok() && sent && rows > 0) writer->Write(page);
  return produced;
}

}  // namespace mw::rpc

#endif  // MW_DISPATCHER_SERVICE_PAGES_H_
