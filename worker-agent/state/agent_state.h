// AgentState: what a delivery centre's agent keeps in its own RocksDB so work goes on through
// outages, as small stores each in its own column family: the Roster (the only place with
// workers' personal data, roster.h), the AssignmentCache of work leased ahead
// (assignment_cache.h), the Outbox of answers waiting for the dispatcher's receipt (outbox.h),
// Earnings (earnings.h), the ReservationBook (reservations and teams) and the SessionStore (the
// worker page's sessions). AgentState holds the one lock and writes, in one batch, what must
// change together.
//
// Every answer is written, synced, to the outbox in the same batch that retires its assignment,
// before the worker is told it was saved; it leaves the outbox only on an explicit receipt.
//
//   MW_ASSIGN_OR_RETURN(auto state, AgentState::Open(dir, clock));
//   MW_RETURN_IF_ERROR(state->SaveAnswer(result));      // durable before returning
//   auto batch = state->PendingResults(500);            // oldest first
//   MW_RETURN_IF_ERROR(state->ApplyReceipts(receipts));  // drops, or quarantines
//
// Thread-safe.
#ifndef MW_WORKER_AGENT_STATE_AGENT_STATE_H_
#define MW_WORKER_AGENT_STATE_AGENT_STATE_H_

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/common/clock.h"
#include "engine/storage/commit_queue.h"
#include "engine/storage/store.h"
#include "microwork/v1/records.pb.h"
#include "microwork/v1/services.pb.h"
#include "worker-agent/state/assignment_cache.h"
#include "worker-agent/state/earnings.h"
#include "worker-agent/state/manager_book.h"
#include "worker-agent/state/outbox.h"
#include "worker-agent/state/reservation_book.h"
#include "worker-agent/state/roster.h"
#include "worker-agent/state/session_store.h"
#include "worker-agent/state/voice_book.h"

namespace mw::centre {

namespace v1 = ::microwork::v1;

// A worker's work since some moment: what the welfare limits are checked against.
// Where today began, in the centre's local time (ms since the epoch): daily welfare limits count
// from here.
int64_t LocalDayStart(int64_t now_ms);

struct WorkDone {
  uint64_t active_seconds = 0;
  uint32_t distressing = 0;  // answers (not skips) on stages tagged distressing
};

// A result for `a` as `worker` answered it at `now_ms`, with no answer yet. Its id is derived from
// the assignment and its epoch, so saving or sending it twice is harmless.
v1::Result ResultFor(const v1::Assignment& a, const std::string& worker, int64_t now_ms);

class AgentState {
 public:
  // `clock` must outlive the state.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<AgentState>> Open(const std::string& dir,
                                                                        const Clock* clock);
  AgentState(const AgentState&) = delete;
  AgentState& operator=(const AgentState&) = delete;

  // ---- Roster ----
  // Adds a worker and gives them a fresh random pseudonym, the only name the dispatcher sees.
  [[nodiscard]] absl::StatusOr<v1::RosterEntry> AddWorker(v1::RosterEntry entry);
  std::vector<v1::RosterEntry> Roster() const;
  std::optional<v1::RosterEntry> Worker(const std::string& pseudonym) const;
  // A fresh 12-digit sign-in code for the worker's page (sign_in_code.h), replacing any earlier
  // one. Only its argon2id verifier is stored: the manager hands the code over once. NOT_FOUND
  // for an unknown worker.
  [[nodiscard]] absl::StatusOr<std::string> IssueSignInCode(const std::string& pseudonym);
  // The worker whose code this is; NOT_FOUND when none is.
  [[nodiscard]] absl::StatusOr<v1::RosterEntry> SignIn(const std::string& code) const;
  [[nodiscard]] absl::Status SetLanguage(const std::string& pseudonym, const std::string& lang);
  // Removal on request: the name, contact, languages, skills and sign-in code are deleted;
  // the pseudonym stays, since the ledger upstream pays under it.
  [[nodiscard]] absl::Status ForgetWorker(const std::string& pseudonym);
  // A person's decision: the worker counts as trained (level >= 1) or as a newcomer (0), who
  // trains first where a stage asks for it. NOT_FOUND for an unknown pseudonym.
  [[nodiscard]] absl::Status SetTrainingLevel(const std::string& pseudonym, uint32_t level);
  // The manager puts a worker on duty for these skills (replacing the last set): the dispatcher
  // offers them the stages that ask for these, once the roster is registered again.
  // INVALID_ARGUMENT for a skill that is not a simple word; NOT_FOUND for an unknown pseudonym.
  [[nodiscard]] absl::Status SetSkills(const std::string& pseudonym,
                                       const std::vector<std::string>& skills);

