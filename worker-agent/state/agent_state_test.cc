#include "worker-agent/state/agent_state.h"

#include "absl/strings/str_cat.h"
#include "engine/storage/keys.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::centre {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

v1::LeaseReply Reply(const std::string& worker, std::vector<int> items) {
  v1::LeaseReply r;
  for (int i : items) {
    v1::Assignment* a = r.add_assignments();
    a->set_task_id("job-1/label/" + std::to_string(i));
    a->set_assignment_id(a->task_id() + "@" + worker);
    a->set_job_id("job-1");
    a->set_stage("label");
    a->set_worker(worker);
    a->set_epoch(1);
    a->set_lease_expires_at_ms(1000 + i);
  }
  v1::StageSpec* s = r.add_specs();
  s->set_job_id("job-1");
  s->set_stage("label");
  s->mutable_human()->set_piece_rate_minor(5);
  return r;
}

v1::Result Answer(const std::string& assignment_id, const std::string& id) {
  v1::Result r;
  r.set_result_id(id);
  r.set_assignment_id(assignment_id);
  r.mutable_answer()->set_choice("yes");
  return r;
}

v1::Receipt Receipt(const std::string& id, v1::ReceiptStatus status) {
  v1::Receipt r;
  r.set_result_id(id);
  r.set_status(status);
  r.set_detail("why");
  return r;
}

class AgentStateTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    state_.reset();
    state_ = std::move(AgentState::Open(dir_.Sub("db"), &clock_).value());
  }
  mw::testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<AgentState> state_;
};

// A record the agent cannot read stops it at start, naming where: never skipped, so a corrupt
// earning or session is not silently gone.
TEST_F(AgentStateTest, AnUnreadableRecordIsDataLossAtOpen) {
  for (auto [cf, key] : {std::pair{storage::Cf::kEarnings, std::string("w1\x00x")},
                         std::pair{storage::Cf::kQuarantine, std::string("r-1")},
                         std::pair{storage::Cf::kSessions, storage::keys::WebSession("ab")},
                         std::pair{storage::Cf::kRoster, std::string("w1")}}) {
    state_.reset();
    {
      auto store = storage::Store::Open(dir_.Sub("db"), storage::Schema::kAgent);
      ASSERT_TRUE(store.ok()) << store.status();
      storage::Batch batch;
      batch.Put(cf, key, "\x01not a record");
      ASSERT_TRUE((*store)->Write(std::move(batch), storage::Durability::kSynced).ok());
    }
    auto opened = AgentState::Open(dir_.Sub("db"), &clock_);
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << storage::CfName(cf);
    // Mend it, and the agent starts again.
    {
      auto store = storage::Store::Open(dir_.Sub("db"), storage::Schema::kAgent);
      ASSERT_TRUE(store.ok());
      storage::Batch batch;
      batch.Delete(cf, key);
      ASSERT_TRUE((*store)->Write(std::move(batch), storage::Durability::kSynced).ok());
    }
    Reopen();
  }
}

TEST_F(AgentStateTest, RosterGivesPseudonymsAndSurvivesRestart) {
  v1::RosterEntry e;
  e.set_name("Amina W.");
  e.set_contact("+254 700 000000");
  auto added = state_->AddWorker(e);
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(added->pseudonym().size(), 11u);
  EXPECT_EQ(added->pseudonym()[0], 'w');
  Reopen();
  auto roster = state_->Roster();
  ASSERT_EQ(roster.size(), 1u);
  EXPECT_EQ(roster[0].name(), "Amina W.");
  EXPECT_EQ(roster[0].pseudonym(), added->pseudonym());
}

