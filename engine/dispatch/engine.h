// Engine: the dispatcher's domain. It turns contracts into jobs and tasks, leases tasks to
// centres, records results, aggregates them, and pays for every contribution through the ledger.
// It owns the dispatcher's RocksDB; the gRPC services in dispatcher/ only translate to and from
// these calls.
//
//   MW_ASSIGN_OR_RETURN(auto engine, Engine::Open(dir, SystemClock::Get(), Engine::Options()));
//   MW_ASSIGN_OR_RETURN(auto reply, engine->Lease("centre-a", request));
//
// Durability: every call that changes state returns only after its change is synced (group
// commit through storage::CommitQueue), so a reply is a promise that survives kill -9. One
// logical change (a lease grant, a batch of results with their wages and verdicts) is one
// WriteBatch together with its idempotency record.
//
// Thread-safe. One mutex guards the in-memory state; fsyncs happen outside it and are shared.
#ifndef MW_ENGINE_DISPATCH_ENGINE_H_
#define MW_ENGINE_DISPATCH_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/common/clock.h"
#include "engine/common/money.h"
#include "engine/common/proto_bytes.h"
#include "engine/common/sha256.h"
#include "engine/contract/splitter.h"
#include "engine/contract/validate.h"
#include "engine/dispatch/centres.h"
#include "engine/dispatch/contributions.h"
#include "engine/dispatch/flow.h"
#include "engine/dispatch/idempotency.h"
#include "engine/dispatch/job_catalogue.h"
#include "engine/dispatch/job_lifecycle.h"
#include "engine/dispatch/job_run.h"
#include "engine/dispatch/lease_table.h"
#include "engine/dispatch/paymaster.h"
#include "engine/dispatch/payroll.h"
#include "engine/dispatch/scheduler.h"
#include "engine/dispatch/staff.h"
#include "engine/dispatch/stats.h"
#include "engine/dispatch/submission.h"
#include "engine/dispatch/verdict_recorder.h"
#include "engine/dispatch/voice_board.h"
#include "engine/dispatch/worker_book.h"
#include "engine/ledger/auditor.h"
#include "engine/ledger/ledger.h"
#include "engine/storage/commit_queue.h"
#include "engine/storage/store.h"
#include "microwork/v1/records.pb.h"
#include "microwork/v1/services.pb.h"

namespace mw::dispatch {

namespace v1 = ::microwork::v1;

// The idempotency principal of every operator call.
inline constexpr char kOperatorPrincipal[] = "operator";

class Engine : private JobIntake {
 public:
  struct Options {
    // The store's memory: the block cache and the memtables' share of it (mw-dispatcher
    // --block-cache-mb, --memtable-mb).
    storage::Store::Options store;
    int64_t lease_ms = 120'000;  // a lease's life without a heartbeat
    // However many heartbeats: an assignment nobody has opened this long after its lease is
    // offered elsewhere (schedule-to-start), and one opened this long ago is reassigned
    // (start-to-close). 0 turns a clock off. Agents lease ahead for outages, so the first is
    // long.
    int64_t schedule_to_start_ms = 4 * 3'600'000;
    int64_t start_to_close_ms = 3'600'000;
    uint32_t max_credit_per_worker = 50;  // assignments one worker may hold at once
    contract::Limits limits;
    MediaCaps media;                    // per file and per submission (README, Limits)
    size_t staging_batch_items = 2000;  // items per staging write during a submission
    // Retries: after each expired lease a task waits retry_base_ms * 2^(failures - 1), up to
    // retry_max_ms, with jitter in [50%, 100%]; after max_attempts expiries it is dead-lettered.
    uint32_t max_attempts = 5;
    int64_t retry_base_ms = 5'000;
    int64_t retry_max_ms = 300'000;
    uint64_t seed = 0;  // jitter seed; 0 = from the system's random source
    // Backpressure. While more than this many bytes of changes wait for the disk, Lease is
    // refused (from half of it) and so are results and new submissions (from all of it), with
    // RESOURCE_EXHAUSTED and a retry hint, before anything changes; heartbeats and operator
    // calls go on. Memory for pending writes stays bounded whatever the load.
    uint64_t max_waiting_commit_bytes = 64 << 20;
    uint32_t max_results_per_call = 5000;  // results in one SubmitResults
    // A result's time on task counts towards the wage floor up to this many times its stage's
    // estimate (and never beyond its lease's window); the rest is held for a person.
    uint32_t max_time_multiple = 10;
    uint32_t max_credits_per_call = 5000;  // worker credits in one Lease
    // A lease reply stops taking assignments once it holds this many bytes (a row is at most
    // 64 KiB, so a reply stays far below gRPC's 64 MiB limit); the rest is for the next call.
    size_t max_lease_reply_bytes = 1 << 20;
    // Fair share: a centre that asked for work and got less than it asked, within this window,
    // is contending; while one is, a job leases to each centre in proportion to its weight
    // (Centre.share_weight). With nobody short of work, everyone gets what they ask.
    int64_t fair_share_window_ms = 60'000;
    // A write that fails (the disk is full, say) leaves memory ahead of disk: every later call
    // fails with it, and only a restart recovers, from what is durable. The failure is logged
    // (event=disk_write_failed); then this is called, once. The dispatcher's main exits so its
    // supervisor restarts it once space returns. Called too when a call failed after changing
    // memory (Diverged, event=state_diverged).
    std::function<void(const absl::Status&)> on_write_failure;
  };

