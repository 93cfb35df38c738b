#include "engine/dispatch/engine.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "engine/common/ids.h"
#include "engine/dispatch/engine_test_fixture.h"
#include "engine/ledger/auditor.h"
#include "engine/ledger/transfer_log.h"
#include "engine/storage/keys.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mw::dispatch {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

// The store's memory budget is the operator's (mw-dispatcher --block-cache-mb, --memtable-mb).
TEST_F(EngineTest, TheStoreTakesTheMemoryBudgetGiven) {
  EXPECT_EQ(engine_->store()->MemoryUse().cache_capacity, uint64_t{128} << 20);  // the defaults
  Engine::Options options;
  options.store.block_cache_bytes = 16 << 20;
  options.store.memtable_bytes = 8 << 20;
  Open(options);
  EXPECT_EQ(engine_->store()->MemoryUse().cache_capacity, uint64_t{24} << 20);
}

TEST_F(EngineTest, MediaIsReadOnlyWithTheTokenALeaseToThatCentreCarries) {
  const std::string sha(64, 'a');
  auto read = [&](const std::string& centre, const std::string& token) {
    return engine_->ReadMedia(centre, sha, token, 0, [](absl::string_view, bool) { return true; })
        .code();
  };
  EXPECT_EQ(read("nairobi", ""), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(read("nairobi", engine_->MediaToken("kampala", sha)),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(read("nairobi", engine_->MediaToken("nairobi", sha)), absl::StatusCode::kNotFound);
  EXPECT_EQ(
      engine_->ReadMedia("nairobi", "../x", "", 0, [](absl::string_view, bool) { return true; })
          .code(),
      absl::StatusCode::kInvalidArgument);
  // The key outlives a restart: a token given before it still opens the file after.
  const std::string token = engine_->MediaToken("nairobi", sha);
  Open();
  EXPECT_EQ(engine_->MediaToken("nairobi", sha), token);
}

TEST_F(EngineTest, ContractFlowsToVerdictsAndWages) {
  AddCentre("nairobi", {"w1", "w2"});
  AddCentre("kisumu", {"w3"});
  auto sub = Submit(kContract);
  ASSERT_TRUE(sub.ok()) << sub.status();
  const std::string job = sub->job().id();
  EXPECT_EQ(job, "job-1");
  EXPECT_EQ(sub->job().items(), 3u);

  for (auto [centre, worker] : {std::pair{"nairobi", "w1"}, {"nairobi", "w2"}, {"kisumu", "w3"}}) {
    auto lease = Lease(centre, worker, 10, absl::StrCat("lease-", worker));
    ASSERT_TRUE(lease.ok()) << lease.status();
    ASSERT_EQ(lease->assignments_size(), 3) << worker;
    EXPECT_EQ(lease->specs_size(), 1);
    AnswerAll(centre, *lease, /*dissenter=*/"w3");
  }

  auto done = engine_->GetJob(job);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state(), v1::JOB_COMPLETED);
  EXPECT_EQ(done->stages(1).done(), 3u);
  EXPECT_EQ(done->stages(1).contributions(), 9u);
  EXPECT_EQ(done->stages(2).done(), 3u);
  EXPECT_EQ(Results(job),
            (std::map<uint64_t, std::string>{{0, "positive"}, {1, "negative"}, {2, "positive"}}));

  // Dissent lowers nothing here: all nine contributions are paid 5 cents, posted.
  v1::StatementRequest req;
  req.set_centre("nairobi");
  auto st = engine_->GetStatement(req, "");
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(st->lines_size(), 2);
  EXPECT_EQ(st->lines(0).account(), "worker:nairobi/w1");
  EXPECT_EQ(st->lines(0).posted_minor(), 15);
  EXPECT_EQ(st->lines(0).pending_minor(), 0);
  EXPECT_EQ(st->lines(0).contributions(), 3u);
  EXPECT_EQ(st->lines(0).active_seconds(), 54u);
  req.set_worker_account("worker:kisumu/w3");
  EXPECT_EQ(engine_->GetStatement(req, "")->lines(0).posted_minor(), 15);

  ledger::Auditor auditor;
  ASSERT_TRUE(Audit(&auditor).ok()) << Audit(&auditor);
  const auto& totals = auditor.jobs().at(job);
  EXPECT_EQ(totals.funding, 1000);
  EXPECT_EQ(totals.wages, 45);
  EXPECT_EQ(totals.pending, 0);
}

// Backpressure: while changes wait for the disk beyond the limit, new work is refused with
// RESOURCE_EXHAUSTED and a retry hint, and nothing changes; once the disk catches up it flows.
TEST_F(EngineTest, WhileTheDiskLagsNewWorkIsRefusedAndNothingChanges) {
  Engine::Options options;
  options.max_waiting_commit_bytes = 4;  // any waiting change is too much for a lease
  options.max_results_per_call = 3;
  Open(options);
  AddCentre("nairobi", {"w1", "w2", "w3"});
  ASSERT_TRUE(Submit(kContract).ok());
  auto first = Lease("nairobi", "w1", 3, "l1");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->assignments_size(), 3);

  // Too many results in one call: refused whole, naming the limit.
  v1::SubmitResultsRequest four;
  for (int i = 0; i < 4; ++i) *four.add_results() = Answer(first->assignments(0), "positive");
  EXPECT_EQ(engine_->SubmitResults("nairobi", four).status(),
            absl::InvalidArgumentError("results: at most 3 per call, got 4"));

  // The disk stalls while w1's answers are being recorded.
  engine_->commit_queue()->Pause();
  v1::SubmitResultsRequest answers;
  for (const auto& a : first->assignments()) *answers.add_results() = Answer(a, "positive");
  std::thread recording([&] { EXPECT_TRUE(engine_->SubmitResults("nairobi", answers).ok()); });
  engine_->commit_queue()->AwaitWaitingBytes(options.max_waiting_commit_bytes + 1);

  const uint64_t leases_before = engine_->Stats().leases_active;
  auto refused = Lease("nairobi", "w2", 3, "l2");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.status().message()),
              ::testing::AllOf(::testing::StartsWith("lease: the dispatcher has "),
                               ::testing::EndsWith("waiting for the disk; retry after 200 ms")));
  EXPECT_EQ(engine_->Stats().leases_active, leases_before);
  v1::SubmitResultsRequest more;
  *more.add_results() = Answer(first->assignments(0), "negative");
  EXPECT_EQ(engine_->SubmitResults("nairobi", more).status().code(),
            absl::StatusCode::kResourceExhausted);

  engine_->commit_queue()->Resume();
  recording.join();
  EXPECT_EQ(engine_->commit_queue()->WaitingBytes(), 0u);
  auto later = Lease("nairobi", "w2", 3, "l2");  // the same key: it was never used
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(later->assignments_size(), 3);
}

// The workers' records on a job that ended leave memory once the batch that ended it is durable
// (the next change committed lets them go), and what is read of them is read from the store:
// the job's impact report is the same before, after, and after a restart.
TEST_F(EngineTest, WorkersRecordsOnAnEndedJobLeaveMemory) {
  AddCentre("nairobi", {"w1", "w2"});
  AddCentre("kisumu", {"w3"});
  ASSERT_TRUE(Submit(kContract).ok());
  for (auto [centre, worker] : {std::pair{"nairobi", "w1"}, {"nairobi", "w2"}, {"kisumu", "w3"}}) {
    auto lease = Lease(centre, worker, 10, absl::StrCat("lease-", worker));
    ASSERT_TRUE(lease.ok()) << lease.status();
    AnswerAll(centre, *lease, /*dissenter=*/"w3");
  }
  ASSERT_EQ(engine_->GetJob("job-1")->state(), v1::JOB_COMPLETED);
  // The jobs a worker's record counts are their records on jobs.
  auto jobs_of = [&](const char* centre, const char* worker) -> uint64_t {
    auto facts = engine_->WorkFacts(centre, worker);
    EXPECT_TRUE(facts.ok()) << facts.status();
    return facts.ok() ? facts->jobs : 0;
  };
  EXPECT_EQ(jobs_of("nairobi", "w1"), 1u);
  auto before = engine_->ImpactReport("job-1");
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ(before->centres_size(), 2);
  EXPECT_EQ(before->centres(1).workers(), 2u);  // nairobi's w1 and w2

  auto second = Submit(kContract, "k2");
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->job().id(), "job-2");
  auto next = Lease("nairobi", "w1", 1, "job-2-lease");
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_EQ(next->assignments_size(), 1);
  AnswerAll("nairobi", *next, /*dissenter=*/"");
  EXPECT_EQ(engine_->Stats().worker_job_records, 1u);  // w1's on job-2, which runs
  EXPECT_EQ(jobs_of("nairobi", "w1"), 2u);             // job-1's from the store, job-2's
  EXPECT_EQ(jobs_of("kisumu", "w3"), 1u);
  auto after = engine_->ImpactReport("job-1");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->DebugString(), before->DebugString());

  Open();  // a restart loads none of them
  EXPECT_EQ(engine_->Stats().worker_job_records, 1u);
  EXPECT_EQ(jobs_of("nairobi", "w2"), 1u);
  EXPECT_EQ(jobs_of("nairobi", "w1"), 2u);
  auto reopened = engine_->ImpactReport("job-1");
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(reopened->DebugString(), before->DebugString());
}

// The ledger holds a transfer in memory only until its batch is written: the wages of answers
// waiting for a stalled disk are held (and a resend finds them there), and the first change
// committed after their write lets them go.
TEST_F(EngineTest, TheLedgerHoldsTransfersOnlyUntilTheirBatchIsWritten) {
  AddCentre("nairobi", {"w1", "w2", "w3"});
  ASSERT_TRUE(Submit(kContract).ok());
  auto first = Lease("nairobi", "w1", 3, "l1");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->assignments_size(), 3);
  EXPECT_EQ(engine_->Stats().ledger_unwritten, 0u);  // the funding, written before the lease
  ledger::Auditor before;
  ASSERT_TRUE(Audit(&before).ok());

  engine_->commit_queue()->Pause();
  v1::SubmitResultsRequest answers;
  for (const auto& a : first->assignments()) *answers.add_results() = Answer(a, "positive");
  v1::SubmitResultsReply recorded;
  std::thread recording([&] {
    auto reply = engine_->SubmitResults("nairobi", answers);
    ASSERT_TRUE(reply.ok()) << reply.status();
    recorded = *std::move(reply);
  });
  engine_->commit_queue()->AwaitWaitingBytes(1);
  const uint64_t held = engine_->Stats().ledger_unwritten;
  engine_->commit_queue()->Resume();
  recording.join();

  ledger::Auditor after;
  ASSERT_TRUE(Audit(&after).ok());
  EXPECT_GE(held, 3u);  // a wage reserved for each answer, with its legs
  EXPECT_EQ(held, after.transfers() - before.transfers());
  EXPECT_EQ(engine_->Stats().ledger_unwritten, held);  // nothing committed since the write
  auto resent = engine_->SubmitResults("nairobi", answers);
  ASSERT_TRUE(resent.ok()) << resent.status();
  for (const auto& r : resent->receipts()) EXPECT_EQ(r.status(), v1::RECEIPT_DUPLICATE);
  EXPECT_EQ(engine_->Stats().ledger_unwritten, held);  // duplicates commit nothing
  ASSERT_TRUE(Lease("nairobi", "w2", 1, "l2").ok());   // the next change committed
  EXPECT_EQ(engine_->Stats().ledger_unwritten, 0u);
  // Let go, they are found in the store: a resend is still a duplicate and pays nothing, and
  // its receipt (read from the contribution's record) is the first one's but for the status.
  auto resent_again = engine_->SubmitResults("nairobi", answers);
  ASSERT_TRUE(resent_again.ok()) << resent_again.status();
  ASSERT_EQ(resent_again->receipts_size(), recorded.receipts_size());
  for (int i = 0; i < recorded.receipts_size(); ++i) {
    v1::Receipt expected = recorded.receipts(i);
    EXPECT_EQ(expected.status(), v1::RECEIPT_ACCEPTED);
    EXPECT_GT(expected.wage_minor(), 0);
    expected.set_status(v1::RECEIPT_DUPLICATE);
    EXPECT_EQ(resent_again->receipts(i).SerializeAsString(), expected.SerializeAsString());
  }
  ledger::Auditor again;
  ASSERT_TRUE(Audit(&again).ok());
  EXPECT_EQ(again.transfers(), after.transfers());
}

// The centre's statement holds one worker with one contribution, owed `wage_minor` in all.
void ExpectOneContributionPaid(Engine& engine, const std::string& centre, int64_t wage_minor) {
  v1::StatementRequest req;
  req.set_centre(centre);
  auto st = engine.GetStatement(req, "");
  ASSERT_TRUE(st.ok()) << st.status();
  ASSERT_EQ(st->lines_size(), 1);
  EXPECT_EQ(st->lines(0).contributions(), 1u);
  EXPECT_EQ(st->lines(0).pending_minor() + st->lines(0).posted_minor(), wage_minor);
}

