#include "worker-agent/state/session_store.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/storage/check_records.h"
#include "engine/storage/keys.h"
#include "engine/storage/record.h"

namespace mw::centre {

namespace v1 = ::microwork::v1;
namespace keys = storage::keys;
using storage::Batch;
using storage::Cf;
using storage::Durability;

absl::Status SessionStore::Load() {
  Batch moves;
  for (auto c = store_->Scan(Cf::kMeta, keys::WebSessionPrefix()); c->Valid(); c->Next()) {
    moves.Put(Cf::kSessions, c->key(), c->value());
    moves.Delete(Cf::kMeta, c->key());
  }
  if (!moves.Empty()) MW_RETURN_IF_ERROR(store_->Write(std::move(moves), Durability::kSynced));
  return storage::CheckRecords<v1::WebSession>(*store_, Cf::kSessions);
}

absl::Status SessionStore::Save(const std::string& token_sha256, const v1::WebSession& session) {
  Batch batch;
  batch.PutRecord(Cf::kSessions, keys::WebSession(token_sha256), session);
  return store_->Write(std::move(batch), Durability::kSynced);
}

absl::Status SessionStore::Delete(
    const std::function<bool(const std::string&, const v1::WebSession&)>& which) {
  Batch batch;
  for (const auto& [hash, session] : All()) {
    if (which(hash, session)) batch.Delete(Cf::kSessions, keys::WebSession(hash));
  }
  if (batch.Empty()) return absl::OkStatus();
  return store_->Write(std::move(batch), Durability::kSynced);
}

std::vector<std::pair<std::string, v1::WebSession>> SessionStore::All() const {
  std::vector<std::pair<std::string, v1::WebSession>> out;
  const std::string prefix = keys::WebSessionPrefix();
  for (auto c = store_->Scan(Cf::kSessions, prefix); c->Valid(); c->Next()) {
    v1::WebSession s;
    if (!c->Read(&s).ok()) continue;  // Load checked each; one broken since is left out
    out.emplace_back(std::string(c->key().substr(prefix.size())), std::move(s));
  }
  return out;
}

}  // namespace mw::centre
