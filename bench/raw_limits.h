// The physical limits the benchmarks compare against, measured in the same run on the same disk:
// raw synced batched RocksDB puts and a pipelined gRPC streaming echo on loopback.
#ifndef MW_BENCH_RAW_LIMITS_H_
#define MW_BENCH_RAW_LIMITS_H_

#include <chrono>
#include <string>

namespace mw::bench {

using SteadyClock = std::chrono::steady_clock;

inline double Seconds(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Batches of `batch` 100-byte puts into a fresh store in `dir`, each batch one synced write,
// for `seconds`. Entries per second; -1 when a write fails.
double RawSyncedPutsPerSecond(const std::string& dir, int batch, double seconds);

// One client streams `message_bytes`-byte messages to an echo server on loopback while a second
// thread reads the echoes back, for `seconds`. Echoed messages per second; -1 on failure.
double GrpcEchoMessagesPerSecond(int message_bytes, double seconds);

// The process's peak resident set so far, in MB.
double PeakRssMb();

}  // namespace mw::bench

#endif  // MW_BENCH_RAW_LIMITS_H_
