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
  MW_RETURN_IF_ERROR(roster_.Load());
  MW_RETURN_IF_ERROR(managers_.Load());
  MW_RETURN_IF_ERROR(cache_.Load());
  MW_RETURN_IF_ERROR(outbox_.Load());
  // What is read on demand later (earnings, reservations, teams, sessions) is checked now: an
  // agent with an unreadable record does not start.
  MW_RETURN_IF_ERROR(earnings_.Load());
  MW_RETURN_IF_ERROR(book_.Load());
  MW_RETURN_IF_ERROR(voice_.Load());
  return sessions_.Load();
}

// ---- Roster ----

absl::StatusOr<v1::RosterEntry> AgentState::AddWorker(v1::RosterEntry entry) {
  absl::MutexLock l(&mu_);
  return roster_.Add(std::move(entry), clock_->NowMs());
}

std::vector<v1::RosterEntry> AgentState::Roster() const {
  absl::MutexLock l(&mu_);
  return roster_.All();
}

std::optional<v1::RosterEntry> AgentState::Worker(const std::string& pseudonym) const {
  absl::MutexLock l(&mu_);
  const v1::RosterEntry* e = roster_.Find(pseudonym);
  if (e == nullptr) return std::nullopt;
  return *e;
}

bool AgentState::OnRoster(const std::string& pseudonym) const {
  absl::MutexLock l(&mu_);
  return roster_.Contains(pseudonym);
}

absl::Status AgentState::UpdateWorker(const std::string& pseudonym,
                                      const std::function<void(v1::RosterEntry*)>& change) {
  absl::MutexLock l(&mu_);
  return roster_.Update(pseudonym, change);
}

absl::StatusOr<std::string> AgentState::IssueSignInCode(const std::string& pseudonym) {
  uint32_t number = 0;
  {
    absl::MutexLock l(&mu_);
    MW_ASSIGN_OR_RETURN(number, roster_.SignInNumberFor(pseudonym));
  }
  const IssuedCode issued = NewSignInCode(number);  // slow by design: outside the lock
  if (issued.verifier.empty()) return absl::InternalError("argon2id failed");
  MW_RETURN_IF_ERROR(UpdateWorker(pseudonym, [&](v1::RosterEntry* e) {
    e->clear_sign_in_code_sha256();
    e->set_sign_in_number(number);
    e->set_sign_in_verifier(issued.verifier);
  }));
  return issued.code;
}

absl::StatusOr<v1::RosterEntry> AgentState::SignIn(const std::string& code) const {
  const absl::Status wrong = absl::NotFoundError("no such sign-in code");
  if (auto typed = ParseSignInCode(code); typed.has_value()) {
    std::optional<v1::RosterEntry> found;
    {
      absl::MutexLock l(&mu_);
      found = roster_.WithSignInNumber(typed->number);
    }
    // Outside the lock (slow by design); an unknown number is checked against a dummy.
    const bool match =
        VerifySignInCode(found.has_value() ? found->sign_in_verifier() : "", typed->secret);
    if (match && found.has_value()) return *found;
    return wrong;
  }
  // An 8-digit code from before the numbers: its unsalted SHA-256, until a new code replaces it.
  if (code.empty()) return wrong;
  absl::MutexLock l(&mu_);
  std::optional<v1::RosterEntry> found = roster_.WithLegacyCode(Sha256(code));
  if (found.has_value()) return *found;
  return wrong;
}

absl::StatusOr<std::string> AgentState::AddManager(const std::string& name, const std::string& by,
                                                   v1::CentreRole role) {
  uint32_t number = 0;
  {
    absl::MutexLock l(&mu_);
    MW_ASSIGN_OR_RETURN(number, managers_.NumberToAdd(name));
  }
  const IssuedCode issued = centre::NewManagerCode(number);  // slow by design: outside the lock
  absl::MutexLock l(&mu_);
  MW_RETURN_IF_ERROR(managers_.AddIssued(name, by, clock_->NowMs(), number, issued.verifier, role));
  return issued.code;
}

absl::StatusOr<std::string> AgentState::NewManagerCode(const std::string& name,
                                                       const std::string& by) {
  uint32_t number = 0;
  {
    absl::MutexLock l(&mu_);
    MW_ASSIGN_OR_RETURN(number, managers_.NumberOf(name));
  }
  const IssuedCode issued = centre::NewManagerCode(number);  // slow by design: outside the lock
  absl::MutexLock l(&mu_);
  MW_RETURN_IF_ERROR(managers_.SetIssued(name, by, clock_->NowMs(), number, issued.verifier));
  return issued.code;
}

absl::Status AgentState::RevokeManager(const std::string& name, const std::string& by) {
  absl::MutexLock l(&mu_);
  return managers_.Revoke(name, by, clock_->NowMs());
}

std::vector<v1::CentreManager> AgentState::Managers() const {
  absl::MutexLock l(&mu_);
  return managers_.All();
}

namespace {

AgentState::ManagerCode CodeOf(const v1::CentreManager& m) {
  return {.name = m.name(),
          .mark = ManagerBook::CodeMark(m),
          .code_by = m.code_by(),
          .rep = m.role() == v1::CENTRE_ROLE_WORKER_REP};
}

}  // namespace

