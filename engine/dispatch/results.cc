// Engine: results. Each result is recorded exactly once under its client-generated id, its wage
// reserved in the same write (ContributionRecorder, contributions.h); a task with all its answers
// gets a verdict in that write too, its wages are posted (the last answer's at once, with no
// reservation), and the item moves on to the next stage (VerdictRecorder, verdict_recorder.h). A
// late result (its lease expired or was fenced) is recorded and paid but does not change the task.
#include <spdlog/spdlog.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "engine/common/ids.h"
#include "engine/common/proto_bytes.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"
#include "engine/dispatch/answers.h"
#include "engine/dispatch/engine.h"
#include "engine/dispatch/verdicts.h"
#include "engine/storage/keys.h"

namespace mw::dispatch {

using storage::Batch;
using storage::Cf;
namespace keys = storage::keys;

absl::StatusOr<v1::SubmitResultsReply> Engine::SubmitResults(
    const std::string& centre_id, const v1::SubmitResultsRequest& request) {
  if (request.results_size() > static_cast<int>(options_.max_results_per_call)) {
    return absl::InvalidArgumentError(absl::StrCat("results: at most ",
                                                   options_.max_results_per_call, " per call, got ",
                                                   request.results_size()));
  }
  MW_RETURN_IF_ERROR(Admit(options_.max_waiting_commit_bytes, "results"));
  // Each result's size and digest, before the lock: they depend on nothing it guards.
  std::vector<ContributionRecorder::Body> bodies;
  bodies.reserve(request.results_size());
  for (const v1::Result& r : request.results()) {
    bodies.push_back(ContributionRecorder::Measure(r));
  }
  v1::SubmitResultsReply reply;
  std::vector<std::string> pending;
  uint64_t ticket;
  {
    absl::MutexLock l(&mu_);
    if (!centres_.Contains(centre_id)) return absl::NotFoundError("centre is not registered");
    // A centre may touch only its own assignments: one foreign id refuses the whole call,
    // before anything changes.
    for (const v1::Result& r : request.results()) {
      MW_RETURN_IF_ERROR(CheckOwnership(centre_id, r.assignment_id()));
    }
    // Whether the records the results would make exist already: read for the whole call at once.
    MW_RETURN_IF_ERROR(contributions_->ReadAhead(centre_id, request));
    Batch batch;
    // Nothing of a call that fails is written: the receipts it noted in memory are forgotten,
    // so a resend is recorded afresh rather than told it was a duplicate.
    bool changed = false;  // whether memory changed with the batch yet
    auto record = [&](const v1::Result& r, const ContributionRecorder::Body& body)
                      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
      MW_ASSIGN_OR_RETURN(ContributionRecorder::Recorded recorded,
                          contributions_->Record(centre_id, r, body, &batch, &pending, &changed));
      if (recorded.complete != nullptr) {
        MW_RETURN_IF_ERROR(
            verdicts_->Decide(recorded.run, recorded.complete, &batch));  // may erase it
      }
      if (recorded.run != nullptr) {
        Touch(recorded.run);
        catalogue_.NoteProgress(recorded.run);  // written once, by Commit
      }
      *reply.add_receipts() = std::move(recorded.receipt);
      return absl::OkStatus();
    };
    for (int i = 0; i < request.results_size(); ++i) {
      if (absl::Status s = record(request.results(i), bodies[i]); !s.ok()) {
        // Recording fails only inside (a record that cannot be read, the ledger). Once an
        // answer of this call changed memory, nothing will write that: memory is ahead of the
        // disk. Before that, the call is refused and nothing else happens.
        idempotency_->Forget(pending);
        if (changed || HasNoted()) Abandon(s);
        return s;
      }
    }
    // (What was noted, Commit writes: a verdict's next task is noted, not in the batch yet.)
    const bool nothing = batch.Empty() && !HasNoted();
    ticket = nothing ? queue_->LastTicket() : Commit(std::move(batch));
  }
  MW_RETURN_IF_ERROR(queue_->WaitDurable(ticket));
  Forget(std::move(pending));
  // One line a call, once durable and after the lock; each answer, wage and verdict is a debug
  // line. (At info, a line for each of them and for each grant, four a completion, was written
  // under the engine's lock; dispatch_bench --log-level debug measures what that costs.)
  if (reply.receipts_size() == 0) return reply;
  int by_status[v1::ReceiptStatus_ARRAYSIZE] = {};
  for (const v1::Receipt& r : reply.receipts()) ++by_status[r.status()];
  spdlog::info("event=results centre={} accepted={} duplicate={} quarantined={} conflict={}",
               centre_id, by_status[v1::RECEIPT_ACCEPTED], by_status[v1::RECEIPT_DUPLICATE],
               by_status[v1::RECEIPT_QUARANTINED], by_status[v1::RECEIPT_CONFLICT]);
  return reply;
}

absl::Status Engine::CheckOwnership(const std::string& centre_id,
                                    const std::string& assignment_id) const {
  auto parts = ParseAssignmentId(assignment_id);
  if (!parts.ok()) return absl::OkStatus();
  auto ref = ParseTaskId(parts->first);
  if (!ref.ok()) return absl::OkStatus();
  const JobRun* run = catalogue_.Find(ref->job_id);
  if (run == nullptr) return absl::OkStatus();
  for (const StageRun& stage : run->chain) {
    if (stage.name != ref->stage) continue;
    const std::string key = keys::Task(ref->job_id, stage.key, ref->item);
    v1::TaskRecord stored;
    const v1::TaskRecord* record = nullptr;
    if (const TaskRun* open = catalogue_.FindTask(key); open != nullptr) {
      record = &open->record;
    } else if (store_->GetRecord(Cf::kTasks, key, &stored).ok()) {
      record = &stored;
    }
    if (record == nullptr) return absl::OkStatus();
    for (const auto& slot : record->slots()) {
      if (slot.worker() == parts->second && slot.centre() != centre_id) {
        return absl::PermissionDeniedError(
            absl::StrCat("assignment ", assignment_id, " belongs to another centre"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace mw::dispatch