  // Opens (or creates) the state in `data_dir`, recovers jobs and tasks, and re-arms a fresh
  // lease timer for every live lease (agents could not heartbeat while the dispatcher was down).
  // `clock` must outlive the engine.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Engine>> Open(const std::string& data_dir,
                                                                    const Clock* clock,
                                                                    const Options& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // ---- Operators -------------------------------------------------------------------------

  // Registers a centre and returns its credential. ALREADY_EXISTS when the id is taken (unless
  // the same idempotency key and body are replayed, which return the stored reply).
  [[nodiscard]] absl::StatusOr<v1::AddCentreReply> AddCentre(const v1::AddCentreRequest& request);
  // A new credential for the centre; the old one is refused from now on. NOT_FOUND for an
  // unknown centre.
  [[nodiscard]] absl::StatusOr<v1::AddCentreReply> RotateCentreCredential(
      const v1::RotateCentreCredentialRequest& request);
  std::vector<v1::Centre> ListCentres() const;

  // The platform's people (staff.h). `by` is the account deciding, for the record. A new
  // credential is in the reply of the call that made it only (a replay's is empty).
  // ALREADY_EXISTS for a name taken (unless replayed), INVALID_ARGUMENT for a bad name or role.
  [[nodiscard]] absl::StatusOr<v1::StaffCredential> AddStaff(const v1::AddStaffRequest& request,
                                                             const std::string& by);
  [[nodiscard]] absl::StatusOr<v1::StaffCredential> RotateStaffCredential(
      const v1::StaffRequest& request, const std::string& by);
  [[nodiscard]] absl::StatusOr<v1::StaffAccount> RevokeStaff(const v1::StaffRequest& request,
                                                             const std::string& by);
  std::vector<v1::StaffAccount> ListStaff() const;
  // The account a credential belongs to; UNAUTHENTICATED otherwise (revoked ones too).
  [[nodiscard]] absl::StatusOr<v1::StaffAccount> AuthenticateStaff(
      const std::string& credential) const;

  // Starts a contract submission. INVALID_ARGUMENT lists every contract error. The returned
  // Submission takes the inputs' chunks; nothing is visible until Submission::Finish.
  [[nodiscard]] absl::StatusOr<std::unique_ptr<Submission>> BeginSubmission(
      const v1::ContractHeader& header);

