#include "worker-agent/state/assignment_cache.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"
#include "engine/storage/check_records.h"
#include "engine/storage/keys.h"

namespace mw::centre {

namespace v1 = ::microwork::v1;
namespace keys = storage::keys;
using storage::Batch;
using storage::Cf;
using storage::Durability;

namespace {
constexpr char kLeaseKey[] = "pending_lease";
}  // namespace

absl::Status AssignmentCache::Load() {
  held_.clear();
  by_worker_.clear();
  std::vector<v1::CachedAssignment> held;
  MW_RETURN_IF_ERROR(storage::ForEachRecord<v1::CachedAssignment>(
      *store_, Cf::kAssignments, [&](absl::string_view, v1::CachedAssignment a) {
        held.push_back(std::move(a));
        return absl::OkStatus();
      }));
  // Lease order: the dispatcher's item order within a job is a fair proxy.
  std::sort(held.begin(), held.end(), [](const auto& a, const auto& b) {
    return a.assignment().lease_expires_at_ms() < b.assignment().lease_expires_at_ms();
  });
  for (auto& a : held) Hold(std::move(a));
  v1::LeaseRequest pending;
  absl::Status s = store_->GetRecord(Cf::kMeta, keys::Meta(kLeaseKey), &pending);
  if (s.ok()) pending_lease_ = std::move(pending);
  if (!s.ok() && !absl::IsNotFound(s)) return s;
  return absl::OkStatus();
}

void AssignmentCache::Hold(v1::CachedAssignment a) {
  const std::string id = a.assignment().assignment_id();
  by_worker_[a.assignment().worker()].push_back(id);
  held_[id] = std::move(a);
}

absl::StatusOr<v1::LeaseRequest> AssignmentCache::PendingLease(
    const std::vector<v1::WorkerCredit>& credits) {
  if (!pending_lease_.has_value()) {
    v1::LeaseRequest req;
    req.set_idempotency_key(absl::StrCat("lease-", ToHex(RandomBytes(12))));
    for (const auto& c : credits) *req.add_credits() = c;
    Batch batch;
    batch.PutRecord(Cf::kMeta, keys::Meta(kLeaseKey), req);
    MW_RETURN_IF_ERROR(store_->Write(std::move(batch), Durability::kSynced));
    pending_lease_ = std::move(req);
  }
  return *pending_lease_;
}

absl::Status AssignmentCache::AbandonLease() {
  Batch batch;
  batch.Delete(Cf::kMeta, keys::Meta(kLeaseKey));
  MW_RETURN_IF_ERROR(store_->Write(std::move(batch), Durability::kSynced));
  pending_lease_.reset();
  return absl::OkStatus();
}

absl::Status AssignmentCache::SaveLease(const v1::LeaseReply& reply) {
  std::map<std::string, const v1::StageSpec*> specs;
  for (const auto& s : reply.specs()) specs[absl::StrCat(s.job_id(), "/", s.stage())] = &s;
  Batch batch;
  std::vector<v1::CachedAssignment> fresh;
  for (const auto& a : reply.assignments()) {
    if (held_.contains(a.assignment_id())) continue;
    v1::CachedAssignment cached;
    *cached.mutable_assignment() = a;
    if (auto it = specs.find(absl::StrCat(a.job_id(), "/", a.stage())); it != specs.end()) {
      *cached.mutable_spec() = *it->second;
    }
    batch.PutRecord(Cf::kAssignments, keys::CachedAssignment(a.assignment_id()), cached);
    fresh.push_back(std::move(cached));
  }
  batch.Delete(Cf::kMeta, keys::Meta(kLeaseKey));
  MW_RETURN_IF_ERROR(store_->Write(std::move(batch), Durability::kSynced));
  pending_lease_.reset();
  for (auto& c : fresh) Hold(std::move(c));
  return absl::OkStatus();
}

size_t AssignmentCache::HeldFor(const std::string& worker) const {
  auto it = by_worker_.find(worker);
  return it == by_worker_.end() ? 0 : it->second.size();
}

const std::string* AssignmentCache::NextFor(const std::string& worker) const {
  auto it = by_worker_.find(worker);
  if (it == by_worker_.end()) return nullptr;
  // The task the worker has open stays theirs until answered, whatever became ready since.
  for (const std::string& id : it->second) {
    if (held_.at(id).opened_at_ms() != 0) return &id;
  }
  for (const std::string& id : it->second) {
    if (!ready_ || ready_(held_.at(id))) return &id;
  }
  return nullptr;
}

std::optional<v1::CachedAssignment> AssignmentCache::OpenNext(const std::string& worker,
                                                              int64_t now_ms) {
  const std::string* id = NextFor(worker);
  if (id == nullptr) return std::nullopt;
  v1::CachedAssignment& a = held_.at(*id);
  if (a.opened_at_ms() == 0) a.set_opened_at_ms(now_ms);
  return a;
}

std::optional<v1::CachedAssignment> AssignmentCache::PeekNext(const std::string& worker) const {
  const std::string* id = NextFor(worker);
  if (id == nullptr) return std::nullopt;
  return held_.at(*id);
}

std::vector<v1::Media> AssignmentCache::HeldMedia() const {
  std::vector<v1::Media> out;
  absl::flat_hash_set<std::string> seen;
  for (const auto& [worker, ids] : by_worker_) {
    for (const std::string& id : ids) {
      for (const v1::Field& f : held_.at(id).assignment().item().fields()) {
        if (f.has_media() && seen.insert(f.media().sha256()).second) out.push_back(f.media());
      }
    }
  }
  return out;
}

std::vector<v1::CachedAssignment> AssignmentCache::HeldBy(const std::string& worker) const {
  std::vector<v1::CachedAssignment> out;
  if (auto it = by_worker_.find(worker); it != by_worker_.end()) {
    for (const auto& id : it->second) out.push_back(held_.at(id));
  }
  return out;
}

std::vector<std::string> AssignmentCache::HeldIds() const {
  std::vector<std::string> ids;
  for (const auto& [id, a] : held_) ids.push_back(id);
  return ids;
}

std::vector<std::string> AssignmentCache::OpenedIds() const {
  std::vector<std::string> ids;
  for (const auto& [id, a] : held_) {
    if (a.opened_at_ms() > 0) ids.push_back(id);
  }
  return ids;
}

const v1::CachedAssignment* AssignmentCache::Find(const std::string& id) const {
  auto it = held_.find(id);
  return it == held_.end() ? nullptr : &it->second;
}

absl::Status AssignmentCache::Drop(const std::vector<std::string>& ids) {
  Batch batch;
  std::vector<std::string> dropped;
  for (const auto& id : ids) {
    if (!held_.contains(id)) continue;
    batch.Delete(Cf::kAssignments, keys::CachedAssignment(id));
    dropped.push_back(id);
  }
  if (batch.Empty()) return absl::OkStatus();
  MW_RETURN_IF_ERROR(store_->Write(std::move(batch), Durability::kSynced));
  for (const auto& id : dropped) Forget(id);
  return absl::OkStatus();
}

absl::Status AssignmentCache::Move(const std::string& old_id, const v1::ReassignReply& moved) {
  if (!held_.contains(old_id)) {
    return absl::NotFoundError(absl::StrCat(old_id, " is not held here"));
  }
  v1::CachedAssignment cached;
  *cached.mutable_assignment() = moved.assignment();
  *cached.mutable_spec() = moved.spec();
  const std::string& new_id = moved.assignment().assignment_id();
  Batch batch;
  batch.Delete(Cf::kAssignments, keys::CachedAssignment(old_id));
  batch.PutRecord(Cf::kAssignments, keys::CachedAssignment(new_id), cached);
  MW_RETURN_IF_ERROR(store_->Write(std::move(batch), Durability::kSynced));
  Forget(old_id);
  Hold(std::move(cached));
  return absl::OkStatus();
}

void AssignmentCache::PutAnswered(const std::string& id, Batch* batch) const {
  if (held_.contains(id)) batch->Delete(Cf::kAssignments, keys::CachedAssignment(id));
}

void AssignmentCache::Forget(const std::string& id) {
  auto it = held_.find(id);
  if (it == held_.end()) return;
  auto& q = by_worker_[it->second.assignment().worker()];
  q.erase(std::remove(q.begin(), q.end(), id), q.end());
  held_.erase(it);
}

}  // namespace mw::centre
