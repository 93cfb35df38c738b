// A centre manager decides a low-confidence result on the centre's own page, through the real
// binaries: mw-dispatcher; mw-agent for centre alpha (one always-right simulated worker, and the
// manager's page); and centre beta played by this test over CentreService, whose worker answers
// the other way. The 1-1 vote at the overlap cap goes to review; the manager sees it on alpha's
// page, decides it with a reason naming a person of the centre, and the dispatcher's output, the
// review queue and the reviewer's statement all say so.
#include <httplib.h>
#include <signal.h>

#include <fstream>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "microwork/v1/services.grpc.pb.h"
#include "proto/rpc/channel.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace mw {
namespace {

namespace v1 = ::microwork::v1;
using testing::CommandResult;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Subprocess;

const std::string kBin = MW_BIN_DIR;

constexpr char kContract[] = R"(
name: One doubtful review
client: acme
currency: USD
budget_minor: 1000
inputs:
  - {name: reviews, format: FORMAT_CSV, inline_text: "id,text\nr1,It works I suppose\n"}
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
      overlap: 2
      qa: {method: MAJORITY_VOTE, confidence_target: 0.9, max_overlap: 2}
      show_fields: [text]
  - name: result
    after: [label]
    merge: {}
)";

class ManagerReviewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dispatcher_ = std::make_unique<Subprocess>(
        std::vector<std::string>{kBin + "/mw-dispatcher", "--data-dir", dir_.Sub("d"), "--listen",
                                 "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"},
        dir_.Sub("d.log"));
    server_ = testing::ReadyField(dispatcher_->ReadLineContaining("mw-dispatcher ready"), "grpc");
    ASSERT_FALSE(server_.empty());
  }

  void TearDown() override {
    if (agent_) {
      agent_->Signal(SIGTERM);
      EXPECT_EQ(agent_->Wait(), 0);
    }
    dispatcher_->Signal(SIGTERM);
    EXPECT_EQ(dispatcher_->Wait(), 0);
  }

  CommandResult Mw(std::vector<std::string> args) {
    std::vector<std::string> argv = {kBin + "/mw", "--server", server_, "--token-file",
                                     dir_.Sub("d/operator.token")};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::Run(argv);
  }

  std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return std::string(absl::StripAsciiWhitespace(text));
  }

  testing::TempDir dir_;
  std::unique_ptr<Subprocess> dispatcher_, agent_;
  std::string server_;
};

