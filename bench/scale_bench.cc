// scale_bench: one dispatcher's engine (in process, on RocksDB) carrying jobs of growing size:
// 10^4, 10^5, 10^6 and 10^7 items (up to --items). For each size, in a fresh store: the job is
// submitted (ingest time), the store settles (its flushes and compactions done), centres lease
// and answer for --seconds (durable completions per second: the median of three stretches,
// a job answered to the end followed by another of its size; resident memory after), in turns
// with as many stretches on a fresh store of a 10^4-item job (its median printed beside), the
// finished part of the first job is exported (rows per second), the engine is
// closed and opened again (seconds until it serves), and a second process loads it, is killed
// with SIGKILL mid-load, and the engine is opened again (seconds until it serves a lease).
//
// Then a job of --finish items through two stages (check, then tone) is answered to the end, its
// store settled (as the dispatcher that answered it would hold it seconds later), and exported
// the way an operator does it: the real mw-dispatcher serves the store and the real `mw`
// writes its results as CSV and as JSONL, and every answer as CSV (rows per second of each, the
// dispatcher's peak memory). Ends with the one line issue 26 names:
//
//   scale rss_mb_max=M rate_ratio=R export_rows_per_s=E
//
// M is the peak resident set of the whole run (this process; the serving dispatcher's is printed
// beside it), R the completion rate at the largest size over the rate at 10^4 measured in turns
// with it, E the slowest of
// the three exports of the finished job (each the median of --export-runs runs, in turns). A
// program, not a test; it takes minutes.
//
// --steady SECONDS instead runs jobs of --items items one after another at full load for that
// long, printing the resident set at the end of each minute and its mean over the minute
// (sampled each second), and ends with
//
//   steady minutes=N rss_mb_minute1=A rss_mb_max_after=B growth_pct=G half_growth_pct=H
//          mean_growth_pct=M completions=C
//
// (G: the highest end-of-minute sample after the first minute over the first; H: the median of
// the later half of those samples after the first over the median of the earlier half; M: the
// highest mean of a minute after the second over the second minute's mean.)
//
//   build/bin/scale_bench [--items 10000000] [--finish 1000000] [--export-runs 3] [--seconds 10]
//                         [--centres 4] [--workers 20] [--keep DIR]
//                         [--steady 0 [--minute 60] [--block-cache-mb 64] [--memtable-mb 64]
//                                     [--heap-stats DIR]]
//
// --keep DIR keeps the finished job's store in DIR and, when it is there already, exports that
// one instead of answering a new job to the end (minutes saved on a second run).
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bench/bench_support.h"
#include "engine/common/heap.h"
#include "engine/common/lock_checks.h"
#include "engine/contract/contract_file.h"
#include "engine/dispatch/engine.h"
#include "nlohmann/json.hpp"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace {

namespace v1 = microwork::v1;
using mw::bench::Seconds;
using mw::bench::SteadyClock;

constexpr uint64_t kSmallest = 10'000;  // the first size, whose rate R is over

struct Config {
  uint64_t items = 10'000'000;  // the largest size
  uint64_t finish = 1'000'000;  // the two-stage job answered to the end, then exported
  double seconds = 10;
  int export_runs = 3;  // runs of each of the finished job's exports (their median counts)
  int centres = 4;
  int workers = 20;  // per centre
  int per_worker = 25;
  double steady = 0;   // seconds of the steady run; 0: the sizes
  double minute = 60;  // seconds between the steady run's samples
  std::string dir;
  std::string load;  // the child's mode: load the store in this directory until killed
  std::string keep;  // the finished job's store: kept here, and used again when it is here
  uint64_t block_cache_mb = 64;  // the steady run's store: mw-dispatcher --block-cache-mb
  uint64_t memtable_mb = 64;     // and --memtable-mb
  int open_table_files = mw::storage::Store::Options().open_table_files;  // every store's
  std::string heap_stats;  // the steady run: jemalloc's statistics each minute, in this directory
};

