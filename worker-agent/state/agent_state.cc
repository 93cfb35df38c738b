#include "worker-agent/state/agent_state.h"

#include <optional>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/common/ids.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"
#include "engine/storage/check_records.h"
#include "engine/storage/keys.h"
#include "worker-agent/state/sign_in_code.h"

namespace mw::centre {

using storage::Batch;
using storage::Cf;
using storage::Durability;
namespace keys = storage::keys;

namespace {
constexpr char kLeaseKey[] = "pending_lease";
}  // namespace

v1::Result ResultFor(const v1::Assignment& a, const std::string& worker, int64_t now_ms) {
  v1::Result r;
  r.set_result_id(absl::StrCat("r:", a.assignment_id(), ":", a.epoch()));
  r.set_assignment_id(a.assignment_id());
  r.set_epoch(a.epoch());
  r.set_worker(worker);
  r.set_answered_at_ms(now_ms);
  return r;
}

absl::StatusOr<std::unique_ptr<AgentState>> AgentState::Open(const std::string& dir,
                                                             const Clock* clock) {
  MW_ASSIGN_OR_RETURN(auto store, storage::Store::Open(dir, storage::Schema::kAgent));
  std::unique_ptr<AgentState> state(new AgentState(std::move(store), clock));
  MW_RETURN_IF_ERROR(state->Load());
  return state;
}

absl::Status AgentState::Load() {
  absl::MutexLock l(&mu_);
  for (auto c = store_->Scan(Cf::kRoster, ""); c->Valid(); c->Next()) {
    v1::RosterEntry e;
    MW_RETURN_IF_ERROR(c->Read(&e));
    roster_[e.pseudonym()] = std::move(e);
  }
  std::vector<v1::CachedAssignment> held;
  for (auto c = store_->Scan(Cf::kAssignments, ""); c->Valid(); c->Next()) {
    v1::CachedAssignment a;
    MW_RETURN_IF_ERROR(c->Read(&a));
    held.push_back(std::move(a));
  }
  // Lease order: the dispatcher's item order within a job is a fair proxy.
  std::sort(held.begin(), held.end(), [](const auto& a, const auto& b) {
    return a.assignment().lease_expires_at_ms() < b.assignment().lease_expires_at_ms();
  });
  for (auto& a : held) {
    by_worker_[a.assignment().worker()].push_back(a.assignment().assignment_id());
    held_[a.assignment().assignment_id()] = std::move(a);
  }
  for (auto c = store_->Scan(Cf::kOutbox, ""); c->Valid(); c->Next()) {
    v1::OutboxEntry e;
    MW_RETURN_IF_ERROR(c->Read(&e));
    auto seq = keys::ParseOutbox(c->key());
    if (!seq.has_value()) return absl::DataLossError("malformed outbox key");
    outbox_ids_[e.result().result_id()] = *seq;
    outbox_[*seq] = std::move(e);
    next_seq_ = *seq + 1;
  }
  for (auto c = store_->Scan(Cf::kQuarantine, ""); c->Valid(); c->Next()) ++quarantined_;
  // What is read on demand later (quarantine, earnings, reservations, teams, sessions) is
  // checked now: an agent with an unreadable record does not start.
  MW_RETURN_IF_ERROR(storage::CheckRecords<v1::OutboxEntry>(*store_, Cf::kQuarantine));
  MW_RETURN_IF_ERROR(storage::CheckRecords<v1::EarningRecord>(*store_, Cf::kEarnings));
  MW_RETURN_IF_ERROR(book_.Load());
  MW_RETURN_IF_ERROR(sessions_.Load());
  v1::LeaseRequest pending;
  absl::Status s = store_->GetRecord(Cf::kMeta, keys::Meta(kLeaseKey), &pending);
  if (s.ok()) pending_lease_ = std::move(pending);
  if (!s.ok() && !absl::IsNotFound(s)) return s;
  return absl::OkStatus();
}

absl::StatusOr<v1::RosterEntry> AgentState::AddWorker(v1::RosterEntry entry) {
  absl::MutexLock l(&mu_);
  entry.set_pseudonym(absl::StrCat("w", ToHex(RandomBytes(5))));
  entry.set_added_at_ms(clock_->NowMs());
  Batch batch;
  batch.PutRecord(Cf::kRoster, keys::Roster(entry.pseudonym()), entry);
  MW_RETURN_IF_ERROR(store_->Write(std::move(batch), Durability::kSynced));
  roster_[entry.pseudonym()] = entry;
  return entry;
}

std::vector<v1::RosterEntry> AgentState::Roster() const {
  absl::MutexLock l(&mu_);
  std::vector<v1::RosterEntry> out;
  for (const auto& [p, e] : roster_) out.push_back(e);
  return out;
}

std::optional<v1::RosterEntry> AgentState::Worker(const std::string& pseudonym) const {
  absl::MutexLock l(&mu_);
  auto it = roster_.find(pseudonym);
  if (it == roster_.end()) return std::nullopt;
  return it->second;
}

absl::Status AgentState::UpdateWorker(const std::string& pseudonym,
                                      const std::function<void(v1::RosterEntry*)>& change) {
  auto it = roster_.find(pseudonym);
  if (it == roster_.end()) return absl::NotFoundError(absl::StrCat("no worker ", pseudonym));
  v1::RosterEntry updated = it->second;
  change(&updated);
  Batch batch;
  batch.PutRecord(Cf::kRoster, keys::Roster(pseudonym), updated);
  MW_RETURN_IF_ERROR(store_->Write(std::move(batch), Durability::kSynced));
  it->second = std::move(updated);
  return absl::OkStatus();
}

absl::StatusOr<std::string> AgentState::IssueSignInCode(const std::string& pseudonym) {
  uint32_t number = 0;
  {
    absl::MutexLock l(&mu_);
    auto it = roster_.find(pseudonym);
    if (it == roster_.end()) return absl::NotFoundError(absl::StrCat("no worker ", pseudonym));
    number = it->second.sign_in_number();
    if (number == 0) {  // the lowest number nobody has
      std::set<uint32_t> taken;
      for (const auto& [p, e] : roster_) taken.insert(e.sign_in_number());
      for (number = kFirstSignInNumber; taken.count(number) > 0; ++number) {
      }
      if (number > kLastSignInNumber) {
        return absl::ResourceExhaustedError("every sign-in number is taken");
      }
    }
  }
  const IssuedCode issued = NewSignInCode(number);  // slow by design: outside the lock
  if (issued.verifier.empty()) return absl::InternalError("argon2id failed");
  absl::MutexLock l(&mu_);
  MW_RETURN_IF_ERROR(UpdateWorker(pseudonym, [&](v1::RosterEntry* e) {
    e->clear_sign_in_code_sha256();
    e->set_sign_in_number(number);
    e->set_sign_in_verifier(issued.verifier);
  }));
  return issued.code;
}

absl::StatusOr<v1::RosterEntry> AgentState::SignIn(const std::string& code) const {
  const absl::Status wrong = absl::NotFoundError("no such sign-in code");
  std::optional<v1::RosterEntry> found;
  if (auto typed = ParseSignInCode(code); typed.has_value()) {
    {
      absl::MutexLock l(&mu_);
      for (const auto& [p, e] : roster_) {
        if (!e.simulated() && e.sign_in_number() == typed->number) found = e;
      }
    }
    // Outside the lock (slow by design); an unknown number is checked against a dummy.
    const bool match =
        VerifySignInCode(found.has_value() ? found->sign_in_verifier() : "", typed->secret);
    if (match && found.has_value()) return *found;
    return wrong;
  }
  // An 8-digit code from before the numbers: its unsalted SHA-256, until a new code replaces it.
  const std::string hash = Sha256(code);
  absl::MutexLock l(&mu_);
  for (const auto& [p, e] : roster_) {
    if (!code.empty() && !e.simulated() && !e.sign_in_code_sha256().empty() &&
        SecretsEqual(e.sign_in_code_sha256(), hash)) {
      return e;
    }
  }
  return wrong;
}

absl::Status AgentState::SetLanguage(const std::string& pseudonym, const std::string& lang) {
  absl::MutexLock l(&mu_);
  return UpdateWorker(pseudonym, [&](v1::RosterEntry* e) { e->set_ui_language(lang); });
}

absl::Status AgentState::ForgetWorker(const std::string& pseudonym) {
  absl::MutexLock l(&mu_);
  return UpdateWorker(pseudonym, [](v1::RosterEntry* e) {
    v1::RosterEntry kept;
    kept.set_pseudonym(e->pseudonym());
    kept.set_added_at_ms(e->added_at_ms());
    *e = std::move(kept);
  });
}

absl::Status AgentState::SetTrainingLevel(const std::string& pseudonym, uint32_t level) {
  absl::MutexLock l(&mu_);
  return UpdateWorker(pseudonym, [level](v1::RosterEntry* e) { e->set_training_level(level); });
}

absl::Status AgentState::SetSkills(const std::string& pseudonym,
                                   const std::vector<std::string>& skills) {
  for (const auto& skill : skills) {
    if (!IsSimpleName(skill)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "skills: each a word of letters, digits, - and _ (such as transcribe), got \"", skill,
          "\""));
    }
  }
  absl::MutexLock l(&mu_);
  return UpdateWorker(pseudonym, [&](v1::RosterEntry* e) {
    e->clear_skills();
    for (const auto& skill : skills) e->add_skills(skill);
  });
}

