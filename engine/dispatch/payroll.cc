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
                      int64_t window_ms) {
  uint64_t bound = window_ms <= 0 ? 0 : (static_cast<uint64_t>(window_ms) + 999) / 1000;
  if (estimated_seconds > 0) {
    bound = std::min<uint64_t>(bound, uint64_t{estimated_seconds} * max_multiple);
  }
  const uint32_t credited = static_cast<uint32_t>(std::min<uint64_t>(reported_seconds, bound));
  return {.credited_seconds = credited,
          .held_seconds = reported_seconds - credited,
          .window_ms = std::max<int64_t>(window_ms, 0)};
}

}  // namespace mw::dispatch
