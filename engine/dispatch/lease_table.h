// LeaseTable: the clocks of live leases and what each centre and worker holds.
//
// A lease has three clocks (DESIGN.md): its own life, renewed by heartbeats (lease_ms); how long
// an assignment may wait unopened after it was leased (schedule-to-start); and how long it may
// take once opened (start-to-close). ExpiryFrom combines them; Arm sets a timer at a slot's
// expiry, and TakeDue hands back the timers that fired. A timer is a hint, not the truth: the
// slot's record decides (a heartbeat may have moved its expiry, an answer may have closed it).
// Each slot (task and worker) has at most one timer: arming it again moves it, and Disarm
// removes it when the lease ends otherwise, so the table holds what is live and nothing per
// lease that is over.
//
// After a lease expires, the task waits RetryDelay before it is offered again (exponential
// backoff with jitter) and is dead-lettered after max_attempts expiries.
//
//   const int64_t expires = leases.ExpiryFrom(now, slot);
//   slot.set_lease_expires_at_ms(expires);
//   leases.Arm(task_key, slot);
//   leases.Hold(centre, worker);
//   ...
//   leases.Disarm(task_key, worker);  // answered
//   leases.Release(centre, worker);
//
// Not thread-safe: the engine calls it under its lock.
#ifndef MW_ENGINE_DISPATCH_LEASE_TABLE_H_
#define MW_ENGINE_DISPATCH_LEASE_TABLE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "microwork/v1/records.pb.h"

namespace mw::dispatch {

class LeaseTable {
 public:
  struct Options {
    int64_t lease_ms = 120'000;
    int64_t schedule_to_start_ms = 0;  // 0: off
    int64_t start_to_close_ms = 0;     // 0: off
    uint32_t max_attempts = 5;
    int64_t retry_base_ms = 5'000;
    int64_t retry_max_ms = 300'000;
    uint64_t seed = 0;  // jitter seed; 0 = from the system's random source
  };
  struct Timer {
    int64_t at_ms;
    std::string task_key;
    std::string worker;
    uint64_t epoch;
  };

  explicit LeaseTable(const Options& options);

  // When `slot`'s lease ends at the latest, whatever heartbeats come: its start-to-close limit
  // once opened, else its schedule-to-start limit; INT64_MAX when that clock is off.
  int64_t Bound(const microwork::v1::SlotRecord& slot) const;
  // When a lease granted or renewed at `now` expires: one lease period on, within its Bound.
  int64_t ExpiryFrom(int64_t now, const microwork::v1::SlotRecord& slot) const;

  // Sets the timer of `task_key`'s slot of slot.worker() at its lease_expires_at_ms, for its
  // epoch: in place of the one it had, if any.
  void Arm(const std::string& task_key, const microwork::v1::SlotRecord& slot);
  // Removes the timer of `task_key`'s slot of `worker` (none: nothing happens).
  void Disarm(const std::string& task_key, const std::string& worker);
  // Timers armed now: one per live lease, at most.
  size_t armed() const { return timers_.size(); }
  // Removes and returns the timers due at `now`, earliest first.
  std::vector<Timer> TakeDue(int64_t now);
  // When the next timer fires, or nullopt when none is armed.
  std::optional<int64_t> NextExpiry() const;
  // Whether a timer of `task_key`'s slot (worker, epoch) fires no later than `expires_at_ms`:
  // the invariant every live lease keeps (checked by Stats as leases_without_timer).
  // Builds an index on each call: for scrape intervals, not the lease path.
  std::function<bool(const std::string& task_key, const microwork::v1::SlotRecord& slot)>
  CoverageCheck() const;

  // What a centre and a worker hold: a lease granted (Hold), ended (Release), or handed from
  // one worker of the centre to another (Move).
  void Hold(const std::string& centre, const std::string& worker);
  void Release(const std::string& centre, const std::string& worker);
  void Move(const std::string& centre, const std::string& from, const std::string& to);
  uint32_t HeldByCentre(const std::string& centre) const;
  uint32_t HeldBy(const std::string& centre, const std::string& worker) const;

  // How long a task waits before it is offered again after its `failures`-th expiry:
  // retry_base_ms * 2^(failures - 1), at most retry_max_ms, times a jitter in [0.5, 1.0).
  int64_t RetryDelay(uint32_t failures);
  // Whether a task that expired `failures` times is dead-lettered.
  bool Exhausted(uint32_t failures) const { return failures >= options_.max_attempts; }

 private:
  static std::string WorkerKey(const std::string& centre, const std::string& worker);
  static std::string SlotKey(const std::string& task_key, const std::string& worker);
  struct Earlier {
    bool operator()(const Timer& a, const Timer& b) const {
      if (a.at_ms != b.at_ms) return a.at_ms < b.at_ms;
      if (a.task_key != b.task_key) return a.task_key < b.task_key;
      return a.worker < b.worker;
    }
  };

  using Timers = std::set<Timer, Earlier>;

  const Options options_;
  Timers timers_;  // earliest first
  // SlotKey -> its timer, so that moving or removing one is no search of timers_ (whose order
  // compares task keys: every slot of a lease call expires at the same time).
  absl::flat_hash_map<std::string, Timers::iterator> armed_;
  absl::flat_hash_map<std::string, uint32_t> by_centre_;
  absl::flat_hash_map<std::string, uint32_t> by_worker_;  // "centre/worker"
  std::mt19937_64 jitter_;
};

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_LEASE_TABLE_H_