  // ---- Managers (manager_book.h) ----
  // Each returns the new code, shown once; `by` is the manager signed in.
  // `role`: a manager, or the workers' representative (ManagerBook::AddIssued).
  [[nodiscard]] absl::StatusOr<std::string> AddManager(
      const std::string& name, const std::string& by,
      v1::CentreRole role = v1::CENTRE_ROLE_MANAGER);
  [[nodiscard]] absl::StatusOr<std::string> NewManagerCode(const std::string& name,
                                                           const std::string& by);
  [[nodiscard]] absl::Status RevokeManager(const std::string& name, const std::string& by);
  std::vector<v1::CentreManager> Managers() const;
  // A manager's current code as a session knows it: ManagerBook::CodeMark, and who issued it.
  struct ManagerCode {
    std::string name;
    std::string mark;
    std::string code_by;
    bool rep = false;  // the workers' representative: reads aggregates only
  };
  // The account `name` while it may sign in; nullopt once revoked or unknown.
  std::optional<ManagerCode> CurrentManagerCode(const std::string& name) const;
  // The manager whose 20-digit code this is; NOT_FOUND when none is. As slow whether or not the
  // number exists. The mark is the code's as it was checked: a new code issued meanwhile makes
  // the session it opens a stale one.
  [[nodiscard]] absl::StatusOr<ManagerCode> SignInManager(const std::string& code) const;

  // ---- Leasing ahead ----
  // The lease request in flight; when there is none, `credits` becomes one with a fresh key,
  // stored before it is sent. A retry after a lost reply sends the stored request again, byte
  // for byte, and so gets the same assignments back.
  [[nodiscard]] absl::StatusOr<v1::LeaseRequest> PendingLease(
      const std::vector<v1::WorkerCredit>& credits);
  // Forgets the request in flight without a reply (the dispatcher refused it for good).
  [[nodiscard]] absl::Status AbandonLease();
  // Stores the assignments of a lease reply and retires its key, in one synced write.
  [[nodiscard]] absl::Status SaveLease(const v1::LeaseReply& reply);
  // Assignments held for `worker` and not yet answered.
  size_t HeldFor(const std::string& worker) const;
  // Workers are given only assignments `ready` accepts (called under this state's lock: it
  // must not call back into it).
  void SetReady(std::function<bool(const v1::CachedAssignment&)> ready);
  // Every media file the held assignments name, each once.
  std::vector<v1::Media> HeldMedia() const;
  // Calls `fn` with the hashes of HeldMedia under this state's lock, so no lease is saved
  // meanwhile (the agent removes the files no held task names with it).
  void WithHeldMedia(const std::function<void(const absl::flat_hash_set<std::string>&)>& fn) const;
  // The oldest assignment held for `worker`, marked opened now (for time on task).
  std::optional<v1::CachedAssignment> OpenNext(const std::string& worker);
  // The oldest assignment held for `worker`, left unopened (what the page shows before start).
  std::optional<v1::CachedAssignment> PeekNext(const std::string& worker) const;
  // Every assignment held for `worker`, in lease order.
  std::vector<v1::CachedAssignment> HeldBy(const std::string& worker) const;
  // Ids of every assignment held, for heartbeats.
  std::vector<std::string> HeldIds() const;
  // Of those, the ones a worker has opened (the dispatcher's start-to-close clock runs).
  std::vector<std::string> OpenedIds() const;
  // Drops assignments the dispatcher says are no longer ours.
  [[nodiscard]] absl::Status DropAssignments(const std::vector<std::string>& ids);

  // ---- The manager's assignment tools (ReservationBook) ----
  // Reserves r.stage ("<job>/<stage>"), or with r.batch its items first_item..last_item, for
  // r.workers and the members of team r.team (as the team is at each lease), replacing an earlier
  // reservation with the same id: from now on the other workers' lease credits exclude it
  // (assignments they already hold stay theirs; the manager can move them). INVALID_ARGUMENT for
  // a malformed stage, nobody to reserve it for, an unknown worker or team, a batch whose first
  // item is after its last, one that overlaps another reservation of the stage, or no manager
  // named.
  [[nodiscard]] absl::Status Reserve(v1::StageReservation r);
  // A reservation's id: its stage, or "<stage>#<first>-<last>" for a batch.
  static std::string ReservationId(const v1::StageReservation& r) { return ReservationBook::Id(r); }
  [[nodiscard]] absl::Status ClearReservation(const std::string& id) { return book_.Clear(id); }
  std::vector<v1::StageReservation> Reservations() const { return book_.Reservations(); }
  // What the manager reserved for workers other than `worker`: whole stages and batches.
  using Reserved = ReservationBook::Reserved;
  Reserved ReservedForOthers(const std::string& worker) const {
    return book_.ReservedForOthers(worker);
  }

