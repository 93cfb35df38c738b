#include "engine/ledger/audit_store.h"

#include "engine/common/status_macros.h"
#include "engine/ledger/ledger.h"
#include "engine/ledger/transfer_log.h"
#include "engine/storage/store.h"
#include "microwork/v1/ledger.pb.h"

namespace mw::ledger {

absl::Status AuditStore(const storage::Store& store, Auditor* auditor) {
  auto snapshot = store.GetSnapshot();
  MW_ASSIGN_OR_RETURN(StoredBalances balances, ReadBalances(store, snapshot.get()));
  for (const auto& [id, a] : balances.accounts) auditor->AddAccount(a);
  MW_RETURN_IF_ERROR(ForEachTransfer(store, snapshot.get(), 0, [&](microwork::v1::Transfer& t) {
    return auditor->AddTransfer(t);
  }));
  return auditor->Finish();
}

}  // namespace mw::ledger
