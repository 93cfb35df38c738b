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
  if (action == v1::JOB_CLOSE) return IsFinal(from) ? from : v1::JOB_CANCELLED;
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
      return absl::InvalidArgumentError(
          "action: expected JOB_PAUSE, JOB_RESUME, JOB_CANCEL or JOB_CLOSE");
  }
  return absl::FailedPreconditionError(
      absl::StrCat("the job is already ", v1::JobState_Name(from), "; nothing to do"));
}

}  // namespace

absl::StatusOr<v1::Job> Engine::ControlJob(const v1::ControlJobRequest& request) {
  return Idempotent<v1::Job>(
      kOperatorPrincipal, request.idempotency_key(), request,
      [&](Batch* batch, v1::Job* reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        JobRun* run = catalogue_.Find(request.job_id());
        if (run == nullptr) return absl::NotFoundError(absl::StrCat("no job ", request.job_id()));
        MW_ASSIGN_OR_RETURN(v1::JobState next, NextState(run->progress.state(), request.action()));
        if (IsFinal(run->progress.state())) {
          // Closing an ended job: whatever came back into its escrow since (a wage taken back,
          // a settled lease) goes to the client too.
          MW_RETURN_IF_ERROR(
              RefundRemainder(run, absl::StrCat("close:", ledger_->head_seq()), batch));
          JobCatalogue::PutProgress(*run, batch);
          Touch(run);
        } else if (next == v1::JOB_CANCELLED) {
          MW_RETURN_IF_ERROR(StopJob(run, next, "cancel", batch));
        } else {
          run->progress.set_state(next);
          JobCatalogue::PutProgress(*run, batch);
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
  MW_ASSIGN_OR_RETURN(const int64_t paid_now, ReleaseTasks(run, batch));
  MW_RETURN_IF_ERROR(RefundRemainder(run, why, batch));
  run->progress.set_state(state);
  run->progress.set_completed_at_ms(clock_->NowMs());
  JobCatalogue::PutProgress(*run, batch);
  Touch(run);
  spdlog::warn(
      "event=job_stopped job={} state={} wages_paid_without_verdict={} leases_settling={} "
      "escrow_kept_for_them={} refunded={}",
      job_id, v1::JobState_Name(state), paid_now, run->settling.size(), pay_->Exposure(*run),
      run->progress.refunded_minor());
  return absl::OkStatus();
}

absl::Status Engine::RefundRemainder(JobRun* run, const std::string& transfer_suffix,
                                     Batch* batch) {
  const std::string& job_id = run->record.job().id();
  const std::string escrow = EscrowAccount(job_id);
  const int64_t amount = ledger_->Available(escrow) - pay_->Exposure(*run);
  if (amount <= 0) return absl::OkStatus();
  const v1::Contract& c = run->record.contract();
  MW_RETURN_IF_ERROR(ledger_
                         ->Apply({.id = absl::StrCat("refund:", job_id, ":", transfer_suffix),
                                  .kind = v1::TRANSFER_POSTED,
                                  .code = v1::CODE_REFUND,
                                  .debit_account = escrow,
                                  .credit_account = ClientAccount(c.client(), c.currency()),
                                  .amount_minor = amount,
                                  .currency = c.currency(),
                                  .job_id = job_id,
                                  .reason = "the job ended; nobody can still earn this"},
                                 batch)
                         .status());
  run->progress.set_refunded_minor(run->progress.refunded_minor() + amount);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Engine::ReleaseTasks(JobRun* run, Batch* batch) {
  const std::string& job_id = run->record.job().id();
  int64_t paid_now = 0;
  auto& tasks = catalogue_.tasks();
  for (auto it = tasks.begin(); it != tasks.end();) {
    TaskRun& task = it->second;
    if (task.job_id != job_id) {
      ++it;
      continue;
    }
    const StageRun& step = run->chain[task.chain_pos];
    const std::string task_id = TaskId(job_id, step.name, task.item_index);
    for (const auto& slot : task.record.slots()) {
      const std::string aid = AssignmentId(task_id, slot.worker());
      if (slot.state() == v1::SLOT_SUBMITTED) {
        // An answer in: no verdict will come for a task the job left unfinished.
        MW_ASSIGN_OR_RETURN(bool posted,
                            pay_->PostWage(run, aid, step.human.piece_rate_minor(), batch));
        if (posted) paid_now += step.human.piece_rate_minor();
        continue;
      }
      if (slot.state() != v1::SLOT_LEASED) continue;
      run->settling[aid] = {.centre = slot.centre(),
                            .rate = step.human.piece_rate_minor(),
                            .until_ms = std::min(slot.lease_expires_at_ms(), leases_.Bound(slot))};
      --run->leased[task.chain_pos];
      leases_.Release(slot.centre(), slot.worker());
    }
    if (task.record.state() == v1::TASK_DEAD) --stats_.dead_tasks;
    tasks.erase(it++);
  }
  for (auto& open : run->open) open.clear();
  for (auto& gold : run->gold) gold.clear();
  return paid_now;
}

absl::Status Engine::Complete(JobRun* run, Batch* batch) {
  run->progress.set_state(v1::JOB_COMPLETED);
  run->progress.set_completed_at_ms(clock_->NowMs());
  MW_RETURN_IF_ERROR(ReleaseTasks(run, batch).status());  // check tasks nobody needs any more
  MW_RETURN_IF_ERROR(RefundRemainder(run, "completed", batch));
  spdlog::info("event=job_completed job={} refunded={} leases_settling={}", run->record.job().id(),
               run->progress.refunded_minor(), run->settling.size());
  return absl::OkStatus();
}

absl::Status Engine::StopExpiredJobs(int64_t now_ms, Batch* batch, int* expired) {
  for (auto& [n, run] : catalogue_.jobs()) {
    // Leases out when the job ended that can no longer be answered in time: their wage goes
    // back to the client.
    std::string first;
    for (auto it = run.settling.begin(); it != run.settling.end();) {
      if (it->second.until_ms > now_ms) {
        ++it;
        continue;
      }
      if (first.empty()) first = it->first;
      run.live_wages[it->second.centre] -= it->second.rate;
      it = run.settling.erase(it);
      ++stats_.lease_expiries;
      ++*expired;
    }
    if (!first.empty()) {
      MW_RETURN_IF_ERROR(
          RefundRemainder(&run, absl::StrCat("settled:", first, ":", ledger_->head_seq()), batch));
      JobCatalogue::PutProgress(run, batch);
    }
    if (run.deadline_ms == 0 || now_ms < run.deadline_ms || IsFinal(run.progress.state())) {
      continue;
    }
    MW_RETURN_IF_ERROR(StopJob(&run, v1::JOB_DEADLINE_PASSED, "deadline", batch));
  }
  return absl::OkStatus();
}

}  // namespace mw::dispatch
