// A centre manager decides a low-confidence result on the centre's own page, through the real
// binaries: mw-dispatcher; mw-agent for centre alpha (one always-right simulated worker, and the
// manager's page); and centre beta played by this test over CentreService, whose worker answers
// the other way. The 1-1 vote at the overlap cap goes to review; the manager sees it on alpha's
// page, decides it with a reason naming a person of the centre, and the dispatcher's output, the
// review queue and the reviewer's statement all say so.
#include <httplib.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/media/test_media.h"
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

  // Starts alpha's agent with `sim_workers` simulated workers always right by `truth`, and its
  // page; returns the page's host:port.
  std::string StartAlpha(const std::string& truth) {
    std::ofstream(dir_.Sub("truth.csv")) << truth;
    std::ofstream(dir_.Sub("manager.code")) << "manager-2207\n";
    agent_ = std::make_unique<Subprocess>(
        std::vector<std::string>{kBin + "/mw-agent", "--dispatcher", server_, "--credential-file",
                                 dir_.Sub("alpha.cred"), "--data-dir", dir_.Sub("agent"),
                                 "--sim-workers", "1", "--sim-accuracy", "1.0", "--sim-truth",
                                 dir_.Sub("truth.csv"), "--sim-time-scale", "0", "--web-listen",
                                 "127.0.0.1:0", "--manager-code-file", dir_.Sub("manager.code")},
        dir_.Sub("agent.log"));
    return testing::ReadyField(agent_->ReadLineContaining("mw-agent ready"), "web");
  }

  // Signs the manager in on `page` as a browser does (the sign-in page sets its cookie and puts
  // the same token in its form); the session's cookie header, and its form token.
  httplib::Headers SignIn(httplib::Client& page, std::string* form_token) {
    auto signin_page = page.Get("/signin");
    EXPECT_TRUE(signin_page);
    if (!signin_page) return {};
    std::string signin_cookie = signin_page->get_header_value("Set-Cookie");
    signin_cookie = signin_cookie.substr(0, signin_cookie.find(';'));
    auto signin = page.Post(
        "/signin", httplib::Headers{{"Cookie", signin_cookie}},
        httplib::Params{{"code", "manager-2207"},
                        {"form_token", signin_cookie.substr(signin_cookie.find('=') + 1)}});
    EXPECT_TRUE(signin && signin->status == 303);
    if (!signin) return {};
    const std::string cookie = signin->get_header_value("Set-Cookie")
                                   .substr(0, signin->get_header_value("Set-Cookie").find(';'));
    const httplib::Headers headers = {{"Cookie", cookie}};
    auto first = page.Get("/manage", headers);
    std::smatch token;
    EXPECT_TRUE(first &&
                std::regex_search(first->body, token,
                                  std::regex("name=\"form_token\" value=\"([0-9a-f]{64})\"")));
    if (token.size() > 1) *form_token = token[1];
    return headers;
  }

  // Adds a worker named `name` on the manager's page; their pseudonym.
  std::string AddWorker(httplib::Client& page, const httplib::Headers& headers,
                        const std::string& form_token, const std::string& name) {
    auto added =
        page.Post("/manage/add", headers,
                  httplib::Params{{"name", name}, {"languages", "en"}, {"form_token", form_token}});
    EXPECT_TRUE(added && added->status == 200);
    std::smatch m;
    if (!added || !std::regex_search(added->body, m,
                                     std::regex("<option value=\"([^\"]+)\">" + name + "<"))) {
      return "";
    }
    return m[1];
  }

  // Beta's worker b1 takes one task and answers it with `answer`.
  void BetaAnswers(const v1::Answer& answer) {
    auto channel = *rpc::MakeChannel({.target = server_});
    auto beta = v1::CentreService::NewStub(channel);
    const std::string beta_cred = Read(dir_.Sub("beta.cred"));
    v1::RegisterRequest reg;
    reg.add_workers()->set_worker("b1");
    reg.mutable_workers(0)->add_languages("en");
    v1::RegisterReply registered;
    ASSERT_TRUE(
        beta->Register(rpc::MakeContext(beta_cred, absl::Seconds(20)).get(), reg, &registered)
            .ok());
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
    *r->mutable_answer() = answer;
    r->set_active_seconds(20);
    v1::SubmitResultsReply receipts;
    ASSERT_TRUE(
        beta->SubmitResults(rpc::MakeContext(beta_cred, absl::Seconds(20)).get(), submit, &receipts)
            .ok());
  }

  void AddCentres() {
    for (const char* id : {"alpha", "beta"}) {
      ASSERT_EQ(
          Mw({"centre", "add", "--id", id, "--region", "KE", "--currency", "USD", "--floor-minor",
              "150", "--credential-out", dir_.Sub(absl::StrCat(id, ".cred"))})
              .exit_code,
          0);
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<Subprocess> dispatcher_, agent_;
  std::string server_;
};

TEST_F(ManagerReviewTest, TheManagerDecidesADoubtfulResultOnTheCentresPage) {
  AddCentres();
  std::ofstream(dir_.Sub("contract.yaml")) << kContract;
  ASSERT_EQ(Mw({"contract", "submit", dir_.Sub("contract.yaml")}).exit_code, 0);

  // Beta's worker takes one of the two answers and says "negative".
  v1::Answer negative;
  negative.set_choice("negative");
  BetaAnswers(negative);

  // Alpha's simulated worker gives the other answer ("positive", the truth); the job ends with
  // the item in review.
  const std::string web = StartAlpha("id,label\nr1,positive\n");
  ASSERT_FALSE(web.empty());
  ASSERT_EQ(Mw({"job", "watch", "job-1", "--every", "3600"}).exit_code, 0);
  CommandResult queue = Mw({"review", "list"});
  ASSERT_THAT(queue.out, HasSubstr("job-1/label/0  confidence 0.50"));

  // The manager signs in, adds Amina, and finds the review on the page.
  httplib::Client page(web.substr(0, web.rfind(':')), std::stoi(web.substr(web.rfind(':') + 1)));
  std::string form_token;
  const httplib::Headers headers = SignIn(page, &form_token);
  ASSERT_FALSE(form_token.empty());
  const std::string amina = AddWorker(page, headers, form_token, "Amina");
  ASSERT_FALSE(amina.empty());
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

constexpr char kShapesContract[] = R"(
name: One doubtful photo
client: acme
currency: USD
budget_minor: 1000
inputs:
  - {name: photos, format: FORMAT_CSV, path: photos.csv, media_folder: streets,
     media: [{field: photo, kind: MEDIA_IMAGE}]}
stages:
  - name: rows
    split: {input: photos, by: SPLIT_ROWS}
  - name: cars
    after: [rows]
    human:
      instructions: {en: "Box every car."}
      answer: {shapes: {field: photo, kind: SHAPE_BOX, labels: [car]}}
      piece_rate_minor: 5
      estimated_seconds: 30
      overlap: 2
      qa: {confidence_target: 0.9, max_overlap: 2}
      show_fields: [id]
  - name: result
    after: [cars]
    merge: {}
)";

// A photo whose two boxes disagree: the manager sees the photo on the centre's page (fetched
// for them, though no worker holds the task any more), draws the box, and the dispatcher takes
// it. A file that no open review names is not served.
TEST_F(ManagerReviewTest, TheManagerDecidesDoubtfulShapesByDrawingOnThePhoto) {
  AddCentres();
  std::filesystem::create_directories(dir_.Sub("streets"));
  std::ofstream(dir_.Sub("streets/s1.png"), std::ios::binary) << media::TestImage(640, 480, "png");
  std::ofstream(dir_.Sub("photos.csv")) << "id,photo\np1,s1.png\n";
  std::ofstream(dir_.Sub("contract.yaml")) << kShapesContract;
  ASSERT_EQ(Mw({"contract", "submit", dir_.Sub("contract.yaml")}).exit_code, 0);
  v1::Answer wrong;
  wrong.mutable_shapes()->set_field("photo");
  v1::Shape* box = wrong.mutable_shapes()->add_shapes();
  box->set_label("car");
  box->set_x0(10);
  box->set_y0(10);
  box->set_x1(100);
  box->set_y1(100);
  BetaAnswers(wrong);
  const std::string web = StartAlpha("id,cars\np1,\"car:300,200,500,400\"\n");
  ASSERT_FALSE(web.empty());
  ASSERT_EQ(Mw({"job", "watch", "job-1", "--every", "3600"}).exit_code, 0);
  ASSERT_THAT(Mw({"review", "list"}).out, HasSubstr("job-1/cars/0  confidence "));

  httplib::Client page(web.substr(0, web.rfind(':')), std::stoi(web.substr(web.rfind(':') + 1)));
  std::string form_token;
  const httplib::Headers headers = SignIn(page, &form_token);
  ASSERT_FALSE(form_token.empty());
  const std::string amina = AddWorker(page, headers, form_token, "Amina");
  auto manage = page.Get("/manage", headers);
  ASSERT_TRUE(manage);
  std::smatch photo;
  ASSERT_TRUE(
      std::regex_search(manage->body, photo,
                        std::regex("<img src=\"/manage/media/([0-9a-f]{64})\" width=\"640\" "
                                   "height=\"480\" alt=\"s1.png\">")))
      << manage->body;
  EXPECT_THAT(manage->body, HasSubstr("<div class=\"shapes\" data-kind=\"box\" data-w=\"640\" "
                                      "data-h=\"480\""));
  EXPECT_THAT(manage->body, HasSubstr("b1: <i>car:10,10,100,100</i>"));
  const std::string sha = photo[1];
  auto image = page.Get("/manage/media/" + sha, headers);
  ASSERT_TRUE(image);
  EXPECT_EQ(image->status, 200);
  EXPECT_EQ(image->get_header_value("Content-Type"), "image/jpeg");
  EXPECT_EQ(image->body.substr(0, 3), "\xff\xd8\xff");
  auto other = page.Get("/manage/media/" + std::string(64, 'a'), headers);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  EXPECT_EQ(other->body, "Not a file of a review open here.");
  // A worker's media route does not open it either.
  auto as_worker = page.Get("/media/" + sha, headers);
  ASSERT_TRUE(as_worker);
  EXPECT_NE(as_worker->status, 200);

  auto decided = page.Post("/manage/review", headers,
                           httplib::Params{{"task", "job-1/cars/0"},
                                           {"shapes", "car:305,198,502,401"},
                                           {"reviewer", amina},
                                           {"reason", "the car is on the right"},
                                           {"form_token", form_token}});
  ASSERT_TRUE(decided);
  ASSERT_EQ(decided->status, 200) << decided->body;
  EXPECT_THAT(decided->body, HasSubstr("Decided."));
  EXPECT_THAT(Mw({"review", "list", "--all"}).out,
              HasSubstr(absl::StrCat("decided \"car:305,198,502,401\" by alpha/", amina)));
  // Decided, the file is no longer one a review names.
  auto after = page.Get("/manage/media/" + sha, headers);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 404);
}

}  // namespace
}  // namespace mw
