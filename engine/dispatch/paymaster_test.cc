#include "engine/dispatch/paymaster.h"

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/common/clock.h"
#include "engine/common/ids.h"
#include "engine/storage/keys.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::dispatch {
namespace {

namespace v1 = ::microwork::v1;

class PaymasterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = storage::Store::Open(dir_.Sub("db"), storage::Schema::kDispatcher);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    ASSERT_TRUE(centres_.Load(store_.get()).ok());
    auto l = ledger::Ledger::Load(store_.get(), &clock_);
    ASSERT_TRUE(l.ok()) << l.status();
    ledger_ = std::move(*l);
    pay_ = std::make_unique<Paymaster>(ledger_.get(), &centres_);
    AddCentre("nairobi", "USD", 100);  // a 10% share
    AddCentre("pune", "INR", 0);

    run_.record.mutable_job()->set_id("job-1");
    v1::Contract* c = run_.record.mutable_contract();
    c->set_client("acme");
    c->set_currency("USD");
    c->set_platform_fee_per_mille(200);
    auto rate = ParseFxRate("USD", "INR", "83.25", "agreed 2026-11-30");
    ASSERT_TRUE(rate.ok()) << rate.status();
    run_.rates.emplace("INR", *rate);
    run_.progress.set_state(v1::JOB_RUNNING);
  }

  void AddCentre(const std::string& id, const std::string& currency, uint32_t share) {
    v1::Centre c;
    c.set_id(id);
    c.set_currency(currency);
    c.set_centre_share_per_mille(share);
    storage::Batch batch;
    ASSERT_TRUE(centres_.Add(c, id, 0, &batch).ok());
  }

  void Fund(int64_t amount) {
    storage::Batch batch;
    ASSERT_TRUE(ledger_
                    ->Apply({.id = "fund",
                             .code = v1::CODE_FUNDING,
                             .debit_account = ClientAccount("acme", "USD"),
                             .credit_account = EscrowAccount("job-1"),
                             .amount_minor = amount,
                             .currency = "USD",
                             .job_id = "job-1"},
                            &batch)
                    .ok());
    ledger_->WriteBalances(&batch);
  }

  ledger::Ledger::TransferSpec Wage(const std::string& id, const std::string& centre,
                                    int64_t amount) {
    return {.id = id,
            .kind = v1::TRANSFER_POSTED,
            .code = v1::CODE_WAGE,
            .debit_account = EscrowAccount("job-1"),
            .credit_account = WorkerAccount(centre, "amina"),
            .amount_minor = amount,
            .currency = "USD",
            .job_id = "job-1"};
  }

  FakeClock clock_;
  mw::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  CentreDirectory centres_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<Paymaster> pay_;
  JobRun run_;
};

TEST_F(PaymasterTest, AWageCostsItsFeeAndTheCentresShareOnTop) {
  EXPECT_EQ(pay_->Terms(run_, "nairobi").fee_per_mille, 200u);
  EXPECT_EQ(pay_->Terms(run_, "nairobi").share_per_mille, 100u);
  EXPECT_EQ(pay_->WageCost(run_, "nairobi", 100), 130);  // 100 + 20 fee + 10 share
  EXPECT_EQ(pay_->WageCost(run_, "pune", 100), 120);
  EXPECT_EQ(pay_->WageCost(run_, "unknown", 100), 120);  // no share for an unknown centre
  run_.live_wages["nairobi"] = 100;
  run_.live_wages["pune"] = 50;
  EXPECT_EQ(pay_->Exposure(run_), 130 + 60);
  EXPECT_EQ(pay_->Exposure(run_, "nairobi", 100), 260 + 60);
}

TEST_F(PaymasterTest, PayingAWorkerAddsTheFeeAndShareLegs) {
  Fund(1000);
  storage::Batch batch;
  const FeeAndShare fees = Charge(&run_.progress, "nairobi", pay_->Terms(run_, "nairobi"), 100);
  auto paid = pay_->PayWorker(run_, "nairobi", Wage("w1", "nairobi", 100), &fees, &batch);
  ASSERT_TRUE(paid.ok()) << paid.status();
  EXPECT_EQ(*paid, 100);
  EXPECT_EQ(ledger_->Available(WorkerAccount("nairobi", "amina")), 100);
  EXPECT_EQ(ledger_->Available(PlatformFeeAccount("USD")), 20);
  EXPECT_EQ(ledger_->Available(CentreShareAccount("nairobi", "USD")), 10);
  EXPECT_EQ(ledger_->Available(EscrowAccount("job-1")), 870);
}