  // Which of `sha256s` (lower-case hex) the dispatcher has no media file for, in their order.
  // INVALID_ARGUMENT for more than 1000 or one that is not a SHA-256.
  [[nodiscard]] absl::StatusOr<std::vector<std::string>> MissingMedia(
      const std::vector<std::string>& sha256s) const;
  // Calls `emit` with the bytes of media file `sha256` from `offset` to its end, in pieces of at
  // most keys::kMediaChunkBytes, the last flagged (a file of `offset` bytes: one empty piece);
  // stops early when `emit` returns false. PERMISSION_DENIED unless `token` is the one a lease
  // to `centre` gave for the file (MediaToken); NOT_FOUND for a file not kept; OUT_OF_RANGE for
  // an offset past its end.
  [[nodiscard]] absl::Status ReadMedia(
      const std::string& centre, const std::string& sha256, const std::string& token,
      uint64_t offset, const std::function<bool(absl::string_view, bool)>& emit) const;
  // The token a lease to `centre` carries for media file `sha256` (Media.fetch_token).
  std::string MediaToken(absl::string_view centre, absl::string_view sha256) const;
  // The caps on media files (Options::media).
  const MediaCaps& media_caps() const { return options_.media; }

  [[nodiscard]] absl::StatusOr<v1::Job> GetJob(const std::string& job_id) const;
  std::vector<v1::Job> ListJobs() const;
  // Blocks until job `job_id` changes after `version` (0 = now) or `timeout` passes; returns
  // the job and its version. NOT_FOUND for an unknown job.
  [[nodiscard]] absl::StatusOr<std::pair<v1::Job, uint64_t>> WaitForJob(
      const std::string& job_id, uint64_t version, absl::Duration timeout) const;
  // Streams the job's merged results in input order; stops early when `sink` returns false.
  // Both exports first wait until every change made before the call is durable, so they hold
  // at least what GetJob and WatchJob had reported.
  // `sink` may keep the row it is given (move from it).
  [[nodiscard]] absl::Status ExportResults(
      const std::string& job_id, const std::function<bool(v1::ResultRecord&&)>& sink) const;
  // Streams every recorded answer of the job (AnswerRow), in task order then worker; stops early
  // when `sink` returns false. NOT_FOUND for an unknown job.
  [[nodiscard]] absl::Status ExportAnswers(const std::string& job_id,
                                           const std::function<bool(v1::AnswerRow&&)>& sink) const;

  // The review queue, oldest first; `job_id` empty for every job.
  [[nodiscard]] absl::StatusOr<std::vector<v1::Review>> ListReviews(const std::string& job_id,
                                                                    bool include_decided) const;
  // A person decides a review: the output takes their label and they are paid the stage's
  // piece rate for the review. PERMISSION_DENIED when the reviewer answered the task;
  // FAILED_PRECONDITION when it was decided already; INVALID_ARGUMENT for a label the stage's
  // answer schema does not allow.
  // `centre_id` non-empty: a centre's manager decides, through CentreService. The reviewer must
  // then be one of that centre's people ("<centre_id>/<pseudonym>" or just "<pseudonym>", else
  // PERMISSION_DENIED) and
  // the stage one the centre may work on (else NOT_FOUND, as if the review were not there).
  // `recorded_by` names who was signed in ("staff:<name>" or "centre:<id>"), kept with it; a
  // centre's call may add the manager signed in at its agent (request.manager(), the centre's
  // word): "centre:<id>/manager:<name>". An operator's call naming one is INVALID_ARGUMENT.
  [[nodiscard]] absl::StatusOr<v1::Review> DecideReview(const v1::DecideReviewRequest& request,
                                                        const std::string& centre_id = "",
                                                        const std::string& recorded_by = "");
  // The open reviews a centre may decide: those of stages the centre is eligible for, oldest
  // first, with each (job, stage)'s spec once, so the centre's page can show the answer form.
  [[nodiscard]] absl::StatusOr<v1::ListReviewsReply> ListReviewsForCentre(
      const std::string& centre_id) const;

  // ---- Withholding: a person's decision, with a published reason, open to dispute ----------

