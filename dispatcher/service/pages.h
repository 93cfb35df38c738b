// An export's rows go out many to a message (ResultPage, AnswerPage): up to kPageRows rows or
// kPageBytes bytes, whichever comes first (a client takes messages of up to 4 MiB by default).
// The rows are made on a thread of their own while the handler's thread sends the pages made
// before (at most kPagesAhead wait), so reading the store and writing to the network overlap: an
// export of a million rows runs at the slower of the two, not at their sum. Memory stays that of
// a few pages however many rows there are.
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

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/sync_stream.h"

namespace mw::rpc {

inline constexpr int kPageRows = 1024;
inline constexpr size_t kPageBytes = 1 << 20;
inline constexpr size_t kPagesAhead = 2;

namespace pages_internal {

// What the two threads share: the pages made and not yet sent, and how each side ended.
template <typename Page>
struct Queue {
  absl::Mutex mu;
  std::deque<std::unique_ptr<Page>> ready ABSL_GUARDED_BY(mu);
  bool done ABSL_GUARDED_BY(mu) = false;  // `produce` has returned
  bool gone ABSL_GUARDED_BY(mu) = false;  // a write failed: the client has gone
  absl::Status produced ABSL_GUARDED_BY(mu);

  bool Room() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return ready.size() < kPagesAhead || gone; }
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
  pages_internal::Queue<Page> q;
  std::thread maker([&] {
    auto page = std::make_unique<Page>();
    int rows = 0;
    size_t bytes = 0;
    // Hands the page over, waiting while kPagesAhead wait already. False once the client has gone.
    auto hand_over = [&]() -> bool {
      absl::MutexLock l(&q.mu);
      q.mu.Await(absl::Condition(&q, &pages_internal::Queue<Page>::Room));
      if (q.gone) return false;
      q.ready.push_back(std::move(page));
      page = std::make_unique<Page>();
      rows = 0;
      bytes = 0;
      return true;
    };
    absl::Status s = produce([&](Row&& row) {
      bytes += row.ByteSizeLong();
      *((*page).*add)() = std::move(row);
      return ++rows < kPageRows && bytes < kPageBytes ? true : hand_over();
    });
    if (s.ok() && rows > 0) hand_over();
    absl::MutexLock l(&q.mu);
    q.produced = std::move(s);
    q.done = true;
  });
  while (true) {
    std::unique_ptr<Page> page;
    {
      absl::MutexLock l(&q.mu);
      q.mu.Await(absl::Condition(&q, &pages_internal::Queue<Page>::ToSend));
      if (q.ready.empty()) break;  // made and sent, every one
      page = std::move(q.ready.front());
      q.ready.pop_front();
    }
    if (!writer->Write(*page)) {
      absl::MutexLock l(&q.mu);
      q.gone = true;
      break;
    }
  }  // each page is freed here, on this thread, beside the making of the next
  maker.join();
  absl::MutexLock l(&q.mu);
  return q.produced;
}

}  // namespace mw::rpc

#endif  // MW_DISPATCHER_SERVICE_PAGES_H_
