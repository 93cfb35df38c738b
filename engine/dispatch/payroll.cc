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
  auto it = progress.centre_shares().find(centre_id);
  return {PerMilleDue(progress.fee(), amount, terms.fee_per_mille),
          PerMilleDue(it == progress.centre_shares().end() ? v1::Accrual() : it->second, amount,
                      terms.share_per_mille)};
}

FeeAndShare Charge(v1::JobProgressRecord* progress, const std::string& centre_id,
                   const PayTerms& terms, int64_t amount) {
  return {Accrue(progress->mutable_fee(), amount, terms.fee_per_mille),
          Accrue(&(*progress->mutable_centre_shares())[centre_id], amount, terms.share_per_mille)};
}

}  // namespace mw::dispatch
