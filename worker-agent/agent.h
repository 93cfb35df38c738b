// Agent: a delivery centre's link to the dispatcher. It keeps every on-duty worker's buffer of
// leased assignments full, keeps those leases alive with heartbeats, and drains the outbox to
// the dispatcher, deleting an answer only on its receipt. Every loop backs off with jitter when
// the link is down and resumes on its own; the outbox is synced on each new answer and on a
// periodic backstop. Simulated workers (for the demo and tests) answer from the same buffers a
// person's web page would.
//
// Thread-safe. Start() runs the loops on their own threads; Stop() ends them.
#ifndef MW_WORKER_AGENT_AGENT_H_
#define MW_WORKER_AGENT_AGENT_H_

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/common/clock.h"
#include "worker-agent/dispatcher_link.h"
#include "worker-agent/media/media_cache.h"
#include "worker-agent/simulated_worker.h"
#include "worker-agent/state/agent_state.h"

namespace mw::agent {

// Whether a lease request that failed with `status`, `failures` times in a row under its key,
// is sent again byte for byte. While the dispatcher may not have seen it (offline, a deadline),
// always: the same key gets the same assignments back. When the dispatcher answered with an
// error (busy, a reply too big to receive, a fault), a few times only, then it is dropped and a
// fresh request asked for: a refusal must not jam the centre for ever, across restarts too.
inline constexpr int kMaxLeaseRefusals = 5;
bool ResendLease(const absl::Status& status, int failures);

// What the agent asks the dispatcher for on behalf of the `on_duty` workers: each worker's
// buffer (`lease_buffer`) less what they hold; nothing from stages tagged distressing once they
// answered `distressing_per_day` of those today (0: no cap); nothing from stages or batches the
// manager reserved for other workers. Workers with full buffers get no credit.
std::vector<v1::WorkerCredit> LeaseCredits(const centre::AgentState& state,
                                           const std::vector<std::string>& on_duty,
                                           uint32_t lease_buffer, uint32_t distressing_per_day,
                                           int64_t now_ms);

class Agent {
 public:
  struct Options {
    uint32_t lease_buffer = 5;  // assignments held ahead per worker
    // Welfare: past this many answers today on stages tagged distressing, a worker's credits ask
    // the dispatcher for none of those (0: no cap).
    uint32_t distressing_per_day = 0;
    absl::Duration sync_backstop = absl::Seconds(5);
    absl::Duration idle_poll = absl::Seconds(2);  // lease polling when there is no work
    absl::Duration max_backoff = absl::Seconds(30);
    size_t sync_batch = 500;  // results per SubmitResults call
    uint64_t jitter_seed = 1;
    std::string receipt_log;  // when set, each receipt is appended here: "<result id> <status>"
    // The workers' voice: a complaint no manager answered for this long escalates to the
    // operator; ratings, flags and complaints are shared on the sync loop when there is something
    // new, and at least this often (the reply brings every centre's rating summaries).
    absl::Duration complaint_escalation = absl::Hours(72);
    absl::Duration voice_refresh = absl::Seconds(60);
    // Media the leases name are fetched into this cache ahead of the workers, who are given
    // only tasks whose media are all here (nullptr: no media).
    MediaCache* media = nullptr;
    // Simulation.
    CrowdModel crowd;
    double time_scale = 0;  // real seconds per simulated working second (0: answer at once)
  };

  struct Stats {
    uint64_t results_sent = 0;  // receipts received
    uint64_t sync_failures = 0;
    int64_t last_sync_ok_ms = 0;  // 0 before the first
    uint64_t leased = 0;
    // Media: files named by held assignments and not yet on disk, and how long the oldest of
    // them has waited (0 when none waits).
    uint64_t media_waiting = 0;
    double media_lag_seconds = 0;
    uint64_t media_cache_bytes = 0;
    uint64_t media_fetched_bytes = 0;
  };

  // Borrows everything; all must outlive the agent.
  Agent(centre::AgentState* state, DispatcherLink* link, const Clock* clock, Options options);
  ~Agent();

  // Registers the roster as on duty (retrying until it works or Stop), then runs the loops.
  // `simulated` names the roster pseudonyms to run as simulated workers.
  void Start(std::vector<std::string> simulated);
  // Ends the loops: workers stop between tasks, one last sync is attempted.
  void Stop();
  Stats stats() const;

  // People on the workers' page. A signed-in worker is on duty: their buffer is filled. When
  // they go off duty, what they hold is handed back (sent as skipped) by the sync loop.
  void SetOnDuty(const std::string& pseudonym, bool on_duty);
  // The roster changed (a worker was added): register it again with the dispatcher.
  void RosterChanged();
  // A person saved an answer: send it soon, and top up their buffer.
  void AnswerSaved();
  // Whether the last call to the dispatcher worked (the page says when the centre is offline).
  bool online() const;

 private:
  void RegisterUntilDone();
  absl::Status RegisterOnce();
  std::vector<std::string> OnDuty() const;
  void LeaseLoop();
  void SyncLoop();
  void WorkerLoop(const std::string& worker);
  // Fetches the media the held assignments name, oldest lease first, and removes the files no
  // assignment needs once every answer is acknowledged.
  void PrefetchLoop();
  absl::Status PrefetchOnce();
  absl::Status LeaseOnce(bool* got_work);
  absl::Status HeartbeatOnce();
  absl::Status SyncOnce(bool* more);
  // Escalates overdue complaints and shares what is new of the workers' voice (VoiceBook) when
  // there is some or voice_refresh has passed. Failures are logged: the next sync tries again.
  void ShareVoice();
  void ReleaseOffDuty();
  absl::Duration Backoff(int failures);
  bool WaitOrStop(absl::Duration d, const bool* flag);  // true when stopping

  centre::AgentState* const state_;
  DispatcherLink* const link_;
  const Clock* const clock_;
  const Options options_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool sync_wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool lease_wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool prefetch_wanted_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t work_epoch_ ABSL_GUARDED_BY(mu_) = 0;  // bumps when new assignments arrive
  int64_t lease_ms_ ABSL_GUARDED_BY(mu_) = 120'000;
  Stats stats_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 jitter_ ABSL_GUARDED_BY(mu_);
  bool register_wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool online_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::string> on_duty_ ABSL_GUARDED_BY(mu_);
  // Stages whose items a simulated worker found missing from the truth file (warned once each).
  std::set<std::string> guessed_stages_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> release_ ABSL_GUARDED_BY(
      mu_);  // went off duty; hand back their work  // simulated, then signed-in people
  std::vector<std::thread> threads_;
  // The lease request failing now and how many times in a row (LeaseLoop's thread only).
  std::string failing_lease_key_;
  int lease_failures_ = 0;
  // The last ShareVoice that worked, and VoiceBook::changes() when it was read (SyncLoop's
  // thread only).
  int64_t voice_shared_ms_ = 0;
  // When each media file now waiting was first seen waiting (PrefetchLoop's thread only).
  std::map<std::string, int64_t> media_waiting_since_;
  uint64_t voice_changes_shared_ = 0;
};

}  // namespace mw::agent

#endif  // MW_WORKER_AGENT_AGENT_H_