struct Size {
  uint64_t items = 0;
  double ingest_s = 0;
  double settle_s = 0;        // until RocksDB had no flush or compaction running or due
  double rate = 0;            // durable completions per second
  double reference_rate = 0;  // the smallest size's, on a store of its own, in turns with `rate`
  double rss_mb = 0;
  uint64_t rows = 0;
  double export_rows_per_s = 0;
  double reopen_s = 0;
  double kill_s = 0;  // after SIGKILL under load: until a lease is served
};

std::unique_ptr<mw::dispatch::Engine> Open(const Config& c, const std::string& dir,
                                           const mw::storage::Store::Options& store = {}) {
  mw::dispatch::Engine::Options options;
  options.store = store;
  options.store.open_table_files = c.open_table_files;
  options.lease_ms = 600'000;
  options.seed = 1;
  auto engine = mw::dispatch::Engine::Open(dir, mw::SystemClock::Get(), options);
  if (!engine.ok()) {
    std::fprintf(stderr, "open: %s\n", engine.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(engine);
}

// The receipts check; with `two_stages`, a second yes/no stage ("tone") after it.
std::string Submit(mw::dispatch::Engine* engine, uint64_t items, const std::string& key,
                   bool two_stages = false) {
  v1::ContractHeader header;
  header.set_idempotency_key(key);
  header.set_wait_for_centres(true);
  const std::string tone = R"(  - name: tone
    after: [check]
    human:
      instructions: {en: "Is the receipt's wording polite?"}
      answer: {single_choice: {options: ["yes", "no"]}}
      piece_rate_minor: 2
      estimated_seconds: 10
      overlap: 1
)";
  *header.mutable_contract() =
      mw::contract::ParseContract(mw::bench::ReceiptsContract(1, two_stages ? tone : ""), "scale")
          .value();
  auto submitted = mw::bench::SubmitGeneratedCsv(
      engine, header, "rows", "receipt,total", items, [](uint64_t i, std::string* chunk) {
        absl::StrAppend(chunk, "R", i, ",", (i * 37) % 10000, "\n");
      });
  if (!submitted.ok()) {
    std::fprintf(stderr, "submission: %s\n", submitted.status().ToString().c_str());
    std::exit(1);
  }
  return submitted->job().id();
}

// Waits (up to ten minutes) until RocksDB has no flush or compaction running or due in the
// engine's store; the seconds it took.
double Settle(mw::dispatch::Engine* engine) {
  const auto start = SteadyClock::now();
  while (engine->store()->BackgroundWorkPending() && Seconds(start, SteadyClock::now()) < 600) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Seconds(start, SteadyClock::now());
}

std::vector<std::string> AddCentres(mw::dispatch::Engine* engine, const Config& c) {
  std::vector<std::string> centres;
  for (int i = 0; i < c.centres; ++i) {
    std::vector<std::string> workers;
    for (int w = 0; w < c.workers; ++w) workers.push_back(absl::StrCat("c", i, "w", w));
    centres.push_back(absl::StrCat("centre-", i));
    if (auto added = mw::bench::AddCentre(engine, centres.back(), 1'000'000, workers);
        !added.ok()) {
      std::fprintf(stderr, "%s\n", added.status().ToString().c_str());
      std::exit(1);
    }
  }
  return centres;
}

// One lease for centre `i`'s workers: what they were given, empty when nothing is left.
v1::LeaseReply LeaseOnce(mw::dispatch::Engine* engine, const Config& c, int i,
                         const std::string& key) {
  v1::LeaseRequest lease;
  lease.set_idempotency_key(key);
  for (int w = 0; w < c.workers; ++w) {
    auto* credit = lease.add_credits();
    credit->set_worker(absl::StrCat("c", i, "w", w));
    credit->set_count(c.per_worker);
  }
  auto leased = engine->Lease(absl::StrCat("centre-", i), lease);
  return leased.ok() ? *std::move(leased) : v1::LeaseReply();
}

// Whether a job still leases.
bool AnyRunning(const mw::dispatch::Engine& engine) {
  for (const v1::Job& job : engine.ListJobs()) {
    if (job.state() == v1::JOB_RUNNING) return true;
  }
  return false;
}

// Centres lease for their workers and answer everything until `until` returns true or nothing
// is left. A centre whose lease comes back empty while a job still runs (the fair-share rule
// leaving the next tasks to a centre that is behind) asks again shortly, as an agent does.
// Returns durable completions per second.
double Complete(mw::dispatch::Engine* engine, const Config& c, const std::string& tag,
                const std::function<bool()>& until) {
  const std::vector<std::string> centres = AddCentres(engine, c);
  const uint64_t done_before = engine->Stats().tasks_done;
  const auto start = SteadyClock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < c.centres; ++i) {
    threads.emplace_back([&, i] {
      for (uint64_t round = 0; !until(); ++round) {
        v1::LeaseReply leased = LeaseOnce(engine, c, i, absl::StrCat(tag, centres[i], "-", round));
        if (leased.assignments().empty()) {
          if (!AnyRunning(*engine)) return;
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          continue;
        }
        if (!engine->SubmitResults(centres[i], mw::bench::AnswerAll(leased)).ok()) return;
      }
    });
  }
  for (auto& t : threads) t.join();
  return (engine->Stats().tasks_done - done_before) / Seconds(start, SteadyClock::now());
}

