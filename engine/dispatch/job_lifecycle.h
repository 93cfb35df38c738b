// JobLifecycle: how a job ends. Stop ends one early (cancelled, or its deadline passed): nothing
// new is leased, answers already in are paid now without waiting for a verdict, and the escrow
// nobody can still earn goes back to the client. Live leases keep their wage in escrow while
// they can still be answered ("settling"); when one runs out instead, its wage goes back too.
// Complete ends a job whose every item is finished and returns its unspent escrow. Stopping
// early never takes pay from work already done or already handed out.
//
//   JobLifecycle lifecycle({.jobs = &jobs, .ledger = ledger, ...});
//   MW_RETURN_IF_ERROR(lifecycle.Stop(run, v1::JOB_CANCELLED, "cancel", &batch));
//
// Not thread-safe: the engine holds its lock around every call.
#ifndef MW_ENGINE_DISPATCH_JOB_LIFECYCLE_H_
#define MW_ENGINE_DISPATCH_JOB_LIFECYCLE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "engine/common/clock.h"
#include "engine/dispatch/job_catalogue.h"
#include "engine/dispatch/job_run.h"
#include "engine/dispatch/lease_table.h"
#include "engine/dispatch/paymaster.h"
#include "engine/dispatch/stats.h"
#include "engine/ledger/ledger.h"
#include "engine/storage/store.h"
#include "microwork/v1/records.pb.h"

namespace mw::dispatch {

class JobLifecycle {
 public:
  // What the lifecycle works with; every pointer must outlive it. `changed` is called for each
  // job whose visible state changed (for those watching it).
  struct Parts {
    JobCatalogue* jobs = nullptr;
    ledger::Ledger* ledger = nullptr;
    Paymaster* pay = nullptr;
    LeaseTable* leases = nullptr;
    const Clock* clock = nullptr;
    EngineStats* stats = nullptr;
    std::function<void(JobRun*)> changed;
    // Told the id of a job as it ends (completed or stopped), in the change that ends it.
    std::function<void(const std::string& job_id)> ended;
  };
  explicit JobLifecycle(Parts parts) : p_(std::move(parts)) {}

  // Ends `run` early in `state` (JOB_CANCELLED or JOB_DEADLINE_PASSED); `why` names the refund.
  [[nodiscard]] absl::Status Stop(JobRun* run, microwork::v1::JobState state,
                                  const std::string& why, storage::Batch* batch);
  // Marks `run` completed, releases what it still holds and returns its unspent escrow. The
  // caller writes its progress.
  [[nodiscard]] absl::Status Complete(JobRun* run, storage::Batch* batch);
  // Returns to the client what `run`'s escrow holds beyond what its live and settling leases
  // need, as transfer "refund:<job>:<transfer_suffix>" (nothing when there is nothing).
  [[nodiscard]] absl::Status RefundRemainder(JobRun* run, const std::string& transfer_suffix,
                                             storage::Batch* batch);
  // Stops, with JOB_DEADLINE_PASSED, every job whose deadline is behind `now_ms`, and settles
  // the leases of ended jobs whose time ran out (counted in `*expired`).
  [[nodiscard]] absl::Status StopExpired(int64_t now_ms, storage::Batch* batch, int* expired);

 private:
  // A job that ended holds nothing: answers in without a verdict are paid now (returns how
  // much), its tasks leave memory (their records stay on disk, so late answers are still
  // recorded and paid), its live leases stop counting against centres and workers and become
  // settling, and its queues empty.
  absl::StatusOr<int64_t> ReleaseTasks(JobRun* run, storage::Batch* batch);

  const Parts p_;
};

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_JOB_LIFECYCLE_H_
