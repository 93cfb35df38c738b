// WorkerBook: what the dispatcher knows of each worker, by their ledger account
// ("worker:<centre>/<pseudonym>"): their record over every job (answers, skips, late answers,
// check answers, agreement with verdicts, reviews, time), and their record on each job (time
// credited and held, wages, this pay period's figures for the wage floor, training).
//
// One home for two rules: the skill estimate (the posterior mean of Beta(1, 1) updated by check
// answers and by agreement with verdicts, overall and per kind of work: a skill in a language)
// and training (a newcomer on a stage that asks for it
// gets check tasks until `training_tasks` of them are answered with at least
// `training_accuracy_percent` right, 80 when unset).
//
//   v1::WorkerStatsRecord& record = book.Record(account);
//   record.set_skipped(record.skipped() + 1);
//   book.PutRecord(account, &batch);
//
// Records are kept in memory and written through the caller's batch (kWorkerStats,
// kWorkerJobs). A worker's records on a job that ended leave memory once the store has them
// (Retire, Written, Forget) and are read from the store when asked for: what the book holds is
// the workers' records on the jobs that run, not on every job ever run (with 80 workers, a
// jemalloc heap profile of scale_bench --steady with jobs of 5,000 items put some 32 KB a job
// in them, kept for as long as the dispatcher ran). Not thread-safe: the engine calls
// it under its lock.
#ifndef MW_ENGINE_DISPATCH_WORKER_BOOK_H_
#define MW_ENGINE_DISPATCH_WORKER_BOOK_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/dispatch/payroll.h"
#include "engine/record/work_record.h"
#include "engine/storage/store.h"
#include "microwork/v1/contract.pb.h"
#include "microwork/v1/ledger.pb.h"
#include "microwork/v1/records.pb.h"

namespace mw::dispatch {

class WorkerBook {
 public:
  // Whether a job has ended (never leases again): its workers' records may leave memory.
  using EndedFn = std::function<bool(absl::string_view job_id)>;

  // Reads every record, keeping in memory those on jobs that have not `ended` (none has when
  // it is empty); the rest are read from `store`, which must outlive the book. DATA_LOSS for
  // one that does not parse.
  [[nodiscard]] absl::Status Load(const storage::Store& store, EndedFn ended = {});

  // The worker's record over every job, created empty on first use; PutRecord writes it.
  microwork::v1::WorkerStatsRecord& Record(const std::string& account);
  const microwork::v1::WorkerStatsRecord* FindRecord(const std::string& account) const;
  void PutRecord(const std::string& account, storage::Batch* batch);
  // Notes that the record (over every job, or on `job_id`) changed: WriteNoted writes it, once
  // however often it was noted. For the answers' path, where one call changes a worker's
  // records once per answer.
  void NoteRecord(const std::string& account);
  void NoteOnJob(const std::string& account, const std::string& job_id);
  // Appends the records noted since the last call to `batch`.
  // REQUIRES: called on each batch written after a Note, after the last Note into it.
  void WriteNoted(storage::Batch* batch);
  bool HasNoted() const { return !noted_records_.empty() || !noted_on_job_.empty(); }
  // Forgets what was noted, for a caller whose batch is dropped.
  void DropNoted() {
    noted_records_.clear();
    noted_on_job_.clear();
    put_.clear();  // not written: what changed stays in memory
  }

