// StaffDirectory: the platform's people (operators, finance, auditors), each an account with
// its own credential and roles, so a decision names the person who was signed in rather than a
// name anybody could type. It is the one home of a staff record in the dispatcher's memory; the
// store keeps every change in the caller's batch (kMeta, keys::Staff).
//
//   StaffDirectory staff;
//   MW_RETURN_IF_ERROR(staff.Load(store));
//   MW_ASSIGN_OR_RETURN(v1::StaffAccount who, staff.Authenticate(credential));
//
// A credential is random, handed back once to the caller and never kept: only its SHA-256 is
// stored, so neither a replay nor a backup can show it again. Rotating replaces it; revoking
// refuses it for good. A name is never reused, so past decisions keep pointing at one person.
//
// Not thread-safe, but for Authenticate: the engine calls the rest under its lock. A call is
// identified without the engine's lock (the live credentials, with a copy of each account, have
// a lock of their own), so that it does not wait behind other calls' work to learn who calls.
#ifndef MW_ENGINE_DISPATCH_STAFF_H_
#define MW_ENGINE_DISPATCH_STAFF_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/storage/store.h"
#include "microwork/v1/records.pb.h"

namespace mw::dispatch {

class StaffDirectory {
 public:
  // Reads every account.
  [[nodiscard]] absl::Status Load(storage::Store* store);

  // The account a credential belongs to; UNAUTHENTICATED for an empty, unknown or revoked one.
  [[nodiscard]] absl::StatusOr<microwork::v1::StaffAccount> Authenticate(
      const std::string& credential) const;
  // The account, or nullptr (the installation's own accounts have no record).
  const microwork::v1::StaffAccount* Find(const std::string& name) const;

  // Adds an account and sets `*credential` to its new credential. INVALID_ARGUMENT for a name
  // outside [a-z0-9_-]{1,40} or no known role; ALREADY_EXISTS when the name is or was taken or
  // is reserved ("operator", "auditor", "system"). Nothing changes on an error.
  [[nodiscard]] absl::StatusOr<microwork::v1::StaffAccount> Add(
      const std::string& name, const std::vector<microwork::v1::StaffRole>& roles,
      const std::string& created_by, int64_t now_ms, storage::Batch* batch,
      std::string* credential);
  // Replaces the account's credential by a new one, set in `*credential`; `rotated_by` asked for
  // it. NOT_FOUND for an unknown name, FAILED_PRECONDITION for a revoked account.
  [[nodiscard]] absl::StatusOr<microwork::v1::StaffAccount> Rotate(const std::string& name,
                                                                   const std::string& rotated_by,
                                                                   int64_t now_ms,
                                                                   storage::Batch* batch,
                                                                   std::string* credential);
  // Refuses the account's credential from now on. NOT_FOUND for an unknown name,
  // FAILED_PRECONDITION when revoked already.
  [[nodiscard]] absl::StatusOr<microwork::v1::StaffAccount> Revoke(const std::string& name,
                                                                   const std::string& revoked_by,
                                                                   int64_t now_ms,
                                                                   storage::Batch* batch);

  // Every account, by name, revoked ones too.
  std::vector<microwork::v1::StaffAccount> Sorted() const;

 private:
  absl::flat_hash_map<std::string, microwork::v1::StaffRecord> by_name_;
  // Sets the account a live credential stands for (the record's credential_sha256): a copy,
  // which whatever changes an account (Add, Rotate, Revoke) sets again or drops (Dead).
  void Live(const microwork::v1::StaffRecord& rec) ABSL_LOCKS_EXCLUDED(credentials_mu_);
  // Refuses the credential of `rec` from now on.
  void Dead(const microwork::v1::StaffRecord& rec) ABSL_LOCKS_EXCLUDED(credentials_mu_);

  mutable absl::Mutex credentials_mu_;
  // SHA-256 -> the account as it is, live credentials only; changed under the engine's lock and
  // this one.
  absl::flat_hash_map<std::string, microwork::v1::StaffAccount> by_credential_
      ABSL_GUARDED_BY(credentials_mu_);
};

// True when `account` holds `role`.
bool HasRole(const microwork::v1::StaffAccount& account, microwork::v1::StaffRole role);
// True when `by` was given `account`'s current credential (made or last rotated it).
bool IssuedBy(const microwork::v1::StaffAccount& account, const std::string& by);

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_STAFF_H_
