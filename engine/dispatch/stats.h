// EngineStats: the dispatcher's counters, for metrics. The engine and its collaborators count
// into one instance under the engine's lock; Engine::Stats() copies it out.
#ifndef MW_ENGINE_DISPATCH_STATS_H_
#define MW_ENGINE_DISPATCH_STATS_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace mw::dispatch {

// Counters for metrics, read under the engine lock.
struct EngineStats {
  uint64_t jobs_running = 0;
  uint64_t tasks_open = 0;
  uint64_t leases_active = 0;
  uint64_t lease_expiries = 0;
  uint64_t contributions = 0;
  uint64_t late_results = 0;
  uint64_t quarantined_results = 0;
  uint64_t held_time_results = 0;  // results reporting more time than could be credited
  uint64_t verdicts = 0;
  uint64_t commit_groups = 0;
  uint64_t gold_answers = 0;
  uint64_t gold_correct = 0;
  uint64_t reviews_open = 0;          // results waiting for a person
  uint64_t overlap_extensions = 0;    // answers added by dynamic overlap
  uint64_t leases_without_timer = 0;  // live leases no timer will expire: must always be 0
  uint64_t lease_timers = 0;          // timers armed: one per live lease, none for one that ended
  uint64_t tasks_done = 0;            // verdicts, over every job since start-up
  uint64_t retries = 0;               // tasks offered again after an expired lease
  uint64_t dead_tasks = 0;            // tasks in the dead-letter state now
  uint64_t ledger_unwritten = 0;      // transfers the ledger holds until their batch is written
  uint64_t worker_job_records = 0;    // workers' records on jobs held in memory (WorkerBook)
  // Per centre: live leases and the age of the oldest (ms), for queue dashboards.
  std::map<std::string, std::pair<uint64_t, int64_t>> centre_queues;
  // Per currency: wages reserved (awaiting a verdict), posted (owed), paid out (to clearing).
  struct Wages {
    int64_t reserved = 0, posted = 0, paid = 0;
  };
  std::map<std::string, Wages> wages;
};

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_STATS_H_
