// The workers' voice through the real dispatcher and mw: a centre (played here over
// CentreService) shares its workers' ratings and complaints; the operator sees ratings only once
// five workers who did the job rated it, sees an escalated complaint's words and answers it with
// mw, and the answer comes back to the centre.
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "microwork/v1/services.grpc.pb.h"
#include "testing/temp_dir.h"
#include "tests/e2e/one_centre.h"

namespace mw {
namespace {

namespace v1 = ::microwork::v1;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kContract[] = R"(
name: Six reviews
client: acme
currency: USD
budget_minor: 1000
inputs:
  - {name: reviews, format: FORMAT_CSV, inline_text: "id,text\nr1,A\nr2,B\nr3,C\nr4,D\nr5,E\nr6,F\n"}
stages:
  - name: rows
    split: {input: reviews, by: SPLIT_ROWS}
  - name: label
    after: [rows]
    human:
      instructions: {en: "Positive or negative?"}
      answer: {single_choice: {options: [positive, negative]}}
      piece_rate_minor: 5
      estimated_seconds: 20
      overlap: 1
  - name: result
    after: [label]
    merge: {}
)";

v1::WorkRating Rating(const std::string& worker, uint32_t pay, const std::string& comment = "") {
  v1::WorkRating r;
  r.set_job_id("job-1");
  r.set_worker(worker);
  r.set_clarity(4);
  r.set_time_estimate(3);
  r.set_pay_fairness(pay);
  r.set_comment(comment);
  return r;
}

TEST(VoiceE2eTest, RatingsShowFromFiveWorkersAndAnEscalatedComplaintIsAnsweredByTheOperator) {
  testing::TempDir dir;
  e2e::OneCentre d(&dir, "alpha", {"--currency", "USD", "--floor-minor", "150"}, kContract);
  ASSERT_TRUE(d.ok());
  for (int i = 1; i <= 5; ++i) d.Answer(absl::StrCat("w", i), 1, "positive");

  auto share = [&](const v1::ShareVoiceRequest& r) {
    v1::ShareVoiceReply reply;
    grpc::Status s = d.centre().ShareVoice(d.Ctx().get(), r, &reply);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return reply;
  };
  v1::ShareVoiceRequest four;
  for (int i = 1; i <= 4; ++i) *four.add_ratings() = Rating(absl::StrCat("w", i), 2);
  *four.add_ratings() = Rating("w6", 1);  // did no work on the job
  v1::ShareVoiceReply reply = share(four);
  ASSERT_EQ(reply.rating_refusals_size(), 5);
  EXPECT_EQ(reply.rating_refusals(3), "");
  EXPECT_EQ(reply.rating_refusals(4), "worker w6 did no work on job job-1");
  testing::CommandResult voice = d.Mw({"voice"});
  ASSERT_EQ(voice.exit_code, 0) << voice.err;
  EXPECT_THAT(voice.out, HasSubstr("Ratings by jobs:\n  none yet\n"));

  v1::ShareVoiceRequest fifth;
  *fifth.add_ratings() = Rating("w5", 5, "Fair pay for the time");
  reply = share(fifth);
  ASSERT_EQ(reply.jobs_size(), 1);
  EXPECT_EQ(reply.clients(0).client(), "acme");
  voice = d.Mw({"voice"});
  EXPECT_THAT(voice.out, HasSubstr("  job-1 (acme)  raters 5  clarity 4.0  time 3.0  pay 2.6\n"
                                   "      \"Fair pay for the time\"\n"));
  EXPECT_THAT(voice.out, HasSubstr("  acme  raters 5  clarity 4.0  time 3.0  pay 2.6\n"));
  EXPECT_THAT(d.Mw({"voice", "--client", "globex"}).out, HasSubstr("Ratings by jobs:\n  none yet"));

  // A complaint: first its topic and age only; once escalated, its words, which the operator
  // answers; the centre gets the answer until it says it has it.
  v1::ShareVoiceRequest complaint;
  v1::Complaint* c = complaint.add_complaints();
  c->set_id("1");
  c->set_topic(v1::COMPLAINT_SAFETY);
  c->set_filed_at_ms(1'700'000'000'000);
  share(complaint);
  voice = d.Mw({"voice"});
  EXPECT_THAT(voice.out, HasSubstr("Complaints (1 open of 1):\n  alpha #1  safety  open "));
  EXPECT_NE(
      d.Mw({"complaint", "answer", "--centre", "alpha", "--id", "1", "--text", "x"}).exit_code,
      0);  // not escalated: the centre answers first
  c->set_escalated(true);
  c->set_escalated_at_ms(1'700'300'000'000);
  c->set_text("The fire exit is locked.");
  share(complaint);
  voice = d.Mw({"voice"});
  EXPECT_THAT(voice.out, HasSubstr("escalated\n      \"The fire exit is locked.\"\n"));
  testing::CommandResult answered =
      d.Mw({"complaint", "answer", "--centre", "alpha", "--id", "1", "--text", "Unlocked today."});
  ASSERT_EQ(answered.exit_code, 0) << answered.err;
  EXPECT_THAT(answered.out, HasSubstr("Complaint alpha #1 answered by operator:operator"));
  reply = share(v1::ShareVoiceRequest());
  ASSERT_EQ(reply.answered_size(), 1);
  EXPECT_EQ(reply.answered(0).answer(), "Unlocked today.");
  c->set_answered(true);
  c->set_answer("Unlocked today.");
  c->set_answered_by("operator:operator");
  EXPECT_TRUE(share(complaint).answered().empty());
  voice = d.Mw({"voice"});
  EXPECT_THAT(voice.out, HasSubstr("Complaints (0 open of 1)"));
  EXPECT_THAT(voice.out, Not(HasSubstr("w1")));  // no pseudonym anywhere
}

}  // namespace
}  // namespace mw
