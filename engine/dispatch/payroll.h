// Payroll: what a contribution's wage costs a job, and the ledger legs that pay it. One home for
// the money rules the dispatcher applies to a wage: the platform's fee and the centre's share
// (each on top of the wage, never out of it), and the exchange into the centre's currency.
//
// Fees and shares are exact per job: each is charged on the running total of the wages it
// applies to (the job's for the fee, each centre's for its share), so after any sequence of
// wages the charged total is PerMilleOf(total), to the minor unit, however small the piece rate.
// A per-answer rounding would make a 20% fee on a 1-cent rate 0% (and 33% on 3 cents).
//
//   v1::Accrual fee;
//   for (int i = 0; i < 10; ++i) Accrue(&fee, /*amount=*/1, /*per_mille=*/200);  //
//   0,0,1,0,0,0,0,1,0,0
//   // fee.charged_minor() == 2 == PerMilleOf(10, 200)
#ifndef MW_ENGINE_DISPATCH_PAYROLL_H_
#define MW_ENGINE_DISPATCH_PAYROLL_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "engine/common/money.h"
#include "microwork/v1/records.pb.h"

namespace mw::dispatch {

namespace v1 = ::microwork::v1;

// What charging `per_mille` on `amount` more would cost now: PerMilleOf(basis + amount) minus
// what was charged already, never below zero (a unit over-charged before a void is carried).
int64_t PerMilleDue(const v1::Accrual& accrual, int64_t amount, uint32_t per_mille);

// Charges it: `amount` joins the basis, the due part joins the charged total. Returns the due
// part.
int64_t Accrue(v1::Accrual* accrual, int64_t amount, uint32_t per_mille);

// Takes back a charge of `charged` made on `amount` (its wage was voided). The next Accrue
// corrects any unit the rounding then owes either way.
void Unaccrue(v1::Accrual* accrual, int64_t amount, int64_t charged);

// The rates a job pays one centre's workers at.
struct PayTerms {
  uint32_t fee_per_mille = 0;    // the platform's (Contract.platform_fee_per_mille)
  uint32_t share_per_mille = 0;  // the centre's (Centre.centre_share_per_mille)
};

// The fee and the centre's share due on a wage of `amount` at `centre_id` under `progress`'s
// accruals, without charging them.
struct FeeAndShare {
  int64_t fee = 0;
  int64_t share = 0;
  int64_t total(int64_t wage) const { return wage + fee + share; }
};
FeeAndShare DueOn(const v1::JobProgressRecord& progress, const std::string& centre_id,
                  const PayTerms& terms, int64_t amount);
// Charges them to `progress` and returns them. A rate of zero charges nothing and keeps no
// running total (a job without a fee, a centre without a share, cost nothing per answer).
FeeAndShare Charge(v1::JobProgressRecord* progress, const std::string& centre_id,
                   const PayTerms& terms, int64_t amount);
// Takes back what Charge charged on `amount` under the same terms (its wage was voided).
void Uncharge(v1::JobProgressRecord* progress, const std::string& centre_id, const PayTerms& terms,
              int64_t amount, const FeeAndShare& charged);

// Time on task the wage floor may count for one answer. The agent's `reported_seconds` are a
// claim; what can be credited is bounded by what the dispatcher knows: no more than
// `max_multiple` times the stage's `estimated_seconds` (when it has one), and no more than the
// task was held, `window_ms` (from its lease to the later of the lease's end and the answer).
// What is cut is held for a person to look at, never silently dropped.
struct TimeCredit {
  uint32_t credited_seconds = 0;
  uint32_t held_seconds = 0;
  int64_t window_ms = 0;        // the window it was bounded by (kept on the contribution)
  int64_t window_start_ms = 0;  // when that window began
};
TimeCredit CreditTime(uint32_t reported_seconds, uint32_t estimated_seconds, uint32_t max_multiple,
                      int64_t window_ms, int64_t window_start_ms = 0);

// The union of a worker's lease windows on a job. Each answer's time is bounded by its own
// window; the worker's total on the job by the union, so ten tasks held at once for ten minutes
// credit ten minutes, not a hundred.
//
// Kept as at most `max_runs` disjoint runs (the latest). Past that the oldest run is dropped and
// time before its end is never counted again: the union may come out short, never long. What it
// cuts is held (TimeCredit) and shown, though a release stays within the union as kept; with 16
// runs that takes a worker answering a lease from sixteen separate stretches of work ago.
//
//   WindowUnion u(&record.windows, WindowUnion::kKeptRuns);
//   u.Add(0, 600'000);        // 600'000: new time
//   u.Add(0, 600'000);        // 0: held at the same time as the first
//   u.Add(300'000, 900'000);  // 300'000
class WindowUnion {
 public:
  static constexpr size_t kKeptRuns = 16;  // what a worker-job record keeps
  static constexpr size_t kAllRuns = SIZE_MAX;

  WindowUnion(v1::LeaseWindows* windows, size_t max_runs) : w_(windows), max_runs_(max_runs) {}

  // Adds [start_ms, end_ms) and returns the milliseconds of it no earlier window covered.
  int64_t Add(int64_t start_ms, int64_t end_ms);
  int64_t covered_ms() const { return w_->covered_ms(); }
  // The union in whole seconds, rounded up.
  uint64_t covered_seconds() const { return (w_->covered_ms() + 999) / 1000; }

 private:
  v1::LeaseWindows* w_;
  size_t max_runs_;
};

// What the job's escrow must keep for wages already promised but not yet reserved (live leases,
// `live` by centre, in the contract's currency, plus `extra` more at `extra_centre`) with their
// fee and shares. `share_per_mille` gives each centre's rate.
template <typename ShareRate>
int64_t Exposure(const v1::JobProgressRecord& progress, uint32_t fee_per_mille,
                 const std::map<std::string, int64_t>& live, ShareRate share_per_mille,
                 const std::string& extra_centre = "", int64_t extra = 0) {
  int64_t wages = 0, shares = 0;
  auto add = [&](const std::string& centre, int64_t amount) {
    if (amount <= 0) return;
    wages += amount;
    const uint32_t rate = share_per_mille(centre);
    if (rate == 0) return;
    auto it = progress.centre_shares().find(centre);
    shares += PerMilleDue(it == progress.centre_shares().end() ? v1::Accrual() : it->second, amount,
                          rate);
  };
  for (const auto& [centre, amount] : live) {
    add(centre, centre == extra_centre ? amount + extra : amount);
  }
  if (extra != 0 && live.find(extra_centre) == live.end()) add(extra_centre, extra);
  return wages + (fee_per_mille == 0 ? 0 : PerMilleDue(progress.fee(), wages, fee_per_mille)) +
         shares;
}

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_PAYROLL_H_
