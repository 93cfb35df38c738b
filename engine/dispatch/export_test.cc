// The results export of a job larger than the batches its items are read in (export.cc reads
// items and verdicts on one thread and makes rows on the caller's): every row once, in input
// order, with its own verdict; a stop by the sink stops it; a cancelled job lists every item.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/dispatch/engine_test_fixture.h"
#include "gtest/gtest.h"
#include "testing/contracts.h"

namespace mw::dispatch {
namespace {

// More than the export's read batches waiting and being made (8 + 2 of 64 items), so a sink
// that stops early also stops a reader that has filled them.
constexpr int kItems = 1000;

class ExportTest : public EngineTest {
 protected:
  // Twenty workers lease fifty items each and answer those `answered` says: "negative" for those
  // divisible by 3, else "positive"; the others stay out, unanswered (the centre may hold them
  // all).
  void AnswerItems(const std::function<bool(uint64_t)>& answered) {
    v1::AddCentreRequest add;
    add.set_idempotency_key("add-nairobi");
    *add.mutable_centre() = MakeCentre("nairobi");
    add.mutable_centre()->set_capacity(kItems);
    ASSERT_TRUE(engine_->AddCentre(add).ok());
    v1::RegisterRequest workers;
    for (int w = 0; w * 50 < kItems; ++w) workers.add_workers()->set_worker(absl::StrCat("w", w));
    ASSERT_TRUE(engine_->Register("nairobi", workers).ok());
    ASSERT_TRUE(Submit(testing::ManyReviewsContract(kItems)).ok());
    for (int round = 0; round * 50 < kItems; ++round) {
      auto lease = Lease("nairobi", absl::StrCat("w", round), 50, absl::StrCat("L-", round));
      ASSERT_TRUE(lease.ok()) << lease.status();
      std::vector<v1::Result> results;
      for (const auto& a : lease->assignments()) {
        const uint64_t item = a.item().index();
        if (answered(item)) results.push_back(Answer(a, item % 3 == 0 ? "negative" : "positive"));
      }
      ASSERT_EQ(lease->assignments_size(), 50);
      for (const auto& r : SubmitResults("nairobi", results)) {
        ASSERT_EQ(r.status(), v1::RECEIPT_ACCEPTED) << r.detail();
      }
    }
  }

  // Every row's item, answer and status, as the export hands them over, until `stop_after`.
  std::vector<std::string> Rows(size_t stop_after = SIZE_MAX) {
    std::vector<std::string> rows;
    absl::Status s = engine_->ExportResults("job-1", [&](v1::ResultRecord&& r) {
      rows.push_back(absl::StrCat(r.item_index(), " ", r.answer().choice(), " ", r.status()));
      return rows.size() < stop_after;
    });
    EXPECT_TRUE(s.ok()) << s;
    return rows;
  }

  static std::string Row(uint64_t item) {
    return absl::StrCat(item, " ", item % 3 == 0 ? "negative" : "positive", " succeeded");
  }
};

TEST_F(ExportTest, EveryFinishedItemIsOneRowInInputOrderWithItsOwnVerdict) {
  AnswerItems([](uint64_t item) { return item % 7 != 5; });
  std::vector<std::string> want;
  for (uint64_t i = 0; i < kItems; ++i) {
    if (i % 7 != 5) want.push_back(Row(i));
  }
  EXPECT_EQ(Rows(), want);
}

TEST_F(ExportTest, ASinkThatStopsGetsNoMoreRows) {
  AnswerItems([](uint64_t) { return true; });
  std::vector<std::string> want;
  for (uint64_t i = 0; i < 70; ++i) want.push_back(Row(i));
  EXPECT_EQ(Rows(/*stop_after=*/70), want);
}

TEST_F(ExportTest, ACancelledJobListsEveryItemAnsweredOrNot) {
  AnswerItems([](uint64_t item) { return item % 7 != 5; });
  v1::ControlJobRequest cancel;
  cancel.set_idempotency_key("c1");
  cancel.set_job_id("job-1");
  cancel.set_action(v1::JOB_CANCEL);
  ASSERT_TRUE(engine_->ControlJob(cancel).ok());
  std::vector<std::string> want;
  for (uint64_t i = 0; i < kItems; ++i) {
    want.push_back(i % 7 != 5 ? Row(i) : absl::StrCat(i, "  cancelled before label"));
  }
  EXPECT_EQ(Rows(), want);
}

}  // namespace
}  // namespace mw::dispatch
