#include "engine/dispatch/voice_board.h"

#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "engine/common/ids.h"
#include "engine/record/voice.h"
#include "engine/storage/keys.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::dispatch {
namespace {

namespace v1 = ::microwork::v1;

constexpr int64_t kNow = 1'000'000'000;

class VoiceBoardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Reopen();
    // Workers w0..w5 of centre "nairobi" did work on job-1 (client acme); w0 also on job-2.
    for (int i = 0; i < 6; ++i)
      worked_.insert({WorkerAccount("nairobi", absl::StrCat("w", i)), "job-1"});
    worked_.insert({WorkerAccount("nairobi", "w0"), "job-2"});
    facts_.client_of = [](const std::string& job) -> std::optional<std::string> {
      if (job == "job-1") return "acme";
      if (job == "job-2") return "globex";
      return std::nullopt;
    };
    facts_.worked_on = [this](const std::string& account, const std::string& job) {
      return worked_.count({account, job}) > 0;
    };
  }
  void Reopen() {
    store_.reset();
    auto s = storage::Store::Open(dir_.Sub("db"), storage::Schema::kDispatcher);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    board_ = VoiceBoard();
    ASSERT_TRUE(board_.Load(store_.get()).ok());
  }
  v1::ShareVoiceReply Share(const std::string& centre, const v1::ShareVoiceRequest& r) {
    storage::Batch batch;
    auto reply = board_.Take(centre, r, kNow, facts_, &batch);
    EXPECT_TRUE(reply.ok()) << reply.status();
    EXPECT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
    return reply.ok() ? *reply : v1::ShareVoiceReply();
  }
  static v1::WorkRating Rating(const std::string& worker, const std::string& job, uint32_t pay) {
    v1::WorkRating r;
    r.set_job_id(job);
    r.set_worker(worker);
    r.set_clarity(4);
    r.set_time_estimate(3);
    r.set_pay_fairness(pay);
    return r;
  }

  mw::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  VoiceBoard board_;
  VoiceBoard::Facts facts_;
  std::set<std::pair<std::string, std::string>> worked_;
};

TEST_F(VoiceBoardTest, OnlyWorkersWhoDidTheJobRateItAndTheirNamesAreNotKept) {
  v1::ShareVoiceRequest r;
  for (int i = 0; i < 4; ++i) *r.add_ratings() = Rating(absl::StrCat("w", i), "job-1", 2);
  *r.add_ratings() = Rating("w9", "job-1", 1);  // no work on it: a made-up rater
  *r.add_ratings() = Rating("w1", "job-7", 1);  // no such job
  *r.add_ratings() = Rating("w1", "job-2", 1);  // w1 did not work on job-2
  *r.add_ratings() = Rating("w2", "job-1", 9);  // out of range
  v1::ShareVoiceReply reply = Share("nairobi", r);
  ASSERT_EQ(reply.rating_refusals_size(), 8);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(reply.rating_refusals(i), "");
  EXPECT_EQ(reply.rating_refusals(4), "worker w9 did no work on job job-1");
  EXPECT_EQ(reply.rating_refusals(5), "job_id: no job job-7");
  EXPECT_EQ(reply.rating_refusals(6), "worker w1 did no work on job job-2");
  EXPECT_EQ(reply.rating_refusals(7), "pay_fairness: expected 1 to 5, got 9");
  EXPECT_TRUE(reply.jobs().empty());  // four raters: not shown
  EXPECT_TRUE(reply.clients().empty());

  // Another centre cannot rate with nairobi's workers: its w4 is somebody else.
  v1::ShareVoiceRequest other;
  *other.add_ratings() = Rating("w4", "job-1", 5);
  EXPECT_EQ(Share("kisumu", other).rating_refusals(0), "worker w4 did no work on job job-1");

  // A fifth rater, w0 again (the same: a resend) and w1 changing theirs (refused: a rating is
  // given once): now the group shows.
  v1::ShareVoiceRequest more;
  *more.add_ratings() = Rating("w4", "job-1", 4);
  *more.add_ratings() = Rating("w0", "job-1", 2);
  *more.add_ratings() = Rating("w1", "job-1", 5);
  reply = Share("nairobi", more);
  EXPECT_EQ(reply.rating_refusals(1), "");
  EXPECT_EQ(reply.rating_refusals(2), "worker w1 rated job job-1 already");
  ASSERT_EQ(reply.jobs_size(), 1);
  EXPECT_EQ(reply.jobs(0).raters(), 5u);
  EXPECT_DOUBLE_EQ(reply.jobs(0).pay_fairness(), 2.4);  // (2 + 2 + 2 + 2 + 4) / 5
  ASSERT_EQ(reply.clients_size(), 1);
  EXPECT_EQ(reply.clients(0).client(), "acme");

  Reopen();
  v1::VoiceReport report = board_.Report("", kNow);
  ASSERT_EQ(report.jobs_size(), 1);
  EXPECT_EQ(report.jobs(0).raters(), 5u);
  // What is kept names no pseudonym.
  for (auto c = store_->Scan(storage::Cf::kMeta, storage::keys::RatingPrefix()); c->Valid();
       c->Next()) {
    v1::WorkRating kept;
    ASSERT_TRUE(c->Read(&kept).ok());
    EXPECT_EQ(kept.worker().substr(0, 1), "r");
    EXPECT_EQ(kept.worker().size(), 33u);
    EXPECT_EQ(kept.centre(), "nairobi");
  }
  EXPECT_TRUE(board_.Report("globex", kNow).jobs().empty());
  // Another centre's reply carries the client, not nairobi's jobs.
  v1::ShareVoiceReply elsewhere = Share("kisumu", v1::ShareVoiceRequest());
  EXPECT_TRUE(elsewhere.jobs().empty());
  EXPECT_EQ(elsewhere.clients_size(), 1);
}

