#include "engine/dispatch/contributions.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "engine/dispatch/collaborators_test_fixture.h"
#include "engine/ledger/transfer_log.h"
#include "engine/storage/keys.h"

namespace mw::dispatch {
namespace {

namespace v1 = ::microwork::v1;

class ContributionRecorderTest : public CollaboratorsTest {
 protected:
  void SetUp() override {
    CollaboratorsTest::SetUp();
    recorder_ = std::make_unique<ContributionRecorder>(
        ContributionRecorder::Parts{.jobs = jobs_.get(),
                                    .idempotency = idempotency_.get(),
                                    .leases = &leases_,
                                    .pay = pay_.get(),
                                    .workers = &workers_,
                                    .centres = &centres_,
                                    .scheduler = scheduler_.get(),
                                    .clock = &clock_,
                                    .stats = &stats_,
                                    .max_time_multiple = 10});
  }

  static v1::Result Answer(const std::string& worker, uint64_t epoch, const std::string& choice,
                           const std::string& result_id) {
    v1::Result r;
    r.set_result_id(result_id);
    r.set_assignment_id(AssignmentId(TaskId("job-1", "label", 0), worker));
    r.set_worker(worker);
    r.set_epoch(epoch);
    r.mutable_answer()->set_choice(choice);
    r.set_active_seconds(8);
    return r;
  }

  ContributionRecorder::Recorded Record(const v1::Result& r) {
    bool changed = false;
    auto recorded = recorder_->Record("nairobi", r, ContributionRecorder::Measure(r), &batch_,
                                      &pending_, &changed);
    EXPECT_TRUE(recorded.ok()) << recorded.status();
    return recorded.ok() ? *std::move(recorded) : ContributionRecorder::Recorded();
  }

