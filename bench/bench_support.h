// What the benchmark programs share: the physical limits they compare against, measured in the
// same run on the same disk (raw synced batched RocksDB puts, a pipelined gRPC streaming echo on
// loopback), and a large generated input streamed through a real contract submission.
#ifndef MW_BENCH_BENCH_SUPPORT_H_
#define MW_BENCH_BENCH_SUPPORT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/dispatch/engine.h"

namespace mw::bench {

using SteadyClock = std::chrono::steady_clock;

inline double Seconds(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// The middle value of `v` (the mean of the two middle ones when there are an even number); 0 for
// none. What the benches report of repeated runs: this machine's speed drifts.
double Median(std::vector<double> v);

// Batches of `batch` 100-byte puts into a fresh store in `dir`, each batch one synced write,
// for `seconds`. Entries per second; -1 when a write fails.
double RawSyncedPutsPerSecond(const std::string& dir, int batch, double seconds);

// One client streams `message_bytes`-byte messages to an echo server on loopback while a second
// thread reads the echoes back, for `seconds`. Echoed messages per second; -1 on failure.
double GrpcEchoMessagesPerSecond(int message_bytes, double seconds);

// The process's peak resident set so far, and its resident set now (VmRSS), in MB.
double PeakRssMb();
double RssMb();
// A figure of /proc/self/status in MB: "VmRSS", "RssAnon" (the heap, stacks), "RssFile" (the
// mapped pages of the program and its libraries); -1 when absent.
double StatusMb(absl::string_view field);

// The CPU time the process has used so far, every thread's, user and system, in seconds. On a
// shared machine a rate moves with the neighbours; the CPU a piece of work takes moves less.
double ProcessCpuSeconds();
// The CPU time, user and system, of the process's threads whose name starts with `prefix` (at
// most 15 characters, as Linux keeps them): "rocksdb:" for RocksDB's flushes and compactions.
double ThreadsCpuSeconds(const std::string& prefix);

// The contract the dispatch benches run: receipts split by row into a yes/no check stage of
// `overlap` answers, then `more_stages` (YAML list items, "" for none).
std::string ReceiptsContract(int overlap, const std::string& more_stages = "");

// Adds centre `id` (Kenya, USD, a floor of 6.00 an hour, English, `capacity` assignments at
// once) and puts `workers` on duty there. The centre's credential.
absl::StatusOr<std::string> AddCentre(dispatch::Engine* engine, const std::string& id,
                                      uint32_t capacity, const std::vector<std::string>& workers);

// Every assignment of `leased` answered at once, as a centre sends them ("no" for every seventh
// item, nine seconds on each).
microwork::v1::SubmitResultsRequest AnswerAll(const microwork::v1::LeaseReply& leased);

// Submits `header` with its CSV input `input` generated on the fly: `first_line` (the header
// row), then `rows` rows, row i appended by `row(i, &chunk)`, sent in 256 KB chunks.
absl::StatusOr<microwork::v1::SubmitContractReply> SubmitGeneratedCsv(
    dispatch::Engine* engine, const microwork::v1::ContractHeader& header, const std::string& input,
    const std::string& first_line, uint64_t rows,
    const std::function<void(uint64_t, std::string*)>& row);

}  // namespace mw::bench

#endif  // MW_BENCH_BENCH_SUPPORT_H_
