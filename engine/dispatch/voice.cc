// The Engine's part in the workers' voice: VoiceBoard under the engine's lock, with what it needs
// to know of jobs and workers, and durable before a reply.
#include "engine/common/ids.h"
#include "engine/common/status_macros.h"
#include "engine/dispatch/engine.h"

namespace mw::dispatch {

absl::StatusOr<v1::ShareVoiceReply> Engine::ShareVoice(const std::string& centre,
                                                       const v1::ShareVoiceRequest& r) {
  uint64_t ticket = 0;
  absl::StatusOr<v1::ShareVoiceReply> reply;
  {
    absl::MutexLock l(&mu_);
    // Called by Take, under the lock this function holds.
    VoiceBoard::Facts facts{
        .client_of =
            [&](const std::string& job_id) ABSL_NO_THREAD_SAFETY_ANALYSIS {
              const JobRun* run = catalogue_.Find(job_id);
              return run == nullptr ? std::optional<std::string>()
                                    : std::optional<std::string>(run->record.contract().client());
            },
        .worked_on =
            [&](const std::string& account, const std::string& job_id)
                ABSL_NO_THREAD_SAFETY_ANALYSIS {
                  return workers_.FindOnJob(account, job_id).has_value();
                },
    };
    storage::Batch batch;
    reply = voice_.Take(centre, r, clock_->NowMs(), facts, &batch);
    if (!reply.ok()) return reply.status();
    ticket = batch.Empty() ? queue_->LastTicket() : Commit(std::move(batch));
  }
  MW_RETURN_IF_ERROR(queue_->WaitDurable(ticket));
  return reply;
}

v1::VoiceReport Engine::GetVoice(const v1::GetVoiceRequest& r) const {
  absl::MutexLock l(&mu_);
  return voice_.Report(r.client(), clock_->NowMs());
}

absl::StatusOr<v1::Complaint> Engine::AnswerComplaint(const v1::AnswerComplaintRequest& r,
                                                      const std::string& by) {
  uint64_t ticket = 0;
  absl::StatusOr<v1::Complaint> answered;
  {
    absl::MutexLock l(&mu_);
    storage::Batch batch;
    answered = voice_.Answer(r, by, clock_->NowMs(), &batch);
    if (!answered.ok()) return answered.status();
    ticket = Commit(std::move(batch));
  }
  MW_RETURN_IF_ERROR(queue_->WaitDurable(ticket));
  return answered;
}

}  // namespace mw::dispatch
