// CommitQueue: group commit that keeps order. Batches are written in the order they were
// enqueued, all that are waiting at once in one synced RocksDB write, so many concurrent
// acknowledgements share one fsync.
//
// The domain enqueues under its own lock, in the same critical section that changed its memory,
// so the order on disk is the order in memory and a crash loses at most a suffix; it replies to a
// client only after WaitDurable.
//
//   uint64_t ticket;
//   { absl::MutexLock l(&mu_); ...; ticket = queue_.Enqueue(std::move(batch)); }
//   MW_RETURN_IF_ERROR(queue_.WaitDurable(ticket));
//
// Thread-safe.
#ifndef MW_ENGINE_STORAGE_COMMIT_QUEUE_H_
#define MW_ENGINE_STORAGE_COMMIT_QUEUE_H_

#include <cstdint>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "engine/storage/store.h"

namespace mw::storage {

class CommitQueue {
 public:
  // `store` must outlive the queue.
  explicit CommitQueue(Store* store);
  // Writes everything already enqueued, then stops the writer.
  ~CommitQueue();
  CommitQueue(const CommitQueue&) = delete;
  CommitQueue& operator=(const CommitQueue&) = delete;

  // Queues `batch` for a synced write and returns its ticket (1, 2, 3...).
  uint64_t Enqueue(Batch batch);

  // Blocks until the batch with `ticket`, and every one before it, is durable. After a write
  // fails, this and every later call return that error: memory is ahead of disk and the process
  // must restart and recover from what is durable.
  [[nodiscard]] absl::Status WaitDurable(uint64_t ticket);

  // The ticket of the last enqueued batch (0 when none); waiting on it makes everything seen so
  // far durable.
  uint64_t LastTicket() const;

  // The ticket up to which every batch is durable, and readable from the store (0: none yet).
  uint64_t DurableTicket() const;

  // Writes completed since start, and batches in them, for metrics and benchmarks.
  uint64_t groups_written() const;

  // Bytes enqueued and not yet durable: what admission control bounds (the engine refuses new
  // work with RESOURCE_EXHAUSTED while this is above its limit, so memory stays bounded).
  uint64_t WaitingBytes() const;

  // While paused the writer takes no new group (tickets still queue up); Resume lets it go on.
  // Destruction writes everything regardless. For tests of what happens while disk lags.
  void Pause();
  void Resume();
  // Blocks until at least `bytes` are waiting (tests: "the call has enqueued its change").
  void AwaitWaitingBytes(uint64_t bytes) const;

 private:
  void Run();

  Store* const store_;
  mutable absl::Mutex mu_;
  std::vector<Batch> pending_ ABSL_GUARDED_BY(mu_);
  uint64_t enqueued_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t durable_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t groups_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t waiting_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread writer_;
};

}  // namespace mw::storage

#endif  // MW_ENGINE_STORAGE_COMMIT_QUEUE_H_