  // Withholds the wage of one of `centre_id`'s contributions: a still-pending wage is voided, a
  // posted one is taken back by a new transfer. INVALID_ARGUMENT without a published reason, a
  // note or the deciding person; NOT_FOUND for a contribution this centre did not make;
  // ALREADY_EXISTS when it was withheld already; FAILED_PRECONDITION when the worker's account
  // no longer holds the amount (paid out).
  [[nodiscard]] absl::StatusOr<v1::Withholding> WithholdWage(const std::string& centre_id,
                                                             const v1::WithholdWageRequest& r);
  [[nodiscard]] absl::StatusOr<v1::Withholding> DisputeWithholding(
      const std::string& centre_id, const v1::DisputeWithholdingRequest& r);
  // PERMISSION_DENIED when the person who withheld the wage tries to decide the dispute.
  [[nodiscard]] absl::StatusOr<v1::Withholding> ResolveDispute(const std::string& centre_id,
                                                               const v1::ResolveDisputeRequest& r);
  [[nodiscard]] absl::StatusOr<std::vector<v1::Withholding>> ListWithholdings(
      const std::string& centre_id) const;

  // ---- Centres ---------------------------------------------------------------------------

  // The centre a credential belongs to; UNAUTHENTICATED otherwise.
  [[nodiscard]] absl::StatusOr<std::string> AuthenticateCentre(const std::string& credential) const;
  [[nodiscard]] absl::StatusOr<v1::RegisterReply> Register(const std::string& centre_id,
                                                           const v1::RegisterRequest& request);
  [[nodiscard]] absl::StatusOr<v1::LeaseReply> Lease(const std::string& centre_id,
                                                     const v1::LeaseRequest& request);
  [[nodiscard]] absl::StatusOr<v1::HeartbeatReply> Heartbeat(const std::string& centre_id,
                                                             const v1::HeartbeatRequest& request);
  [[nodiscard]] absl::StatusOr<v1::SubmitResultsReply> SubmitResults(
      const std::string& centre_id, const v1::SubmitResultsRequest& request);

  // A manager moves a leased, unanswered assignment to another of the centre's workers on duty
  // (see CentreService.Reassign). NOT_FOUND when the task is not open; FAILED_PRECONDITION when
  // the assignment is not leased to this centre now, or the new worker is off duty, has had
  // the task, does not qualify for the stage or holds the most assignments allowed.
  [[nodiscard]] absl::StatusOr<v1::ReassignReply> Reassign(const std::string& centre_id,
                                                           const v1::ReassignRequest& request);

  // ---- Ledger ----------------------------------------------------------------------------

