// Ledger: the pay ledger's accounts and transfers, after TigerBeetle. Double-entry, append-only,
// integers in minor units; every transfer is hash-chained to the one before.
//
// A transfer is applied into the caller's Batch, so it commits atomically with the state change
// that caused it (a contribution, a verdict). WriteBalances, which the owner calls last on every
// batch it commits, adds the batch's transfers (as blocks: transfer_log.h) and the chain head.
// The balances are held in memory and checkpointed: every Options::checkpoint_transfers
// transfers, the accounts changed since the last checkpoint are written, and the head records
// the seq they are balanced to (an account opened in between is written at once, with nothing
// on it). Load, and ReadBalances, fold the transfers after that seq into them. So a wage adds
// about one record, not three; a restart folds fewer than checkpoint_transfers plus one batch's.
// Ids are derived by the caller from what a transfer pays for: applying the same id again with the
// same body is a no-op that returns the stored transfer; with a different body it is
// ALREADY_EXISTS. So a wage is posted at most once.
//
//   Ledger::TransferSpec wage{.id = WageTransferId(aid), .kind = TRANSFER_PENDING, ...};
//   MW_ASSIGN_OR_RETURN(auto applied, ledger->Apply(wage, &batch));
//
// Accounts other than "client:*" and "fx:*" (the outside world: clients, and the other side of
// currency conversions) may never be debited beyond their credits: such a transfer fails with
// FAILED_PRECONDITION and changes nothing.
//
// Linked legs: a pending transfer X may come with pending legs X/fx (the converted side of a
// wage paid in another currency), X/fee (the platform's fee) and X/share (the centre's share).
// Posting or voiding X posts or voids each of its legs in the same batch, with ids <id>/fx...
//
// Not thread-safe: the owner serialises calls (the dispatcher engine's lock) and commits batches
// in the order they were filled. Apply updates the cached balances at once; if the batch then
// fails to commit, memory is ahead of disk and the process must restart (CommitQueue's contract).
#ifndef MW_ENGINE_LEDGER_LEDGER_H_
#define MW_ENGINE_LEDGER_LEDGER_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "engine/common/clock.h"
#include "engine/ledger/transfer_log.h"
#include "engine/storage/store.h"
#include "microwork/v1/ledger.pb.h"

namespace mw::ledger {

using microwork::v1::Account;
using microwork::v1::Transfer;
using microwork::v1::TransferCode;
using microwork::v1::TransferKind;

// Appends the bytes the hash chain covers to `out`: every field of `t` but `hash`,
// length-prefixed.
void AppendCanonicalBytes(const Transfer& t, std::string* out);
// SHA-256 over AppendCanonicalBytes(t) (which includes t.prev_hash).
std::string ChainHash(const Transfer& t);
// True when debits on `account_id` may exceed its credits (only the outside world's accounts).
bool MayGoNegative(absl::string_view account_id);
// A top-up paid from the platform's guarantee account (kGuaranteeAccount) names two different
// people: decided_by and second_approver (case and spacing aside), neither "system".
// FAILED_PRECONDITION otherwise. The ledger refuses such a transfer; the auditor flags one.
// (A wage the escrow cannot cover is still paid from the guarantee at once: work done is paid.)
[[nodiscard]] absl::Status CheckTwoPeople(const Transfer& t);

// Conversion accounts, one per currency: "fx:USD" takes the contract's currency in, "fx:KES"
// pays the centre's currency out.
inline constexpr char kFxPrefix[] = "fx:";
// Suffixes of the legs linked to a pending transfer (see the file comment).
inline constexpr const char* kLinkedLegs[] = {"/fx", "/fee", "/share"};

// The accounts as stored, balanced to the ledger's head: each account stored, with the
// transfers after the last checkpoint folded in (see the file comment).
struct StoredBalances {
  std::map<std::string, Account> accounts;  // by id
  uint64_t seq = 0;                         // the head: its seq and hash
  std::string hash;
  uint64_t balances_seq = 0;  // the checkpoint the stored accounts are balanced to
  uint64_t folded = 0;        // transfers folded in: seq - balances_seq unless the log has gaps
  absl::flat_hash_set<std::string> changed;  // accounts they touched
};
// Reads them as of `snapshot` (the latest when null). DATA_LOSS when a record does not parse,
// or the log does not end at the head (its seq and hash; a transfer after the checkpoint edited
// and rehashed shows there). Gaps in the log are folded over: the Auditor names them.
[[nodiscard]] absl::StatusOr<StoredBalances> ReadBalances(const storage::Store& store,
                                                          const storage::Snapshot* snapshot);

class Ledger {
 public:
  struct Options {
    // Transfers between balance checkpoints: what a restart folds at most.
    uint64_t checkpoint_transfers = uint64_t{1} << 16;
  };

