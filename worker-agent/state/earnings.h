// Earnings: what each acknowledged answer paid its worker, in their own column family
// (kEarnings), keyed by worker and answer time, so a worker's page and the welfare checks read
// one worker's days without scanning the others'. Written with the receipt that acknowledges the
// answer (AgentState::ApplyReceipts).
//
//   MW_RETURN_IF_ERROR(earnings.Load());  // every record parses, or DATA_LOSS naming it
//   earnings.Put(worker, EarningFor(entry, receipt), &batch);
//   MW_ASSIGN_OR_RETURN(auto since, earnings.Since("w1a2b3", day_start_ms));
//
// Thread-safe: every call is one read of the store, or a put into the caller's batch.
#ifndef MW_WORKER_AGENT_STATE_EARNINGS_H_
#define MW_WORKER_AGENT_STATE_EARNINGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/storage/store.h"
#include "microwork/v1/records.pb.h"

namespace mw::centre {

// The earning of an outbox entry the dispatcher acknowledged with `receipt` (ACCEPTED or
// DUPLICATE): its wage, time on task, and what the page shows beside it.
microwork::v1::EarningRecord EarningFor(const microwork::v1::OutboxEntry& entry,
                                        const microwork::v1::Receipt& receipt);

class Earnings {
 public:
  // `store` must outlive the earnings.
  explicit Earnings(storage::Store* store) : store_(store) {}

  // Checks every record parses: DATA_LOSS naming the key otherwise.
  [[nodiscard]] absl::Status Load() const;
  // Puts the earning of `worker` into `batch`.
  void Put(const std::string& worker, const microwork::v1::EarningRecord& earning,
           storage::Batch* batch) const;
  // The worker's earnings answered at or after `since_ms`, oldest first. DATA_LOSS naming a
  // record that does not parse.
  [[nodiscard]] absl::StatusOr<std::vector<microwork::v1::EarningRecord>> Since(
      const std::string& worker, int64_t since_ms) const;

 private:
  storage::Store* const store_;
};

}  // namespace mw::centre

#endif  // MW_WORKER_AGENT_STATE_EARNINGS_H_
