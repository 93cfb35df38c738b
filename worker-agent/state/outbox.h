// Outbox: answers waiting for the dispatcher's receipt, oldest first, in their own column family
// (kOutbox), and those the dispatcher refused (kQuarantine) with its receipt, for the manager to
// see. An answer enters the outbox in the same synced write that retires its assignment
// (AgentState::SaveAnswer) and leaves it only on a receipt.
//
//   Outbox outbox(store);
//   MW_RETURN_IF_ERROR(outbox.Load());
//   std::optional<uint64_t> seq = outbox.Begin(result.result_id());  // nullopt: saved already
//   outbox.Put(*seq, entry, &batch);  ...write...  outbox.Saved(*seq, entry);
//
// Not thread-safe: AgentState holds its lock around every call.
#ifndef MW_WORKER_AGENT_STATE_OUTBOX_H_
#define MW_WORKER_AGENT_STATE_OUTBOX_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "engine/storage/store.h"
#include "microwork/v1/records.pb.h"

namespace mw::centre {

struct OutboxStats {
  uint64_t depth = 0;
  int64_t oldest_queued_at_ms = 0;  // 0 when empty
  uint64_t quarantined = 0;
};

class Outbox {
 public:
  // `store` must outlive the outbox.
  explicit Outbox(storage::Store* store) : store_(store) {}
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Reads the outbox and counts the quarantine; DATA_LOSS naming the key of a record that does
  // not parse, in either.
  [[nodiscard]] absl::Status Load();

  // Starts saving result `result_id`: its place in the outbox, or nullopt when it is saved
  // already or being saved now (saving twice is harmless). Then Put, write, and Saved (or
  // Abandon when the write failed).
  std::optional<uint64_t> Begin(const std::string& result_id);
  void Put(uint64_t seq, const microwork::v1::OutboxEntry& entry, storage::Batch* batch) const;
  void Saved(uint64_t seq, microwork::v1::OutboxEntry entry);
  void Abandon(const std::string& result_id) { saving_.erase(result_id); }

  // The waiting entry of `result_id` and its place, or nullptr.
  const microwork::v1::OutboxEntry* Find(const std::string& result_id, uint64_t* seq) const;
  // A receipt for the entry at `seq`: it leaves the outbox, and with `refused` (the receipt
  // said QUARANTINED or CONFLICT) goes to quarantine with `receipt`; into `batch`. Then Done
  // once the write is durable.
  void PutReceipt(uint64_t seq, const microwork::v1::Receipt& receipt, bool refused,
                  storage::Batch* batch) const;
  void Done(uint64_t seq, bool refused);

  // Up to `limit` waiting results, oldest first; and those of `worker`.
  std::vector<microwork::v1::Result> Pending(size_t limit) const;
  std::vector<microwork::v1::OutboxEntry> PendingFor(const std::string& worker) const;
  // The refused answers with their receipts. DATA_LOSS naming a record that does not parse.
  [[nodiscard]] absl::StatusOr<std::vector<microwork::v1::OutboxEntry>> Quarantined() const;
  OutboxStats Stats() const;
  uint64_t saved() const { return saved_; }  // answers saved since start-up

 private:
  storage::Store* const store_;
  std::map<uint64_t, microwork::v1::OutboxEntry> entries_;  // by seq: oldest first
  absl::flat_hash_map<std::string, uint64_t> seq_of_;       // result id -> seq
  uint64_t next_seq_ = 1;
  uint64_t quarantined_ = 0;
  uint64_t saved_ = 0;
  absl::flat_hash_set<std::string> saving_;  // result ids being written
};

}  // namespace mw::centre

#endif  // MW_WORKER_AGENT_STATE_OUTBOX_H_