// One contribution per worker and task, however its assignment id is spelled: the same item
// numbered otherwise ("04" for 4, "+4") names no task, so it is neither a second contribution
// nor a second wage.
TEST_F(EngineTest, AnItemNumberSpelledOtherwiseNamesNoTaskAndIsNotPaidAgain) {
  AddCentre("nairobi", {"w1"});
  ASSERT_TRUE(Submit(kContract).ok());
  auto leased = Lease("nairobi", "w1", 1, "l1");
  ASSERT_TRUE(leased.ok()) << leased.status();
  ASSERT_EQ(leased->assignments_size(), 1);
  const v1::Assignment& a = leased->assignments(0);
  const size_t slash = a.assignment_id().rfind('/');
  std::vector<v1::Result> results = {Answer(a, "positive")};
  for (const char* prefix : {"0", "+"}) {
    v1::Result respelled = Answer(a, "positive");
    respelled.set_assignment_id(std::string(a.assignment_id()).insert(slash + 1, prefix));
    respelled.set_result_id(absl::StrCat("r-respelled-", prefix));
    results.push_back(respelled);
  }
  const std::vector<v1::Receipt> receipts = SubmitResults("nairobi", results);
  ASSERT_EQ(receipts.size(), 3u);
  EXPECT_EQ(receipts[0].status(), v1::RECEIPT_ACCEPTED);
  for (size_t i = 1; i < 3; ++i) {
    const std::string task =
        results[i].assignment_id().substr(0, results[i].assignment_id().find('@'));
    EXPECT_EQ(receipts[i].status(), v1::RECEIPT_QUARANTINED) << i;
    EXPECT_EQ(receipts[i].detail(),
              absl::StrCat("task id \"", task, "\": expected <job>/<stage>/<item>"));
  }
  ExpectOneContributionPaid(*engine_, "nairobi", 5);
  ledger::Auditor auditor;
  ASSERT_TRUE(Audit(&auditor).ok());
}

// A centre's assignment ids are claims: spelled to land next to a real wage's ledger id (its
// kind's mark, a fee leg, a NUL byte, a ':' in the task), each names no assignment, is paid
// nothing and moves no money; the real one is paid once.
TEST_F(EngineTest, AssignmentIdsShapedLikeLedgerKeysAreNotPaid) {
  AddCentre("nairobi", {"w1"});
  ASSERT_TRUE(Submit(kContract).ok());
  auto leased = Lease("nairobi", "w1", 1, "l1");
  ASSERT_TRUE(leased.ok()) << leased.status();
  ASSERT_EQ(leased->assignments_size(), 1);
  const v1::Assignment& a = leased->assignments(0);
  std::vector<v1::Result> results = {Answer(a, "positive")};
  const std::string aid = a.assignment_id();
  const std::string task = aid.substr(0, aid.find('@'));
  for (const std::string& forged : {aid + std::string("\0:wage", 6), aid + "/fee", task + ":x@w1",
                                    task + std::string("\0@w1", 4), "wage:" + aid}) {
    v1::Result r = Answer(a, "positive");
    r.set_assignment_id(forged);
    r.set_result_id(absl::StrCat("r-forged-", results.size()));
    results.push_back(r);
  }
  const std::vector<v1::Receipt> receipts = SubmitResults("nairobi", results);
  ASSERT_EQ(receipts.size(), results.size());
  EXPECT_EQ(receipts[0].status(), v1::RECEIPT_ACCEPTED);
  for (size_t i = 1; i < receipts.size(); ++i) {
    EXPECT_EQ(receipts[i].status(), v1::RECEIPT_QUARANTINED)
        << absl::CHexEscape(results[i].assignment_id()) << ": " << receipts[i].detail();
  }
  ExpectOneContributionPaid(*engine_, "nairobi", 5);
  std::set<std::string> wages;
  for (const auto& [id, t] : TransfersById()) {
    if (absl::StartsWith(id, "wage")) wages.insert(id);
  }
  EXPECT_EQ(wages, (std::set<std::string>{WageTransferId(aid)}));
  ledger::Auditor auditor;
  ASSERT_TRUE(Audit(&auditor).ok());
}

// Fair share: while centres contend for work (each asked for more than it got), a job leases
// to each in proportion to its weight; with nobody contending, a centre gets what it asks.
TEST_F(EngineTest, ContendedWorkIsSharedByWeightAndTheSharesAreReported) {
  AddCentre("nairobi", {"n1", "n2"}, 600, 1);
  AddCentre("kampala", {"k1", "k2"}, 600, 3);
  // Both ask before there is any work: both are now short of it.
  ASSERT_EQ(Lease("nairobi", "n1", 1, "n-0")->assignments_size(), 0);
  ASSERT_EQ(Lease("kampala", "k1", 1, "k-0")->assignments_size(), 0);
  std::string four = kContract;
  four.replace(four.find("3,fine\\n"), 8, "3,fine\\n4,ok\\n");
  four.replace(four.find("overlap: 3"), 10, "overlap: 1");
  auto job = Submit(four);
  ASSERT_TRUE(job.ok()) << job.status();
  ASSERT_EQ(job->job().items(), 4u);

  // Four tasks, weights 1:3. Nairobi asks first for all four and gets one; Kampala gets three.
  auto n = Lease("nairobi", "n1", 4, "n-1");
  auto k = Lease("kampala", "k1", 4, "k-1");
  ASSERT_TRUE(n.ok()) << n.status();
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(n->assignments_size(), 1);
  EXPECT_EQ(k->assignments_size(), 3);
  AnswerAll("nairobi", *n);
  AnswerAll("kampala", *k);
  auto done = engine_->GetJob(job->job().id());
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state(), v1::JOB_COMPLETED);
  ASSERT_EQ(done->shares_size(), 2);
  EXPECT_EQ(done->shares(0).centre(), "kampala");
  EXPECT_EQ(done->shares(0).weight(), 3u);
  EXPECT_EQ(done->shares(0).contributions(), 3u);
  EXPECT_DOUBLE_EQ(done->shares(0).achieved(), 0.75);
  EXPECT_DOUBLE_EQ(done->shares(0).target(), 0.75);
  EXPECT_EQ(done->shares(1).centre(), "nairobi");
  EXPECT_DOUBLE_EQ(done->shares(1).achieved(), 0.25);
  EXPECT_DOUBLE_EQ(done->shares(1).target(), 0.25);

  // Once Kampala has stopped contending (its window passed), Nairobi gets all it asks for.
  clock_.AdvanceMs(Engine::Options().fair_share_window_ms + 1);
  auto second = Submit(four, "k2");
  ASSERT_TRUE(second.ok()) << second.status();
  auto all = Lease("nairobi", "n2", 4, "n-2");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->assignments_size(), 4);
}

// A centre the fair-share rule holds back is not short of work: counting it short made the
// centres hold each other back for good once one job's tail had left them all short, and every
// lease call of the next job then got one task.
TEST_F(EngineTest, AfterOneJobsTailTheNextJobIsLeasedInFull) {
  AddCentre("nairobi", {"n1", "n2"}, 600, 1);
  AddCentre("kampala", {"k1", "k2"}, 600, 1);
  std::string one = kContract;
  one.replace(one.find("overlap: 3"), 10, "overlap: 1");
  ASSERT_TRUE(Submit(one).ok());
  // Three tasks: Nairobi takes them all; both centres then find nothing and are short of work.
  auto first = Lease("nairobi", "n1", 3, "n-1");
  ASSERT_EQ(first->assignments_size(), 3);
  AnswerAll("nairobi", *first);
  ASSERT_EQ(Lease("nairobi", "n1", 3, "n-2")->assignments_size(), 0);
  ASSERT_EQ(Lease("kampala", "k1", 3, "k-1")->assignments_size(), 0);

  std::string rows = "id,text\\n";
  for (int i = 0; i < 40; ++i) absl::StrAppend(&rows, i, ",fine\\n");
  std::string forty = one;
  const std::string three = "id,text\\n1,great\\n2,awful\\n3,fine\\n";
  forty.replace(forty.find(three), three.size(), rows);
  auto second = Submit(forty, "forty");
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->job().items(), 40u);
  // Kampala is still counted short: Nairobi gets one task, then is held back for it.
  EXPECT_EQ(Lease("nairobi", "n2", 10, "n-3")->assignments_size(), 1);
  // Kampala gets what it asks for; so does Nairobi next, both short of nothing now.
  EXPECT_EQ(Lease("kampala", "k2", 10, "k-2")->assignments_size(), 10);
  EXPECT_EQ(Lease("nairobi", "n2", 10, "n-4")->assignments_size(), 10);
  EXPECT_EQ(Lease("kampala", "k2", 10, "k-3")->assignments_size(), 10);
}

