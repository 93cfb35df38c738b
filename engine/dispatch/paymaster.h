// Paymaster: pays a job's money through the ledger. Given a job (JobRun) and the centre whose
// worker did the work, it knows what a wage costs the escrow (with the platform's fee and the
// centre's share, payroll.h), what the escrow must keep for live leases, which account pays
// (the escrow; a running job short of it falls back to the platform's guarantee; a job that
// ended draws what it still owes from its client), and how a payment crosses currencies at the
// contract's agreed rate.
//
//   Paymaster pay(ledger, &centres);
//   MW_ASSIGN_OR_RETURN(std::string payer, pay.PayingAccount(run, cost, id, &batch));
//   MW_ASSIGN_OR_RETURN(int64_t wage, pay.PayWorker(run, centre_id, spec, &fees, &batch));
//
// Every change goes into the caller's batch through the ledger, which refuses (and changes
// nothing) when an account cannot cover a transfer. Not thread-safe: the engine calls it under
// its lock.
#ifndef MW_ENGINE_DISPATCH_PAYMASTER_H_
#define MW_ENGINE_DISPATCH_PAYMASTER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "engine/common/money.h"
#include "engine/dispatch/centres.h"
#include "engine/dispatch/job_run.h"
#include "engine/dispatch/payroll.h"
#include "engine/ledger/ledger.h"

namespace mw::dispatch {

class Paymaster {
 public:
  // Both must outlive the paymaster.
  Paymaster(ledger::Ledger* ledger, const CentreDirectory* centres)
      : ledger_(ledger), centres_(centres) {}

  // The agreed rate for paying `centre_id`'s workers on `run`; nullptr when they are paid in the
  // contract's currency.
  const FxRate* CentreRate(const JobRun& run, const std::string& centre_id) const;
  // The fee and share rates `run` pays `centre_id`'s workers at.
  PayTerms Terms(const JobRun& run, const std::string& centre_id) const;
  // What a contribution paid `rate` at `centre_id` costs `run`'s escrow now: the wage, the
  // platform's fee and the centre's share (both on top of the wage, never out of it).
  int64_t WageCost(const JobRun& run, const std::string& centre_id, int64_t rate) const;
  // What `run`'s escrow must keep for its live leases, with one more of `extra` at
  // `extra_centre` when given.
  int64_t Exposure(const JobRun& run, const std::string& extra_centre = "",
                   int64_t extra = 0) const;
  // Whether `run`'s escrow can keep one more lease at `rate` for `centre_id` on top of the
  // live ones (Exposure), so that no wage is leased without the money for it.
  bool Affords(const JobRun& run, const std::string& centre_id, int64_t rate) const;

  // Applies `spec`, written in the contract's currency between a job-side account and a worker
  // of `centre_id` (either way round). When the centre is paid in another currency it becomes
  // two transfers at the agreed rate: the job-side one (spec.id, contract currency) through
  // "fx:<contract currency>", and the worker-side one (spec.id + "/fx", the centre's currency)
  // through "fx:<centre currency>", both recording the rate. With `fees` (a contribution's
  // wage, charged to the job's accruals by payroll's Charge), the platform's fee and the
  // centre's share follow as legs "/fee" and "/share" of the same kind. Returns the amount in
  // the worker's currency.
  [[nodiscard]] absl::StatusOr<int64_t> PayWorker(const JobRun& run, const std::string& centre_id,
                                                  ledger::Ledger::TransferSpec spec,
                                                  const FeeAndShare* fees, storage::Batch* batch);
  // The account that pays `cost` for `run` under transfer `id`: the job's escrow when it holds
  // that much. A job that ended returned its escrow, so what it still owes (a review, a top-up
  // to the floor, a late answer) is drawn from its client into the escrow first, as funding the
  // invoice shows; a running job short of escrow falls back to the guarantee account.
  [[nodiscard]] absl::StatusOr<std::string> PayingAccount(const JobRun& run, int64_t cost,
                                                          const std::string& id,
                                                          storage::Batch* batch);
  // Appends to `ids` those of the transfers that reserve, or post at once, the wage of assignment
  // `aid` at `centre_id` on `run` (PayWorker's), with their legs: what a caller about to record
  // many answers reads ahead (ReadAhead). Not PostWage's: a reservation is posted by a later
  // answer's verdict, mostly in another call.
  void WageTransferIds(const JobRun& run, const std::string& centre_id, const std::string& aid,
                       std::vector<std::string>* ids) const;
  // Which of `ids` no transfer has yet, read in one batch (Ledger::ReadAhead).
  [[nodiscard]] absl::Status ReadAhead(const std::vector<std::string>& ids) {
    return ledger_->ReadAhead(ids);
  }
  // Posts the wage reserved for assignment `aid` of `run` (piece rate `rate`), if it is still
  // pending: false when it was posted already or a person withheld (voided) it.
  [[nodiscard]] absl::StatusOr<bool> PostWage(JobRun* run, const std::string& aid, int64_t rate,
                                              storage::Batch* batch);

 private:
  ledger::Ledger* const ledger_;
  const CentreDirectory* const centres_;
};

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_PAYMASTER_H_
