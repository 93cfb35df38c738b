#include "engine/storage/record.h"

#include "absl/strings/str_cat.h"

namespace mw::storage {

std::string EncodeRecord(const google::protobuf::MessageLite& record) {
  std::string out(1, kRecordFormatV1);
  record.AppendToString(&out);
  return out;
}

absl::Status DecodeRecord(absl::string_view value, google::protobuf::MessageLite* record) {
  if (value.empty() || value[0] != kRecordFormatV1) {
    return absl::DataLossError(absl::StrCat("stored ", record->GetTypeName(),
                                            ": unknown record format ",
                                            value.empty() ? -1 : static_cast<int>(value[0])));
  }
  value.remove_prefix(1);
  if (!record->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError(absl::StrCat("stored ", record->GetTypeName(), " does not parse"));
  }
  return absl::OkStatus();
}

}  // namespace mw::storage
