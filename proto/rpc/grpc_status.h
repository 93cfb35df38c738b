// The one place an absl::Status becomes a grpc::Status. Codes map one to one.
#ifndef MW_PROTO_RPC_GRPC_STATUS_H_
#define MW_PROTO_RPC_GRPC_STATUS_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/status/status.h"

namespace mw::rpc {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// The bearer token in the call's "authorization" metadata, or "" when there is none.
std::string BearerToken(const grpc::ServerContext& context);

}  // namespace mw::rpc

#endif  // MW_PROTO_RPC_GRPC_STATUS_H_
