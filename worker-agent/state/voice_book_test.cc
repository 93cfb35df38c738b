#include "worker-agent/state/voice_book.h"

#include <memory>

#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::centre {
namespace {

namespace v1 = ::microwork::v1;

constexpr int64_t kHour = 3'600'000;

class VoiceBookTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    voice_.reset();
    store_.reset();
    auto s = storage::Store::Open(dir_.Sub("db"), storage::Schema::kAgent);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    voice_ = std::make_unique<VoiceBook>(store_.get());
    ASSERT_TRUE(voice_->Load().ok());
  }
  static v1::WorkRating Rating(const std::string& worker, uint32_t clarity) {
    v1::WorkRating r;
    r.set_job_id("job-1");
    r.set_worker(worker);
    r.set_clarity(clarity);
    r.set_time_estimate(3);
    r.set_pay_fairness(2);
    return r;
  }

  mw::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<VoiceBook> voice_;
};

TEST_F(VoiceBookTest, AWorkerRatesAJobOnceAcrossARestart) {
  ASSERT_TRUE(voice_->Rate(Rating("w-a", 2), 1000).ok());
  EXPECT_EQ(voice_->Rate(Rating("w-a", 5), 2000).code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(voice_->Rate(Rating("w-b", 1), 3000).ok());
  EXPECT_EQ(voice_->Rate(Rating("w-c", 9), 4000).message(), "clarity: expected 1 to 5, got 9");
  EXPECT_EQ(voice_->Rate(Rating("", 3), 4000).message(), "worker: who rates the job");
  EXPECT_EQ(voice_->changes(), 2u);  // the two kept; refusals are no news for the dispatcher
  Reopen();
  ASSERT_EQ(voice_->Ratings().size(), 2u);
  EXPECT_EQ(voice_->RatingOf("w-a", "job-1")->clarity(), 2u);
  EXPECT_EQ(voice_->RatingOf("w-a", "job-1")->rated_at_ms(), 1000);
  EXPECT_FALSE(voice_->RatingOf("w-c", "job-1").has_value());
}

TEST_F(VoiceBookTest, AComplaintIsAnsweredOnceAndTheWorkerSeesTheAnswer) {
  auto filed = voice_->File("w-a", v1::COMPLAINT_PAY, "Friday's pay did not arrive.", 1000);
  ASSERT_TRUE(filed.ok()) << filed.status();
  EXPECT_EQ(filed->id(), "1");
  auto second = voice_->File("w-b", v1::COMPLAINT_SAFETY, "No fire exit.", 2000);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->id(), "2");
  EXPECT_EQ(voice_->File("w-a", v1::COMPLAINT_PAY, "", 1000).status().message(), "text: empty");
  auto answered = voice_->Answer("1", "Paid today, with the top-up.", "halima", 5000);
  ASSERT_TRUE(answered.ok()) << answered.status();
  EXPECT_EQ(voice_->Answer("1", "Again", "juma", 6000).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(voice_->Answer("9", "x", "juma", 6000).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(voice_->Answer("2", "", "juma", 6000).status().message(), "answer: empty");
  Reopen();
  std::vector<v1::Complaint> mine = voice_->ComplaintsOf("w-a");
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_TRUE(mine[0].answered());
  EXPECT_EQ(mine[0].answer(), "Paid today, with the top-up.");
  EXPECT_EQ(mine[0].answered_by(), "halima");
  EXPECT_EQ(mine[0].answered_at_ms(), 5000);
  // The managers see open ones first.
  std::vector<v1::Complaint> all = voice_->Complaints();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id(), "2");
  EXPECT_EQ(all[1].id(), "1");
}

TEST_F(VoiceBookTest, AWorkerCannotFloodTheManagersWithOpenComplaints) {
  for (size_t i = 0; i < VoiceBook::kMaxOpenPerWorker; ++i) {
    ASSERT_TRUE(voice_->File("w-a", v1::COMPLAINT_TREATMENT, "again", 1000).ok());
  }
  EXPECT_EQ(voice_->File("w-a", v1::COMPLAINT_TREATMENT, "again", 1000).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(voice_->File("w-b", v1::COMPLAINT_TREATMENT, "mine", 1000).ok());
  ASSERT_TRUE(voice_->Answer("1", "Seen.", "halima", 2000).ok());
  EXPECT_TRUE(voice_->File("w-a", v1::COMPLAINT_TREATMENT, "again", 3000).ok());
}

TEST_F(VoiceBookTest, AnUnansweredComplaintEscalatesAndOnlyThenLeavesTheCentreWithItsWords) {
  ASSERT_TRUE(voice_->File("w-a", v1::COMPLAINT_DATA, "My phone number was shown.", 0).ok());
  ASSERT_TRUE(voice_->File("w-b", v1::COMPLAINT_PAY, "Late pay.", 10 * kHour).ok());
  v1::ShareVoiceRequest first = voice_->Unshared();
  ASSERT_EQ(first.complaints_size(), 2);
  for (const auto& c : first.complaints()) {
    EXPECT_EQ(c.worker(), "");  // never leaves the centre
    EXPECT_EQ(c.text(), "");    // not until it escalates
    EXPECT_FALSE(c.shared());
  }
  ASSERT_TRUE(voice_->Shared(first, v1::ShareVoiceReply(), kHour).ok());
  EXPECT_EQ(voice_->Unshared().complaints_size(), 0);

  // 72 hours after the first was filed, it escalates; the second (filed 10 h later) does not.
  auto n = voice_->Escalate(72 * kHour - 1, 72 * kHour);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  n = voice_->Escalate(72 * kHour, 72 * kHour);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  v1::ShareVoiceRequest second = voice_->Unshared();
  ASSERT_EQ(second.complaints_size(), 1);
  EXPECT_EQ(second.complaints(0).id(), "1");
  EXPECT_TRUE(second.complaints(0).escalated());
  EXPECT_EQ(second.complaints(0).text(), "My phone number was shown.");
  EXPECT_EQ(second.complaints(0).worker(), "");

  // The operator answers; the reply brings it; the worker sees it, and the centre tells the
  // dispatcher it has it.
  v1::ShareVoiceReply reply;
  v1::Complaint* a = reply.add_answered();
  a->set_id("1");
  a->set_answer("Removed from the export; sorry.");
  a->set_answered_by("operator:wanjiru");
  a->set_answered_at_ms(80 * kHour);
  ASSERT_TRUE(voice_->Shared(second, reply, 80 * kHour).ok());
  Reopen();
  std::vector<v1::Complaint> mine = voice_->ComplaintsOf("w-a");
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].answer(), "Removed from the export; sorry.");
  EXPECT_EQ(mine[0].answered_by(), "operator:wanjiru");
  v1::ShareVoiceRequest third = voice_->Unshared();
  ASSERT_EQ(third.complaints_size(), 1);
  EXPECT_TRUE(third.complaints(0).answered());
}

