#include "engine/ledger/transfer_log.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/storage/keys.h"
#include "engine/storage/move_keys.h"
#include "engine/storage/record.h"

namespace mw::ledger {
namespace {

using microwork::v1::Transfer;
using microwork::v1::TransferBlock;
using storage::Cf;
namespace keys = storage::keys;

constexpr int kTransfersField = TransferBlock::kTransfersFieldNumber;

}  // namespace

std::string BlockWriter::Add(Transfer* t, storage::Batch* batch) {
  if (count_ == kMaxBlockTransfers) Flush(batch);
  // After the first in its block, a transfer is stored without its prev_hash when that is the
  // hash of the one before it there (as Apply chains them), which the readers restore.
  const bool chained = count_ > 0 && t->prev_hash() == last_hash_;
  std::string record;
  if (chained) {
    t->mutable_prev_hash()->swap(prev_hash_);  // `t` keeps its string's room, and gets it back
    t->mutable_prev_hash()->clear();
    record = storage::EncodeRecord(*t);
    t->mutable_prev_hash()->swap(prev_hash_);
  } else {
    record = storage::EncodeRecord(*t);
  }
  if (count_ > 0 && block_.size() + record.size() > kMaxBlockBytes) {
    Flush(batch);  // it opens a new block, with its prev_hash
    if (chained) record = storage::EncodeRecord(*t);
  }
  if (count_ == 0) {
    first_seq_ = t->seq();
    block_ = storage::EncodeRecord(TransferBlock());
  }
  storage::AppendRecordField(&block_, kTransfersField, record);
  ++count_;
  last_hash_ = t->hash();
  batch->Put(Cf::kTransferIds, keys::TransferIdIndex(t->id()),
             keys::TransferInBlock(first_seq_, t->seq()));
  return record;
}

void BlockWriter::Flush(storage::Batch* batch) {
  if (count_ == 0) return;
  batch->Put(Cf::kTransferBlocks, keys::Transfer(first_seq_), block_);
  Drop();
}

void BlockWriter::Drop() {
  count_ = 0;
  block_.clear();
}

absl::StatusOr<std::optional<Transfer>> ReadTransfer(const storage::Store& store,
                                                     absl::string_view id) {
  MW_ASSIGN_OR_RETURN(std::optional<std::string> where,
                      store.Get(Cf::kTransferIds, keys::TransferIdIndex(id)));
  if (!where.has_value()) return std::optional<Transfer>();
  auto lost = [&](absl::string_view what) {
    return absl::DataLossError(absl::StrCat("transfer ", id, ": ", what));
  };
  if (auto in_block = keys::ParseTransferInBlock(*where); in_block.has_value()) {
    const auto [first, seq] = *in_block;
    TransferBlock block;
    absl::Status s = store.GetRecord(Cf::kTransferBlocks, keys::Transfer(first), &block);
    if (absl::IsNotFound(s)) return lost(absl::StrCat("its block #", first, " is not stored"));
    MW_RETURN_IF_ERROR(s);
    const uint64_t i = seq - first;
    if (i >= static_cast<uint64_t>(block.transfers_size()) || block.transfers(i).seq() != seq ||
        block.transfers(i).id() != id) {
      return lost(absl::StrCat("#", seq, " is not in its block #", first));
    }
    Transfer& t = *block.mutable_transfers(i);
    if (t.prev_hash().empty() && i > 0) t.set_prev_hash(block.transfers(i - 1).hash());
    return std::optional<Transfer>(std::move(t));
  }
  Transfer t;
  absl::Status s = store.GetRecord(Cf::kTransfers, *where, &t);
  if (absl::IsNotFound(s)) return lost("its record is not stored");
  MW_RETURN_IF_ERROR(s);
  return std::optional<Transfer>(std::move(t));
}

absl::StatusOr<uint64_t> MoveVerbatimTransferIds(storage::Store* store, size_t batch_size) {
  // Tagged keys sort before every verbatim one, which starts with a printable character.
  return storage::MoveKeys(store, Cf::kTransferIds, "", "\x02", batch_size,
                           [](absl::string_view id) -> absl::StatusOr<std::string> {
                             return keys::TransferIdIndex(id);
                           });
}

absl::StatusOr<uint64_t> MoveWholeIdTransferIds(storage::Store* store, size_t batch_size) {
  const std::string tag(1, keys::kWholeIdTransferIdTag);
  return storage::MoveKeys(
      store, Cf::kTransferIds, tag, "", batch_size,
      [](absl::string_view old_key) -> absl::StatusOr<std::string> {
        std::optional<std::string> id = keys::ParseWholeIdTransferIdIndex(old_key);
        if (!id.has_value()) {
          return absl::DataLossError(absl::StrCat("transfer id key \"", absl::CHexEscape(old_key),
                                                  "\" is not a whole id in number order"));
        }
        return keys::TransferIdIndex(*id);
      });
}

absl::Status ForEachTransfer(const storage::Store& store, const storage::Snapshot* snapshot,
                             uint64_t after, absl::FunctionRef<absl::Status(Transfer&)> fn) {
  auto lone = store.ScanFrom(Cf::kTransfers, "", keys::Transfer(after + 1), snapshot);
  for (; lone->Valid(); lone->Next()) {
    Transfer t;
    MW_RETURN_IF_ERROR(lone->Read(&t));
    MW_RETURN_IF_ERROR(fn(t));
  }
  MW_RETURN_IF_ERROR(lone->status());
  // The block holding after + 1 starts at most kMaxBlockTransfers - 1 before it.
  const uint64_t from =
      after + 1 > BlockWriter::kMaxBlockTransfers ? after + 2 - BlockWriter::kMaxBlockTransfers : 1;
  auto blocks = store.ScanFrom(Cf::kTransferBlocks, "", keys::Transfer(from), snapshot);
  for (; blocks->Valid(); blocks->Next()) {
    TransferBlock block;
    MW_RETURN_IF_ERROR(blocks->Read(&block));
    std::string last_hash;  // of the transfer before in the block: `fn` may take t's
    for (Transfer& t : *block.mutable_transfers()) {
      if (t.prev_hash().empty() && !last_hash.empty()) t.set_prev_hash(last_hash);
      last_hash = t.hash();
      if (t.seq() > after) MW_RETURN_IF_ERROR(fn(t));
    }
  }
  return blocks->status();
}

}  // namespace mw::ledger
