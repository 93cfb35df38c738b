// AssignmentCache: the assignments the agent leased ahead so work goes on through outages, in
// their own column family (kAssignments), with the lease request in flight (kMeta), so that a
// retry after a lost reply sends the same request and gets the same assignments back.
//
//   AssignmentCache cache(store);
//   MW_RETURN_IF_ERROR(cache.Load());
//   MW_ASSIGN_OR_RETURN(v1::LeaseRequest req, cache.PendingLease(credits));  // stored first
//   MW_RETURN_IF_ERROR(cache.SaveLease(reply));
//   std::optional<v1::CachedAssignment> next = cache.OpenNext("w1a2b3", now_ms);
//
// Not thread-safe: AgentState holds its lock around every call.
#ifndef MW_WORKER_AGENT_STATE_ASSIGNMENT_CACHE_H_
#define MW_WORKER_AGENT_STATE_ASSIGNMENT_CACHE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "engine/storage/store.h"
#include "microwork/v1/records.pb.h"
#include "microwork/v1/services.pb.h"

namespace mw::centre {

class AssignmentCache {
 public:
  // `store` must outlive the cache.
  explicit AssignmentCache(storage::Store* store) : store_(store) {}
  AssignmentCache(const AssignmentCache&) = delete;
  AssignmentCache& operator=(const AssignmentCache&) = delete;

  // Reads the held assignments (in lease order) and the request in flight; DATA_LOSS naming the
  // key of a record that does not parse.
  [[nodiscard]] absl::Status Load();

  // The lease request in flight; when there is none, `credits` becomes one with a fresh key,
  // stored (synced) before it is returned.
  [[nodiscard]] absl::StatusOr<microwork::v1::LeaseRequest> PendingLease(
      const std::vector<microwork::v1::WorkerCredit>& credits);
  // Forgets the request in flight without a reply.
  [[nodiscard]] absl::Status AbandonLease();
  // Stores the assignments of a lease reply (each with its stage's spec) and retires the
  // request, in one synced write. Assignments held already are kept as they are.
  [[nodiscard]] absl::Status SaveLease(const microwork::v1::LeaseReply& reply);

  // From now on OpenNext and PeekNext give the assignment the worker opened, or else the oldest
  // one `ready` accepts (the agent: every media file its item names is on disk).
  void set_ready(std::function<bool(const microwork::v1::CachedAssignment&)> ready) {
    ready_ = std::move(ready);
  }
  // Every media file the held assignments' items name, each once, in lease order per worker.
  std::vector<microwork::v1::Media> HeldMedia() const;

  // How many assignments are held for `worker`.
  size_t HeldFor(const std::string& worker) const;
  // The oldest ready assignment held for `worker`, marked opened at `now_ms` if it was not (memory
  // only: time on task is counted from here).
  std::optional<microwork::v1::CachedAssignment> OpenNext(const std::string& worker,
                                                          int64_t now_ms);
  // The oldest ready assignment held for `worker`, left unopened.
  std::optional<microwork::v1::CachedAssignment> PeekNext(const std::string& worker) const;
  // Every assignment held for `worker`, in lease order.
  std::vector<microwork::v1::CachedAssignment> HeldBy(const std::string& worker) const;
  // Ids of every assignment held, and of those a worker has opened.
  std::vector<std::string> HeldIds() const;
  std::vector<std::string> OpenedIds() const;
  // The held assignment `id`, or nullptr.
  const microwork::v1::CachedAssignment* Find(const std::string& id) const;

  // Drops the assignments `ids` (unknown ones are ignored), synced.
  [[nodiscard]] absl::Status Drop(const std::vector<std::string>& ids);
  // Replaces held `old_id` with the dispatcher's reassignment, synced. NOT_FOUND when `old_id`
  // is not held.
  [[nodiscard]] absl::Status Move(const std::string& old_id,
                                  const microwork::v1::ReassignReply& moved);

  // An answer to `id` is being saved: its deletion goes into `batch` (written with the answer);
  // Forget it once that write is durable.
  void PutAnswered(const std::string& id, storage::Batch* batch) const;
  void Forget(const std::string& id);

 private:
  void Hold(microwork::v1::CachedAssignment a);
  // The id of the oldest ready assignment held for `worker`, or nullptr.
  const std::string* NextFor(const std::string& worker) const;

  storage::Store* const store_;
  // Held assignments by id, and per worker in lease order.
  absl::flat_hash_map<std::string, microwork::v1::CachedAssignment> held_;
  std::map<std::string, std::deque<std::string>> by_worker_;
  std::optional<microwork::v1::LeaseRequest> pending_lease_;
  std::function<bool(const microwork::v1::CachedAssignment&)> ready_;
};

}  // namespace mw::centre

#endif  // MW_WORKER_AGENT_STATE_ASSIGNMENT_CACHE_H_