// Heartbeats keep a lease alive, but not forever: an assignment nobody opened is offered
// elsewhere after schedule-to-start, and one opened runs at most start-to-close. The start is
// kept durably: it still bounds the lease after a restart.
TEST_F(EngineTest, LeasesEndAtScheduleToStartAndStartToCloseWhateverTheHeartbeats) {
  Engine::Options options;
  options.lease_ms = 60'000;
  options.schedule_to_start_ms = 130'000;
  options.start_to_close_ms = 100'000;
  Open(options);
  AddCentre("nairobi", {"w1"});
  ASSERT_TRUE(Submit(kContract).ok());
  auto lease = Lease("nairobi", "w1", 2, "l1");
  ASSERT_TRUE(lease.ok());
  ASSERT_EQ(lease->assignments_size(), 2);
  const std::string opened = lease->assignments(0).assignment_id();
  const std::string waiting = lease->assignments(1).assignment_id();
  auto heartbeat = [&](std::vector<std::string> started) {
    v1::HeartbeatRequest req;
    req.add_assignment_ids(opened);
    req.add_assignment_ids(waiting);
    for (auto& id : started) req.add_started(id);
    return engine_->Heartbeat("nairobi", req);
  };

  v1::HeartbeatRequest stranger;
  stranger.add_assignment_ids(opened);
  stranger.add_started(waiting);
  EXPECT_EQ(engine_->Heartbeat("nairobi", stranger).status(),
            absl::InvalidArgumentError(
                absl::StrCat("started: ", waiting, " is not among assignment_ids")));

  clock_.AdvanceMs(50'000);  // t = 50 s: the worker opens the first
  ASSERT_TRUE(heartbeat({opened}).ok());
  clock_.AdvanceMs(10'000);  // t = 60 s: the dispatcher restarts
  Open(options);
  clock_.AdvanceMs(40'000);  // t = 100 s
  auto hb = heartbeat({});   // the start was kept: not resent here
  ASSERT_TRUE(hb.ok()) << hb.status();
  EXPECT_TRUE(hb->lost().empty());
  clock_.AdvanceMs(25'000);  // t = 125 s
  ASSERT_TRUE(heartbeat({opened}).ok());

  clock_.AdvanceMs(6'000);  // t = 131 s: past schedule-to-start (130 s) for the unopened one
  EXPECT_EQ(*engine_->ExpireLeases(), 1);
  clock_.AdvanceMs(18'000);  // t = 149 s
  hb = heartbeat({opened});
  ASSERT_TRUE(hb.ok());
  EXPECT_THAT(hb->lost(), ::testing::ElementsAre(waiting));
  clock_.AdvanceMs(2'000);  // t = 151 s: past start-to-close (50 s + 100 s) for the opened one
  EXPECT_EQ(*engine_->ExpireLeases(), 1);
  EXPECT_EQ(engine_->Stats().leases_active, 0u);
}

// Jobs are served by priority, then by the nearer deadline, then oldest first.
TEST_F(EngineTest, LeasesServeHigherPriorityThenNearerDeadlineFirst) {
  AddCentre("nairobi", {"w1"});
  std::string urgent = kContract, later = kContract, first = kContract;
  urgent.replace(urgent.find("client: acme"), 12,
                 "client: acme\ndeadline: \"2030-01-01T00:00:00Z\"");
  later.replace(later.find("client: acme"), 12, "client: acme\ndeadline: \"2031-01-01T00:00:00Z\"");
  first.replace(first.find("client: acme"), 12, "client: acme\npriority: 5");
  ASSERT_EQ(Submit(kContract, "k-plain")->job().id(), "job-1");
  ASSERT_EQ(Submit(later, "k-later")->job().id(), "job-2");
  ASSERT_EQ(Submit(urgent, "k-urgent")->job().id(), "job-3");
  ASSERT_EQ(Submit(first, "k-first")->job().id(), "job-4");
  auto lease = Lease("nairobi", "w1", 12, "l1");
  ASSERT_TRUE(lease.ok()) << lease.status();
  std::vector<std::string> jobs;
  for (const auto& a : lease->assignments()) {
    if (jobs.empty() || jobs.back() != a.job_id()) jobs.push_back(a.job_id());
  }
  EXPECT_THAT(jobs, ::testing::ElementsAre("job-4", "job-3", "job-2", "job-1"));
}

// A worker past their centre's daily cap on distressing content gets none of it leased (the
// agent says so in the credit); the same worker still gets other work.
TEST_F(EngineTest, ACreditCanAskForNothingDistressing) {
  AddCentre("nairobi", {"w1", "w2"});
  std::string hard = kContract;
  hard.replace(hard.find("      piece_rate_minor: 5"), 25,
               "      distressing: true\n      piece_rate_minor: 5");
  ASSERT_TRUE(Submit(hard, "k-hard").ok());
  v1::LeaseRequest req;
  req.set_idempotency_key("capped");
  auto* credit = req.add_credits();
  credit->set_worker("w1");
  credit->set_count(3);
  credit->set_no_distressing(true);
  auto capped = engine_->Lease("nairobi", req);
  ASSERT_TRUE(capped.ok()) << capped.status();
  EXPECT_EQ(capped->assignments_size(), 0);
  ASSERT_TRUE(Submit(kContract, "k-plain").ok());
  req.set_idempotency_key("capped-2");
  capped = engine_->Lease("nairobi", req);
  ASSERT_TRUE(capped.ok());
  ASSERT_EQ(capped->assignments_size(), 3);
  for (const auto& a : capped->assignments()) EXPECT_EQ(a.job_id(), "job-2");
  auto uncapped = Lease("nairobi", "w2", 3, "free");
  ASSERT_TRUE(uncapped.ok());
  EXPECT_EQ(uncapped->assignments(0).job_id(), "job-1");
}

TEST_F(EngineTest, AStageReservedForOtherWorkersIsNotLeasedToThisOne) {
  AddCentre("nairobi", {"w1", "w2"});
  ASSERT_TRUE(Submit(kContract, "k1").ok());
  ASSERT_TRUE(Submit(kContract, "k2").ok());
  // The manager reserved job-1's labelling for w2: w1's credit excludes it.
  v1::LeaseRequest req;
  req.set_idempotency_key("w1-lease");
  auto* credit = req.add_credits();
  credit->set_worker("w1");
  credit->set_count(5);
  credit->add_exclude_stages("job-1/label");
  auto w1 = engine_->Lease("nairobi", req);
  ASSERT_TRUE(w1.ok()) << w1.status();
  ASSERT_EQ(w1->assignments_size(), 3);
  for (const auto& a : w1->assignments()) EXPECT_EQ(a.job_id(), "job-2");
  auto w2 = Lease("nairobi", "w2", 5, "w2-lease");
  ASSERT_TRUE(w2.ok());
  ASSERT_EQ(w2->assignments_size(), 5);
  EXPECT_EQ(w2->assignments(0).job_id(), "job-1");
}

TEST_F(EngineTest, ABatchReservedForOtherWorkersIsLeftForThemThroughARestart) {
  AddCentre("nairobi", {"w1", "w2"});
  std::string six = kContract;
  const std::string three = "1,great\\n2,awful\\n3,fine\\n";
  six.replace(six.find(three), three.size(), "1,a\\n2,b\\n3,c\\n4,d\\n5,e\\n6,f\\n");
  six.replace(six.find("overlap: 3"), 10, "overlap: 1");
  ASSERT_TRUE(Submit(six).ok());
  // The manager reserved items 1 to 3 of job-1's labelling for w2.
  v1::LeaseRequest req;
  req.set_idempotency_key("w1-lease");
  auto* credit = req.add_credits();
  credit->set_worker("w1");
  credit->set_count(10);
  v1::ItemBatch* batch = credit->add_exclude_batches();
  batch->set_stage("job-1/label");
  batch->set_first_item(1);
  batch->set_last_item(3);
  auto items = [](const v1::LeaseReply& r) {
    std::set<uint64_t> out;
    for (const auto& a : r.assignments()) out.insert(a.item().index());
    return out;
  };
  auto w1 = engine_->Lease("nairobi", req);
  ASSERT_TRUE(w1.ok()) << w1.status();
  EXPECT_EQ(items(*w1), (std::set<uint64_t>{0, 4, 5}));
  // The batch's tasks were opened as w1's lease passed them; they survive a restart.
  Open();
  v1::RegisterRequest reg;
  for (const char* w : {"w1", "w2"}) reg.add_workers()->set_worker(w);
  ASSERT_TRUE(engine_->Register("nairobi", reg).ok());
  req.set_idempotency_key("w1-again");
  auto again = engine_->Lease("nairobi", req);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->assignments_size(), 0);
  auto w2 = Lease("nairobi", "w2", 10, "w2-lease");
  ASSERT_TRUE(w2.ok());
  EXPECT_EQ(items(*w2), (std::set<uint64_t>{1, 2, 3}));
}

TEST_F(EngineTest, AManagerMovesAnUnansweredTaskToAnotherWorker) {
  AddCentre("nairobi", {"w1", "w2", "w3", "w4"});
  AddCentre("kisumu", {"k1"});
  ASSERT_TRUE(Submit(kContract).ok());
  auto w1 = Lease("nairobi", "w1", 3, "L1");
  ASSERT_TRUE(w1.ok());
  ASSERT_EQ(w1->assignments_size(), 3);
  v1::ReassignRequest move;
  move.set_idempotency_key("m1");
  move.set_assignment_id("job-1/label/0@w1");
  move.set_to_worker("w2");
  EXPECT_EQ(engine_->Reassign("nairobi", move).status().code(),
            absl::StatusCode::kInvalidArgument);  // nobody decided it
  move.set_decided_by("manager:grace");
  EXPECT_EQ(engine_->Reassign("kisumu", move).status().code(),
            absl::StatusCode::kFailedPrecondition);  // not kisumu's to move
  move.set_to_worker("w9");
  EXPECT_EQ(engine_->Reassign("nairobi", move).status().message(),
            "worker w9 is not on duty at centre nairobi");
  move.set_to_worker("w2");
  auto moved = engine_->Reassign("nairobi", move);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->assignment().assignment_id(), "job-1/label/0@w2");
  EXPECT_EQ(moved->assignment().worker(), "w2");
  EXPECT_EQ(moved->assignment().epoch(), 2u);
  EXPECT_EQ(moved->assignment().item().index(), 0u);
  EXPECT_EQ(moved->spec().stage(), "label");
  // w1's timer on the moved task went with it: one timer per live lease.
  EXPECT_EQ(engine_->Stats().leases_active, 3u);
  EXPECT_EQ(engine_->Stats().lease_timers, 3u);
  // A replay gives the same assignment; moving it again from w1 is refused.
  auto replay = engine_->Reassign("nairobi", move);
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->assignment().epoch(), 2u);
  move.set_idempotency_key("m2");
  EXPECT_EQ(engine_->Reassign("nairobi", move).status().message(),
            "job-1/label/0@w1 is not leased to this centre now (answered, expired or moved)");

  // w2 never gets the moved task twice; w1's answer to it arrives late, is paid, not counted.
  auto w2 = Lease("nairobi", "w2", 3, "L2");
  ASSERT_TRUE(w2.ok());
  ASSERT_EQ(w2->assignments_size(), 2);
  for (const auto& a : w2->assignments()) EXPECT_NE(a.item().index(), 0u);
  std::vector<v1::Receipt> receipts =
      SubmitResults("nairobi", {Answer(w1->assignments(0), "negative")});
  ASSERT_EQ(receipts.size(), 1u);
  EXPECT_EQ(receipts[0].status(), v1::RECEIPT_ACCEPTED);
  EXPECT_TRUE(receipts[0].late());
  EXPECT_EQ(receipts[0].wage_minor(), 5);
  AnswerAll("nairobi", *w2);
  SubmitResults("nairobi", {Answer(moved->assignment(), "positive")});
  for (const auto& a : w1->assignments()) {
    if (a.item().index() != 0)
      SubmitResults("nairobi", {Answer(a, a.item().index() == 1 ? "negative" : "positive")});
  }
  AnswerAll("nairobi", *Lease("nairobi", "w3", 3, "L3"));
  // Item 0 still needs a third counted answer: w1's moved slot is not one.
  auto w4 = Lease("nairobi", "w4", 3, "L4");
  ASSERT_EQ(w4->assignments_size(), 1);
  EXPECT_EQ(w4->assignments(0).item().index(), 0u);
  AnswerAll("nairobi", *w4);
  EXPECT_EQ(engine_->GetJob("job-1")->state(), v1::JOB_COMPLETED);
  EXPECT_EQ(engine_->Stats().leases_active, 0u);
  EXPECT_EQ(engine_->Stats().lease_timers, 0u);  // every lease answered: no timer is left
  // Item 0's verdict counts w2, w3 and w4, not w1's late "negative".
  EXPECT_EQ(Results("job-1").at(0), "positive");
  ledger::Auditor auditor;
  ASSERT_TRUE(Audit(&auditor).ok()) << Audit(&auditor);
  EXPECT_EQ(auditor.jobs().at("job-1").wages, 50);  // 9 counted answers and the late one
}

// One lease reply carries at most a byte budget of items: big rows once made a reply no
// agent could receive, resent under the same key for ever.
TEST_F(EngineTest, ALeaseReplyStopsAtItsByteBudgetAndTheNextCallGetsTheRest) {
  Engine::Options options;
  options.max_lease_reply_bytes = 100'000;
  Open(options);
  AddCentre("nairobi", {"w1"});
  std::string rows = "id,text\\n";
  for (int i = 1; i <= 6; ++i) absl::StrAppend(&rows, i, ",", std::string(30'000, 'a' + i), "\\n");
  ASSERT_TRUE(
      Submit(absl::StrReplaceAll(kContract, {{R"(id,text\n1,great\n2,awful\n3,fine\n)", rows},
                                             {"budget_minor: 1000", "budget_minor: 100000"}}))
          .ok());
  auto first = Lease("nairobi", "w1", 6, "L1");
  ASSERT_TRUE(first.ok()) << first.status();
  // 30 KB each: the fourth takes the reply past 100,000 bytes, and it stops there.
  EXPECT_EQ(first->assignments_size(), 4);
  EXPECT_LT(first->ByteSizeLong(), 100'000u + 31'000u);
  auto rest = Lease("nairobi", "w1", 6, "L2");
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(rest->assignments_size(), 2);
}

TEST_F(EngineTest, LeaseIsIdempotentAndNeverGivesAWorkerATaskTwice) {
  AddCentre("nairobi", {"w1"});
  ASSERT_TRUE(Submit(kContract).ok());
  auto first = Lease("nairobi", "w1", 2, "L1");
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->assignments_size(), 2);
  auto again = Lease("nairobi", "w1", 2, "L1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->SerializeAsString(), first->SerializeAsString());
  EXPECT_EQ(Lease("nairobi", "w1", 3, "L1").status().code(), absl::StatusCode::kAlreadyExists);

  auto more = Lease("nairobi", "w1", 10, "L2");
  ASSERT_TRUE(more.ok());
  ASSERT_EQ(more->assignments_size(), 1);  // three tasks in all, one worker: one slot each
  EXPECT_EQ(more->assignments(0).task_id(), "job-1/label/2");
  auto none = Lease("nairobi", "w1", 10, "L3");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->assignments_size(), 0);
}

TEST_F(EngineTest, ResultIdsAreIdempotentAndBadAnswersAreQuarantined) {
  AddCentre("nairobi", {"w1"});
  ASSERT_TRUE(Submit(kContract).ok());
  auto lease = Lease("nairobi", "w1", 3, "L1");
  ASSERT_TRUE(lease.ok());
  const v1::Result good = Answer(lease->assignments(0), "positive");
  auto r1 = SubmitResults("nairobi", {good});
  ASSERT_EQ(r1.size(), 1u);
  EXPECT_EQ(r1[0].status(), v1::RECEIPT_ACCEPTED);
  EXPECT_EQ(r1[0].wage_minor(), 5);

  auto r2 = SubmitResults("nairobi", {good, good});
  EXPECT_EQ(r2[0].status(), v1::RECEIPT_DUPLICATE);
  EXPECT_EQ(r2[0].contribution_id(), r1[0].contribution_id());
  EXPECT_EQ(r2[1].status(), v1::RECEIPT_DUPLICATE);

  v1::Result changed = good;
  changed.mutable_answer()->set_choice("negative");
  EXPECT_EQ(SubmitResults("nairobi", {changed})[0].status(), v1::RECEIPT_CONFLICT);

  v1::Result other_id = good;  // same work, new id: not paid again
  other_id.set_result_id("another");
  EXPECT_EQ(SubmitResults("nairobi", {other_id})[0].status(), v1::RECEIPT_DUPLICATE);

  v1::Result bad = Answer(lease->assignments(1), "maybe");
  auto q = SubmitResults("nairobi", {bad});
  EXPECT_EQ(q[0].status(), v1::RECEIPT_QUARANTINED);
  EXPECT_EQ(q[0].detail(),
            "answer: choice \"maybe\" is not one of the options (positive, negative)");
  EXPECT_EQ(SubmitResults("nairobi", {bad})[0].status(), v1::RECEIPT_QUARANTINED);

  v1::Result forged = Answer(lease->assignments(2), "positive");
  forged.set_worker("w9");
  EXPECT_EQ(SubmitResults("nairobi", {forged})[0].detail(),
            "worker w9 does not match the assignment's worker w1");

  v1::StatementRequest req;
  req.set_worker_account("worker:nairobi/w1");
  auto st = engine_->GetStatement(req, "");
  EXPECT_EQ(st->lines(0).pending_minor(), 5);  // one contribution, reserved once
  ledger::Auditor auditor;
  EXPECT_TRUE(Audit(&auditor).ok());
}

// A store written when result ids were keyed centre first: the dispatcher moves them as it
// opens, and a result sent again is still a duplicate, not paid twice.
TEST_F(EngineTest, AResultIdKeyedTheOldWayIsStillADuplicateAfterTheDispatcherOpens) {
  AddCentre("nairobi", {"w1"});
  ASSERT_TRUE(Submit(kContract).ok());
  auto lease = Lease("nairobi", "w1", 1, "L1");
  ASSERT_TRUE(lease.ok());
  const v1::Result good = Answer(lease->assignments(0), "positive");
  ASSERT_EQ(SubmitResults("nairobi", {good})[0].status(), v1::RECEIPT_ACCEPTED);
  // Rewritten under the old key, as an older dispatcher left it.
  const std::string key = storage::keys::ResultId("nairobi", good.result_id());
  auto value = engine_->store()->Get(storage::Cf::kResultIds, key);
  ASSERT_TRUE(value.ok() && value->has_value());
  storage::Batch old;
  old.Delete(storage::Cf::kResultIds, key);
  old.Put(storage::Cf::kResultIds, storage::keys::CentreFirstResultId("nairobi", good.result_id()),
          **value);
  ASSERT_TRUE(engine_->store()->Write(std::move(old), storage::Durability::kSynced).ok());

  Open();
  auto again = SubmitResults("nairobi", {good});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].status(), v1::RECEIPT_DUPLICATE);
  EXPECT_TRUE(engine_->store()->Get(storage::Cf::kResultIds, key)->has_value());
  EXPECT_FALSE(engine_->store()
                   ->Get(storage::Cf::kResultIds,
                         storage::keys::CentreFirstResultId("nairobi", good.result_id()))
                   ->has_value());
  v1::StatementRequest req;
  req.set_worker_account("worker:nairobi/w1");
  EXPECT_EQ(engine_->GetStatement(req, "")->lines(0).pending_minor(), 5);  // reserved once
}

TEST_F(EngineTest, ExpiredLeaseIsReassignedAndTheLateResultIsPaidButNotCounted) {
  AddCentre("nairobi", {"w1", "w2", "w3", "w4"});
  ASSERT_TRUE(Submit(kContract).ok());
  auto slow = Lease("nairobi", "w1", 1, "L1");
  ASSERT_EQ(slow->assignments_size(), 1);
  const v1::Assignment stale = slow->assignments(0);

  clock_.AdvanceMs(Engine::Options().lease_ms + 1);
  auto expired = engine_->ExpireLeases();
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(*expired, 1);
  clock_.AdvanceMs(Engine::Options().retry_base_ms);  // past the retry backoff

  // Three other workers take item 0 and agree.
  for (const char* w : {"w2", "w3", "w4"}) {
    auto l = Lease("nairobi", w, 1, absl::StrCat("L-", w));
    ASSERT_EQ(l->assignments_size(), 1);
    EXPECT_EQ(l->assignments(0).task_id(), stale.task_id());
    SubmitResults("nairobi", {Answer(l->assignments(0), "negative")});
  }
  auto late = SubmitResults("nairobi", {Answer(stale, "positive")});
  EXPECT_EQ(late[0].status(), v1::RECEIPT_ACCEPTED);
  EXPECT_TRUE(late[0].late());
  EXPECT_EQ(late[0].wage_minor(), 5);

  std::map<uint64_t, std::string> results = Results("job-1");
  EXPECT_EQ(results[0], "negative");  // the late answer changed nothing
  v1::StatementRequest req;
  req.set_worker_account("worker:nairobi/w1");
  EXPECT_EQ(engine_->GetStatement(req, "")->lines(0).posted_minor(), 5);
  ledger::Auditor auditor;
  EXPECT_TRUE(Audit(&auditor).ok());
}

TEST_F(EngineTest, ExpiredLeasesBackOffThenDeadLetterUntilRedriven) {
  std::string one = kContract;
  const std::string three = "1,great\\n2,awful\\n3,fine\\n";
  one.replace(one.find(three), three.size(), "1,great\\n");
  AddCentre("nairobi", {"w1", "w2", "w3", "w4", "w5", "w6"});
  ASSERT_TRUE(Submit(one).ok());
  const int64_t lease_ms = Engine::Options().lease_ms;
  int key = 0;
  auto lease = [&](const std::string& w) {
    return Lease("nairobi", w, 1, absl::StrCat("L", ++key))->assignments_size();
  };
  // Five attempts expire (the default max_attempts); each retry waits longer.
  std::vector<std::string> workers = {"w1", "w2", "w3", "w4", "w5"};
  for (size_t i = 0; i < workers.size(); ++i) {
    ASSERT_EQ(lease(workers[i]), 1) << workers[i];
    clock_.AdvanceMs(lease_ms + 1);
    ASSERT_EQ(*engine_->ExpireLeases(), 1);
    if (i + 1 < workers.size()) {
      // Backing off: not offered at once, offered after the full delay.
      EXPECT_EQ(lease("w6"), 0) << "attempt " << i + 1;
      clock_.AdvanceMs(Engine::Options().retry_base_ms << i);
    }
  }
  auto dead = engine_->ListDeadTasks("job-1");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].task_id(), "job-1/label/0");
  EXPECT_EQ(dead[0].failed_attempts(), 5u);
  EXPECT_THAT(dead[0].workers(), ElementsAre("w1", "w2", "w3", "w4", "w5"));
  EXPECT_EQ(engine_->Stats().dead_tasks, 1u);
  EXPECT_EQ(engine_->Stats().retries, 4u);
  clock_.AdvanceMs(Engine::Options().retry_max_ms);
  EXPECT_EQ(lease("w6"), 0);  // dead: nothing leases it

  Open();  // the dead-letter state survives a restart
  EXPECT_EQ(engine_->ListDeadTasks("").size(), 1u);
  v1::RedriveTaskRequest redrive;
  redrive.set_idempotency_key("r1");
  redrive.set_task_id("job-1/label/0");
  auto back = engine_->RedriveTask(redrive);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->failed_attempts(), 5u);
  EXPECT_TRUE(engine_->ListDeadTasks("").empty());
  EXPECT_EQ(lease("w6"), 1);
  redrive.set_idempotency_key("r2");
  EXPECT_EQ(engine_->RedriveTask(redrive).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(EngineTest, HeartbeatKeepsALeaseAliveAndReportsLostOnes) {
  AddCentre("nairobi", {"w1"});
  ASSERT_TRUE(Submit(kContract).ok());
  auto lease = Lease("nairobi", "w1", 1, "L1");
  const std::string id = lease->assignments(0).assignment_id();
  clock_.AdvanceMs(Engine::Options().lease_ms - 1000);
  v1::HeartbeatRequest hb;
  hb.add_assignment_ids(id);
  hb.add_assignment_ids("job-1/label/99@w1");
  auto reply = engine_->Heartbeat("nairobi", hb);
  ASSERT_TRUE(reply.ok());
  EXPECT_THAT(reply->lost(), ElementsAre("job-1/label/99@w1"));
  EXPECT_EQ(engine_->Stats().lease_timers, 1u);  // the heartbeat moved the timer
  clock_.AdvanceMs(2000);
  EXPECT_EQ(*engine_->ExpireLeases(), 0);
  clock_.AdvanceMs(Engine::Options().lease_ms);
  EXPECT_EQ(*engine_->ExpireLeases(), 1);
}

// A leaked credential is replaced: the old one is refused at once and for good (a restart
// too), and replaying the AddCentre that made it no longer shows it.
TEST_F(EngineTest, ARotatedCentreCredentialIsRefusedAndNotShownAgain) {
  v1::AddCentreRequest add;
  add.set_idempotency_key("add-nairobi");
  *add.mutable_centre() = MakeCentre("nairobi", 600, 0);
  const std::string old = engine_->AddCentre(add)->credential();
  ASSERT_EQ(*engine_->AuthenticateCentre(old), "nairobi");
  EXPECT_EQ(engine_->AddCentre(add)->credential(), old);  // a lost reply, asked again

  v1::RotateCentreCredentialRequest rotate;
  rotate.set_idempotency_key("r1");
  rotate.set_centre_id("nairobi");
  auto rotated = engine_->RotateCentreCredential(rotate);
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  const std::string fresh = rotated->credential();
  ASSERT_FALSE(fresh.empty());
  EXPECT_NE(fresh, old);
  EXPECT_EQ(engine_->AuthenticateCentre(old).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(*engine_->AuthenticateCentre(fresh), "nairobi");
  EXPECT_TRUE(engine_->AddCentre(add)->credential().empty());  // the revoked one, not shown
  EXPECT_EQ(engine_->RotateCentreCredential(rotate)->credential(), fresh);  // a replay
  Open();
  EXPECT_EQ(engine_->AuthenticateCentre(old).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(*engine_->AuthenticateCentre(fresh), "nairobi");
  rotate.set_centre_id("nowhere");
  rotate.set_idempotency_key("r2");
  EXPECT_EQ(engine_->RotateCentreCredential(rotate).status(),
            absl::NotFoundError("no centre nowhere"));
}

TEST_F(EngineTest, RestartKeepsEverythingAcknowledgedAndRearmsLeases) {
  AddCentre("nairobi", {"w1", "w2", "w3"});
  ASSERT_TRUE(Submit(kContract).ok());
  auto l1 = Lease("nairobi", "w1", 3, "L1");
  AnswerAll("nairobi", *l1);
  auto l2 = Lease("nairobi", "w2", 3, "L2");
  Open();  // restart: w2's leases are still live

  EXPECT_FALSE(engine_->AuthenticateCentre("wrong").ok());
  auto job = engine_->GetJob("job-1");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->stages(1).contributions(), 3u);
  EXPECT_EQ(job->stages(1).leased(), 3u);
  ASSERT_EQ(engine_->NextExpiry(), clock_.NowMs() + Engine::Options().lease_ms);

  // A retried lease after the restart is the same reply.
  auto l2_again = Lease("nairobi", "w2", 3, "L2");
  EXPECT_EQ(l2_again->SerializeAsString(), l2->SerializeAsString());
  AnswerAll("nairobi", *l2);
  AnswerAll("nairobi", *Lease("nairobi", "w3", 3, "L3"));
  EXPECT_EQ(engine_->GetJob("job-1")->state(), v1::JOB_COMPLETED);
  EXPECT_EQ(Results("job-1"),
            (std::map<uint64_t, std::string>{{0, "positive"}, {1, "negative"}, {2, "positive"}}));

  // Results resent after a restart are duplicates, not new pay.
  Open();
  std::vector<v1::Result> resend;
  for (const auto& a : l1->assignments()) {
    resend.push_back(Answer(a, a.item().index() == 1 ? "negative" : "positive"));
  }
  for (const auto& r : SubmitResults("nairobi", resend)) {
    EXPECT_EQ(r.status(), v1::RECEIPT_DUPLICATE);
  }
  ledger::Auditor auditor;
  ASSERT_TRUE(Audit(&auditor).ok());
  EXPECT_EQ(auditor.jobs().at("job-1").wages, 45);
}

TEST_F(EngineTest, WageFloorKeepsUnderpaidWorkAway) {
  // 5 cents per 20 s is 9.00 USD/h; this centre's floor is 10.00 USD/h.
  AddCentre("geneva", {"w1"}, /*floor=*/1000);
  ASSERT_TRUE(Submit(kContract).ok());
  auto lease = Lease("geneva", "w1", 3, "L1");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->assignments_size(), 0);
}

TEST_F(EngineTest, UnknownWorkerIsRefusedAndNothingChanges) {
  AddCentre("nairobi", {"w1"});
  ASSERT_TRUE(Submit(kContract).ok());
  v1::LeaseRequest req;
  req.set_idempotency_key("L1");
  req.add_credits()->set_worker("w1");
  req.mutable_credits(0)->set_count(1);
  req.add_credits()->set_worker("ghost");
  req.mutable_credits(1)->set_count(1);
  auto r = engine_->Lease("nairobi", req);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine_->GetJob("job-1")->stages(1).leased(), 0u);
}

TEST_F(EngineTest, SubmissionErrorsLeaveNoJob) {
  std::string poor = kContract;
  poor.replace(poor.find("budget_minor: 1000"), 18, "budget_minor: 44");
  auto r = Submit(poor);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(),
            "budget 0.44 USD is below the cost 0.45 USD of 3 items through every stage");
  std::string invalid = kContract;
  invalid.replace(invalid.find("overlap: 3"), 10, "overlap: 0");
  EXPECT_EQ(Submit(invalid, "k2").status().message(),
            "stages[1].human.overlap: expected 1 to 15, got 0");
  EXPECT_TRUE(engine_->ListJobs().empty());

  // A path input that never got its last chunk.
  auto contract = contract::ParseContract(kContract, "t.yaml");
  contract->mutable_inputs(0)->set_path("reviews.csv");
  v1::ContractHeader header;
  header.set_idempotency_key("k3");
  *header.mutable_contract() = *contract;
  auto sub = engine_->BeginSubmission(header);
  ASSERT_TRUE(sub.ok());
  v1::InputChunk chunk;
  chunk.set_input("reviews");
  chunk.set_data("id,text\n1,a\n");
  ASSERT_TRUE((*sub)->AddChunk(chunk).ok());
  EXPECT_EQ((*sub)->Finish().status().message(),
            "input \"reviews\": the stream ended before its last chunk");
  sub->reset();
  EXPECT_TRUE(engine_->ListJobs().empty());
  Open();
  EXPECT_TRUE(engine_->ListJobs().empty());
  // The abandoned job number is reused, with none of the abandoned items.
  auto ok = Submit(kContract, "k4");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->job().items(), 3u);
}

