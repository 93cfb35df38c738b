// CentreDirectory: the delivery centres the dispatcher knows, their credentials and who is on
// duty at each. It is the one home of a centre's record in the dispatcher's memory; the store
// keeps every change in the caller's batch (column family kCentres).
//
//   CentreDirectory centres;
//   MW_RETURN_IF_ERROR(centres.Load(store));
//   MW_ASSIGN_OR_RETURN(std::string centre_id, centres.Authenticate(credential));
//
// A credential is derived from a server secret (kept in the store, made on first open) and the
// request that issued it, so a replayed AddCentre shows the same credential again; only its
// SHA-256 is stored. Rotating replaces it: the old one is refused from then on.
//
// Not thread-safe, but for Authenticate and CurrentCredential: the engine calls the rest under
// its lock. Each call
// is identified without the engine's lock (the credentials have a lock of their own), so that it
// does not wait behind other calls' work only to learn who is calling.
#ifndef MW_ENGINE_DISPATCH_CENTRES_H_
#define MW_ENGINE_DISPATCH_CENTRES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/storage/store.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "microwork/v1/records.pb.h"

namespace mw::dispatch {

class CentreDirectory {
 public:
  // Reads every centre, and the server secret (writing a new one, synced, on the first open).
  [[nodiscard]] absl::Status Load(storage::Store* store);

  // The centre a credential belongs to; UNAUTHENTICATED for an empty or unknown one.
  [[nodiscard]] absl::StatusOr<std::string> Authenticate(const std::string& credential) const;
  // The credential issued from `derived_from` while it is still `centre_id`'s current one;
  // empty after a rotation replaced it.
  std::string CurrentCredential(const std::string& centre_id,
                                const std::string& derived_from) const;

  // Adds `centre` with a credential derived from `derived_from`, its record put in `batch`.
  // ALREADY_EXISTS when the id is taken; nothing changes then.
  [[nodiscard]] absl::Status Add(const microwork::v1::Centre& centre,
                                 const std::string& derived_from, int64_t now_ms,
                                 storage::Batch* batch);
  // Replaces the centre's credential by one derived from `derived_from`. NOT_FOUND for an
  // unknown centre.
  [[nodiscard]] absl::StatusOr<microwork::v1::Centre> Rotate(const std::string& centre_id,
                                                             const std::string& derived_from,
                                                             storage::Batch* batch);
  // Who is on duty at the centre now (the agent's last Register). NOT_FOUND for an unknown
  // centre.
  [[nodiscard]] absl::StatusOr<microwork::v1::Centre> SetOnDuty(
      const std::string& centre_id,
      const google::protobuf::RepeatedPtrField<microwork::v1::WorkerOnDuty>& workers,
      storage::Batch* batch);

  bool Contains(const std::string& centre_id) const { return by_id_.contains(centre_id); }
  // The centre, or nullptr.
  const microwork::v1::Centre* Find(const std::string& centre_id) const;
  // The worker on duty at `centre_id` named `worker`, or nullptr.
  const microwork::v1::WorkerOnDuty* OnDuty(const std::string& centre_id,
                                            const std::string& worker) const;
  // Centre.share_weight for fair share; 0 or an unknown centre counts as 1.
  uint64_t ShareWeight(const std::string& centre_id) const;
  // The centre's share of each wage, in thousandths (0 for an unknown centre).
  uint32_t SharePerMille(const std::string& centre_id) const;
  // Every centre, by id.
  std::vector<microwork::v1::Centre> Sorted() const;
  size_t size() const { return by_id_.size(); }

 private:
  std::string Credential(const std::string& centre_id, const std::string& derived_from) const;

  std::string secret_;  // derives credentials; set once by Load
  absl::flat_hash_map<std::string, microwork::v1::CentreRecord> by_id_;
  mutable absl::Mutex credentials_mu_;
  // SHA-256 -> centre id; changed under the engine's lock and this one.
  absl::flat_hash_map<std::string, std::string> by_credential_ ABSL_GUARDED_BY(credentials_mu_);
};

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_CENTRES_H_
