// Auditor: checks a ledger from its raw records alone, independently of the code that wrote it.
// Feed it every account and every transfer in log order (as ReadLedger streams them), then call
// Finish. Memory grows with accounts and open pending transfers, not with the log.
//
//   Auditor auditor;
//   for (const Account& a : accounts) auditor.AddAccount(a);
//   for (const Transfer& t : log) if (!auditor.AddTransfer(t).ok()) break;
//   absl::Status verdict = auditor.Finish();   // names the first violation
//
// It checks: the log is numbered 1, 2, 3... and its hash chain is unbroken; transfer ids are
// unique; every POST/VOID resolves an existing pending transfer exactly once; each stored account
// balance equals the fold of its transfers; debits equal credits per currency; no account but the
// outside world's is debited beyond its credits; per job, funding = wages + top-ups + fees +
// centre shares + refunds + remaining escrow; and, for each worker and job the dispatcher sent a
// TimeBound for, the top-ups paid to the worker on the job (from the escrow or the guarantee)
// stay within the wage floor for the time their leases were held (one minor unit of rounding
// per top-up allowed).
#ifndef MW_ENGINE_LEDGER_AUDITOR_H_
#define MW_ENGINE_LEDGER_AUDITOR_H_

#include <map>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "microwork/v1/ledger.pb.h"

namespace mw::ledger {

class Auditor {
 public:
  struct CurrencyTotals {
    int64_t debits_posted = 0;
    int64_t credits_posted = 0;
    int64_t debits_pending = 0;
    int64_t credits_pending = 0;
  };
  struct JobTotals {
    std::string currency;
    int64_t funding = 0;
    int64_t wages = 0;    // posted wages
    int64_t pending = 0;  // wages reserved, awaiting a verdict
    int64_t topups = 0;
    int64_t fees = 0;    // the platform's
    int64_t shares = 0;  // the centres'
    int64_t refunds = 0;
  };

  void AddAccount(const microwork::v1::Account& account);
  // Folds one transfer. Returns the first violation it finds (FAILED_PRECONDITION or DATA_LOSS
  // for a broken chain); after an error the auditor keeps that error.
  [[nodiscard]] absl::Status AddTransfer(const microwork::v1::Transfer& transfer);
  // What the dispatcher knows of a worker's time on a job (after every transfer, as ReadLedger
  // streams them); Finish checks the top-ups against it.
  void AddTimeBound(const microwork::v1::TimeBound& bound);
  // Compares the fold with the stored accounts and checks the totals.
  [[nodiscard]] absl::Status Finish();

  uint64_t transfers() const { return last_seq_; }
  size_t accounts() const { return stored_.size(); }
  const std::map<std::string, CurrencyTotals>& currencies() const { return currencies_; }
  const std::map<std::string, JobTotals>& jobs() const { return jobs_; }
  // Workers' top-ups on a job checked against a TimeBound by Finish, and those with no TimeBound
  // to check them against (work recorded before lease windows were kept, or none sent).
  size_t time_bounds_checked() const { return time_bounds_checked_; }
  size_t time_bounds_missing() const { return time_bounds_missing_; }

 private:
  absl::Status Fail(absl::Status s);

  absl::Status error_;
  uint64_t last_seq_ = 0;
  std::string last_hash_ = std::string(32, '\0');
  absl::flat_hash_map<std::string, microwork::v1::Account> stored_;
  // node_hash_map: AddTransfer holds references to two entries while inserting.
  absl::node_hash_map<std::string, microwork::v1::Account> folded_;
  absl::flat_hash_set<std::string> ids_;
  absl::flat_hash_map<std::string, microwork::v1::Transfer> open_pending_;
  std::map<std::string, CurrencyTotals> currencies_;
  std::map<std::string, JobTotals> jobs_;
  struct TopUps {
    int64_t total = 0;
    int64_t count = 0;
    std::string currency;
  };
  std::map<std::pair<std::string, std::string>, TopUps> topups_;  // by (worker account, job)
  std::map<std::pair<std::string, std::string>, microwork::v1::TimeBound> time_bounds_;
  size_t time_bounds_checked_ = 0;
  size_t time_bounds_missing_ = 0;
};

}  // namespace mw::ledger

#endif  // MW_ENGINE_LEDGER_AUDITOR_H_