  // A copy of the worker's record on `job_id` (from the store when it left memory), or nullopt
  // when they have none. A store that cannot be read reads as none, and is logged.
  std::optional<microwork::v1::WorkerJobRecord> FindOnJob(const std::string& account,
                                                          const std::string& job_id) const;
  // Brings the worker's record on `job_id` back from the store when it left memory: an error
  // when the store cannot be read, changing nothing. Callers that change a record on a job that
  // may have ended call it first (OnJob then finds it in memory).
  [[nodiscard]] absl::Status Fetch(const std::string& account, const std::string& job_id);
  // The worker's record on `job_id`, created empty on first use (back from the store when it
  // left memory); PutOnJob writes it. Aborts when the store cannot be read (an empty record
  // would be written over the stored one): Fetch first.
  microwork::v1::WorkerJobRecord& OnJob(const std::string& account, const std::string& job_id);
  void PutOnJob(const std::string& account, const std::string& job_id, storage::Batch* batch);
  // Calls `fn` with every (account, job id, record on the job) whose account starts with
  // `account_prefix` ("" for all), in key order (account, then job id), stopping at its first
  // error; visits only those records, however many others there are (those in memory, and
  // those in the store that left it). DATA_LOSS for a malformed key or record.
  // UpdateOnJob lets `fn` change the record (the caller then puts it); those read back from the
  // store for it leave memory again as Retire's do.
  [[nodiscard]] absl::Status ForEachOnJob(
      const std::string& account_prefix,
      const std::function<absl::Status(const std::string& account, const std::string& job_id,
                                       const microwork::v1::WorkerJobRecord& record)>& fn) const;
  // `wanted` (all when empty) picks which records that left memory `fn` is to see: those it
  // would change (a payout's, those with time this period), so that the rest stay in the store.
  [[nodiscard]] absl::Status UpdateOnJob(
      const std::string& account_prefix,
      const std::function<absl::Status(const std::string& account, const std::string& job_id,
                                       microwork::v1::WorkerJobRecord& record)>& fn,
      const std::function<bool(const microwork::v1::WorkerJobRecord&)>& wanted = {});

  // ---- Records of ended jobs leave memory -------------------------------------------------
  // The records put from now on (PutOnJob, WriteNoted, UpdateOnJob) on a job that has ended
  // leave memory once the batch that holds them is durable: Written gives that batch's ticket,
  // Forget drops what is durable. Retire(job_id), as the job ends, does the same for every
  // record on it in memory (the batch being built holds the job's end; the records are in that
  // batch or an earlier one).
  void Retire(const std::string& job_id);
  // The batch holding what was put since the last Written call has `ticket` (CommitQueue's).
  void Written(uint64_t ticket);
  // Drops from memory the records of ended jobs whose last batch is durable: every ticket up to
  // `durable`. REQUIRES: no record was changed in memory since the last Written without being
  // put, and nothing is noted (the engine calls it in Commit, after WriteNoted and Written).
  void Forget(uint64_t durable);
  // Records on jobs held in memory, for tests and benchmarks.
  size_t on_job_in_memory() const { return on_job_.size(); }

  // The skill estimate over every kind of work, 0.5 for a worker with no record.
  double Skill(const std::string& account) const;
  // The skill estimate on the kinds of work `stage` is (each skill it asks for in each language;
  // Kinds): their counts pooled, under a Beta prior of weight 2 centred on the overall estimate,
  // so a worker new to a kind starts at their overall record and a record in the kind soon
  // outweighs it. 0.5 for a worker with no record.
  double Skill(const std::string& account, const microwork::v1::HumanStage& stage) const;
  // The same per kind the worker has a record in, as a statement shows them.
  std::vector<microwork::v1::SkillLine> SkillLines(const std::string& account) const;
  // What a work record says of the worker (engine/record): their record over every job, the
  // estimate per kind, the jobs they worked on and when their first and latest answers came.
  // The caller fills the centre and pseudonym. DATA_LOSS for a malformed worker-job key.
  absl::StatusOr<record::WorkFacts> Facts(const std::string& account) const;
  // The (skill, language) pairs `stage` is: each skill it asks for in each language, "" standing
  // for none asked.
  static std::vector<std::pair<std::string, std::string>> Kinds(
      const microwork::v1::HumanStage& stage);

  // Counts a check answer, or an answer's agreement with its verdict, on `stage` into the
  // worker's record overall and per kind (the caller puts the record).
  void CountCheck(const std::string& account, const microwork::v1::HumanStage& stage, bool correct);
  void CountVerdict(const std::string& account, const microwork::v1::HumanStage& stage,
                    bool agreed);