  // Saves team t (replacing one of the same name). INVALID_ARGUMENT for a name that is not a
  // simple name, no members, an unknown member or no manager named.
  [[nodiscard]] absl::Status SaveTeam(v1::Team t);
  // FAILED_PRECONDITION while a reservation names the team (clear that first).
  [[nodiscard]] absl::Status DisbandTeam(const std::string& name) {
    return book_.DisbandTeam(name);
  }
  std::vector<v1::Team> Teams() const { return book_.Teams(); }
  std::optional<v1::Team> FindTeam(const std::string& name) const { return book_.FindTeam(name); }

  // Replaces held assignment `old_id` with the dispatcher's reassignment of it, in one synced
  // write. NOT_FOUND when `old_id` is not held here.
  [[nodiscard]] absl::Status MoveAssignment(const std::string& old_id,
                                            const v1::ReassignReply& moved);

  // ---- Outbox ----
  // Retires the result's assignment and queues the result, in one synced write.
  [[nodiscard]] absl::Status SaveAnswer(const v1::Result& result);
  // Up to `limit` queued results, oldest first.
  std::vector<v1::Result> PendingResults(size_t limit) const;
  // Applies the dispatcher's receipts: ACCEPTED and DUPLICATE leave the outbox, and what they
  // pay goes into the worker's earnings in the same write; QUARANTINED and CONFLICT move to
  // quarantine with the receipt, for the manager to see. Unknown ids are ignored.
  [[nodiscard]] absl::Status ApplyReceipts(const std::vector<v1::Receipt>& receipts);
  // DATA_LOSS naming a record that does not parse.
  [[nodiscard]] absl::StatusOr<std::vector<v1::OutboxEntry>> Quarantined() const;
  // Results of `worker` still waiting in the outbox.
  std::vector<v1::Result> PendingFor(const std::string& worker) const;

  // ---- Web sessions, by the SHA-256 of their token (the token is never stored) ----
  // (SessionStore.)
  [[nodiscard]] absl::Status SaveSession(const std::string& token_sha256,
                                         const v1::WebSession& session) {
    return sessions_.Save(token_sha256, session);
  }
  // Deletes the sessions `which` picks, durably.
  [[nodiscard]] absl::Status DeleteSessions(
      const std::function<bool(const std::string& token_sha256, const v1::WebSession&)>& which) {
    return sessions_.Delete(which);
  }
  std::vector<std::pair<std::string, v1::WebSession>> Sessions() const { return sessions_.All(); }
  // The worker's answers at or after `since_ms`, acknowledged or still in the outbox.
  // DATA_LOSS naming an earning that does not parse.
  [[nodiscard]] absl::StatusOr<WorkDone> WorkSince(const std::string& worker,
                                                   int64_t since_ms) const;
  // The worker's acknowledged earnings answered at or after `since_ms`, oldest first.
  // DATA_LOSS naming a record that does not parse.
  [[nodiscard]] absl::StatusOr<std::vector<v1::EarningRecord>> Earnings(
      const std::string& pseudonym, int64_t since_ms) const;
  OutboxStats Outbox() const;
  uint64_t results_saved() const;

  // ---- The workers' voice: ratings, flags and complaints (voice_book.h; thread-safe) ----
  VoiceBook& voice() { return voice_; }
  const VoiceBook& voice() const { return voice_; }

 private:
  AgentState(std::unique_ptr<storage::Store> store, const Clock* clock)
      : store_(std::move(store)),
        queue_(std::make_unique<storage::CommitQueue>(store_.get())),
        clock_(clock),
        roster_(store_.get()),
        managers_(store_.get()),
        cache_(store_.get()),
        outbox_(store_.get()),
        earnings_(store_.get()),
        book_(store_.get(), clock),
        sessions_(store_.get()),
        voice_(store_.get()) {}
  // Whether `pseudonym` is on the roster.
  bool OnRoster(const std::string& pseudonym) const ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Load();
  // Applies `change` to the worker's entry, synced. NOT_FOUND for an unknown worker.
  absl::Status UpdateWorker(const std::string& pseudonym,
                            const std::function<void(v1::RosterEntry*)>& change)
      ABSL_LOCKS_EXCLUDED(mu_);

  std::unique_ptr<storage::Store> store_;
  // Answers from many workers share one fsync (group commit); the lock is not held across it.
  std::unique_ptr<storage::CommitQueue> queue_;
  const Clock* const clock_;
  mutable absl::Mutex mu_;
  centre::Roster roster_ ABSL_GUARDED_BY(mu_);
  centre::ManagerBook managers_ ABSL_GUARDED_BY(mu_);
  AssignmentCache cache_ ABSL_GUARDED_BY(mu_);
  centre::Outbox outbox_ ABSL_GUARDED_BY(mu_);
  const centre::Earnings earnings_;  // thread-safe
  ReservationBook book_;             // reservations and teams; thread-safe
  SessionStore sessions_;            // the worker page's sessions; thread-safe
  VoiceBook voice_;                  // ratings, flags and complaints; thread-safe
};

}  // namespace mw::centre

#endif  // MW_WORKER_AGENT_STATE_AGENT_STATE_H_