absl::StatusOr<v1::LeaseRequest> AgentState::PendingLease(
    const std::vector<v1::WorkerCredit>& credits) {
  absl::MutexLock l(&mu_);
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

absl::Status AgentState::AbandonLease() {
  absl::MutexLock l(&mu_);
  Batch batch;
  batch.Delete(Cf::kMeta, keys::Meta(kLeaseKey));
  MW_RETURN_IF_ERROR(store_->Write(std::move(batch), Durability::kSynced));
  pending_lease_.reset();
  return absl::OkStatus();
}

absl::Status AgentState::SaveLease(const v1::LeaseReply& reply) {
  absl::MutexLock l(&mu_);
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
  for (auto& c : fresh) {
    by_worker_[c.assignment().worker()].push_back(c.assignment().assignment_id());
    held_[c.assignment().assignment_id()] = std::move(c);
  }
  return absl::OkStatus();
}

size_t AgentState::HeldFor(const std::string& worker) const {
  absl::MutexLock l(&mu_);
  auto it = by_worker_.find(worker);
  return it == by_worker_.end() ? 0 : it->second.size();
}

std::optional<v1::CachedAssignment> AgentState::OpenNext(const std::string& worker) {
  absl::MutexLock l(&mu_);
  auto it = by_worker_.find(worker);
  if (it == by_worker_.end() || it->second.empty()) return std::nullopt;
  v1::CachedAssignment& a = held_.at(it->second.front());
  if (a.opened_at_ms() == 0) a.set_opened_at_ms(clock_->NowMs());
  return a;
}

std::optional<v1::CachedAssignment> AgentState::PeekNext(const std::string& worker) const {
  absl::MutexLock l(&mu_);
  auto it = by_worker_.find(worker);
  if (it == by_worker_.end() || it->second.empty()) return std::nullopt;
  return held_.at(it->second.front());
}

std::vector<v1::CachedAssignment> AgentState::HeldBy(const std::string& worker) const {
  absl::MutexLock l(&mu_);
  std::vector<v1::CachedAssignment> out;
  if (auto it = by_worker_.find(worker); it != by_worker_.end()) {
    for (const auto& id : it->second) out.push_back(held_.at(id));
  }
  return out;
}

std::vector<std::string> AgentState::HeldIds() const {
  absl::MutexLock l(&mu_);
  std::vector<std::string> ids;
  for (const auto& [id, a] : held_) ids.push_back(id);
  return ids;
}

std::vector<std::string> AgentState::OpenedIds() const {
  absl::MutexLock l(&mu_);
  std::vector<std::string> ids;
  for (const auto& [id, a] : held_) {
    if (a.opened_at_ms() > 0) ids.push_back(id);
  }
  return ids;
}

absl::Status AgentState::DropAssignments(const std::vector<std::string>& ids) {
  absl::MutexLock l(&mu_);
  Batch batch;
  for (const auto& id : ids) {
    auto it = held_.find(id);
    if (it == held_.end()) continue;
    batch.Delete(Cf::kAssignments, keys::CachedAssignment(id));
    auto& q = by_worker_[it->second.assignment().worker()];
    q.erase(std::remove(q.begin(), q.end(), id), q.end());
    held_.erase(it);
  }
  if (batch.Empty()) return absl::OkStatus();
  return store_->Write(std::move(batch), Durability::kSynced);
}

bool AgentState::OnRoster(const std::string& pseudonym) const {
  absl::MutexLock l(&mu_);
  return roster_.count(pseudonym) > 0;
}

absl::Status AgentState::Reserve(v1::StageReservation r) {
  return book_.Reserve(std::move(r), [this](const std::string& w) { return OnRoster(w); });
}

absl::Status AgentState::SaveTeam(v1::Team t) {
  return book_.SaveTeam(std::move(t), [this](const std::string& w) { return OnRoster(w); });
}

absl::Status AgentState::MoveAssignment(const std::string& old_id, const v1::ReassignReply& moved) {
  absl::MutexLock l(&mu_);
  auto it = held_.find(old_id);
  if (it == held_.end()) return absl::NotFoundError(absl::StrCat(old_id, " is not held here"));
  v1::CachedAssignment cached;
  *cached.mutable_assignment() = moved.assignment();
  *cached.mutable_spec() = moved.spec();
  const std::string& new_id = moved.assignment().assignment_id();
  Batch batch;
  batch.Delete(Cf::kAssignments, keys::CachedAssignment(old_id));
  batch.PutRecord(Cf::kAssignments, keys::CachedAssignment(new_id), cached);
  MW_RETURN_IF_ERROR(store_->Write(std::move(batch), Durability::kSynced));
  auto& q = by_worker_[it->second.assignment().worker()];
  q.erase(std::remove(q.begin(), q.end(), old_id), q.end());
  held_.erase(it);
  by_worker_[moved.assignment().worker()].push_back(new_id);
  held_[new_id] = std::move(cached);
  return absl::OkStatus();
}

absl::Status AgentState::SaveAnswer(const v1::Result& result) {
  if (result.result_id().empty()) return absl::InvalidArgumentError("result_id: required");
  v1::OutboxEntry entry;
  *entry.mutable_result() = result;
  uint64_t seq, ticket;
  {
    absl::MutexLock l(&mu_);
    if (outbox_ids_.contains(result.result_id()) || !saving_.insert(result.result_id()).second) {
      return absl::OkStatus();  // saved already, or being saved
    }
    entry.set_queued_at_ms(clock_->NowMs());
    seq = next_seq_++;
    Batch batch;
    // Even an assignment no longer held is answered: the work was done and is paid.
    if (auto h = held_.find(result.assignment_id()); h != held_.end()) {
      entry.set_distressing(h->second.spec().human().distressing());
      batch.Delete(Cf::kAssignments, keys::CachedAssignment(result.assignment_id()));
    }
    batch.PutRecord(Cf::kOutbox, keys::Outbox(seq), entry);
    ticket = queue_->Enqueue(std::move(batch));
  }
  // Synced before the worker is told it was saved; other workers' answers share the fsync.
  absl::Status durable = queue_->WaitDurable(ticket);
  absl::MutexLock l(&mu_);
  saving_.erase(result.result_id());
  if (!durable.ok()) return durable;
  ++saved_;
  outbox_ids_[result.result_id()] = seq;
  outbox_[seq] = std::move(entry);
  if (auto it = held_.find(result.assignment_id()); it != held_.end()) {
    auto& q = by_worker_[it->second.assignment().worker()];
    q.erase(std::remove(q.begin(), q.end(), result.assignment_id()), q.end());
    held_.erase(it);
  }
  return absl::OkStatus();
}

std::vector<v1::Result> AgentState::PendingResults(size_t limit) const {
  absl::MutexLock l(&mu_);
  std::vector<v1::Result> out;
  for (const auto& [seq, e] : outbox_) {
    if (out.size() >= limit) break;
    out.push_back(e.result());
  }
  return out;
}

absl::Status AgentState::ApplyReceipts(const std::vector<v1::Receipt>& receipts) {
  absl::MutexLock l(&mu_);
  Batch batch;
  std::vector<std::pair<uint64_t, bool>> done;  // (seq, quarantined)
  absl::flat_hash_set<uint64_t> seen;           // the same receipt may come twice in one reply
  std::vector<v1::RosterEntry> promoted;        // memory follows once the write is durable
  for (const auto& r : receipts) {
    auto it = outbox_ids_.find(r.result_id());
    if (it == outbox_ids_.end()) continue;
    const uint64_t seq = it->second;
    const bool bad = r.status() == v1::RECEIPT_QUARANTINED || r.status() == v1::RECEIPT_CONFLICT;
    const bool good = r.status() == v1::RECEIPT_ACCEPTED || r.status() == v1::RECEIPT_DUPLICATE;
    if (!bad && !good) continue;  // not a receipt: keep it and send again
    if (!seen.insert(seq).second) continue;
    batch.Delete(Cf::kOutbox, keys::Outbox(seq));
    if (good) {
      const v1::Result& result = outbox_.at(seq).result();
      v1::EarningRecord earning;
      earning.set_result_id(result.result_id());
      if (auto aid = ParseAssignmentId(result.assignment_id()); aid.ok()) {
        earning.set_task_id(aid->first);
        if (auto task = ParseTaskId(aid->first); task.ok()) earning.set_stage(task->stage);
      }
      earning.set_wage_minor(r.wage_minor());
      earning.set_currency(r.currency());
      earning.set_active_seconds(result.active_seconds());
      earning.set_answered_at_ms(result.answered_at_ms());
      earning.set_late(r.late());
      earning.set_feedback(r.feedback());
      earning.set_skipped(result.answer().skipped());
      earning.set_distressing(outbox_.at(seq).distressing());
      earning.set_check(r.check());
      earning.set_check_correct(r.check_correct());
      // Passed training: the worker is no newcomer any more, at this centre.
      if (auto entry = roster_.find(result.worker());
          r.promoted() && entry != roster_.end() && entry->second.training_level() == 0) {
        v1::RosterEntry trained = entry->second;
        trained.set_training_level(1);
        batch.PutRecord(Cf::kRoster, keys::Roster(result.worker()), trained);
        promoted.push_back(std::move(trained));
      }
      batch.PutRecord(Cf::kEarnings,
                      keys::Earning(result.worker(), result.answered_at_ms(), result.result_id()),
                      earning);
    }
    if (bad) {
      v1::OutboxEntry entry = outbox_.at(seq);
      *entry.mutable_receipt() = r;
      batch.PutRecord(Cf::kQuarantine, keys::Quarantine(r.result_id()), entry);
    }
    done.emplace_back(seq, bad);
  }
  if (batch.Empty()) return absl::OkStatus();
  MW_RETURN_IF_ERROR(store_->Write(std::move(batch), Durability::kSynced));
  for (auto& entry : promoted) roster_[entry.pseudonym()] = std::move(entry);
  for (auto [seq, bad] : done) {
    outbox_ids_.erase(outbox_.at(seq).result().result_id());
    outbox_.erase(seq);
    quarantined_ += bad;
  }
  return absl::OkStatus();
}

std::vector<v1::OutboxEntry> AgentState::Quarantined() const {
  std::vector<v1::OutboxEntry> out;
  for (auto c = store_->Scan(Cf::kQuarantine, ""); c->Valid(); c->Next()) {
    v1::OutboxEntry e;
    if (c->Read(&e).ok()) out.push_back(std::move(e));
  }
  return out;
}

std::vector<v1::Result> AgentState::PendingFor(const std::string& worker) const {
  absl::MutexLock l(&mu_);
  std::vector<v1::Result> out;
  for (const auto& [seq, e] : outbox_) {
    if (e.result().worker() == worker) out.push_back(e.result());
  }
  return out;
}

WorkDone AgentState::WorkSince(const std::string& worker, int64_t since_ms) const {
  WorkDone done;
  auto count = [&](uint32_t seconds, bool distressing, bool skipped) {
    done.active_seconds += seconds;
    done.distressing += distressing && !skipped;
  };
  for (const auto& e : Earnings(worker, since_ms)) {
    count(e.active_seconds(), e.distressing(), e.skipped());
  }
  absl::MutexLock l(&mu_);
  for (const auto& [seq, e] : outbox_) {
    const v1::Result& r = e.result();
    if (r.worker() != worker || r.answered_at_ms() < since_ms) continue;
    count(r.active_seconds(), e.distressing(), r.answer().skipped());
  }
  return done;
}

std::vector<v1::EarningRecord> AgentState::Earnings(const std::string& pseudonym,
                                                    int64_t since_ms) const {
  std::vector<v1::EarningRecord> out;
  for (auto c = store_->ScanFrom(Cf::kEarnings, keys::EarningsPrefix(pseudonym),
                                 keys::Earning(pseudonym, since_ms, ""));
       c->Valid(); c->Next()) {
    v1::EarningRecord e;
    if (c->Read(&e).ok()) out.push_back(std::move(e));
  }
  return out;
}

OutboxStats AgentState::Outbox() const {
  absl::MutexLock l(&mu_);
  OutboxStats s;
  s.depth = outbox_.size();
  s.oldest_queued_at_ms = outbox_.empty() ? 0 : outbox_.begin()->second.queued_at_ms();
  s.quarantined = quarantined_;
  return s;
}

uint64_t AgentState::results_saved() const {
  absl::MutexLock l(&mu_);
  return saved_;
}

int64_t LocalDayStart(int64_t now_ms) {
  const absl::TimeZone tz = absl::LocalTimeZone();
  return absl::ToUnixMillis(
      absl::FromCivil(absl::ToCivilDay(absl::FromUnixMillis(now_ms), tz), tz));
}

}  // namespace mw::centre