  // Credits an answer's wage and time (payroll's CreditTime) to the worker's record on the job
  // (Fetch it first), this period's figures included. Its window joins the union of the worker's
  // windows on the job (WindowUnion), and the time credited on the job never passes that union:
  // what would is held. Returns the time as credited.
  TimeCredit CreditWork(const std::string& account, const std::string& job_id, int64_t wage,
                        TimeCredit time);
  // Held time a person may still credit on a record: what is held, up to the time the leases of
  // its credited answers were held (window_seconds) less what is credited already.
  static uint64_t Releasable(const microwork::v1::WorkerJobRecord& record);
  // Credits `release.seconds()` of the worker's held time on `job_id` to this period, so the
  // next payout tops it up to the floor, and keeps the decision on the record (the caller puts
  // it). NOT_FOUND without a record; FAILED_PRECONDITION, changing nothing, beyond Releasable.
  [[nodiscard]] absl::Status ReleaseHeld(const std::string& account, const std::string& job_id,
                                         const microwork::v1::TimeRelease& release);
  // A person promotes the worker on `job_id` (Promoted from then on), the decision kept on the
  // record (the caller puts it). FAILED_PRECONDITION, changing nothing, when promoted already.
  [[nodiscard]] absl::Status Promote(const std::string& account, const std::string& job_id,
                                     const microwork::v1::PersonDecision& decision);
  // Whether the worker passed training on `job_id`; PromotedByPerson: by a person's decision.
  bool Promoted(const std::string& account, const std::string& job_id) const;
  bool PromotedByPerson(const std::string& account, const std::string& job_id) const;
  // Whether the worker passed training on any job: this dispatcher's own record, against which a
  // centre's word that a worker is trained is checked.
  bool PassedTrainingOnAnyJob(const std::string& account) const;
  // Whether training the worker passed (on any job) was on stages that asked for every skill and
  // language `stage` asks for: the record against which a centre's word that the worker has
  // them is checked. True for a stage that asks for none.
  bool Vouched(const std::string& account, const microwork::v1::HumanStage& stage) const;
  // Counts a trainee's check answer on `job_id` under `stage`'s QA policy; true when it is the
  // one that promotes them (Promoted from then on), which vouches for the stage's skills and
  // languages.
  bool CountTrainingAnswer(const std::string& account, const std::string& job_id, bool correct,
                           const microwork::v1::HumanStage& stage);

 private:
  absl::flat_hash_map<std::string, microwork::v1::WorkerStatsRecord> records_;  // by account
  // The record on job of `key` (keys::WorkerJob), created empty on first use: the one place
  // records are made, so that each key is in on_job_keys_ too.
  microwork::v1::WorkerJobRecord& OnJobEntry(const std::string& key);
  // The record of `key` in memory, else read back from the store (into memory, leaving again
  // as Retire's do) when its job has ended; nullptr when there is none.
  absl::StatusOr<microwork::v1::WorkerJobRecord*> Loaded(const std::string& key);
  // The record of `key` from the store, when its job has ended and it is not in memory.
  absl::StatusOr<std::optional<microwork::v1::WorkerJobRecord>> Stored(
      const std::string& key) const;
  // Stored, with an unreadable store logged and read as none (for questions, never for changes).
  std::optional<microwork::v1::WorkerJobRecord> StoredOrNone(const std::string& key) const;
  // What `says` of the worker's record on `job_id`; false when they have none.
  bool OnJobSays(const std::string& account, const std::string& job_id,
                 bool (*says)(const microwork::v1::WorkerJobRecord&)) const;
  // Whether the job of `key` (keys::WorkerJob) has ended.
  bool Ended(const std::string& key) const;
  // Notes that `key` was put (or read back) for Written.
  void NotePut(const std::string& key);

  const storage::Store* store_ = nullptr;
  EndedFn ended_;

  absl::flat_hash_map<std::string, microwork::v1::WorkerJobRecord> on_job_;  // keys::WorkerJob
  // on_job_'s keys in order: a walk of one account's or one centre's records (a statement, a
  // work record, a payout) visits those, not every worker's record on every job.
  absl::btree_set<std::string> on_job_keys_;
  absl::flat_hash_set<std::string> noted_records_;  // accounts, since the last WriteNoted
  absl::flat_hash_set<std::string> noted_on_job_;   // keys::WorkerJob, since the last WriteNoted
  // Keys of ended jobs' records put since the last Written; then, in ticket order, those
  // waiting for their batch to be durable, with the ticket of each one's last batch.
  absl::flat_hash_set<std::string> put_;
  std::deque<std::pair<uint64_t, std::string>> leaving_;
  absl::flat_hash_map<std::string, uint64_t> last_ticket_;
  absl::flat_hash_set<std::string> passed_training_;  // accounts promoted on some job
  // By account: "skill:<s>" and "language:<l>" that training passed vouched for.
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> vouched_;
};

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_WORKER_BOOK_H_
