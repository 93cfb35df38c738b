// Two halves of one long pass on two threads: `produce` runs on a thread of its own and puts
// what it makes; `consume` takes each, in order, on the calling thread. What is made is handed
// over a batch at a time (at most `batch_items` items, or `batch_weight` by `weigh`), and at most
// `batches_ahead` batches wait, so memory stays that of about batches_ahead + 2 batches however
// long the pass. The halves overlap: the pass runs at the slower of the two, not their sum.
//
//   absl::Status s = RunAhead<Row>(
//       [&](const std::function<bool(Row&&)>& put) -> absl::Status {
//         for (...) if (!put(MakeRow(...))) return absl::OkStatus();  // the taker has stopped
//         return absl::OkStatus();
//       },
//       [&](Row& row) -> absl::StatusOr<bool> { return Send(row); },  // false: stop
//       {.batch_items = 64, .batches_ahead = 8});
//
// Every item put before `produce` returned, failed or not, reaches `consume` unless `consume`
// stopped first (returned false or an error). Once it has, `put` returns false and drops the
// item; `produce` is expected to return soon after (RunAhead waits for it). Returns the error
// `consume` returned; OK when it stopped by returning false (what was made past that point was
// not asked for); else what `produce` returned. RESOURCE_EXHAUSTED when no thread can be started.
// An exception thrown by `produce` becomes INTERNAL; one thrown by `consume` stops the maker and
// goes on to the caller. Each batch is freed on the calling thread.
#ifndef MW_ENGINE_COMMON_RUN_AHEAD_H_
#define MW_ENGINE_COMMON_RUN_AHEAD_H_

#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace mw {

template <typename T>
struct RunAheadOptions {
  size_t batch_items = 64;
  size_t batches_ahead = 8;
  // How much an item weighs, measured on the making thread (null: nothing); a batch is handed
  // over once it weighs `batch_weight`.
  std::function<size_t(const T&)> weigh;
  size_t batch_weight = 0;
};

namespace run_ahead_internal {

// What the two threads share: the batches made and not yet taken, and how each side ended.
template <typename T>
struct Queue {
  explicit Queue(size_t ahead) : ahead(ahead > 0 ? ahead : 1) {}
  const size_t ahead;
  absl::Mutex mu;
  std::deque<std::vector<T>> ready ABSL_GUARDED_BY(mu);
  bool done ABSL_GUARDED_BY(mu) = false;     // `produce` has returned
  bool stopped ABSL_GUARDED_BY(mu) = false;  // `consume` has stopped taking
  absl::Status produced ABSL_GUARDED_BY(mu);

  bool Room() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return ready.size() < ahead || stopped; }
  bool ToTake() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return !ready.empty() || done; }
};

}  // namespace run_ahead_internal

template <typename T>
absl::Status RunAhead(const std::function<absl::Status(const std::function<bool(T&&)>&)>& produce,
                      const std::function<absl::StatusOr<bool>(T&)>& consume,
                      const RunAheadOptions<T>& options = {}) {
  run_ahead_internal::Queue<T> q(options.batches_ahead);
  // Stops the maker and waits for it however this function is left (an exception included).
  struct Joiner {
    run_ahead_internal::Queue<T>& q;
    std::thread maker;
    ~Joiner() {
      if (!maker.joinable()) return;
      {
        absl::MutexLock l(&q.mu);
        q.stopped = true;
      }
      maker.join();
    }
  } joiner{q, {}};
  auto make = [&] {
    std::vector<T> batch;
    batch.reserve(options.batch_items);
    size_t weight = 0;
    // Hands the batch over, waiting while `batches_ahead` wait already. False once the taker has
    // stopped.
    auto hand_over = [&]() -> bool {
      absl::MutexLock l(&q.mu);
      q.mu.Await(absl::Condition(&q, &run_ahead_internal::Queue<T>::Room));
      if (q.stopped) return false;
      q.ready.push_back(std::move(batch));
      batch = std::vector<T>();
      batch.reserve(options.batch_items);
      weight = 0;
      return true;
    };
    absl::Status s;
    try {
      s = produce([&](T&& item) {
        batch.push_back(std::move(item));
        if (options.weigh) weight += options.weigh(batch.back());
        const bool full = batch.size() >= options.batch_items ||
                          (options.batch_weight > 0 && weight >= options.batch_weight);
        return full ? hand_over() : true;
      });
    } catch (const std::exception& e) {
      s = absl::InternalError(e.what());
    }
    if (!batch.empty()) hand_over();  // even after a failure: what was made is taken
    absl::MutexLock l(&q.mu);
    q.produced = std::move(s);
    q.done = true;
  };
  try {
    joiner.maker = std::thread(make);
  } catch (const std::system_error& e) {
    return absl::ResourceExhaustedError(absl::StrCat("no thread to make on: ", e.what()));
  }
  absl::Status consumed;
  bool taking = true;
  while (taking) {
    std::vector<T> batch;
    {
      absl::MutexLock l(&q.mu);
      q.mu.Await(absl::Condition(&q, &run_ahead_internal::Queue<T>::ToTake));
      if (q.ready.empty()) break;  // made and handed over, every one
      batch = std::move(q.ready.front());
      q.ready.pop_front();
    }
    for (T& item : batch) {
      absl::StatusOr<bool> more = consume(item);
      if (!more.ok()) consumed = more.status();
      if (!more.ok() || !*more) {
        taking = false;
        break;
      }
    }
  }  // each batch is freed here, on this thread, beside the making of the next
  if (!taking) {
    absl::MutexLock l(&q.mu);
    q.stopped = true;
  }
  joiner.maker.join();
  if (!taking) return consumed;
  absl::MutexLock l(&q.mu);
  return std::move(q.produced);
}

}  // namespace mw

#endif  // MW_ENGINE_COMMON_RUN_AHEAD_H_