  std::unique_ptr<ContributionRecorder> recorder_;
  std::vector<std::string> pending_;
};

TEST_F(ContributionRecorderTest, AnOnTimeAnswerReservesItsWageAndTheLastOneCompletesTheTask) {
  const std::string aid = AssignmentId(TaskId("job-1", "label", 0), "amina");
  ContributionRecorder::Recorded first = Record(Answer("amina", 1, "sport", "r1"));
  EXPECT_EQ(first.receipt.status(), v1::RECEIPT_ACCEPTED);
  EXPECT_EQ(first.receipt.contribution_id(), aid);
  EXPECT_FALSE(first.receipt.late());
  EXPECT_EQ(first.receipt.wage_minor(), 10);
  EXPECT_EQ(first.receipt.currency(), "USD");
  EXPECT_EQ(first.receipt.credited_seconds(), 8u);
  EXPECT_EQ(first.run, run_);
  EXPECT_EQ(first.complete, nullptr);
  ASSERT_NE(ledger_->FindPending(WageTransferId(aid)), nullptr);  // reserved, not yet posted
  EXPECT_EQ(run_->progress.wages_reserved_minor(), 10);
  EXPECT_EQ(run_->live_wages["nairobi"], 10);  // one lease left
  EXPECT_EQ(leases_.HeldBy("nairobi", "amina"), 0u);
  EXPECT_EQ(Task()->answers.size(), 1u);
  EXPECT_EQ(stats_.contributions, 1u);

  ContributionRecorder::Recorded second = Record(Answer("baraka", 2, "sport", "r2"));
  EXPECT_EQ(second.receipt.status(), v1::RECEIPT_ACCEPTED);
  EXPECT_EQ(second.receipt.wage_minor(), 10);
  EXPECT_EQ(second.complete, Task());  // both answers in: the engine decides it
  EXPECT_EQ(run_->progress.stages(1).contributions(), 2u);
  EXPECT_EQ(run_->progress.centre_contributions().at("nairobi"), 2u);
  // The answer that completes the task is decided with it: its wage is posted in one transfer,
  // not reserved and posted; the first one's waits for the verdict.
  const std::string last = AssignmentId(TaskId("job-1", "label", 0), "baraka");
  EXPECT_EQ(ledger_->FindPending(WageTransferId(last)), nullptr);
  EXPECT_NE(ledger_->FindPending(WageTransferId(aid)), nullptr);
  EXPECT_EQ(ledger_->Find(WorkerAccount("nairobi", "baraka"))->credits_posted(), 10);
  EXPECT_EQ(ledger_->Find(WorkerAccount("nairobi", "amina"))->credits_pending(), 10);
  EXPECT_EQ(run_->progress.wages_reserved_minor(), 20);
  EXPECT_EQ(run_->progress.wages_posted_minor(), 10);
  // As written: the two wages, the first pending, the second posted; no posting of a reservation.
  ledger_->WriteBalances(&batch_);
  ASSERT_TRUE(store_->Write(std::move(batch_), storage::Durability::kSynced).ok());
  auto stored = [&](const std::string& id) {
    auto t = ledger::ReadTransfer(*store_, id);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *t : std::nullopt;
  };
  std::optional<v1::Transfer> first_wage = stored(WageTransferId(aid));
  ASSERT_TRUE(first_wage.has_value());
  EXPECT_EQ(first_wage->kind(), v1::TRANSFER_PENDING);
  std::optional<v1::Transfer> last_wage = stored(WageTransferId(last));
  ASSERT_TRUE(last_wage.has_value());
  EXPECT_EQ(last_wage->kind(), v1::TRANSFER_POSTED);
  EXPECT_EQ(last_wage->amount_minor(), 10);
  EXPECT_EQ(last_wage->debit_account(), EscrowAccount("job-1"));
  EXPECT_EQ(last_wage->credit_account(), WorkerAccount("nairobi", "baraka"));
  EXPECT_FALSE(stored(WagePostTransferId(last)).has_value());
}

// A large result keeps its receipt under its own id: a resend, which a centre can make at will,
// then reads a small record rather than the contribution with its result.
TEST_F(ContributionRecorderTest, ALargeResultsReceiptIsStoredUnderItsIdNotByItsContribution) {
  v1::Result small = Answer("amina", 1, "sport", "r1");
  v1::Result large = Answer("baraka", 2, "sport", "r2");
  large.mutable_answer()->set_skipped(true);  // a skip is recorded with its reason, unchecked
  large.mutable_answer()->set_skip_reason(std::string(5000, 'x'));
  const uint32_t stage_key = run_->chain[Task()->chain_pos].key;
  ASSERT_EQ(Record(small).receipt.status(), v1::RECEIPT_ACCEPTED);
  ASSERT_EQ(Record(large).receipt.status(), v1::RECEIPT_ACCEPTED);
  ledger_->WriteBalances(&batch_);
  ASSERT_TRUE(store_->Write(std::move(batch_), storage::Durability::kSynced).ok());
  v1::ResultIdRecord by_reference, own;
  ASSERT_TRUE(store_
                  ->GetRecord(storage::Cf::kResultIds, storage::keys::ResultId("nairobi", "r1"),
                              &by_reference)
                  .ok());
  ASSERT_TRUE(
      store_->GetRecord(storage::Cf::kResultIds, storage::keys::ResultId("nairobi", "r2"), &own)
          .ok());
  EXPECT_FALSE(by_reference.has_receipt());
  EXPECT_EQ(by_reference.contribution_key(),
            storage::keys::Contribution("job-1", stage_key, 0, "amina"));
  EXPECT_EQ(own.receipt().contribution_id(), Aid("baraka"));
  EXPECT_TRUE(own.contribution_key().empty());
}

// With dynamic overlap below its cap, the verdict may ask for one more answer instead of
// deciding: the answer that has the task's answers in reserves its wage like the others.
TEST_F(ContributionRecorderTest, UnderDynamicOverlapTheLastAnswerReservesItsWageToo) {
  v1::QaPolicy* qa = run_->chain[Task()->chain_pos].human.mutable_qa();
  qa->set_confidence_target(0.9);
  qa->set_max_overlap(3);
  Record(Answer("amina", 1, "sport", "r1"));
  ContributionRecorder::Recorded second = Record(Answer("baraka", 2, "sport", "r2"));
  EXPECT_EQ(second.complete, Task());
  const std::string last = AssignmentId(TaskId("job-1", "label", 0), "baraka");
  EXPECT_NE(ledger_->FindPending(WageTransferId(last)), nullptr);
  EXPECT_EQ(run_->progress.wages_reserved_minor(), 20);
  EXPECT_EQ(run_->progress.wages_posted_minor(), 0);
}

TEST_F(ContributionRecorderTest, AResendGetsTheSameReceiptAndAnotherBodyUnderTheIdAConflict) {
  Record(Answer("amina", 1, "sport", "r1"));
  EXPECT_EQ(Record(Answer("amina", 1, "sport", "r1")).receipt.status(), v1::RECEIPT_DUPLICATE);
  EXPECT_EQ(Record(Answer("amina", 1, "news", "r1")).receipt.status(), v1::RECEIPT_CONFLICT);
  // The same worker's answer to the task under a new id is the same contribution.
  ContributionRecorder::Recorded again = Record(Answer("amina", 1, "news", "r9"));
  EXPECT_EQ(again.receipt.status(), v1::RECEIPT_DUPLICATE);
  EXPECT_EQ(again.receipt.detail(),
            "this worker's answer to the task was recorded under another result id");
  EXPECT_EQ(run_->progress.wages_reserved_minor(), 10);  // paid once
  EXPECT_EQ(stats_.contributions, 1u);
}

TEST_F(ContributionRecorderTest, AClaimThatDoesNotHoldIsQuarantinedAndChangesNothingElse) {
  v1::Result no_id = Answer("amina", 1, "sport", "");
  v1::Result other_worker = Answer("amina", 1, "sport", "r2");
  other_worker.set_worker("baraka");
  v1::Result other_job = Answer("amina", 1, "sport", "r3");
  other_job.set_assignment_id(AssignmentId(TaskId("job-7", "label", 0), "amina"));
  v1::Result bad_answer = Answer("amina", 1, "weather", "r4");
  v1::Result too_large = Answer("amina", 1, "sport", "r5");
  too_large.mutable_answer()->set_text(std::string(300 << 10, 'x'));
  const std::vector<std::pair<v1::Result, std::string>> cases = {
      {no_id, "result_id: expected 1 to 128 characters"},
      {other_worker, "worker baraka does not match the assignment's worker amina"},
      {other_job, "no job job-7"},
      {too_large, absl::StrCat("result: at most 262144 bytes, got ", too_large.ByteSizeLong())},
  };
  for (const auto& [result, detail] : cases) {
    ContributionRecorder::Recorded r = Record(result);
    EXPECT_EQ(r.receipt.status(), v1::RECEIPT_QUARANTINED);
    EXPECT_EQ(r.receipt.detail(), detail);
    EXPECT_EQ(r.run, nullptr);
  }
  ContributionRecorder::Recorded r = Record(bad_answer);
  EXPECT_EQ(r.receipt.status(), v1::RECEIPT_QUARANTINED);
  EXPECT_EQ(r.receipt.detail().rfind("answer: ", 0), 0u) << r.receipt.detail();
  // Stored under their ids: the three with one that were not too large to read.
  EXPECT_EQ(stats_.quarantined_results, 3u);
  EXPECT_EQ(run_->progress.wages_reserved_minor(), 0);
  EXPECT_TRUE(Task()->answers.empty());
  EXPECT_EQ(Task()->record.slots(0).state(), v1::SLOT_LEASED);
}

TEST_F(ContributionRecorderTest, ALateAnswerIsPaidAtOnceAndDoesNotCount) {
  // Fenced: the worker's epoch is not the slot's (the lease was given again).
  ContributionRecorder::Recorded late = Record(Answer("amina", 7, "sport", "r1"));
  EXPECT_EQ(late.receipt.status(), v1::RECEIPT_ACCEPTED);
  EXPECT_TRUE(late.receipt.late());
  EXPECT_EQ(late.receipt.wage_minor(), 10);
  const std::string aid = AssignmentId(TaskId("job-1", "label", 0), "amina");
  EXPECT_EQ(ledger_->FindPending(WageTransferId(aid)), nullptr);  // posted already
  EXPECT_EQ(run_->progress.wages_posted_minor(), 10);
  EXPECT_EQ(late.complete, nullptr);
  EXPECT_TRUE(Task()->answers.empty());
  EXPECT_EQ(stats_.late_results, 1u);
}

TEST_F(ContributionRecorderTest, ASkipPaysNothingAndPutsTheSlotBackInThePool) {
  v1::Result skip = Answer("amina", 1, "", "r1");
  skip.mutable_answer()->clear_choice();
  skip.mutable_answer()->set_skipped(true);
  skip.mutable_answer()->set_skip_reason("unclear");
  ContributionRecorder::Recorded r = Record(skip);
  EXPECT_EQ(r.receipt.status(), v1::RECEIPT_ACCEPTED);
  EXPECT_EQ(r.receipt.detail(), "skipped: unclear");
  EXPECT_EQ(r.receipt.wage_minor(), 0);
  EXPECT_EQ(Task()->record.slots(0).state(), v1::SLOT_SKIPPED);
  EXPECT_EQ(run_->open[0].back(), key_);
  EXPECT_EQ(run_->progress.wages_reserved_minor(), 0);
  EXPECT_EQ(workers_.Record(WorkerAccount("nairobi", "amina")).skipped(), 1u);
}

TEST_F(ContributionRecorderTest, TimeBeyondWhatTheEstimateAllowsIsHeldForAPerson) {
  v1::Result slow = Answer("amina", 1, "sport", "r1");
  slow.set_active_seconds(500);  // the estimate is 10 s: at most 100 s count
  ContributionRecorder::Recorded r = Record(slow);
  EXPECT_EQ(r.receipt.credited_seconds(), 100u);
  EXPECT_EQ(r.receipt.held_seconds(), 400u);
  EXPECT_EQ(r.receipt.detail().rfind("time on task: 500 s reported, 100 s credited", 0), 0u)
      << r.receipt.detail();
  EXPECT_EQ(stats_.held_time_results, 1u);
}

}  // namespace
}  // namespace mw::dispatch
