// Engine: money flows beyond wages. Funding a job, payout batches per centre with top-ups to
// the wage floor on measured time, and the aggregated impact report.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/common/ids.h"
#include "engine/common/money.h"
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
constexpr uint32_t kMinGroup = 5;  // smaller groups are suppressed in reports

std::string ClearingAccount(absl::string_view centre) { return absl::StrCat("payout:", centre); }

// A top-up to the floor: one per payout batch, job and worker, whoever pays it.
std::string TopUpTransferId(absl::string_view batch_id, absl::string_view job_id,
                            absl::string_view worker_account) {
  return absl::StrCat("topup:", batch_id, ":", job_id, ":", worker_account);
}

int64_t Percentile(std::vector<int64_t> v, int p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[(v.size() - 1) * p / 100];
}
}  // namespace

absl::StatusOr<v1::Job> Engine::FundJob(const v1::FundJobRequest& request) {
  if (request.amount_minor() <= 0) {
    return absl::InvalidArgumentError("amount_minor: must be positive");
  }
  return Idempotent<v1::Job>(
      kOperatorPrincipal, request.idempotency_key(), request,
      [&](Batch* batch, v1::Job* reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        JobRun* run = catalogue_.Find(request.job_id());
        if (run == nullptr) return absl::NotFoundError(absl::StrCat("no job ", request.job_id()));
        if (IsFinal(run->progress.state())) {
          return absl::FailedPreconditionError(
              absl::StrCat("the job is ", v1::JobState_Name(run->progress.state()),
                           "; it takes no more funding (mw job close returns its escrow)"));
        }
        const v1::Contract& c = run->record.contract();
        MW_RETURN_IF_ERROR(ledger_
                               ->Apply({.id = OperatorFundingTransferId(request.job_id(),
                                                                        request.idempotency_key()),
                                        .kind = v1::TRANSFER_POSTED,
                                        .code = v1::CODE_FUNDING,
                                        .debit_account = ClientAccount(c.client(), c.currency()),
                                        .credit_account = EscrowAccount(request.job_id()),
                                        .amount_minor = request.amount_minor(),
                                        .currency = c.currency(),
                                        .job_id = request.job_id()},
                                       batch)
                               .status());
        if (run->progress.state() == v1::JOB_BUDGET_EXHAUSTED) {
          run->progress.set_state(v1::JOB_RUNNING);
        }
        run->record.mutable_job()->set_budget_minor(run->record.job().budget_minor() +
                                                    request.amount_minor());
        batch->PutRecord(Cf::kJobs, keys::Job(request.job_id()), run->record);
        JobCatalogue::PutProgress(*run, batch);
        *reply = JobView(*run);
        Touch(run);
        return absl::OkStatus();
      });
}

absl::StatusOr<std::vector<v1::TimeBound>> Engine::TimeBounds(
    const storage::Snapshot& snapshot) const {
  // The union of the lease windows of every paid answer, per worker and job (as the worker book
  // keeps it, but every run: never shorter than the book's); a pair with an answer recorded
  // before windows were kept gets no bound (nothing to check it against).
  struct Leased {
    std::string centre;
    v1::LeaseWindows windows;
    bool known = true;
  };
  std::map<std::pair<std::string, std::string>, Leased> leased;  // (worker account, job)
  for (auto c = store_->Scan(Cf::kContributions, "", &snapshot); c->Valid(); c->Next()) {
    v1::ContributionRecord rec;
    MW_RETURN_IF_ERROR(c->Read(&rec));
    if (rec.receipt().status() != v1::RECEIPT_ACCEPTED || rec.result().answer().skipped()) {
      continue;  // no time credited
    }
    const std::string job_id = rec.task_id().substr(0, rec.task_id().find('/'));
    Leased& l = leased[{WorkerAccount(rec.centre(), rec.result().worker()), job_id}];
    l.centre = rec.centre();
    WindowUnion(&l.windows, WindowUnion::kAllRuns)
        .Add(rec.lease_window_start_ms(), rec.lease_window_start_ms() + rec.lease_window_ms());
    l.known = l.known && rec.lease_window_ms() > 0 && rec.lease_window_start_ms() > 0;
  }
  std::vector<v1::TimeBound> bounds;
  absl::MutexLock l(&mu_);
  for (const auto& [key, time] : leased) {
    const v1::Centre* centre = centres_.Find(time.centre);
    const JobRun* run = catalogue_.Find(key.second);
    if (!time.known || centre == nullptr || run == nullptr) continue;
    v1::TimeBound& b = bounds.emplace_back();
    b.set_worker_account(key.first);
    b.set_job_id(key.second);
    const uint64_t seconds = (time.windows.covered_ms() + 999) / 1000;  // as the book rounds it
    b.set_leased_seconds(seconds);
    b.set_floor_minor_per_hour(centre->wage_floor_minor_per_hour());
    b.set_currency(centre->currency());
    b.set_topup_bound_minor(PayForTime(seconds, centre->wage_floor_minor_per_hour()));
    int64_t rounding = 1;
    if (const FxRate* fx = pay_->CentreRate(*run, time.centre); fx != nullptr) {
      MW_ASSIGN_OR_RETURN(const int64_t unit, ConvertMinor(1, *fx));
      rounding = unit + 1;
    }
    b.set_rounding_minor(rounding);
  }
  return bounds;
}