TEST_F(EngineTest, SubmissionIsIdempotent) {
  auto a = Submit(kContract, "same");
  auto b = Submit(kContract, "same");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->job().id(), b->job().id());
  EXPECT_EQ(engine_->ListJobs().size(), 1u);
  std::string other = kContract;
  other.replace(other.find("acme"), 4, "beta");
  EXPECT_EQ(Submit(other, "same").status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(EngineTest, QuarantinedRowsAreReportedWithLines) {
  std::string text = kContract;
  text.replace(text.find("3,fine\\n"), 8, "3,fine\\n4,too,many\\n");
  auto r = Submit(text);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->job().items(), 3u);
  EXPECT_EQ(r->quarantined_total(), 1u);
  EXPECT_EQ(r->quarantined(0).line(), 5u);
  EXPECT_EQ(r->quarantined(0).reason(), "expected 2 fields as in the header, got 3");
}

TEST_F(EngineTest, CentreStatementsAreScoped) {
  AddCentre("nairobi", {"w1"});
  AddCentre("kisumu", {"w2"});
  v1::StatementRequest req;
  req.set_centre("kisumu");
  EXPECT_EQ(engine_->GetStatement(req, "nairobi").status().code(),
            absl::StatusCode::kPermissionDenied);
  req.set_worker_account("worker:kisumu/w2");
  EXPECT_EQ(engine_->GetStatement(req, "nairobi").status().code(),
            absl::StatusCode::kPermissionDenied);
}