  struct TransferSpec {
    std::string id;
    TransferKind kind = microwork::v1::TRANSFER_POSTED;
    TransferCode code = microwork::v1::TRANSFER_CODE_UNSPECIFIED;  // ignored for POST/VOID
    std::string debit_account;   // ignored for POST/VOID: taken from the pending transfer
    std::string credit_account;  // ignored for POST/VOID
    int64_t amount_minor = 0;    // ignored for POST/VOID: the pending amount
    std::string currency;        // ignored for POST/VOID
    std::string pending_id;      // for POST/VOID
    std::string job_id;          // ignored for POST/VOID
    std::string reason;
    std::string decided_by = "system";
    std::string exchange_rate;    // a conversion's leg: the agreed rate (FxRate::text)
    std::string second_approver;  // a two-person step's second person (CheckTwoPeople)
  };

  struct Applied {
    // The transfer applied, or the one stored under its id: the ledger's, valid until the next
    // Apply (the ledger builds each transfer in the same message).
    const Transfer* transfer = nullptr;
    bool duplicate = false;  // the id existed with the same body; nothing was added to the batch
  };

  // Loads the accounts (ReadBalances), the open pending transfers and the chain head from
  // `store`; DATA_LOSS when the log after the checkpoint has a gap. Both pointers must outlive
  // the ledger.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Ledger>> Load(storage::Store* store,
                                                                    const Clock* clock,
                                                                    Options options);
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Ledger>> Load(storage::Store* store,
                                                                    const Clock* clock) {
    return Load(store, clock, Options());
  }

  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Validates `spec` and appends the transfer's id index to `batch` (the transfer itself goes
  // into a block that WriteBalances adds); the touched accounts become dirty for the next
  // checkpoint, and the pending index for WriteBalances: a pending transfer opened
  // here is added to it there, unless it was resolved in between (in the same batch), and one
  // resolved here that an earlier batch opened is deleted from it here. Errors, none of which
  // changes anything:
  //   INVALID_ARGUMENT     malformed spec (empty id or account, amount <= 0, bad currency,
  //                        currency differing from an account's, void without a human reason)
  //   ALREADY_EXISTS       the id exists with a different body
  //   NOT_FOUND            POST/VOID of an unknown pending transfer
  //   FAILED_PRECONDITION  the pending transfer was already resolved, or the debit would exceed
  //                        the account's credits
  //   OUT_OF_RANGE         a balance would overflow
  [[nodiscard]] absl::StatusOr<Applied> Apply(const TransferSpec& spec, storage::Batch* batch);

  // Appends the transfers applied since the last call (in blocks), the pending transfers opened
  // since then and still open, the accounts opened since then (or, when a checkpoint is due,
  // every account changed since the last one) and the chain head, to `batch`.
  // REQUIRES: called on each batch that holds applied transfers, after the last Apply into it.
  void WriteBalances(storage::Batch* batch);

  // Whether a transfer was applied since the last WriteBalances (its balances, and the pending
  // transfers it opened, are still to be written); DropApplied forgets them for WriteBalances,
  // for a caller whose batch is dropped: memory is ahead of the disk then, and the owner must
  // restart rather than go on (a transfer kept only in memory would be let go by Written with
  // a later batch, and its id applied again).
  // After DropApplied, Apply refuses every transfer (UNAVAILABLE) until the ledger is loaded
  // again: a transfer applied now would be chained after the dropped ones.
  bool HasApplied() const { return applied_; }
  void DropApplied() {
    applied_ = false;
    ahead_of_store_ = true;
    blocks_.Drop();
    opened_.clear();
    fresh_pending_.clear();
  }