  // Adds `amount_minor` to the job's escrow from its client. A job that was waiting on its
  // budget resumes. NOT_FOUND for an unknown job; INVALID_ARGUMENT for a non-positive amount.
  [[nodiscard]] absl::StatusOr<v1::Job> FundJob(const v1::FundJobRequest& request);
  // Pauses, resumes or cancels a job. Resuming a job that waits on its budget needs funding
  // first (FAILED_PRECONDITION); a completed, cancelled or expired job takes no action.
  [[nodiscard]] absl::StatusOr<v1::Job> ControlJob(const v1::ControlJobRequest& request);
  // Tops up every worker of the centre whose pay this period fell below the centre's floor on
  // their measured time (from the job's escrow), then lists what each worker is owed.
  [[nodiscard]] absl::StatusOr<v1::PayoutBatch> CreatePayout(const v1::CreatePayoutRequest& r);
  // Moves each line to the centre's payout clearing account. FAILED_PRECONDITION when approved
  // already or when a worker's balance no longer covers their line; INVALID_ARGUMENT without
  // the approving person.
  [[nodiscard]] absl::StatusOr<v1::PayoutBatch> ApprovePayout(const v1::ApprovePayoutRequest& r);
  [[nodiscard]] absl::StatusOr<v1::PayoutBatch> GetPayout(const std::string& batch_id) const;
  // One of `centre`'s payout batches (PERMISSION_DENIED for another centre's).
  [[nodiscard]] absl::StatusOr<v1::PayoutBatch> GetCentrePayout(const std::string& centre,
                                                                const std::string& batch_id) const;
  // The payment rail's result for lines of `centre`'s approved batch: each line PAID (with what
  // was paid, 1 to its amount) or FAILED, once; what was not paid is returned to the worker's
  // balance (CODE_PAYOUT_RETURNED, "payout-returned:<batch>:<account>"). INVALID_ARGUMENT for a
  // bad line, NOT_FOUND for an account not in the batch, FAILED_PRECONDITION for a batch not
  // approved or a line settled otherwise before; nothing changes then.
  [[nodiscard]] absl::StatusOr<v1::PayoutBatch> SettlePayout(const std::string& centre,
                                                             const v1::SettlePayoutRequest& r);
  // Every worker's held time on a job (reported beyond what could be credited), with what a
  // person may still release and what was released, for `centre` (empty: every centre).
  [[nodiscard]] absl::StatusOr<v1::ListHeldTimeReply> ListHeldTime(const std::string& centre) const;
  // A person credits held time (WorkerBook::ReleaseHeld); the next payout tops it up to the
  // floor. INVALID_ARGUMENT without seconds, the person or a reason; NOT_FOUND for a worker with
  // no work on the job; FAILED_PRECONDITION beyond what may be released.
  [[nodiscard]] absl::StatusOr<v1::HeldTime> ReleaseHeldTime(const v1::ReleaseHeldTimeRequest& r);
  // Aggregated per centre; a centre with fewer than five workers is marked suppressed and its
  // figures left out.
  [[nodiscard]] absl::StatusOr<v1::ImpactReport> ImpactReport(const std::string& job_id) const;

  // A statement of worker accounts. `centre_scope`, when set, restricts it to that centre's
  // workers (PERMISSION_DENIED when the request names another centre).
  [[nodiscard]] absl::StatusOr<v1::Statement> GetStatement(const v1::StatementRequest& request,
                                                           const std::string& centre_scope) const;
  // The facts of a work record for `worker` of `centre` (WorkerBook::Facts). NOT_FOUND for a
  // worker with no work recorded.
  [[nodiscard]] absl::StatusOr<record::WorkFacts> WorkFacts(const std::string& centre,
                                                            const std::string& worker) const;
  // The engine's clock (injected: tests run on fake time).
  const Clock* clock() const { return clock_; }

  // The workers' voice (VoiceBoard): what `centre` shares, durable before the reply; what the
  // operator reads; an operator's answer to an escalated complaint, signed by `by`.
  [[nodiscard]] absl::StatusOr<v1::ShareVoiceReply> ShareVoice(const std::string& centre,
                                                               const v1::ShareVoiceRequest& r);
  v1::VoiceReport GetVoice(const v1::GetVoiceRequest& r) const;
  [[nodiscard]] absl::StatusOr<v1::Complaint> AnswerComplaint(const v1::AnswerComplaintRequest& r,
                                                              const std::string& by);
  // Every account, then every transfer in log order, then a TimeBound per worker and job with
  // paid work (what the wage floor allows for the time their leases were held, for the audit's
  // plausibility check), from one snapshot.
  [[nodiscard]] absl::Status ReadLedger(
      const std::function<bool(const v1::LedgerRecord&)>& sink) const;
  // Feeds everything ReadLedger streams to `auditor` and finishes it: what `mw ledger verify`
  // does over gRPC. Returns the first violation.
  [[nodiscard]] absl::Status AuditLedger(ledger::Auditor* auditor) const;

  // ---- Operations ------------------------------------------------------------------------

  // Writes a consistent online checkpoint to `dir` (which must not exist) while serving, then
  // audits the copy. FAILED_PRECONDITION when `dir` exists; DATA_LOSS when the copy does not
  // verify.
  [[nodiscard]] absl::StatusOr<v1::BackupReply> Backup(const std::string& dir);

