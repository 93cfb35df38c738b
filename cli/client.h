// The dispatcher as `mw` sees it: one channel, the operator token, and a deadline on every call.
#ifndef MW_CLI_CLIENT_H_
#define MW_CLI_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "microwork/v1/services.grpc.pb.h"
#include "proto/rpc/channel.h"

namespace mw::cli {

namespace v1 = ::microwork::v1;

struct ClientOptions {
  rpc::ChannelOptions channel;
  std::string token_file;  // operator token, or a centre credential
  int timeout_seconds = 30;
};

class Client {
 public:
  // NOT_FOUND when the token file cannot be read; INVALID_ARGUMENT for a plaintext remote.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Client>> Connect(const ClientOptions& o);

  std::unique_ptr<grpc::ClientContext> Context() const;
  // A context for streams that may run long (watch, export, ledger reads).
  std::unique_ptr<grpc::ClientContext> LongContext() const;

  v1::OperatorService::Stub& ops() { return *ops_; }
  v1::LedgerService::Stub& ledger() { return *ledger_; }
  v1::CentreService::Stub& centre() { return *centre_; }

 private:
  Client() = default;
  std::string token_;
  int timeout_seconds_ = 30;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::OperatorService::Stub> ops_;
  std::unique_ptr<v1::LedgerService::Stub> ledger_;
  std::unique_ptr<v1::CentreService::Stub> centre_;
};

}  // namespace mw::cli

#endif  // MW_CLI_CLIENT_H_
