// Engine: withholding a wage. Quality never does this; only a person at the worker's centre
// can, for bad faith, with a reason from a published list. The worker may dispute it and someone
// else decides the dispute. Every step is a new transfer or record; nothing is edited.
#include "absl/strings/str_cat.h"
#include "engine/common/ids.h"
#include "engine/common/proto_bytes.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"
#include "engine/dispatch/engine.h"
#include "engine/storage/keys.h"

namespace mw::dispatch {

using storage::Batch;
using storage::Cf;
namespace keys = storage::keys;

namespace {

std::string Principal(const std::string& centre_id) { return absl::StrCat("centre:", centre_id); }

// The centre's withholding of `assignment_id` into `out`; NOT_FOUND when nothing was withheld.
absl::Status ReadWithholding(const storage::Store& store, const std::string& key,
                             const std::string& assignment_id, v1::Withholding* out) {
  absl::Status s = store.GetRecord(Cf::kWithholdings, key, out);
  if (absl::IsNotFound(s)) {
    return absl::NotFoundError(absl::StrCat("nothing withheld for ", assignment_id));
  }
  return s;
}

}  // namespace

absl::StatusOr<v1::Withholding> Engine::WithholdWage(const std::string& centre_id,
                                                     const v1::WithholdWageRequest& r) {
  if (r.reason() == v1::WITHHOLD_REASON_UNSPECIFIED || !v1::WithholdReason_IsValid(r.reason())) {
    return absl::InvalidArgumentError(
        "reason: one of the published reasons (copied answers, automated, random clicking, "
        "impersonation); a wrong answer in good faith is never one");
  }
  if (r.note().empty()) return absl::InvalidArgumentError("note: say what was seen");
  if (r.decided_by().empty()) return absl::InvalidArgumentError("decided_by: who decides");
  MW_ASSIGN_OR_RETURN(auto parts, ParseAssignmentId(r.assignment_id()));
  MW_ASSIGN_OR_RETURN(TaskRef ref, ParseTaskId(parts.first));
  return Idempotent<v1::Withholding>(
      Principal(centre_id), r.idempotency_key(), r,
      [&](Batch* batch, v1::Withholding* reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        JobRun* run = catalogue_.Find(ref.job_id);
        const StageRun* stage = JobCatalogue::FindStage(run, ref.stage);
        v1::ContributionRecord contribution;
        // Keyed by the step's storage key (an iteration's rounds each have their own).
        absl::Status found = stage == nullptr
                                 ? absl::NotFoundError("")
                                 : store_->GetRecord(Cf::kContributions,
                                                     keys::Contribution(ref.job_id, stage->key,
                                                                        ref.item, parts.second),
                                                     &contribution);
        if (absl::IsNotFound(found) || (found.ok() && contribution.centre() != centre_id)) {
          return absl::NotFoundError(
              absl::StrCat("no contribution ", r.assignment_id(), " at centre ", centre_id));
        }
        MW_RETURN_IF_ERROR(found);
        if (contribution.receipt().wage_minor() <= 0) {
          return absl::FailedPreconditionError("that contribution earned no wage to withhold");
        }
        const std::string key = keys::Withholding(centre_id, r.assignment_id());
        MW_ASSIGN_OR_RETURN(auto existing, store_->Get(Cf::kWithholdings, key));
        if (existing.has_value()) {
          return absl::AlreadyExistsError(
              absl::StrCat("the wage of ", r.assignment_id(), " is withheld already"));
        }
        const std::string account = WorkerAccount(centre_id, parts.second);
        const std::string reason = v1::WithholdReason_Name(r.reason());
        if (const v1::Transfer* wage = ledger_->FindPending(WageTransferId(r.assignment_id()));
            wage != nullptr) {
          // Not yet posted: void the reservation (a person, with a reason). Its fee and share
          // legs void with it, so the job's accruals give them back (payroll.h).
          const std::string id = wage->id();
          const int64_t rate = wage->amount_minor();
          auto leg = [&](const char* suffix) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            const v1::Transfer* t = ledger_->FindPending(absl::StrCat(id, suffix));
            return t == nullptr ? int64_t{0} : t->amount_minor();
          };
          const FeeAndShare charged{.fee = leg("/fee"), .share = leg("/share")};
          MW_RETURN_IF_ERROR(ledger_
                                 ->Apply({.id = absl::StrCat("withhold:", r.assignment_id()),
                                          .kind = v1::TRANSFER_VOID_PENDING,
                                          .pending_id = WageTransferId(r.assignment_id()),
                                          .reason = reason,
                                          .decided_by = r.decided_by()},
                                         batch)
                                 .status());
          Uncharge(&run->progress, centre_id, pay_->Terms(*run, centre_id), rate, charged);
          JobCatalogue::PutProgress(*run, batch);
        } else {
          // Posted: take it back (in the worker's currency, at the rate it was paid at).
          MW_RETURN_IF_ERROR(pay_->PayWorker(*run, centre_id,
                                             {.id = absl::StrCat("withhold:", r.assignment_id()),
                                              .kind = v1::TRANSFER_POSTED,
                                              .code = v1::CODE_WITHHOLD,
                                              .debit_account = account,
                                              .credit_account = EscrowAccount(ref.job_id),
                                              .amount_minor = stage->human.piece_rate_minor(),
                                              .currency = run->record.contract().currency(),
                                              .job_id = ref.job_id,
                                              .reason = reason,
                                              .decided_by = r.decided_by()},
                                             /*fees=*/nullptr, batch)
                                 .status());
        }
        reply->set_assignment_id(r.assignment_id());
        reply->set_worker_account(account);
        reply->set_amount_minor(contribution.receipt().wage_minor());
        reply->set_currency(contribution.receipt().currency());
        reply->set_reason(r.reason());
        reply->set_note(r.note());
        reply->set_decided_by(r.decided_by());
        reply->set_decided_at_ms(clock_->NowMs());
        reply->set_dispute(v1::DISPUTE_NONE);
        batch->PutRecord(Cf::kWithholdings, key, *reply);
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::Withholding> Engine::DisputeWithholding(const std::string& centre_id,
                                                           const v1::DisputeWithholdingRequest& r) {
  if (r.worker_statement().empty()) {
    return absl::InvalidArgumentError("worker_statement: the worker's side, in their words");
  }
  return Idempotent<v1::Withholding>(
      Principal(centre_id), r.idempotency_key(), r,
      [&](Batch* batch, v1::Withholding* reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        const std::string key = keys::Withholding(centre_id, r.assignment_id());
        MW_RETURN_IF_ERROR(ReadWithholding(*store_, key, r.assignment_id(), reply));
        if (reply->dispute() != v1::DISPUTE_NONE) {
          return absl::FailedPreconditionError("this withholding was disputed already");
        }
        reply->set_dispute(v1::DISPUTE_OPEN);
        reply->set_worker_statement(r.worker_statement());
        batch->PutRecord(Cf::kWithholdings, key, *reply);
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::Withholding> Engine::ResolveDispute(const std::string& centre_id,
                                                       const v1::ResolveDisputeRequest& r) {
  if (r.resolution().empty() || r.decided_by().empty()) {
    return absl::InvalidArgumentError("resolution and decided_by: required");
  }
  return Idempotent<v1::Withholding>(
      Principal(centre_id), r.idempotency_key(), r,
      [&](Batch* batch, v1::Withholding* reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        const std::string key = keys::Withholding(centre_id, r.assignment_id());
        MW_RETURN_IF_ERROR(ReadWithholding(*store_, key, r.assignment_id(), reply));
        if (reply->dispute() != v1::DISPUTE_OPEN) {
          return absl::FailedPreconditionError("there is no open dispute to decide");
        }
        if (PersonKey(r.decided_by()) == PersonKey(reply->decided_by())) {
          return absl::PermissionDeniedError(
              "the person who withheld a wage cannot decide its dispute");
        }
        if (r.restore()) {
          MW_ASSIGN_OR_RETURN(auto parts, ParseAssignmentId(r.assignment_id()));
          MW_ASSIGN_OR_RETURN(TaskRef ref, ParseTaskId(parts.first));
          JobRun* run = catalogue_.Find(ref.job_id);
          const StageRun* stage = JobCatalogue::FindStage(run, ref.stage);
          if (stage == nullptr) return absl::DataLossError("the withheld task's stage is gone");
          const int64_t rate = stage->human.piece_rate_minor();
          MW_ASSIGN_OR_RETURN(
              const std::string payer,
              pay_->PayingAccount(*run, rate, absl::StrCat("restore:", r.assignment_id()), batch));
          MW_RETURN_IF_ERROR(pay_->PayWorker(*run, centre_id,
                                             {.id = absl::StrCat("restore:", r.assignment_id()),
                                              .kind = v1::TRANSFER_POSTED,
                                              .code = v1::CODE_RESTORE,
                                              .debit_account = payer,
                                              .credit_account = reply->worker_account(),
                                              .amount_minor = rate,
                                              .currency = run->record.contract().currency(),
                                              .job_id = ref.job_id,
                                              .reason = r.resolution(),
                                              .decided_by = r.decided_by()},
                                             /*fees=*/nullptr, batch)
                                 .status());
        }
        reply->set_dispute(r.restore() ? v1::DISPUTE_RESTORED : v1::DISPUTE_UPHELD);
        reply->set_resolved_by(r.decided_by());
        reply->set_resolution(r.resolution());
        reply->set_resolved_at_ms(clock_->NowMs());
        batch->PutRecord(Cf::kWithholdings, key, *reply);
        return absl::OkStatus();
      });
}

absl::StatusOr<std::vector<v1::Withholding>> Engine::ListWithholdings(
    const std::string& centre_id) const {
  std::vector<v1::Withholding> out;
  auto c = store_->Scan(Cf::kWithholdings, keys::Centre(centre_id));
  for (; c->Valid(); c->Next()) {
    v1::Withholding w;
    MW_RETURN_IF_ERROR(c->Read(&w));
    out.push_back(std::move(w));
  }
  MW_RETURN_IF_ERROR(c->status());
  return out;
}

}  // namespace mw::dispatch
