#include "worker-agent/web/connection_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace mw::agent::web {
namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t MsSince(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start).count();
}

// "ip" of a socket's peer (getpeername) or own end (getsockname); "" when unknown.
void AddressOf(int sock, bool peer, std::string* ip, int* port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  const int rc = peer ? getpeername(sock, reinterpret_cast<sockaddr*>(&addr), &len)
                      : getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len);
  ip->clear();
  *port = 0;
  if (rc != 0) return;
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    *port = ntohs(in->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    *port = ntohs(in6->sin6_port);
  }
  *ip = text;
}

// Retries a call interrupted by a signal.
template <typename Fn>
ssize_t Retrying(Fn fn) {
  ssize_t n;
  do {
    n = fn();
  } while (n < 0 && errno == EINTR);
  return n;
}

// One request's stream: reads are buffered (httplib's header parser reads a byte at a time) and
// wait no longer than the request's budget allows for the bytes that came so far; the response
// is written under the same budget, counted from its first byte by the bytes sent. Waits are cut
// into slices so a stopping server is not held.
class DeadlineStream final : public httplib::Stream {
 public:
  DeadlineStream(int sock, const ReadBudget& budget, const std::atomic<socket_t>& listening)
      : sock_(sock), budget_(budget), listening_(listening), start_(SteadyClock::now()) {}

  bool is_readable() const override { return pos_ < len_ || Wait(POLLIN); }
  bool is_writable() const override { return Wait(POLLOUT); }

  ssize_t read(char* ptr, size_t size) override {
    if (pos_ == len_) {
      if (!Wait(POLLIN)) return -1;
      const ssize_t n = Retrying([&] { return recv(sock_, buffer_, sizeof(buffer_), 0); });
      if (n <= 0) return n;
      pos_ = 0;
      len_ = static_cast<size_t>(n);
      bytes_read_ += len_;
    }
    const size_t n = std::min(size, len_ - pos_);
    std::memcpy(ptr, buffer_ + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }

  using httplib::Stream::write;
  ssize_t write(const char* ptr, size_t size) override {
    if (!writing_) {
      writing_ = true;
      write_start_ = SteadyClock::now();
    }
    if (!Wait(POLLOUT)) return -1;
    const ssize_t n = Retrying([&] { return send(sock_, ptr, size, MSG_NOSIGNAL); });
    if (n > 0) bytes_written_ += static_cast<uint64_t>(n);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    AddressOf(sock_, /*peer=*/true, &ip, &port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    AddressOf(sock_, /*peer=*/false, &ip, &port);
  }
  socket_t socket() const override { return sock_; }

 private:
  // Whether the socket became ready for `events` in time: for reading, within the request's
  // budget for the bytes read; for writing, within the response's for the bytes sent.
  bool Wait(short events) const {
    const bool reading = events == POLLIN;
    while (listening_ != INVALID_SOCKET) {
      const int64_t left = reading ? budget_.AllowedMs(bytes_read_) - MsSince(start_)
                                   : budget_.AllowedMs(bytes_written_ + 1) -
                                         (writing_ ? MsSince(write_start_) : int64_t{0});
      if (left <= 0) {
        spdlog::warn("event=web_{}_too_slow bytes={}", reading ? "request" : "response",
                     reading ? bytes_read_ : bytes_written_);
        return false;
      }
      pollfd p{.fd = sock_, .events = events, .revents = 0};
      const int rc = poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 100)));
      if (rc > 0) return true;
      if (rc < 0 && errno != EINTR) return false;
    }
    return false;
  }

  const int sock_;
  const ReadBudget& budget_;
  const std::atomic<socket_t>& listening_;
  const SteadyClock::time_point start_;
  uint64_t bytes_read_ = 0;
  bool writing_ = false;
  SteadyClock::time_point write_start_;
  uint64_t bytes_written_ = 0;
  char buffer_[4096];
  size_t pos_ = 0;
  size_t len_ = 0;
};

// Waits up to `timeout_ms` for the next request on a kept-alive connection; false at its end,
// when the peer closed, or when the server stops.
bool NextRequestComes(int sock, int64_t timeout_ms, const std::atomic<socket_t>& listening) {
  const SteadyClock::time_point start = SteadyClock::now();
  while (listening != INVALID_SOCKET) {
    const int64_t left = timeout_ms - MsSince(start);
    if (left <= 0) return false;
    pollfd p{.fd = sock, .events = POLLIN, .revents = 0};
    const int rc = poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 100)));
    if (rc > 0) return (p.revents & POLLIN) != 0;
    if (rc < 0 && errno != EINTR) return false;
  }
  return false;
}

}  // namespace

