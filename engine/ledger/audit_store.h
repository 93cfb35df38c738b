// AuditStore: runs the Auditor over the ledger a dispatcher's store holds. Kept apart from the
// Auditor so that clients which audit a ledger streamed over the wire (mw) link no storage.
//
//   Auditor auditor;
//   absl::Status verdict = AuditStore(*store, &auditor);
#ifndef MW_ENGINE_LEDGER_AUDIT_STORE_H_
#define MW_ENGINE_LEDGER_AUDIT_STORE_H_

#include "absl/status/status.h"
#include "engine/ledger/auditor.h"

namespace mw::storage {
class Store;
}  // namespace mw::storage

namespace mw::ledger {

// Audits the ledger held in `store` as of one snapshot: every account (as ReadBalances reads
// it), then every transfer.
[[nodiscard]] absl::Status AuditStore(const storage::Store& store, Auditor* auditor);

}  // namespace mw::ledger

#endif  // MW_ENGINE_LEDGER_AUDIT_STORE_H_
