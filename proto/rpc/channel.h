// Client side of the wire: channels to the dispatcher (TLS or loopback-only plaintext) and
// per-call contexts that carry the bearer token and a deadline.
#ifndef MW_PROTO_RPC_CHANNEL_H_
#define MW_PROTO_RPC_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace mw::rpc {

struct ChannelOptions {
  std::string target;             // host:port
  std::string tls_ca;             // PEM file of the CA that signed the server; empty = plaintext
  std::string tls_cert, tls_key;  // client certificate for mutual TLS (optional)
  // How soon a broken connection is retried: a centre whose link or dispatcher comes back should
  // notice within seconds, not the minutes gRPC's default backoff grows to.
  int initial_reconnect_ms = 100;
  int max_reconnect_ms = 1000;
  int min_resolution_interval_ms = 200;
};

// A channel to `options.target`. Plaintext is allowed only to loopback addresses:
// INVALID_ARGUMENT otherwise, and NOT_FOUND when a PEM file cannot be read.
[[nodiscard]] absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const ChannelOptions& options);

// A context carrying `token` as "authorization: Bearer <token>" and the deadline now + timeout.
std::unique_ptr<grpc::ClientContext> MakeContext(const std::string& token, absl::Duration timeout);

// True for an address literal in 127.0.0.0/8, ::1, and localhost, given "host:port" or
// "[v6]:port"; false for any other name ("127.example.org" is a name, not an address).
bool IsLoopback(const std::string& host_port);

// Reads a whole file; NOT_FOUND naming the path when it cannot be read.
[[nodiscard]] absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace mw::rpc

#endif  // MW_PROTO_RPC_CHANNEL_H_
