#include "worker-agent/state/outbox.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/storage/check_records.h"
#include "engine/storage/keys.h"

namespace mw::centre {

namespace v1 = ::microwork::v1;
namespace keys = storage::keys;
using storage::Batch;
using storage::Cf;

absl::Status Outbox::Load() {
  entries_.clear();
  seq_of_.clear();
  MW_RETURN_IF_ERROR(storage::ForEachRecord<v1::OutboxEntry>(
      *store_, Cf::kOutbox, [&](absl::string_view key, v1::OutboxEntry e) {
        auto seq = keys::ParseOutbox(key);
        if (!seq.has_value()) {
          return absl::DataLossError(
              absl::StrCat("outbox key \"", absl::CHexEscape(key), "\" is not a sequence number"));
        }
        seq_of_[e.result().result_id()] = *seq;
        entries_[*seq] = std::move(e);
        next_seq_ = *seq + 1;
        return absl::OkStatus();
      }));
  MW_RETURN_IF_ERROR(storage::CheckRecords<v1::OutboxEntry>(*store_, Cf::kQuarantine));
  quarantined_ = 0;
  for (auto c = store_->Scan(Cf::kQuarantine, ""); c->Valid(); c->Next()) ++quarantined_;
  return absl::OkStatus();
}

std::optional<uint64_t> Outbox::Begin(const std::string& result_id) {
  if (seq_of_.contains(result_id) || !saving_.insert(result_id).second) return std::nullopt;
  return next_seq_++;
}

void Outbox::Put(uint64_t seq, const v1::OutboxEntry& entry, Batch* batch) const {
  batch->PutRecord(Cf::kOutbox, keys::Outbox(seq), entry);
}

void Outbox::Saved(uint64_t seq, v1::OutboxEntry entry) {
  const std::string& id = entry.result().result_id();
  saving_.erase(id);
  seq_of_[id] = seq;
  entries_[seq] = std::move(entry);
  ++saved_;
}

const v1::OutboxEntry* Outbox::Find(const std::string& result_id, uint64_t* seq) const {
  auto it = seq_of_.find(result_id);
  if (it == seq_of_.end()) return nullptr;
  *seq = it->second;
  return &entries_.at(it->second);
}

void Outbox::PutReceipt(uint64_t seq, const v1::Receipt& receipt, bool refused,
                        Batch* batch) const {
  batch->Delete(Cf::kOutbox, keys::Outbox(seq));
  if (!refused) return;
  v1::OutboxEntry entry = entries_.at(seq);
  *entry.mutable_receipt() = receipt;
  batch->PutRecord(Cf::kQuarantine, keys::Quarantine(receipt.result_id()), entry);
}

void Outbox::Done(uint64_t seq, bool refused) {
  auto it = entries_.find(seq);
  if (it == entries_.end()) return;
  seq_of_.erase(it->second.result().result_id());
  entries_.erase(it);
  quarantined_ += refused;
}

std::vector<v1::Result> Outbox::Pending(size_t limit) const {
  std::vector<v1::Result> out;
  for (const auto& [seq, e] : entries_) {
    if (out.size() >= limit) break;
    out.push_back(e.result());
  }
  return out;
}

std::vector<v1::OutboxEntry> Outbox::PendingFor(const std::string& worker) const {
  std::vector<v1::OutboxEntry> out;
  for (const auto& [seq, e] : entries_) {
    if (e.result().worker() == worker) out.push_back(e);
  }
  return out;
}

absl::StatusOr<std::vector<v1::OutboxEntry>> Outbox::Quarantined() const {
  std::vector<v1::OutboxEntry> out;
  MW_RETURN_IF_ERROR(storage::ForEachRecord<v1::OutboxEntry>(
      *store_, Cf::kQuarantine, [&](absl::string_view, v1::OutboxEntry e) {
        out.push_back(std::move(e));
        return absl::OkStatus();
      }));
  return out;
}

OutboxStats Outbox::Stats() const {
  OutboxStats s;
  s.depth = entries_.size();
  s.oldest_queued_at_ms = entries_.empty() ? 0 : entries_.begin()->second.queued_at_ms();
  s.quarantined = quarantined_;
  return s;
}

}  // namespace mw::centre
