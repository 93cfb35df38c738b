// JobCatalogue: the jobs the dispatcher runs and their open tasks, in memory, with the records
// that keep them on disk. It numbers new jobs, finds a job by id and a task by key, creates the
// task of a step for an item, and writes a task's or a job's progress into a batch. Who gets
// which task is the Scheduler's (scheduler.h); what a task's answers decide is the
// VerdictRecorder's (verdict_recorder.h).
//
//   JobCatalogue jobs(store);
//   JobRun& run = jobs.Add(1, std::move(built));
//   MW_ASSIGN_OR_RETURN(TaskRun * task, jobs.CreateTask(&run, 0, std::move(item)));
//   jobs.WriteNoted(&batch);
//
// Not thread-safe: the engine holds its lock around every call.
#ifndef MW_ENGINE_DISPATCH_JOB_CATALOGUE_H_
#define MW_ENGINE_DISPATCH_JOB_CATALOGUE_H_

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/dispatch/job_run.h"
#include "engine/storage/store.h"
#include "microwork/v1/records.pb.h"

namespace mw::dispatch {

// The number in a job id ("job-<n>"); nullopt when malformed.
std::optional<uint64_t> JobNumber(absl::string_view job_id);

// The in-memory run of a stored job: its flow, each step's aggregation, deadline and agreed
// rates, with empty queues. DATA_LOSS when the record and progress do not fit together.
absl::StatusOr<JobRun> BuildJobRun(microwork::v1::JobRecord record,
                                   microwork::v1::JobProgressRecord progress);

// Where ReplayFlow reads a job's items and verdicts: `store` as of `snapshot` (nullptr: now).
ReplaySource StoredFlow(const storage::Store* store, const std::string& job_id,
                        const storage::Snapshot* snapshot = nullptr);

// How many more workers `task` needs: 0 unless it is open.
uint32_t FreeSlots(const microwork::v1::TaskRecord& task);
// Whether `worker` had a slot of `task`, or may not take it (excluded).
bool HadOrBarred(const microwork::v1::TaskRecord& task, const std::string& worker);

class JobCatalogue {
 public:
  // `store` (read for items) must outlive the catalogue.
  explicit JobCatalogue(const storage::Store* store) : store_(store) {}
  JobCatalogue(const JobCatalogue&) = delete;
  JobCatalogue& operator=(const JobCatalogue&) = delete;

  // ---- Jobs, by number: oldest first ----------------------------------------------------

  // The number the next job gets ("job-<n>"); SetNextNumber when recovering it.
  uint64_t TakeNumber() { return next_number_++; }
  uint64_t next_number() const { return next_number_; }
  void SetNextNumber(uint64_t n) { next_number_ = n; }

  // Adds job number `n`; returns it. A number already taken keeps its job.
  JobRun& Add(uint64_t n, JobRun run) { return jobs_.emplace(n, std::move(run)).first->second; }
  // The job with id `job_id` ("job-<n>"); nullptr when there is none or the id is malformed.
  JobRun* Find(const std::string& job_id);
  const JobRun* Find(const std::string& job_id) const;
  // The human stage of `run` named `name`; nullptr when `run` is null or has none.
  static const StageRun* FindStage(const JobRun* run, const std::string& name);
  std::map<uint64_t, JobRun>& jobs() { return jobs_; }
  const std::map<uint64_t, JobRun>& jobs() const { return jobs_; }

  // ---- Open (and dead-lettered) tasks, by task key ---------------------------------------

  TaskRun* FindTask(const std::string& key);
  const TaskRun* FindTask(const std::string& key) const;
  // Adds a task rebuilt from its record (at start-up, or at submission for gold tasks).
  // INTERNAL when the key is taken.
  absl::StatusOr<TaskRun*> AddTask(std::string key, TaskRun task);
  // Creates the task of step `chain_pos` for `item` (entering the step, flow.h), notes it for
  // WriteNoted and queues it as open; `excluded` are the workers who may not take it (they
  // produced the verdict it judges). INTERNAL when the task exists already.
  absl::StatusOr<TaskRun*> CreateTask(JobRun* run, int chain_pos, microwork::v1::Item item,
                                      const std::vector<std::string>& excluded = {});
  // Opens `item` of `run`: its flight starts (flow.h) and every stage straight after the split
  // gets its task (CreateTask). Returns the task of step `pos`, one of those stages.
  absl::StatusOr<TaskRun*> OpenItem(JobRun* run, microwork::v1::Item item, int pos);
  // Opens piece `piece` (MakePiece) of `run`, cut by the stage at `cut_entry`: stores it into
  // `batch`, starts its flight and creates the tasks of the stages after the cut.
  absl::Status OpenPiece(JobRun* run, int cut_entry, microwork::v1::Item piece,
                         storage::Batch* batch);
  // Item `index` of `run` replayed from the verdicts stored for it (ReplayFlow).
  absl::StatusOr<FlowReplay> Replay(const JobRun& run, uint64_t index) const;
  // Forgets a task (done, or its job ended); its record stays on disk.
  void EraseTask(const std::string& key) { tasks_.erase(key); }
  absl::flat_hash_map<std::string, TaskRun>& tasks() { return tasks_; }
  const absl::flat_hash_map<std::string, TaskRun>& tasks() const { return tasks_; }
  // The store key of `task`.
  std::string KeyOf(const TaskRun& task) const;

