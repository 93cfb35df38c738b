// TransferLog: how the ledger's transfers are stored, and the one place that reads them back.
//
// The transfers applied into one batch are stored together, in blocks of at most
// kMaxBlockTransfers (kTransferBlocks: keys::Transfer(first seq) -> TransferBlock, in seq
// order), with one id-index entry each (kTransferIds: keys::TransferIdIndex(id) ->
// keys::TransferInBlock(first, seq)).
// So a write of a thousand wages adds a thousand index entries and four blocks, not two thousand
// records. Ledgers written before blocks kept one record per transfer (kTransfers:
// keys::Transfer(seq) -> Transfer, the index holding keys::Transfer(seq)); those are read as they
// are, and all of them come before the first block.
//
//   BlockWriter blocks;
//   std::string record = blocks.Add(&t, &batch);  // each transfer, in seq order
//   blocks.Flush(&batch);                          // before the batch is committed
//   MW_ASSIGN_OR_RETURN(std::optional<Transfer> t, ReadTransfer(*store, "wage:a1"));
#ifndef MW_ENGINE_LEDGER_TRANSFER_LOG_H_
#define MW_ENGINE_LEDGER_TRANSFER_LOG_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "engine/storage/store.h"
#include "microwork/v1/ledger.pb.h"

namespace mw::ledger {

// Fills blocks from transfers in seq order. Not thread-safe; the ledger owns one.
class BlockWriter {
 public:
  // A lookup by id reads and parses its whole block: these bound that work (a block reaches
  // kMaxBlockBytes by at most one transfer, whose size the dispatcher's request caps bound).
  // ForEachTransfer relies on the first: never raise it.
  static constexpr size_t kMaxBlockTransfers = 256;
  static constexpr size_t kMaxBlockBytes = 64 * 1024;

  // Adds `t` to the open block, and its index entry to `batch`; a full block is put into
  // `batch` first. Returns the record as the block holds it: EncodeRecord(t), but that after
  // the first transfer of a block, one whose prev_hash is the hash of the transfer before it
  // there is held without it (34 of a wage's some 180 bytes; ReadTransfer and ForEachTransfer
  // restore it). `t` is as it was when Add returns. REQUIRES: t.seq() is one more than the
  // last added (or the first of a ledger, or after Flush or Drop), and `batch` is the one the
  // open block's transfers went into (or what it was moved to), which Flush is given: a block
  // and its index entries are written together or not at all.
  std::string Add(microwork::v1::Transfer* t, storage::Batch* batch);
  // Puts the open block, if any, into `batch`. The next transfer opens a new one.
  void Flush(storage::Batch* batch);
  // Forgets the open block (its batch is dropped; the index entries went with it).
  void Drop();

 private:
  uint64_t first_seq_ = 0;
  size_t count_ = 0;
  std::string block_;      // EncodeRecord(TransferBlock) of the count_ transfers from first_seq_
  std::string last_hash_;  // the hash of the last transfer added
  std::string prev_hash_;  // where Add keeps a transfer's prev_hash while it encodes it
};

// The stored transfer `id`, nullopt when there is none. DATA_LOSS when the index names a
// transfer that is not where it says.
[[nodiscard]] absl::StatusOr<std::optional<microwork::v1::Transfer>> ReadTransfer(
    const storage::Store& store, absl::string_view id);

// Moves the id index's entries keyed by the verbatim id, as stores written before
// keys::TransferIdIndex keyed them, to that key, `batch_size` per synced write; returns how many
// it moved. Run as the ledger loads, before anything reads the index: a verbatim key starts with
// the id's first character, never keys::kTransferIdTag nor keys::kWholeIdTransferIdTag.
[[nodiscard]] absl::StatusOr<uint64_t> MoveVerbatimTransferIds(storage::Store* store,
                                                               size_t batch_size = 10000);
// Moves the id index's entries keyed by keys::WholeIdTransferIdIndex (the whole id in number
// order, as stores written before the kind went last keyed them) to keys::TransferIdIndex, the
// same way; run after MoveVerbatimTransferIds.
[[nodiscard]] absl::StatusOr<uint64_t> MoveWholeIdTransferIds(storage::Store* store,
                                                              size_t batch_size = 10000);

// Calls `fn` with each stored transfer numbered after `after`, in seq order, as of `snapshot`
// (the latest when null), and stops at its first error, which it returns. It does not check
// that the numbers follow each other (the Auditor does, and Ledger::Load).
[[nodiscard]] absl::Status ForEachTransfer(
    const storage::Store& store, const storage::Snapshot* snapshot, uint64_t after,
    absl::FunctionRef<absl::Status(microwork::v1::Transfer&)> fn);

}  // namespace mw::ledger

#endif  // MW_ENGINE_LEDGER_TRANSFER_LOG_H_