TEST_F(AgentStateTest, SignInCodesAreNumberedSaltedAndReplacedByANewOne) {
  v1::RosterEntry e;
  e.set_name("Amina");
  const std::string amina = state_->AddWorker(e)->pseudonym();
  e.set_name("Baraka");
  const std::string baraka = state_->AddWorker(e)->pseudonym();
  const std::string a1 = state_->IssueSignInCode(amina).value();
  const std::string b1 = state_->IssueSignInCode(baraka).value();
  EXPECT_EQ(a1.substr(0, 4), "1000");
  EXPECT_EQ(b1.substr(0, 4), "1001");
  EXPECT_EQ(state_->SignIn(a1)->pseudonym(), amina);
  EXPECT_EQ(state_->SignIn(absl::StrCat(b1.substr(0, 4), " ", b1.substr(4, 4), " ", b1.substr(8)))
                ->pseudonym(),
            baraka);
  // Another worker's number with this one's secret, and a number nobody has: no one.
  EXPECT_TRUE(absl::IsNotFound(state_->SignIn(absl::StrCat("1001", a1.substr(4))).status()));
  EXPECT_TRUE(absl::IsNotFound(state_->SignIn(absl::StrCat("1002", a1.substr(4))).status()));
  // Nothing of the code is stored but the verifier; a new code keeps the number, ends the old.
  EXPECT_EQ(state_->Worker(amina)->sign_in_verifier().find(a1.substr(4)), std::string::npos);
  const std::string a2 = state_->IssueSignInCode(amina).value();
  EXPECT_EQ(a2.substr(0, 4), "1000");
  EXPECT_TRUE(absl::IsNotFound(state_->SignIn(a1).status()));
  Reopen();
  EXPECT_EQ(state_->SignIn(a2)->pseudonym(), amina);
  EXPECT_TRUE(absl::IsNotFound(state_->SignIn("").status()));
}

TEST_F(AgentStateTest, LeaseRequestIsReusedUntilItsReplyIsSaved) {
  v1::WorkerCredit c;
  c.set_worker("w1");
  c.set_count(2);
  auto first = state_->PendingLease({c});
  ASSERT_TRUE(first.ok());
  Reopen();        // crash before the reply arrived
  c.set_count(5);  // the need changed meanwhile; the retry must still be the same request
  auto retry = state_->PendingLease({c});
  EXPECT_EQ(retry->SerializeAsString(), first->SerializeAsString());
  ASSERT_TRUE(state_->SaveLease(Reply("w1", {0, 1})).ok());
  auto next_request = state_->PendingLease({c});
  EXPECT_NE(next_request->idempotency_key(), first->idempotency_key());
  EXPECT_EQ(next_request->credits(0).count(), 5u);
  EXPECT_EQ(state_->HeldFor("w1"), 2u);
  auto next = state_->OpenNext("w1");
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->assignment().task_id(), "job-1/label/0");
  EXPECT_EQ(next->spec().human().piece_rate_minor(), 5);
}

TEST_F(AgentStateTest, AnswerMovesFromHeldToOutboxAtomicallyAndSurvivesRestart) {
  ASSERT_TRUE(state_->SaveLease(Reply("w1", {0, 1})).ok());
  ASSERT_TRUE(state_->SaveAnswer(Answer("job-1/label/0@w1", "r0")).ok());
  ASSERT_TRUE(state_->SaveAnswer(Answer("job-1/label/0@w1", "r0")).ok());  // saved twice: once
  Reopen();
  EXPECT_EQ(state_->HeldFor("w1"), 1u);
  EXPECT_THAT(state_->HeldIds(), ElementsAre("job-1/label/1@w1"));
  auto pending = state_->PendingResults(10);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].result_id(), "r0");
  EXPECT_EQ(state_->Outbox().depth, 1u);
}

TEST_F(AgentStateTest, OnlyAReceiptEmptiesTheOutbox) {
  ASSERT_TRUE(state_->SaveLease(Reply("w1", {0, 1, 2})).ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(state_
                    ->SaveAnswer(
                        Answer("job-1/label/" + std::to_string(i) + "@w1", "r" + std::to_string(i)))
                    .ok());
  }
  ASSERT_TRUE(state_
                  ->ApplyReceipts({Receipt("r0", v1::RECEIPT_ACCEPTED),
                                   Receipt("r1", v1::RECEIPT_QUARANTINED),
                                   Receipt("r2", v1::RECEIPT_STATUS_UNSPECIFIED),
                                   Receipt("unknown", v1::RECEIPT_ACCEPTED)})
                  .ok());
  Reopen();
  auto pending = state_->PendingResults(10);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].result_id(), "r2");
  auto q = state_->Quarantined().value();
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].result().result_id(), "r1");
  EXPECT_EQ(q[0].receipt().detail(), "why");
  EXPECT_EQ(state_->Outbox().quarantined, 1u);
}

