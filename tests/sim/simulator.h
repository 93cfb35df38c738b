// A deterministic simulation of the whole system in one process: the dispatcher's engine on real
// RocksDB, several centres with their workers, and a seeded network between them that drops,
// delays, duplicates and reorders messages and partitions centres, while the dispatcher and the
// centres crash and restart. Time is a FakeClock; every choice comes from one seeded generator,
// so a run is a function of its seed and a failure replays exactly from it.
//
//   mw::sim::Options options;
//   options.seed = 42;
//   mw::sim::Report report = mw::sim::Run(options);
//   if (!report.ok) std::puts(report.failure.c_str());  // names the seed
//
// After the fault window the network heals, crashed processes come back, and the run goes on
// until the job completes. Then it checks: every input row is in the output or in quarantine; every
// contribution a centre saw acknowledged is recorded, and every recorded one was acknowledged;
// each contribution is paid exactly once, at the piece rate; the ledger audits clean (hash chain,
// balances, per-job funding); and at no point did a live lease lack a timer.
#ifndef MW_TESTS_SIM_SIMULATOR_H_
#define MW_TESTS_SIM_SIMULATOR_H_

#include <cstdint>
#include <string>

namespace mw::sim {

struct Options {
  uint64_t seed = 1;
  int centres = 3;
  int workers_per_centre = 4;
  int items = 40;    // good input rows
  int bad_rows = 3;  // malformed rows mixed in: they must end in quarantine
  int overlap = 2;   // answers per task
  // Faults, during the first `fault_ms` of simulated time.
  int64_t fault_ms = 20 * 60'000;
  double drop = 0.10;       // chance a message is lost
  double duplicate = 0.05;  // chance a message arrives twice
  int64_t max_delay_ms = 4'000;
  double partitions_per_hour = 6;           // per centre: its link is cut for 30 s to 5 min
  double dispatcher_crashes_per_hour = 12;  // down for 2 s to 60 s, state reopened from RocksDB
  double centre_crashes_per_hour = 4;       // loses what is in memory; its outbox survives
  int64_t give_up_ms = 6 * 3600'000;        // the job must be complete by then
  bool trace = false;                       // print every event to stderr
  // The contract branches: two questions on every row side by side ("label", "tone"), a check
  // of the first ("check"), and a stage that waits for the check and the second ("final",
  // ALL_DONE). Besides every check above: every join started once, only after both of its
  // branches were decided, and every stage counts every item done.
  bool branches = false;
  // People cut items into pieces: beside "label", a worker cuts every row into 0 to 3 pieces
  // ("cut", one per line), each piece is labelled on its own ("part"), and a gather ("back")
  // takes them back into their row. Besides every check above: each piece was decided once and
  // gathered back once, in order, into a row that finished only after all of its pieces.
  bool pieces = false;
  // The last centre is hostile: it reports 4294967295 s on every task, names reviewers who do
  // not exist, sends oversized answers and answers for other centres' assignments, and replays
  // its acknowledged results with changed bodies. Besides every check above: none of it is
  // recorded or paid, and the floor tops it up only for time the dispatcher could credit.
  bool hostile = false;
  double attacks_per_minute = 6;
};

struct Report {
  bool ok = false;
  std::string failure;  // the first violated check, with the seed
  uint64_t digest = 0;  // over every event in order: equal seeds give equal digests
  int64_t finished_after_ms = 0;
  uint64_t messages = 0, dropped = 0, duplicated = 0;
  uint64_t dispatcher_crashes = 0, centre_crashes = 0, partitions = 0;
  uint64_t acknowledged = 0;  // contributions the centres saw acknowledged
  uint64_t late = 0;          // of those, recorded after their lease expired
  uint64_t lease_expiries = 0, redriven = 0;
  uint64_t attacks = 0;  // hostile requests sent, every one refused or quarantined
  int64_t hostile_topups_minor = 0, hostile_topup_bound_minor = 0;
  // Workers' top-ups on a job the final audit checked against the time their leases were held.
  uint64_t time_bounds_checked = 0;
  uint64_t pieces = 0;  // Options::pieces: pieces cut, decided and gathered back
};

// Runs one simulation in a fresh temporary directory.
Report Run(const Options& options);

}  // namespace mw::sim

#endif  // MW_TESTS_SIM_SIMULATOR_H_
