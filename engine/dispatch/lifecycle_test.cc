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

  // A centre as MakeCentre's with its own capacity and share of each wage.
  void AddCentreWith(const std::string& id, const std::vector<std::string>& workers,
                     uint32_t capacity, uint32_t share_per_mille) {
    v1::AddCentreRequest req;
    req.set_idempotency_key(absl::StrCat("add-", id));
    *req.mutable_centre() = MakeCentre(id);
    req.mutable_centre()->set_capacity(capacity);
    req.mutable_centre()->set_centre_share_per_mille(share_per_mille);
    ASSERT_TRUE(engine_->AddCentre(req).ok());
    v1::RegisterRequest reg;
    for (const auto& w : workers) reg.add_workers()->set_worker(w);
    ASSERT_TRUE(engine_->Register(id, reg).ok());
  }

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

// The regression: 102 leases of a cancelled job kept a centre's capacity, and the next job crawled
// until a restart.
TEST_F(LifecycleTest, CancellingWithLeasesOutFreesTheCentreForTheNextJob) {
  AddCentreWith("nairobi", {"w1", "w2"}, /*capacity=*/3, /*share_per_mille=*/0);
  ASSERT_TRUE(Submit(kContract, "k1").ok());
  auto w1 = Lease("nairobi", "w1", 3, "L1");
  ASSERT_EQ(w1->assignments_size(), 3);
  EXPECT_EQ(engine_->Stats().leases_active, 3u);

  ASSERT_TRUE(Control(v1::JOB_CANCEL, "c1").ok());
  EXPECT_EQ(engine_->Stats().tasks_open, 0u);
  EXPECT_EQ(engine_->Stats().leases_active, 0u);
  EXPECT_EQ(engine_->GetJob("job-1")->stages(1).leased(), 0u);
  EXPECT_EQ(Totals().refunds, 1000 - 15);  // the three leases out stay covered

  // The next job gets the whole centre at once.
  ASSERT_EQ(Submit(kContract, "k2")->job().id(), "job-2");
  auto next = Lease("nairobi", "w2", 3, "L2");
  EXPECT_EQ(next->assignments_size(), 3);

  // An answer to a lease out at the cancel is still paid, from the escrow kept for it; the
  // others' time runs out and their wages go back to the client.
  auto receipts = SubmitResults("nairobi", {Answer(w1->assignments(0), "positive")});
  ASSERT_EQ(receipts.size(), 1u);
  EXPECT_EQ(receipts[0].status(), v1::RECEIPT_ACCEPTED);
  EXPECT_EQ(receipts[0].wage_minor(), 5);
  clock_.AdvanceMs(Engine::Options().lease_ms + 1);
  ASSERT_EQ(*engine_->ExpireLeases(), 2 + 3);  // two settled at job-1, w2's three at job-2
  auto totals = Totals();
  EXPECT_EQ(totals.wages, 5);
  EXPECT_EQ(totals.refunds, 995);
  EXPECT_EQ(totals.funding, totals.wages + totals.refunds);
  EXPECT_EQ(engine_->GetJob("job-1")->refunded_minor(), 995);

  // After a restart nothing of the cancelled job is open again.
  Open();
  EXPECT_EQ(engine_->Stats().tasks_open, 3u);  // job-2's three tasks
  EXPECT_EQ(engine_->GetJob("job-1")->stages(1).leased(), 0u);
}

