// scale_bench: one dispatcher's engine (in process, on RocksDB) carrying jobs of growing size:
// 10^4, 10^5, 10^6 and 10^7 items (up to --items). For each size, in a fresh store: the job is
// submitted (ingest time), centres lease and answer for --seconds (durable completions per
// second, resident memory after), the finished part is exported (rows per second), and the engine
// is closed and opened again (seconds until it serves). The job of --finish items (10^6) is
// answered to the end first, so its export is of that many finished items. Ends with the one
// line issue 26 names:
//
//   scale rss_mb_max=M rate_ratio=R export_rows_per_s=E
//
// M is the peak resident set of the whole run, R the completion rate at the largest size over
// the rate at 10^4, E the export's rows per second of the finished job (--finish items, or the
// largest size when smaller). A program, not a test; it takes minutes.
//
//   build/bin/scale_bench [--items 10000000] [--finish 1000000] [--seconds 10]
//                         [--centres 4] [--workers 20]
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/bench_support.h"
#include "engine/contract/contract_file.h"
#include "engine/dispatch/engine.h"
#include "testing/temp_dir.h"

namespace {

namespace v1 = microwork::v1;
using mw::bench::Seconds;
using mw::bench::SteadyClock;

struct Config {
  uint64_t items = 10'000'000;  // the largest size
  uint64_t finish = 1'000'000;  // the size whose every item is answered before its export
  double seconds = 10;
  int centres = 4;
  int workers = 20;  // per centre
  int per_worker = 25;
  std::string dir;
};

struct Size {
  uint64_t items = 0;
  double ingest_s = 0;
  double rate = 0;  // durable completions per second
  double rss_mb = 0;
  uint64_t rows = 0;
  double export_rows_per_s = 0;
  double reopen_s = 0;
};

std::unique_ptr<mw::dispatch::Engine> Open(const std::string& dir) {
  mw::dispatch::Engine::Options options;
  options.lease_ms = 600'000;
  options.seed = 1;
  auto engine = mw::dispatch::Engine::Open(dir, mw::SystemClock::Get(), options);
  if (!engine.ok()) {
    std::fprintf(stderr, "open: %s\n", engine.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(engine);
}

// Centres lease for their workers and answer everything for `seconds` (or until nothing is left).
// Returns durable completions per second.
double Complete(mw::dispatch::Engine* engine, const Config& c, double seconds) {
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
  const uint64_t done_before = engine->Stats().tasks_done;
  const auto start = SteadyClock::now();
  const auto until = start + std::chrono::duration_cast<SteadyClock::duration>(
                                 std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int i = 0; i < c.centres; ++i) {
    threads.emplace_back([&, i] {
      for (uint64_t round = 0; SteadyClock::now() < until; ++round) {
        v1::LeaseRequest lease;
        lease.set_idempotency_key(absl::StrCat(centres[i], "-lease-", round));
        for (int w = 0; w < c.workers; ++w) {
          auto* credit = lease.add_credits();
          credit->set_worker(absl::StrCat("c", i, "w", w));
          credit->set_count(c.per_worker);
        }
        auto leased = engine->Lease(centres[i], lease);
        if (!leased.ok() || leased->assignments().empty()) return;
        if (!engine->SubmitResults(centres[i], mw::bench::AnswerAll(*leased)).ok()) return;
      }
    });
  }
  for (auto& t : threads) t.join();
  return (engine->Stats().tasks_done - done_before) / Seconds(start, SteadyClock::now());
}

Size Run(const Config& c, uint64_t items, const std::string& dir) {
  Size s;
  s.items = items;
  auto engine = Open(dir);
  v1::ContractHeader header;
  header.set_idempotency_key("scale-job");
  header.set_wait_for_centres(true);
  *header.mutable_contract() =
      mw::contract::ParseContract(mw::bench::ReceiptsContract(1), "scale").value();
  const auto ingest_start = SteadyClock::now();
  auto submitted = mw::bench::SubmitGeneratedCsv(
      engine.get(), header, "rows", "receipt,total", items, [](uint64_t i, std::string* chunk) {
        absl::StrAppend(chunk, "R", i, ",", (i * 37) % 10000, "\n");
      });
  if (!submitted.ok()) {
    std::fprintf(stderr, "submission: %s\n", submitted.status().ToString().c_str());
    std::exit(1);
  }
  s.ingest_s = Seconds(ingest_start, SteadyClock::now());
  const bool finish = items == std::min(c.finish, c.items);
  s.rate = Complete(engine.get(), c, finish ? 1e9 : c.seconds);
  s.rss_mb = mw::bench::RssMb();
  const auto export_start = SteadyClock::now();
  const absl::Status exported = engine->ExportResults(submitted->job().id(), [&](const auto&) {
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
  engine = Open(dir);
  s.reopen_s = Seconds(reopen_start, SteadyClock::now());
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"scale_bench"};
  Config c;
  app.add_option("--items", c.items, "The largest job (10^4, 10^5, ... up to this)");
  app.add_option("--seconds", c.seconds, "Seconds of completions at each size");
  app.add_option("--finish", c.finish, "The size answered to the end before its export");
  app.add_option("--centres", c.centres, "Simulated centres");
  app.add_option("--workers", c.workers, "Workers per centre");
  app.add_option("--dir", c.dir, "Where the databases go (default $TMPDIR)");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::err);  // held time on answers the bench sends at once
  if (!c.dir.empty()) setenv("TMPDIR", c.dir.c_str(), 1);
  mw::testing::TempDir dir;

  std::vector<Size> sizes;
  double finished_export = 0;
  std::printf("%10s %9s %12s %9s %9s %14s %9s\n", "items", "ingest_s", "completions/s", "rss_mb",
              "rows", "export_rows/s", "reopen_s");
  for (uint64_t items = 10'000; items <= c.items; items *= 10) {
    const Size s = Run(c, items, dir.Sub(absl::StrCat("n", items)));
    std::filesystem::remove_all(dir.Sub(absl::StrCat("n", items)));  // 10^7 items take GBs
    std::printf("%10llu %9.1f %12.0f %9.0f %9llu %14.0f %9.2f\n",
                static_cast<unsigned long long>(s.items), s.ingest_s, s.rate, s.rss_mb,
                static_cast<unsigned long long>(s.rows), s.export_rows_per_s, s.reopen_s);
    std::fflush(stdout);
    if (items == std::min(c.finish, c.items)) finished_export = s.export_rows_per_s;
    sizes.push_back(s);
  }
  if (sizes.empty()) {
    std::fprintf(stderr, "--items: at least 10000\n");
    return 1;
  }
  std::printf("scale rss_mb_max=%.0f rate_ratio=%.3f export_rows_per_s=%.0f\n",
              mw::bench::PeakRssMb(), sizes.back().rate / sizes.front().rate, finished_export);
  return 0;
}
