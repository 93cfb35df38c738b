// Engine: a job's life after submission. The operator pauses, resumes or cancels it; it waits
// when its escrow cannot pay for another lease (funding resumes it); it stops when its deadline
// passes (JobLifecycle, job_lifecycle.h).
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
              lifecycle_->RefundRemainder(run, absl::StrCat("close:", ledger_->head_seq()), batch));
          JobCatalogue::PutProgress(*run, batch);
          Touch(run);
        } else if (next == v1::JOB_CANCELLED) {
          MW_RETURN_IF_ERROR(lifecycle_->Stop(run, next, "cancel", batch));
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

}  // namespace mw::dispatch
