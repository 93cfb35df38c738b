#include "engine/ledger/audit_store.h"

#include "absl/strings/match.h"
#include "engine/common/ids.h"
#include "engine/ledger/ledger.h"
#include "engine/storage/keys.h"
#include "engine/storage/record.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::ledger {
namespace {

using storage::Batch;
using storage::Cf;
namespace keys = storage::keys;

class AuditorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(storage::Store::Open(dir_.Sub("db"), storage::Schema::kDispatcher).value());
    auto ledger = std::move(Ledger::Load(store_.get(), &clock_).value());
    Batch batch;
    ASSERT_TRUE(ledger
                    ->Apply({.id = FundingTransferId("job-1"),
                             .code = microwork::v1::CODE_FUNDING,
                             .debit_account = ClientAccount("acme", "USD"),
                             .credit_account = EscrowAccount("job-1"),
                             .amount_minor = 100,
                             .currency = "USD",
                             .job_id = "job-1"},
                            &batch)
                    .ok());
    for (const char* aid : {"a", "b"}) {
      ASSERT_TRUE(ledger
                      ->Apply({.id = WageTransferId(aid),
                               .kind = microwork::v1::TRANSFER_PENDING,
                               .code = microwork::v1::CODE_WAGE,
                               .debit_account = EscrowAccount("job-1"),
                               .credit_account = WorkerAccount("c", "w"),
                               .amount_minor = 10,
                               .currency = "USD",
                               .job_id = "job-1"},
                              &batch)
                      .ok());
    }
    ASSERT_TRUE(ledger
                    ->Apply({.id = WagePostTransferId("a"),
                             .kind = microwork::v1::TRANSFER_POST_PENDING,
                             .pending_id = WageTransferId("a")},
                            &batch)
                    .ok());
    ledger->WriteBalances(&batch);
    ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
  }

  absl::Status Audit() {
    Auditor auditor;
    return AuditStore(*store_, &auditor);
  }

  // Edits the stored block that holds transfer `seq` (SetUp's four are in one, from #1).
  void EditBlock(const std::function<void(microwork::v1::TransferBlock*)>& edit) {
    microwork::v1::TransferBlock block;
    ASSERT_TRUE(store_->GetRecord(Cf::kTransferBlocks, keys::Transfer(1), &block).ok());
    ASSERT_EQ(block.transfers_size(), 4);
    edit(&block);
    Batch b;
    b.PutRecord(Cf::kTransferBlocks, keys::Transfer(1), block);
    ASSERT_TRUE(store_->Write(std::move(b), storage::Durability::kSynced).ok());
  }
  void Rewrite(uint64_t seq, const std::function<void(microwork::v1::Transfer*)>& edit) {
    EditBlock([&](microwork::v1::TransferBlock* block) {
      microwork::v1::Transfer* t = block->mutable_transfers(static_cast<int>(seq - 1));
      ASSERT_EQ(t->seq(), seq);
      edit(t);
    });
  }

  mw::testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<storage::Store> store_;
};

TEST_F(AuditorTest, CleanLedgerPassesWithJobTotals) {
  Auditor auditor;
  ASSERT_TRUE(AuditStore(*store_, &auditor).ok());
  EXPECT_EQ(auditor.transfers(), 4u);
  const auto& job = auditor.jobs().at("job-1");
  EXPECT_EQ(job.funding, 100);
  EXPECT_EQ(job.wages, 10);
  EXPECT_EQ(job.pending, 10);
  EXPECT_EQ(auditor.currencies().at("USD").credits_posted, 110);
}

// A centre that reports 4294967295 s of work must not turn into a top-up: the audit checks each
// worker's top-ups on a job against the floor for the time their leases were held.
TEST_F(AuditorTest, TopUpsBeyondTheFloorForTheTimeLeasedAreAViolation) {
  auto ledger = std::move(Ledger::Load(store_.get(), &clock_).value());
  Batch batch;
  ASSERT_TRUE(ledger
                  ->Apply({.id = "topup:payout-c-1:job-1:worker:c/w",
                           .code = microwork::v1::CODE_TOPUP,
                           .debit_account = EscrowAccount("job-1"),
                           .credit_account = WorkerAccount("c", "w"),
                           .amount_minor = 40,
                           .currency = "USD",
                           .job_id = "job-1"},
                          &batch)
                  .ok());
  // A conversion's first leg carries the top-up's code too; it is no worker's top-up.
  ASSERT_TRUE(ledger
                  ->Apply({.id = "topup:payout-c-1:job-1:worker:c/v",
                           .code = microwork::v1::CODE_TOPUP,
                           .debit_account = EscrowAccount("job-1"),
                           .credit_account = "fx:USD",
                           .amount_minor = 10,
                           .currency = "USD",
                           .job_id = "job-1"},
                          &batch)
                  .ok());
  ledger->WriteBalances(&batch);
  ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());

  // With no record of the time, the top-up is not checked, and the audit says so.
  {
    Auditor auditor;
    ASSERT_TRUE(AuditStore(*store_, &auditor).ok());
    EXPECT_EQ(auditor.time_bounds_checked(), 0u);
    EXPECT_EQ(auditor.time_bounds_missing(), 1u);
  }
  // 20 minutes leased at 1.50 an hour allow 0.50: the 0.40 top-up passes.
  microwork::v1::TimeBound bound;
  bound.set_worker_account(WorkerAccount("c", "w"));
  bound.set_job_id("job-1");
  bound.set_leased_seconds(1200);
  bound.set_floor_minor_per_hour(150);
  bound.set_currency("USD");
  bound.set_topup_bound_minor(50);
  bound.set_rounding_minor(1);
  {
    Auditor auditor;
    auditor.AddTimeBound(bound);
    ASSERT_TRUE(AuditStore(*store_, &auditor).ok());
    EXPECT_EQ(auditor.time_bounds_checked(), 1u);
    EXPECT_EQ(auditor.time_bounds_missing(), 0u);
    EXPECT_EQ(auditor.jobs().at("job-1").topups, 50);
  }
  // 0.39 plus one unit of rounding is too little for 0.40.
  bound.set_leased_seconds(936);
  bound.set_topup_bound_minor(39);
  bound.set_rounding_minor(0);  // taken as 1
  {
    Auditor auditor;
    auditor.AddTimeBound(bound);
    ASSERT_TRUE(AuditStore(*store_, &auditor).ok());
  }
  bound.set_topup_bound_minor(38);
  {
    Auditor auditor;
    auditor.AddTimeBound(bound);
    const absl::Status s = AuditStore(*store_, &auditor);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(s.message(),
              "worker:c/w on job-1: top-ups of 0.40 USD exceed the wage floor for the time its "
              "leases were held (936 s at 1.50 USD an hour: at most 0.38 USD)");
  }
  // In another currency than the floor's, a top-up does not pass either.
  bound.set_topup_bound_minor(5000);
  bound.set_currency("KES");
  {
    Auditor auditor;
    auditor.AddTimeBound(bound);
    EXPECT_EQ(AuditStore(*store_, &auditor).code(), absl::StatusCode::kFailedPrecondition);
  }
}

