#include "engine/dispatch/centres.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"
#include "engine/storage/keys.h"
#include "engine/storage/record.h"

namespace mw::dispatch {

namespace v1 = ::microwork::v1;
namespace keys = storage::keys;
using storage::Cf;

namespace {
constexpr char kServerSecretKey[] = "server_secret";
}  // namespace

absl::Status CentreDirectory::Load(storage::Store* store) {
  MW_ASSIGN_OR_RETURN(auto secret, store->Get(Cf::kMeta, keys::Meta(kServerSecretKey)));
  if (secret.has_value()) {
    secret_ = *secret;
  } else {
    secret_ = RandomBytes(32);
    storage::Batch b;
    b.Put(Cf::kMeta, keys::Meta(kServerSecretKey), secret_);
    MW_RETURN_IF_ERROR(store->Write(std::move(b), storage::Durability::kSynced));
  }
  for (auto c = store->Scan(Cf::kCentres, ""); c->Valid(); c->Next()) {
    v1::CentreRecord rec;
    MW_RETURN_IF_ERROR(c->Read(&rec));
    {
      absl::MutexLock l(&credentials_mu_);
      by_credential_[rec.credential_sha256()] = rec.centre().id();
    }
    by_id_[rec.centre().id()] = std::move(rec);
  }
  return absl::OkStatus();
}

std::string CentreDirectory::Credential(const std::string& centre_id,
                                        const std::string& derived_from) const {
  return absl::StrCat(
      "mwc_",
      ToHex(HmacSha256(secret_, absl::StrCat(centre_id, "\n", derived_from))).substr(0, 40));
}

absl::StatusOr<std::string> CentreDirectory::Authenticate(const std::string& credential) const {
  if (credential.empty()) return absl::UnauthenticatedError("unknown centre credential");
  const std::string digest = Sha256(credential);
  absl::ReaderMutexLock l(&credentials_mu_);
  auto it = by_credential_.find(digest);
  if (it == by_credential_.end()) return absl::UnauthenticatedError("unknown centre credential");
  return it->second;
}

std::string CentreDirectory::CurrentCredential(const std::string& centre_id,
                                               const std::string& derived_from) const {
  std::string credential = Credential(centre_id, derived_from);
  const std::string digest = Sha256(credential);
  absl::ReaderMutexLock l(&credentials_mu_);
  auto it = by_credential_.find(digest);
  if (it == by_credential_.end() || it->second != centre_id) return "";
  return credential;
}

absl::Status CentreDirectory::Add(const v1::Centre& centre, const std::string& derived_from,
                                  int64_t now_ms, storage::Batch* batch) {
  if (by_id_.contains(centre.id())) {
    return absl::AlreadyExistsError(absl::StrCat("centre ", centre.id(), " exists"));
  }
  v1::CentreRecord rec;
  *rec.mutable_centre() = centre;
  rec.set_credential_sha256(Sha256(Credential(centre.id(), derived_from)));
  rec.set_added_at_ms(now_ms);
  batch->PutRecord(Cf::kCentres, keys::Centre(centre.id()), rec);
  {
    absl::MutexLock l(&credentials_mu_);
    by_credential_[rec.credential_sha256()] = centre.id();
  }
  by_id_[centre.id()] = std::move(rec);
  return absl::OkStatus();
}

absl::StatusOr<v1::Centre> CentreDirectory::Rotate(const std::string& centre_id,
                                                   const std::string& derived_from,
                                                   storage::Batch* batch) {
  auto it = by_id_.find(centre_id);
  if (it == by_id_.end()) return absl::NotFoundError(absl::StrCat("no centre ", centre_id));
  v1::CentreRecord& rec = it->second;
  const std::string digest = Sha256(Credential(centre_id, derived_from));
  {
    absl::MutexLock l(&credentials_mu_);
    by_credential_.erase(rec.credential_sha256());
    by_credential_[digest] = centre_id;
  }
  rec.set_credential_sha256(digest);
  batch->PutRecord(Cf::kCentres, keys::Centre(centre_id), rec);
  return rec.centre();
}

absl::StatusOr<v1::Centre> CentreDirectory::SetOnDuty(
    const std::string& centre_id,
    const google::protobuf::RepeatedPtrField<v1::WorkerOnDuty>& workers, storage::Batch* batch) {
  auto it = by_id_.find(centre_id);
  if (it == by_id_.end()) return absl::NotFoundError("centre is not registered");
  *it->second.mutable_on_duty() = workers;
  batch->PutRecord(Cf::kCentres, keys::Centre(centre_id), it->second);
  return it->second.centre();
}

const v1::Centre* CentreDirectory::Find(const std::string& centre_id) const {
  auto it = by_id_.find(centre_id);
  return it == by_id_.end() ? nullptr : &it->second.centre();
}

const v1::WorkerOnDuty* CentreDirectory::OnDuty(const std::string& centre_id,
                                                const std::string& worker) const {
  auto it = by_id_.find(centre_id);
  if (it == by_id_.end()) return nullptr;
  for (const auto& w : it->second.on_duty()) {
    if (w.worker() == worker) return &w;
  }
  return nullptr;
}

uint64_t CentreDirectory::ShareWeight(const std::string& centre_id) const {
  const v1::Centre* c = Find(centre_id);
  const uint32_t w = c == nullptr ? 0 : c->share_weight();
  return w == 0 ? 1 : w;
}

uint32_t CentreDirectory::SharePerMille(const std::string& centre_id) const {
  const v1::Centre* c = Find(centre_id);
  return c == nullptr ? 0 : c->centre_share_per_mille();
}

std::vector<v1::Centre> CentreDirectory::Sorted() const {
  std::vector<v1::Centre> out;
  out.reserve(by_id_.size());
  for (const auto& [id, rec] : by_id_) out.push_back(rec.centre());
  std::sort(out.begin(), out.end(),
            [](const v1::Centre& a, const v1::Centre& b) { return a.id() < b.id(); });
  return out;
}

}  // namespace mw::dispatch