TEST_F(ManagerReviewTest, TheManagerDecidesADoubtfulResultOnTheCentresPage) {
  for (const char* id : {"alpha", "beta"}) {
    ASSERT_EQ(Mw({"centre", "add", "--id", id, "--region", "KE", "--currency", "USD",
                  "--floor-minor", "150", "--credential-out", dir_.Sub(absl::StrCat(id, ".cred"))})
                  .exit_code,
              0);
  }
  std::ofstream(dir_.Sub("contract.yaml")) << kContract;
  ASSERT_EQ(Mw({"contract", "submit", dir_.Sub("contract.yaml")}).exit_code, 0);

  // Beta's worker takes one of the two answers and says "negative".
  auto channel = *rpc::MakeChannel({.target = server_});
  auto beta = v1::CentreService::NewStub(channel);
  const std::string beta_cred = Read(dir_.Sub("beta.cred"));
  v1::RegisterRequest reg;
  reg.add_workers()->set_worker("b1");
  reg.mutable_workers(0)->add_languages("en");
  v1::RegisterReply registered;
  ASSERT_TRUE(
      beta->Register(rpc::MakeContext(beta_cred, absl::Seconds(20)).get(), reg, &registered).ok());
  v1::LeaseRequest lease;
  lease.set_idempotency_key("b1-lease");
  lease.add_credits()->set_worker("b1");
  lease.mutable_credits(0)->set_count(1);
  v1::LeaseReply leased;
  ASSERT_TRUE(
      beta->Lease(rpc::MakeContext(beta_cred, absl::Seconds(20)).get(), lease, &leased).ok());
  ASSERT_EQ(leased.assignments_size(), 1);
  v1::SubmitResultsRequest submit;
  v1::Result* r = submit.add_results();
  r->set_result_id("b1-r1");
  r->set_assignment_id(leased.assignments(0).assignment_id());
  r->set_epoch(leased.assignments(0).epoch());
  r->set_worker("b1");
  r->mutable_answer()->set_choice("negative");
  r->set_active_seconds(20);
  v1::SubmitResultsReply receipts;
  ASSERT_TRUE(
      beta->SubmitResults(rpc::MakeContext(beta_cred, absl::Seconds(20)).get(), submit, &receipts)
          .ok());

  // Alpha's simulated worker gives the other answer ("positive", the truth); the job ends with
  // the item in review.
  std::ofstream(dir_.Sub("truth.csv")) << "id,label\nr1,positive\n";
  std::ofstream(dir_.Sub("manager.code")) << "manager-2207\n";
  agent_ = std::make_unique<Subprocess>(
      std::vector<std::string>{kBin + "/mw-agent", "--dispatcher", server_, "--credential-file",
                               dir_.Sub("alpha.cred"), "--data-dir", dir_.Sub("agent"),
                               "--sim-workers", "1", "--sim-accuracy", "1.0", "--sim-truth",
                               dir_.Sub("truth.csv"), "--sim-time-scale", "0", "--web-listen",
                               "127.0.0.1:0", "--manager-code-file", dir_.Sub("manager.code")},
      dir_.Sub("agent.log"));
  const std::string web = testing::ReadyField(agent_->ReadLineContaining("mw-agent ready"), "web");
  ASSERT_FALSE(web.empty());
  ASSERT_EQ(Mw({"job", "watch", "job-1", "--every", "3600"}).exit_code, 0);
  CommandResult queue = Mw({"review", "list"});
  ASSERT_THAT(queue.out, HasSubstr("job-1/label/0  confidence 0.50"));

  // The manager signs in, adds Amina, and finds the review on the page.
  httplib::Client page(web.substr(0, web.rfind(':')), std::stoi(web.substr(web.rfind(':') + 1)));
  // As a browser does: the sign-in page sets its cookie and puts the same token in its form.
  auto signin_page = page.Get("/signin");
  ASSERT_TRUE(signin_page);
  std::string signin_cookie = signin_page->get_header_value("Set-Cookie");
  signin_cookie = signin_cookie.substr(0, signin_cookie.find(';'));
  auto signin =
      page.Post("/signin", httplib::Headers{{"Cookie", signin_cookie}},
                httplib::Params{{"code", "manager-2207"},
                                {"form_token", signin_cookie.substr(signin_cookie.find('=') + 1)}});
  ASSERT_TRUE(signin);
  ASSERT_EQ(signin->status, 303);
  const std::string cookie = signin->get_header_value("Set-Cookie")
                                 .substr(0, signin->get_header_value("Set-Cookie").find(';'));
  const httplib::Headers headers = {{"Cookie", cookie}};
  // Every form carries the session's form token, as the browser would send it.
  auto first = page.Get("/manage", headers);
  ASSERT_TRUE(first);
  std::smatch token;
  ASSERT_TRUE(std::regex_search(first->body, token,
                                std::regex("name=\"form_token\" value=\"([0-9a-f]{64})\"")));
  const std::string form_token = token[1];
  auto added = page.Post(
      "/manage/add", headers,
      httplib::Params{{"name", "Amina"}, {"languages", "en"}, {"form_token", form_token}});
  ASSERT_TRUE(added);
  ASSERT_EQ(added->status, 200);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(added->body, m, std::regex("<option value=\"([^\"]+)\">Amina<")));
  const std::string amina = m[1];
  auto before = page.Get("/manage", headers);
  ASSERT_TRUE(before);
  EXPECT_THAT(before->body, HasSubstr("<b>job-1/label/0</b> &middot; agreement 50%"));
  EXPECT_THAT(before->body, HasSubstr("It works I suppose"));
  EXPECT_THAT(before->body, HasSubstr("b1: <i>negative</i>"));

  // Decided with a reason: the dispatcher takes it, and Amina is paid for the review.
  auto decided = page.Post("/manage/review", headers,
                           httplib::Params{{"task", "job-1/label/0"},
                                           {"choice", "positive"},
                                           {"reviewer", amina},
                                           {"reason", "it works: mild praise"},
                                           {"form_token", form_token}});
  ASSERT_TRUE(decided);
  ASSERT_EQ(decided->status, 200) << decided->body;
  EXPECT_THAT(decided->body, HasSubstr("Decided."));
  EXPECT_THAT(decided->body, HasSubstr("No results are waiting for review."));
  EXPECT_THAT(Mw({"review", "list", "--all"}).out,
              HasSubstr(absl::StrCat("decided \"positive\" by alpha/", amina)));
  ASSERT_EQ(Mw({"results", "export", "job-1", "--out", dir_.Sub("out.csv")}).exit_code, 0);
  EXPECT_THAT(Read(dir_.Sub("out.csv")), HasSubstr("r1,It works I suppose,positive"));
  EXPECT_THAT(Mw({"statement", "--worker", absl::StrCat("worker:alpha/", amina)}).out,
              HasSubstr("0.05 USD"));

  // A second decision of the same task is refused and changes nothing.
  auto again = page.Post("/manage/review", headers,
                         httplib::Params{{"task", "job-1/label/0"},
                                         {"choice", "negative"},
                                         {"reviewer", amina},
                                         {"reason", "second thoughts"},
                                         {"form_token", form_token}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 400);
  EXPECT_THAT(again->body, HasSubstr("task job-1/label/0 is not waiting for review"));
  EXPECT_THAT(Mw({"review", "list", "--all"}).out, Not(HasSubstr("second thoughts")));
}

}  // namespace
}  // namespace mw