// A receipt that says the worker passed training raises their training level, durably, so the
// next registration tells the dispatcher they are no newcomer; opened assignments are reported.
TEST_F(AgentStateTest, PassingTrainingRaisesTheWorkersLevel) {
  auto added = state_->AddWorker(v1::RosterEntry());
  ASSERT_TRUE(added.ok());
  const std::string w = added->pseudonym();
  ASSERT_TRUE(state_->SaveLease(Reply(w, {0, 1})).ok());
  ASSERT_TRUE(state_->OpenNext(w).has_value());
  EXPECT_THAT(state_->OpenedIds(), ElementsAre("job-1/label/0@" + w));
  v1::Result r = Answer("job-1/label/0@" + w, "r0");
  r.set_worker(w);
  ASSERT_TRUE(state_->SaveAnswer(r).ok());
  v1::Receipt passed = Receipt("r0", v1::RECEIPT_ACCEPTED);
  passed.set_promoted(true);
  ASSERT_TRUE(state_->ApplyReceipts({passed}).ok());
  Reopen();
  ASSERT_EQ(state_->Roster().size(), 1u);
  EXPECT_EQ(state_->Roster()[0].training_level(), 1u);
}

TEST_F(AgentStateTest, DroppedAssignmentsLeave) {
  ASSERT_TRUE(state_->SaveLease(Reply("w1", {0, 1})).ok());
  ASSERT_TRUE(state_->DropAssignments({"job-1/label/0@w1", "nope"}).ok());
  Reopen();
  EXPECT_THAT(state_->HeldIds(), ElementsAre("job-1/label/1@w1"));
  EXPECT_THAT(state_->PendingResults(10), IsEmpty());
}

}  // namespace
}  // namespace mw::centre

namespace mw::centre {
namespace {

TEST(AgentStateEarningsTest, AReceiptMovesPayIntoEarningsOnceAndSurvivesRestart) {
  mw::testing::TempDir dir;
  FakeClock clock;
  auto state = std::move(AgentState::Open(dir.Sub("db"), &clock).value());
  v1::LeaseReply lease = Reply("w1", {0, 1});
  lease.mutable_specs(0)->mutable_human()->set_distressing(true);
  ASSERT_TRUE(state->SaveLease(lease).ok());
  for (int i : {0, 1}) {
    v1::Result r = ResultFor(lease.assignments(i), "w1", clock.NowMs());
    r.mutable_answer()->set_choice("yes");
    r.set_active_seconds(20 + i);
    ASSERT_TRUE(state->SaveAnswer(r).ok());
  }
  EXPECT_EQ(state->WorkSince("w1", 0)->active_seconds, 41u);  // from the outbox
  EXPECT_EQ(state->WorkSince("w1", 0)->distressing, 2u);
  EXPECT_EQ(state->WorkSince("w1", clock.NowMs() + 1)->active_seconds, 0u);
  v1::Receipt receipt;
  receipt.set_result_id("r:job-1/label/0@w1:1");
  receipt.set_status(v1::RECEIPT_ACCEPTED);
  receipt.set_wage_minor(5);
  receipt.set_currency("USD");
  ASSERT_TRUE(state->ApplyReceipts({receipt, receipt}).ok());
  receipt.set_status(v1::RECEIPT_DUPLICATE);  // a resend after a lost reply
  ASSERT_TRUE(state->ApplyReceipts({receipt}).ok());
  state.reset();
  state = std::move(AgentState::Open(dir.Sub("db"), &clock).value());
  auto earnings = state->Earnings("w1", 0).value();
  ASSERT_EQ(earnings.size(), 1u);
  EXPECT_EQ(earnings[0].task_id(), "job-1/label/0");
  EXPECT_EQ(earnings[0].stage(), "label");
  EXPECT_EQ(earnings[0].wage_minor(), 5);
  EXPECT_EQ(earnings[0].active_seconds(), 20u);
  EXPECT_TRUE(earnings[0].distressing());
  EXPECT_EQ(state->PendingFor("w1").size(), 1u);
  EXPECT_EQ(state->WorkSince("w1", 0)->active_seconds, 41u);  // one earned, one still queued
  EXPECT_TRUE(state->Earnings("w2", 0)->empty());
  EXPECT_EQ(state->Earnings("w1", clock.NowMs())->size(), 1u);  // answered at this moment
  EXPECT_TRUE(state->Earnings("w1", clock.NowMs() + 1)->empty());
}

}  // namespace
}  // namespace mw::centre
