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

// One request's stream: reads are buffered (httplib's header parser reads a byte at a time) and
// wait no longer than the request's budget allows for the bytes that came so far; writes wait
// at most `write_timeout_ms` each. Waits are cut into slices so a stopping server is not held.
class DeadlineStream final : public httplib::Stream {
 public:
  DeadlineStream(int sock, const ReadBudget& budget, int64_t write_timeout_ms,
                 const std::atomic<socket_t>& listening)
      : sock_(sock),
        budget_(budget),
        write_timeout_ms_(write_timeout_ms),
        listening_(listening),
        start_(SteadyClock::now()) {}

  bool is_readable() const override { return pos_ < len_ || Wait(POLLIN); }
  bool is_writable() const override { return Wait(POLLOUT); }

  ssize_t read(char* ptr, size_t size) override {
    if (pos_ == len_) {
      if (!Wait(POLLIN)) return -1;
      const ssize_t n = recv(sock_, buffer_, sizeof(buffer_), 0);
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
    if (!Wait(POLLOUT)) return -1;
    return send(sock_, ptr, size, MSG_NOSIGNAL);
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
  // budget; for writing, within the write timeout from now.
  bool Wait(short events) const {
    const SteadyClock::time_point write_start = SteadyClock::now();
    while (listening_ != INVALID_SOCKET) {
      const int64_t left = events == POLLIN ? budget_.AllowedMs(bytes_read_) - MsSince(start_)
                                            : write_timeout_ms_ - MsSince(write_start);
      if (left <= 0) {
        if (events == POLLIN) {
          spdlog::warn("event=web_request_too_slow bytes={} ms={}", bytes_read_, MsSince(start_));
        }
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
  const int64_t write_timeout_ms_;
  const std::atomic<socket_t>& listening_;
  const SteadyClock::time_point start_;
  uint64_t bytes_read_ = 0;
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

int64_t ReadBudget::AllowedMs(uint64_t bytes_read) const {
  const int64_t rate = std::max<int64_t>(limits_.min_bytes_per_second, 1);
  const uint64_t earned = bytes_read / static_cast<uint64_t>(rate) * 1000;
  return std::min<int64_t>(limits_.max_ms,
                           limits_.first_ms + static_cast<int64_t>(std::min<uint64_t>(
                                                  earned, static_cast<uint64_t>(limits_.max_ms))));
}

bool ConnectionCounter::Acquire(const std::string& address) {
  absl::MutexLock l(&mu_);
  size_t& n = by_address_[address];
  if (n >= per_address_) return false;
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

GuardedServer::GuardedServer(ConnectionLimits limits)
    : limits_(limits), counter_(limits.per_address) {
  const size_t threads = std::max<size_t>(limits.total, 1);
  new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
}

bool GuardedServer::process_and_close_socket(socket_t sock) {
  std::string address;
  int port = 0;
  AddressOf(sock, /*peer=*/true, &address, &port);
  bool served = false;
  if (!counter_.Acquire(address)) {
    spdlog::warn("event=web_connection_refused remote={} why=\"too many connections from it\"",
                 address);
    static constexpr char kBusy[] =
        "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 39\r\n\r\n"
        "Too many connections from this device.\n";
    (void)send(sock, kBusy, sizeof(kBusy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
  } else {
    const ReadBudget budget(limits_);
    const int64_t write_ms = write_timeout_sec_ * 1000 + write_timeout_usec_ / 1000;
    for (size_t left = std::max<size_t>(keep_alive_max_count_, 1); left > 0; --left) {
      // The first request is waited for within its own budget; the next ones for keep-alive.
      if (left != std::max<size_t>(keep_alive_max_count_, 1) &&
          !NextRequestComes(sock, keep_alive_timeout_sec_ * 1000, svr_sock_)) {
        break;
      }
      DeadlineStream stream(sock, budget, write_ms, svr_sock_);
      bool closed = false;
      served = process_request(stream, /*close_connection=*/left == 1, closed, nullptr);
      if (!served || closed) break;
    }
    counter_.Release(address);
  }
  shutdown(sock, SHUT_RDWR);
  close(sock);
  return served;
}

}  // namespace mw::agent::web