std::function<bool()> For(double seconds) {
  const auto until = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                              std::chrono::duration<double>(seconds));
  return [until] { return SteadyClock::now() >= until; };
}

// The child of KilledUnderLoad: completes on the store in `dir` until killed, saying "loaded"
// once it has for two seconds.
int LoadUntilKilled(const Config& c) {
  auto engine = Open(c, c.load);
  std::atomic<bool> said{false};
  const auto loaded = SteadyClock::now() + std::chrono::seconds(2);
  Complete(engine.get(), c, "load-", [&] {
    if (!said.load() && SteadyClock::now() >= loaded && !said.exchange(true)) {
      std::printf("loaded\n");
      std::fflush(stdout);
    }
    return false;
  });
  std::printf("loaded (the job ran out)\n");
  std::fflush(stdout);
  pause();
  return 0;
}

// A second process completes on the store in `dir` and is killed with SIGKILL mid-load; then
// the seconds until the engine, opened again, has served a lease.
double KilledUnderLoad(const Config& c, const std::string& dir, const std::string& self) {
  mw::testing::Subprocess child(
      {self, "--load", dir, "--centres", std::to_string(c.centres), "--workers",
       std::to_string(c.workers), "--open-table-files", std::to_string(c.open_table_files)},
      dir + ".load.log");
  if (child.ReadLineContaining("loaded").empty()) {
    std::fprintf(stderr, "the loading process ended early: see %s.load.log\n", dir.c_str());
    std::exit(1);
  }
  child.Signal(SIGKILL);
  child.Wait();
  const auto start = SteadyClock::now();
  auto engine = Open(c, dir);
  LeaseOnce(engine.get(), c, 0, "after-kill");
  return Seconds(start, SteadyClock::now());
}

// One stretch of `seconds` of completions on `engine`, whose jobs are of `items` items: a job
// answered to the end within it is followed by another of its size (`next_job` counts them), so
// every size is measured over the same time, its flushes and compactions included (a 10^4-item
// job alone is answered in half a second, all of it in the memtable). Durable completions per
// second.
double Stretch(mw::dispatch::Engine* engine, const Config& c, uint64_t items, double seconds,
               const std::string& tag, int* next_job) {
  const uint64_t done = engine->Stats().tasks_done;
  const auto start = SteadyClock::now();
  const auto until = For(seconds);
  while (!until()) {
    if (!AnyRunning(*engine)) Submit(engine, items, absl::StrCat("scale-job-", ++*next_job));
    Complete(engine, c, absl::StrCat(tag, "-", *next_job, "-"), until);
  }
  return (engine->Stats().tasks_done - done) / Seconds(start, SteadyClock::now());
}

