// dispatch_bench: end-to-end dispatch over real gRPC on loopback into a real engine on RocksDB.
// Simulated centres lease work for their workers, answer every assignment and submit the
// results; each completion is lease -> result -> QA verdict -> wage posted, every reply given
// only after its writes are synced. Prints durable completions per second, lease latency
// (p50/p99), peak RSS, and beside them the two physical limits measured in the same run: raw
// synced batched RocksDB puts and a pipelined gRPC streaming echo, the echo in turns with the
// load (--turns). Ends with 'dispatch completions_per_echo=X', the median of the load's turns
// over the median of the echo's. A program, not a test.
//
//   build/bin/dispatch_bench [--seconds 10] [--turns 3] [--centres 4] [--pipelines 2]
//                            [--workers 20] [--per-worker 25] [--overlap 1] [--dir /tmp]
//                            [--log-level error]
#include <grpcpp/grpcpp.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/bench_support.h"
#include "dispatcher/service/services.h"
#include "engine/common/heap.h"
#include "engine/common/lock_checks.h"
#include "engine/contract/contract_file.h"
#include "engine/dispatch/engine.h"
#include "engine/ledger/auditor.h"
#include "proto/rpc/channel.h"
#include "testing/temp_dir.h"

namespace {

namespace v1 = microwork::v1;
using mw::bench::Seconds;
using mw::bench::SteadyClock;

// Assignments one hoarding worker leases (the engine's default max_credit_per_worker).
constexpr uint32_t kHoardPerWorker = 50;

struct Config {
  double seconds = 10;
  int turns = 3;  // of the echo and the load, each seconds / turns long
  int centres = 4;
  int pipelines = 2;              // concurrent lease/submit loops per centre
  int workers = 20;               // per pipeline
  int per_worker = 25;            // credit per worker per lease call
  int overlap = 1;                // answers per task
  uint64_t items = 0;             // 0: sized from the other figures
  uint32_t capacity = 1'000'000;  // assignments a centre may hold at once
  // Then cancel the job with every centre's capacity out on lease (held by workers who never
  // answer) and run a second job of the same size: its rate beside the first's.
  bool cancel_next = false;
  int64_t hoard = -1;  // leases held per centre at the cancel; -1: the centre's capacity
  // Two shapes of three stages per item, one job each, one after the other (--shapes): "chain"
  // (check, then tone, then final) and "branches" (check and tone side by side, final after
  // both). Ends with the branching job's rate beside the chain's.
  std::vector<std::string> shapes;
  uint32_t Hoard() const {
    if (!shapes.empty()) return 0;
    return hoard < 0 ? capacity : static_cast<uint32_t>(hoard);
  }
  bool two_jobs() const { return cancel_next || !shapes.empty(); }
};

// Every pipeline's figures, merged at the end.
struct Figures {
  std::mutex mu;
  std::vector<double> lease_ms;
  uint64_t accepted = 0;
  uint64_t rejected = 0;
  uint64_t calls = 0;
  double cpu_seconds = 0;      // the process's, over the run
  double rocksdb_seconds = 0;  // of that, RocksDB's flushes and compactions
};

// The stages of `shape` ("chain" or "branches"; empty: one stage, "check").
std::string ShapeStages(const Config& c, const std::string& shape) {
  if (shape.empty()) return "";
  auto stage = [&](const char* name, const char* after) {
    return absl::StrCat("  - name: ", name, "\n    after: [", after,
                        "]\n    human:\n      instructions: {en: \"", name,
                        "?\"}\n      answer: {single_choice: {options: [\"yes\", \"no\"]}}\n"
                        "      piece_rate_minor: 2\n      estimated_seconds: 10\n      overlap: ",
                        c.overlap, "\n");
  };
  if (shape == "chain") return absl::StrCat(stage("tone", "check"), stage("final", "tone"));
  return absl::StrCat(stage("tone", "split"), stage("final", "check, tone"));
}

std::string ContractText(const Config& c, const std::string& shape = "") {
  return mw::bench::ReceiptsContract(c.overlap, ShapeStages(c, shape));
}

void SubmitJob(mw::dispatch::Engine* engine, const Config& c, uint64_t items,
               const std::string& key, const std::string& shape = "") {
  v1::ContractHeader header;
  header.set_idempotency_key(key);
  header.set_wait_for_centres(true);  // centres register after the job
  *header.mutable_contract() = mw::contract::ParseContract(ContractText(c, shape), "bench").value();
  auto r = mw::bench::SubmitGeneratedCsv(
      engine, header, "rows", "receipt,total", items, [](uint64_t i, std::string* chunk) {
        absl::StrAppend(chunk, "R", i, ",", (i * 37) % 10000, "\n");
      });
  if (!r.ok()) {
    std::fprintf(stderr, "submission: %s\n", r.status().ToString().c_str());
    std::exit(1);
  }
}

// One centre pipeline: lease for its workers, answer everything, submit, repeat until the time
// is up or the job has nothing left to lease. `run` names the run in the lease keys: a key of an
// earlier run would be answered with that run's leases, as the engine must.
void RunPipeline(const std::string& run, const std::string& target, const std::string& credential,
                 const std::vector<std::string>& workers, const Config& c,
                 SteadyClock::time_point until, Figures* out) {
  auto stub =
      v1::CentreService::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  std::vector<double> lease_ms;
  uint64_t accepted = 0, rejected = 0, calls = 0;
  for (uint64_t round = 0; SteadyClock::now() < until; ++round) {
    v1::LeaseRequest lease;
    lease.set_idempotency_key(absl::StrCat(run, "-", workers.front(), "-lease-", round));
    for (const auto& w : workers) {
      auto* credit = lease.add_credits();
      credit->set_worker(w);
      credit->set_count(c.per_worker);
    }
    v1::LeaseReply leased;
    const auto t0 = SteadyClock::now();
    grpc::Status s =
        stub->Lease(mw::rpc::MakeContext(credential, absl::Seconds(30)).get(), lease, &leased);
    lease_ms.push_back(Seconds(t0, SteadyClock::now()) * 1000);
    ++calls;
    if (!s.ok()) {
      std::fprintf(stderr, "lease: %s\n", s.error_message().c_str());
      break;
    }
    if (leased.assignments().empty()) break;
    const v1::SubmitResultsRequest submit = mw::bench::AnswerAll(leased);
    v1::SubmitResultsReply receipts;
    s = stub->SubmitResults(mw::rpc::MakeContext(credential, absl::Seconds(30)).get(), submit,
                            &receipts);
    ++calls;
    if (!s.ok()) {
      std::fprintf(stderr, "submit: %s\n", s.error_message().c_str());
      break;
    }
    for (const auto& r : receipts.receipts()) {
      (r.status() == v1::RECEIPT_ACCEPTED ? accepted : rejected)++;
    }
  }
  std::lock_guard<std::mutex> lock(out->mu);
  out->lease_ms.insert(out->lease_ms.end(), lease_ms.begin(), lease_ms.end());
  out->accepted += accepted;
  out->rejected += rejected;
  out->calls += calls;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  mw::ReturnFreedMemory();    // as mw-dispatcher does
  mw::SkipLockOrderChecks();  // as mw-dispatcher does
  CLI::App app{"dispatch_bench"};
  Config c;
  std::string base;
  app.add_option("--seconds", c.seconds, "Seconds of load (and of each raw measurement)");
  app.add_option("--turns", c.turns,
                 "Turns of the echo and the load, each --seconds/turns (their medians compared)")
      ->check(CLI::Range(1, 9));
  app.add_option("--centres", c.centres, "Simulated centres");
  app.add_option("--pipelines", c.pipelines, "Concurrent lease/submit loops per centre");
  app.add_option("--workers", c.workers, "Workers per pipeline");
  app.add_option("--per-worker", c.per_worker, "Assignments leased per worker per call (1-50)");
  app.add_option("--overlap", c.overlap, "Answers per task");
  app.add_option("--items", c.items, "Items in the job (default: enough for the run)");
  app.add_option("--dir", base, "Where the databases go (default $TMPDIR)");
  app.add_option("--capacity", c.capacity, "Assignments a centre may hold at once");
  app.add_flag("--cancel-next", c.cancel_next,
               "Then cancel the job with each centre's capacity out on lease and run a second "
               "job: ends with 'cancel first_rate=... next_rate=... ratio=...'");
  app.add_option("--shapes", c.shapes,
                 "Two jobs of three stages per item, one after the other: 'chain,branches' or "
                 "'branches,chain'; ends with 'dispatch chain_rate=... branch_rate=... ratio=...'")
      ->delimiter(',')
      ->check(CLI::IsMember({"chain", "branches"}))
      ->expected(2);
  app.add_option("--hoard", c.hoard,
                 "With --cancel-next: leases each centre holds unanswered at the cancel "
                 "(default: its capacity; 0 for the control run)");
  std::string log_level = "error";
  app.add_option("--log-level", log_level,
                 "trace, debug, info, warn or error, to stderr as mw-dispatcher's (at warn and "
                 "finer every answer logs a warning: the bench answers at once)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  CLI11_PARSE(app, argc, argv);
  if (!base.empty()) setenv("TMPDIR", base.c_str(), 1);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  // By default, errors only: at warn, info or debug, every answer logs a warning (event=time_held),
  // because the bench's answers come milliseconds after their lease claiming 9 s on the task,
  // as scale_bench's do. --log-level debug writes the lease, answer, wage and verdict lines, four
  // a completion, that mw-dispatcher wrote at info under the engine's lock before they became
  // debug lines.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("mw"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e level=%l %v");
  spdlog::set_level(spdlog::level::from_str(log_level));
  mw::testing::TempDir dir;

  std::printf("Physical limits on this machine (%.0f s each)\n", c.seconds);
  const double raw_puts = mw::bench::RawSyncedPutsPerSecond(dir.Sub("raw"), 1000, c.seconds);
  std::printf("  raw RocksDB synced batched puts (1000 per write)  %10.0f entries/s\n", raw_puts);

  mw::dispatch::Engine::Options options;
  options.lease_ms = 600'000;
  options.seed = 1;
  auto engine = mw::dispatch::Engine::Open(dir.Sub("engine"), mw::SystemClock::Get(), options);
  if (!engine.ok()) {
    std::fprintf(stderr, "%s\n", engine.status().ToString().c_str());
    return 1;
  }
  mw::rpc::Authenticator auth(engine->get(), "bench-operator", "");
  mw::rpc::CentreServiceImpl centre_service(engine->get(), &auth);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&centre_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  const std::string target = absl::StrCat("127.0.0.1:", port);

  // Enough items that the job outlasts the run at 60,000 answers a second.
  const uint64_t items =
      c.items != 0 ? c.items : static_cast<uint64_t>(60'000 * c.seconds / c.overlap) + 1000;
  const auto ingest_start = SteadyClock::now();
  const std::string first_shape = c.shapes.empty() ? "" : c.shapes[0];
  SubmitJob(engine->get(), c, items, "bench-job", first_shape);
  std::printf("Job of %llu items (overlap %d%s%s) submitted in %.1f s\n",
              static_cast<unsigned long long>(items), c.overlap, first_shape.empty() ? "" : ", ",
              first_shape.c_str(), Seconds(ingest_start, SteadyClock::now()));

  struct Pipeline {
    std::string credential;
    std::vector<std::string> workers;
  };
  std::vector<Pipeline> pipelines;
  for (int i = 0; i < c.centres; ++i) {
    const std::string id = absl::StrCat("centre-", i);
    std::vector<std::string> workers;
    // Workers who lease the centre's whole capacity at the cancel and never answer.
    for (uint32_t h = 0; c.two_jobs() && h * kHoardPerWorker < c.Hoard(); ++h) {
      workers.push_back(absl::StrCat("c", i, "h", h));
    }
    const size_t first = pipelines.size();
    for (int p = 0; p < c.pipelines; ++p) {
      Pipeline pipeline;
      for (int w = 0; w < c.workers; ++w) {
        pipeline.workers.push_back(absl::StrCat("c", i, "p", p, "w", w));
        workers.push_back(pipeline.workers.back());
      }
      pipelines.push_back(std::move(pipeline));
    }
    auto credential = mw::bench::AddCentre(engine->get(), id, c.capacity, workers);
    if (!credential.ok()) {
      std::fprintf(stderr, "%s\n", credential.status().ToString().c_str());
      return 1;
    }
    for (size_t p = first; p < pipelines.size(); ++p) pipelines[p].credential = *credential;
  }

  // Every pipeline for `seconds`; returns the seconds taken. A run after a submission (`settle`)
  // starts from a settled store (no flush or compaction running or due), so that it does not pay
  // for the submission's writes; how long that took is printed. The turns of one run do not
  // settle between them: each takes on what the turn before left.
  auto run_load = [&](const std::string& run, double seconds, bool settle, Figures* figures) {
    const auto settle_start = SteadyClock::now();
    while (settle && (*engine)->store()->BackgroundWorkPending() &&
           Seconds(settle_start, SteadyClock::now()) < 120) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (settle) {
      std::printf("  (the store settled in %.1f s)\n", Seconds(settle_start, SteadyClock::now()));
    }
    const double cpu_start = mw::bench::ProcessCpuSeconds();
    const double rocksdb_start = mw::bench::ThreadsCpuSeconds("rocksdb:");
    const auto start = SteadyClock::now();
    const auto until = start + std::chrono::duration_cast<SteadyClock::duration>(
                                   std::chrono::duration<double>(seconds));
    std::vector<std::thread> threads;
    for (const auto& p : pipelines) {
      threads.emplace_back(RunPipeline, run, target, p.credential, p.workers, c, until, figures);
    }
    for (auto& t : threads) t.join();
    figures->cpu_seconds += mw::bench::ProcessCpuSeconds() - cpu_start;
    figures->rocksdb_seconds += mw::bench::ThreadsCpuSeconds("rocksdb:") - rocksdb_start;
    return Seconds(start, SteadyClock::now());
  };
  // The load and the echo in turns (echo, load, echo, load, ...), --turns of each over
  // --seconds, compared by their medians as ledger_bench compares its own: this machine's speed
  // drifts, and one echo before one load compared two machines (in one such run the echo was
  // 71k messages/s, against some 59k in the previous session's runs, and the load then took 52.8
  // us of CPU a completion, against 44.6 in the run before on the same code). An echo after the
  // first shares the machine with whatever flushes the load before it left running. The runs of two
  // jobs keep one load.
  const int turns = c.two_jobs() ? 1 : c.turns;
  std::vector<double> echoes, rates;
  Figures figures;
  double elapsed = 0;
  for (int t = 1; t <= turns; ++t) {
    echoes.push_back(mw::bench::GrpcEchoMessagesPerSecond(200, c.seconds / turns));
    const uint64_t done = (*engine)->Stats().tasks_done;
    const double took = run_load(turns == 1 ? "first" : absl::StrCat("first-", t),
                                 c.seconds / turns, t == 1, &figures);
    rates.push_back(((*engine)->Stats().tasks_done - done) / took);
    elapsed += took;
    if (turns > 1) {
      std::printf("  turn %d: echo %10.0f messages/s, completions %10.0f /s: %.3f\n", t,
                  echoes.back(), rates.back(), rates.back() / echoes.back());
    }
  }
  const double echo = mw::bench::Median(echoes);
  std::printf("  raw gRPC streaming echo (200-byte messages)       %10.0f messages/s%s\n", echo,
              turns > 1 ? absl::StrCat(" (median of ", turns, ")").c_str() : "");
  const mw::dispatch::EngineStats stats = (*engine)->Stats();

  if (!c.two_jobs()) server->Shutdown();
  const double answers = figures.accepted / elapsed;
  const double completions = stats.tasks_done / elapsed;
  std::printf("End to end: %d centres x %d pipelines x %d workers, %d per worker per lease\n",
              c.centres, c.pipelines, c.workers, c.per_worker);
  std::printf("  answers accepted (wage reserved, synced)   %10.0f /s  (%llu, %llu refused)\n",
              answers, static_cast<unsigned long long>(figures.accepted),
              static_cast<unsigned long long>(figures.rejected));
  std::printf("  durable task completions (verdict + wages) %10.0f /s  (%llu tasks in %.1f s)\n",
              completions, static_cast<unsigned long long>(stats.tasks_done), elapsed);
  std::printf("  lease latency p50 %.2f ms, p99 %.2f ms over %zu leases; %llu commit groups\n",
              Percentile(figures.lease_ms, 0.5), Percentile(figures.lease_ms, 0.99),
              figures.lease_ms.size(), static_cast<unsigned long long>(stats.commit_groups));
  // The whole process's: the dispatcher, RocksDB's flushes and compactions, and the simulated
  // centres, which run in it too.
  const double per_done = stats.tasks_done > 0 ? 1e6 / stats.tasks_done : 0.0;
  std::printf(
      "  CPU per completion             %.1f us (%.2f cores busy), flushes and "
      "compactions %.1f us\n",
      figures.cpu_seconds * per_done, figures.cpu_seconds / elapsed,
      figures.rocksdb_seconds * per_done);
  std::printf("  completions / raw synced puts  %.3f\n", completions / raw_puts);
  std::printf("  completions / raw gRPC echo    %.3f\n", mw::bench::Median(rates) / echo);
  const auto usd =
      stats.wages.count("USD") ? stats.wages.at("USD") : mw::dispatch::EngineStats::Wages{};
  std::printf("  wages posted %lld, reserved %lld (minor units)\n",
              static_cast<long long>(usd.posted), static_cast<long long>(usd.reserved));

  // The ledger the run wrote still proves itself.
  mw::ledger::Auditor auditor;
  const absl::Status audit = (*engine)->AuditLedger(&auditor);
  std::printf("  ledger audit of %llu transfers: %s\n",
              static_cast<unsigned long long>(auditor.transfers()),
              audit.ok() ? "OK" : audit.ToString().c_str());
  std::printf("  peak RSS %.1f MB\n", mw::bench::PeakRssMb());
  if (!audit.ok()) return 1;
  if (!c.two_jobs()) {
    std::printf("dispatch completions_per_echo=%.3f\n",
                echo > 0 ? mw::bench::Median(rates) / echo : 0.0);
    return 0;
  }

  // The regression: leases out at a cancel kept the centres' capacity, and the next job crawled.
  uint64_t held = 0;
  for (int i = 0; i < c.centres; ++i) {
    v1::LeaseRequest hoard;
    hoard.set_idempotency_key(absl::StrCat("hoard-", i));
    for (uint32_t h = 0; h * kHoardPerWorker < c.Hoard(); ++h) {
      auto* credit = hoard.add_credits();
      credit->set_worker(absl::StrCat("c", i, "h", h));
      credit->set_count(std::min(kHoardPerWorker, c.Hoard() - h * kHoardPerWorker));
    }
    if (hoard.credits().empty()) continue;
    auto leased = (*engine)->Lease(absl::StrCat("centre-", i), hoard);
    if (leased.ok()) held += leased->assignments_size();
  }
  v1::ControlJobRequest cancel;
  cancel.set_idempotency_key("bench-cancel");
  cancel.set_job_id("job-1");
  cancel.set_action(v1::JOB_CANCEL);
  if (auto r = (*engine)->ControlJob(cancel); !r.ok()) {
    std::fprintf(stderr, "cancel: %s\n", r.status().ToString().c_str());
    return 1;
  }
  std::printf("Cancelled job-1 with %llu leases out that nobody answers\n",
              static_cast<unsigned long long>(held));
  SubmitJob(engine->get(), c, items, "bench-job-2", c.shapes.empty() ? "" : c.shapes[1]);
  const uint64_t done_before = (*engine)->Stats().tasks_done;
  Figures next;
  const double next_elapsed = run_load("next", c.seconds, true, &next);
  const double next_rate = ((*engine)->Stats().tasks_done - done_before) / next_elapsed;
  std::printf("  next job: %llu answers accepted, %llu refused\n",
              static_cast<unsigned long long>(next.accepted),
              static_cast<unsigned long long>(next.rejected));
  std::printf("  next job: durable task completions %10.0f /s; job-1 still counts %llu leased\n",
              next_rate,
              static_cast<unsigned long long>((*engine)->GetJob("job-1")->stages(1).leased()));
  server->Shutdown();
  if (!c.shapes.empty()) {
    // Completions are tasks: three per item in either shape.
    const bool chain_first = c.shapes[0] == "chain";
    const double chain_rate = chain_first ? completions : next_rate;
    const double branch_rate = chain_first ? next_rate : completions;
    std::printf("dispatch chain_rate=%.0f branch_rate=%.0f ratio=%.3f (%s first)\n", chain_rate,
                branch_rate, chain_rate == 0 ? 0.0 : branch_rate / chain_rate, c.shapes[0].c_str());
    return 0;
  }
  std::printf("cancel first_rate=%.0f next_rate=%.0f ratio=%.3f\n", completions, next_rate,
              completions == 0 ? 0.0 : next_rate / completions);
  return 0;
}