std::optional<AgentState::ManagerCode> AgentState::CurrentManagerCode(
    const std::string& name) const {
  absl::MutexLock l(&mu_);
  for (const v1::CentreManager& m : managers_.All()) {
    if (m.name() == name && !m.revoked()) return CodeOf(m);
  }
  return std::nullopt;
}

absl::StatusOr<AgentState::ManagerCode> AgentState::SignInManager(const std::string& code) const {
  auto typed = ParseManagerCode(code);
  if (!typed.has_value()) return absl::NotFoundError("no such manager code");
  std::optional<v1::CentreManager> found;
  {
    absl::MutexLock l(&mu_);
    found = managers_.WithNumber(typed->number);
  }
  // Outside the lock (slow by design); an unknown number is checked against a dummy.
  const bool match =
      VerifySignInCode(found.has_value() ? found->sign_in_verifier() : "", typed->secret);
  if (!match || !found.has_value()) return absl::NotFoundError("no such manager code");
  return CodeOf(*found);
}

absl::Status AgentState::SetLanguage(const std::string& pseudonym, const std::string& lang) {
  return UpdateWorker(pseudonym, [&](v1::RosterEntry* e) { e->set_ui_language(lang); });
}

absl::Status AgentState::ForgetWorker(const std::string& pseudonym) {
  return UpdateWorker(pseudonym, [](v1::RosterEntry* e) {
    v1::RosterEntry kept;
    kept.set_pseudonym(e->pseudonym());
    kept.set_added_at_ms(e->added_at_ms());
    *e = std::move(kept);
  });
}

absl::Status AgentState::SetTrainingLevel(const std::string& pseudonym, uint32_t level) {
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
  return UpdateWorker(pseudonym, [&](v1::RosterEntry* e) {
    e->clear_skills();
    for (const auto& skill : skills) e->add_skills(skill);
  });
}

// ---- Leasing ahead ----

absl::StatusOr<v1::LeaseRequest> AgentState::PendingLease(
    const std::vector<v1::WorkerCredit>& credits) {
  absl::MutexLock l(&mu_);
  return cache_.PendingLease(credits);
}

absl::Status AgentState::AbandonLease() {
  absl::MutexLock l(&mu_);
  return cache_.AbandonLease();
}

absl::Status AgentState::SaveLease(const v1::LeaseReply& reply) {
  absl::MutexLock l(&mu_);
  return cache_.SaveLease(reply);
}

size_t AgentState::HeldFor(const std::string& worker) const {
  absl::MutexLock l(&mu_);
  return cache_.HeldFor(worker);
}

std::optional<v1::CachedAssignment> AgentState::OpenNext(const std::string& worker) {
  absl::MutexLock l(&mu_);
  return cache_.OpenNext(worker, clock_->NowMs());
}

void AgentState::SetReady(std::function<bool(const v1::CachedAssignment&)> ready) {
  absl::MutexLock l(&mu_);
  cache_.set_ready(std::move(ready));
}

std::vector<v1::Media> AgentState::HeldMedia() const {
  absl::MutexLock l(&mu_);
  return cache_.HeldMedia();
}

void AgentState::WithHeldMedia(
    const std::function<void(const absl::flat_hash_set<std::string>&)>& fn) const {
  absl::MutexLock l(&mu_);
  absl::flat_hash_set<std::string> held;
  for (const v1::Media& m : cache_.HeldMedia()) held.insert(m.sha256());
  fn(held);
}

std::optional<v1::CachedAssignment> AgentState::PeekNext(const std::string& worker) const {
  absl::MutexLock l(&mu_);
  return cache_.PeekNext(worker);
}

std::vector<v1::CachedAssignment> AgentState::HeldBy(const std::string& worker) const {
  absl::MutexLock l(&mu_);
  return cache_.HeldBy(worker);
}

std::vector<std::string> AgentState::HeldIds() const {
  absl::MutexLock l(&mu_);
  return cache_.HeldIds();
}

std::vector<std::string> AgentState::OpenedIds() const {
  absl::MutexLock l(&mu_);
  return cache_.OpenedIds();
}

absl::Status AgentState::DropAssignments(const std::vector<std::string>& ids) {
  absl::MutexLock l(&mu_);
  return cache_.Drop(ids);
}

absl::Status AgentState::MoveAssignment(const std::string& old_id, const v1::ReassignReply& moved) {
  absl::MutexLock l(&mu_);
  return cache_.Move(old_id, moved);
}

absl::Status AgentState::Reserve(v1::StageReservation r) {
  return book_.Reserve(std::move(r), [this](const std::string& w) { return OnRoster(w); });
}

absl::Status AgentState::SaveTeam(v1::Team t) {
  return book_.SaveTeam(std::move(t), [this](const std::string& w) { return OnRoster(w); });
}

// ---- Outbox ----

