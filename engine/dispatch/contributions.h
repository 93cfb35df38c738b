// ContributionRecorder: records a worker's answer (a Contribution; the wire calls it a Result)
// exactly once, and reserves its wage in the same write. It checks the claim (id, size, the
// assignment's worker and centre, the answer against the stage's schema) and quarantines what
// does not hold; answers a resend with the stored receipt (or a conflict); releases the lease;
// reserves the wage with its fee and the centre's share, posting it at once when no verdict will
// come (a late answer, a check task, a job that ended); grades a check task and counts a
// trainee's training; credits the worker's time up to what the lease and the estimate allow.
// What the task's answers decide is the VerdictRecorder's (verdict_recorder.h), once Record says
// the task has all it needs.
//
//   ContributionRecorder recorder({.jobs = &jobs, ...});
//   const ContributionRecorder::Body body = ContributionRecorder::Measure(result);  // unlocked
//   MW_ASSIGN_OR_RETURN(auto recorded,
//                       recorder.Record("nairobi", result, body, &batch, &pending, &changed));
//   if (recorded.complete != nullptr) MW_RETURN_IF_ERROR(Decide(recorded.run, ...));
//
// Not thread-safe: the engine holds its lock around every call.
#ifndef MW_ENGINE_DISPATCH_CONTRIBUTIONS_H_
#define MW_ENGINE_DISPATCH_CONTRIBUTIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/common/clock.h"
#include "engine/dispatch/centres.h"
#include "engine/dispatch/idempotency.h"
#include "engine/dispatch/job_catalogue.h"
#include "engine/dispatch/job_run.h"
#include "engine/dispatch/lease_table.h"
#include "engine/dispatch/paymaster.h"
#include "engine/dispatch/payroll.h"
#include "engine/dispatch/scheduler.h"
#include "engine/dispatch/stats.h"
#include "engine/dispatch/worker_book.h"
#include "engine/storage/store.h"
#include "microwork/v1/records.pb.h"
#include "microwork/v1/services.pb.h"

namespace mw::dispatch {

class ContributionRecorder {
 public:
  // What the recorder works with; every pointer must outlive it.
  struct Parts {
    JobCatalogue* jobs = nullptr;
    IdempotencyTable* idempotency = nullptr;
    LeaseTable* leases = nullptr;
    Paymaster* pay = nullptr;
    WorkerBook* workers = nullptr;
    const CentreDirectory* centres = nullptr;
    const Scheduler* scheduler = nullptr;  // who is in training
    const Clock* clock = nullptr;
    EngineStats* stats = nullptr;
    // Time on task counts towards the wage floor up to this many times the stage's estimate
    // (and never beyond the lease's window); the rest is held for a person.
    uint32_t max_time_multiple = 10;
  };
  explicit ContributionRecorder(Parts parts) : p_(parts) {}

  struct Recorded {
    microwork::v1::Receipt receipt;
    JobRun* run = nullptr;        // the job it counted for, when it changed one
    TaskRun* complete = nullptr;  // a task that has every answer it needs now: decide it
  };
  // What recording a result needs of it that nothing under the engine's lock changes: its size
  // and the digest of its body (Sha256 of its deterministic bytes), measured by the caller before
  // it takes the lock. Bytes and digest are left empty for a result too large to be recorded.
  struct Body {
    std::string bytes;  // its deterministic serialization (DeterministicBytes)
    size_t size = 0;    // its serialized size
    std::string sha256;
  };
  static Body Measure(const microwork::v1::Result& result);
  // Records `result` (measured as `body`) from `centre_id` into `batch`; appends the idempotency
  // keys to Forget once the batch is durable to `pending`. A claim that does not hold is a
  // QUARANTINED receipt, stored under the result id like every other outcome; an error status means
  // nothing may be committed. `*changed` is set once it starts changing memory (an error before
  // that left memory as it was). What one call changes once per answer is the caller's to write
  // once: the progress of `run` (JobCatalogue::NoteProgress, after deciding a complete task) and
  // the worker's records (noted in the WorkerBook).
  absl::StatusOr<Recorded> Record(const std::string& centre_id, const microwork::v1::Result& result,
                                  const Body& body, storage::Batch* batch,
                                  std::vector<std::string>* pending, bool* changed);
  // Reads ahead, for all of `request`'s results at once, which of the records recording them
  // would check for exist already (their receipts, contributions and wage transfers): one
  // batched read per kind (IdempotencyTable::ReadAhead, Ledger::ReadAhead), so that Record
  // then reads none of them itself. Changes nothing a result is recorded by.
  [[nodiscard]] absl::Status ReadAhead(const std::string& centre_id,
                                       const microwork::v1::SubmitResultsRequest& request);

 private:
  // Where a contribution lands: the job and step, the task it answers (open, or its stored record
  // when done) and the worker's slot on it.
  struct Claim {
    JobRun* run = nullptr;
    int pos = -1;
    std::string task_id, worker, task_key, contribution_key, assignment_id;
    TaskRun* task = nullptr;                // nullptr when the task is done
    microwork::v1::TaskRecord done_record;  // its record then
    microwork::v1::SlotRecord* slot = nullptr;
  };
  // The position in `run`'s chain of its human stage `name` (the last of that name), or -1.
  static int StagePos(const JobRun& run, const std::string& name);
  // Fills `claim` from the result's assignment id, or says why the claim does not hold (an id
  // that does not parse, another worker's or centre's assignment, no such job, step or task, an
  // answer the stage's schema does not allow).
  absl::StatusOr<std::optional<std::string>> Locate(const std::string& centre_id,
                                                    const microwork::v1::Result& r, Claim* claim);
  // Counts a located contribution: releases its lease, reserves (or posts) its wage, grades a
  // check answer, credits the worker and writes the contribution; sets `recorded`'s run, and its
  // task when that is complete now. Returns the receipt, the one its contribution record holds
  // (under claim->contribution_key).
  absl::StatusOr<microwork::v1::Receipt> Count(const std::string& centre_id,
                                               const microwork::v1::Result& r, const Body& body,
                                               Claim* claim, storage::Batch* batch,
                                               std::vector<std::string>* pending,
                                               Recorded* recorded);
  // Reserves the wage of `assignment_id` (piece rate `rate`, for `worker` of `centre_id`) from
  // the account that pays for `run`, with the fee and the centre's share; with `post_now` it is
  // posted instead, in one transfer (and its legs). Returns the wage in the worker's currency.
  absl::StatusOr<int64_t> ReserveWage(JobRun* run, const std::string& centre_id,
                                      const std::string& worker, const std::string& assignment_id,
                                      int64_t rate, bool post_now, storage::Batch* batch);
  // Credits a paid answer `r` on `slot` to its worker's record on the job: its time on task (the
  // rest held for a person, said on `receipt`) and its wage; a trainee's check answer
  // (`check_correct` set) counts towards training and may promote them.
  TimeCredit CreditWorker(const JobRun& run, const StageRun& stage, const std::string& centre_id,
                          const microwork::v1::Result& r, const microwork::v1::SlotRecord& slot,
                          int64_t wage, std::optional<bool> check_correct,
                          microwork::v1::Receipt* receipt, storage::Batch* batch);

  const Parts p_;
};

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_CONTRIBUTIONS_H_