Size Run(const Config& c, uint64_t items, const std::string& dir, const std::string& self) {
  Size s;
  s.items = items;
  auto engine = Open(c, dir);
  const auto ingest_start = SteadyClock::now();
  const std::string job = Submit(engine.get(), items, "scale-job");
  s.ingest_s = Seconds(ingest_start, SteadyClock::now());
  // Completions from a settled store (as dispatch_bench does): the ingest's flushes and
  // compactions are its own cost, and a job is ingested once and answered for days.
  s.settle_s = Settle(engine.get());
  // And a fresh store with a job of the smallest size, settled too, measured in turns with this
  // one (smallest, this, smallest, this...): this machine's speed drifts by a fifth within
  // minutes, and the two rates measured minutes apart, each in its own part of the run, put the
  // drift into their ratio (10^7 over 10^4: 0.767 in one run, 1.05-1.09 in three others).
  const std::string reference_dir = dir + "-reference";
  auto reference = Open(c, reference_dir);
  Submit(reference.get(), kSmallest, "scale-job");
  Settle(reference.get());
  // The median of three stretches of each: one noisy second on a shared machine moves it less.
  std::vector<double> rates, reference_rates;
  int next_job = 0, reference_next_job = 0;
  for (int stretch = 0; stretch < 3; ++stretch) {
    reference_rates.push_back(Stretch(reference.get(), c, kSmallest, c.seconds / 3,
                                      absl::StrCat("r", stretch), &reference_next_job));
    rates.push_back(
        Stretch(engine.get(), c, items, c.seconds / 3, absl::StrCat("s", stretch), &next_job));
  }
  s.rate = mw::bench::Median(rates);
  s.reference_rate = mw::bench::Median(reference_rates);
  reference.reset();
  std::filesystem::remove_all(reference_dir);
  s.rss_mb = mw::bench::RssMb();
  const auto export_start = SteadyClock::now();
  const absl::Status exported = engine->ExportResults(job, [&](const auto&) {
    ++s.rows;
    return true;
  });
  if (!exported.ok()) {
    std::fprintf(stderr, "export: %s\n", exported.ToString().c_str());
    std::exit(1);
  }
  s.export_rows_per_s = s.rows / Seconds(export_start, SteadyClock::now());
  engine.reset();
  const auto reopen_start = SteadyClock::now();
  engine = Open(c, dir);
  s.reopen_s = Seconds(reopen_start, SteadyClock::now());
  engine.reset();
  s.kill_s = KilledUnderLoad(c, dir, self);
  return s;
}

// Lines in `path` (one per row written, a CSV's header among them).
uint64_t Lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  uint64_t n = 0;
  std::string line;
  while (std::getline(in, line)) ++n;
  return n;
}

// VmHWM of process `pid` in MB (0 when unreadable).
double PeakRssMbOf(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) != 0) continue;
    double kb = 0;
    std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (words.size() >= 2 && absl::SimpleAtod(words[1], &kb)) return kb / 1024;
  }
  return 0;
}

// The compactions RocksDB started while writing the info log `log` (a store's LOG: one per open),
// in MB read, in all and by reason: "322 MB (BottommostFiles 321, LevelL0FilesNum 1)", or "none".
// What ran on the dispatcher's cores beside the exports.
std::string CompactionsIn(const std::string& log) {
  std::ifstream in(log);
  std::map<std::string, double> mb;
  double total = 0;
  for (std::string line; std::getline(in, line);) {
    const size_t json = line.find('{');
    if (line.find("\"compaction_started\"") == std::string::npos || json == std::string::npos) {
      continue;
    }
    const nlohmann::json event = nlohmann::json::parse(line.substr(json), nullptr, false);
    if (!event.is_object()) continue;
    const double read = event.value("input_data_size", 0.0) / 1e6;
    mb[event.value("compaction_reason", "?")] += read;
    total += read;
  }
  if (mb.empty()) return "none";
  std::vector<std::string> reasons;
  for (const auto& [reason, n] : mb) reasons.push_back(absl::StrFormat("%s %.0f", reason, n));
  return absl::StrFormat("%.0f MB (%s)", total, absl::StrJoin(reasons, ", "));
}

