#include "engine/ledger/audit_store.h"

#include "engine/storage/store.h"
#include "microwork/v1/ledger.pb.h"

namespace mw::ledger {

using microwork::v1::Account;
using microwork::v1::Transfer;

absl::Status AuditStore(const storage::Store& store, Auditor* auditor) {
  auto snapshot = store.GetSnapshot();
  for (auto c = store.Scan(storage::Cf::kAccounts, "", snapshot.get()); c->Valid(); c->Next()) {
    Account a;
    if (absl::Status s = c->Read(&a); !s.ok()) return s;
    auditor->AddAccount(a);
  }
  for (auto c = store.Scan(storage::Cf::kTransfers, "", snapshot.get()); c->Valid(); c->Next()) {
    Transfer t;
    if (absl::Status s = c->Read(&t); !s.ok()) return s;
    if (absl::Status s = auditor->AddTransfer(t); !s.ok()) return s;
  }
  return auditor->Finish();
}

}  // namespace mw::ledger