TEST_F(VoiceBoardTest, AComplaintArrivesWithoutItsWorkerAndItsWordsOnlyOnceEscalated) {
  v1::ShareVoiceRequest r;
  v1::Complaint* quiet = r.add_complaints();
  quiet->set_id("1");
  quiet->set_topic(v1::COMPLAINT_PAY);
  quiet->set_filed_at_ms(kNow - 5 * 3'600'000);
  v1::Complaint* leaky = r.add_complaints();
  *leaky = *quiet;
  leaky->set_id("2");
  leaky->set_worker("w1");
  v1::Complaint* wordy = r.add_complaints();
  *wordy = *quiet;
  wordy->set_id("3");
  wordy->set_text("Not yet escalated");
  v1::Complaint* future = r.add_complaints();
  *future = *quiet;
  future->set_id("4");
  future->set_filed_at_ms(kNow + 2 * 86'400'000);
  v1::ShareVoiceReply reply = Share("nairobi", r);
  ASSERT_EQ(reply.complaint_refusals_size(), 4);
  EXPECT_EQ(reply.complaint_refusals(0), "");
  EXPECT_EQ(reply.complaint_refusals(1),
            "worker: a complaint leaves the centre without the worker");
  EXPECT_EQ(reply.complaint_refusals(2),
            "text: a complaint's words leave the centre only once it escalates");
  EXPECT_EQ(reply.complaint_refusals(3),
            "filed_at_ms: not a time this complaint could have been filed");
  v1::VoiceReport report = board_.Report("", kNow);
  ASSERT_EQ(report.complaints_size(), 1);
  EXPECT_EQ(report.complaints(0).centre(), "nairobi");
  EXPECT_EQ(report.complaints(0).text(), "");

  // The operator answers only one that escalated.
  v1::AnswerComplaintRequest answer;
  answer.set_centre("nairobi");
  answer.set_complaint_id("1");
  answer.set_answer("We will pay on Friday.");
  storage::Batch batch;
  EXPECT_EQ(board_.Answer(answer, "wanjiru", kNow, &batch).status().code(),
            absl::StatusCode::kFailedPrecondition);
  quiet->set_escalated(true);
  quiet->set_escalated_at_ms(kNow - 1000);
  quiet->set_text("Friday's pay did not arrive.");
  v1::ShareVoiceRequest escalated;
  *escalated.add_complaints() = *quiet;
  reply = Share("nairobi", escalated);
  EXPECT_EQ(reply.complaint_refusals(0), "");
  EXPECT_TRUE(reply.answered().empty());
  auto done = board_.Answer(answer, "wanjiru", kNow + 1, &batch);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->answered_by(), "operator:wanjiru");
  ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
  EXPECT_EQ(board_.Answer(answer, "wanjiru", kNow + 2, &batch).status().code(),
            absl::StatusCode::kFailedPrecondition);

  // The centre's next share (still unanswered on its side) keeps the operator's answer and gets
  // it back, until the centre reports it has it; another centre never sees it.
  Reopen();
  reply = Share("nairobi", escalated);
  ASSERT_EQ(reply.answered_size(), 1);
  EXPECT_EQ(reply.answered(0).id(), "1");
  EXPECT_EQ(reply.answered(0).answer(), "We will pay on Friday.");
  EXPECT_TRUE(Share("kisumu", v1::ShareVoiceRequest()).answered().empty());
  // A manager answered meanwhile, not knowing: the operator's answer stays until the centre
  // sends both back.
  v1::ShareVoiceRequest manager_too;
  *manager_too.add_complaints() = *quiet;
  manager_too.mutable_complaints(0)->set_answered(true);
  manager_too.mutable_complaints(0)->set_answer("Done today.");
  manager_too.mutable_complaints(0)->set_answered_by("halima");
  reply = Share("nairobi", manager_too);
  EXPECT_EQ(reply.complaint_refusals(0), "");
  ASSERT_EQ(reply.answered_size(), 1);
  EXPECT_EQ(board_.Report("", kNow).complaints(0).answered_by(), "operator:wanjiru");
  manager_too.mutable_complaints(0)->set_answer(
      "Done today.\n\noperator:wanjiru: We will pay on Friday.");
  reply = Share("nairobi", manager_too);
  EXPECT_TRUE(reply.answered().empty());
  EXPECT_EQ(board_.Report("", kNow).complaints(0).answered_by(), "halima");
  v1::ShareVoiceRequest has_it;
  *has_it.add_complaints() = *quiet;
  has_it.mutable_complaints(0)->set_answered(true);
  has_it.mutable_complaints(0)->set_answer("We will pay on Friday.");
  has_it.mutable_complaints(0)->set_answered_by("operator:wanjiru");
  reply = Share("nairobi", has_it);
  EXPECT_EQ(reply.complaint_refusals(0), "");
  EXPECT_TRUE(reply.answered().empty());
}

