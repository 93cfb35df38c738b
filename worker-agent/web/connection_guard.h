// The page's connections against a neighbour who holds them open: a cap on connections per
// device and in all, and requests and responses that must move at a minimum rate, so half-sent
// headers (slowloris) or a reply read a byte at a time hold a connection for seconds, not for
// ever, and never every one.
//
// httplib 0.11 reads a request with a timeout per read and no deadline for the whole: a client
// sending a header line every few seconds kept one of its eight threads for as long as it liked,
// and eight such clients blocked every request. GuardedServer replaces httplib's connection loop
// (its virtual process_and_close_socket) with one that takes a slot per device first and reads
// each request through a stream with a deadline that grows only with the bytes that arrive
// (ReadBudget, like Apache's mod_reqtimeout), then hands the stream to httplib's own request
// parser (process_request).
//
// Limits: a neighbour with many addresses (several DHCP leases) still holds `per_address` per
// address; the total keeps the page's memory and threads bounded whatever they do.
#ifndef MW_WORKER_AGENT_WEB_CONNECTION_GUARD_H_
#define MW_WORKER_AGENT_WEB_CONNECTION_GUARD_H_

#include <httplib.h>

#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace mw::agent::web {

struct ConnectionLimits {
  // Connections one device may hold at once. A device is its IPv4 address, or its IPv6 /64 (a
  // phone has many addresses in its network's /64); an IPv4-mapped IPv6 address is its IPv4.
  size_t per_address = 8;
  // Connections served at once. More are answered 503 at once by a few spare threads, so a
  // flood of connections never queues in front of the next person.
  size_t total = 32;
  // A request's first byte must come within idle_ms; the whole request (headers and body)
  // within first_ms plus one second for every min_bytes_per_second bytes that came, and never
  // more than max_ms. A response is written under the same budget, by the bytes it sent.
  int64_t idle_ms = 5'000;
  int64_t first_ms = 20'000;
  int64_t min_bytes_per_second = 500;
  int64_t max_ms = 300'000;
};

// Who a connection counts against: "203.0.113.7", "2001:db8:1:2::/64". "" when unknown.
std::string DeviceOf(const struct sockaddr_storage& peer);

// How long a request may take to arrive, given what has come of it.
//
//   ReadBudget b(limits);
//   b.AllowedMs(0);       // 5'000: nothing came yet
//   b.AllowedMs(1);       // 20'000: the headers' chance
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
  ConnectionCounter(size_t per_address, size_t total) : per_address_(per_address), total_(total) {}
  // Takes a slot for `address`; false, taking nothing, when it holds per_address already or
  // `total` are held in all.
  bool Acquire(const std::string& address);
  void Release(const std::string& address);
  size_t Held() const;
  // Blocks until `n` connections are held (tests: the next one is decided against them).
  void AwaitHeld(size_t n) const;

 private:
  const size_t per_address_;
  const size_t total_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, size_t> by_address_ ABSL_GUARDED_BY(mu_);
  size_t held_ ABSL_GUARDED_BY(mu_) = 0;
};

// An httplib::Server whose connections are counted and whose requests and responses have a
// deadline. A connection over its device's cap or the total is answered 503 with Retry-After and
// closed at once.
class GuardedServer : public httplib::Server {
 public:
  explicit GuardedServer(ConnectionLimits limits);
  const ConnectionCounter& connections() const { return counter_; }

 private:
  bool process_and_close_socket(socket_t sock) override;

  // Refuses `sock` with a 503 (said once a second in the log at most).
  void Refuse(int sock, const std::string& device, const char* why);

  const ConnectionLimits limits_;
  ConnectionCounter counter_;
  std::atomic<int64_t> last_refusal_logged_ms_{0};
};

}  // namespace mw::agent::web

#endif  // MW_WORKER_AGENT_WEB_CONNECTION_GUARD_H_