v1::WithholdWageRequest Withhold(const std::string& aid, const std::string& key) {
  v1::WithholdWageRequest w;
  w.set_idempotency_key(key);
  w.set_assignment_id(aid);
  w.set_reason(v1::WITHHOLD_AUTOMATED);
  w.set_note("forty answers in ten seconds, all the first option");
  w.set_decided_by("manager:grace");
  return w;
}

TEST_F(EngineTest, WithholdingIsAPersonsDecisionAndADisputeCanRestoreIt) {
  AddCentre("nairobi", {"w1", "w2", "w3"});
  AddCentre("kisumu", {"w9"});
  ASSERT_TRUE(Submit(kContract).ok());
  for (const char* w : {"w1", "w2", "w3"}) {
    AnswerAll("nairobi", *Lease("nairobi", w, 3, absl::StrCat("L", w)));
  }
  const std::string aid = "job-1/label/0@w1";
  v1::StatementRequest st;
  st.set_worker_account("worker:nairobi/w1");
  EXPECT_EQ(engine_->GetStatement(st, "")->lines(0).posted_minor(), 15);

  v1::WithholdWageRequest bad = Withhold(aid, "h0");
  bad.set_reason(v1::WITHHOLD_REASON_UNSPECIFIED);
  EXPECT_EQ(engine_->WithholdWage("nairobi", bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->WithholdWage("kisumu", Withhold(aid, "h1")).status().code(),
            absl::StatusCode::kNotFound);  // not kisumu's worker
  auto held = engine_->WithholdWage("nairobi", Withhold(aid, "h2"));
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->amount_minor(), 5);
  EXPECT_EQ(held->dispute(), v1::DISPUTE_NONE);
  EXPECT_EQ(engine_->GetStatement(st, "")->lines(0).posted_minor(), 10);
  EXPECT_EQ(engine_->WithholdWage("nairobi", Withhold(aid, "h3")).status().code(),
            absl::StatusCode::kAlreadyExists);

  v1::DisputeWithholdingRequest dispute;
  dispute.set_idempotency_key("d1");
  dispute.set_assignment_id(aid);
  dispute.set_worker_statement("I did these myself on the shared PC; the clock was wrong.");
  ASSERT_EQ(engine_->DisputeWithholding("nairobi", dispute)->dispute(), v1::DISPUTE_OPEN);

  v1::ResolveDisputeRequest resolve;
  resolve.set_idempotency_key("r1");
  resolve.set_assignment_id(aid);
  resolve.set_restore(true);
  resolve.set_resolution("timestamps confirm the worker was on shift");
  resolve.set_decided_by("manager:grace");
  EXPECT_EQ(engine_->ResolveDispute("nairobi", resolve).status().code(),
            absl::StatusCode::kPermissionDenied);
  // The same person written another way is still the same person.
  resolve.set_idempotency_key("r1b");
  resolve.set_decided_by("  Manager:Grace ");
  EXPECT_EQ(
      engine_->ResolveDispute("nairobi", resolve).status(),
      absl::PermissionDeniedError("the person who withheld a wage cannot decide its dispute"));
  resolve.set_idempotency_key("r2");
  resolve.set_decided_by("ombudsperson:otieno");
  auto resolved = engine_->ResolveDispute("nairobi", resolve);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->dispute(), v1::DISPUTE_RESTORED);
  EXPECT_EQ(engine_->GetStatement(st, "")->lines(0).posted_minor(), 15);
  EXPECT_EQ(engine_->ListWithholdings("nairobi")->size(), 1u);
  EXPECT_TRUE(engine_->ListWithholdings("kisumu")->empty());

  ledger::Auditor auditor;
  ASSERT_TRUE(Audit(&auditor).ok()) << Audit(&auditor);
  EXPECT_EQ(auditor.jobs().at("job-1").wages, 45);  // 45 paid, 5 withheld, 5 restored
}

TEST_F(EngineTest, AWageWithheldBeforeTheVerdictStaysWithheld) {
  AddCentre("nairobi", {"w1", "w2", "w3"});
  ASSERT_TRUE(Submit(kContract).ok());
  AnswerAll("nairobi", *Lease("nairobi", "w1", 3, "L1"));
  ASSERT_TRUE(engine_->WithholdWage("nairobi", Withhold("job-1/label/2@w1", "h")).ok());
  AnswerAll("nairobi", *Lease("nairobi", "w2", 3, "L2"));
  AnswerAll("nairobi", *Lease("nairobi", "w3", 3, "L3"));
  EXPECT_EQ(engine_->GetJob("job-1")->state(), v1::JOB_COMPLETED);
  v1::StatementRequest st;
  st.set_worker_account("worker:nairobi/w1");
  auto line = engine_->GetStatement(st, "")->lines(0);
  EXPECT_EQ(line.posted_minor(), 10);
  EXPECT_EQ(line.pending_minor(), 0);
  ledger::Auditor auditor;
  ASSERT_TRUE(Audit(&auditor).ok()) << Audit(&auditor);
  EXPECT_EQ(auditor.jobs().at("job-1").wages, 40);
  EXPECT_EQ(auditor.jobs().at("job-1").pending, 0);
}

TEST_F(EngineTest, PayoutTopsUpToTheFloorOnMeasuredTimeThenPaysOut) {
  // The contract pays 5 cents per estimated 20 s (9.00/h); the floor here is 6.00/h. w1 takes
  // 60 s per task: 180 s at 6.00/h is 30 cents, the work earned 15, so 15 is topped up.
  AddCentre("nairobi", {"w1", "w2", "w3"}, /*floor=*/600);
  ASSERT_TRUE(Submit(kContract).ok());
  for (const char* w : {"w1", "w2", "w3"}) {
    auto lease = Lease("nairobi", w, 3, absl::StrCat("L", w));
    for (const auto& a : lease->assignments()) {
      v1::Result r = Answer(a, a.item().index() == 1 ? "negative" : "positive");
      r.set_active_seconds(std::string(w) == "w1" ? 60 : 18);
      clock_.AdvanceMs(r.active_seconds() * 1000);  // one after another
      SubmitResults("nairobi", {r});
    }
  }
  v1::CreatePayoutRequest create;
  create.set_idempotency_key("p1");
  create.set_centre("nairobi");
  auto batch = engine_->CreatePayout(create);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->id(), "payout-nairobi-1");
  ASSERT_EQ(batch->lines_size(), 3);
  EXPECT_EQ(batch->lines(0).worker_account(), "worker:nairobi/w1");
  EXPECT_EQ(batch->lines(0).amount_minor(), 30);
  EXPECT_EQ(batch->lines(0).topup_minor(), 15);
  EXPECT_EQ(batch->lines(1).amount_minor(), 15);  // 54 s at 6.00/h is 9 cents: no top-up
  EXPECT_EQ(batch->lines(1).topup_minor(), 0);
  EXPECT_EQ(batch->total_minor(), 60);
  EXPECT_EQ(batch->topups_minor(), 15);

  v1::ApprovePayoutRequest approve;
  approve.set_idempotency_key("a1");
  approve.set_batch_id(batch->id());
  EXPECT_EQ(engine_->ApprovePayout(approve).status().code(), absl::StatusCode::kInvalidArgument);
  approve.set_approved_by("finance:wanjiru");
  auto approved = engine_->ApprovePayout(approve);
  ASSERT_TRUE(approved.ok()) << approved.status();
  EXPECT_EQ(approved->state(), v1::PAYOUT_APPROVED);
  approve.set_idempotency_key("a2");
  EXPECT_EQ(engine_->ApprovePayout(approve).status().code(), absl::StatusCode::kFailedPrecondition);
  v1::StatementRequest st;
  st.set_worker_account("worker:nairobi/w1");
  EXPECT_EQ(engine_->GetStatement(st, "")->lines(0).posted_minor(), 0);  // paid out

  // Next period: no new work, so no top-up and nothing owed.
  create.set_idempotency_key("p2");
  auto next = engine_->CreatePayout(create);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->id(), "payout-nairobi-2");
  EXPECT_EQ(next->lines_size(), 0);

  ledger::Auditor auditor;
  ASSERT_TRUE(Audit(&auditor).ok()) << Audit(&auditor);
  EXPECT_EQ(auditor.jobs().at("job-1").wages, 45);
  EXPECT_EQ(auditor.jobs().at("job-1").topups, 15);
  // The top-up was checked against what the dispatcher knows of w1's time: three tasks leased
  // at once, held until the last answer 180 s later, at most 0.30 at 6.00/h.
  EXPECT_EQ(auditor.time_bounds_checked(), 1u);
  EXPECT_EQ(auditor.time_bounds_missing(), 0u);
  std::vector<v1::TimeBound> bounds;
  ASSERT_TRUE(engine_
                  ->ReadLedger([&](const v1::LedgerRecord& rec) {
                    if (rec.has_time_bound()) bounds.push_back(rec.time_bound());
                    return true;
                  })
                  .ok());
  ASSERT_EQ(bounds.size(), 3u);  // w1, w2 and w3 on job-1
  EXPECT_EQ(bounds[0].worker_account(), "worker:nairobi/w1");
  EXPECT_EQ(bounds[0].job_id(), "job-1");
  EXPECT_EQ(bounds[0].leased_seconds(), 180u);
  EXPECT_EQ(bounds[0].floor_minor_per_hour(), 600);
  EXPECT_EQ(bounds[0].currency(), "USD");
  EXPECT_EQ(bounds[0].topup_bound_minor(), 30);
  EXPECT_EQ(bounds[0].rounding_minor(), 1);
}

