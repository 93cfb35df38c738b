// ledger_bench: wage postings per second through the ledger with synced group commits, beside
// raw synced batched RocksDB puts on the same disk in the same run, measured in turns (raw,
// ledger, raw, ledger...: this machine's speed drifts) and compared by their medians. A program
// that prints figures, not a test.
//
//   build/bin/ledger_bench [--seconds 4] [--rounds 3] [--batch 1000] [--in-flight 2] [--dir /tmp]
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/bench_support.h"
#include "engine/common/clock.h"
#include "engine/common/heap.h"
#include "engine/common/ids.h"
#include "engine/common/lock_checks.h"
#include "engine/ledger/audit_store.h"
#include "engine/ledger/ledger.h"
#include "engine/storage/commit_queue.h"
#include "engine/storage/store.h"
#include "testing/temp_dir.h"

namespace {

using mw::storage::Batch;
using mw::storage::Cf;
using Clock = std::chrono::steady_clock;
using mw::bench::Median;
using mw::bench::Seconds;

struct LedgerFigures {
  double postings_per_second;
  double puts_per_posting;
  uint64_t postings;
};

// Wage postings: each one a single-phase escrow -> worker transfer (id derived from a fake
// assignment), applied under one lock into batches of `batch` (whether their ids are taken read
// ahead for the batch at once, as the dispatcher does for a call's results), enqueued on the
// group-commit queue by the producer while the writer fsyncs earlier ones (at most `in_flight`
// batches queued or syncing: the producer waits for the oldest before it goes on).
LedgerFigures LedgerPostings(const std::string& dir, int batch, int in_flight, double seconds,
                             bool two_phase) {
  auto store = mw::storage::Store::Open(dir, mw::storage::Schema::kDispatcher).value();
  mw::FakeClock clock;
  auto ledger = mw::ledger::Ledger::Load(store.get(), &clock).value();
  mw::storage::CommitQueue queue(store.get());
  {
    Batch fund;
    (void)ledger->Apply({.id = "fund:job-1",
                         .code = microwork::v1::CODE_FUNDING,
                         .debit_account = mw::ClientAccount("acme", "USD"),
                         .credit_account = mw::EscrowAccount("job-1"),
                         .amount_minor = int64_t{1} << 60,
                         .currency = "USD",
                         .job_id = "job-1"},
                        &fund);
    ledger->WriteBalances(&fund);
    (void)queue.WaitDurable(queue.Enqueue(std::move(fund)));
  }
  uint64_t n = 0, puts = 0;
  struct Queued {
    uint64_t ticket;
    uint64_t seq;  // the ledger's head once its transfers were applied
  };
  std::deque<Queued> flying;
  const auto start = Clock::now();
  while (Seconds(start, Clock::now()) < seconds) {
    Batch b;
    // Whether the batch's ids are taken, read at once, as the dispatcher reads a call's ahead.
    std::vector<std::string> ids;
    for (uint64_t k = n; k < n + batch; ++k) {
      const std::string aid = absl::StrCat("job-1/label/", k, "@w", k % 1000);
      ids.push_back(mw::WageTransferId(aid));
      if (two_phase) ids.push_back(mw::WagePostTransferId(aid));
    }
    if (!ledger->ReadAhead(ids).ok()) return {-1, 0, 0};
    // The ids read ahead are the ones applied, as the dispatcher applies a call's wages.
    for (int i = 0; i < batch; ++i, ++n) {
      const size_t at = two_phase ? 2 * static_cast<size_t>(i) : static_cast<size_t>(i);
      mw::ledger::Ledger::TransferSpec wage{
          .id = ids[at],
          .kind = two_phase ? microwork::v1::TRANSFER_PENDING : microwork::v1::TRANSFER_POSTED,
          .code = microwork::v1::CODE_WAGE,
          .debit_account = mw::EscrowAccount("job-1"),
          .credit_account = mw::WorkerAccount("nairobi", absl::StrCat("w", n % 1000)),
          .amount_minor = 5,
          .currency = "USD",
          .job_id = "job-1"};
      if (!ledger->Apply(wage, &b).ok()) return {-1, 0, 0};
      if (two_phase && !ledger
                            ->Apply({.id = ids[at + 1],
                                     .kind = microwork::v1::TRANSFER_POST_PENDING,
                                     .pending_id = wage.id},
                                    &b)
                            .ok()) {
        return {-1, 0, 0};
      }
    }
    ledger->WriteBalances(&b);
    puts += b.Count();
    // Keep at most `in_flight` batches queued or syncing: the queue groups what arrives while it
    // syncs. What is durable the ledger lets go of, as the dispatcher's engine tells it.
    flying.push_back({queue.Enqueue(std::move(b)), ledger->head_seq()});
    if (flying.size() >= static_cast<size_t>(in_flight)) {
      if (!queue.WaitDurable(flying.front().ticket).ok()) return {-1, 0, 0};
      ledger->Written(flying.front().seq);
      flying.pop_front();
    }
  }
  if (!flying.empty()) (void)queue.WaitDurable(flying.back().ticket);
  const double elapsed = Seconds(start, Clock::now());
  return {n / elapsed, static_cast<double>(puts) / n, n};
}

}  // namespace

