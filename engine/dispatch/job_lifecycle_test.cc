#include "engine/dispatch/job_lifecycle.h"

#include <memory>

#include "engine/dispatch/collaborators_test_fixture.h"

namespace mw::dispatch {
namespace {

namespace v1 = ::microwork::v1;

class JobLifecycleTest : public CollaboratorsTest {
 protected:
  void SetUp() override {
    CollaboratorsTest::SetUp();
    lifecycle_ = std::make_unique<JobLifecycle>(
        JobLifecycle::Parts{.jobs = jobs_.get(),
                            .ledger = ledger_.get(),
                            .pay = pay_.get(),
                            .leases = &leases_,
                            .clock = &clock_,
                            .stats = &stats_,
                            .changed = [this](JobRun* run) { changed_.push_back(run); }});
  }

  // amina answered: her slot is submitted and her wage reserved, as ContributionRecorder does.
  void AminaAnswered() {
    TaskRun* task = Task();
    task->record.mutable_slots(0)->set_state(v1::SLOT_SUBMITTED);
    run_->live_wages["nairobi"] -= 10;
    --run_->leased[0];
    leases_.Release("nairobi", "amina");
    ASSERT_TRUE(ledger_
                    ->Apply({.id = WageTransferId(Aid("amina")),
                             .kind = v1::TRANSFER_PENDING,
                             .code = v1::CODE_WAGE,
                             .debit_account = EscrowAccount("job-1"),
                             .credit_account = WorkerAccount("nairobi", "amina"),
                             .amount_minor = 10,
                             .currency = "USD",
                             .job_id = "job-1"},
                            &batch_)
                    .ok());
    run_->progress.set_wages_reserved_minor(10);
  }

  std::unique_ptr<JobLifecycle> lifecycle_;
  std::vector<JobRun*> changed_;
};

TEST_F(JobLifecycleTest, ACancelPaysAnswersInKeepsTheLiveLeasesWageAndRefundsTheRest) {
  AminaAnswered();
  clock_.AdvanceMs(5'000);
  ASSERT_TRUE(lifecycle_->Stop(run_, v1::JOB_CANCELLED, "cancel", &batch_).ok());
  EXPECT_EQ(run_->progress.state(), v1::JOB_CANCELLED);
  EXPECT_EQ(run_->progress.completed_at_ms(), clock_.NowMs());
  // amina's wage is posted without a verdict; baraka's lease settles, its wage kept.
  EXPECT_EQ(ledger_->FindPending(WageTransferId(Aid("amina"))), nullptr);
  EXPECT_EQ(run_->progress.wages_posted_minor(), 10);
  ASSERT_EQ(run_->settling.count(Aid("baraka")), 1u);
  EXPECT_EQ(run_->settling.at(Aid("baraka")).rate, 10);
  EXPECT_EQ(run_->settling.at(Aid("baraka")).until_ms, clock_.NowMs() - 5'000 + 120'000);
  EXPECT_EQ(leases_.HeldBy("nairobi", "baraka"), 0u);
  EXPECT_EQ(run_->leased[0], 0u);
  EXPECT_EQ(Task(), nullptr);  // its record stays on disk for a late answer
  EXPECT_EQ(run_->progress.refunded_minor(), 1000 - 10 - 10);
  EXPECT_EQ(ledger_->Available(EscrowAccount("job-1")), 10);
  EXPECT_EQ(changed_, std::vector<JobRun*>{run_});
}

TEST_F(JobLifecycleTest, ASettlingLeaseThatRunsOutGivesItsWageBackAndADeadlineStopsTheJob) {
  ASSERT_TRUE(lifecycle_->Stop(run_, v1::JOB_CANCELLED, "cancel", &batch_).ok());
  EXPECT_EQ(run_->settling.size(), 2u);
  EXPECT_EQ(run_->progress.refunded_minor(), 980);
  int expired = 0;
  ASSERT_TRUE(lifecycle_->StopExpired(clock_.NowMs() + 119'999, &batch_, &expired).ok());
  EXPECT_EQ(expired, 0);
  ASSERT_TRUE(lifecycle_->StopExpired(clock_.NowMs() + 120'000, &batch_, &expired).ok());
  EXPECT_EQ(expired, 2);
  EXPECT_EQ(stats_.lease_expiries, 2u);
  EXPECT_TRUE(run_->settling.empty());
  EXPECT_EQ(run_->progress.refunded_minor(), 1000);
  EXPECT_EQ(ledger_->Available(EscrowAccount("job-1")), 0);
}

TEST_F(JobLifecycleTest, AJobPastItsDeadlineStopsWithTheLeasesOutSettling) {
  run_->deadline_ms = clock_.NowMs() + 1'000;
  int expired = 0;
  ASSERT_TRUE(lifecycle_->StopExpired(clock_.NowMs() + 999, &batch_, &expired).ok());
  EXPECT_EQ(run_->progress.state(), v1::JOB_RUNNING);
  ASSERT_TRUE(lifecycle_->StopExpired(clock_.NowMs() + 1'000, &batch_, &expired).ok());
  EXPECT_EQ(run_->progress.state(), v1::JOB_DEADLINE_PASSED);
  EXPECT_EQ(run_->settling.size(), 2u);
  EXPECT_EQ(run_->progress.refunded_minor(), 980);
  EXPECT_EQ(expired, 0);  // settling, not yet run out
}

TEST_F(JobLifecycleTest, ACompletedJobReturnsWhatNobodyCanStillEarn) {
  AminaAnswered();
  ASSERT_TRUE(lifecycle_->Complete(run_, &batch_).ok());
  EXPECT_EQ(run_->progress.state(), v1::JOB_COMPLETED);
  EXPECT_EQ(run_->progress.refunded_minor(), 980);
  EXPECT_TRUE(changed_.empty());  // the caller announces a completion with the verdict
}

TEST_F(JobLifecycleTest, AnEndedJobGivesBackTheRoomItsItemsInFlightTook) {
  // Item 0, opened by the fixture, and 999 more, all finished.
  for (uint64_t i = 1; i < 1000; ++i) run_->flight.try_emplace(i);
  for (uint64_t i = 0; i < 1000; ++i) run_->flight.erase(i);
  ASSERT_GE(run_->flight.capacity(), 1000u);  // an emptied map keeps its room
  run_->open[0].push_back("job-1/label/7");
  run_->gold[0].push_back("job-1/label/gold-1");
  ASSERT_TRUE(lifecycle_->Complete(run_, &batch_).ok());
  EXPECT_EQ(run_->flight.capacity(), 0u);
  EXPECT_TRUE(run_->open[0].empty());
  EXPECT_EQ(run_->gold[0].capacity(), 0u);
}

TEST_F(JobLifecycleTest, AJobStoppedEarlyKeepsItsItemsInFlight) {
  run_->flight.try_emplace(7);
  ASSERT_TRUE(lifecycle_->Stop(run_, v1::JOB_CANCELLED, "cancel", &batch_).ok());
  EXPECT_EQ(run_->flight.size(), 2u);  // item 0, opened by the fixture, and item 7
  EXPECT_EQ(run_->flight.count(0), 1u);
  EXPECT_EQ(run_->flight.count(7), 1u);
}

}  // namespace
}  // namespace mw::dispatch