// The payment rail's result for an approved batch: w1 paid (10 of its 30 cents, the rest below
// the rail's unit), w2 failed and w3 paid in full. What was not paid is back on the balances,
// once: the same result again changes nothing, another result for a settled line is refused,
// and so is a centre's result for another centre's batch; the ledger audits clean.
TEST_F(EngineTest, ARailsResultSettlesPayoutLinesAndWhatFailedIsOwedAgain) {
  AddCentre("nairobi", {"w1", "w2", "w3"}, /*floor=*/100);
  AddCentre("kampala", {"k1"}, /*floor=*/100);
  ASSERT_TRUE(Submit(kContract).ok());
  for (const char* w : {"w1", "w2", "w3"}) {
    auto lease = Lease("nairobi", w, 3, absl::StrCat("L", w));
    for (const auto& a : lease->assignments()) {
      v1::Result r = Answer(a, a.item().index() == 1 ? "negative" : "positive");
      r.set_active_seconds(18);
      SubmitResults("nairobi", {r});
    }
  }
  v1::CreatePayoutRequest create;
  create.set_idempotency_key("p1");
  create.set_centre("nairobi");
  const v1::PayoutBatch batch = *engine_->CreatePayout(create);
  ASSERT_EQ(batch.lines_size(), 3);
  EXPECT_EQ(batch.lines(0).amount_minor(), 15);
  v1::SettlePayoutRequest settle;
  settle.set_idempotency_key("s1");
  settle.set_batch_id(batch.id());
  settle.set_settled_by("otieno");
  auto* paid = settle.add_lines();
  paid->set_worker_account("worker:nairobi/w1");
  paid->set_outcome(v1::PAYOUT_LINE_PAID);
  paid->set_paid_minor(10);
  paid->set_rail_reference("RKT1");
  auto* failed = settle.add_lines();
  failed->set_worker_account("worker:nairobi/w2");
  failed->set_outcome(v1::PAYOUT_LINE_FAILED);
  failed->set_reason("The receiver is invalid");
  EXPECT_EQ(engine_->SettlePayout("nairobi", settle).status().message(),
            "payout-nairobi-1 is not approved: nothing was sent to pay");

  v1::ApprovePayoutRequest approve;
  approve.set_idempotency_key("a1");
  approve.set_batch_id(batch.id());
  approve.set_approved_by("finance:wanjiru");
  ASSERT_TRUE(engine_->ApprovePayout(approve).ok());
  EXPECT_EQ(engine_->SettlePayout("kampala", settle).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine_->GetCentrePayout("kampala", batch.id()).status().code(),
            absl::StatusCode::kPermissionDenied);
  // A request refused at any line moves nothing, not even its good lines.
  v1::SettlePayoutRequest half = settle;
  half.set_idempotency_key("s-half");
  half.mutable_lines(0)->set_worker_account("worker:nairobi/nobody");
  std::swap(*half.mutable_lines(0), *half.mutable_lines(1));  // the failed line first
  EXPECT_EQ(engine_->SettlePayout("nairobi", half).status().code(), absl::StatusCode::kNotFound);
  v1::SettlePayoutRequest twice = settle;
  twice.set_idempotency_key("s-twice");
  *twice.add_lines() = settle.lines(1);
  EXPECT_EQ(engine_->SettlePayout("nairobi", twice).status().message(),
            "lines[2].worker_account: worker:nairobi/w2 appears twice");
  v1::SettlePayoutRequest unreferenced = settle;
  unreferenced.set_idempotency_key("s-unreferenced");
  unreferenced.mutable_lines(0)->clear_rail_reference();
  EXPECT_EQ(engine_->SettlePayout("nairobi", unreferenced).status().message(),
            "lines[0].rail_reference: a paid line names the rail's transaction");
  settle.set_idempotency_key("s2");
  auto settled = engine_->SettlePayout("nairobi", settle);
  ASSERT_TRUE(settled.ok()) << settled.status();
  EXPECT_EQ(settled->lines(0).outcome(), v1::PAYOUT_LINE_PAID);
  EXPECT_EQ(settled->lines(0).paid_minor(), 10);
  EXPECT_EQ(settled->lines(0).settled_by(), "otieno");
  EXPECT_EQ(settled->lines(1).outcome(), v1::PAYOUT_LINE_FAILED);
  EXPECT_EQ(settled->lines(1).outcome_reason(), "The receiver is invalid");
  EXPECT_EQ(settled->lines(2).outcome(), v1::PAYOUT_LINE_AWAITING);
  auto posted = [&](const std::string& w) {
    v1::StatementRequest st;
    st.set_worker_account(absl::StrCat("worker:nairobi/", w));
    return engine_->GetStatement(st, "")->lines(0).posted_minor();
  };
  EXPECT_EQ(posted("w1"), 5);   // 15 - 10 paid, and nothing from the refused requests
  EXPECT_EQ(posted("w2"), 15);  // all of it, for the next batch
  EXPECT_EQ(posted("w3"), 0);   // awaiting its result

  // The same result again under a new key changes nothing; a different one is refused.
  settle.set_idempotency_key("s3");
  ASSERT_TRUE(engine_->SettlePayout("nairobi", settle).ok());
  EXPECT_EQ(posted("w2"), 15);
  settle.mutable_lines(1)->set_outcome(v1::PAYOUT_LINE_PAID);
  settle.mutable_lines(1)->set_paid_minor(15);
  settle.mutable_lines(1)->set_rail_reference("RKT2");
  settle.set_idempotency_key("s4");
  EXPECT_EQ(engine_->SettlePayout("nairobi", settle).status().message(),
            "lines[1]: worker:nairobi/w2 was settled already as PAYOUT_LINE_FAILED by otieno");
  v1::SettlePayoutRequest bad;
  bad.set_idempotency_key("s5");
  bad.set_batch_id(batch.id());
  bad.set_settled_by("otieno");
  auto* over = bad.add_lines();
  over->set_worker_account("worker:nairobi/w3");
  over->set_outcome(v1::PAYOUT_LINE_PAID);
  over->set_paid_minor(16);
  over->set_rail_reference("RKT3");
  EXPECT_EQ(engine_->SettlePayout("nairobi", bad).status().message(),
            "lines[0].paid_minor: expected 1 to 15 for worker:nairobi/w3, got 16");
  over->set_outcome(v1::PAYOUT_LINE_AWAITING);
  EXPECT_EQ(engine_->SettlePayout("nairobi", bad).status().message(),
            "lines[0].outcome: expected PAID or FAILED");

  // The failed amount is paid with the next batch.
  create.set_idempotency_key("p2");
  auto next = engine_->CreatePayout(create);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->lines_size(), 2);
  EXPECT_EQ(next->lines(0).worker_account(), "worker:nairobi/w1");
  EXPECT_EQ(next->lines(0).amount_minor(), 5);
  EXPECT_EQ(next->lines(1).amount_minor(), 15);
  ledger::Auditor auditor;
  ASSERT_TRUE(Audit(&auditor).ok()) << Audit(&auditor);
}

// The attack: one result claiming 4294967295 s on task, then a payout. The top-up was
// 1,789,569.61 USD from the platform's guarantee. Now the time is credited up to the lease's
// window (120 s here) and ten times the 20 s estimate; the rest is held and said so.
// A top-up the job's escrow cannot cover comes from the platform's guarantee only when two
// different people approve the batch; until then nothing moves.
TEST_F(EngineTest, ATopUpFromTheGuaranteeIsATwoPersonStep) {
  // The stage pays 9.00/h on its estimate, the floor is 9.00/h; w1 takes 120 s a task. 360 s
  // at the floor are 0.90 USD, the work earned 0.15: 0.75 due, and a 0.50 USD budget keeps
  // 0.35 in escrow.
  AddCentre("nairobi", {"w1", "w2", "w3"}, /*floor=*/900);
  ASSERT_TRUE(
      Submit(absl::StrReplaceAll(kContract, {{"budget_minor: 1000", "budget_minor: 50"}})).ok());
  // Only w1 answers: the job runs on, so nothing but the guarantee can pay what it is short.
  auto lease = Lease("nairobi", "w1", 3, "L1");
  ASSERT_TRUE(lease.ok()) << lease.status();
  for (const auto& a : lease->assignments()) {
    v1::Result r = Answer(a, "positive");
    r.set_active_seconds(120);
    clock_.AdvanceMs(120'000);  // one after another
    SubmitResults("nairobi", {r});
  }
  ASSERT_EQ(engine_->GetJob("job-1")->state(), v1::JOB_RUNNING);
  v1::CreatePayoutRequest create;
  create.set_idempotency_key("p1");
  create.set_centre("nairobi");
  auto batch = engine_->CreatePayout(create);
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->guarantee_topups_size(), 1);
  EXPECT_EQ(batch->guarantee_topups(0).worker_account(), "worker:nairobi/w1");
  EXPECT_EQ(batch->guarantee_topups(0).amount_minor(), 90 - 15);
  EXPECT_EQ(batch->guarantee_minor(), 75);
  EXPECT_EQ(batch->topups_minor(), 0);  // nothing paid from it yet

  v1::ApprovePayoutRequest approve;
  approve.set_idempotency_key("a1");
  approve.set_batch_id(batch->id());
  approve.set_approved_by("wanjiru");
  // The first person's approval is recorded and moves nothing.
  auto first = engine_->ApprovePayout(approve);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->state(), v1::PAYOUT_CREATED);
  EXPECT_EQ(first->approved_by(), "wanjiru");
  EXPECT_EQ(engine_->GetPayout(batch->id())->approved_by(), "wanjiru");
  // The same person again, under another key, is not a second person.
  approve.set_idempotency_key("a2");
  EXPECT_EQ(engine_->ApprovePayout(approve).status(),
            absl::FailedPreconditionError(
                "payout-nairobi-1 has 1 top-ups from the platform's guarantee (0.75 USD): "
                "approved by wanjiru; a second person approves them too"));
  approve.set_approved_by("WANJIRU");
  EXPECT_EQ(engine_->ApprovePayout(approve).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine_->GetPayout(batch->id())->state(), v1::PAYOUT_CREATED);  // nothing moved
  // Nor is an account whose credential wanjiru was given (she made it).
  v1::AddStaffRequest puppet;
  puppet.set_idempotency_key("s1");
  puppet.set_name("puppet");
  puppet.add_roles(v1::STAFF_FINANCE);
  ASSERT_TRUE(engine_->AddStaff(puppet, "wanjiru").ok());
  approve.set_idempotency_key("a3");
  approve.set_approved_by("puppet");
  EXPECT_EQ(engine_->ApprovePayout(approve).status(),
            absl::FailedPreconditionError(
                "payout-nairobi-1 has 1 top-ups from the platform's guarantee (0.75 USD): "
                "approved by wanjiru; the second person may not be the one who was given the "
                "other's credential"));
  // Another person, even with the first one's key (keys are each person's own).
  approve.set_idempotency_key("a1");
  approve.set_approved_by("baraka");
  auto approved = engine_->ApprovePayout(approve);
  ASSERT_TRUE(approved.ok()) << approved.status();
  EXPECT_EQ(approved->state(), v1::PAYOUT_APPROVED);
  EXPECT_EQ(approved->approved_by(), "wanjiru");
  EXPECT_EQ(approved->second_approver(), "baraka");
  const std::map<std::string, v1::Transfer> by_id = TransfersById();
  const v1::Transfer& t = by_id.at("topup:payout-nairobi-1:job-1:worker:nairobi/w1");
  EXPECT_EQ(t.debit_account(), "client:platform-guarantee");
  EXPECT_EQ(t.amount_minor(), 75);
  EXPECT_EQ(t.decided_by(), "wanjiru");
  EXPECT_EQ(t.second_approver(), "baraka");
  ledger::Auditor auditor;
  ASSERT_TRUE(Audit(&auditor).ok()) << Audit(&auditor);
}

TEST_F(EngineTest, ACentreCannotMintATopUpByReportingTime) {
  AddCentre("nairobi", {"w1", "w2", "w3"}, /*floor=*/600);
  ASSERT_TRUE(Submit(kContract).ok());
  auto lease = Lease("nairobi", "w1", 1, "L1");
  ASSERT_TRUE(lease.ok()) << lease.status();
  v1::Result r = Answer(lease->assignments(0), "positive");
  r.set_active_seconds(4294967295u);
  auto receipts = SubmitResults("nairobi", {r});
  ASSERT_EQ(receipts.size(), 1u);
  EXPECT_EQ(receipts[0].status(), v1::RECEIPT_ACCEPTED);
  EXPECT_EQ(receipts[0].wage_minor(), 5);
  EXPECT_EQ(receipts[0].credited_seconds(), 120u);
  EXPECT_EQ(receipts[0].held_seconds(), 4294967175u);
  EXPECT_EQ(receipts[0].detail(),
            "time on task: 4294967295 s reported, 120 s credited (at most 10 times the 20 s "
            "estimate, within the time your leases on this job were held); 4294967175 s held for a "
            "person to look at");
  EXPECT_EQ(engine_->Stats().held_time_results, 1u);

  v1::CreatePayoutRequest create;
  create.set_idempotency_key("p1");
  create.set_centre("nairobi");
  auto batch = engine_->CreatePayout(create);
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->lines_size(), 1);
  // 120 s at 6.00/h is 20 cents; the answer earned 5: a top-up of 15, not 1,789,569.61 USD.
  EXPECT_EQ(batch->lines(0).topup_minor(), 15);
  EXPECT_EQ(batch->lines(0).amount_minor(), 15);  // the wage itself waits for the verdict
  ledger::Auditor auditor;
  ASSERT_TRUE(Audit(&auditor).ok()) << Audit(&auditor);
  EXPECT_EQ(auditor.jobs().at("job-1").topups, 15);
}

