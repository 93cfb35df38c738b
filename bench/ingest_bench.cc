// ingest_bench: a large CSV input streamed through a real contract submission (split into
// items, staged in RocksDB, made a job in one synced write). Prints rows/s and the process's
// peak RSS, for two sizes, to show memory does not grow with the row count. A program that
// prints figures, not a test.
//
//   build/bin/ingest_bench [--rows 1000000] [--dir /tmp]
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "bench/bench_support.h"
#include "engine/common/lock_checks.h"
#include "engine/contract/contract_file.h"
#include "engine/dispatch/engine.h"
#include "testing/temp_dir.h"

namespace {

namespace v1 = microwork::v1;

// Submits `rows` generated rows (with every 10,000th malformed) in 256 KB chunks.
void Ingest(const std::string& dir, uint64_t rows) {
  mw::FakeClock clock;
  auto engine = mw::dispatch::Engine::Open(dir, &clock, {}).value();
  v1::ContractHeader header;
  header.set_idempotency_key(absl::StrCat("ingest-", rows));
  header.set_wait_for_centres(true);  // ingest only: no centre
  *header.mutable_contract() =
      mw::contract::ParseContract(mw::bench::ReceiptsContract(/*overlap=*/3), "bench").value();
  const auto start = std::chrono::steady_clock::now();
  auto reply = mw::bench::SubmitGeneratedCsv(
      engine.get(), header, "rows", "receipt_id,merchant,amount,description", rows,
      [](uint64_t i, std::string* chunk) {
        if (i % 10000 == 9999) {
          absl::StrAppend(chunk, "R", i, ",broken row\n");  // wrong field count: quarantined
        } else {
          absl::StrAppend(chunk, "R", i, ",\"Duka la Mama ", i % 977, "\",", (i * 37) % 100000, ".",
                          i % 100, ",\"maize flour, 2kg; cooking oil\"\n");
        }
      });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!reply.ok()) {
    std::fprintf(stderr, "%s\n", reply.status().ToString().c_str());
    std::exit(1);
  }
  std::printf(
      "  %9llu rows: %9.0f rows/s  (%.2f s)  items %llu, quarantined %llu;  "
      "RSS now %.0f MB, peak so far %.0f MB\n",
      static_cast<unsigned long long>(rows), rows / seconds, seconds,
      static_cast<unsigned long long>(reply->job().items()),
      static_cast<unsigned long long>(reply->quarantined_total()), mw::bench::RssMb(),
      mw::bench::PeakRssMb());
}

}  // namespace

int main(int argc, char** argv) {
  mw::SkipLockOrderChecks();  // as mw-dispatcher does
  CLI::App app{"ingest_bench"};
  uint64_t rows = 1'000'000;
  std::string base;
  app.add_option("--rows", rows, "Rows in the large run");
  app.add_option("--dir", base, "Where the database goes (default $TMPDIR)");
  CLI11_PARSE(app, argc, argv);
  if (!base.empty()) setenv("TMPDIR", base.c_str(), 1);
  mw::testing::TempDir dir;
  std::printf("Streaming CSV ingest through a contract submission (256 KB chunks)\n");
  Ingest(dir.Sub("small"), rows / 10);
  Ingest(dir.Sub("large"), rows);
  return 0;
}
