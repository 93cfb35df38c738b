#include "cli/client.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace mw::cli {

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(const ClientOptions& o) {
  std::unique_ptr<Client> c(new Client());
  if (o.token_file.empty()) {
    return absl::InvalidArgumentError("--token-file is required to talk to the dispatcher");
  }
  auto token = rpc::ReadFile(o.token_file);
  if (!token.ok()) return token.status();
  c->token_ = std::string(absl::StripAsciiWhitespace(*token));
  c->timeout_seconds_ = o.timeout_seconds;
  auto channel = rpc::MakeChannel(o.channel);
  if (!channel.ok()) return channel.status();
  c->channel_ = *channel;
  c->ops_ = v1::OperatorService::NewStub(c->channel_);
  c->ledger_ = v1::LedgerService::NewStub(c->channel_);
  c->centre_ = v1::CentreService::NewStub(c->channel_);
  return c;
}

std::unique_ptr<grpc::ClientContext> Client::Context() const {
  return rpc::MakeContext(token_, absl::Seconds(timeout_seconds_));
}

std::unique_ptr<grpc::ClientContext> Client::LongContext() const {
  return rpc::MakeContext(token_, absl::Hours(24));
}

}  // namespace mw::cli
