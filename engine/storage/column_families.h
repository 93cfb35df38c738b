// Every RocksDB column family of both databases (the dispatcher's and an agent's), in one enum
// with one name table. The names are persisted: never rename or reuse one.
#ifndef MW_ENGINE_STORAGE_COLUMN_FAMILIES_H_
#define MW_ENGINE_STORAGE_COLUMN_FAMILIES_H_

#include <cstddef>
#include <vector>

namespace mw::storage {

enum class Cf : int {
  kDefault = 0,
  // Dispatcher: kMeta through kPayouts, contiguous (FamiliesOf relies on it).
  kMeta,              // counters and the ledger head
  kCentres,           // centre id -> CentreRecord
  kJobs,              // job id -> JobRecord
  kJobProgress,       // job id -> JobProgressRecord
  kItems,             // (job, item) -> Item
  kTasks,             // (job, stage, item) -> TaskRecord
  kContributions,     // (job, stage, item, worker) -> ContributionRecord
  kResultIds,         // (result id, centre) -> ResultIdRecord
  kOutputs,           // (job, stage, item) -> ResultRecord
  kIdempotency,       // (principal, key) -> IdempotencyRecord
  kAccounts,          // account id -> Account
  kTransfers,         // seq -> Transfer (ledgers written before kTransferBlocks)
  kTransferIds,       // keys::TransferIdIndex(id) -> keys::TransferInBlock(first seq, seq)
  kPendingTransfers,  // transfer id -> Transfer, while unresolved
  kWorkerStats,       // worker account id -> WorkerStatsRecord
  kReviews,           // (job, stage, item) -> Review
  kWithholdings,      // (centre, assignment id) -> Withholding
  kWorkerJobs,        // worker account id NUL job id -> WorkerJobRecord
  kPayouts,           // batch id -> PayoutBatch
  // Worker agent.
  kRoster,        // pseudonym -> RosterEntry
  kAssignments,   // assignment id -> CachedAssignment
  kOutbox,        // seq -> OutboxEntry, waiting for a receipt
  kQuarantine,    // result id -> OutboxEntry the dispatcher quarantined
  kEarnings,      // (pseudonym, answered at, result id) -> EarningRecord
  kReservations,  // keys::Reservation(id) -> StageReservation (before: in kMeta)
  kTeams,         // keys::Team(name) -> Team (before: in kMeta)
  kSessions,      // keys::WebSession(token hash) -> WebSession (before: in kMeta)
  // Dispatcher, added after the agent's: media files by SHA-256 (keys::MediaInfo, MediaChunk),
  // kept in blob files (large values, written once).
  kMedia,
  // The ledger's transfers, a write's at a time: first seq -> TransferBlock (before: kTransfers).
  kTransferBlocks,
  kCount,
};

// The persisted name of `cf`.
const char* CfName(Cf cf);

// Which database a Store opens, and so which families it holds.
enum class Schema { kDispatcher, kAgent };

// The families of `schema`, kDefault first.
std::vector<Cf> FamiliesOf(Schema schema);

}  // namespace mw::storage

#endif  // MW_ENGINE_STORAGE_COLUMN_FAMILIES_H_
