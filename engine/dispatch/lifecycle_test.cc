// A job's life: pause and resume, cancel, the deadline, and waiting on its budget. Money is
// checked through the audited ledger: work done is paid, the rest goes back to the client.
#include "absl/strings/str_replace.h"
#include "engine/dispatch/engine_test_fixture.h"
#include "gtest/gtest.h"

namespace mw::dispatch {
namespace {

class LifecycleTest : public EngineTest {
 protected:
  absl::StatusOr<v1::Job> Control(v1::JobAction action, const std::string& key,
                                  const std::string& job = "job-1") {
    v1::ControlJobRequest req;
    req.set_idempotency_key(key);
    req.set_job_id(job);
    req.set_action(action);
    return engine_->ControlJob(req);
  }

  v1::JobState State() { return engine_->GetJob("job-1")->state(); }

  ledger::Auditor::JobTotals Totals() {
    ledger::Auditor auditor;
    absl::Status s = Audit(&auditor);
    EXPECT_TRUE(s.ok()) << s;
    return auditor.jobs().at("job-1");
  }
};

TEST_F(LifecycleTest, PauseStopsLeasingUntilResumed) {
  AddCentre("nairobi", {"w1", "w2"});
  ASSERT_TRUE(Submit(kContract).ok());
  auto first = Lease("nairobi", "w1", 1, "L1");
  ASSERT_EQ(first->assignments_size(), 1);

  auto paused = Control(v1::JOB_PAUSE, "p1");
  ASSERT_TRUE(paused.ok()) << paused.status();
  EXPECT_EQ(paused->state(), v1::JOB_PAUSED);
  EXPECT_EQ(Lease("nairobi", "w2", 3, "L2")->assignments_size(), 0);
  // Work leased before the pause goes on and is paid.
  auto receipts = SubmitResults("nairobi", {Answer(first->assignments(0), "positive")});
  ASSERT_EQ(receipts.size(), 1u);
  EXPECT_EQ(receipts[0].status(), v1::RECEIPT_ACCEPTED);
  EXPECT_EQ(receipts[0].wage_minor(), 5);

  EXPECT_EQ(Control(v1::JOB_PAUSE, "p1")->state(), v1::JOB_PAUSED);  // replayed
  EXPECT_EQ(Control(v1::JOB_PAUSE, "p2").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Control(v1::JOB_RESUME, "r1")->state(), v1::JOB_RUNNING);
  EXPECT_EQ(Control(v1::JOB_RESUME, "r2").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Lease("nairobi", "w2", 3, "L3")->assignments_size(), 3);

  EXPECT_EQ(Control(v1::JOB_PAUSE, "x1", "job-9").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Control(v1::JOB_ACTION_UNSPECIFIED, "x2").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Control(v1::JOB_PAUSE, "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(State(), v1::JOB_RUNNING);  // none of the refused calls changed anything

  // The state survives a restart.
  ASSERT_TRUE(Control(v1::JOB_PAUSE, "p3").ok());
  Open();
  EXPECT_EQ(State(), v1::JOB_PAUSED);
  EXPECT_EQ(Lease("nairobi", "w1", 3, "L4")->assignments_size(), 0);
}

TEST_F(LifecycleTest, CancelPaysForWorkDoneAndOutAndRefundsTheRest) {
  AddCentre("nairobi", {"w1", "w2", "w3"});
  ASSERT_TRUE(Submit(kContract).ok());  // budget 10.00
  auto w1 = Lease("nairobi", "w1", 3, "L1");
  auto w2 = Lease("nairobi", "w2", 3, "L2");
  auto w3 = Lease("nairobi", "w3", 1, "L3");
  ASSERT_EQ(w1->assignments_size(), 3);
  ASSERT_EQ(w2->assignments_size(), 3);
  ASSERT_EQ(w3->assignments_size(), 1);
  AnswerAll("nairobi", *w1);  // 15 reserved, awaiting verdicts that now never come

  auto cancelled = Control(v1::JOB_CANCEL, "c1");
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->state(), v1::JOB_CANCELLED);
  EXPECT_EQ(cancelled->wages_posted_minor(), 15);  // w1 paid without a verdict
  auto totals = Totals();
  EXPECT_EQ(totals.wages, 15);
  EXPECT_EQ(totals.pending, 0);
  EXPECT_EQ(totals.refunds, 1000 - 15 - 15 - 5);  // w2's and w3's leases stay covered

  EXPECT_EQ(Lease("nairobi", "w3", 3, "L4")->assignments_size(), 0);
  EXPECT_EQ(Control(v1::JOB_RESUME, "c2").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Control(v1::JOB_CANCEL, "c3").status().code(), absl::StatusCode::kFailedPrecondition);

  // w2 finishes: paid at once. w3's lease expires: its wage goes back to the client.
  AnswerAll("nairobi", *w2);
  clock_.AdvanceMs(Engine::Options().lease_ms + 1);
  ASSERT_EQ(*engine_->ExpireLeases(), 1);
  totals = Totals();
  EXPECT_EQ(totals.wages, 30);
  EXPECT_EQ(totals.pending, 0);
  EXPECT_EQ(totals.refunds, 970);
  EXPECT_EQ(totals.funding, totals.wages + totals.refunds);  // the escrow is empty

  v1::StatementRequest st;
  st.set_worker_account("worker:nairobi/w1");
  EXPECT_EQ(engine_->GetStatement(st, "")->lines(0).posted_minor(), 15);
  EXPECT_EQ(State(), v1::JOB_CANCELLED);
}

TEST_F(LifecycleTest, DeadlineStopsLeasingAndWorkOutIsStillPaid) {
  // The fake clock starts at 2023-11-14T22:13:20Z.
  const std::string contract = absl::StrReplaceAll(
      kContract, {{"budget_minor: 1000", "budget_minor: 1000\ndeadline: 2023-11-14T22:14:00Z"}});
  AddCentre("nairobi", {"w1", "w2"});
  ASSERT_TRUE(Submit(contract).ok());
  auto w1 = Lease("nairobi", "w1", 1, "L1");
  ASSERT_EQ(w1->assignments_size(), 1);

  clock_.AdvanceMs(60'000);  // past the deadline, within w1's lease
  EXPECT_EQ(Lease("nairobi", "w2", 3, "L2")->assignments_size(), 0);
  EXPECT_EQ(State(), v1::JOB_RUNNING);     // until the lease timers run (every second)
  ASSERT_EQ(*engine_->ExpireLeases(), 0);  // w1's lease is still live
  EXPECT_EQ(State(), v1::JOB_DEADLINE_PASSED);
  EXPECT_EQ(Totals().refunds, 995);

  // The lease given before the deadline is still good.
  v1::Result r = Answer(w1->assignments(0), "positive");
  auto receipts = SubmitResults("nairobi", {r});
  ASSERT_EQ(receipts.size(), 1u);
  EXPECT_EQ(receipts[0].status(), v1::RECEIPT_ACCEPTED);
  EXPECT_EQ(receipts[0].wage_minor(), 5);
  auto totals = Totals();
  EXPECT_EQ(totals.wages, 5);
  EXPECT_EQ(totals.pending, 0);
  EXPECT_EQ(totals.funding, totals.wages + totals.refunds);
  EXPECT_EQ(totals.refunds, 995);
}

TEST_F(LifecycleTest, AJobOutOfBudgetWaitsForFundingInsteadOfOverspending) {
  const std::string contract =
      absl::StrReplaceAll(kContract, {{"budget_minor: 1000", "budget_minor: 45"}});
  AddCentre("nairobi", {"w1", "w2", "w3", "w4"});
  ASSERT_TRUE(Submit(contract).ok());  // exactly 3 items x 3 answers x 5

  // w1's leases expire, then the answers arrive late: paid (15), but they count for nothing.
  auto w1 = Lease("nairobi", "w1", 3, "L1");
  ASSERT_EQ(w1->assignments_size(), 3);
  clock_.AdvanceMs(Engine::Options().lease_ms + 1);
  ASSERT_EQ(*engine_->ExpireLeases(), 3);
  AnswerAll("nairobi", *w1);
  clock_.AdvanceMs(Engine::Options().retry_max_ms);

  // 30 left: six more answers. With leases out the job keeps running (one might expire).
  auto w2 = Lease("nairobi", "w2", 3, "L2");
  auto w3 = Lease("nairobi", "w3", 3, "L3");
  ASSERT_EQ(w2->assignments_size(), 3);
  ASSERT_EQ(w3->assignments_size(), 3);
  EXPECT_EQ(Lease("nairobi", "w4", 3, "L4")->assignments_size(), 0);
  EXPECT_EQ(State(), v1::JOB_RUNNING);
  AnswerAll("nairobi", *w2);
  AnswerAll("nairobi", *w3);

  // Nothing out and nothing left: the job waits.
  EXPECT_EQ(Lease("nairobi", "w4", 3, "L5")->assignments_size(), 0);
  EXPECT_EQ(State(), v1::JOB_BUDGET_EXHAUSTED);
  EXPECT_EQ(Control(v1::JOB_RESUME, "r1").status().code(), absl::StatusCode::kFailedPrecondition);

  v1::FundJobRequest fund;
  fund.set_idempotency_key("f1");
  fund.set_job_id("job-1");
  fund.set_amount_minor(15);
  ASSERT_EQ(engine_->FundJob(fund)->state(), v1::JOB_RUNNING);
  auto w4 = Lease("nairobi", "w4", 3, "L6");
  ASSERT_EQ(w4->assignments_size(), 3);
  AnswerAll("nairobi", *w4);
  EXPECT_EQ(State(), v1::JOB_COMPLETED);
  auto totals = Totals();
  EXPECT_EQ(totals.funding, 60);
  EXPECT_EQ(totals.wages, 60);
  EXPECT_EQ(totals.pending, 0);
  EXPECT_EQ(Results("job-1"),
            (std::map<uint64_t, std::string>{{0, "positive"}, {1, "negative"}, {2, "positive"}}));
}

}  // namespace
}  // namespace mw::dispatch
