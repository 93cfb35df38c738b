// IdempotencyTable: what the dispatcher answered already, so a call sent again (an agent back
// from an outage, an operator's retry) gets the same answer and changes nothing twice.
//
// Three kinds of record, each stored with the change it answers (in the caller's batch):
//  - a call's reply, by (principal, idempotency key), with the SHA-256 of the request's body;
//  - a result's receipt, by (centre, result id), with the SHA-256 of the result;
//  - a contribution, one per worker and task, whatever result ids carried it.
// Between the batch's Enqueue and its sync a record is not readable from the store yet, so the
// table keeps it in memory until the caller forgets it (ForgetLater, once durable): a second call
// in that window still sees the first.
//
// Not thread-safe, but for ForgetLater: the engine calls the rest under its lock.
#ifndef MW_ENGINE_DISPATCH_IDEMPOTENCY_H_
#define MW_ENGINE_DISPATCH_IDEMPOTENCY_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/storage/store.h"
#include "google/protobuf/message.h"
#include "microwork/v1/records.pb.h"

namespace mw::dispatch {

class IdempotencyTable {
 public:
  // `store` must outlive the table.
  explicit IdempotencyTable(const storage::Store* store) : store_(store) {}

  // Moves the result ids a store holds under keys::CentreFirstResultId, as stores were written
  // before, to keys::ResultId, `batch_size` at a time (each batch puts the new keys and deletes
  // the old ones, atomically and durably: an interrupted move goes on at the next open).
  // Returns how many moved; none, in one seek, for a store that has none. DATA_LOSS for an old
  // key that does not parse. Called as the dispatcher opens, before any call.
  [[nodiscard]] static absl::StatusOr<uint64_t> MoveCentreFirstResultIds(storage::Store* store,
                                                                         size_t batch_size = 10000);

  // Whether (principal, key) was answered before.
  [[nodiscard]] absl::StatusOr<bool> Seen(const std::string& principal,
                                          const std::string& key) const;
  // The stored reply for (principal, key): true with `reply` filled when seen; false when not;
  // ALREADY_EXISTS, naming the key, when it was seen with another body.
  [[nodiscard]] absl::StatusOr<bool> Replay(const std::string& principal, const std::string& key,
                                            const std::string& body_hash,
                                            google::protobuf::Message* reply) const;
  // Puts the reply in `batch`; returns the key to ForgetLater once the batch is durable.
  std::string Remember(const std::string& principal, const std::string& key,
                       const std::string& body_hash, const google::protobuf::Message& reply,
                       int64_t now_ms, storage::Batch* batch);

  // The record stored for the centre's result id, receipt and all, or nullopt. DATA_LOSS,
  // naming both keys, when the contribution holding its receipt is missing.
  [[nodiscard]] absl::StatusOr<std::optional<microwork::v1::ResultIdRecord>> FindResult(
      const std::string& centre_id, const std::string& result_id) const;
  // Puts the result's record in `batch`; returns the key to ForgetLater once durable. With
  // `contribution_key`, the key of a contribution record the caller puts in the same batch with
  // the same receipt, the record stored names that key instead of holding the receipt a second
  // time; FindResult reads the receipt from there.
  std::string RememberResult(const std::string& centre_id, const std::string& result_id,
                             const microwork::v1::ResultIdRecord& record, storage::Batch* batch,
                             const std::string* contribution_key = nullptr);

  // Whether a worker contributed to a task already (`contribution_key`: keys::Contribution of
  // the worker and task, where the caller stores the contribution: one key however the
  // assignment's id was spelled).
  [[nodiscard]] absl::StatusOr<bool> Contributed(const std::string& contribution_key) const;
  // Notes a contribution the caller put in its batch; returns the key to ForgetLater once durable.
  std::string NoteContribution(const std::string& contribution_key);

  // Reads ahead, in one batched read for each kind, which of these results (the centre's
  // result ids) and contributions have no record yet, so that FindResult and Contributed need
  // no read of their own for them (a call of many results: one pass over the tables, not one
  // each). What it learnt stays true until the next ReadAhead, which replaces it: only
  // RememberResult and NoteContribution make such records, and they forget the key as they do.
  [[nodiscard]] absl::Status ReadAhead(const std::string& centre_id,
                                       const std::vector<std::string>& result_ids,
                                       const std::vector<std::string>& contribution_keys);

  // Drops records at once: those of a call that failed, whose batch was never written.
  void Forget(const std::vector<std::string>& pending_keys);
  // Records now readable from the store may leave memory: they are queued, and dropped by the
  // next call that makes a record or reads ahead (a record kept a little longer says what the
  // store says). Thread-safe, so that a call whose batch became durable need not wait for the
  // engine's lock again only to forget: in dispatch_bench that wait was some 13 ms a call,
  // behind other calls' whole Lease and SubmitResults.
  void ForgetLater(std::vector<std::string> pending_keys) ABSL_LOCKS_EXCLUDED(forget_mu_);
  // Records still in memory: waiting for their batch to be durable, or to be dropped.
  size_t pending() const { return pending_.size(); }

 private:
  // Drops what ForgetLater queued.
  void Sweep() ABSL_LOCKS_EXCLUDED(forget_mu_);

  const storage::Store* const store_;
  absl::Mutex forget_mu_;
  std::vector<std::string> forgotten_ ABSL_GUARDED_BY(forget_mu_);
  std::atomic<bool> any_forgotten_{false};  // whether forgotten_ has keys, read without the lock
  // "i" + idempotency key, "r" + result id key: the record as written (storage::EncodeRecord);
  // "c" + contribution key.
  absl::flat_hash_map<std::string, std::string> pending_;
  // Records the last ReadAhead found in neither memory nor the store, and not made since:
  // "r" + result id key, "k" + contribution key.
  absl::flat_hash_set<std::string> unrecorded_;
};

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_IDEMPOTENCY_H_
