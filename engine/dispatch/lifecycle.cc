// Engine: a job's life after submission. The operator pauses, resumes or cancels it; it waits
// when its escrow cannot pay for another lease (funding resumes it); it stops when its deadline
// passes. Stopping early never takes pay from work already done or already handed out.
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "engine/common/ids.h"
#include "engine/common/status_macros.h"
#include "engine/dispatch/engine.h"

namespace mw::dispatch {

using storage::Batch;

namespace {

// Which states an action may start from, and where it leads.
absl::StatusOr<v1::JobState> NextState(v1::JobState from, v1::JobAction action) {
  if (IsFinal(from)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the job is ", v1::JobState_Name(from), "; it takes no more actions"));
  }
  switch (action) {
    case v1::JOB_PAUSE:
      if (from == v1::JOB_PAUSED) break;
      return v1::JOB_PAUSED;
    case v1::JOB_RESUME:
      if (from == v1::JOB_BUDGET_EXHAUSTED) {
        return absl::FailedPreconditionError(
            "the job waits on its budget: fund it (mw job fund) and it resumes by itself");
      }
      if (from != v1::JOB_PAUSED) break;
      return v1::JOB_RUNNING;
    case v1::JOB_CANCEL:
      return v1::JOB_CANCELLED;
    default:
      return absl::InvalidArgumentError("action: expected JOB_PAUSE, JOB_RESUME or JOB_CANCEL");
  }
  return absl::FailedPreconditionError(
      absl::StrCat("the job is already ", v1::JobState_Name(from), "; nothing to do"));
}

}  // namespace

absl::StatusOr<v1::Job> Engine::ControlJob(const v1::ControlJobRequest& request) {
  return Idempotent<v1::Job>(
      kOperatorPrincipal, request.idempotency_key(), request,
      [&](Batch* batch, v1::Job* reply) ABSL_NO_THREAD_SAFETY_ANALYSIS -> absl::Status {
        JobRun* run = FindJob(request.job_id());
        if (run == nullptr) return absl::NotFoundError(absl::StrCat("no job ", request.job_id()));
        MW_ASSIGN_OR_RETURN(v1::JobState next, NextState(run->progress.state(), request.action()));
        if (next == v1::JOB_CANCELLED) {
          MW_RETURN_IF_ERROR(StopJob(run, next, "cancel", batch));
        } else {
          run->progress.set_state(next);
          PutProgress(*run, batch);
          Touch(run);
        }
        spdlog::info("event=job_control job={} action={} state={} request={}", request.job_id(),
                     v1::JobAction_Name(request.action()), v1::JobState_Name(next),
                     request.idempotency_key());
        *reply = JobView(*run);
        return absl::OkStatus();
      });
}

absl::Status Engine::StopJob(JobRun* run, v1::JobState state, const std::string& why,
                             Batch* batch) {
  const std::string& job_id = run->record.job().id();
  // Answers already in are paid now: no verdict will come for a task the job left unfinished.
  int64_t paid_now = 0;
  for (auto& [key, task] : tasks_) {
    if (task.job_id != job_id) continue;
    for (const auto& slot : task.record.slots()) {
      if (slot.state() != v1::SLOT_SUBMITTED) continue;
      const std::string task_id = TaskId(job_id, run->chain[task.chain_pos].name, task.item_index);
      const int64_t rate = run->chain[task.chain_pos].human.piece_rate_minor();
      MW_ASSIGN_OR_RETURN(bool posted,
                          PostWage(run, AssignmentId(task_id, slot.worker()), rate, batch));
      if (posted) paid_now += rate;
    }
  }
  MW_RETURN_IF_ERROR(RefundRemainder(run, why, batch));
  run->progress.set_state(state);
  run->progress.set_completed_at_ms(clock_->NowMs());
  PutProgress(*run, batch);
  Touch(run);
  spdlog::warn("event=job_stopped job={} state={} wages_paid_without_verdict={} leases_live={}",
               job_id, v1::JobState_Name(state), paid_now, run->exposure_minor);
  return absl::OkStatus();
}

absl::Status Engine::RefundRemainder(JobRun* run, const std::string& transfer_suffix,
                                     Batch* batch) {
  const std::string& job_id = run->record.job().id();
  const std::string escrow = EscrowAccount(job_id);
  const int64_t amount = ledger_->Available(escrow) - run->exposure_minor;
  if (amount <= 0) return absl::OkStatus();
  const v1::Contract& c = run->record.contract();
  return ledger_
      ->Apply({.id = absl::StrCat("refund:", job_id, ":", transfer_suffix),
               .kind = v1::TRANSFER_POSTED,
               .code = v1::CODE_REFUND,
               .debit_account = escrow,
               .credit_account = ClientAccount(c.client(), c.currency()),
               .amount_minor = amount,
               .currency = c.currency(),
               .job_id = job_id,
               .reason = "the job stopped; nobody can still earn this"},
              batch)
      .status();
}

absl::Status Engine::StopExpiredJobs(int64_t now_ms, Batch* batch) {
  for (auto& [n, run] : jobs_) {
    if (run.deadline_ms == 0 || now_ms < run.deadline_ms || IsFinal(run.progress.state())) {
      continue;
    }
    MW_RETURN_IF_ERROR(StopJob(&run, v1::JOB_DEADLINE_PASSED, "deadline", batch));
  }
  return absl::OkStatus();
}

}  // namespace mw::dispatch