absl::StatusOr<v1::PayoutBatch> Engine::CreatePayout(const v1::CreatePayoutRequest& r) {
  return Idempotent<v1::PayoutBatch>(
      kOperatorPrincipal, r.idempotency_key(), r,
      [&](Batch* batch, v1::PayoutBatch* reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        const v1::Centre* found = centres_.Find(r.centre());
        if (found == nullptr) return absl::NotFoundError(absl::StrCat("no centre ", r.centre()));
        const v1::Centre& centre = *found;
        reply->set_id(absl::StrCat("payout-", r.centre(), "-", next_payout_));
        reply->set_centre(r.centre());
        reply->set_state(v1::PAYOUT_CREATED);
        reply->set_currency(centre.currency());
        reply->set_created_at_ms(clock_->NowMs());

        // 1. Top-ups: per worker and job, the period's measured time at the floor, minus what the
        //    period's work earned. Paid from the job's escrow (the platform guarantees the rest).
        std::map<std::string, int64_t> topups;  // by worker account
        const std::string prefix = WorkerAccount(r.centre(), "");
        auto top_up =
            [&](const std::string& account, const std::string& job_id, v1::WorkerJobRecord& stats)
                ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
          if (stats.period_active_seconds() == 0) return absl::OkStatus();
          const int64_t due =
              PayForTime(stats.period_active_seconds(), centre.wage_floor_minor_per_hour()) -
              stats.period_wages_minor();
          const JobRun* run = catalogue_.Find(job_id);
          if (due > 0 && run != nullptr) {
            // The floor is in the centre's currency; the escrow pays what that costs in the
            // contract's, at the agreed rate (rounded so the worker gets at least `due`).
            const FxRate* fx = pay_->CentreRate(*run, r.centre());
            int64_t cost = due;
            if (fx != nullptr) {
              MW_ASSIGN_OR_RETURN(cost, CostInSourceMinor(due, *fx));
            }
            const std::string id = TopUpTransferId(reply->id(), job_id, account);
            MW_ASSIGN_OR_RETURN(const std::string payer,
                                pay_->PayingAccount(*run, cost, id, batch));
            if (payer == kGuaranteeAccount) {
              // The escrow cannot cover it: the platform's guarantee pays only when two people
              // approve the batch (ApprovePayout).
              v1::GuaranteeTopUp* g = reply->add_guarantee_topups();
              g->set_worker_account(account);
              g->set_job_id(job_id);
              g->set_amount_minor(cost);
              g->set_currency(run->record.contract().currency());
              reply->set_guarantee_minor(reply->guarantee_minor() + cost);
            } else {
              MW_ASSIGN_OR_RETURN(const int64_t paid,
                                  pay_->PayWorker(*run, r.centre(),
                                                  {.id = id,
                                                   .kind = v1::TRANSFER_POSTED,
                                                   .code = v1::CODE_TOPUP,
                                                   .debit_account = payer,
                                                   .credit_account = account,
                                                   .amount_minor = cost,
                                                   .currency = run->record.contract().currency(),
                                                   .job_id = job_id,
                                                   .reason = "wage floor on measured time"},
                                                  /*fees=*/nullptr, batch));
              topups[account] += paid;
              stats.set_topups_minor(stats.topups_minor() + paid);
            }
          }
          stats.set_period_active_seconds(0);
          stats.set_period_wages_minor(0);
          workers_.PutOnJob(account, job_id, batch);
          return absl::OkStatus();
        };
        // Records with no time this period are not changed: those of ended jobs stay on disk.
        MW_RETURN_IF_ERROR(workers_.UpdateOnJob(prefix, top_up, [](const v1::WorkerJobRecord& r) {
          return r.period_active_seconds() != 0;
        }));

        // 2. What each worker is owed now: their posted balance (pending wages wait for verdicts).
        // (Memory holds every account, those opened by the top-ups just applied too.)
        ledger_->ForEachAccount(prefix, [&](const v1::Account& a) {
          const int64_t owed = a.credits_posted() - a.debits_posted();
          if (owed <= 0) return;
          v1::PayoutLine* line = reply->add_lines();
          line->set_worker_account(a.id());
          line->set_amount_minor(owed);
          line->set_currency(a.currency());
          line->set_topup_minor(topups[a.id()]);
          reply->set_total_minor(reply->total_minor() + owed);
          reply->set_topups_minor(reply->topups_minor() + topups[a.id()]);
        });
        batch->PutRecord(Cf::kPayouts, keys::Payout(reply->id()), *reply);
        batch->Put(Cf::kMeta, keys::Meta("next_payout"), absl::StrCat(++next_payout_));
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::PayoutBatch> Engine::ApprovePayout(const v1::ApprovePayoutRequest& r) {
  const std::string person(absl::StripAsciiWhitespace(r.approved_by()));
  if (person.empty()) return absl::InvalidArgumentError("approved_by: a person approves a payout");
  // Keys are each person's own: the second approver's call is never the first's replay.
  return Idempotent<v1::PayoutBatch>(
      absl::StrCat("staff:", person), r.idempotency_key(), r,
      [&](Batch* batch, v1::PayoutBatch* reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        absl::Status s = store_->GetRecord(Cf::kPayouts, keys::Payout(r.batch_id()), reply);
        if (absl::IsNotFound(s))
          return absl::NotFoundError(absl::StrCat("no payout ", r.batch_id()));
        MW_RETURN_IF_ERROR(s);
        if (reply->state() != v1::PAYOUT_CREATED) {
          return absl::FailedPreconditionError(
              absl::StrCat(r.batch_id(), " was approved by ", reply->approved_by(),
                           reply->second_approver().empty() ? "" : " and ",
                           reply->second_approver(), " already"));
        }
        // Top-ups from the platform's guarantee: two people, each in their own call, or nothing
        // moves. The first approval is recorded and waits for the second.
        const bool two_people = reply->guarantee_topups_size() > 0;
        if (two_people && reply->approved_by().empty()) {
          reply->set_approved_by(person);
          reply->set_approved_at_ms(clock_->NowMs());
          batch->PutRecord(Cf::kPayouts, keys::Payout(r.batch_id()), *reply);
          return absl::OkStatus();
        }
        const std::string first = two_people ? reply->approved_by() : person;
        const std::string second = two_people ? person : "";
        if (two_people) {
          const v1::StaffAccount* a = staff_.Find(first);
          const v1::StaffAccount* b = staff_.Find(second);
          if (a != nullptr && a->revoked_at_ms() != 0) {
            // The first approver's account was revoked since: this approval is the first now.
            reply->set_approved_by(person);
            reply->set_approved_at_ms(clock_->NowMs());
            batch->PutRecord(Cf::kPayouts, keys::Payout(r.batch_id()), *reply);
            return absl::OkStatus();
          }
          std::string why;
          if (absl::AsciiStrToLower(first) == absl::AsciiStrToLower(second)) {
            why = "a second person approves them too";
          } else if ((a != nullptr && IssuedBy(*a, second)) ||
                     (b != nullptr && IssuedBy(*b, first))) {
            why = "the second person may not be the one who was given the other's credential";
          }
          if (!why.empty()) {
            return absl::FailedPreconditionError(absl::StrCat(
                r.batch_id(), " has ", reply->guarantee_topups_size(),
                " top-ups from the platform's guarantee (",
                FormatMoney(reply->guarantee_minor(), reply->guarantee_topups(0).currency()),
                "): approved by ", first, "; ", why));
          }
        }
        // Each transfer moves the ledger's memory at once: one refused after another went
        // through leaves memory ahead of the disk, which Diverged turns into a restart from
        // what is durable. A refusal before any moved changes nothing.
        bool moved = false;
        auto moving = [&](absl::Status s) {
          if (!s.ok() && moved) Diverged(s);
          moved = moved || s.ok();
          return s;
        };
        for (const auto& g : reply->guarantee_topups()) {
          const JobRun* run = catalogue_.Find(g.job_id());
          if (run == nullptr) return absl::DataLossError(absl::StrCat("no job ", g.job_id()));
          const std::string id = TopUpTransferId(r.batch_id(), g.job_id(), g.worker_account());
          // The ledger checks the two people again (CheckTwoPeople) and refuses otherwise.
          MW_RETURN_IF_ERROR(
              moving(pay_->PayWorker(*run, reply->centre(),
                                     {.id = id,
                                      .kind = v1::TRANSFER_POSTED,
                                      .code = v1::CODE_TOPUP,
                                      .debit_account = kGuaranteeAccount,
                                      .credit_account = g.worker_account(),
                                      .amount_minor = g.amount_minor(),
                                      .currency = g.currency(),
                                      .job_id = g.job_id(),
                                      .reason = "wage floor on measured time, from the platform's "
                                                "guarantee (the job's escrow was short)",
                                      .decided_by = first,
                                      .second_approver = second},
                                     /*fees=*/nullptr, batch)
                         .status()));
        }
        for (const auto& line : reply->lines()) {
          // The ledger refuses a line the account no longer covers.
          MW_RETURN_IF_ERROR(moving(
              ledger_
                  ->Apply({.id = absl::StrCat("payout:", r.batch_id(), ":", line.worker_account()),
                           .kind = v1::TRANSFER_POSTED,
                           .code = v1::CODE_PAYOUT,
                           .debit_account = line.worker_account(),
                           .credit_account = ClearingAccount(reply->centre()),
                           .amount_minor = line.amount_minor(),
                           .currency = line.currency(),
                           .reason = r.batch_id(),
                           .decided_by = first},
                          batch)
                  .status()));
        }
        reply->set_state(v1::PAYOUT_APPROVED);
        reply->set_approved_by(first);
        reply->set_second_approver(second);
        reply->set_approved_at_ms(clock_->NowMs());
        batch->PutRecord(Cf::kPayouts, keys::Payout(r.batch_id()), *reply);
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::PayoutBatch> Engine::GetCentrePayout(const std::string& centre,
                                                        const std::string& batch_id) const {
  MW_ASSIGN_OR_RETURN(v1::PayoutBatch batch, GetPayout(batch_id));
  if (batch.centre() != centre) {
    return absl::PermissionDeniedError("a centre sees only its own payouts");
  }
  return batch;
}

absl::StatusOr<v1::PayoutBatch> Engine::SettlePayout(const std::string& centre,
                                                     const v1::SettlePayoutRequest& r) {
  const std::string person(absl::StripAsciiWhitespace(r.settled_by()));
  if (person.empty() || person.size() > 100) {
    return absl::InvalidArgumentError(
        "settled_by: the person of the centre who imports the result (1-100 characters)");
  }
  if (r.lines().empty()) return absl::InvalidArgumentError("lines: at least one result");
  for (int i = 0; i < r.lines_size(); ++i) {
    const auto& l = r.lines(i);
    const std::string where = absl::StrCat("lines[", i, "]");
    if (l.outcome() != v1::PAYOUT_LINE_PAID && l.outcome() != v1::PAYOUT_LINE_FAILED) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".outcome: expected PAID or FAILED"));
    }
    if (l.outcome() == v1::PAYOUT_LINE_FAILED && l.paid_minor() != 0) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".paid_minor: a failed line paid 0"));
    }
    if (l.reason().size() > 200 || l.rail_reference().size() > 64) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": reason at most 200 bytes, rail_reference at most 64"));
    }
    if (l.outcome() == v1::PAYOUT_LINE_PAID && l.rail_reference().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".rail_reference: a paid line names the rail's transaction"));
    }
  }
  return Idempotent<v1::PayoutBatch>(
      absl::StrCat("centre:", centre), r.idempotency_key(), r,
      [&](Batch* batch, v1::PayoutBatch* reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        absl::Status s = store_->GetRecord(Cf::kPayouts, keys::Payout(r.batch_id()), reply);
        if (absl::IsNotFound(s) || (s.ok() && reply->centre() != centre)) {
          return absl::NotFoundError(
              absl::StrCat("no payout ", r.batch_id(), " of centre ", centre));
        }
        MW_RETURN_IF_ERROR(s);
        if (reply->state() != v1::PAYOUT_APPROVED) {
          return absl::FailedPreconditionError(
              absl::StrCat(r.batch_id(), " is not approved: nothing was sent to pay"));
        }
        absl::flat_hash_map<std::string, v1::PayoutLine*> by_account;
        for (auto& l : *reply->mutable_lines()) by_account[l.worker_account()] = &l;
        // Every line is checked before anything moves: each transfer applied moves the ledger's
        // memory at once, so a request refused halfway would leave memory ahead of the disk.
        struct Settlement {
          v1::PayoutLine* line;
          const v1::SettlePayoutRequest::Line* result;
          int64_t paid;
        };
        std::vector<Settlement> settle;
        absl::flat_hash_set<std::string> named;
        for (int i = 0; i < r.lines_size(); ++i) {
          const auto& in = r.lines(i);
          const std::string where = absl::StrCat("lines[", i, "]");
          if (!named.insert(in.worker_account()).second) {
            return absl::InvalidArgumentError(
                absl::StrCat(where, ".worker_account: ", in.worker_account(), " appears twice"));
          }
          auto found = by_account.find(in.worker_account());
          if (found == by_account.end()) {
            return absl::NotFoundError(absl::StrCat(where, ".worker_account: ", in.worker_account(),
                                                    " is not in ", r.batch_id()));
          }
          v1::PayoutLine* line = found->second;
          const int64_t paid = in.outcome() == v1::PAYOUT_LINE_PAID ? in.paid_minor() : 0;
          if (in.outcome() == v1::PAYOUT_LINE_PAID && (paid < 1 || paid > line->amount_minor())) {
            return absl::InvalidArgumentError(absl::StrCat(where, ".paid_minor: expected 1 to ",
                                                           line->amount_minor(), " for ",
                                                           in.worker_account(), ", got ", paid));
          }
          if (line->outcome() != v1::PAYOUT_LINE_AWAITING) {
            if (line->outcome() == in.outcome() && line->paid_minor() == paid &&
                line->rail_reference() == in.rail_reference()) {
              continue;  // the same result again: already settled
            }
            return absl::FailedPreconditionError(absl::StrCat(
                where, ": ", in.worker_account(), " was settled already as ",
                v1::PayoutLineOutcome_Name(line->outcome()), " by ", line->settled_by()));
          }
          settle.push_back({line, &in, paid});
        }
        bool moved = false;
        for (const Settlement& s : settle) {
          if (const int64_t back = s.line->amount_minor() - s.paid; back > 0) {
            absl::Status applied =
                ledger_
                    ->Apply({.id = absl::StrCat("payout-returned:", r.batch_id(), ":",
                                                s.line->worker_account()),
                             .kind = v1::TRANSFER_POSTED,
                             .code = v1::CODE_PAYOUT_RETURNED,
                             .debit_account = ClearingAccount(centre),
                             .credit_account = s.line->worker_account(),
                             .amount_minor = back,
                             .currency = s.line->currency(),
                             .reason = s.result->outcome() == v1::PAYOUT_LINE_FAILED
                                           ? absl::StrCat("not paid: ", s.result->reason())
                                           : "below the payment rail's smallest unit",
                             .decided_by = person},
                            batch)
                    .status();
            if (!applied.ok()) {
              if (moved) Diverged(applied);  // an earlier line's transfer is in memory only
              return applied;
            }
            moved = true;
          }
          s.line->set_outcome(s.result->outcome());
          s.line->set_paid_minor(s.paid);
          s.line->set_outcome_reason(s.result->reason());
          s.line->set_rail_reference(s.result->rail_reference());
          s.line->set_settled_by(person);
        }
        batch->PutRecord(Cf::kPayouts, keys::Payout(r.batch_id()), *reply);
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::PayoutBatch> Engine::GetPayout(const std::string& batch_id) const {
  v1::PayoutBatch batch;
  absl::Status s = store_->GetRecord(Cf::kPayouts, keys::Payout(batch_id), &batch);
  if (absl::IsNotFound(s)) return absl::NotFoundError(absl::StrCat("no payout ", batch_id));
  MW_RETURN_IF_ERROR(s);
  return batch;
}

namespace {

v1::HeldTime HeldTimeOf(const std::string& account, const std::string& job_id,
                        const v1::WorkerJobRecord& r) {
  v1::HeldTime h;
  h.set_worker_account(account);
  h.set_job_id(job_id);
  h.set_held_seconds(r.held_seconds());
  h.set_credited_seconds(r.active_seconds());
  h.set_window_seconds(r.window_seconds());
  h.set_releasable_seconds(WorkerBook::Releasable(r));
  *h.mutable_releases() = r.releases();
  return h;
}

}  // namespace

absl::StatusOr<v1::ListHeldTimeReply> Engine::ListHeldTime(const std::string& centre) const {
  v1::ListHeldTimeReply reply;
  absl::MutexLock l(&mu_);
  MW_RETURN_IF_ERROR(workers_.ForEachOnJob(
      centre.empty() ? "" : WorkerAccount(centre, ""),
      [&](const std::string& account, const std::string& job_id, const v1::WorkerJobRecord& r) {
        if (r.held_seconds() > 0 || r.releases_size() > 0) {
          *reply.add_held() = HeldTimeOf(account, job_id, r);
        }
        return absl::OkStatus();
      }));
  return reply;
}

absl::StatusOr<v1::HeldTime> Engine::ReleaseHeldTime(const v1::ReleaseHeldTimeRequest& r) {
  const std::string by(absl::StripAsciiWhitespace(r.decided_by()));
  const std::string reason(absl::StripAsciiWhitespace(r.reason()));
  if (r.seconds() == 0) return absl::InvalidArgumentError("seconds: at least 1");
  if (by.empty()) return absl::InvalidArgumentError("decided_by: a person releases held time");
  if (reason.empty()) return absl::InvalidArgumentError("reason: say why the time is credited");
  return Idempotent<v1::HeldTime>(
      absl::StrCat("staff-release:", by), r.idempotency_key(), r,
      [&](Batch* batch, v1::HeldTime* reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        v1::TimeRelease release;
        release.set_seconds(r.seconds());
        release.set_decided_by(by);
        release.set_reason(reason);
        release.set_at_ms(clock_->NowMs());
        MW_RETURN_IF_ERROR(workers_.ReleaseHeld(r.worker_account(), r.job_id(), release));
        workers_.PutOnJob(r.worker_account(), r.job_id(), batch);
        *reply = HeldTimeOf(r.worker_account(), r.job_id(),
                            *workers_.FindOnJob(r.worker_account(), r.job_id()));
        spdlog::warn(
            "event=held_time_released worker={} job={} seconds={} decided_by=\"{}\" "
            "reason=\"{}\"",
            r.worker_account(), r.job_id(), r.seconds(), by, reason);
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::ImpactReport> Engine::ImpactReport(const std::string& job_id) const {
  absl::MutexLock l(&mu_);
  if (!job_id.empty() && catalogue_.Find(job_id) == nullptr) {
    return absl::NotFoundError(absl::StrCat("no job ", job_id));
  }
  struct Worker {
    uint64_t seconds = 0;
    int64_t wages = 0, topups = 0;
  };
  std::map<std::string, std::map<std::string, Worker>> by_centre;  // centre -> account -> work
  MW_RETURN_IF_ERROR(workers_.ForEachOnJob(
      "",
      [&](const std::string& account, const std::string& on_job, const v1::WorkerJobRecord& stats) {
        if (!job_id.empty() && on_job != job_id) return absl::OkStatus();
        // account: "worker:<centre>/<pseudonym>"
        const std::string centre = account.substr(7, account.find('/') - 7);
        Worker& w = by_centre[centre][account];
        w.seconds += stats.active_seconds();
        w.wages += stats.wages_minor();
        w.topups += stats.topups_minor();
        return absl::OkStatus();
      }));
  v1::ImpactReport report;
  report.set_job_id(job_id);
  for (const auto& [centre_id, workers] : by_centre) {
    v1::CentreImpact* c = report.add_centres();
    c->set_centre(centre_id);
    if (const v1::Centre* centre = centres_.Find(centre_id); centre != nullptr) {
      c->set_region(centre->region());
      c->set_currency(centre->currency());
      c->set_floor_minor_per_hour(centre->wage_floor_minor_per_hour());
    }
    c->set_workers(static_cast<uint32_t>(workers.size()));
    if (workers.size() < kMinGroup) {
      c->set_suppressed(true);  // too few to report without pointing at people
      continue;
    }
    std::vector<int64_t> hourly;
    for (const auto& [account, w] : workers) {
      c->set_active_seconds(c->active_seconds() + w.seconds);
      c->set_wages_minor(c->wages_minor() + w.wages);
      c->set_topups_minor(c->topups_minor() + w.topups);
      if (w.seconds == 0) continue;
      const int64_t rate = EarnedPerHour(w.wages, w.seconds);
      hourly.push_back(rate);
      if (rate < c->floor_minor_per_hour()) c->set_below_floor(c->below_floor() + 1);
    }
    c->set_hourly_p10_minor(Percentile(hourly, 10));
    c->set_hourly_median_minor(Percentile(hourly, 50));
    c->set_hourly_p90_minor(Percentile(hourly, 90));
  }
  return report;
}

}  // namespace mw::dispatch
