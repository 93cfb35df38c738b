// Engine: a person's promotion past a job's paid training. Training ends by itself when a
// worker gets enough check tasks right; a worker who ran out of check tasks, or whom a person
// knows can do the work, is promoted by a person at the dispatcher, who is named with a reason.
// A centre's word alone promotes nobody (Scheduler::InTraining).
#include <spdlog/spdlog.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/common/ids.h"
#include "engine/common/status_macros.h"
#include "engine/dispatch/engine.h"

namespace mw::dispatch {

using storage::Batch;

absl::StatusOr<v1::PromoteWorkerReply> Engine::PromoteWorker(const v1::PromoteWorkerRequest& r) {
  const std::string by(absl::StripAsciiWhitespace(r.decided_by()));
  const std::string reason(absl::StripAsciiWhitespace(r.reason()));
  if (by.empty()) return absl::InvalidArgumentError("decided_by: a person promotes a worker");
  if (reason.empty()) return absl::InvalidArgumentError("reason: say why they may skip training");
  absl::string_view rest = r.worker_account();
  const bool prefixed = absl::ConsumePrefix(&rest, "worker:");
  const size_t slash = rest.find('/');
  if (!prefixed || slash == absl::string_view::npos || slash == 0 || slash + 1 == rest.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "worker_account: expected worker:<centre>/<pseudonym>, got \"", r.worker_account(), "\""));
  }
  const std::string centre(rest.substr(0, slash));
  return Idempotent<v1::PromoteWorkerReply>(
      absl::StrCat("staff-promote:", by), r.idempotency_key(), r,
      [&](Batch* batch, v1::PromoteWorkerReply* reply)
          ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
            if (catalogue_.Find(r.job_id()) == nullptr) {
              return absl::NotFoundError(absl::StrCat("no job ", r.job_id()));
            }
            if (centres_.Find(centre) == nullptr) {
              return absl::NotFoundError(absl::StrCat("no centre ", centre));
            }
            v1::PersonDecision decision;
            decision.set_decided_by(by);
            decision.set_reason(reason);
            decision.set_at_ms(clock_->NowMs());
            MW_RETURN_IF_ERROR(workers_.Promote(r.worker_account(), r.job_id(), decision));
            workers_.PutOnJob(r.worker_account(), r.job_id(), batch);
            const v1::WorkerJobRecord on_job = *workers_.FindOnJob(r.worker_account(), r.job_id());
            reply->set_worker_account(r.worker_account());
            reply->set_job_id(r.job_id());
            reply->set_training_answers(on_job.training_answers());
            reply->set_training_correct(on_job.training_correct());
            *reply->mutable_promotion() = decision;
            spdlog::warn(
                "event=worker_promoted worker={} job={} decided_by=\"{}\" reason=\"{}\" "
                "training={}/{}",
                r.worker_account(), r.job_id(), by, reason, on_job.training_correct(),
                on_job.training_answers());
            return absl::OkStatus();
          });
}

}  // namespace mw::dispatch
