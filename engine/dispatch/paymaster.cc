#include "engine/dispatch/paymaster.h"

#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/common/ids.h"
#include "engine/common/status_macros.h"

namespace mw::dispatch {

const FxRate* Paymaster::CentreRate(const JobRun& run, const std::string& centre_id) const {
  const v1::Centre* c = centres_->Find(centre_id);
  if (c == nullptr) return nullptr;
  auto it = run.rates.find(c->currency());
  return it == run.rates.end() ? nullptr : &it->second;
}

PayTerms Paymaster::Terms(const JobRun& run, const std::string& centre_id) const {
  return {.fee_per_mille = run.record.contract().platform_fee_per_mille(),
          .share_per_mille = centres_->SharePerMille(centre_id)};
}

int64_t Paymaster::WageCost(const JobRun& run, const std::string& centre_id, int64_t rate) const {
  return DueOn(run.progress, centre_id, Terms(run, centre_id), rate).total(rate);
}

int64_t Paymaster::Exposure(const JobRun& run, const std::string& extra_centre,
                            int64_t extra) const {
  auto share = [this](const std::string& centre) { return centres_->SharePerMille(centre); };
  return dispatch::Exposure(run.progress, run.record.contract().platform_fee_per_mille(),
                            run.live_wages, share, extra_centre, extra);
}

absl::StatusOr<int64_t> Paymaster::PayWorker(const JobRun& run, const std::string& centre_id,
                                             ledger::Ledger::TransferSpec spec,
                                             const FeeAndShare* fees, storage::Batch* batch) {
  const bool to_worker = absl::StartsWith(spec.credit_account, "worker:");
  std::vector<ledger::Ledger::TransferSpec> legs;
  int64_t local = spec.amount_minor;
  if (const FxRate* fx = CentreRate(run, centre_id); fx != nullptr) {
    MW_ASSIGN_OR_RETURN(local, ConvertMinor(spec.amount_minor, *fx));
    ledger::Ledger::TransferSpec worker_side = spec;
    worker_side.id = absl::StrCat(spec.id, "/fx");
    worker_side.amount_minor = local;
    worker_side.currency = fx->to;
    worker_side.exchange_rate = spec.exchange_rate = fx->text;
    const std::string in = absl::StrCat(ledger::kFxPrefix, fx->from);
    const std::string out = absl::StrCat(ledger::kFxPrefix, fx->to);
    if (to_worker) {
      spec.credit_account = in;
      worker_side.debit_account = out;
      legs.push_back(std::move(worker_side));
    } else {
      // The worker's side first: it is the one that can fail (paid out already).
      worker_side.credit_account = out;
      spec.debit_account = in;
      MW_RETURN_IF_ERROR(ledger_->Apply(worker_side, batch).status());
    }
  }
  if (fees != nullptr && to_worker) {
    for (auto [suffix, code, account, amount] :
         {std::tuple{"/fee", v1::CODE_FEE, PlatformFeeAccount(spec.currency), fees->fee},
          std::tuple{"/share", v1::CODE_CENTRE_SHARE, CentreShareAccount(centre_id, spec.currency),
                     fees->share}}) {
      if (amount == 0) continue;
      legs.push_back({.id = absl::StrCat(spec.id, suffix),
                      .kind = spec.kind,
                      .code = code,
                      .debit_account = spec.debit_account,
                      .credit_account = account,
                      .amount_minor = amount,
                      .currency = spec.currency,
                      .job_id = spec.job_id,
                      .reason = spec.reason});
    }
  }
  MW_RETURN_IF_ERROR(ledger_->Apply(spec, batch).status());
  for (const auto& leg : legs) MW_RETURN_IF_ERROR(ledger_->Apply(leg, batch).status());
  return local;
}

bool Paymaster::Affords(const JobRun& run, const std::string& centre_id, int64_t rate) const {
  return ledger_->Available(EscrowAccount(run.record.job().id())) >= Exposure(run, centre_id, rate);
}

absl::StatusOr<std::string> Paymaster::PayingAccount(const JobRun& run, int64_t cost,
                                                     const std::string& id, storage::Batch* batch) {
  const std::string& job_id = run.record.job().id();
  const std::string escrow = EscrowAccount(job_id);
  const int64_t available = ledger_->Available(escrow);
  if (available >= cost) return escrow;
  if (!IsFinal(run.progress.state())) return std::string(kGuaranteeAccount);
  const v1::Contract& c = run.record.contract();
  MW_RETURN_IF_ERROR(ledger_
                         ->Apply({.id = TopUpTransferId(job_id, id),
                                  .kind = v1::TRANSFER_POSTED,
                                  .code = v1::CODE_FUNDING,
                                  .debit_account = ClientAccount(c.client(), c.currency()),
                                  .credit_account = escrow,
                                  .amount_minor = cost - available,
                                  .currency = c.currency(),
                                  .job_id = job_id,
                                  .reason = "owed by the job after it ended"},
                                 batch)
                         .status());
  return escrow;
}

void Paymaster::WageTransferIds(const JobRun& run, const std::string& centre_id,
                                const std::string& aid, std::vector<std::string>* ids) const {
  const PayTerms terms = Terms(run, centre_id);
  const bool converted = CentreRate(run, centre_id) != nullptr;
  std::string id = WageTransferId(aid);
  if (converted) ids->push_back(absl::StrCat(id, "/fx"));
  if (terms.fee_per_mille > 0) ids->push_back(absl::StrCat(id, "/fee"));
  if (terms.share_per_mille > 0) ids->push_back(absl::StrCat(id, "/share"));
  ids->push_back(std::move(id));
}

absl::StatusOr<bool> Paymaster::PostWage(JobRun* run, const std::string& aid, int64_t rate,
                                         storage::Batch* batch) {
  if (ledger_->FindPending(WageTransferId(aid)) == nullptr) return false;
  MW_RETURN_IF_ERROR(ledger_
                         ->Apply({.id = WagePostTransferId(aid),
                                  .kind = v1::TRANSFER_POST_PENDING,
                                  .pending_id = WageTransferId(aid)},
                                 batch)
                         .status());
  run->progress.set_wages_posted_minor(run->progress.wages_posted_minor() + rate);
  return true;
}

}  // namespace mw::dispatch