TEST_F(LifecycleTest, ACompletedJobReturnsItsUnspentEscrowAndCloseReturnsWhatCameBack) {
  AddCentre("nairobi", {"w1", "w2", "w3"});
  ASSERT_TRUE(Submit(kContract).ok());  // budget 10.00, wages 0.45 at most
  for (const char* w : {"w1", "w2", "w3"}) {
    AnswerAll("nairobi", *Lease("nairobi", w, 3, absl::StrCat("L-", w)));
  }
  auto job = engine_->GetJob("job-1");
  ASSERT_EQ(job->state(), v1::JOB_COMPLETED);
  EXPECT_EQ(job->refunded_minor(), 1000 - 45);
  auto totals = Totals();
  EXPECT_EQ(totals.wages, 45);
  EXPECT_EQ(totals.refunds, 955);
  EXPECT_EQ(totals.funding, totals.wages + totals.refunds);

  // Close: nothing more to return, and the job stays completed.
  auto closed = Control(v1::JOB_CLOSE, "x1");
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(closed->state(), v1::JOB_COMPLETED);
  EXPECT_EQ(closed->refunded_minor(), 955);
  EXPECT_EQ(Totals().refunds, 955);
  // A finished job takes no more money.
  v1::FundJobRequest fund;
  fund.set_idempotency_key("f1");
  fund.set_job_id("job-1");
  fund.set_amount_minor(100);
  EXPECT_EQ(engine_->FundJob(fund).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(LifecycleTest, CloseCancelsAnUnfinishedJobFirst) {
  AddCentre("nairobi", {"w1"});
  ASSERT_TRUE(Submit(kContract).ok());
  auto closed = Control(v1::JOB_CLOSE, "x1");
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(closed->state(), v1::JOB_CANCELLED);
  EXPECT_EQ(closed->refunded_minor(), 1000);
  EXPECT_EQ(Totals().refunds, 1000);
}

// The regression: a 20% fee on 1-cent wages came out as 0, and a 15% centre share as 0.
TEST_F(LifecycleTest, FeesAndSharesAreExactPerJobHoweverSmallThePieceRate) {
  const std::string contract = absl::StrReplaceAll(
      kContract, {{"budget_minor: 1000", "budget_minor: 1000\nplatform_fee_per_mille: 200"},
                  {"piece_rate_minor: 5", "piece_rate_minor: 1"},
                  {"estimated_seconds: 20", "estimated_seconds: 4"}});
  AddCentreWith("nairobi", {"w1", "w2", "w3"}, /*capacity=*/100, /*share_per_mille=*/150);
  ASSERT_TRUE(Submit(contract).ok());
  for (const char* w : {"w1", "w2", "w3"}) {
    AnswerAll("nairobi", *Lease("nairobi", w, 3, absl::StrCat("L-", w)));
  }
  auto job = engine_->GetJob("job-1");
  ASSERT_EQ(job->state(), v1::JOB_COMPLETED);
  EXPECT_EQ(job->wages_posted_minor(), 9);
  EXPECT_EQ(job->fees_minor(), 2);           // 20% of 9 cents = 1.8
  EXPECT_EQ(job->centre_shares_minor(), 1);  // 15% of 9 cents = 1.35
  EXPECT_EQ(job->refunded_minor(), 1000 - 9 - 2 - 1);
  auto totals = Totals();
  EXPECT_EQ(totals.wages, 9);
  EXPECT_EQ(totals.fees, 2);
  EXPECT_EQ(totals.shares, 1);
  EXPECT_EQ(totals.funding, totals.wages + totals.fees + totals.shares + totals.refunds);
}

// The regression: a job no centre could serve was accepted and sat at 0% with its budget
// locked, and nothing said why.
TEST_F(LifecycleTest, WorkNoCentreCanTakeIsRefusedUnlessItMayWaitAndTheJobSaysWhy) {
  auto refused = Submit(kContract, "k1", /*wait_for_centres=*/false);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(),
            "no registered centre can take this work:\n  stage label: no centre is registered");
  AddCentre("nairobi", {"w1"}, /*floor=*/1000);  // 5 cents per 20 s pays 9.00/h
  EXPECT_EQ(Submit(kContract, "k1", /*wait_for_centres=*/false).status().message(),
            "no registered centre can take this work:\n  stage label: nairobi: pays 9.00 USD/h, "
            "below the centre's floor of 10.00 USD/h");
  EXPECT_EQ(engine_->ListJobs().size(), 0u);

  auto waiting = Submit(kContract, "wait", /*wait_for_centres=*/true);
  ASSERT_TRUE(waiting.ok()) << waiting.status();
  const std::string id = waiting->job().id();  // the refused submissions used their numbers
  EXPECT_EQ(engine_->GetJob(id)->waiting_for(),
            "stage label: nairobi: pays 9.00 USD/h, below the centre's floor of 10.00 USD/h");
  AddCentre("kisumu", {"w2"});
  EXPECT_EQ(engine_->GetJob(id)->waiting_for(), "");
  EXPECT_EQ(Lease("kisumu", "w2", 3, "L1")->assignments_size(), 3);
}

// The regression: a cancelled job's export left out its unfinished rows.
TEST_F(LifecycleTest, ACancelledJobsExportListsEveryItemWithItsStatus) {
  AddCentre("nairobi", {"w1", "w2", "w3"});
  ASSERT_TRUE(Submit(kContract).ok());
  for (const char* w : {"w1", "w2", "w3"}) {  // the three answers of the first item
    AnswerAll("nairobi", *Lease("nairobi", w, 1, absl::StrCat("L-", w)));
  }
  ASSERT_TRUE(Control(v1::JOB_CANCEL, "c1").ok());
  std::vector<std::pair<uint64_t, std::string>> rows;
  ASSERT_TRUE(engine_
                  ->ExportResults("job-1",
                                  [&](const v1::ResultRecord& r) {
                                    rows.emplace_back(r.item_index(), r.status());
                                    return true;
                                  })
                  .ok());
  EXPECT_EQ(rows,
            (std::vector<std::pair<uint64_t, std::string>>{
                {0, "succeeded"}, {1, "cancelled before label"}, {2, "cancelled before label"}}));
}

// Every individual answer is exported, with its worker, time and pay: those counted in a
// verdict, and one paid after the cancel, so an operator can audit or re-aggregate them.
TEST_F(LifecycleTest, EveryAnswerIsExportedWithItsWorkerTimeAndPayAnswersAfterACancelToo) {
  AddCentre("nairobi", {"w1", "w2", "w3"});
  ASSERT_TRUE(Submit(kContract).ok());
  AnswerAll("nairobi", *Lease("nairobi", "w1", 1, "L-w1"));
  AnswerAll("nairobi", *Lease("nairobi", "w2", 1, "L-w2"), /*dissenter=*/"w2");
  const v1::LeaseReply held = *Lease("nairobi", "w3", 1, "L-w3");
  ASSERT_TRUE(Control(v1::JOB_CANCEL, "c1").ok());
  AnswerAll("nairobi", held);  // after the cancel: paid at once, in no verdict

  std::vector<v1::AnswerRow> rows;
  ASSERT_TRUE(engine_
                  ->ExportAnswers("job-1",
                                  [&](const v1::AnswerRow& r) {
                                    rows.push_back(r);
                                    return true;
                                  })
                  .ok());
  ASSERT_EQ(rows.size(), 3u);
  for (size_t i = 0; i < rows.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(rows[i].task_id(), "job-1/label/0");
    EXPECT_EQ(rows[i].stage(), "label");
    EXPECT_EQ(rows[i].item_index(), 0u);
    EXPECT_EQ(rows[i].worker(), absl::StrCat("w", i + 1));
    EXPECT_EQ(rows[i].centre(), "nairobi");
    EXPECT_EQ(rows[i].active_seconds(), 18u);
    EXPECT_EQ(rows[i].credited_seconds(), 18u);
    EXPECT_EQ(rows[i].wage_minor(), 5);
    EXPECT_EQ(rows[i].currency(), "USD");
    EXPECT_FALSE(rows[i].withheld());
  }
  EXPECT_EQ(rows[0].answer().choice(), "positive");
  EXPECT_EQ(rows[1].answer().choice(), "negative");
  EXPECT_TRUE(rows[0].counted());
  EXPECT_TRUE(rows[1].counted());
  EXPECT_FALSE(rows[2].counted());  // the job had ended: paid, but in no verdict
  EXPECT_TRUE(rows[2].late());
  EXPECT_EQ(engine_->ExportAnswers("job-9", [](const v1::AnswerRow&) { return true; }).code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace mw::dispatch
