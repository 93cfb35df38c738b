// The agent's lease credits, built from a real AgentState in a temp directory: the buffer, the
// daily cap on distressing content, and the stages the manager reserved for other workers.
#include "worker-agent/agent.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::agent {
namespace {

using ::testing::ElementsAre;

class LeaseCreditsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // 10:00 local time, so "today" has begun for every answer below.
    clock_.SetMs(centre::LocalDayStart(1'795'000'000'000) + 10 * 3'600'000);
    state_ = std::move(centre::AgentState::Open(dir_.Sub("db"), &clock_).value());
    for (const char* name : {"Amina", "Baraka"}) {
      v1::RosterEntry e;
      e.set_name(name);
      workers_.push_back(state_->AddWorker(e).value().pseudonym());
    }
  }

  // Holds one assignment of `stage` (tagged distressing or not) for `worker`.
  void Hold(const std::string& worker, const std::string& stage, int item, bool distressing) {
    v1::LeaseReply r;
    v1::Assignment* a = r.add_assignments();
    a->set_task_id(absl::StrCat("job-1/", stage, "/", item));
    a->set_assignment_id(absl::StrCat(a->task_id(), "@", worker));
    a->set_job_id("job-1");
    a->set_stage(stage);
    a->set_worker(worker);
    a->set_epoch(1);
    v1::StageSpec* s = r.add_specs();
    s->set_job_id("job-1");
    s->set_stage(stage);
    s->mutable_human()->set_distressing(distressing);
    ASSERT_TRUE(state_->SaveLease(r).ok());
  }

  void Answer(const std::string& worker, const std::string& stage, int item) {
    v1::Result r;
    r.set_assignment_id(absl::StrCat("job-1/", stage, "/", item, "@", worker));
    r.set_result_id(absl::StrCat("r-", r.assignment_id()));
    r.set_worker(worker);
    r.set_epoch(1);
    r.mutable_answer()->set_choice("ok");
    r.set_answered_at_ms(clock_.NowMs());
    ASSERT_TRUE(state_->SaveAnswer(r).ok());
  }

  mw::testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<centre::AgentState> state_;
  std::vector<std::string> workers_;
};

TEST_F(LeaseCreditsTest, EachWorkerAsksForWhatTheirBufferLacks) {
  const std::string& amina = workers_[0];
  const std::string& baraka = workers_[1];
  Hold(amina, "label", 0, false);
  Hold(amina, "label", 1, false);
  auto credits = LeaseCredits(*state_, {amina, baraka}, 2, 0, clock_.NowMs());
  ASSERT_EQ(credits.size(), 1u);  // Amina's buffer is full
  EXPECT_EQ(credits[0].worker(), baraka);
  EXPECT_EQ(credits[0].count(), 2u);
  EXPECT_FALSE(credits[0].no_distressing());
  EXPECT_TRUE(credits[0].exclude_stages().empty());
}

TEST_F(LeaseCreditsTest, PastTheDailyCapACreditAsksForNothingDistressing) {
  const std::string& amina = workers_[0];
  for (int item : {0, 1}) {
    Hold(amina, "moderate", item, true);
    Answer(amina, "moderate", item);
  }
  Hold(amina, "label", 0, false);
  Answer(amina, "label", 0);  // not distressing: does not count
  auto under = LeaseCredits(*state_, {amina}, 5, 3, clock_.NowMs());
  ASSERT_EQ(under.size(), 1u);
  EXPECT_FALSE(under[0].no_distressing());  // two of three
  Hold(amina, "moderate", 2, true);
  Answer(amina, "moderate", 2);
  auto capped = LeaseCredits(*state_, {amina}, 5, 3, clock_.NowMs());
  ASSERT_EQ(capped.size(), 1u);
  EXPECT_TRUE(capped[0].no_distressing());
  // The next local day starts afresh.
  clock_.AdvanceMs(24 * 3'600'000);
  EXPECT_FALSE(LeaseCredits(*state_, {amina}, 5, 3, clock_.NowMs())[0].no_distressing());
}

TEST_F(LeaseCreditsTest, AStageReservedForOthersIsExcluded) {
  const std::string& amina = workers_[0];
  const std::string& baraka = workers_[1];
  v1::StageReservation r;
  r.set_stage("job-1/label");
  r.add_workers(baraka);
  r.set_reserved_by("Grace");
  ASSERT_TRUE(state_->Reserve(r).ok());
  r.set_stage("job-2/transcribe");
  ASSERT_TRUE(state_->Reserve(r).ok());
  auto credits = LeaseCredits(*state_, {amina, baraka}, 5, 0, clock_.NowMs());
  ASSERT_EQ(credits.size(), 2u);
  EXPECT_THAT(credits[0].exclude_stages(), ElementsAre("job-1/label", "job-2/transcribe"));
  EXPECT_TRUE(credits[1].exclude_stages().empty());
  // Bad reservations change nothing.
  r.set_stage("label");
  EXPECT_EQ(state_->Reserve(r).code(), absl::StatusCode::kInvalidArgument);
  r.set_stage("job-1/label");
  r.clear_workers();
  r.add_workers("nobody");
  EXPECT_EQ(state_->Reserve(r).message(), "no worker nobody");
  EXPECT_EQ(state_->Reservations().size(), 2u);
  ASSERT_TRUE(state_->ClearReservation("job-1/label").ok());
  EXPECT_THAT(LeaseCredits(*state_, {amina}, 5, 0, clock_.NowMs())[0].exclude_stages(),
              ElementsAre("job-2/transcribe"));
}

