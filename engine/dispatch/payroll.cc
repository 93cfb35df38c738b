#include "engine/dispatch/payroll.h"

#include <algorithm>

namespace mw::dispatch {

int64_t PerMilleDue(const v1::Accrual& accrual, int64_t amount, uint32_t per_mille) {
  const int64_t owed = PerMilleOf(accrual.basis_minor() + amount, per_mille);
  return std::max<int64_t>(0, owed - accrual.charged_minor());
}

int64_t Accrue(v1::Accrual* accrual, int64_t amount, uint32_t per_mille) {
  const int64_t due = PerMilleDue(*accrual, amount, per_mille);
  accrual->set_basis_minor(accrual->basis_minor() + amount);
  accrual->set_charged_minor(accrual->charged_minor() + due);
  return due;
}

void Unaccrue(v1::Accrual* accrual, int64_t amount, int64_t charged) {
  accrual->set_basis_minor(accrual->basis_minor() - amount);
  accrual->set_charged_minor(accrual->charged_minor() - charged);
}

FeeAndShare DueOn(const v1::JobProgressRecord& progress, const std::string& centre_id,
                  const PayTerms& terms, int64_t amount) {
  FeeAndShare due;
  if (terms.fee_per_mille > 0) due.fee = PerMilleDue(progress.fee(), amount, terms.fee_per_mille);
  if (terms.share_per_mille > 0) {
    auto it = progress.centre_shares().find(centre_id);
    due.share = PerMilleDue(it == progress.centre_shares().end() ? v1::Accrual() : it->second,
                            amount, terms.share_per_mille);
  }
  return due;
}

FeeAndShare Charge(v1::JobProgressRecord* progress, const std::string& centre_id,
                   const PayTerms& terms, int64_t amount) {
  FeeAndShare charged;
  if (terms.fee_per_mille > 0) {
    charged.fee = Accrue(progress->mutable_fee(), amount, terms.fee_per_mille);
  }
  if (terms.share_per_mille > 0) {
    charged.share =
        Accrue(&(*progress->mutable_centre_shares())[centre_id], amount, terms.share_per_mille);
  }
  return charged;
}

void Uncharge(v1::JobProgressRecord* progress, const std::string& centre_id, const PayTerms& terms,
              int64_t amount, const FeeAndShare& charged) {
  if (terms.fee_per_mille > 0) Unaccrue(progress->mutable_fee(), amount, charged.fee);
  if (terms.share_per_mille > 0) {
    Unaccrue(&(*progress->mutable_centre_shares())[centre_id], amount, charged.share);
  }
}

TimeCredit CreditTime(uint32_t reported_seconds, uint32_t estimated_seconds, uint32_t max_multiple,
                      int64_t window_ms, int64_t window_start_ms) {
  uint64_t bound = window_ms <= 0 ? 0 : (static_cast<uint64_t>(window_ms) + 999) / 1000;
  if (estimated_seconds > 0) {
    bound = std::min<uint64_t>(bound, uint64_t{estimated_seconds} * max_multiple);
  }
  const uint32_t credited = static_cast<uint32_t>(std::min<uint64_t>(reported_seconds, bound));
  return {.credited_seconds = credited,
          .held_seconds = reported_seconds - credited,
          .window_ms = std::max<int64_t>(window_ms, 0),
          .window_start_ms = window_start_ms};
}

int64_t WindowUnion::Add(int64_t start_ms, int64_t end_ms) {
  start_ms = std::max(start_ms, w_->floor_ms());
  if (end_ms <= start_ms) return 0;
  // Runs are disjoint and sorted: the new window swallows the ones it touches, and what it adds
  // is its length less theirs inside it.
  auto* runs = w_->mutable_runs();
  int first = 0;
  while (first < runs->size() && runs->Get(first).end_ms() < start_ms) ++first;
  int last = first;  // one past the last run touched
  int64_t inside = 0, merged_start = start_ms, merged_end = end_ms;
  for (; last < runs->size() && runs->Get(last).start_ms() <= end_ms; ++last) {
    const v1::LeaseWindows::Run& r = runs->Get(last);
    inside += std::max<int64_t>(0, std::min(end_ms, r.end_ms()) - std::max(start_ms, r.start_ms()));
    merged_start = std::min(merged_start, r.start_ms());
    merged_end = std::max(merged_end, r.end_ms());
  }
  if (last > first) runs->DeleteSubrange(first, last - first);
  v1::LeaseWindows::Run merged;
  merged.set_start_ms(merged_start);
  merged.set_end_ms(merged_end);
  runs->Add(std::move(merged));
  for (int i = runs->size() - 1; i > first; --i) runs->SwapElements(i, i - 1);
  while (static_cast<size_t>(runs->size()) > max_runs_) {
    w_->set_floor_ms(runs->Get(0).end_ms());
    runs->DeleteSubrange(0, 1);
  }
  const int64_t added = (end_ms - start_ms) - inside;
  w_->set_covered_ms(w_->covered_ms() + added);
  return added;
}

}  // namespace mw::dispatch