TEST_F(VoiceBookTest, AnEntryChangedWhileBeingSentIsSentAgain) {
  ASSERT_TRUE(voice_->Rate(Rating("w-a", 2), 1000).ok());
  ASSERT_TRUE(voice_->File("w-a", v1::COMPLAINT_PAY, "Late pay.", 1000).ok());
  v1::ShareVoiceRequest sent = voice_->Unshared();
  ASSERT_EQ(sent.ratings_size(), 1);
  EXPECT_EQ(sent.ratings(0).worker(), "w-a");  // the dispatcher checks they worked on the job
  ASSERT_TRUE(voice_->Answer("1", "Paid.", "halima", 2000).ok());  // meanwhile
  v1::ShareVoiceReply reply;
  v1::RatingSummary* s = reply.add_clients();
  s->set_client("acme");
  s->set_raters(6);
  v1::RatingSummary* j = reply.add_jobs();
  j->set_job_id("job-1");
  j->set_raters(5);
  ASSERT_TRUE(voice_->Shared(sent, reply, 3000).ok());
  v1::ShareVoiceRequest again = voice_->Unshared();
  EXPECT_EQ(again.ratings_size(), 0);
  ASSERT_EQ(again.complaints_size(), 1);
  EXPECT_TRUE(again.complaints(0).answered());
  ASSERT_TRUE(voice_->ClientSummary("acme").has_value());
  EXPECT_EQ(voice_->ClientSummary("acme")->raters(), 6u);
  EXPECT_FALSE(voice_->ClientSummary("other").has_value());
  EXPECT_EQ(voice_->JobSummary("job-1")->raters(), 5u);
}

TEST_F(VoiceBookTest, AnOperatorsAnswerToAComplaintAManagerAnsweredMeanwhileIsAddedBelowIt) {
  ASSERT_TRUE(voice_->File("w-a", v1::COMPLAINT_SAFETY, "Locked exit.", 0).ok());
  ASSERT_TRUE(voice_->Escalate(80 * kHour, 72 * kHour).ok());
  ASSERT_TRUE(voice_->Answer("1", "Unlocked.", "halima", 81 * kHour).ok());
  v1::ShareVoiceReply reply;
  v1::Complaint* a = reply.add_answered();
  a->set_id("1");
  a->set_answer("Inspected on Monday.");
  a->set_answered_by("operator:wanjiru");
  ASSERT_TRUE(voice_->Shared(v1::ShareVoiceRequest(), reply, 82 * kHour).ok());
  ASSERT_TRUE(voice_->Shared(v1::ShareVoiceRequest(), reply, 83 * kHour).ok());  // once only
  Reopen();
  const v1::Complaint c = voice_->ComplaintsOf("w-a")[0];
  EXPECT_EQ(c.answer(), "Unlocked.\n\noperator:wanjiru: Inspected on Monday.");
  EXPECT_EQ(c.answered_by(), "halima");
  v1::ShareVoiceRequest out = voice_->Unshared();
  ASSERT_EQ(out.complaints_size(), 1);
  EXPECT_EQ(out.complaints(0).answer(), c.answer());  // escalated: the words go back
  EXPECT_EQ(out.complaints(0).filed_at_ms(), kHour);  // to the hour (at least one)
  EXPECT_EQ(out.complaints(0).answered_at_ms(), 81 * kHour);
}

TEST_F(VoiceBookTest, FlagsAreKeptPerWorkerAndTaskNewestFirst) {
  v1::TaskFlag f;
  f.set_task_id("job-1/label/3");
  f.set_kind(v1::FLAG_HARMFUL);
  f.set_worker("w-a");
  ASSERT_TRUE(voice_->Flag(f, 1000).ok());
  f.set_task_id("job-1/label/4");
  f.set_kind(v1::FLAG_WRONG);
  f.set_note("The picture is blank.");
  ASSERT_TRUE(voice_->Flag(f, 2000).ok());
  f.set_kind(v1::FLAG_KIND_UNSPECIFIED);
  EXPECT_EQ(voice_->Flag(f, 3000).message(), "kind: expected harmful or wrong, got 0");
  Reopen();
  std::vector<v1::TaskFlag> flags = voice_->Flags();
  ASSERT_EQ(flags.size(), 2u);
  EXPECT_EQ(flags[0].task_id(), "job-1/label/4");
  EXPECT_EQ(flags[0].note(), "The picture is blank.");
  EXPECT_EQ(flags[1].kind(), v1::FLAG_HARMFUL);
}

}  // namespace
}  // namespace mw::centre
