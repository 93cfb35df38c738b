// Engine: the human review queue. A result below its stage's confidence target at the overlap
// cap waits here for a person at a centre; their decision replaces the output's answer, and the
// review is paid like any task. No one reviews a task they answered, nor one that judges their
// own answer. A verify stage that sends its "no"s to review (SEND_TO_REVIEW) holds the item
// until the decision, which then moves it on.
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/common/ids.h"
#include "engine/common/proto_bytes.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"
#include "engine/dispatch/answers.h"
#include "engine/dispatch/engine.h"
#include "engine/dispatch/routing.h"
#include "engine/storage/keys.h"

namespace mw::dispatch {

using storage::Batch;
using storage::Cf;
namespace keys = storage::keys;

absl::StatusOr<std::vector<v1::Review>> Engine::ListReviews(const std::string& job_id,
                                                            bool include_decided) const {
  std::vector<v1::Review> out;
  auto c = store_->Scan(Cf::kReviews, job_id.empty() ? "" : keys::JobPrefix(job_id));
  for (; c->Valid(); c->Next()) {
    v1::Review r;
    MW_RETURN_IF_ERROR(c->Read(&r));
    if (include_decided || !r.decided()) out.push_back(std::move(r));
  }
  MW_RETURN_IF_ERROR(c->status());
  std::sort(out.begin(), out.end(), [](const v1::Review& a, const v1::Review& b) {
    return a.created_at_ms() < b.created_at_ms();
  });
  return out;
}

absl::StatusOr<v1::ListReviewsReply> Engine::ListReviewsForCentre(
    const std::string& centre_id) const {
  MW_ASSIGN_OR_RETURN(std::vector<v1::Review> open, ListReviews("", /*include_decided=*/false));
  v1::ListReviewsReply reply;
  absl::flat_hash_set<std::string> specs_sent;
  absl::MutexLock l(&mu_);
  const v1::Centre* centre = centres_.Find(centre_id);
  if (centre == nullptr) return absl::NotFoundError("centre is not registered");
  for (auto& review : open) {
    const JobRun* run = catalogue_.Find(review.job_id());
    const StageRun* stage = JobCatalogue::FindStage(run, review.stage());
    if (stage == nullptr || !CentreEligibility(run->record.contract(), stage->human, *centre).ok) {
      continue;
    }
    if (specs_sent.insert(absl::StrCat(review.job_id(), "/", review.stage())).second) {
      FillSpec(*run, *stage, reply.add_specs());
    }
    // The item's files, for the centre to fetch and show the person who decides (a photo's
    // shapes are judged on the photo).
    for (v1::Field& f : *review.mutable_item()->mutable_fields()) {
      if (f.has_media()) {
        f.mutable_media()->set_fetch_token(MediaToken(centre_id, f.media().sha256()));
      }
    }
    *reply.add_reviews() = std::move(review);
  }
  return reply;
}

absl::StatusOr<v1::Review> Engine::DecideReview(const v1::DecideReviewRequest& in,
                                                const std::string& centre_id,
                                                const std::string& recorded_by) {
  v1::DecideReviewRequest request = in;
  if (!centre_id.empty() && request.reviewer().find('/') == std::string::npos) {
    request.set_reviewer(absl::StrCat(centre_id, "/", request.reviewer()));  // one of its own
  }
  if (request.reason().empty()) {
    return absl::InvalidArgumentError("reason: say why, for the record and for any dispute");
  }
  std::vector<std::string> who = absl::StrSplit(request.reviewer(), '/');
  if (who.size() != 2 || !IsSimpleName(who[0]) || !IsSimpleName(who[1])) {
    return absl::InvalidArgumentError("reviewer: expected <centre>/<pseudonym>");
  }
  if (!centre_id.empty() && who[0] != centre_id) {
    return absl::PermissionDeniedError(absl::StrCat(
        "reviewer: a centre's manager chooses one of its own people (", centre_id, "/...)"));
  }
  std::string recorder = recorded_by;
  if (!request.manager().empty()) {
    if (centre_id.empty()) {
      return absl::InvalidArgumentError("manager: only a centre's call names its manager");
    }
    if (!IsSimpleName(request.manager())) {
      return absl::InvalidArgumentError("manager: expected 1-40 characters of a-z, 0-9, _ and -");
    }
    absl::StrAppend(&recorder, "/manager:", request.manager());
  }
  MW_ASSIGN_OR_RETURN(TaskRef ref, ParseTaskId(request.task_id()));
  return Idempotent<v1::Review>(
      centre_id.empty() ? std::string(kOperatorPrincipal) : absl::StrCat("centre:", centre_id),
      request.idempotency_key(), request,
      [&](Batch* batch, v1::Review* reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        if (!centres_.Contains(who[0])) {
          return absl::NotFoundError(absl::StrCat("reviewer: no centre ", who[0]));
        }
        // A person, not a name: one of the centre's registered workers (a made-up reviewer was
        // paid for deciding).
        if (centres_.OnDuty(who[0], who[1]) == nullptr) {
          return absl::NotFoundError(
              absl::StrCat("reviewer: ", who[1], " is not a registered worker of centre ", who[0]));
        }
        JobRun* run = catalogue_.Find(ref.job_id);
        if (run == nullptr) return absl::NotFoundError(absl::StrCat("no job ", ref.job_id));
        const StageRun* stage = JobCatalogue::FindStage(run, ref.stage);
        // And from a centre the stage's work may go to, whoever chooses them.
        if (stage != nullptr &&
            !CentreEligibility(run->record.contract(), stage->human, *centres_.Find(who[0])).ok) {
          return absl::PermissionDeniedError(absl::StrCat(
              "reviewer: centre ", who[0], " may not do stage ", ref.stage, "'s work"));
        }
        if (stage != nullptr && !centre_id.empty() &&
            !CentreEligibility(run->record.contract(), stage->human, *centres_.Find(centre_id))
                 .ok) {
          return absl::NotFoundError(absl::StrCat("task ", request.task_id(), " is not in review"));
        }
        if (stage == nullptr) {
          return absl::NotFoundError(absl::StrCat("job ", ref.job_id, " has no stage ", ref.stage));
        }
        const std::string key = keys::Task(ref.job_id, stage->key, ref.item);
        v1::Review review;
        absl::Status s = store_->GetRecord(Cf::kReviews, key, &review);
        if (absl::IsNotFound(s)) {
          return absl::NotFoundError(absl::StrCat("task ", request.task_id(), " is not in review"));
        }
        MW_RETURN_IF_ERROR(s);
        if (review.decided()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "task ", request.task_id(), " was decided by ", review.reviewer(), " already"));
        }
        for (const auto& w : review.excluded()) {
          if (w == who[1]) {
            return absl::PermissionDeniedError(
                absl::StrCat("reviewer ", request.reviewer(),
                             " made the answer this task judges: no one reviews their own work"));
          }
        }
        for (const auto& w : review.workers()) {
          if (w == who[1]) {
            return absl::PermissionDeniedError(
                absl::StrCat("reviewer ", request.reviewer(),
                             " answered this task: no one reviews their own work"));
          }
        }
        v1::ResultRecord out;
        MW_RETURN_IF_ERROR(store_->GetRecord(Cf::kOutputs, key, &out));
        if (out.held() && stage->replaces >= 0) {
          // Nor by whoever made the answer it judges (the verify task's exclusions name those
          // of the stage that settled last, which need not be its target).
          v1::ResultRecord judged;
          absl::Status read = store_->GetRecord(
              Cf::kOutputs, keys::Task(ref.job_id, run->chain[stage->replaces].key, ref.item),
              &judged);
          if (!read.ok() && !absl::IsNotFound(read)) return read;
          bool made = judged.reviewed_by() == request.reviewer();
          for (const auto& w : judged.workers()) made |= w == who[1];
          if (made) {
            return absl::PermissionDeniedError(
                absl::StrCat("reviewer ", request.reviewer(),
                             " made the answer this task judges: no one reviews their own work"));
          }
        }
        absl::StatusOr<v1::Answer> checked = CheckedLabel(
            stage->human.answer(), request.label(), review.has_item() ? &review.item() : nullptr);
        if (!checked.ok()) {
          return absl::InvalidArgumentError(absl::StrCat("label: ", checked.status().message()));
        }
        const v1::Answer& answer = *checked;

        *out.mutable_answer() = answer;
        out.set_needs_review(false);
        out.set_reviewed_by(request.reviewer());
        batch->PutRecord(Cf::kOutputs, key, out);
        review.set_decided(true);
        review.set_label(AnswerLabel(answer));
        review.set_reviewer(request.reviewer());
        review.set_recorded_by(recorder);
        review.set_reason(request.reason());
        review.set_decided_at_ms(clock_->NowMs());
        batch->PutRecord(Cf::kReviews, key, review);

        // Review work is paid, at the stage's piece rate, once per task (the id says so).
        const int64_t rate = stage->human.piece_rate_minor();
        const std::string account = WorkerAccount(who[0], who[1]);
        MW_ASSIGN_OR_RETURN(
            const std::string payer,
            pay_->PayingAccount(*run, rate, absl::StrCat("review:", request.task_id()), batch));
        MW_RETURN_IF_ERROR(pay_->PayWorker(*run, who[0],
                                           {.id = absl::StrCat("review:", request.task_id()),
                                            .kind = v1::TRANSFER_POSTED,
                                            .code = v1::CODE_WAGE,
                                            .debit_account = payer,
                                            .credit_account = account,
                                            .amount_minor = rate,
                                            .currency = run->record.contract().currency(),
                                            .job_id = ref.job_id,
                                            .reason = "review"},
                                           /*fees=*/nullptr, batch)
                               .status());
        v1::WorkerStatsRecord& stats = workers_.Record(account);
        stats.set_reviews(stats.reviews() + 1);
        workers_.PutRecord(account, batch);
        run->progress.set_wages_posted_minor(run->progress.wages_posted_minor() + rate);
        if (out.held() && !IsFinal(run->progress.state())) {
          // The item waited for this decision: it moves on with it now (not once the job has
          // ended: the decision is recorded and paid, and the job stays as it ended).
          const int pos = static_cast<int>(stage - run->chain.data());
          MW_RETURN_IF_ERROR(verdicts_->MoveOn(
              run, pos, review.item(), review.label(),
              std::vector<std::string>(out.workers().begin(), out.workers().end()), batch));
        }
        JobCatalogue::PutProgress(*run, batch);
        --stats_.reviews_open;
        *reply = review;
        Touch(run);
        return absl::OkStatus();
      });
}

}  // namespace mw::dispatch
