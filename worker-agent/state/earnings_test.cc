#include "worker-agent/state/earnings.h"

#include <memory>

#include "engine/storage/keys.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::centre {
namespace {

namespace v1 = ::microwork::v1;

v1::OutboxEntry Answered(const std::string& worker, int item, int64_t at_ms) {
  v1::OutboxEntry e;
  v1::Result* r = e.mutable_result();
  r->set_result_id(absl::StrCat("r", item));
  r->set_assignment_id(absl::StrCat("job-1/label/", item, "@", worker));
  r->set_worker(worker);
  r->set_answered_at_ms(at_ms);
  r->set_active_seconds(30);
  e.set_distressing(true);
  return e;
}

TEST(EarningForTest, AnEarningCarriesTheReceiptsWageAndTheAnswersTime) {
  v1::Receipt receipt;
  receipt.set_status(v1::RECEIPT_ACCEPTED);
  receipt.set_wage_minor(12);
  receipt.set_currency("KES");
  receipt.set_check(true);
  receipt.set_check_correct(true);
  const v1::EarningRecord e = EarningFor(Answered("w1", 4, 1'000), receipt);
  EXPECT_EQ(e.result_id(), "r4");
  EXPECT_EQ(e.task_id(), "job-1/label/4");
  EXPECT_EQ(e.stage(), "label");
  EXPECT_EQ(e.wage_minor(), 12);
  EXPECT_EQ(e.currency(), "KES");
  EXPECT_EQ(e.active_seconds(), 30u);
  EXPECT_EQ(e.answered_at_ms(), 1'000);
  EXPECT_TRUE(e.distressing());
  EXPECT_TRUE(e.check());
  EXPECT_TRUE(e.check_correct());
}

class EarningsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = storage::Store::Open(dir_.Sub("db"), storage::Schema::kAgent);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    earnings_ = std::make_unique<Earnings>(store_.get());
  }
  void Put(const std::string& worker, int item, int64_t at_ms) {
    storage::Batch batch;
    earnings_->Put(worker, EarningFor(Answered(worker, item, at_ms), v1::Receipt()), &batch);
    ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
  }

  mw::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Earnings> earnings_;
};

TEST_F(EarningsTest, AWorkersEarningsAreReadFromAMomentOnOldestFirstAndNobodyElses) {
  Put("w1", 2, 2'000);
  Put("w1", 1, 1'000);
  Put("w10", 3, 1'500);  // a pseudonym that starts like w1's
  auto all = earnings_->Since("w1", 0);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].result_id(), "r1");
  EXPECT_EQ((*all)[1].result_id(), "r2");
  EXPECT_EQ(earnings_->Since("w1", 1'001)->size(), 1u);
  EXPECT_EQ(earnings_->Since("w1", 2'001)->size(), 0u);
  EXPECT_EQ(earnings_->Since("w10", 0)->size(), 1u);
  EXPECT_TRUE(earnings_->Load().ok());
}

TEST_F(EarningsTest, AnUnreadableEarningIsDataLossNamingIt) {
  Put("w1", 1, 1'000);
  storage::Batch batch;
  batch.Put(storage::Cf::kEarnings, storage::keys::Earning("w1", 1'500, "rx"), "\x01not a record");
  ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
  EXPECT_EQ(earnings_->Load().code(), absl::StatusCode::kDataLoss);
  auto read = earnings_->Since("w1", 0);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(read.status().message().find("earnings record"), std::string::npos) << read.status();
  EXPECT_EQ(earnings_->Since("w1", 2'000)->size(), 0u);  // after it: readable
}

}  // namespace
}  // namespace mw::centre
