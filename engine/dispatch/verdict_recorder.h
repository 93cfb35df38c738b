// VerdictRecorder: turns a task's counted contributions into its Verdict and moves the item on.
// The step's Aggregation (verdicts.h) decides; with dynamic overlap a verdict below the stage's
// confidence target asks one more worker instead (up to the cap), and at the cap goes to a
// person's review queue. A verify stage that sends its rejections to review holds the item there
// on a "no" until a person decides (MoveOn). On a verdict every contribution's wage is posted (base
// pay never depends on agreement, which only moves the skill estimates), the task is done, and the
// item enters its next step (flow.h) or finishes; the last item completes the job (JobLifecycle).
//
//   VerdictRecorder verdicts({.jobs = &jobs, ...});
//   MW_RETURN_IF_ERROR(verdicts.Decide(run, task, &batch));  // may erase `task`
//
// Not thread-safe: the engine holds its lock around every call.
#ifndef MW_ENGINE_DISPATCH_VERDICT_RECORDER_H_
#define MW_ENGINE_DISPATCH_VERDICT_RECORDER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/common/clock.h"
#include "engine/dispatch/job_catalogue.h"
#include "engine/dispatch/job_lifecycle.h"
#include "engine/dispatch/job_run.h"
#include "engine/dispatch/paymaster.h"
#include "engine/dispatch/stats.h"
#include "engine/dispatch/worker_book.h"
#include "engine/storage/store.h"

namespace mw::dispatch {

class VerdictRecorder {
 public:
  // What the recorder works with; every pointer must outlive it.
  struct Parts {
    JobCatalogue* jobs = nullptr;
    Paymaster* pay = nullptr;
    WorkerBook* workers = nullptr;
    JobLifecycle* lifecycle = nullptr;
    const Clock* clock = nullptr;
    EngineStats* stats = nullptr;
  };
  explicit VerdictRecorder(Parts parts) : p_(parts) {}

  // Decides `task` of `run`, whose slots are all answered, into `batch`. The task is erased when
  // it gets its verdict (not when it asks one more worker); the caller writes `run`'s progress.
  [[nodiscard]] absl::Status Decide(JobRun* run, TaskRun* task, storage::Batch* batch);

  // Moves `item` on from step `pos` with the verdict `label` (flow.h Advance): to the next step
  // of its stage, or out of the stage. Decide calls it; so does a person's decision on a verdict
  // held for review. `producers` made the verdict: they may not judge it.
  [[nodiscard]] absl::Status MoveOn(JobRun* run, int pos, microwork::v1::Item item,
                                    const std::string& label, std::vector<std::string> producers,
                                    storage::Batch* batch);

 private:
  // The flight of item `index` of `run`, replayed from the store when not in memory.
  absl::StatusOr<ItemFlight*> FlightOf(JobRun* run, uint64_t index);
  // `item` leaves the stage at `entry` as `left` says with its field `value`: a cutting stage
  // cuts it into pieces (and settles when they are done); any other settles.
  absl::Status Leave(JobRun* run, int entry, const Leaving& left, std::string value,
                     const microwork::v1::Item& item, const std::vector<std::string>& producers,
                     storage::Batch* batch);
  // Settles the stage, starts the stages whose readiness is met, and finishes the item when
  // nothing is left: a piece then goes back to its parent, an item of the job counts finished.
  absl::Status SettleStage(JobRun* run, ItemFlight* flight, int entry, const Leaving& left,
                           std::string value, const microwork::v1::Item& item,
                           const std::vector<std::string>& producers, storage::Batch* batch);

  const Parts p_;
};

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_VERDICT_RECORDER_H_
