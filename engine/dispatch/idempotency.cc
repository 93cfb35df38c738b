#include "engine/dispatch/idempotency.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/storage/keys.h"
#include "engine/storage/move_keys.h"
#include "engine/storage/record.h"

namespace mw::dispatch {

namespace v1 = ::microwork::v1;
namespace keys = storage::keys;
using storage::Cf;

absl::StatusOr<bool> IdempotencyTable::Seen(const std::string& principal,
                                            const std::string& key) const {
  const std::string k = keys::Idempotency(principal, key);
  if (pending_.contains(absl::StrCat("i", k))) return true;
  MW_ASSIGN_OR_RETURN(auto stored, store_->Get(Cf::kIdempotency, k));
  return stored.has_value();
}

absl::StatusOr<bool> IdempotencyTable::Replay(const std::string& principal, const std::string& key,
                                              const std::string& body_hash,
                                              google::protobuf::Message* reply) const {
  const std::string k = keys::Idempotency(principal, key);
  v1::IdempotencyRecord rec;
  if (auto it = pending_.find(absl::StrCat("i", k)); it != pending_.end()) {
    MW_RETURN_IF_ERROR(storage::DecodeRecord(it->second, &rec));
  } else {
    absl::Status s = store_->GetRecord(Cf::kIdempotency, k, &rec);
    if (absl::IsNotFound(s)) return false;
    MW_RETURN_IF_ERROR(s);
  }
  if (rec.body_sha256() != body_hash) {
    return absl::AlreadyExistsError(absl::StrCat(
        "idempotency key \"", key, "\" was already used with a different request body"));
  }
  if (!reply->ParseFromString(rec.reply())) {
    return absl::DataLossError("stored reply does not parse");
  }
  return true;
}

std::string IdempotencyTable::Remember(const std::string& principal, const std::string& key,
                                       const std::string& body_hash,
                                       const google::protobuf::Message& reply, int64_t now_ms,
                                       storage::Batch* batch) {
  Sweep();
  v1::IdempotencyRecord rec;
  rec.set_body_sha256(body_hash);
  rec.set_reply(reply.SerializeAsString());
  rec.set_created_at_ms(now_ms);
  const std::string k = keys::Idempotency(principal, key);
  std::string value = storage::EncodeRecord(rec);  // once, for the batch and for memory
  batch->Put(Cf::kIdempotency, k, value);
  std::string pending_key = absl::StrCat("i", k);
  pending_[pending_key] = std::move(value);
  return pending_key;
}

absl::StatusOr<uint64_t> IdempotencyTable::MoveCentreFirstResultIds(storage::Store* store,
                                                                    size_t batch_size) {
  // Every old key starts with a zero byte: the first of its centre id's length.
  return storage::MoveKeys(
      store, Cf::kResultIds, absl::string_view("\0", 1), "", batch_size,
      [](absl::string_view old_key) -> absl::StatusOr<std::string> {
        keys::KeyReader r(old_key);
        std::string centre_id, result_id;
        if (!r.ReadString(&centre_id) || !r.ReadString(&result_id) || !r.AtEnd()) {
          return absl::DataLossError(absl::StrCat("result id key \"", absl::CHexEscape(old_key),
                                                  "\" is neither (centre, result id) nor tagged"));
        }
        return keys::ResultId(centre_id, result_id);
      });
}

absl::StatusOr<std::optional<v1::ResultIdRecord>> IdempotencyTable::FindResult(
    const std::string& centre_id, const std::string& result_id) const {
  const std::string k = keys::ResultId(centre_id, result_id);
  v1::ResultIdRecord rec;
  if (auto it = pending_.find(absl::StrCat("r", k)); it != pending_.end()) {
    MW_RETURN_IF_ERROR(storage::DecodeRecord(it->second, &rec));
    return rec;
  }
  if (unrecorded_.contains(absl::StrCat("r", k))) return std::nullopt;
  absl::Status s = store_->GetRecord(Cf::kResultIds, k, &rec);
  if (absl::IsNotFound(s)) return std::nullopt;
  MW_RETURN_IF_ERROR(s);
  if (!rec.has_receipt() && !rec.contribution_key().empty()) {
    v1::ContributionRecord contribution;
    absl::Status c = store_->GetRecord(Cf::kContributions, rec.contribution_key(), &contribution);
    if (absl::IsNotFound(c)) {
      return absl::DataLossError(
          absl::StrCat("result id record \"", absl::CHexEscape(k), "\" names contribution \"",
                       absl::CHexEscape(rec.contribution_key()), "\", which is not stored"));
    }
    MW_RETURN_IF_ERROR(c);
    *rec.mutable_receipt() = std::move(*contribution.mutable_receipt());
  }
  return rec;
}

std::string IdempotencyTable::RememberResult(const std::string& centre_id,
                                             const std::string& result_id,
                                             const v1::ResultIdRecord& record,
                                             storage::Batch* batch,
                                             const std::string* contribution_key) {
  Sweep();
  const std::string k = keys::ResultId(centre_id, result_id);
  std::string value = storage::EncodeRecord(record);  // for memory, and the batch unless named
  if (contribution_key != nullptr) {
    v1::ResultIdRecord named;
    named.set_body_sha256(record.body_sha256());
    named.set_contribution_key(*contribution_key);
    batch->PutRecord(Cf::kResultIds, k, named);
  } else {
    batch->Put(Cf::kResultIds, k, value);
  }
  std::string pending_key = absl::StrCat("r", k);
  unrecorded_.erase(pending_key);
  pending_[pending_key] = std::move(value);
  return pending_key;
}

absl::StatusOr<bool> IdempotencyTable::Contributed(const std::string& contribution_key) const {
  if (pending_.contains(absl::StrCat("c", contribution_key))) return true;
  if (unrecorded_.contains(absl::StrCat("k", contribution_key))) return false;
  MW_ASSIGN_OR_RETURN(auto existing, store_->Get(Cf::kContributions, contribution_key));
  return existing.has_value();
}

std::string IdempotencyTable::NoteContribution(const std::string& contribution_key) {
  Sweep();
  unrecorded_.erase(absl::StrCat("k", contribution_key));
  std::string pending_key = absl::StrCat("c", contribution_key);
  pending_[pending_key] = "";
  return pending_key;
}

absl::Status IdempotencyTable::ReadAhead(const std::string& centre_id,
                                         const std::vector<std::string>& result_ids,
                                         const std::vector<std::string>& contribution_keys) {
  Sweep();
  unrecorded_.clear();
  // Each kind: the keys memory does not hold, then the ones of those the store does not either.
  auto note_absent = [this](Cf cf, const char* tag, const std::vector<std::string>& keys) {
    std::vector<bool> present;
    MW_RETURN_IF_ERROR(store_->Contains(cf, keys, &present));
    for (size_t i = 0; i < keys.size(); ++i) {
      if (!present[i]) unrecorded_.insert(absl::StrCat(tag, keys[i]));
    }
    return absl::OkStatus();
  };
  std::vector<std::string> keys;
  for (const std::string& id : result_ids) {
    std::string k = keys::ResultId(centre_id, id);
    if (!pending_.contains(absl::StrCat("r", k))) keys.push_back(std::move(k));
  }
  MW_RETURN_IF_ERROR(note_absent(Cf::kResultIds, "r", keys));
  keys.clear();
  for (const std::string& k : contribution_keys) {
    if (!pending_.contains(absl::StrCat("c", k))) keys.push_back(k);
  }
  return note_absent(Cf::kContributions, "k", keys);
}

void IdempotencyTable::Forget(const std::vector<std::string>& pending_keys) {
  for (const auto& k : pending_keys) pending_.erase(k);
}

void IdempotencyTable::ForgetLater(std::vector<std::string> pending_keys) {
  if (pending_keys.empty()) return;
  absl::MutexLock l(&forget_mu_);
  if (forgotten_.empty()) {
    forgotten_ = std::move(pending_keys);
  } else {
    for (std::string& k : pending_keys) forgotten_.push_back(std::move(k));
  }
  any_forgotten_.store(true, std::memory_order_release);
}

void IdempotencyTable::Sweep() {
  if (!any_forgotten_.load(std::memory_order_acquire)) return;
  std::vector<std::string> keys;
  {
    absl::MutexLock l(&forget_mu_);
    keys.swap(forgotten_);
    any_forgotten_.store(false, std::memory_order_relaxed);
  }
  Forget(keys);
}

}  // namespace mw::dispatch
