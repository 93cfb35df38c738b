// Helpers the `mw` commands share.
#ifndef MW_CLI_COMMON_H_
#define MW_CLI_COMMON_H_

#include <string>

#include "absl/status/statusor.h"
#include "cli/client.h"
#include "engine/common/plain_text.h"
#include "engine/ledger/auditor.h"

namespace mw::cli {

// Streams the whole ledger from the dispatcher into `auditor` and checks it.
// Returns the first violation (DATA_LOSS / FAILED_PRECONDITION) or the RPC's error.
[[nodiscard]] absl::Status AuditRemoteLedger(Client& client, ledger::Auditor* auditor);

}  // namespace mw::cli

#endif  // MW_CLI_COMMON_H_
