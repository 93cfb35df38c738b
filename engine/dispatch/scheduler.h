// Scheduler: which task a worker gets next. Jobs are served by priority, then the nearer
// deadline, then age; within a job, later steps first (finishing items under way beats starting
// new ones). A worker gets only what their centre is eligible for and they qualify for, never a
// task they had, never a stage or items their manager reserved for others, nothing distressing
// past their daily cap, and nothing whose wage the escrow cannot keep. A newcomer on a stage
// with training gets its check (gold) tasks until they pass; everyone else gets a check task at
// the stage's cadence. While some centre is short of work, each job leases to the centres in
// proportion to their weights (fair share). A centre held back by that rule is not short of
// work itself: there was work, kept for a centre behind it. (Counting it short made every
// centre hold back every other after one job's tail: each lease call then got one task.)
//
//   Scheduler scheduler(&jobs, &centres, &workers, &pay, window_ms);
//   std::vector<JobRun*> order = scheduler.ServingOrder();
//   MW_ASSIGN_OR_RETURN(auto pick, scheduler.Next(order, centre, worker, credit, now, &batch,
//                                                &waiting));
//   ...
//   scheduler.EndCall(centre, /*short_of_work=*/pick.task == nullptr && !pick.held_back, now);
//
// Not thread-safe: the engine holds its lock around every call.
#ifndef MW_ENGINE_DISPATCH_SCHEDULER_H_
#define MW_ENGINE_DISPATCH_SCHEDULER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "engine/dispatch/centres.h"
#include "engine/dispatch/job_catalogue.h"
#include "engine/dispatch/job_run.h"
#include "engine/dispatch/paymaster.h"
#include "engine/dispatch/worker_book.h"
#include "engine/storage/store.h"
#include "microwork/v1/records.pb.h"
#include "microwork/v1/services.pb.h"

namespace mw::dispatch {

class Scheduler {
 public:
  // Every pointer must outlive the scheduler. A centre that asked for more than it got counts
  // as contending for `fair_share_window_ms`.
  Scheduler(JobCatalogue* jobs, const CentreDirectory* centres, const WorkerBook* workers,
            const Paymaster* pay, int64_t fair_share_window_ms)
      : jobs_(jobs),
        centres_(centres),
        workers_(workers),
        pay_(pay),
        fair_share_window_ms_(fair_share_window_ms) {}
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // The jobs in the order they are served: higher priority, then the nearer deadline (none
  // last), then the older job. Valid until a job is added.
  std::vector<JobRun*> ServingOrder() const;

  struct Pick {
    JobRun* run = nullptr;
    TaskRun* task = nullptr;  // nullptr: nothing this worker may do now
    // With no task: some job had work the fair-share rule kept for a centre behind this one.
    bool held_back = false;
  };
  // The next task `worker` of `centre_id` may do, within what `credit` allows, from the running
  // jobs of `order` not past their deadline, under the fair-share rule. Taking an item's first
  // step creates its task (written into `batch`). A job with nothing affordable left and no
  // lease out stops to wait on its budget (JOB_BUDGET_EXHAUSTED, written into `batch`) and is
  // appended to `now_waiting` for the caller to announce.
  absl::StatusOr<Pick> Next(const std::vector<JobRun*>& order, const std::string& centre_id,
                            const microwork::v1::WorkerOnDuty& worker,
                            const microwork::v1::WorkerCredit& credit, int64_t now,
                            storage::Batch* batch, std::vector<JobRun*>* now_waiting);
  // After a lease call: `centre_id` got less than it asked (short of work) or not.
  void EndCall(const std::string& centre_id, bool short_of_work, int64_t now);

  // Whether `worker` of `centre_id` still trains on `stage` of `run`: the stage asks for
  // training and they have not passed it on this job, and either their centre counts them a
  // newcomer (training level 0) or this dispatcher has no record of them passing training on
  // any job (a centre's word alone skips nothing). A trainee gets only the stage's gold tasks.
  bool InTraining(const JobRun& run, const StageRun& stage, const std::string& centre_id,
                  const microwork::v1::WorkerOnDuty& worker) const;

 private:
  // The next task in `run`; sets `*unaffordable` when some stage's wage is beyond the escrow.
  absl::StatusOr<TaskRun*> NextIn(JobRun* run, const std::string& centre_id,
                                  const microwork::v1::WorkerOnDuty& worker,
                                  const microwork::v1::WorkerCredit& credit, int64_t now,
                                  storage::Batch* batch, bool* unaffordable);
  // The next gold task of step `pos` `worker` has not had, round robin; nullptr when none.
  TaskRun* NextGold(JobRun* run, int pos, const std::string& worker);
  // Whether `centre_id` may take another of `run`'s tasks now: no other contending centre
  // eligible for the job is behind it, weight for weight.
  bool FairShareAllows(const JobRun& run, const std::string& centre_id, int64_t now) const;

  JobCatalogue* const jobs_;
  const CentreDirectory* const centres_;
  const WorkerBook* const workers_;
  const Paymaster* const pay_;
  const int64_t fair_share_window_ms_;
  // Until when each centre counts as contending (it asked for more than it got).
  absl::flat_hash_map<std::string, int64_t> short_until_;
};

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_SCHEDULER_H_
