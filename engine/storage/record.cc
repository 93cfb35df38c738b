#include "engine/storage/record.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace mw::storage {

std::string EncodeRecord(const google::protobuf::MessageLite& record) {
  std::string out(1, kRecordFormatV1);
  record.AppendToString(&out);
  return out;
}

namespace {

// Appends `bytes` as message field `field` (length-delimited): its tag, its length, itself.
void AppendLengthDelimited(std::string* out, int field, absl::string_view bytes) {
  using google::protobuf::io::CodedOutputStream;
  uint8_t head[10];  // the tag and the length: varints of at most 5 bytes each
  uint8_t* end = CodedOutputStream::WriteTagToArray(
      google::protobuf::internal::WireFormatLite::MakeTag(
          field, google::protobuf::internal::WireFormatLite::WIRETYPE_LENGTH_DELIMITED),
      head);
  end = CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(bytes.size()), end);
  out->append(reinterpret_cast<const char*>(head), static_cast<size_t>(end - head));
  out->append(bytes.data(), bytes.size());
}

}  // namespace

std::string EncodeRecordWith(const google::protobuf::MessageLite& record, int field,
                             absl::string_view embedded) {
  std::string out = EncodeRecord(record);
  AppendLengthDelimited(&out, field, embedded);
  return out;
}

void AppendRecordField(std::string* encoded, int field, absl::string_view embedded_record) {
  embedded_record.remove_prefix(1);  // its format byte
  AppendLengthDelimited(encoded, field, embedded_record);
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
