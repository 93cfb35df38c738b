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

// DATA_LOSS when `value` is empty, has an unknown format byte, or does not parse.
[[nodiscard]] absl::Status DecodeRecord(absl::string_view value,
                                        google::protobuf::MessageLite* record);

}  // namespace mw::storage

#endif  // MW_ENGINE_STORAGE_RECORD_H_