TEST_F(AuditorTest, EditedAmountBreaksTheHash) {
  Rewrite(2, [](auto* t) { t->set_amount_minor(11); });
  absl::Status s = Audit();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "transfer #2 (wage:a): hash does not match its contents");
}

// Rehashed as one who knows the chain would (with the prev_hash its block leaves out): the
// transfer after it, whose hash covers the edited one's, no longer matches. Within a block that
// one is stored without its prev_hash too, restored from the edited one's: so the break shows as
// its hash, not its link.
TEST_F(AuditorTest, RehashedEditBreaksTheChain) {
  EditBlock([](microwork::v1::TransferBlock* block) {
    microwork::v1::Transfer* t = block->mutable_transfers(1);
    ASSERT_EQ(t->prev_hash(), "");
    t->set_amount_minor(11);
    t->set_prev_hash(block->transfers(0).hash());
    t->set_hash(ChainHash(*t));
  });
  absl::Status s = Audit();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "transfer #3 (wage:b): hash does not match its contents") << s;
}

// An edit of the link itself, the rest left as it was: the chain is broken there.
TEST_F(AuditorTest, AnotherPrevHashBreaksTheChain) {
  Rewrite(3, [](auto* t) { t->set_prev_hash(std::string(32, 'x')); });
  absl::Status s = Audit();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StartsWith(s.message(), "transfer #3 (wage:b): hash chain broken")) << s;
}

TEST_F(AuditorTest, DeletedTransferIsAGap) {
  EditBlock([](microwork::v1::TransferBlock* block) {
    block->mutable_transfers()->DeleteSubrange(2, 1);
  });
  EXPECT_EQ(Audit().message(), "transfer #4 (wage-post:a): expected sequence number 3");
}

TEST_F(AuditorTest, EditedBalanceDiffersFromTheFold) {
  microwork::v1::Account a;
  ASSERT_TRUE(store_->GetRecord(Cf::kAccounts, keys::Account(WorkerAccount("c", "w")), &a).ok());
  a.set_credits_posted(a.credits_posted() + 1);
  Batch b;
  b.PutRecord(Cf::kAccounts, keys::Account(a.id()), a);
  ASSERT_TRUE(store_->Write(std::move(b), storage::Durability::kSynced).ok());
  absl::Status s = Audit();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StartsWith(s.message(), "account worker:c/w stored as")) << s;
}

TEST(AuditorStreamTest, PendingResolvedTwiceIsAViolation) {
  // Built by hand: a log no Ledger would write.
  Auditor auditor;
  std::string prev(32, '\0');
  uint64_t seq = 0;
  auto add = [&](microwork::v1::Transfer t) {
    t.set_seq(++seq);
    t.set_prev_hash(prev);
    t.set_hash(ChainHash(t));
    prev = t.hash();
    return auditor.AddTransfer(t);
  };
  microwork::v1::Transfer fund;
  fund.set_id("f");
  fund.set_kind(microwork::v1::TRANSFER_POSTED);
  fund.set_code(microwork::v1::CODE_FUNDING);
  fund.set_debit_account("client:x");
  fund.set_credit_account("escrow:j");
  fund.set_amount_minor(50);
  fund.set_currency("USD");
  ASSERT_TRUE(add(fund).ok());
  microwork::v1::Transfer p = fund;
  p.set_id("p");
  p.set_kind(microwork::v1::TRANSFER_PENDING);
  p.set_code(microwork::v1::CODE_WAGE);
  p.set_debit_account("escrow:j");
  p.set_credit_account("worker:c/w");
  p.set_amount_minor(5);
  ASSERT_TRUE(add(p).ok());
  microwork::v1::Transfer post = p;
  post.set_id("post1");
  post.set_kind(microwork::v1::TRANSFER_POST_PENDING);
  post.set_pending_id("p");
  ASSERT_TRUE(add(post).ok());
  post.set_id("post2");
  absl::Status s = add(post);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "transfer #4 (post2): resolves pending p which is unknown or already resolved");
}

}  // namespace
}  // namespace mw::ledger