// The two-stage job of --finish items, answered to the end, exported by the engine and then by
// the real binaries. The slowest of the operator's three exports, in rows per second.
double Finished(const Config& c, const std::string& data_dir) {
  const std::string db = data_dir + "/db";
  std::string job;
  {
    const bool kept = std::filesystem::exists(db);
    std::filesystem::create_directories(data_dir);
    auto engine = Open(c, db);
    if (kept) {
      const std::vector<v1::Job> jobs = engine->ListJobs();
      if (jobs.size() != 1 || jobs[0].state() != v1::JOB_COMPLETED) {
        std::fprintf(stderr, "--keep %s: expected one completed job there\n", data_dir.c_str());
        std::exit(1);
      }
      job = jobs[0].id();
      std::printf("finished: job %s of %llu items, kept in %s from an earlier run\n", job.c_str(),
                  static_cast<unsigned long long>(jobs[0].items()), data_dir.c_str());
    } else {
      job = Submit(engine.get(), c.finish, "scale-finished", /*two_stages=*/true);
      const auto start = SteadyClock::now();
      const double rate = Complete(engine.get(), c, "finish-", [] { return false; });
      std::printf("finished: %llu items through two stages in %.0f s (%.0f completions/s)\n",
                  static_cast<unsigned long long>(c.finish), Seconds(start, SteadyClock::now()),
                  rate);
    }
    const double before_mb = mw::bench::RssMb();
    uint64_t rows = 0;
    const auto export_start = SteadyClock::now();
    if (auto s = engine->ExportResults(job, [&](const auto&) { return ++rows, true; }); !s.ok()) {
      std::fprintf(stderr, "export: %s\n", s.ToString().c_str());
      std::exit(1);
    }
    std::printf("the engine exports %llu rows at %.0f rows/s; rss_mb %.0f before, %.0f after\n",
                static_cast<unsigned long long>(rows),
                rows / Seconds(export_start, SteadyClock::now()), before_mb, mw::bench::RssMb());
  }
  {
    // The store as the dispatcher that answered the job would hold it seconds later. Closing the
    // engine above wrote its memtables out as level-0 tables, enough of them to set off a
    // compaction (156 MB, three to four seconds on one of the two cores) as soon as mw-dispatcher
    // opened the store, during the first export: a cost of handing the store from this process
    // to that one, which a dispatcher that ran the job itself does not pay. Opened once more
    // here, until RocksDB has nothing due.
    auto engine = Open(c, db);
    std::printf("the store settles in %.1f s before mw-dispatcher opens it\n",
                Settle(engine.get()));
  }
  const std::string bin = MW_BIN_DIR;
  mw::testing::Subprocess dispatcher(
      {bin + "/mw-dispatcher", "--data-dir", data_dir, "--listen", "127.0.0.1:0",
       "--metrics-listen", "127.0.0.1:0", "--log-level", "error"},
      data_dir + "/dispatcher.log");
  const std::string address =
      mw::testing::ReadyField(dispatcher.ReadLineContaining("ready"), "grpc");
  if (address.empty()) {
    std::fprintf(stderr, "mw-dispatcher did not start: see %s/dispatcher.log\n", data_dir.c_str());
    std::exit(1);
  }
  struct Way {
    const char* name;
    std::vector<std::string> args;
    uint64_t header_lines;
  };
  const std::vector<Way> ways = {
      {"results csv", {"results", "export", job, "--format", "csv"}, 1},
      {"results jsonl", {"results", "export", job, "--format", "jsonl"}, 0},
      {"answers csv", {"results", "answers", job, "--format", "csv"}, 1},
  };
  // Each export c.export_runs times, in turns (csv, jsonl, answers, csv, ...: this machine's
  // speed drifts), each way's figure the median of its runs: one run alone swung by a fifth
  // between two runs of the bench on the same store.
  std::vector<std::vector<double>> rates(ways.size());
  for (int run = 0; run < c.export_runs; ++run) {
    for (size_t w = 0; w < ways.size(); ++w) {
      const Way& way = ways[w];
      const std::string out = data_dir + "/export.out";
      std::vector<std::string> argv = {bin + "/mw", "--server", address, "--token-file",
                                       data_dir + "/operator.token"};
      argv.insert(argv.end(), way.args.begin(), way.args.end());
      argv.insert(argv.end(), {"--out", out});
      const auto start = SteadyClock::now();
      const mw::testing::CommandResult r = mw::testing::Run(argv);
      const double s = Seconds(start, SteadyClock::now());
      if (r.exit_code != 0) {
        std::fprintf(stderr, "mw %s: %s\n", way.name, r.err.c_str());
        std::exit(1);
      }
      const uint64_t rows = Lines(out) - way.header_lines;
      rates[w].push_back(rows / s);
      std::printf("mw %-13s %9llu rows in %6.2f s: %9.0f rows/s (%.0f MB written)\n", way.name,
                  static_cast<unsigned long long>(rows), s, rates[w].back(),
                  std::filesystem::file_size(out) / 1048576.0);
      std::filesystem::remove(out);
    }
  }
  double slowest = 0;
  for (size_t w = 0; w < ways.size(); ++w) {
    const double median = mw::bench::Median(rates[w]);
    std::printf("mw %-13s median of %zu runs: %9.0f rows/s\n", ways[w].name, rates[w].size(),
                median);
    slowest = w == 0 ? median : std::min(slowest, median);
  }
  std::printf("mw-dispatcher peak rss_mb=%.0f while serving the three exports\n",
              PeakRssMbOf(dispatcher.pid()));
  dispatcher.Signal(SIGTERM);
  dispatcher.Wait();
  std::printf("rocksdb compactions while mw-dispatcher served the store: %s\n",
              CompactionsIn(db + "/LOG").c_str());
  return slowest;
}