  // Dead-lettered tasks, by task id; `job_id` empty for every job.
  std::vector<v1::DeadTask> ListDeadTasks(const std::string& job_id) const;
  // Puts a dead task back: open again, its failed attempts forgotten. FAILED_PRECONDITION when
  // the task is not dead; NOT_FOUND when there is no such task.
  [[nodiscard]] absl::StatusOr<v1::DeadTask> RedriveTask(const v1::RedriveTaskRequest& request);
  // A person promotes a worker on a job past its paid training (WorkerBook::Promote).
  // INVALID_ARGUMENT without the person or a reason, or for a malformed worker account;
  // NOT_FOUND for an unknown job or centre; FAILED_PRECONDITION when promoted already.
  [[nodiscard]] absl::StatusOr<v1::PromoteWorkerReply> PromoteWorker(
      const v1::PromoteWorkerRequest& request);

  // ---- Time ------------------------------------------------------------------------------

  // Expires every lease whose time has passed and returns how many; their slots go back to
  // the pool. The binary calls this from a timer thread; tests call it after moving a FakeClock.
  [[nodiscard]] absl::StatusOr<int> ExpireLeases();
  // When the next lease expires (ms since epoch), or nullopt when none is live.
  std::optional<int64_t> NextExpiry() const;

  EngineStats Stats() const;
  storage::Store* store() { return store_.get(); }
  // Whether Diverged was called: this engine takes no more writes.
  bool diverged() const { return diverged_.load(); }
  // Tests pause it to see what happens while the disk lags.
  storage::CommitQueue* commit_queue() { return queue_.get(); }

 private:
  // JobIntake, for the Submissions BeginSubmission starts (job_intake.cc).
  absl::Status StageItems(storage::Batch batch) override;
  void DropStaged(const std::string& job_id) override;
  std::vector<v1::Centre> Centres() const override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<v1::SubmitContractReply> CreateJob(NewJob job) override ABSL_LOCKS_EXCLUDED(mu_);
  // MediaShelf (job_intake.cc): kMedia, by hash.
  absl::StatusOr<std::optional<v1::Media>> FindMedia(const std::string& sha256) const override;
  absl::Status StoreMedia(const v1::Media& media, absl::string_view bytes) override;