absl::Status AgentState::SaveAnswer(const v1::Result& result) {
  if (result.result_id().empty()) return absl::InvalidArgumentError("result_id: required");
  v1::OutboxEntry entry;
  *entry.mutable_result() = result;
  uint64_t seq, ticket;
  {
    absl::MutexLock l(&mu_);
    std::optional<uint64_t> next = outbox_.Begin(result.result_id());
    if (!next.has_value()) return absl::OkStatus();  // saved already, or being saved
    seq = *next;
    entry.set_queued_at_ms(clock_->NowMs());
    // Even an assignment no longer held is answered: the work was done and is paid.
    if (const v1::CachedAssignment* held = cache_.Find(result.assignment_id()); held != nullptr) {
      entry.set_distressing(held->spec().human().distressing());
    }
    Batch batch;
    cache_.PutAnswered(result.assignment_id(), &batch);
    outbox_.Put(seq, entry, &batch);
    ticket = queue_->Enqueue(std::move(batch));
  }
  // Synced before the worker is told it was saved; other workers' answers share the fsync.
  absl::Status durable = queue_->WaitDurable(ticket);
  absl::MutexLock l(&mu_);
  if (!durable.ok()) {
    outbox_.Abandon(result.result_id());
    return durable;
  }
  outbox_.Saved(seq, std::move(entry));
  cache_.Forget(result.assignment_id());
  return absl::OkStatus();
}

std::vector<v1::Result> AgentState::PendingResults(size_t limit) const {
  absl::MutexLock l(&mu_);
  return outbox_.Pending(limit);
}

absl::Status AgentState::ApplyReceipts(const std::vector<v1::Receipt>& receipts) {
  absl::MutexLock l(&mu_);
  Batch batch;
  std::vector<std::pair<uint64_t, bool>> done;  // (seq, refused)
  absl::flat_hash_set<uint64_t> seen;           // the same receipt may come twice in one reply
  std::vector<v1::RosterEntry> promoted;        // memory follows once the write is durable
  for (const auto& r : receipts) {
    uint64_t seq = 0;
    const v1::OutboxEntry* entry = outbox_.Find(r.result_id(), &seq);
    if (entry == nullptr) continue;
    const bool refused =
        r.status() == v1::RECEIPT_QUARANTINED || r.status() == v1::RECEIPT_CONFLICT;
    const bool good = r.status() == v1::RECEIPT_ACCEPTED || r.status() == v1::RECEIPT_DUPLICATE;
    if (!refused && !good) continue;  // not a receipt: keep it and send again
    if (!seen.insert(seq).second) continue;
    outbox_.PutReceipt(seq, r, refused, &batch);
    if (good) {
      const std::string& worker = entry->result().worker();
      earnings_.Put(worker, EarningFor(*entry, r), &batch);
      // Passed training: the worker is no newcomer any more, at this centre.
      if (r.promoted()) {
        if (auto trained = roster_.Promote(worker, &batch); trained.has_value()) {
          promoted.push_back(*std::move(trained));
        }
      }
    }
    done.emplace_back(seq, refused);
  }
  if (batch.Empty()) return absl::OkStatus();
  MW_RETURN_IF_ERROR(store_->Write(std::move(batch), Durability::kSynced));
  for (auto& entry : promoted) roster_.Replace(std::move(entry));
  for (auto [seq, refused] : done) outbox_.Done(seq, refused);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::OutboxEntry>> AgentState::Quarantined() const {
  absl::MutexLock l(&mu_);
  return outbox_.Quarantined();
}

std::vector<v1::Result> AgentState::PendingFor(const std::string& worker) const {
  absl::MutexLock l(&mu_);
  std::vector<v1::Result> out;
  for (auto& e : outbox_.PendingFor(worker)) out.push_back(std::move(*e.mutable_result()));
  return out;
}

absl::StatusOr<WorkDone> AgentState::WorkSince(const std::string& worker, int64_t since_ms) const {
  WorkDone done;
  auto count = [&](uint32_t seconds, bool distressing, bool skipped) {
    done.active_seconds += seconds;
    done.distressing += distressing && !skipped;
  };
  MW_ASSIGN_OR_RETURN(auto earned, earnings_.Since(worker, since_ms));
  for (const auto& e : earned) count(e.active_seconds(), e.distressing(), e.skipped());
  absl::MutexLock l(&mu_);
  for (const auto& e : outbox_.PendingFor(worker)) {
    const v1::Result& r = e.result();
    if (r.answered_at_ms() < since_ms) continue;
    count(r.active_seconds(), e.distressing(), r.answer().skipped());
  }
  return done;
}

absl::StatusOr<std::vector<v1::EarningRecord>> AgentState::Earnings(const std::string& pseudonym,
                                                                    int64_t since_ms) const {
  return earnings_.Since(pseudonym, since_ms);
}

OutboxStats AgentState::Outbox() const {
  absl::MutexLock l(&mu_);
  return outbox_.Stats();
}

uint64_t AgentState::results_saved() const {
  absl::MutexLock l(&mu_);
  return outbox_.saved();
}

int64_t LocalDayStart(int64_t now_ms) {
  const absl::TimeZone tz = absl::LocalTimeZone();
  return absl::ToUnixMillis(
      absl::FromCivil(absl::ToCivilDay(absl::FromUnixMillis(now_ms), tz), tz));
}

}  // namespace mw::centre
