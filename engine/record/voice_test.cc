#include "engine/record/voice.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace mw::voice {
namespace {

v1::WorkRating Rating(const std::string& job, const std::string& worker, uint32_t clarity,
                      uint32_t time, uint32_t pay, const std::string& comment = "") {
  v1::WorkRating r;
  r.set_job_id(job);
  r.set_worker(worker);
  r.set_clarity(clarity);
  r.set_time_estimate(time);
  r.set_pay_fairness(pay);
  r.set_comment(comment);
  r.set_client("acme");
  return r;
}

TEST(VoiceTest, ARatingHasThreeScoresOfOneToFiveAndAShortComment) {
  EXPECT_TRUE(CheckRating(Rating("job-1", "w1", 1, 3, 5)).ok());
  EXPECT_EQ(CheckRating(Rating("job-1", "w1", 0, 3, 5)).message(),
            "clarity: expected 1 to 5, got 0");
  EXPECT_EQ(CheckRating(Rating("job-1", "w1", 2, 6, 5)).message(),
            "time_estimate: expected 1 to 5, got 6");
  EXPECT_EQ(CheckRating(Rating("", "w1", 2, 3, 5)).message(), "job_id: expected a job's id");
  EXPECT_EQ(CheckRating(Rating("job-1/x", "w1", 2, 3, 5)).message(), "job_id: expected a job's id");
  // 500 characters of Urdu (two bytes each) fit; 501 do not.
  std::string urdu;
  for (int i = 0; i < 500; ++i) urdu += "\xDA\xA9";  // U+06A9 (keheh)
  EXPECT_TRUE(CheckRating(Rating("job-1", "w1", 2, 3, 5, urdu)).ok());
  EXPECT_EQ(CheckRating(Rating("job-1", "w1", 2, 3, 5, urdu + "\xDA\xA9")).message(),
            "comment: at most 500 characters, got 501");
  EXPECT_EQ(CheckRating(Rating("job-1", "w1", 2, 3, 5, "bad \xC0\xAF")).message(),
            "comment: not valid UTF-8 text");
  EXPECT_EQ(CheckRating(Rating("job-1", "w1", 2, 3, 5, "ring \x07")).message(),
            "comment: a control character (code 7)");
}

TEST(VoiceTest, ComplaintsAndFlagsAreCheckedTheSameWay) {
  EXPECT_TRUE(CheckComplaint(v1::COMPLAINT_SAFETY, "The room has no fire exit.").ok());
  EXPECT_EQ(CheckComplaint(v1::COMPLAINT_PAY, "").message(), "text: empty");
  EXPECT_EQ(CheckComplaint(v1::COMPLAINT_TOPIC_UNSPECIFIED, "x").message(),
            "topic: expected pay, treatment, safety or data, got 0");
  v1::TaskFlag f;
  f.set_task_id("job-1/label/7");
  f.set_kind(v1::FLAG_HARMFUL);
  EXPECT_TRUE(CheckFlag(f).ok());
  f.set_kind(v1::FLAG_KIND_UNSPECIFIED);
  EXPECT_EQ(CheckFlag(f).message(), "kind: expected harmful or wrong, got 0");
  f.set_kind(v1::FLAG_WRONG);
  f.set_task_id("job-1");
  EXPECT_EQ(CheckFlag(f).message(), "task id \"job-1\": expected <job>/<stage>/<item>");
  EXPECT_EQ(Characters("a\xD8\xA7\xE2\x82\xAC\xF0\x9F\x98\x80"), 4);  // a, alef, euro, emoji
  EXPECT_EQ(Characters("\xED\xA0\x80"), -1);                          // a surrogate
  EXPECT_EQ(Characters("\xE0\x80\xAF"), -1);                          // overlong
}

TEST(VoiceTest, RatingsAreShownInWholeGroupsOfFiveInTheOrderGiven) {
  std::vector<v1::WorkRating> ratings;
  for (int i = 0; i < 4; ++i) {
    ratings.push_back(Rating("job-1", absl::StrCat("w", i), 4, 3, 2));
    ratings.back().set_rated_at_ms(i);
  }
  EXPECT_TRUE(Summarise(ratings, By::kJob).empty());
  EXPECT_TRUE(Summarise(ratings, By::kClient).empty());
  ratings.push_back(Rating("job-1", "w4", 5, 1, 1, "Too little time"));
  ratings.back().set_rated_at_ms(4);
  std::vector<v1::RatingSummary> jobs = Summarise(ratings, By::kJob);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].job_id(), "job-1");
  EXPECT_EQ(jobs[0].client(), "acme");
  EXPECT_EQ(jobs[0].raters(), 5u);
  EXPECT_DOUBLE_EQ(jobs[0].clarity(), 4.2);        // (4 + 4 + 4 + 4 + 5) / 5
  EXPECT_DOUBLE_EQ(jobs[0].time_estimate(), 2.6);  // (3 + 3 + 3 + 3 + 1) / 5
  EXPECT_DOUBLE_EQ(jobs[0].pay_fairness(), 1.8);
  ASSERT_EQ(jobs[0].comments_size(), 1);
  EXPECT_EQ(jobs[0].comments(0), "Too little time");

  // Four more raters change nothing (one of them could be picked out); a fifth shows all ten.
  for (int i = 5; i < 9; ++i) {
    ratings.push_back(Rating("job-1", absl::StrCat("w", i), 1, 1, 5, absl::StrCat("late ", i)));
    ratings.back().set_rated_at_ms(i);
  }
  ASSERT_EQ(Summarise(ratings, By::kJob).size(), 1u);
  EXPECT_EQ(Summarise(ratings, By::kJob)[0].DebugString(), jobs[0].DebugString());
  ratings.push_back(Rating("job-1", "w9", 1, 1, 5));
  ratings.back().set_rated_at_ms(9);
  EXPECT_EQ(Summarise(ratings, By::kJob)[0].raters(), 10u);
  EXPECT_DOUBLE_EQ(Summarise(ratings, By::kJob)[0].clarity(), 2.6);  // (4 * 4 + 5 + 5 * 1) / 10
  EXPECT_EQ(Summarise(ratings, By::kJob)[0].comments_size(), 5);

  // A job of the same client with one rater adds nothing to the client's summary.
  ratings.push_back(Rating("job-2", "w0", 1, 1, 1, "Another job"));
  std::vector<v1::RatingSummary> clients = Summarise(ratings, By::kClient);
  ASSERT_EQ(clients.size(), 1u);
  EXPECT_EQ(clients[0].job_id(), "");
  EXPECT_EQ(clients[0].raters(), 10u);
  EXPECT_DOUBLE_EQ(clients[0].clarity(), 2.6);
  for (const auto& c : clients[0].comments()) EXPECT_NE(c, "Another job");
  EXPECT_EQ(clients[0].comments(0), "Too little time");  // sorted, not in the order given
}

}  // namespace
}  // namespace mw::voice