int main(int argc, char** argv) {
  mw::SkipLockOrderChecks();  // as mw-dispatcher does
  mw::ReturnFreedMemory();    // as mw-dispatcher does: freed pages go back on a thread of their own
  CLI::App app{"ledger_bench"};
  double seconds = 4;
  int rounds = 3;
  int batch = 1000;
  int in_flight = 2;
  std::string base;
  app.add_option("--seconds", seconds, "Seconds per measurement");
  app.add_option("--rounds", rounds, "Turns of raw puts and single-phase postings")
      ->check(CLI::Range(1, 20));
  app.add_option("--batch", batch, "Entries (or postings) per synced write");
  app.add_option("--in-flight", in_flight, "Ledger batches queued or syncing at once")
      ->check(CLI::Range(1, 64));
  app.add_option("--dir", base, "Where the databases go (default $TMPDIR)");
  CLI11_PARSE(app, argc, argv);
  if (!base.empty()) setenv("TMPDIR", base.c_str(), 1);
  mw::testing::TempDir dir;

  std::printf("Ledger postings vs raw RocksDB, synced writes, %d per write, %.0f s each\n", batch,
              seconds);
  std::vector<double> raws, ones;
  LedgerFigures one;
  for (int r = 0; r < rounds; ++r) {
    raws.push_back(
        mw::bench::RawSyncedPutsPerSecond(dir.Sub(absl::StrCat("raw", r)), batch, seconds));
    one = LedgerPostings(dir.Sub(absl::StrCat("ledger1-", r)), batch, in_flight, seconds, false);
    ones.push_back(one.postings_per_second);
    std::printf("  turn %d: raw %10.0f entries/s, postings %10.0f/s: %.2f\n", r + 1, raws.back(),
                ones.back(), ones.back() / raws.back());
  }
  const double raw = Median(raws);
  std::printf("  raw synced batched puts          %10.0f entries/s (median of %d)\n", raw, rounds);
  std::printf(
      "  wage postings (single phase)     %10.0f postings/s  (%.1f puts each)  %.2f of raw\n",
      Median(ones), one.puts_per_posting, Median(ones) / raw);
  const LedgerFigures two = LedgerPostings(dir.Sub("ledger2"), batch / 2, in_flight, seconds, true);
  std::printf(
      "  wages reserved + posted (2-phase) %9.0f wages/s     (%.1f puts each)  %.2f of raw\n",
      two.postings_per_second, two.puts_per_posting, two.postings_per_second / raw);

  // The ledger written above still proves itself.
  auto store = mw::storage::Store::Open(dir.Sub(absl::StrCat("ledger1-", rounds - 1)),
                                        mw::storage::Schema::kDispatcher);
  mw::ledger::Auditor auditor;
  const auto start = Clock::now();
  absl::Status audit = mw::ledger::AuditStore(**store, &auditor);
  std::printf("  audit of %llu transfers: %s in %.2f s\n",
              static_cast<unsigned long long>(auditor.transfers()),
              audit.ok() ? "OK" : audit.ToString().c_str(), Seconds(start, Clock::now()));
  std::printf("  peak RSS %.1f MB\n", mw::bench::PeakRssMb());
  std::printf("ledger postings_per_raw_put=%.2f\n", Median(ones) / raw);
  return 0;
}