  // Calls `fn` with each account whose id starts with `prefix`, in id order (those opened by
  // batches not yet written too).
  void ForEachAccount(absl::string_view prefix, absl::FunctionRef<void(const Account&)> fn) const;
  // The account, or nullptr when no transfer has touched it yet.
  const Account* Find(absl::string_view account_id) const;
  // credits_posted - debits_posted - debits_pending: what can still be debited.
  int64_t Available(absl::string_view account_id) const;
  // The pending transfer `id` when still unresolved, else nullptr.
  const Transfer* FindPending(absl::string_view id) const;

  uint64_t head_seq() const { return head_seq_; }

  // Every transfer up to `seq` is readable from the store now (its batch was written): those
  // leave memory. The owner calls this as its batches are written; until then a transfer stays
  // in memory however far the writes lag, so applying its id again still finds it. (Memory
  // grows with every transfer applied if the owner never calls it.)
  void Written(uint64_t seq);
  // Transfers held in memory until Written.
  size_t unwritten() const { return unwritten_.size(); }

  // Reads ahead, in one batched read, which of `ids` no transfer has yet, so that applying
  // them needs no read of its own (an owner about to apply many new ids: the dispatcher's
  // wages for a call's results). What it learnt stays true until the next ReadAhead, which
  // replaces it: only Apply gives an id a transfer, and it forgets the id as it does.
  [[nodiscard]] absl::Status ReadAhead(const std::vector<std::string>& ids);

 private:
  Ledger(storage::Store* store, const Clock* clock, Options options)
      : store_(store), clock_(clock), options_(options) {}
  // An account and whether it is among dirty_.
  struct Held {
    Account account;
    bool dirty = false;
  };
  // Apply, building the transfer in `out`.
  absl::StatusOr<Applied> ApplyInto(const TransferSpec& spec, storage::Batch* batch, Transfer* out);
  Held* FindHeld(absl::string_view account_id);
  absl::StatusOr<std::optional<Transfer>> Lookup(absl::string_view id) const;
  static bool SameBody(const TransferSpec& spec, const Transfer& stored);

  storage::Store* const store_;
  const Clock* const clock_;
  const Options options_;
  absl::flat_hash_map<std::string, Held> accounts_;
  absl::btree_set<std::string> account_ids_;            // the keys of accounts_, in order
  absl::flat_hash_map<std::string, Transfer> pending_;  // unresolved, by id
  // Transfers applied since the owner last said they were written (Written): their batch may
  // still be queued, so the store may not show them yet. In seq order, each as its batch holds
  // it (one buffer to free when it goes, not a message of many), with an index of their ids that
  // views each one's own id (a deque's elements stay where they are as it grows at the back and
  // shrinks at the front). Older ids are found in the store.
  struct Unwritten {
    uint64_t seq;
    std::string id;
    std::string record;  // the transfer as its block holds it (BlockWriter::Add)
  };
  std::deque<Unwritten> unwritten_;
  absl::flat_hash_map<absl::string_view, uint64_t> unwritten_ids_;  // id -> seq
  // Ids the last ReadAhead found in neither memory nor the store, and not applied since.
  absl::flat_hash_set<std::string> unused_ids_;
  uint64_t head_seq_ = 0;
  std::string head_hash_;
  uint64_t balances_seq_ = 0;       // the last checkpoint's
  BlockWriter blocks_;              // the transfers applied since the last WriteBalances
  bool applied_ = false;            // whether there are any
  bool ahead_of_store_ = false;     // DropApplied was called
  std::vector<std::string> dirty_;  // accounts changed since the last checkpoint (Held::dirty)
  absl::flat_hash_set<std::string> opened_;  // accounts opened since the last WriteBalances
  Transfer built_;                           // what Apply builds each transfer in
  // Pending transfers opened since the last WriteBalances (see Apply).
  absl::flat_hash_set<std::string> fresh_pending_;
};

}  // namespace mw::ledger

#endif  // MW_ENGINE_LEDGER_LEDGER_H_