TEST_F(VoiceBoardTest, TooManyEntriesInOneCallChangeNothing) {
  v1::ShareVoiceRequest r;
  for (size_t i = 0; i <= voice::kMaxPerShare; ++i) *r.add_ratings() = Rating("w0", "job-1", 2);
  storage::Batch batch;
  auto reply = board_.Take("nairobi", r, kNow, facts_, &batch);
  EXPECT_EQ(reply.status().message(), "ratings: at most 500 in one call, got 501");
  EXPECT_TRUE(batch.Empty());
}

TEST_F(VoiceBoardTest, FlagsCountOnlyFromWorkersOfTheJobAndAreReportedWithoutThem) {
  v1::ShareVoiceRequest r;
  v1::TaskFlag* f = r.add_flags();
  f->set_task_id("job-1/label/3");
  f->set_kind(v1::FLAG_HARMFUL);
  f->set_note("Graphic injury photos");
  f->set_worker("w2");
  v1::TaskFlag* g = r.add_flags();
  *g = *f;
  g->set_worker("w9");
  v1::ShareVoiceReply reply = Share("nairobi", r);
  EXPECT_EQ(reply.flag_refusals(0), "");
  EXPECT_EQ(reply.flag_refusals(1), "worker w9 did no work on job job-1");
  v1::VoiceReport report = board_.Report("", kNow);
  ASSERT_EQ(report.flags_size(), 1);
  EXPECT_EQ(report.flags(0).task_id(), "job-1/label/3");
  EXPECT_EQ(report.flags(0).worker(), "");
  EXPECT_EQ(report.flags(0).centre(), "nairobi");
}

}  // namespace
}  // namespace mw::dispatch
