#include "engine/dispatch/verdict_recorder.h"

#include <memory>

#include "engine/dispatch/collaborators_test_fixture.h"
#include "engine/storage/keys.h"

namespace mw::dispatch {
namespace {

namespace v1 = ::microwork::v1;

class VerdictRecorderTest : public CollaboratorsTest {
 protected:
  void SetUp() override {
    CollaboratorsTest::SetUp();
    lifecycle_ = std::make_unique<JobLifecycle>(JobLifecycle::Parts{.jobs = jobs_.get(),
                                                                    .ledger = ledger_.get(),
                                                                    .pay = pay_.get(),
                                                                    .leases = &leases_,
                                                                    .clock = &clock_,
                                                                    .stats = &stats_,
                                                                    .changed = [](JobRun*) {}});
    verdicts_ =
        std::make_unique<VerdictRecorder>(VerdictRecorder::Parts{.jobs = jobs_.get(),
                                                                 .pay = pay_.get(),
                                                                 .workers = &workers_,
                                                                 .lifecycle = lifecycle_.get(),
                                                                 .clock = &clock_,
                                                                 .stats = &stats_});
  }

  // `worker` (slot `slot`) answered `label`, counted and with its wage reserved.
  void Answered(int slot, const std::string& worker, const std::string& label) {
    TaskRun* task = Task();
    task->record.mutable_slots(slot)->set_state(v1::SLOT_SUBMITTED);
    task->answers.push_back({worker, label, ""});
    ASSERT_TRUE(ledger_
                    ->Apply({.id = WageTransferId(Aid(worker)),
                             .kind = v1::TRANSFER_PENDING,
                             .code = v1::CODE_WAGE,
                             .debit_account = EscrowAccount("job-1"),
                             .credit_account = WorkerAccount("nairobi", worker),
                             .amount_minor = 10,
                             .currency = "USD",
                             .job_id = "job-1"},
                            &batch_)
                    .ok());
    run_->progress.set_wages_reserved_minor(run_->progress.wages_reserved_minor() + 10);
  }

  // Writes the batch and reads a record of `cf` at the task's key.
  template <typename T>
  T Stored(storage::Cf cf) {
    EXPECT_TRUE(store_->Write(std::move(batch_), storage::Durability::kSynced).ok());
    batch_ = storage::Batch();
    T record;
    EXPECT_TRUE(store_->GetRecord(cf, key_, &record).ok());
    return record;
  }

  std::unique_ptr<JobLifecycle> lifecycle_;
  std::unique_ptr<VerdictRecorder> verdicts_;
};

TEST_F(VerdictRecorderTest, AgreeingAnswersBecomeTheVerdictEveryWageIsPostedAndTheJobCompletes) {
  Answered(0, "amina", "sport");
  Answered(1, "baraka", "sport");
  ASSERT_TRUE(verdicts_->Decide(run_, Task(), &batch_).ok());
  EXPECT_EQ(Task(), nullptr);
  EXPECT_EQ(ledger_->FindPending(WageTransferId(Aid("amina"))), nullptr);
  EXPECT_EQ(ledger_->FindPending(WageTransferId(Aid("baraka"))), nullptr);
  EXPECT_EQ(run_->progress.wages_posted_minor(), 20);
  EXPECT_EQ(workers_.Record(WorkerAccount("nairobi", "amina")).agreed(), 1u);
  EXPECT_EQ(stats_.verdicts, 1u);
  EXPECT_EQ(run_->progress.stages(1).done(), 1u);
  EXPECT_EQ(run_->progress.items_finished(), 1u);
  EXPECT_EQ(run_->progress.state(), v1::JOB_COMPLETED);  // its only item
  const auto out = Stored<v1::ResultRecord>(storage::Cf::kOutputs);
  EXPECT_EQ(out.answer().choice(), "sport");
  EXPECT_EQ(out.votes(), 2u);
  EXPECT_DOUBLE_EQ(out.confidence(), 1.0);
  EXPECT_FALSE(out.needs_review());
}

TEST_F(VerdictRecorderTest, BelowTheConfidenceTargetOneMoreWorkerIsAskedThenAPersonReviews) {
  v1::QaPolicy* qa = run_->chain[0].human.mutable_qa();
  qa->set_confidence_target(0.9);
  qa->set_max_overlap(3);
  Answered(0, "amina", "sport");
  Answered(1, "baraka", "news");
  ASSERT_TRUE(verdicts_->Decide(run_, Task(), &batch_).ok());
  ASSERT_NE(Task(), nullptr);  // not decided: a third worker is asked
  EXPECT_EQ(Task()->record.needed(), 3u);
  EXPECT_EQ(run_->open[0].back(), key_);
  EXPECT_EQ(stats_.overlap_extensions, 1u);
  EXPECT_EQ(run_->progress.wages_posted_minor(), 0);

  v1::SlotRecord* third = Task()->record.add_slots();
  third->set_worker("chidi");
  third->set_centre("nairobi");
  Answered(2, "chidi", "weather");
  ASSERT_TRUE(verdicts_->Decide(run_, Task(), &batch_).ok());
  EXPECT_EQ(Task(), nullptr);  // at the cap: decided, and queued for a person
  EXPECT_EQ(stats_.reviews_open, 1u);
  EXPECT_EQ(run_->progress.wages_posted_minor(), 30);  // base pay never waits on agreement
  EXPECT_TRUE(Stored<v1::ResultRecord>(storage::Cf::kOutputs).needs_review());
  const auto review = Stored<v1::Review>(storage::Cf::kReviews);
  EXPECT_EQ(review.task_id(), TaskId("job-1", "label", 0));
  EXPECT_EQ(review.workers_size(), 3);
}

}  // namespace
}  // namespace mw::dispatch
