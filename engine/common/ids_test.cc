#include "engine/common/ids.h"

#include "gtest/gtest.h"

namespace mw {
namespace {

TEST(IdsTest, TaskIdRoundTrips) {
  const std::string id = TaskId("job-7", "label", 42);
  EXPECT_EQ(id, "job-7/label/42");
  auto ref = ParseTaskId(id);
  ASSERT_TRUE(ref.ok()) << ref.status();
  EXPECT_EQ(ref->job_id, "job-7");
  EXPECT_EQ(ref->stage, "label");
  EXPECT_EQ(ref->item, 42u);
}

TEST(IdsTest, MalformedTaskIdsAreRejected) {
  // An item spelled otherwise than TaskId spells it would be a second name for the same task.
  for (const char* bad :
       {"", "job-7", "job-7/label", "job-7/label/x", "/label/1", "a/b/1/2", "job-7/label/04",
        "job-7/label/+4", "job-7/label/ 4", "job-7/label/4 ", "job-7/label/-0", "job-7/label/00",
        "job-7//4", "job-7/label/", "job-7/label/4/"}) {
    EXPECT_EQ(ParseTaskId(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(IdsTest, ItemZeroAndTheLargestItemParse) {
  EXPECT_EQ(ParseTaskId("job-7/label/0")->item, 0u);
  EXPECT_EQ(ParseTaskId("job-7/label/18446744073709551615")->item, UINT64_MAX);
  EXPECT_FALSE(ParseTaskId("job-7/label/18446744073709551616").ok());
}

TEST(IdsTest, AssignmentIdSplitsAtTheLastAt) {
  const std::string id = AssignmentId("job-7/label/42", "w-3f9a");
  EXPECT_EQ(id, "job-7/label/42@w-3f9a");
  auto parts = ParseAssignmentId(id);
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->first, "job-7/label/42");
  EXPECT_EQ(parts->second, "w-3f9a");
  EXPECT_FALSE(ParseAssignmentId("job-7/label/42").ok());
  EXPECT_FALSE(ParseAssignmentId("job-7/label/42@").ok());
}

TEST(IdsTest, DerivedTransferIdsAreStable) {
  EXPECT_EQ(WageTransferId("job-1/a/0@w"), "wage:job-1/a/0@w");
  EXPECT_EQ(WagePostTransferId("job-1/a/0@w"), "wage-post:job-1/a/0@w");
  EXPECT_EQ(WorkerAccount("nairobi", "w1"), "worker:nairobi/w1");
  EXPECT_EQ(OperatorFundingTransferId("job-1", "f1"), "fund:job-1:key:f1");
  EXPECT_EQ(TopUpTransferId("job-1", "wage:job-1/a/0@w"), "fund:job-1:after:wage:job-1/a/0@w");
  // An operator's key shaped like a top-up's tail still names a funding of its own.
  EXPECT_NE(OperatorFundingTransferId("job-1", "after:p"), TopUpTransferId("job-1", "p"));
}

TEST(IdsTest, SimpleNames) {
  EXPECT_TRUE(IsSimpleName("label_2"));
  EXPECT_TRUE(IsSimpleName("centre-a"));
  EXPECT_FALSE(IsSimpleName(""));
  EXPECT_FALSE(IsSimpleName("Label"));
  EXPECT_FALSE(IsSimpleName("a/b"));
  EXPECT_FALSE(IsSimpleName(std::string(41, 'a')));
}

}  // namespace
}  // namespace mw

#include "engine/common/proto_bytes.h"
#include "microwork/v1/contract.pb.h"

namespace mw {
namespace {

TEST(ProtoBytesTest, MapOrderDoesNotChangeTheBytes) {
  microwork::v1::HumanStage a, b;
  for (const char* lang : {"en", "sw", "fr", "hi", "yo", "am"}) {
    (*a.mutable_instructions())[lang] = lang;
  }
  for (const char* lang : {"am", "yo", "hi", "fr", "sw", "en"}) {
    (*b.mutable_instructions())[lang] = lang;
  }
  EXPECT_EQ(DeterministicBytes(a), DeterministicBytes(b));
  microwork::v1::HumanStage parsed;
  ASSERT_TRUE(parsed.ParseFromString(DeterministicBytes(a)));
  EXPECT_EQ(parsed.instructions().at("yo"), "yo");
}

TEST(PersonKeyTest, CaseAndSpacingDoNotMakeAnotherPerson) {
  EXPECT_EQ(PersonKey("  Manager:Grace "), "manager:grace");
  EXPECT_EQ(PersonKey("Grace   Wanjiru"), PersonKey("grace wanjiru"));
  EXPECT_NE(PersonKey("grace"), PersonKey("gracie"));
  EXPECT_EQ(PersonKey("   "), "");
}

}  // namespace
}  // namespace mw
