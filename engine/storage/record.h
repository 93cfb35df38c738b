// Stored values: a format-version byte, then the serialized protobuf record.
#ifndef MW_ENGINE_STORAGE_RECORD_H_
#define MW_ENGINE_STORAGE_RECORD_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message_lite.h"

namespace mw::storage {

// The format of every value written today. Persisted: a reader must keep accepting every
// version it ever wrote.
inline constexpr char kRecordFormatV1 = 1;

std::string EncodeRecord(const google::protobuf::MessageLite& record);

// EncodeRecord of `record` with its message field number `field` set to the message whose
// serialization is `embedded`: the bytes of a message already serialized are written as they
// are, not parsed into `record` and serialized again (protobuf reads a message field wherever
// it comes in a message). REQUIRES: `record` has no `field` of its own.
std::string EncodeRecordWith(const google::protobuf::MessageLite& record, int field,
                             absl::string_view embedded);

// Appends to `encoded` (an EncodeRecord) its message field `field` holding the record
// `embedded_record` (an EncodeRecord too, format byte and all), without parsing either: a
// repeated field grows by one. REQUIRES: `embedded_record` is in format kRecordFormatV1.
void AppendRecordField(std::string* encoded, int field, absl::string_view embedded_record);

// DATA_LOSS when `value` is empty, has an unknown format byte, or does not parse.
[[nodiscard]] absl::Status DecodeRecord(absl::string_view value,
                                        google::protobuf::MessageLite* record);

}  // namespace mw::storage

#endif  // MW_ENGINE_STORAGE_RECORD_H_