TEST_F(LeaseCreditsTest, ABatchReservedForATeamFollowsItsMembersAndNeverOverlaps) {
  const std::string& amina = workers_[0];
  const std::string& baraka = workers_[1];
  v1::Team night;
  night.set_name("night");
  night.add_members(baraka);
  night.set_made_by("Grace");
  ASSERT_TRUE(state_->SaveTeam(night).ok());
  v1::StageReservation r;
  r.set_stage("job-1/label");
  r.set_team("night");
  r.set_batch(true);
  r.set_first_item(10);
  r.set_last_item(19);
  r.set_reserved_by("Grace");
  ASSERT_TRUE(state_->Reserve(r).ok());
  auto credits = LeaseCredits(*state_, {amina, baraka}, 5, 0, clock_.NowMs());
  ASSERT_EQ(credits.size(), 2u);
  EXPECT_TRUE(credits[0].exclude_stages().empty());
  ASSERT_EQ(credits[0].exclude_batches_size(), 1);
  EXPECT_EQ(credits[0].exclude_batches(0).stage(), "job-1/label");
  EXPECT_EQ(credits[0].exclude_batches(0).first_item(), 10u);
  EXPECT_EQ(credits[0].exclude_batches(0).last_item(), 19u);
  EXPECT_EQ(credits[1].exclude_batches_size(), 0);  // baraka is in the team

  // Amina joins the team: the reservation follows at her next credit.
  night.add_members(amina);
  ASSERT_TRUE(state_->SaveTeam(night).ok());
  EXPECT_EQ(LeaseCredits(*state_, {amina}, 5, 0, clock_.NowMs())[0].exclude_batches_size(), 0);

  // Overlapping batches, or the whole stage over a batch, are refused; the rest is not.
  v1::StageReservation more = r;
  more.clear_team();
  more.add_workers(amina);
  more.set_first_item(15);
  more.set_last_item(25);
  EXPECT_EQ(state_->Reserve(more).message(),
            "items: job-1/label#10-19 is reserved already; open it to everyone first");
  more.set_batch(false);
  EXPECT_EQ(state_->Reserve(more).message(),
            "items: job-1/label#10-19 is reserved already; open it to everyone first");
  more.set_batch(true);
  more.set_first_item(30);
  more.set_last_item(20);
  EXPECT_EQ(state_->Reserve(more).message(), "items: the first (30) is after the last (20)");
  more.set_team("day");
  more.set_first_item(20);
  more.set_last_item(29);
  EXPECT_EQ(state_->Reserve(more).message(), "team: no team day");
  more.clear_team();
  ASSERT_TRUE(state_->Reserve(more).ok());
  EXPECT_EQ(state_->Reservations().size(), 2u);

  // A team in use stays until its reservation is cleared; bad teams change nothing.
  EXPECT_EQ(state_->DisbandTeam("night").code(), absl::StatusCode::kFailedPrecondition);
  v1::Team bad;
  bad.set_name("two words");
  bad.add_members(amina);
  bad.set_made_by("Grace");
  EXPECT_EQ(state_->SaveTeam(bad).code(), absl::StatusCode::kInvalidArgument);
  bad.set_name("ghosts");
  bad.clear_members();
  bad.add_members("nobody");
  EXPECT_EQ(state_->SaveTeam(bad).message(), "no worker nobody");
  ASSERT_EQ(state_->Teams().size(), 1u);
  ASSERT_TRUE(state_->ClearReservation("job-1/label#10-19").ok());
  ASSERT_TRUE(state_->DisbandTeam("night").ok());
  EXPECT_TRUE(state_->Teams().empty());
  EXPECT_THAT(
      LeaseCredits(*state_, {baraka}, 5, 0, clock_.NowMs())[0].exclude_batches(0).first_item(),
      20u);
}

TEST(ResendLeaseTest, OfflineForEverButARefusalOnlyAFewTimes) {
  // The dispatcher may not have seen it: the same key, however long the outage.
  EXPECT_TRUE(ResendLease(absl::UnavailableError("down"), 1000));
  EXPECT_TRUE(ResendLease(absl::DeadlineExceededError("slow"), 1000));
  // It answered with an error: a few tries, then a fresh request. The jam this ends: a reply
  // larger than the agent may receive came back as RESOURCE_EXHAUSTED on every resend.
  const absl::Status too_big =
      absl::ResourceExhaustedError("Received message larger than max (70000000 vs. 67108864)");
  for (int i = 1; i < kMaxLeaseRefusals; ++i) EXPECT_TRUE(ResendLease(too_big, i)) << i;
  EXPECT_FALSE(ResendLease(too_big, kMaxLeaseRefusals));
  EXPECT_FALSE(ResendLease(absl::InternalError("fault"), kMaxLeaseRefusals));
  // Refused for good: at once.
  EXPECT_FALSE(ResendLease(absl::FailedPreconditionError("not on duty"), 1));
}

}  // namespace
}  // namespace mw::agent