// Jobs of --items items one after another at full load for --steady seconds; the resident set
// each minute.
int Steady(const Config& c, const std::string& dir) {
  mw::storage::Store::Options store;
  store.block_cache_bytes = c.block_cache_mb << 20;
  store.memtable_bytes = c.memtable_mb << 20;
  auto engine = Open(c, dir, store);
  std::mutex mu;
  std::condition_variable stop_cv;
  bool stop = false;
  std::vector<double> rss;   // at the end of each minute
  std::vector<double> mean;  // over each minute, sampled each second (ten times at least)
  std::thread sampler([&] {
    std::unique_lock lock(mu);
    const int per_minute = std::max(10, static_cast<int>(c.minute));
    const auto tick = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(c.minute / per_minute));
    for (int m = 1; m * c.minute <= c.steady; ++m) {
      double sum = 0, low = 0, high = 0;
      // And what the heap's parts were over the minute, on average: which of them the mean
      // resident set moves with (what is held, or freed and not yet returned).
      // Active pages beyond what is allocated in them are the heap's fragmentation.
      double allocated = 0, dirty = 0, active = 0;
      // And the block cache's usage (its blocks and the memtables' charge) over the minute: the
      // heap is about that and what lives beside the cache, which is the rest.
      double cache = 0;
      // And how much of the minute RocksDB spent compacting, with the heap beyond the cache
      // while it did and while it did not: what the compactions hold as they run.
      int compacting = 0;
      double beyond_compacting = 0, beyond_idle = 0;
      for (int i = 0; i < per_minute; ++i) {
        if (stop_cv.wait_for(lock, tick, [&] { return stop; })) return;
        const double now = mw::bench::RssMb();
        sum += now;
        low = i == 0 ? now : std::min(low, now);
        high = std::max(high, now);
        const mw::HeapFigures heap = mw::Heap();
        const mw::storage::Store::Memory db = engine->store()->MemoryUse();
        allocated += heap.allocated / 1048576.0;
        dirty += heap.dirty / 1048576.0;
        active += heap.active / 1048576.0;
        cache += db.block_cache / 1048576.0;
        const double beyond = (static_cast<double>(heap.allocated) - db.block_cache) / 1048576.0;
        if (db.compactions_running > 0) {
          ++compacting;
          beyond_compacting += beyond;
        } else {
          beyond_idle += beyond;
        }
      }
      rss.push_back(mw::bench::RssMb());
      mean.push_back(sum / per_minute);
      if (!c.heap_stats.empty()) {
        const std::string path = absl::StrFormat("%s/minute-%03d.txt", c.heap_stats, m);
        if (!mw::WriteHeapStats(path.c_str()))
          std::fprintf(stderr, "cannot write %s\n", path.c_str());
      }
      const mw::storage::Store::Memory db = engine->store()->MemoryUse();
      const mw::HeapFigures heap = mw::Heap();
      // What the resident set is made of: anonymous pages (the heap, stacks) and mapped files
      // (the program's and its libraries' pages, as more of their code runs).
      const double anon = mw::bench::StatusMb("RssAnon");
      const double file = mw::bench::StatusMb("RssFile");
      std::printf(
          "minute %3d rss_mb=%.0f (anon %.0f, file %.0f; over the minute: mean %.0f, %.0f-%.0f; "
          "heap allocated %.0f, "
          "active beyond it %.0f, dirty %.0f; block cache %.0f, the heap beyond it %.0f: %.0f "
          "compacting, %.0f not; "
          "compacting %.2f of the minute) completions=%llu table_files=%llu "
          "(heap: allocated %.0f MB, active %.0f MB, resident %.0f MB, dirty %.0f MB, metadata "
          "%.0f MB; rocksdb: memtables %.0f MB, block cache %.0f MB of which pinned %.0f MB, "
          "table readers %.0f MB, charged to the cache %.0f MB)\n",
          m, rss.back(), anon, file, mean.back(), low, high, allocated / per_minute,
          (active - allocated) / per_minute, dirty / per_minute, cache / per_minute,
          (allocated - cache) / per_minute, compacting > 0 ? beyond_compacting / compacting : 0.0,
          compacting < per_minute ? beyond_idle / (per_minute - compacting) : 0.0,
          static_cast<double>(compacting) / per_minute,
          static_cast<unsigned long long>(engine->Stats().tasks_done),
          static_cast<unsigned long long>(engine->store()->TableFiles()),
          heap.allocated / 1048576.0, heap.active / 1048576.0, heap.resident / 1048576.0,
          heap.dirty / 1048576.0, heap.metadata / 1048576.0, db.memtables / 1048576.0,
          db.block_cache / 1048576.0, db.block_cache_pinned / 1048576.0,
          db.table_readers / 1048576.0, db.table_readers_charged / 1048576.0);
      std::fflush(stdout);
    }
  });
  const auto until = For(c.steady);
  for (int n = 0; !until(); ++n) {
    Submit(engine.get(), c.items, absl::StrCat("steady-", n));
    Complete(engine.get(), c, absl::StrCat("steady-", n, "-"), until);
  }
  const uint64_t completions = engine->Stats().tasks_done;
  {
    std::lock_guard lock(mu);
    stop = true;
  }
  stop_cv.notify_all();
  sampler.join();
  if (rss.size() < 2) {
    std::fprintf(stderr, "--steady: at least two minutes (--minute seconds each)\n");
    return 1;
  }
  const double after = *std::max_element(rss.begin() + 1, rss.end());
  // Beside the highest sample over the first (which counts the memtables' filling and flushing
  // as growth): the median of the later half of the minutes after the first over that of the
  // earlier half, which does not.
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const auto half = rss.begin() + 1 + static_cast<std::ptrdiff_t>((rss.size() - 1) / 2);
  const double early = median({rss.begin() + 1, std::max(half, rss.begin() + 2)});
  const double late = median({std::min(half, rss.end() - 1), rss.end()});
  // Two halves need two minutes after the first.
  const std::string half_growth =
      rss.size() < 3 ? "n/a" : absl::StrFormat("%.1f", 100 * (late - early) / early);
  // And the means: the highest minute's mean after the second over the second's, the first
  // minute being the warm-up (the process starts at nothing). A single sample swings by some
  // 25 MB within seconds as memtables fill and are flushed and their memory is returned; a
  // minute's mean does not.
  std::string mean_growth = "n/a";
  if (mean.size() >= 3) {
    const double later = *std::max_element(mean.begin() + 2, mean.end());
    mean_growth = absl::StrFormat("%.1f", 100 * (later - mean[1]) / mean[1]);
  }
  std::printf(
      "steady minutes=%zu rss_mb_minute1=%.0f rss_mb_max_after=%.0f growth_pct=%.1f "
      "half_growth_pct=%s mean_growth_pct=%s completions=%llu\n",
      rss.size(), rss[0], after, 100 * (after - rss[0]) / rss[0], half_growth.c_str(),
      mean_growth.c_str(), static_cast<unsigned long long>(completions));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  mw::ReturnFreedMemory();    // as mw-dispatcher does
  mw::SkipLockOrderChecks();  // as mw-dispatcher does
  CLI::App app{"scale_bench"};
  Config c;
  app.add_option("--items", c.items, "The largest job (10^4, 10^5, ... up to this)");
  app.add_option("--seconds", c.seconds, "Seconds of completions at each size");
  app.add_option("--finish", c.finish, "The two-stage job answered to the end, then exported");
  app.add_option("--export-runs", c.export_runs,
                 "Runs of each export of the finished job; the median of each counts")
      ->check(CLI::Range(1, 9));
  app.add_option("--centres", c.centres, "Simulated centres");
  app.add_option("--workers", c.workers, "Workers per centre");
  app.add_option("--open-table-files", c.open_table_files,
                 "Table files each store holds open (Store::Options::open_table_files; -1: all)");
  app.add_option("--steady", c.steady, "Seconds of jobs at full load, one after another");
  app.add_option("--minute", c.minute, "Seconds between the steady run's samples (a quick try)");
  app.add_option("--block-cache-mb", c.block_cache_mb,
                 "The steady run's block cache, as mw-dispatcher's --block-cache-mb")
      ->check(CLI::Range(8, 65536));
  app.add_option("--memtable-mb", c.memtable_mb,
                 "The steady run's memtables, as mw-dispatcher's --memtable-mb")
      ->check(CLI::Range(8, 16384));
  app.add_option("--heap-stats", c.heap_stats,
                 "--steady: write jemalloc's statistics here each minute (minute-NNN.txt)");
  app.add_option("--dir", c.dir, "Where the databases go (default $TMPDIR)");
  app.add_option("--keep", c.keep,
                 "Keep the finished job's store here (used again when it is there)");
  app.add_option("--load", c.load, "(internal) load this store until killed");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::err);  // held time on answers the bench sends at once
  if (!c.load.empty()) return LoadUntilKilled(c);
  if (!c.dir.empty()) setenv("TMPDIR", c.dir.c_str(), 1);
  mw::testing::TempDir dir;
  if (c.steady > 0) return Steady(c, dir.Sub("steady"));

  const std::string self = std::filesystem::canonical("/proc/self/exe").string();
  std::vector<Size> sizes;
  std::printf("%10s %9s %9s %13s %13s %7s %9s %14s %9s %7s\n", "items", "ingest_s", "settle_s",
              "completions/s", "of 10^4 then", "rss_mb", "rows", "export_rows/s", "reopen_s",
              "kill_s");
  for (uint64_t items = kSmallest; items <= c.items; items *= 10) {
    const Size s = Run(c, items, dir.Sub(absl::StrCat("n", items)), self);
    std::filesystem::remove_all(dir.Sub(absl::StrCat("n", items)));  // 10^7 items take GBs
    std::printf("%10llu %9.1f %9.1f %13.0f %13.0f %7.0f %9llu %14.0f %9.2f %7.2f\n",
                static_cast<unsigned long long>(s.items), s.ingest_s, s.settle_s, s.rate,
                s.reference_rate, s.rss_mb, static_cast<unsigned long long>(s.rows),
                s.export_rows_per_s, s.reopen_s, s.kill_s);
    std::fflush(stdout);
    sizes.push_back(s);
  }
  if (sizes.empty()) {
    std::fprintf(stderr, "--items: at least 10000\n");
    return 1;
  }
  const double exported = Finished(c, c.keep.empty() ? dir.Sub("finished") : c.keep);
  std::printf("scale rss_mb_max=%.0f rate_ratio=%.3f export_rows_per_s=%.0f\n",
              mw::bench::PeakRssMb(), sizes.back().rate / sizes.back().reference_rate, exported);
  return 0;
}