TEST_F(PaymasterTest, ACentrePaidInAnotherCurrencyGetsTheAgreedRateThroughFx) {
  Fund(1000);
  storage::Batch batch;
  auto paid = pay_->PayWorker(run_, "pune", Wage("w1", "pune", 100), nullptr, &batch);
  ASSERT_TRUE(paid.ok()) << paid.status();
  EXPECT_EQ(*paid, 8325);  // 1.00 USD at 83.25 INR
  EXPECT_EQ(ledger_->Available(WorkerAccount("pune", "amina")), 8325);
  EXPECT_EQ(ledger_->Available(EscrowAccount("job-1")), 900);
  ASSERT_NE(pay_->CentreRate(run_, "pune"), nullptr);
  EXPECT_EQ(pay_->CentreRate(run_, "nairobi"), nullptr);
}

TEST_F(PaymasterTest, TheEscrowPaysWhileItCanAndARunningJobFallsBackToTheGuarantee) {
  Fund(100);
  storage::Batch batch;
  EXPECT_EQ(*pay_->PayingAccount(run_, 100, "w1", &batch), EscrowAccount("job-1"));
  EXPECT_EQ(*pay_->PayingAccount(run_, 101, "w1", &batch), kGuaranteeAccount);
  EXPECT_TRUE(batch.Empty());
}

TEST_F(PaymasterTest, AJobThatEndedDrawsWhatItOwesFromItsClient) {
  Fund(30);
  run_.progress.set_state(v1::JOB_CANCELLED);
  storage::Batch batch;
  auto payer = pay_->PayingAccount(run_, 100, "review:t1", &batch);
  ASSERT_TRUE(payer.ok()) << payer.status();
  EXPECT_EQ(*payer, EscrowAccount("job-1"));
  EXPECT_EQ(ledger_->Available(EscrowAccount("job-1")), 100);  // 30 + the 70 drawn
  EXPECT_FALSE(batch.Empty());
}

TEST_F(PaymasterTest, AWageIsPostedOnceAndNeverAfterItWasVoided) {
  Fund(1000);
  storage::Batch batch;
  ledger::Ledger::TransferSpec pending = Wage(WageTransferId("job-1/label/1#amina"), "nairobi", 5);
  pending.kind = v1::TRANSFER_PENDING;
  ASSERT_TRUE(ledger_->Apply(pending, &batch).ok());
  EXPECT_TRUE(*pay_->PostWage(&run_, "job-1/label/1#amina", 5, &batch));
  EXPECT_EQ(run_.progress.wages_posted_minor(), 5);
  EXPECT_FALSE(*pay_->PostWage(&run_, "job-1/label/1#amina", 5, &batch));
  EXPECT_EQ(run_.progress.wages_posted_minor(), 5);
  EXPECT_FALSE(*pay_->PostWage(&run_, "job-1/label/2#amina", 5, &batch));  // never reserved
}

// What WageTransferIds lists is exactly what paying a wage (with its fee and share legs, or its
// conversion) applies, reserved or posted at once: what a call's read-ahead must cover to spare
// the reads.
TEST_F(PaymasterTest, TheWageTransferIdsAreThoseReservingOrPostingAWageApply) {
  Fund(100000);
  std::set<std::string> listed;  // the funding's batch is not written
  storage::Batch batch;
  for (const std::string centre : {"nairobi", "pune"}) {
    const std::string aid = AssignmentId("job-1/label/1", centre);
    std::vector<std::string> ids;
    pay_->WageTransferIds(run_, centre, aid, &ids);
    listed.insert(ids.begin(), ids.end());
    const FeeAndShare fees = Charge(&run_.progress, centre, pay_->Terms(run_, centre), 100);
    ledger::Ledger::TransferSpec wage = Wage(WageTransferId(aid), centre, 100);
    wage.kind = centre == "nairobi" ? v1::TRANSFER_PENDING : v1::TRANSFER_POSTED;
    ASSERT_TRUE(pay_->PayWorker(run_, centre, wage, &fees, &batch).ok());
  }
  ledger_->WriteBalances(&batch);
  ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
  std::set<std::string> applied;
  for (auto c = store_->Scan(storage::Cf::kTransferIds, ""); c->Valid(); c->Next()) {
    applied.insert(storage::keys::ParseTransferIdIndex(c->key()).value_or("(not an id's key)"));
  }
  EXPECT_EQ(applied, listed);
  EXPECT_EQ(listed.size(), 3u + 3);  // nairobi: fee, share; pune: fx, fee
}

}  // namespace
}  // namespace mw::dispatch