// A call that fails after changing memory (here a task record that cannot be read, after a good
// answer in the same call) writes nothing, and the engine takes no more writes: memory may be
// ahead of the disk, so it asks to be restarted, which recovers from what is durable.
TEST_F(EngineTest, ACallThatFailsMidwayStopsTheEngineForARestart) {
  std::vector<absl::Status> fatal;
  Engine::Options options;
  options.on_write_failure = [&](const absl::Status& s) { fatal.push_back(s); };
  Open(options);
  AddCentre("nairobi", {"w1", "w2", "w3"});
  ASSERT_TRUE(Submit(kContract).ok());
  for (const char* w : {"w1", "w2", "w3"}) {  // item 0 is decided and leaves memory
    auto lease = Lease("nairobi", w, 1, absl::StrCat("L0", w));
    ASSERT_TRUE(lease.ok());
    ASSERT_EQ(lease->assignments(0).item().index(), 0u);
    ASSERT_EQ(SubmitResults("nairobi", {Answer(lease->assignments(0), "positive")}).size(), 1u);
  }
  auto next = Lease("nairobi", "w1", 1, "L1");
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->assignments_size(), 1);
  // Item 0's task record on disk no longer parses.
  storage::Batch corrupt, repair;
  int corrupted = 0;
  for (uint32_t stage = 0; stage < 4; ++stage) {
    const std::string key = storage::keys::Task("job-1", stage, 0);
    auto value = engine_->store()->Get(storage::Cf::kTasks, key);
    if (value.ok() && value->has_value()) {
      corrupt.Put(storage::Cf::kTasks, key, "\xff\xff\xff not a task");
      repair.Put(storage::Cf::kTasks, key, **value);
      ++corrupted;
    }
  }
  ASSERT_EQ(corrupted, 1);
  ASSERT_TRUE(engine_->store()->Write(std::move(corrupt), storage::Durability::kSynced).ok());

  v1::Result good = Answer(next->assignments(0), "negative");
  v1::Result unreadable = Answer(next->assignments(0), "negative");
  unreadable.set_result_id("r-again");
  unreadable.set_assignment_id("job-1/label/0@w1");
  // Alone, it fails before anything changed: refused, and the engine goes on.
  v1::SubmitResultsRequest alone;
  *alone.add_results() = unreadable;
  EXPECT_EQ(engine_->SubmitResults("nairobi", alone).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(engine_->diverged());
  EXPECT_TRUE(fatal.empty());
  v1::SubmitResultsRequest req;
  *req.add_results() = good;
  *req.add_results() = unreadable;
  auto failed = engine_->SubmitResults("nairobi", req);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(engine_->diverged());
  ASSERT_EQ(fatal.size(), 1u);
  EXPECT_EQ(fatal[0].code(), absl::StatusCode::kDataLoss);
  auto refused = Lease("nairobi", "w2", 1, "L2");
  EXPECT_EQ(refused.status(),
            absl::UnavailableError("lease: the dispatcher must restart (a failed call left memory "
                                   "ahead of the disk); retry after it has"));
  // A write that still goes through before the restart (an operator pausing the job) carries
  // nothing the failed call noted: w1's record does not count the good answer twice below.
  v1::ControlJobRequest pause;
  pause.set_idempotency_key("pause-1");
  pause.set_job_id("job-1");
  pause.set_action(v1::JOB_PAUSE);
  ASSERT_TRUE(engine_->ControlJob(pause).ok());
  // One that would add to the ledger is refused: its transfer would be chained after the good
  // answer's wage, which the store never got (and the restart would find a gap).
  v1::FundJobRequest fund;
  fund.set_idempotency_key("fund-after");
  fund.set_job_id("job-1");
  fund.set_amount_minor(500);
  EXPECT_EQ(engine_->FundJob(fund).status().code(), absl::StatusCode::kUnavailable);

  // Once the record is readable again, the restart recovers; the good answer was never
  // recorded: sent again, it is counted once.
  ASSERT_TRUE(engine_->store()->Write(std::move(repair), storage::Durability::kSynced).ok());
  Open();
  auto again = SubmitResults("nairobi", {good});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].status(), v1::RECEIPT_ACCEPTED);
  EXPECT_FALSE(engine_->diverged());
  v1::WorkerStatsRecord w1;
  ASSERT_TRUE(engine_->store()
                  ->GetRecord(storage::Cf::kWorkerStats, WorkerAccount("nairobi", "w1"), &w1)
                  .ok());
  EXPECT_EQ(w1.contributions(), 2u);  // item 0's answer and the good one, once
}

// Tasks held at the same time share their time: three leased at once for 120 s credit 120 s on
// the job, not 360, however each answer's time is reported; the rest is held.
TEST_F(EngineTest, TasksHeldAtOnceCreditTheirCommonTimeOnce) {
  AddCentre("nairobi", {"w1", "w2", "w3"}, /*floor=*/600);
  ASSERT_TRUE(Submit(kContract).ok());
  auto lease = Lease("nairobi", "w1", 3, "L1");
  ASSERT_TRUE(lease.ok()) << lease.status();
  ASSERT_EQ(lease->assignments_size(), 3);
  std::vector<v1::Result> results;
  for (const v1::Assignment& a : lease->assignments()) {
    results.push_back(Answer(a, "positive"));
    results.back().set_active_seconds(120);
  }
  auto receipts = SubmitResults("nairobi", results);
  ASSERT_EQ(receipts.size(), 3u);
  EXPECT_EQ(receipts[0].credited_seconds(), 120u);
  EXPECT_EQ(receipts[0].held_seconds(), 0u);
  for (int i : {1, 2}) {
    EXPECT_EQ(receipts[i].credited_seconds(), 0u);
    EXPECT_EQ(receipts[i].held_seconds(), 120u);
  }
  auto held = engine_->ListHeldTime("nairobi");
  ASSERT_TRUE(held.ok()) << held.status();
  ASSERT_EQ(held->held_size(), 1);
  EXPECT_EQ(held->held(0).credited_seconds(), 120u);
  EXPECT_EQ(held->held(0).held_seconds(), 240u);
  EXPECT_EQ(held->held(0).window_seconds(), 120u);
  EXPECT_EQ(held->held(0).releasable_seconds(), 0u);

  v1::CreatePayoutRequest create;
  create.set_idempotency_key("p1");
  create.set_centre("nairobi");
  auto batch = engine_->CreatePayout(create);
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->lines_size(), 1);
  // 120 s at 6.00/h is 20 cents; three answers earned 15: a top-up of 5 (not 45, for 360 s).
  EXPECT_EQ(batch->lines(0).topup_minor(), 5);
  ledger::Auditor auditor;
  ASSERT_TRUE(Audit(&auditor).ok()) << Audit(&auditor);
  EXPECT_EQ(auditor.jobs().at("job-1").topups, 5);
}

// Held time is for a person to look at: they may credit it, up to the time the worker's leases
// were held, with their name and reason kept; the next payout tops it up to the floor.
TEST_F(EngineTest, APersonReleasesHeldTimeUpToTheLeaseWindowAndThePayoutTopsItUp) {
  AddCentre("nairobi", {"w1", "w2", "w3"}, /*floor=*/600);
  ASSERT_TRUE(Submit(kContract).ok());
  auto lease = Lease("nairobi", "w1", 1, "L1");
  ASSERT_TRUE(lease.ok()) << lease.status();
  clock_.AdvanceMs(500'000);  // answered 500 s after the lease: the window is 500 s
  v1::Result r = Answer(lease->assignments(0), "positive");
  r.set_active_seconds(4294967295u);
  auto receipts = SubmitResults("nairobi", {r});
  ASSERT_EQ(receipts.size(), 1u);
  EXPECT_EQ(receipts[0].credited_seconds(), 200u);  // ten times the 20 s estimate
  EXPECT_EQ(receipts[0].held_seconds(), 4294967095u);

  auto held = engine_->ListHeldTime("nairobi");
  ASSERT_TRUE(held.ok()) << held.status();
  ASSERT_EQ(held->held_size(), 1);
  EXPECT_EQ(held->held(0).worker_account(), "worker:nairobi/w1");
  EXPECT_EQ(held->held(0).job_id(), "job-1");
  EXPECT_EQ(held->held(0).held_seconds(), 4294967095u);
  EXPECT_EQ(held->held(0).credited_seconds(), 200u);
  EXPECT_EQ(held->held(0).window_seconds(), 500u);
  EXPECT_EQ(held->held(0).releasable_seconds(), 300u);
  EXPECT_EQ(engine_->ListHeldTime("pune")->held_size(), 0);

  v1::ReleaseHeldTimeRequest release;
  release.set_idempotency_key("r1");
  release.set_worker_account("worker:nairobi/w1");
  release.set_job_id("job-1");
  release.set_seconds(300);
  release.set_reason("worked offline; the manager confirmed");
  EXPECT_EQ(engine_->ReleaseHeldTime(release).status().code(),
            absl::StatusCode::kInvalidArgument);  // nobody decided
  release.set_decided_by("finance:wanjiru");
  release.set_seconds(301);
  auto beyond = engine_->ReleaseHeldTime(release);
  EXPECT_EQ(beyond.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(beyond.status().message(),
            "worker:nairobi/w1 on job-1: 301 s cannot be released; 300 s can (4294967095 s held, "
            "200 s credited of the 500 s their leases were held)");
  release.set_idempotency_key("r2");
  release.set_worker_account("worker:nairobi/w9");
  release.set_seconds(10);
  EXPECT_EQ(engine_->ReleaseHeldTime(release).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine_->ListHeldTime("")->held(0).credited_seconds(), 200u);  // nothing changed

  release.set_idempotency_key("r3");
  release.set_worker_account("worker:nairobi/w1");
  release.set_seconds(300);
  auto released = engine_->ReleaseHeldTime(release);
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(released->held_seconds(), 4294966795u);
  EXPECT_EQ(released->credited_seconds(), 500u);
  EXPECT_EQ(released->releasable_seconds(), 0u);
  ASSERT_EQ(released->releases_size(), 1);
  EXPECT_EQ(released->releases(0).seconds(), 300u);
  EXPECT_EQ(released->releases(0).decided_by(), "finance:wanjiru");
  EXPECT_EQ(released->releases(0).reason(), "worked offline; the manager confirmed");
  // Sent again: the same reply, credited once.
  EXPECT_EQ(engine_->ReleaseHeldTime(release)->credited_seconds(), 500u);
  // Keys are each person's own: another person's same request with the same key is theirs to
  // decide, not the first one's replay (nothing is left to release).
  release.set_decided_by("finance:baraka");
  release.set_seconds(1);
  EXPECT_EQ(engine_->ReleaseHeldTime(release).status(),
            absl::FailedPreconditionError(
                "worker:nairobi/w1 on job-1: 1 s cannot be released; 0 s can (4294966795 s held, "
                "500 s credited of the 500 s their leases were held)"));
  release.set_decided_by("finance:wanjiru");

  // The decision survives a restart.
  Open();
  held = engine_->ListHeldTime("nairobi");
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->held_size(), 1);
  EXPECT_EQ(held->held(0).credited_seconds(), 500u);
  ASSERT_EQ(held->held(0).releases_size(), 1);
  EXPECT_EQ(held->held(0).releases(0).decided_by(), "finance:wanjiru");

  // 500 s at 6.00/h is 84 cents (rounded up); the answer earned 5: a top-up of 79.
  v1::CreatePayoutRequest create;
  create.set_idempotency_key("p1");
  create.set_centre("nairobi");
  auto batch = engine_->CreatePayout(create);
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->lines_size(), 1);
  EXPECT_EQ(batch->lines(0).topup_minor(), 79);
  ledger::Auditor auditor;
  ASSERT_TRUE(Audit(&auditor).ok()) << Audit(&auditor);
  EXPECT_EQ(auditor.time_bounds_checked(), 1u);  // within the floor for the 500 s leased
}

