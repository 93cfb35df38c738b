#include "engine/dispatch/staff.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/common/ids.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"
#include "engine/storage/keys.h"
#include "engine/storage/record.h"

namespace mw::dispatch {

namespace v1 = ::microwork::v1;
namespace keys = storage::keys;
using storage::Cf;

namespace {

// The accounts of the installation's token files (services.h's Authenticator), and the ledger's
// "system" (nobody): never added.
bool IsReservedName(const std::string& name) {
  return name == "operator" || name == "auditor" || name == "system";
}

std::string NewCredential() { return absl::StrCat("mws_", ToHex(RandomBytes(20))); }

}  // namespace

bool IssuedBy(const v1::StaffAccount& account, const std::string& by) {
  return account.rotated_by().empty() ? account.created_by() == by : account.rotated_by() == by;
}

bool HasRole(const v1::StaffAccount& account, v1::StaffRole role) {
  return std::find(account.roles().begin(), account.roles().end(), role) != account.roles().end();
}

absl::Status StaffDirectory::Load(storage::Store* store) {
  for (auto c = store->Scan(Cf::kMeta, keys::StaffPrefix()); c->Valid(); c->Next()) {
    v1::StaffRecord rec;
    MW_RETURN_IF_ERROR(c->Read(&rec));
    if (rec.account().revoked_at_ms() == 0) Live(rec);
    by_name_[rec.account().name()] = std::move(rec);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::StaffAccount> StaffDirectory::Authenticate(const std::string& credential) const {
  if (credential.empty()) return absl::UnauthenticatedError("unknown staff credential");
  const std::string digest = Sha256(credential);
  absl::ReaderMutexLock l(&credentials_mu_);
  auto it = by_credential_.find(digest);
  if (it == by_credential_.end()) return absl::UnauthenticatedError("unknown staff credential");
  return it->second;
}

void StaffDirectory::Live(const v1::StaffRecord& rec) {
  absl::MutexLock l(&credentials_mu_);
  by_credential_[rec.credential_sha256()] = rec.account();
}

void StaffDirectory::Dead(const v1::StaffRecord& rec) {
  absl::MutexLock l(&credentials_mu_);
  by_credential_.erase(rec.credential_sha256());
}

const v1::StaffAccount* StaffDirectory::Find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &it->second.account();
}

absl::StatusOr<v1::StaffAccount> StaffDirectory::Add(const std::string& name,
                                                     const std::vector<v1::StaffRole>& roles,
                                                     const std::string& created_by, int64_t now_ms,
                                                     storage::Batch* batch,
                                                     std::string* credential) {
  if (!IsSimpleName(name)) {
    return absl::InvalidArgumentError("name: expected 1-40 of a-z, 0-9, _ or -");
  }
  if (roles.empty()) {
    return absl::InvalidArgumentError("roles: expected at least one of operator, finance, auditor");
  }
  for (v1::StaffRole r : roles) {
    if (r == v1::STAFF_ROLE_UNSPECIFIED || !v1::StaffRole_IsValid(r)) {
      return absl::InvalidArgumentError(
          absl::StrCat("roles: ", static_cast<int>(r), " is not operator, finance or auditor"));
    }
  }
  if (IsReservedName(name)) {
    return absl::AlreadyExistsError(absl::StrCat(name, " is a reserved name"));
  }
  if (by_name_.contains(name)) {
    return absl::AlreadyExistsError(
        absl::StrCat("staff ", name, " exists", " (names are never reused)"));
  }
  v1::StaffRecord rec;
  v1::StaffAccount* a = rec.mutable_account();
  a->set_name(name);
  for (v1::StaffRole r : roles) {
    if (!HasRole(*a, r)) a->add_roles(r);
  }
  std::sort(a->mutable_roles()->begin(), a->mutable_roles()->end());
  a->set_created_at_ms(now_ms);
  a->set_created_by(created_by);
  *credential = NewCredential();
  rec.set_credential_sha256(Sha256(*credential));
  batch->PutRecord(Cf::kMeta, keys::Staff(name), rec);
  Live(rec);
  auto& stored = by_name_[name] = std::move(rec);
  return stored.account();
}

absl::StatusOr<v1::StaffAccount> StaffDirectory::Rotate(const std::string& name,
                                                        const std::string& rotated_by,
                                                        int64_t now_ms, storage::Batch* batch,
                                                        std::string* credential) {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return absl::NotFoundError(absl::StrCat("no staff ", name));
  v1::StaffRecord& rec = it->second;
  if (rec.account().revoked_at_ms() != 0) {
    return absl::FailedPreconditionError(absl::StrCat(name, " was revoked"));
  }
  Dead(rec);
  *credential = NewCredential();
  rec.set_credential_sha256(Sha256(*credential));
  rec.mutable_account()->set_rotated_at_ms(now_ms);
  rec.mutable_account()->set_rotated_by(rotated_by);
  Live(rec);
  batch->PutRecord(Cf::kMeta, keys::Staff(name), rec);
  return rec.account();
}

absl::StatusOr<v1::StaffAccount> StaffDirectory::Revoke(const std::string& name,
                                                        const std::string& revoked_by,
                                                        int64_t now_ms, storage::Batch* batch) {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return absl::NotFoundError(absl::StrCat("no staff ", name));
  v1::StaffRecord& rec = it->second;
  if (rec.account().revoked_at_ms() != 0) {
    return absl::FailedPreconditionError(absl::StrCat(name, " was revoked already"));
  }
  Dead(rec);
  rec.mutable_account()->set_revoked_at_ms(now_ms);
  rec.mutable_account()->set_revoked_by(revoked_by);
  batch->PutRecord(Cf::kMeta, keys::Staff(name), rec);
  return rec.account();
}

std::vector<v1::StaffAccount> StaffDirectory::Sorted() const {
  std::vector<v1::StaffAccount> out;
  out.reserve(by_name_.size());
  for (const auto& [name, rec] : by_name_) out.push_back(rec.account());
  std::sort(out.begin(), out.end(), [](const v1::StaffAccount& a, const v1::StaffAccount& b) {
    return a.name() < b.name();
  });
  return out;
}

}  // namespace mw::dispatch
