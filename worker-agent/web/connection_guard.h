// The page's connections against a neighbour who holds them open: a cap on connections per
// client address and in all, and a request that must arrive at a minimum rate, so half-sent
// headers (slowloris) hold a connection for seconds, not for ever, and never every one.
//
// httplib 0.11 reads a request with a timeout per read and no deadline for the whole: a client
// sending a header line every few seconds kept one of its eight threads for as long as it liked,
// and eight such clients blocked every request. GuardedServer replaces httplib's connection loop
// (its virtual process_and_close_socket) with one that takes a slot per address first and reads
// each request through a stream with a deadline that grows only with the bytes that arrive
// (ReadBudget, like Apache's mod_reqtimeout), then hands the stream to httplib's own request
// parser (process_request).
#ifndef MW_WORKER_AGENT_WEB_CONNECTION_GUARD_H_
#define MW_WORKER_AGENT_WEB_CONNECTION_GUARD_H_

#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace mw::agent::web {

struct ConnectionLimits {
  size_t per_address = 8;  // connections one client address may hold at once
  size_t total = 32;       // connections served at once (threads); more wait to be accepted
  // A request (headers and body) must arrive within first_ms, plus one second for every
  // min_bytes_per_second bytes that came, and never more than max_ms in all.
  int64_t first_ms = 20'000;
  int64_t min_bytes_per_second = 500;
  int64_t max_ms = 300'000;
};

// How long a request may take to arrive, given what has come of it.
//
//   ReadBudget b(limits);
//   b.AllowedMs(0);       // 20'000: the headers' first chance
//   b.AllowedMs(50'000);  // 120'000: a slow phone sending a long answer keeps going
class ReadBudget {
 public:
  explicit ReadBudget(const ConnectionLimits& limits) : limits_(limits) {}
  int64_t AllowedMs(uint64_t bytes_read) const;

 private:
  ConnectionLimits limits_;
};

// Who holds how many connections. Thread-safe.
class ConnectionCounter {
 public:
  explicit ConnectionCounter(size_t per_address) : per_address_(per_address) {}
  // Takes a slot for `address`; false, taking nothing, when it holds per_address already.
  bool Acquire(const std::string& address);
  void Release(const std::string& address);
  size_t Held() const;
  // Blocks until `n` connections are held (tests: the next one is decided against them).
  void AwaitHeld(size_t n) const;

 private:
  const size_t per_address_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, size_t> by_address_ ABSL_GUARDED_BY(mu_);
  size_t held_ ABSL_GUARDED_BY(mu_) = 0;
};

// An httplib::Server whose connections are counted and whose requests have a deadline. A
// connection over its address's cap is answered 503 with Retry-After and closed at once.
class GuardedServer : public httplib::Server {
 public:
  explicit GuardedServer(ConnectionLimits limits);
  const ConnectionCounter& connections() const { return counter_; }

 private:
  bool process_and_close_socket(socket_t sock) override;

  const ConnectionLimits limits_;
  ConnectionCounter counter_;
};

}  // namespace mw::agent::web

#endif  // MW_WORKER_AGENT_WEB_CONNECTION_GUARD_H_
