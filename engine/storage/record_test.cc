#include "engine/storage/record.h"

#include <string>

#include "engine/common/proto_bytes.h"
#include "gtest/gtest.h"
#include "microwork/v1/records.pb.h"

namespace mw::storage {
namespace {

namespace v1 = ::microwork::v1;

v1::Result AResult(size_t text_bytes) {
  v1::Result r;
  r.set_result_id("r-1");
  r.set_assignment_id("job-1/check/7/amina");
  r.set_worker("amina");
  r.set_epoch(3);
  r.mutable_answer()->set_text(std::string(text_bytes, 'x'));
  return r;
}

// A record written with its result's bytes spliced in reads back as the record with that result
// set, and is the very bytes EncodeRecord gives that record: a length of one varint byte and of
// two (a result of 127 bytes or more).
TEST(RecordTest, ARecordWithAMessageFieldsBytesReadsAsTheRecordWithThatMessage) {
  for (size_t text : {size_t{0}, size_t{20}, size_t{300}, size_t{70'000}}) {
    const v1::Result result = AResult(text);
    v1::ContributionRecord rest;
    rest.set_centre("nairobi");
    rest.set_task_id("job-1/check/7");
    rest.mutable_receipt()->set_result_id("r-1");
    rest.set_counted(true);
    const std::string spliced = EncodeRecordWith(rest, v1::ContributionRecord::kResultFieldNumber,
                                                 DeterministicBytes(result));

    v1::ContributionRecord read;
    ASSERT_TRUE(DecodeRecord(spliced, &read).ok()) << text;
    v1::ContributionRecord whole = rest;
    *whole.mutable_result() = result;
    EXPECT_EQ(read.SerializeAsString(), whole.SerializeAsString()) << text;
    EXPECT_EQ(read.result().answer().text().size(), text);
    EXPECT_EQ(read.centre(), "nairobi");
    EXPECT_EQ(spliced.size(), EncodeRecord(whole).size()) << text;
  }
}

TEST(RecordTest, AnEmptyOrUnknownFormatIsDataLoss) {
  v1::Result r;
  EXPECT_EQ(DecodeRecord("", &r).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeRecord(std::string(1, '\x07') + "x", &r).code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(DecodeRecord(EncodeRecord(AResult(5)), &r).ok());
  EXPECT_EQ(r.answer().text(), "xxxxx");
}

}  // namespace
}  // namespace mw::storage