TEST_F(EngineTest, AShillingCentreIsPaidAtTheAgreedRateWithFeeAndShareOnTop) {
  // The contract is in USD with a rate agreed for KES and a 10% platform fee; the centre is paid
  // in KES (floor 600.00 KES/h) and keeps 15% of each wage for running itself.
  v1::AddCentreRequest add;
  add.set_idempotency_key("add-nairobi");
  *add.mutable_centre() = MakeCentre("nairobi", /*floor=*/60000);
  add.mutable_centre()->set_currency("KES");
  add.mutable_centre()->set_centre_share_per_mille(150);
  ASSERT_TRUE(engine_->AddCentre(add).ok());
  v1::RegisterRequest reg;
  for (const char* w : {"w1", "w2", "w3"}) reg.add_workers()->set_worker(w);
  ASSERT_TRUE(engine_->Register("nairobi", reg).ok());
  const std::string contract = absl::StrCat(kContract, R"(
exchange_rates:
  - {currency: KES, rate: "129.50", agreed_at: "2026-11-01T09:00:00Z", agreed_by: Amina Odhiambo}
platform_fee_per_mille: 100
)");
  ASSERT_TRUE(Submit(contract).ok());

  // The pay a worker sees before starting is in shillings: 5 US cents are 6.48 KES (half up).
  for (const char* w : {"w1", "w2", "w3"}) {
    auto lease = Lease("nairobi", w, 3, absl::StrCat("L", w));
    ASSERT_TRUE(lease.ok()) << lease.status();
    ASSERT_EQ(lease->assignments_size(), 3);
    EXPECT_EQ(lease->assignments(0).piece_rate_minor(), 648);
    EXPECT_EQ(lease->assignments(0).currency(), "KES");
    for (const auto& a : lease->assignments()) {
      v1::Result r = Answer(a, a.item().index() == 1 ? "negative" : "positive");
      r.set_active_seconds(std::string(w) == "w1" ? 100 : 18);
      clock_.AdvanceMs(r.active_seconds() * 1000);  // one after another
      for (const auto& receipt : SubmitResults("nairobi", {r})) {
        EXPECT_EQ(receipt.wage_minor(), 648);
        EXPECT_EQ(receipt.currency(), "KES");
      }
    }
  }
  EXPECT_EQ(engine_->GetJob("job-1")->state(), v1::JOB_COMPLETED);
  v1::StatementRequest st;
  st.set_worker_account("worker:nairobi/w2");
  auto line = engine_->GetStatement(st, "")->lines(0);
  EXPECT_EQ(line.posted_minor(), 3 * 648);
  EXPECT_EQ(line.currency(), "KES");

  // Both sides of each conversion record the rate; the fee and the share are in USD.
  const std::map<std::string, v1::Transfer> by_id = TransfersById();
  const std::string rate_text =
      "1 USD = 129.50 KES (agreed 2026-11-01T09:00:00Z by Amina Odhiambo)";
  const v1::Transfer& usd = by_id.at("wage:job-1/label/0@w1");
  EXPECT_EQ(usd.debit_account(), "escrow:job-1");
  EXPECT_EQ(usd.credit_account(), "fx:USD");
  EXPECT_EQ(usd.amount_minor(), 5);
  EXPECT_EQ(usd.exchange_rate(), rate_text);
  const v1::Transfer& kes = by_id.at("wage:job-1/label/0@w1/fx");
  EXPECT_EQ(kes.debit_account(), "fx:KES");
  EXPECT_EQ(kes.credit_account(), "worker:nairobi/w1");
  EXPECT_EQ(kes.amount_minor(), 648);
  EXPECT_EQ(kes.currency(), "KES");
  EXPECT_EQ(kes.exchange_rate(), rate_text);
  EXPECT_EQ(by_id.at("wage:job-1/label/0@w1/fee").credit_account(), "platform-fee:USD");
  EXPECT_EQ(by_id.at("wage:job-1/label/0@w1/fee").amount_minor(), 1);  // 0.5 cent, half up
  EXPECT_EQ(by_id.at("wage:job-1/label/0@w1/share").credit_account(), "centre-share:nairobi/USD");
  EXPECT_EQ(by_id.at("wage:job-1/label/0@w1/share").amount_minor(), 1);  // 0.75 cent
  // The verdict posted the wage and its three legs together.
  for (const char* leg : {"", "/fx", "/fee", "/share"}) {
    EXPECT_EQ(by_id.count(absl::StrCat("wage-post:job-1/label/0@w1", leg)), 1u) << leg;
  }

  // w1 worked 100 s a task: 5 min at 600.00 KES/h is 50.00 KES, the work earned 19.44 KES.
  // The top-up of 30.56 KES costs 0.24 USD at the rate (rounded up), which gives 31.08 KES.
  v1::CreatePayoutRequest create;
  create.set_idempotency_key("p1");
  create.set_centre("nairobi");
  auto batch = engine_->CreatePayout(create);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->currency(), "KES");
  ASSERT_EQ(batch->lines_size(), 3);
  EXPECT_EQ(batch->lines(0).worker_account(), "worker:nairobi/w1");
  EXPECT_EQ(batch->lines(0).topup_minor(), 3108);
  EXPECT_EQ(batch->lines(0).amount_minor(), 1944 + 3108);
  EXPECT_EQ(batch->lines(0).currency(), "KES");

  // A posted wage withheld goes back at the rate it was paid at: 6.48 KES from the worker,
  // 5 US cents into the escrow.
  auto held = engine_->WithholdWage("nairobi", Withhold("job-1/label/1@w2", "h1"));
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->amount_minor(), 648);
  EXPECT_EQ(held->currency(), "KES");
  EXPECT_EQ(engine_->GetStatement(st, "")->lines(0).posted_minor(), 2 * 648);

  ledger::Auditor auditor;
  ASSERT_TRUE(Audit(&auditor).ok()) << Audit(&auditor);
  const auto& job = auditor.jobs().at("job-1");
  // The job completed and returned its escrow; the top-up it owed after that was drawn from
  // the client.
  EXPECT_EQ(job.funding, 1000 + 24);
  EXPECT_EQ(job.wages, 40);  // 9 wages of 5 cents, one withheld
  // On the job's totals, not per wage (which made 0.5 cent a whole one nine times): 10% of
  // 45 cents is 4.5, 15% is 6.75.
  EXPECT_EQ(job.fees, 5);
  EXPECT_EQ(job.shares, 7);
  EXPECT_EQ(job.topups, 24);
  EXPECT_EQ(job.pending, 0);
  EXPECT_EQ(auditor.currencies().at("KES").debits_posted,
            auditor.currencies().at("KES").credits_posted);
}

// The store says which keys it holds (meta store_format): a store a newer dispatcher wrote is
// refused with what to do, one whose mark is not a number is damage, and neither is changed.
TEST_F(EngineTest, AStoreOfANewerFormatIsRefused) {
  const std::string mark = storage::keys::Meta("store_format");
  EXPECT_EQ(engine_->store()->Get(storage::Cf::kMeta, mark)->value_or("none"), "1");
  engine_.reset();
  auto write_mark = [&](const std::string& value) {
    auto store = storage::Store::Open(dir_.Sub("db"), storage::Schema::kDispatcher,
                                      storage::Store::Options());
    ASSERT_TRUE(store.ok()) << store.status();
    storage::Batch batch;
    batch.Put(storage::Cf::kMeta, mark, value);
    ASSERT_TRUE((*store)->Write(std::move(batch), storage::Durability::kSynced).ok());
  };
  for (const auto& [value, code, says] :
       {std::tuple{"2", absl::StatusCode::kFailedPrecondition,
                   "has format 2, written by a newer mw-dispatcher; this one reads formats up to "
                   "1: run the newer one"},
        std::tuple{"two", absl::StatusCode::kDataLoss,
                   "meta store_format \"two\" is not a number"}}) {
    write_mark(value);
    auto refused = Engine::Open(dir_.Sub("db"), &clock_, Engine::Options());
    EXPECT_EQ(refused.status().code(), code) << refused.status();
    EXPECT_TRUE(absl::StrContains(refused.status().message(), says)) << refused.status();
    auto store = storage::Store::Open(dir_.Sub("db"), storage::Schema::kDispatcher,
                                      storage::Store::Options());
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->Get(storage::Cf::kMeta, mark)->value_or("none"), value);
  }
  write_mark("1");
  Open();
  EXPECT_EQ(engine_->store()->Get(storage::Cf::kMeta, mark)->value_or("none"), "1");
}

TEST_F(EngineTest, FundingAddsToTheEscrowOnce) {
  ASSERT_TRUE(Submit(kContract).ok());
  v1::FundJobRequest fund;
  // A key shaped like a late payment's top-up ("fund:<job>:after:<payment>") names its own
  // transfer, never one a top-up will need.
  fund.set_idempotency_key("after:f1");
  fund.set_job_id("job-1");
  fund.set_amount_minor(500);
  auto job = engine_->FundJob(fund);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->budget_minor(), 1500);
  EXPECT_EQ(engine_->FundJob(fund)->budget_minor(), 1500);  // replayed, not added twice
  auto funded = ledger::ReadTransfer(*engine_->store(), "fund:job-1:key:after:f1");
  ASSERT_TRUE(funded.ok() && funded->has_value()) << funded.status();
  EXPECT_EQ((*funded)->amount_minor(), 500);
  auto stray = ledger::ReadTransfer(*engine_->store(), "fund:job-1:after:f1");
  ASSERT_TRUE(stray.ok()) << stray.status();
  EXPECT_FALSE(stray->has_value());
  fund.set_job_id("job-9");
  fund.set_idempotency_key("f2");
  EXPECT_EQ(engine_->FundJob(fund).status().code(), absl::StatusCode::kNotFound);
  ledger::Auditor auditor;
  ASSERT_TRUE(Audit(&auditor).ok());
  EXPECT_EQ(auditor.jobs().at("job-1").funding, 1500);
}

TEST_F(EngineTest, ImpactReportAggregatesAndSuppressesSmallGroups) {
  AddCentre("nairobi", {"w1", "w2", "w3", "w4", "w5"});
  AddCentre("kisumu", {"w6"});
  ASSERT_TRUE(Submit(kContract).ok());
  for (const char* w : {"w1", "w2", "w3", "w4", "w5"}) {
    auto lease = Lease("nairobi", w, 1, absl::StrCat("L", w));
    if (lease->assignments_size() > 0) AnswerAll("nairobi", *lease);
  }
  // Kisumu's single worker answers what is left: a group of one, never reported on its own.
  AnswerAll("kisumu", *Lease("kisumu", "w6", 3, "L6"));
  auto report = engine_->ImpactReport("");
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->centres_size(), 2);
  const v1::CentreImpact& kisumu = report->centres(0);
  EXPECT_EQ(kisumu.centre(), "kisumu");
  EXPECT_TRUE(kisumu.suppressed());
  EXPECT_EQ(kisumu.wages_minor(), 0);
  const v1::CentreImpact& nairobi = report->centres(1);
  EXPECT_FALSE(nairobi.suppressed());
  EXPECT_EQ(nairobi.workers(), 5u);
  EXPECT_EQ(nairobi.active_seconds(), 5u * 18);
  EXPECT_EQ(nairobi.wages_minor(), 25);
  EXPECT_EQ(nairobi.hourly_median_minor(), 1000);  // 5 cents per 18 s
  EXPECT_EQ(nairobi.below_floor(), 0u);
}

// At info, a lease call that grants work and a results call are a line each, and a replayed
// lease none; each grant, answer, wage and verdict is a debug line. (They were info lines,
// written under the engine's lock, four a completion.)
TEST_F(EngineTest, AtInfoACallIsOneLineAndEachTaskADebugLine) {
  AddCentre("nairobi", {"w1", "w2", "w3"});
  ASSERT_TRUE(Submit(kContract, "k1").ok());
  std::ostringstream log;
  auto logger = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  logger->set_pattern("%l %v");
  const std::shared_ptr<spdlog::logger> before = spdlog::default_logger();
  spdlog::set_default_logger(logger);
  absl::Cleanup restore = [&] { spdlog::set_default_logger(before); };
  // The lines about leases, results, wages and verdicts logged since the last call.
  auto lines = [&] {
    std::vector<std::string> out;
    std::istringstream in(log.str());
    for (std::string line; std::getline(in, line);) {
      for (const char* event : {" event=lease", " event=result", " event=wage", " event=verdict"}) {
        if (absl::StrContains(line, event)) out.push_back(line);
      }
    }
    log.str("");
    return out;
  };
  // Three workers lease and answer job `key`'s three items: three verdicts, nine wages.
  auto work = [&](const std::string& key) {
    for (const char* w : {"w1", "w2", "w3"}) {
      auto lease = Lease("nairobi", w, 10, absl::StrCat(key, "-", w));
      ASSERT_TRUE(lease.ok()) << lease.status();
      ASSERT_EQ(lease->assignments_size(), 3) << w;
      AnswerAll("nairobi", *lease);
      // Asked again, the lease is replayed: nothing new granted, nothing logged.
      ASSERT_TRUE(Lease("nairobi", w, 10, absl::StrCat(key, "-", w)).ok());
    }
  };

  logger->set_level(spdlog::level::info);
  // A key is the centre's text: a line break in it is logged escaped, not as a line of its own.
  work("k1\nlevel=info event=lease");
  const std::string results =
      "info event=results centre=nairobi accepted=3 duplicate=0 quarantined=0 conflict=0";
  const std::string lease =
      "info event=lease centre=nairobi assignments=3 request=k1\\nlevel=info event=lease-";
  EXPECT_THAT(lines(),
              ElementsAre(lease + "w1", results, lease + "w2", results, lease + "w3", results));
  ASSERT_EQ(engine_->GetJob("job-1")->state(), v1::JOB_COMPLETED);

  logger->set_level(spdlog::level::debug);
  ASSERT_TRUE(Submit(kContract, "k2").ok());
  work("k2");
  std::map<std::string, int> kinds;  // each line up to its first field's name
  for (const std::string& line : lines()) {
    ++kinds[line.substr(0, line.find('=', line.find("event=") + 6))];
  }
  EXPECT_THAT(kinds,
              ElementsAre(std::pair<const std::string, int>("debug event=lease task", 9),
                          std::pair<const std::string, int>("debug event=result task", 9),
                          std::pair<const std::string, int>("debug event=verdict task", 3),
                          std::pair<const std::string, int>("debug event=wage_posted task", 9),
                          std::pair<const std::string, int>("info event=lease centre", 3),
                          std::pair<const std::string, int>("info event=results centre", 3)));
}

}  // namespace
}  // namespace mw::dispatch
