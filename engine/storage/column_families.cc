#include "engine/storage/column_families.h"

namespace mw::storage {

const char* CfName(Cf cf) {
  switch (cf) {
    case Cf::kDefault:
      return "default";
    case Cf::kMeta:
      return "meta";
    case Cf::kCentres:
      return "centres";
    case Cf::kJobs:
      return "jobs";
    case Cf::kJobProgress:
      return "job_progress";
    case Cf::kItems:
      return "items";
    case Cf::kTasks:
      return "tasks";
    case Cf::kContributions:
      return "contributions";
    case Cf::kResultIds:
      return "result_ids";
    case Cf::kOutputs:
      return "outputs";
    case Cf::kIdempotency:
      return "idempotency";
    case Cf::kAccounts:
      return "accounts";
    case Cf::kTransfers:
      return "transfers";
    case Cf::kTransferIds:
      return "transfer_ids";
    case Cf::kPendingTransfers:
      return "pending_transfers";
    case Cf::kWorkerStats:
      return "worker_stats";
    case Cf::kReviews:
      return "reviews";
    case Cf::kWithholdings:
      return "withholdings";
    case Cf::kWorkerJobs:
      return "worker_jobs";
    case Cf::kPayouts:
      return "payouts";
    case Cf::kRoster:
      return "roster";
    case Cf::kAssignments:
      return "assignments";
    case Cf::kOutbox:
      return "outbox";
    case Cf::kQuarantine:
      return "quarantine";
    case Cf::kEarnings:
      return "earnings";
    case Cf::kReservations:
      return "reservations";
    case Cf::kTeams:
      return "teams";
    case Cf::kSessions:
      return "sessions";
    case Cf::kMedia:
      return "media";
    case Cf::kTransferBlocks:
      return "transfer_blocks";
    case Cf::kCount:
      break;
  }
  return "invalid";
}

std::vector<Cf> FamiliesOf(Schema schema) {
  if (schema == Schema::kAgent) {
    return {
        Cf::kDefault,    Cf::kMeta,     Cf::kRoster,       Cf::kAssignments, Cf::kOutbox,
        Cf::kQuarantine, Cf::kEarnings, Cf::kReservations, Cf::kTeams,       Cf::kSessions,
    };
  }
  // Every dispatcher family: kMeta through kPayouts, in enum order.
  std::vector<Cf> families = {Cf::kDefault};
  for (int i = static_cast<int>(Cf::kMeta); i <= static_cast<int>(Cf::kPayouts); ++i) {
    families.push_back(static_cast<Cf>(i));
  }
  families.push_back(Cf::kMedia);
  families.push_back(Cf::kTransferBlocks);
  return families;
}

}  // namespace mw::storage