std::string DeviceOf(const sockaddr_storage& peer) {
  char text[INET6_ADDRSTRLEN] = {};
  if (peer.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&peer);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    return text;
  }
  if (peer.ss_family != AF_INET6) return "";
  in6_addr a = reinterpret_cast<const sockaddr_in6*>(&peer)->sin6_addr;
  if (IN6_IS_ADDR_V4MAPPED(&a)) {
    inet_ntop(AF_INET, &a.s6_addr[12], text, sizeof(text));
    return text;
  }
  std::memset(&a.s6_addr[8], 0, 8);  // the network's /64: one device, many addresses
  inet_ntop(AF_INET6, &a, text, sizeof(text));
  return absl::StrCat(text, "/64");
}

int64_t ReadBudget::AllowedMs(uint64_t bytes_read) const {
  if (bytes_read == 0) return std::min(limits_.idle_ms, limits_.first_ms);
  const int64_t rate = std::max<int64_t>(limits_.min_bytes_per_second, 1);
  const uint64_t earned = bytes_read / static_cast<uint64_t>(rate) * 1000;
  return std::min<int64_t>(limits_.max_ms,
                           limits_.first_ms + static_cast<int64_t>(std::min<uint64_t>(
                                                  earned, static_cast<uint64_t>(limits_.max_ms))));
}

bool ConnectionCounter::Acquire(const std::string& address) {
  absl::MutexLock l(&mu_);
  if (held_ >= total_) return false;
  size_t& n = by_address_[address];
  if (n >= per_address_) {
    return false;
  }
  ++n;
  ++held_;
  return true;
}

void ConnectionCounter::Release(const std::string& address) {
  absl::MutexLock l(&mu_);
  auto it = by_address_.find(address);
  if (it == by_address_.end() || it->second == 0) return;
  --held_;
  if (--it->second == 0) by_address_.erase(it);
}

size_t ConnectionCounter::Held() const {
  absl::MutexLock l(&mu_);
  return held_;
}

void ConnectionCounter::AwaitHeld(size_t n) const {
  auto enough = [this, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return held_ >= n; };
  absl::MutexLock l(&mu_);
  mu_.Await(absl::Condition(&enough));
}

// Threads beyond the total: they only ever refuse, in microseconds, so the queue of accepted
// connections drains however many are held.
constexpr size_t kSpareThreads = 4;

GuardedServer::GuardedServer(ConnectionLimits limits)
    : limits_(limits), counter_(limits.per_address, std::max<size_t>(limits.total, 1)) {
  const size_t threads = std::max<size_t>(limits.total, 1) + kSpareThreads;
  new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
}

void GuardedServer::Refuse(int sock, const std::string& device, const char* why) {
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now().time_since_epoch())
          .count();
  int64_t last = last_refusal_logged_ms_.load();
  if (now_ms - last >= 1000 && last_refusal_logged_ms_.compare_exchange_strong(last, now_ms)) {
    spdlog::warn("event=web_connection_refused remote={} why=\"{}\" (said once a second)", device,
                 why);
  }
  static constexpr char kBusy[] =
      "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\n"
      "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 39\r\n\r\n"
      "Too many connections from this device.\n";
  (void)send(sock, kBusy, sizeof(kBusy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
  // Read what the client sent already, so closing does not reset the connection before it reads
  // the refusal.
  shutdown(sock, SHUT_WR);
  char drain[4096];
  for (int i = 0; i < 16 && recv(sock, drain, sizeof(drain), MSG_DONTWAIT) > 0; ++i) {
  }
}

bool GuardedServer::process_and_close_socket(socket_t sock) {
  sockaddr_storage peer{};
  socklen_t len = sizeof(peer);
  const std::string device =
      getpeername(sock, reinterpret_cast<sockaddr*>(&peer), &len) == 0 ? DeviceOf(peer) : "";
  bool served = false;
  if (!counter_.Acquire(device)) {
    Refuse(sock, device, "too many connections");
  } else {
    // Given back however this ends.
    struct Slot {
      ConnectionCounter& counter;
      const std::string& device;
      ~Slot() { counter.Release(device); }
    } slot{counter_, device};
    const ReadBudget budget(limits_);
    const size_t requests = std::max<size_t>(keep_alive_max_count_, 1);
    for (size_t left = requests; left > 0; --left) {
      // The first request is waited for within its own budget; the next ones for keep-alive.
      if (left != requests && !NextRequestComes(sock, keep_alive_timeout_sec_ * 1000, svr_sock_)) {
        break;
      }
      DeadlineStream stream(sock, budget, svr_sock_);
      bool closed = false;
      served = process_request(stream, /*close_connection=*/left == 1, closed, nullptr);
      if (!served || closed) break;
    }
  }
  shutdown(sock, SHUT_RDWR);
  close(sock);
  return served;
}

}  // namespace mw::agent::web
