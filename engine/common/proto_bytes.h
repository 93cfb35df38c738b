// Deterministic bytes of a protobuf message, for hashing. Plain serialization writes map fields
// in an order that can differ between processes, so two identical requests could hash apart.
#ifndef MW_ENGINE_COMMON_PROTO_BYTES_H_
#define MW_ENGINE_COMMON_PROTO_BYTES_H_

#include <string>

#include "google/protobuf/message_lite.h"

namespace mw {

// The message serialized with maps in key order: equal messages give equal bytes.
std::string DeterministicBytes(const google::protobuf::MessageLite& message);

}  // namespace mw

#endif  // MW_ENGINE_COMMON_PROTO_BYTES_H_