  // The stored record of task `key` (one done, or of a job that ended). NOT_FOUND when there is
  // none.
  [[nodiscard]] absl::Status ReadTaskRecord(const std::string& key,
                                            microwork::v1::TaskRecord* record) const;
  // The client's item `index` of `job_id`, as staged at submission.
  absl::StatusOr<microwork::v1::Item> ReadItem(const std::string& job_id, uint64_t index) const;
  // The same, for a reader that takes a job's top-level items in order (the scheduler opening
  // the next): the items from `index` on are read with one scan, up to kItemsAheadFirst of them
  // (twice as many each time a reader goes on past the last, up to kItemsAhead) or until
  // kItemBytesAhead is passed (so at most that plus one item), and handed out from memory
  // while the reader keeps to the order. Top-level items are written once, at submission (the
  // pieces people cut are not read through here), so what is held is never stale. Windows are
  // kept for the kItemWindows jobs read most recently: memory stays bounded however many jobs
  // there are. An item after `index` that does not read ends the window; it never fails `index`.
  absl::StatusOr<microwork::v1::Item> ReadNextItem(const std::string& job_id, uint64_t index);
  // The items of `job_id` read ahead and not handed out yet (its window's), for tests.
  size_t HeldAhead(const std::string& job_id) const;

  // Write `task`'s record, or `run`'s progress, into `batch`.
  void PutTask(const TaskRun& task, storage::Batch* batch) const;
  static void PutProgress(const JobRun& run, storage::Batch* batch);
  // Notes that `run`'s progress, or the open task `key`'s record, changed: WriteNoted writes it
  // as it stands then, once however often it was noted. For the paths that change them several
  // times in one call (a lease opens a task and adds a slot; answers move the progress).
  void NoteProgress(const JobRun* run);
  void NoteTask(const std::string& key);
  // Appends what was noted since the last call to `batch`: the runs' progress, and the records
  // of the noted tasks still open (a task decided since was written, done, by its verdict).
  // REQUIRES: called on each batch written after a Note, after the last Note into it.
  void WriteNoted(storage::Batch* batch);
  bool HasNoted() const { return !noted_runs_.empty() || !noted_tasks_.empty(); }
  // Forgets what was noted, for a caller whose batch is dropped.
  void DropNoted() {
    noted_runs_.clear();
    noted_tasks_.clear();
  }

 private:
  const storage::Store* const store_;
  uint64_t next_number_ = 1;
  std::map<uint64_t, JobRun> jobs_;        // node-based: a JobRun stays where it is
  std::vector<const JobRun*> noted_runs_;  // a few: the jobs of one call
  // Keys of open tasks noted since the last WriteNoted.
  absl::flat_hash_set<std::string> noted_tasks_;
  absl::flat_hash_map<std::string, TaskRun> tasks_;
  // ReadNextItem's windows: a job's items `first`, `first` + 1, ... read ahead.
  struct ItemWindow {
    std::string job_id;
    uint64_t first = 0;
    std::deque<microwork::v1::Item> items;
    uint64_t used = 0;  // when it was last read from (a count of reads), to replace the oldest
    size_t ahead = 0;   // how many items its last scan read at most; 0: none yet
  };
  static constexpr size_t kItemWindows = 8;
  static constexpr size_t kItemsAheadFirst = 64;
  static constexpr size_t kItemsAhead = 512;
  static constexpr size_t kItemBytesAhead = 256 << 10;
  std::vector<ItemWindow> item_windows_;
  uint64_t item_reads_ = 0;
};

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_JOB_CATALOGUE_H_