  Engine(std::unique_ptr<storage::Store> store, const Clock* clock, const Options& options);
  absl::Status Recover();
  // RESOURCE_EXHAUSTED, naming `what` and when to retry, while more than `limit` bytes wait
  // for the disk; UNAVAILABLE for good once memory went ahead of the disk (Diverged).
  absl::Status Admit(uint64_t limit, absl::string_view what) const;
  // A call failed after it may have changed memory: nothing of it was written, so memory may be
  // ahead of the disk (a credit, a slot, a count). Logged (event=state_diverged); from now on
  // every write is refused and on_write_failure is called, so the process restarts from what is
  // durable, as after a failed write.
  void Diverged(const absl::Status& why);
  // Whether records were noted for Commit to write (a job's progress, tasks, workers' records,
  // transfers applied): the running call changed memory.
  bool HasNoted() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A call that noted records failed, and its batch is dropped: what it noted is forgotten
  // (no later Commit writes part of a refused call) and the engine has diverged.
  void Abandon(const absl::Status& why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status RecoverJob(const std::string& job_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // ReadLedger's TimeBounds, from the contributions in `snapshot` (payouts.cc). DATA_LOSS for a
  // record that does not parse.
  absl::StatusOr<std::vector<v1::TimeBound>> TimeBounds(const storage::Snapshot& snapshot) const
      ABSL_LOCKS_EXCLUDED(mu_);
  v1::Job JobView(const JobRun& run) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sets the credential derived from `derived_from` on `reply` while it is the centre's
  // current one (not after a rotation).
  void ShowCredential(const std::string& centre_id, const std::string& derived_from,
                      v1::AddCentreReply* reply) const ABSL_LOCKS_EXCLUDED(mu_);
  void Touch(JobRun* run) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // One idempotent change. Under the lock: replays the stored reply when (principal, key) was
  // seen with the same request (ALREADY_EXISTS with another), else calls change(&batch, &reply)
  // and, when it succeeds, stores the reply in the same batch and commits it. Returns once
  // everything the reply depends on is durable. `change` runs with mu_ held and must leave
  // memory untouched when it fails.
  template <typename Reply, typename Change>
  absl::StatusOr<Reply> Idempotent(const std::string& principal, const std::string& key,
                                   const google::protobuf::Message& request, Change change) {
    if (key.empty()) return absl::InvalidArgumentError("idempotency_key: required");
    const std::string hash = Sha256(DeterministicBytes(request));
    Reply reply;
    uint64_t ticket;
    std::string pending;
    {
      absl::MutexLock l(&mu_);
      absl::StatusOr<bool> replayed = idempotency_->Replay(principal, key, hash, &reply);
      if (!replayed.ok()) return replayed.status();
      if (*replayed) {
        ticket = queue_->LastTicket();
      } else {
        storage::Batch batch;
        if (absl::Status s = change(&batch, &reply); !s.ok()) {
          if (HasNoted()) Abandon(s);  // it changed memory after all
          return s;
        }
        pending = idempotency_->Remember(principal, key, hash, reply, clock_->NowMs(), &batch);
        ticket = Commit(std::move(batch));
      }
    }
    if (absl::Status s = queue_->WaitDurable(ticket); !s.ok()) return s;
    if (!pending.empty()) Forget({std::move(pending)});
    return reply;
  }
  // After a reply is durable, its entry can be read from the store and leaves memory (the next
  // call that makes a record drops it: IdempotencyTable::ForgetLater). Takes no engine lock.
  void Forget(std::vector<std::string> pending_keys) ABSL_LOCKS_EXCLUDED(mu_);
  // Enqueues `batch`, then (outside the lock) waits for it to be durable.
  uint64_t Commit(storage::Batch batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Leasing.
  // Gives `worker` of `centre_id` a new leased slot on `task` (the next fencing epoch), notes
  // the task for Commit to write and arms its timer; the caller counts the lease.
  v1::SlotRecord* AddSlot(TaskRun* task, const std::string& centre_id, const std::string& worker,
                          int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // What the agent gets for `slot` of `task`: the assignment, with the pay in the centre's
  // currency, and the stage's spec.
  absl::Status FillAssignment(const JobRun& run, const TaskRun& task, const v1::SlotRecord& slot,
                              v1::Assignment* a) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FillSpec(const JobRun& run, const StageRun& stage, v1::StageSpec* spec) const;
  // Where an item is in a job's flow, replayed from the verdicts stored for it (ReplayFlow).
  absl::StatusOr<FlowReplay> ReplayItem(const std::string& job_id,
                                        const std::vector<StageRun>& flow, const v1::Item& item,
                                        const storage::Snapshot* snapshot = nullptr) const;
  // The exported row of a finished item (nullopt while it is not finished). With `ended` (the
  // job stopped early: "cancelled" or "deadline passed") a client's item it left unfinished has
  // a row too: the verdicts it got, status "<ended> before <stage>".
  absl::StatusOr<std::optional<v1::ResultRecord>> ExportedRow(const std::string& job_id,
                                                              const std::vector<StageRun>& flow,
                                                              uint64_t item_index,
                                                              const storage::Snapshot* snapshot,
                                                              const std::string& ended = "") const;
  // The exported row of `path`, item `item_index`, with its pieces' rows nested (ExportedRow),
  // made in `row` (empty); false when the item is not listed. Consumes `path`'s verdicts (moved
  // into the row, not copied: an export makes millions).
  static bool RowOf(const std::string& job_id, const std::vector<StageRun>& flow, FlowReplay& path,
                    uint64_t item_index, const std::string& ended, v1::ResultRecord* row);
  // ExpireLeases' work: stops the jobs past their deadline and expires the leases due at `now`
  // into `batch`, counting them in `expired`. An error may come after memory changed (the due
  // timers are taken first).
  absl::Status ExpireDue(int64_t now, storage::Batch* batch, int* expired)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // PERMISSION_DENIED when `assignment_id` names a slot another centre holds; OK otherwise
  // (unknown or malformed ids are for the caller to handle).
  absl::Status CheckOwnership(const std::string& centre_id, const std::string& assignment_id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock* const clock_;
  const Options options_;
  std::atomic<bool> diverged_{false};
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<storage::CommitQueue> queue_;

  mutable absl::Mutex mu_;
  mutable absl::CondVar changed_;
  std::unique_ptr<ledger::Ledger> ledger_ ABSL_GUARDED_BY(mu_);
  // Where each committed batch's transfers end in the ledger (Commit): once the batch's ticket
  // is durable, the ledger is told they are written and lets them go (Ledger::Written).
  struct LedgerMark {
    uint64_t ticket;
    uint64_t seq;
  };
  std::deque<LedgerMark> ledger_marks_ ABSL_GUARDED_BY(mu_);
  uint64_t ledger_marked_ ABSL_GUARDED_BY(mu_) = 0;      // the last mark's seq
  std::unique_ptr<Paymaster> pay_ ABSL_GUARDED_BY(mu_);  // over ledger_ and centres_
  // The key of media fetch tokens (kMeta "media_key", made at the first start); set in Recover.
  std::string media_key_;
  CentreDirectory centres_ ABSL_GUARDED_BY(mu_);
  StaffDirectory staff_ ABSL_GUARDED_BY(mu_);
  VoiceBoard voice_ ABSL_GUARDED_BY(mu_);        // the workers' ratings, flags and complaints
  JobCatalogue catalogue_ ABSL_GUARDED_BY(mu_);  // jobs, by number, and their open tasks
  std::unique_ptr<Scheduler> scheduler_ ABSL_GUARDED_BY(mu_);  // over catalogue_ and the rest
  // A worker's answer (the wire's Result) is a Contribution; the decided answer of a task its
  // Verdict (verdicts.h).
  std::unique_ptr<ContributionRecorder> contributions_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<JobLifecycle> lifecycle_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<VerdictRecorder> verdicts_ ABSL_GUARDED_BY(mu_);
  WorkerBook workers_ ABSL_GUARDED_BY(mu_);  // every worker's record, over all jobs and per job
  uint64_t next_payout_ ABSL_GUARDED_BY(mu_) = 1;
  LeaseTable leases_ ABSL_GUARDED_BY(mu_);  // timers and what each centre and worker holds
  std::unique_ptr<IdempotencyTable> idempotency_ ABSL_GUARDED_BY(mu_);
  EngineStats stats_ ABSL_GUARDED_BY(mu_);

  // The few methods of these that are thread-safe, reached without the engine's lock (so that a
  // call does not wait behind other calls' work to be identified, or after its sync to forget):
  // the directories' Authenticate and CurrentCredential, whose credentials have a lock of their
  // own; the table's ForgetLater. Each lives as long as the engine. Nothing else through these.
  const StaffDirectory& UnlockedStaff() const ABSL_NO_THREAD_SAFETY_ANALYSIS { return staff_; }
  const CentreDirectory& UnlockedCentres() const ABSL_NO_THREAD_SAFETY_ANALYSIS { return centres_; }
  IdempotencyTable& UnlockedIdempotency() ABSL_NO_THREAD_SAFETY_ANALYSIS { return *idempotency_; }
};

// Installs the backup in `from` as `data_dir`/db for a new dispatcher (which must not be
// running there) and audits it; the reply's totals are the restored ledger's. NOT_FOUND without
// a backup; FAILED_PRECONDITION when `data_dir`/db exists; DATA_LOSS when the copy does not
// verify.
[[nodiscard]] absl::StatusOr<v1::BackupReply> RestoreBackup(const std::string& from,
                                                            const std::string& data_dir);

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_ENGINE_H_
