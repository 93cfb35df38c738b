// The dispatcher's in-memory picture of a running job and its open tasks: what the engine and
// its collaborators (scheduler, payroll, verdicts) share. Rebuilt from the store at start-up
// (Engine::Recover); every field that must survive a restart is also in a record.
#ifndef MW_ENGINE_DISPATCH_JOB_RUN_H_
#define MW_ENGINE_DISPATCH_JOB_RUN_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "engine/dispatch/flow.h"
#include "engine/dispatch/payroll.h"
#include "engine/dispatch/verdicts.h"
#include "microwork/v1/records.pb.h"

namespace mw::dispatch {

// A job in one of these states never leases again: completed, cancelled, or past its deadline.
inline bool IsFinal(microwork::v1::JobState s) {
  return s == microwork::v1::JOB_COMPLETED || s == microwork::v1::JOB_CANCELLED ||
         s == microwork::v1::JOB_DEADLINE_PASSED;
}

// Stopped before completion (cancelled, or past its deadline): answers still arriving are paid at
// once, and money nobody can still earn goes back to the client.
inline bool EndedEarly(microwork::v1::JobState s) {
  return s == microwork::v1::JOB_CANCELLED || s == microwork::v1::JOB_DEADLINE_PASSED;
}

// One step of a job's flow (flow.h): a human or verify stage, or a round of an iteration.
using StageRun = Step;

// A job that is not completed: its record and progress, its flow, and the queues the scheduler
// takes tasks from.
struct JobRun {
  microwork::v1::JobRecord record;
  microwork::v1::JobProgressRecord progress;
  std::vector<StageRun> chain;  // the job's flow: the steps items go through, in order
  // Per chain position: how its answers become a verdict (its stage's QA policy).
  std::vector<std::shared_ptr<const Aggregation>> aggregations;
  int split_stage = -1;
  int merge_stage = -1;
  uint64_t version = 1;     // bumps on every visible change (WatchJob)
  int64_t deadline_ms = 0;  // 0: none
  // Piece rates of live leases, not yet reserved, by centre: the escrow keeps them with their
  // fee and shares (Paymaster::Exposure).
  std::map<std::string, int64_t> live_wages;
  // Leases out when the job ended, by assignment id: no longer counted against any centre or
  // worker, their wage kept in escrow (in live_wages) for an answer still coming until
  // `until_ms`, then refunded (JobLifecycle::StopExpired).
  struct Settling {
    std::string centre;
    int64_t rate = 0;
    int64_t until_ms = 0;
  };
  std::map<std::string, Settling> settling;
  // Per chain position: keys of tasks that may have a free slot, oldest first. Entries that
  // went full or done are dropped lazily when met.
  std::vector<std::deque<std::string>> open;
  std::vector<uint64_t> leased;  // live leases per chain position
  // Where each opened, unfinished item stands in the stage graph (flow.h). An item opened before
  // start-up is missing until a verdict of it is made, which replays it from the store.
  // Node-based: a parent's flight stays put while its pieces' flights are added.
  absl::node_hash_map<uint64_t, ItemFlight> flight;
  // Gold (check) tasks per chain position, and when the next one is due.
  std::vector<std::vector<std::string>> gold;
  std::vector<uint64_t> since_gold;  // regular assignments since the last gold one
  std::vector<size_t> gold_cursor;   // round robin over `gold`
  // Assignments leased per centre since start-up, for the fair-share rule, and until when a
  // centre found nothing here its workers may do (it is then not waited for: a task none of
  // its workers may take must not be held back for it).
  absl::flat_hash_map<std::string, uint64_t> granted;
  absl::flat_hash_map<std::string, int64_t> nothing_for;
  // The contract's agreed exchange rates, by the currency they convert into.
  std::map<std::string, FxRate> rates;
};

// A counted contribution to an open task, as aggregation sees it.
struct CountedContribution {
  std::string worker;
  std::string label;  // AnswerLabel: what aggregation compares
  std::string text;   // a text answer as written (the verdict keeps these words)
};

// An open (or dead-lettered) task: its record, its item as the step sees it (with the fields
// the verdicts before it set), and the answers counted so far.
struct TaskRun {
  std::string job_id;
  int chain_pos = 0;
  uint64_t item_index = 0;
  microwork::v1::TaskRecord record;
  microwork::v1::Item item;
  std::vector<CountedContribution> answers;  // counted only, in arrival order
};

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_JOB_RUN_H_
