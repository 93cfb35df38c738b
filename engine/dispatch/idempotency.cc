#include "engine/dispatch/idempotency.h"

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/storage/keys.h"
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
    if (!rec.ParseFromString(it->second)) return absl::InternalError("pending record");
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
  v1::IdempotencyRecord rec;
  rec.set_body_sha256(body_hash);
  rec.set_reply(reply.SerializeAsString());
  rec.set_created_at_ms(now_ms);
  const std::string k = keys::Idempotency(principal, key);
  batch->PutRecord(Cf::kIdempotency, k, rec);
  std::string pending_key = absl::StrCat("i", k);
  pending_[pending_key] = rec.SerializeAsString();
  return pending_key;
}

absl::StatusOr<std::optional<v1::ResultIdRecord>> IdempotencyTable::FindResult(
    const std::string& centre_id, const std::string& result_id) const {
  const std::string k = keys::ResultId(centre_id, result_id);
  v1::ResultIdRecord rec;
  if (auto it = pending_.find(absl::StrCat("r", k)); it != pending_.end()) {
    if (!rec.ParseFromString(it->second)) return absl::InternalError("pending result record");
    return rec;
  }
  absl::Status s = store_->GetRecord(Cf::kResultIds, k, &rec);
  if (absl::IsNotFound(s)) return std::nullopt;
  MW_RETURN_IF_ERROR(s);
  return rec;
}

std::string IdempotencyTable::RememberResult(const std::string& centre_id,
                                             const std::string& result_id,
                                             const v1::ResultIdRecord& record,
                                             storage::Batch* batch) {
  const std::string k = keys::ResultId(centre_id, result_id);
  batch->PutRecord(Cf::kResultIds, k, record);
  std::string pending_key = absl::StrCat("r", k);
  pending_[pending_key] = record.SerializeAsString();
  return pending_key;
}

absl::StatusOr<bool> IdempotencyTable::Contributed(const std::string& assignment_id,
                                                   const std::string& contribution_key) const {
  if (pending_.contains(absl::StrCat("c", assignment_id))) return true;
  MW_ASSIGN_OR_RETURN(auto existing, store_->Get(Cf::kContributions, contribution_key));
  return existing.has_value();
}

std::string IdempotencyTable::NoteContribution(const std::string& assignment_id) {
  std::string pending_key = absl::StrCat("c", assignment_id);
  pending_[pending_key] = "";
  return pending_key;
}

void IdempotencyTable::Forget(const std::vector<std::string>& pending_keys) {
  for (const auto& k : pending_keys) pending_.erase(k);
}

}  // namespace mw::dispatch
