// The workers' and manager's pages over real HTTP on loopback, against a real AgentState in a
// temp directory. The dispatcher side (on duty, disputes) is the Hooks seam, recorded here; the
// browser test in tests/browser drives the whole thing against real binaries.
#include "worker-agent/web/web_server.h"

#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "engine/common/sha256.h"
#include "engine/media/inspect.h"
#include "engine/media/test_media.h"
#include "engine/record/work_record.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"
#include "worker-agent/web/html.h"

namespace mw::agent::web {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kManagerCode[] = "manager-secret-1";
constexpr size_t kPageBudget = 50 * 1024;

class WebServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = std::move(centre::AgentState::Open(dir_.Sub("db"), &clock_).value());
    Hooks hooks;
    hooks.set_on_duty = [this](const std::string& w, bool on) {
      on_duty_calls_.push_back(absl::StrCat(w, on ? "+" : "-"));
    };
    hooks.answer_saved = [this] { ++answers_saved_; };
    hooks.roster_changed = [this] { ++roster_changes_; };
    hooks.online = [this] { return online_; };
    hooks.withholdings = [this]() -> absl::StatusOr<std::vector<v1::Withholding>> {
      if (!online_) return absl::UnavailableError("offline");
      return withholdings_;
    };
    hooks.dispute = [this](const v1::DisputeWithholdingRequest& r) {
      disputes_.push_back(r);
      return absl::OkStatus();
    };
    hooks.withhold = [this](const v1::WithholdWageRequest& r) -> absl::StatusOr<v1::Withholding> {
      withheld_.push_back(r);
      v1::Withholding w;
      w.set_assignment_id(r.assignment_id());
      w.set_decided_by(r.decided_by());
      return w;
    };
    hooks.resolve = [this](const v1::ResolveDisputeRequest& r) {
      resolutions_.push_back(r);
      return absl::OkStatus();
    };
    hooks.reassign = [this](const v1::ReassignRequest& r) -> absl::StatusOr<v1::ReassignReply> {
      reassigns_.push_back(r);
      // What the dispatcher gives back: the same task, the new worker, the next epoch.
      v1::ReassignReply reply;
      v1::Assignment* a = reply.mutable_assignment();
      a->set_task_id(r.assignment_id().substr(0, r.assignment_id().find('@')));
      a->set_assignment_id(absl::StrCat(a->task_id(), "@", r.to_worker()));
      a->set_job_id("job-1");
      a->set_stage("label");
      a->set_worker(r.to_worker());
      a->set_epoch(3);
      reply.mutable_spec()->set_job_id("job-1");
      reply.mutable_spec()->set_stage("label");
      return reply;
    };
    hooks.reviews = [this]() -> absl::StatusOr<v1::ListReviewsReply> {
      if (!online_) return absl::UnavailableError("offline");
      return reviews_;
    };
    hooks.decide_review = [this](const v1::DecideReviewRequest& r) -> absl::StatusOr<v1::Review> {
      decisions_.push_back(r);
      v1::Review done = reviews_.reviews(0);
      done.set_decided(true);
      done.set_label(r.label());
      done.set_reviewer(absl::StrCat("nairobi/", r.reviewer()));
      return done;
    };
    // The dispatcher's half as it issues it (real keys), attested by this centre's key.
    hooks.work_record = [this](const std::string& worker,
                               std::optional<std::string> name) -> absl::StatusOr<std::string> {
      if (!online_) return absl::UnavailableError("offline");
      record::WorkFacts facts;
      facts.centre = "nairobi";
      facts.worker = worker;
      facts.answers = 3;
      return record::Attest(record::IssueDispatcherHalf(facts, centre_key_.public_key(),
                                                        absl::UnixEpoch(), installation_key_),
                            std::move(name), absl::UnixEpoch(), centre_key_);
    };
    hooks.payout = [this](const std::string& id) -> absl::StatusOr<v1::PayoutBatch> {
      if (id != payout_.id()) return absl::NotFoundError(absl::StrCat("no payout ", id));
      return payout_;
    };
    hooks.settle_payout =
        [this](const v1::SettlePayoutRequest& r) -> absl::StatusOr<v1::PayoutBatch> {
      settlements_.push_back(r);
      return payout_;
    };
    hooks_ = hooks;
    Restart({.listen = "127.0.0.1:0", .manager_code = kManagerCode});
  }

  void Restart(WebServer::Options options) {
    web_.reset();
    auto web = WebServer::Start(state_.get(), &clock_, hooks_, options);
    ASSERT_TRUE(web.ok()) << web.status();
    web_ = std::move(*web);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", web_->port());
  }

  // Starts, answers and saves the worker's next task after `seconds` on it.
  void DoTask(const std::string& cookie, const std::string& aid, int seconds) {
    ASSERT_EQ(Post("/task/start", cookie, {{"aid", aid}})->status, 303);
    clock_.AdvanceMs(int64_t{seconds} * 1000);
    auto saved = Post("/task/answer", cookie,
                      {{"aid", aid}, {"epoch", "2"}, {"choice", "positive"}, {"hidden_ms", "0"}});
    ASSERT_EQ(saved->status, 303);
    ASSERT_THAT(saved->get_header_value("Location"), HasSubstr("notice=saved"));
  }

  // A worker on the roster with a sign-in code, and one assignment held for them.
  std::string AddWorker(const std::string& name, std::string* code) {
    v1::RosterEntry e;
    e.set_name(name);
    e.set_contact("+254 700 000 000");
    e.add_languages("en");
    e.add_languages("sw");
    auto added = state_->AddWorker(e);
    EXPECT_TRUE(added.ok());
    *code = state_->IssueSignInCode(added->pseudonym()).value();
    return added->pseudonym();
  }

  void Hold(const std::string& worker, int item, v1::AnswerSchema schema, bool distressing = false,
            const std::vector<v1::Field>& more = {}) {
    v1::LeaseReply r;
    const std::string stage = distressing ? "moderate" : "label";  // one spec per stage
    v1::Assignment* a = r.add_assignments();
    a->set_task_id(absl::StrCat("job-1/", stage, "/", item));
    a->set_assignment_id(absl::StrCat(a->task_id(), "@", worker));
    a->set_job_id("job-1");
    a->set_stage(stage);
    a->set_worker(worker);
    a->set_epoch(2);
    a->set_piece_rate_minor(5);
    a->set_currency("USD");
    a->set_lease_expires_at_ms(clock_.NowMs() + 600'000 + item);
    v1::Field* f = a->mutable_item()->add_fields();
    f->set_name("text");
    f->set_value("great <b>phone</b>");
    for (const v1::Field& m : more) *a->mutable_item()->add_fields() = m;
    v1::StageSpec* s = r.add_specs();
    s->set_job_id("job-1");
    s->set_stage(stage);
    s->set_currency("USD");
    v1::HumanStage* h = s->mutable_human();
    (*h->mutable_instructions())["en"] = "Is the review positive or negative?";
    (*h->mutable_instructions())["sw"] = "Je, maoni ni mazuri au mabaya?";
    *h->mutable_answer() = schema;
    h->set_piece_rate_minor(5);
    h->set_estimated_seconds(20);
    h->set_distressing(distressing);
    ASSERT_TRUE(state_->SaveLease(r).ok());
  }

  static v1::AnswerSchema Choice() {
    v1::AnswerSchema s;
    s.mutable_single_choice()->add_options("positive");
    s.mutable_single_choice()->add_options("negative");
    return s;
  }

  // Opens the sign-in page as a browser does and sends its form with `code` (and the page's
  // cookie and form token).
  httplib::Result PostSignIn(const std::string& code) {
    auto page = client_->Get("/signin");
    EXPECT_TRUE(page);
    if (!page) return page;
    std::string cookie = page->get_header_value("Set-Cookie");
    cookie = cookie.substr(0, cookie.find(';'));
    const std::string token = cookie.substr(cookie.find('=') + 1);
    EXPECT_THAT(page->body, HasSubstr(absl::StrCat("value=\"", token, "\"")));
    return client_->Post("/signin", httplib::Headers{{"Cookie", cookie}},
                         httplib::Params{{"code", code}, {WebServer::kFormTokenField, token}});
  }

  // Signs in; returns the session cookie ("mw_session=...").
  std::string SignIn(const std::string& code) {
    auto res = PostSignIn(code);
    EXPECT_TRUE(res);
    if (!res) return "";
    EXPECT_EQ(res->status, 303);
    std::string cookie = res->get_header_value("Set-Cookie");
    return cookie.substr(0, cookie.find(';'));
  }

  // Signs in as the manager `name`, whom the installation's manager adds on the page, once
  // they chose their own code; returns their session cookie, and that code in `code`.
  std::string SignInAsManager(const std::string& name, std::string* code = nullptr) {
    const std::string installation = SignIn(kManagerCode);
    auto added = Post("/manage/managers/add", installation, {{"name", name}});
    EXPECT_EQ(added->status, 200) << added->body;
    const std::string given = ShownCode(added->body);
    const std::string first = SignIn(given);
    auto renewed = Post("/manage/managers/code", first, {{"name", name}});
    EXPECT_EQ(renewed->status, 200) << renewed->body;
    const std::string own = ShownCode(renewed->body);
    if (code != nullptr) *code = own;
    return SignIn(own);
  }
  // The 20-digit code a page shows once.
  static std::string ShownCode(const std::string& body) {
    std::smatch match;
    static const std::regex shown("<b id=\"code\">([0-9]{20})</b>");
    if (!std::regex_search(body, match, shown)) {
      ADD_FAILURE() << "no code shown";
      return "";
    }
    return match[1];
  }

  httplib::Result Get(const std::string& path, const std::string& cookie) {
    auto res = client_->Get(path, httplib::Headers{{"Cookie", cookie}});
    if (res && res->status == 200) {
      EXPECT_LT(res->body.size(), kPageBudget) << path;
    }
    return res;
  }

  // The form token the pages of the session with `cookie` carry ("" for none).
  static std::string FormToken(const std::string& cookie) {
    const size_t eq = cookie.find('=');
    return eq == std::string::npos ? "" : WebServer::FormTokenOf(cookie.substr(eq + 1));
  }

  // How many forms `body` has, each checked to carry `token` as its form token.
  static size_t FormsCarrying(const std::string& body, const std::string& token) {
    const std::string field =
        absl::StrCat("<input type=\"hidden\" name=\"form_token\" value=\"", token, "\">");
    size_t forms = 0;
    for (size_t at = body.find("<form"); at != std::string::npos; at = body.find("<form", at + 1)) {
      ++forms;
      const size_t end = body.find("</form>", at);
      EXPECT_NE(body.substr(at, end - at).find(field), std::string::npos)
          << "a form without the token: " << body.substr(at, 120);
    }
    return forms;
  }

  // A form sent from the page: with the session's form token.
  httplib::Result Post(const std::string& path, const std::string& cookie,
                       const httplib::Params& params) {
    httplib::Params with = params;
    with.emplace(WebServer::kFormTokenField, FormToken(cookie));
    return client_->Post(path, httplib::Headers{{"Cookie", cookie}}, with);
  }

  mw::testing::TempDir dir_;
  FakeClock clock_;
  Hooks hooks_;
  v1::PayoutBatch payout_;
  std::vector<v1::SettlePayoutRequest> settlements_;
  record::SigningKey installation_key_ = *record::SigningKey::Generate();
  record::SigningKey centre_key_ = *record::SigningKey::Generate();
  std::unique_ptr<centre::AgentState> state_;
  std::unique_ptr<WebServer> web_;
  std::unique_ptr<httplib::Client> client_;
  std::vector<std::string> on_duty_calls_;
  int answers_saved_ = 0;
  int roster_changes_ = 0;
  bool online_ = true;
  std::vector<v1::Withholding> withholdings_;
  std::vector<v1::ResolveDisputeRequest> resolutions_;
  std::vector<v1::WithholdWageRequest> withheld_;
  std::vector<v1::DisputeWithholdingRequest> disputes_;
  std::vector<v1::ReassignRequest> reassigns_;
  v1::ListReviewsReply reviews_;
  std::vector<v1::DecideReviewRequest> decisions_;
};

TEST_F(WebServerTest, AWrongCodeIsRefusedAndPagesNeedASession) {
  auto res = PostSignIn("12345678");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_THAT(res->body, HasSubstr("That code is not right"));
  EXPECT_FALSE(res->has_header("Set-Cookie"));
  for (const char* path : {"/task", "/earnings", "/me", "/manage"}) {
    auto page = client_->Get(path);
    ASSERT_TRUE(page);
    EXPECT_EQ(page->status, 303) << path;
    EXPECT_EQ(page->get_header_value("Location"), "/signin") << path;
  }
  EXPECT_TRUE(on_duty_calls_.empty());
}

TEST_F(WebServerTest, TheManagerAddsAWorkerWhoSignsInWithTheCode) {
  const std::string manager = SignIn(kManagerCode);
  auto added = Post("/manage/add", manager,
                    {{"name", "Amina Otieno"},
                     {"contact", "amina@example.org"},
                     {"languages", "en, sw"},
                     {"skills", "transcription"}});
  ASSERT_TRUE(added);
  ASSERT_EQ(added->status, 200);
  std::smatch code;
  ASSERT_TRUE(std::regex_search(added->body, code, std::regex("<b id=\"code\">([0-9]{12})</b>")));
  EXPECT_EQ(roster_changes_, 1);
  ASSERT_EQ(state_->Roster().size(), 1u);
  const v1::RosterEntry w = state_->Roster()[0];
  EXPECT_EQ(w.name(), "Amina Otieno");
  EXPECT_THAT(w.languages(), ElementsAre("en", "sw"));
  EXPECT_THAT(w.skills(), ElementsAre("transcription"));
  EXPECT_THAT(Get("/manage", manager)->body, HasSubstr("Amina Otieno"));
  // The manager's pages are not a worker's, nor the other way round.
  EXPECT_EQ(Get("/task", manager)->status, 303);

  const std::string worker = SignIn(code[1].str());
  EXPECT_THAT(on_duty_calls_, ElementsAre(w.pseudonym() + "+"));
  EXPECT_EQ(Get("/manage", worker)->status, 303);
  EXPECT_THAT(Get("/task", worker)->body, HasSubstr("There is no task for you right now"));
  on_duty_calls_.clear();
  ASSERT_EQ(Post("/signout", worker, {})->status, 303);
  EXPECT_THAT(on_duty_calls_, ElementsAre(w.pseudonym() + "-"));
  EXPECT_EQ(Get("/task", worker)->status, 303);  // the session is gone
}

// A media field of a task held at the agent, the file fetched into `cache`.
v1::Field MediaOn(MediaCache* cache, const std::string& name, const std::string& bytes) {
  absl::StatusOr<v1::Media> media = media::InspectMedia(bytes, media::MediaLimits());
  EXPECT_TRUE(media.ok()) << media.status();
  media->set_sha256(ToHex(Sha256(bytes)));
  EXPECT_TRUE(cache
                  ->Fetch(*media,
                          [&](const v1::Media&, uint64_t, const MediaCache::Sink& sink) {
                            sink(bytes, true);
                            return absl::OkStatus();
                          })
                  .ok());
  v1::Field f;
  f.set_name(name);
  f.set_value(name + ".file");
  *f.mutable_media() = *media;
  return f;
}

TEST_F(WebServerTest, ATasksImageIsServedSizedForAPhoneAndItsAudioInRanges) {
  MediaCache cache({.dir = dir_.Sub("media")});
  ASSERT_TRUE(cache.Open().ok());
  Restart({.listen = "127.0.0.1:0", .manager_code = kManagerCode, .media = &cache});
  const v1::Field photo = MediaOn(&cache, "photo", media::TestImage(4000, 3000));
  const v1::Field clip = MediaOn(&cache, "clip", media::TestWav(2000));
  const v1::Field other = MediaOn(&cache, "other", media::TestImage(64, 64, "png"));
  std::string code, other_code;
  const std::string w = AddWorker("Amina", &code);
  const std::string w2 = AddWorker("Baraka", &other_code);
  Hold(w, 0, Choice(), false, {photo, clip});
  Hold(w2, 1, Choice(), false, {other});
  const std::string cookie = SignIn(code);
  ASSERT_EQ(Post("/task/start", cookie, {{"aid", "job-1/label/0@" + w}})->status, 303);
  auto form = Get("/task", cookie);
  ASSERT_EQ(form->status, 200);
  const std::string photo_src = "/media/" + photo.media().sha256();
  const std::string clip_src = "/media/" + clip.media().sha256();
  EXPECT_THAT(form->body, HasSubstr(absl::StrCat("<a href=\"", photo_src,
                                                 "\"><img class=\"photo\" src=\"", photo_src,
                                                 "\" width=\"1024\" height=\"768\" "
                                                 "alt=\"photo.file\"></a>")));
  EXPECT_THAT(form->body,
              HasSubstr(absl::StrCat("<audio controls preload=\"metadata\" src=\"", clip_src,
                                     "\"></audio><button type=\"button\" class=\"replay\" "
                                     "aria-label=\"Play again\" title=\"Play again\">")));

  auto image = client_->Get(photo_src, httplib::Headers{{"Cookie", cookie}});
  ASSERT_EQ(image->status, 200);
  EXPECT_EQ(image->get_header_value("Content-Type"), "image/jpeg");
  absl::StatusOr<v1::Media> served = media::InspectMedia(image->body, media::MediaLimits());
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(served->width(), 1024u);  // the original is 4000 x 3000
  EXPECT_EQ(served->height(), 768u);
  EXPECT_LT(form->body.size() + image->body.size(), 150u * 1024);
  // Served again from memory, the same bytes.
  EXPECT_EQ(client_->Get(photo_src, httplib::Headers{{"Cookie", cookie}})->body, image->body);

  auto part = client_->Get(clip_src, httplib::Headers{{"Cookie", cookie}, {"Range", "bytes=0-99"}});
  ASSERT_EQ(part->status, 206);
  EXPECT_EQ(part->get_header_value("Content-Type"), "audio/wav");
  EXPECT_EQ(part->body.size(), 100u);
  EXPECT_EQ(part->get_header_value("Content-Range"),
            absl::StrCat("bytes 0-99/", clip.media().bytes()));

  // Another worker's file, a file nobody's task names, no session: nothing.
  const std::string other_src = "/media/" + other.media().sha256();
  EXPECT_EQ(client_->Get(other_src, httplib::Headers{{"Cookie", cookie}})->status, 404);
  EXPECT_EQ(
      client_->Get("/media/" + std::string(64, 'a'), httplib::Headers{{"Cookie", cookie}})->status,
      404);
  EXPECT_EQ(client_->Get(photo_src)->status, 303);
  // Each use comes back through the check, answered 304 when the browser has it.
  EXPECT_EQ(image->get_header_value("Cache-Control"), "private, no-cache");
  auto again = client_->Get(
      photo_src,
      httplib::Headers{{"Cookie", cookie}, {"If-None-Match", image->get_header_value("ETag")}});
  EXPECT_EQ(again->status, 304);
  EXPECT_EQ(
      client_->Get(photo_src, httplib::Headers{{"If-None-Match", image->get_header_value("ETag")}})
          ->status,
      303);
  // A file on the agent's disk that no task of the worker's names: 404 (the other worker's
  // photo above is on disk too).
  EXPECT_TRUE(cache.Has(other.media().sha256()));
}

TEST_F(WebServerTest, PayIsShownBeforeStartingAndTimeOnTaskLeavesIdleOut) {
  std::string code;
  const std::string w = AddWorker("Amina", &code);
  Hold(w, 0, Choice());
  const std::string cookie = SignIn(code);

  auto preview = Get("/task", cookie);
  ASSERT_EQ(preview->status, 200);
  EXPECT_THAT(preview->body, HasSubstr("<dd class=\"pay\" id=\"pay\">0.05 USD</dd>"));
  EXPECT_THAT(preview->body, HasSubstr("about 1 min"));
  EXPECT_THAT(preview->body, HasSubstr("about 9.00 USD an hour"));  // 5 cents per 20 s
  EXPECT_THAT(preview->body, HasSubstr("Is the review positive or negative?"));
  EXPECT_THAT(preview->body, Not(HasSubstr("phone")));  // the item waits for "Start"

  ASSERT_EQ(Post("/task/start", cookie, {{"aid", "job-1/label/0@" + w}})->status, 303);
  clock_.AdvanceMs(50'000);
  auto form = Get("/task", cookie);
  EXPECT_THAT(form->body, HasSubstr("great &lt;b&gt;phone&lt;/b&gt;"));  // escaped
  EXPECT_THAT(form->body, HasSubstr("value=\"negative\" required"));

  // Not an option: refused, nothing saved.
  const httplib::Params bad = {
      {"aid", "job-1/label/0@" + w}, {"epoch", "2"}, {"choice", "maybe"}, {"hidden_ms", "0"}};
  auto refused = Post("/task/answer", cookie, bad);
  EXPECT_EQ(refused->status, 400);
  EXPECT_THAT(refused->body, HasSubstr("Please check your answer"));
  EXPECT_EQ(state_->Outbox().depth, 0u);

  // 50 s open, 20 s of it hidden or idle: 30 s on task.
  const httplib::Params good = {{"aid", "job-1/label/0@" + w},
                                {"epoch", "2"},
                                {"choice", "positive"},
                                {"hidden_ms", "20000"}};
  auto saved = Post("/task/answer", cookie, good);
  ASSERT_EQ(saved->status, 303);
  // Sent as "pay=0.05%20USD"; httplib 0.11's client URL-decodes header values as it reads them.
  EXPECT_EQ(saved->get_header_value("Location"), "/task?notice=saved&pay=0.05 USD");
  EXPECT_EQ(answers_saved_, 1);
  ASSERT_EQ(Post("/task/answer", cookie, good)->status, 303);  // pressed twice: saved once
  std::vector<v1::Result> out = state_->PendingResults(10);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].result_id(), "r:job-1/label/0@" + w + ":2");
  EXPECT_EQ(out[0].answer().choice(), "positive");
  EXPECT_EQ(out[0].epoch(), 2u);
  EXPECT_EQ(out[0].active_seconds(), 30u);
  EXPECT_EQ(out[0].answered_at_ms(), clock_.NowMs());
  EXPECT_THAT(Get("/task?notice=saved&pay=0.05%20USD", cookie)->body,
              HasSubstr("Saved. You earn 0.05 USD for this task."));
}

TEST_F(WebServerTest, SkippingSendsTheReasonAndAHiddenFigureCannotExceedTheTimeOpen) {
  std::string code;
  const std::string w = AddWorker("Baraka", &code);
  Hold(w, 0, Choice());
  const std::string cookie = SignIn(code);
  ASSERT_EQ(Post("/task/start", cookie, {{"aid", "job-1/label/0@" + w}})->status, 303);
  clock_.AdvanceMs(4'000);
  auto skipped = Post("/task/skip", cookie,
                      {{"aid", "job-1/label/0@" + w},
                       {"epoch", "2"},
                       {"reason", "skip_upsetting"},
                       {"hidden_ms", "999999"}});
  ASSERT_EQ(skipped->status, 303);
  std::vector<v1::Result> out = state_->PendingResults(10);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].answer().skipped());
  EXPECT_EQ(out[0].answer().skip_reason(), "upsetting");
  EXPECT_EQ(out[0].active_seconds(), 0u);
}

TEST_F(WebServerTest, EarningsInBothLanguagesFromTheDispatchersReceipts) {
  std::string code;
  const std::string w = AddWorker("Chausiku", &code);
  Hold(w, 0, Choice());
  Hold(w, 1, Choice());
  const std::string cookie = SignIn(code);
  for (int item : {0, 1}) {
    const std::string aid = absl::StrCat("job-1/label/", item, "@", w);
    ASSERT_EQ(Post("/task/start", cookie, {{"aid", aid}})->status, 303);
    clock_.AdvanceMs(18'000);
    ASSERT_EQ(Post("/task/answer", cookie,
                   {{"aid", aid}, {"epoch", "2"}, {"choice", "negative"}, {"hidden_ms", "0"}})
                  ->status,
              303);
  }
  // One receipt back so far; the other answer is still in the outbox.
  v1::Receipt receipt;
  receipt.set_result_id("r:job-1/label/0@" + w + ":2");
  receipt.set_status(v1::RECEIPT_ACCEPTED);
  receipt.set_wage_minor(5);
  receipt.set_currency("USD");
  receipt.set_feedback("check task: your answer matched the known answer");
  ASSERT_TRUE(state_->ApplyReceipts({receipt}).ok());

  auto en = Get("/earnings", cookie);
  ASSERT_EQ(en->status, 200);
  EXPECT_THAT(en->body, HasSubstr("<td id=\"today\"><b>0.05 USD</b><br>1 tasks<br>10.00 USD an "
                                  "hour on time worked</td>"));
  EXPECT_THAT(en->body, HasSubstr("1 answers are saved here and waiting to be sent"));
  EXPECT_THAT(en->body, HasSubstr("check task: your answer matched the known answer"));

  // A link cannot change it (GET); the page's own form does.
  EXPECT_EQ(Get("/lang?to=sw&back=/earnings", cookie)->status, 404);
  EXPECT_EQ(state_->Worker(w)->ui_language(), "");
  EXPECT_THAT(en->body, HasSubstr("<form method=\"post\" action=\"/lang\" class=\"inline\">"));
  auto lang = Post("/lang", cookie, {{"to", "sw"}, {"back", "/earnings"}});
  ASSERT_EQ(lang->status, 303);
  EXPECT_EQ(lang->get_header_value("Location"), "/earnings");
  EXPECT_EQ(state_->Worker(w)->ui_language(), "sw");  // remembered for the next sign-in
  auto sw = Get("/earnings", cookie + "; mw_lang=sw");
  EXPECT_THAT(sw->body, HasSubstr("<html lang=\"sw\" dir=\"ltr\">"));
  EXPECT_THAT(sw->body, HasSubstr("<th>Leo</th><td id=\"today\"><b>0.05 USD</b><br>kazi 1"));
  EXPECT_THAT(sw->body, HasSubstr("Majibu 1 yamehifadhiwa hapa"));
  // French writes a decimal comma; Urdu reads right to left.
  auto fr = Get("/earnings", cookie + "; mw_lang=fr");
  EXPECT_THAT(fr->body, HasSubstr("<b>0,05 USD</b>"));
  EXPECT_THAT(Get("/earnings", cookie + "; mw_lang=ur")->body,
              HasSubstr("<html lang=\"ur\" dir=\"rtl\">"));
  // A language switch never sends anyone to another site.
  EXPECT_EQ(Post("/lang", cookie, {{"to", "sw"}, {"back", "//evil.example/"}})
                ->get_header_value("Location"),
            "/");
}

TEST_F(WebServerTest, AWorkerDisputesTheirOwnWithheldPayOnly) {
  std::string code;
  const std::string w = AddWorker("Daudi", &code);
  const std::string cookie = SignIn(code);
  v1::Withholding mine;
  mine.set_assignment_id("job-1/label/4@" + w);
  mine.set_worker_account("worker:nairobi/" + w);
  mine.set_amount_minor(5);
  mine.set_currency("USD");
  mine.set_reason(v1::WITHHOLD_RANDOM_CLICKING);
  mine.set_note("answers unrelated to the items");
  mine.set_dispute(v1::DISPUTE_NONE);
  v1::Withholding other = mine;
  other.set_assignment_id("job-1/label/5@wsomeoneelse");
  other.set_worker_account("worker:nairobi/wsomeoneelse");
  withholdings_ = {mine, other};

  auto page = Get("/earnings", cookie);
  EXPECT_THAT(page->body, HasSubstr("WITHHOLD_RANDOM_CLICKING"));
  EXPECT_THAT(page->body, HasSubstr("value=\"job-1/label/4@" + w + "\""));
  EXPECT_THAT(page->body, Not(HasSubstr("wsomeoneelse")));

  EXPECT_EQ(Post("/dispute", cookie,
                 {{"aid", "job-1/label/5@wsomeoneelse"}, {"statement", "not mine but still"}})
                ->status,
            400);
  ASSERT_EQ(Post("/dispute", cookie,
                 {{"aid", "job-1/label/4@" + w}, {"statement", "I read every review."}})
                ->get_header_value("Location"),
            "/earnings?notice=dispute_sent");
  ASSERT_EQ(disputes_.size(), 1u);
  EXPECT_EQ(disputes_[0].assignment_id(), "job-1/label/4@" + w);
  EXPECT_EQ(disputes_[0].worker_statement(), "I read every review.");
  EXPECT_EQ(disputes_[0].idempotency_key(), "dispute:job-1/label/4@" + w);

  online_ = false;
  auto offline = Get("/earnings", cookie);
  EXPECT_THAT(offline->body, HasSubstr("The centre has no internet right now"));
  EXPECT_THAT(offline->body, HasSubstr("This needs the internet"));
}

TEST_F(WebServerTest, AWorkerSeesTheirDataAndTheManagerDeletesItOnRequest) {
  std::string code;
  const std::string w = AddWorker("Esther", &code);
  const std::string cookie = SignIn(code);
  auto json = Get("/me.json", cookie);
  ASSERT_EQ(json->status, 200);
  EXPECT_THAT(json->body, HasSubstr("\"name\": \"Esther\""));
  EXPECT_THAT(json->body, HasSubstr("+254 700 000 000"));
  EXPECT_THAT(json->body, Not(HasSubstr("signInCode")));

  const std::string manager = SignIn(kManagerCode);
  auto forgot = Post("/manage/forget", manager, {{"worker", w}});
  ASSERT_EQ(forgot->status, 200);
  const v1::RosterEntry left = *state_->Worker(w);
  EXPECT_EQ(left.name(), "");
  EXPECT_EQ(left.contact(), "");
  EXPECT_TRUE(left.sign_in_code_sha256().empty());
  EXPECT_EQ(left.pseudonym(), w);                // the ledger upstream pays under it
  EXPECT_EQ(Get("/task", cookie)->status, 303);  // signed out
  EXPECT_EQ(PostSignIn(code)->status, 401);
}

// A worker downloads their signed work record, with their name only when they tick the box;
// anyone on the network can check a pasted record, and a changed byte shows as not valid.
TEST_F(WebServerTest, AWorkerTakesTheirSignedRecordAndAnyoneCanCheckIt) {
  std::string code;
  const std::string w = AddWorker("Esther", &code);
  const std::string cookie = SignIn(code);
  EXPECT_THAT(Get("/me", cookie)->body, HasSubstr("action=\"/record.txt\""));
  EXPECT_EQ(Get("/record.txt", "")->status, 303);  // signed-in workers only

  auto anonymous = Get("/record.txt", cookie);
  ASSERT_EQ(anonymous->status, 200);
  EXPECT_EQ(anonymous->get_header_value("Content-Disposition"),
            "attachment; filename=\"work-record.txt\"");
  auto v = record::VerifyRecord(anonymous->body);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->worker, w);
  EXPECT_EQ(v->name, std::nullopt);
  EXPECT_THAT(anonymous->body, Not(HasSubstr("Esther")));
  auto named = Get("/record.txt?name=1", cookie);
  ASSERT_EQ(named->status, 200);
  EXPECT_EQ(record::VerifyRecord(named->body)->name, "Esther");

  // Pasted as a browser sends a textarea (CRLF lines, no final newline).
  std::string pasted = absl::StrReplaceAll(named->body, {{"\n", "\r\n"}});
  pasted.resize(pasted.size() - 2);
  auto checked = Post("/verify", "", {{"record", pasted}});
  ASSERT_EQ(checked->status, 200);
  EXPECT_THAT(checked->body, HasSubstr("id=\"verified\">The signatures are intact: nothing in "
                                       "this record of " +
                                       w + " at centre nairobi"));
  EXPECT_THAT(checked->body, HasSubstr("This is not this centre&#39;s key"));
  // Signed in, from the page's own form (with its token), and by this centre's key.
  Restart({.listen = "127.0.0.1:0",
           .manager_code = kManagerCode,
           .centre_public_key = centre_key_.public_key()});
  const std::string again = SignIn(code);
  EXPECT_THAT(Get("/verify", again)->body, HasSubstr("name=\"form_token\""));
  auto ours = Post("/verify", again, {{"record", named->body}});
  ASSERT_EQ(ours->status, 200);
  EXPECT_THAT(ours->body, HasSubstr("was changed since this centre signed it"));
  std::string changed = named->body;
  changed[changed.find("Answers: 3") + 9] = '9';
  auto refused = Post("/verify", "", {{"record", changed}});
  EXPECT_THAT(refused->body, HasSubstr("This record is NOT valid: record line"));

  online_ = false;
  EXPECT_EQ(Get("/record.txt", cookie)->get_header_value("Location"), "/me?notice=record_offline");
}

// The manager makes the M-Pesa file of an approved batch from the roster's numbers and imports
// the rail's result, which goes to the dispatcher signed with the manager's name.
TEST_F(WebServerTest, TheManagerMakesTheMpesaFileAndImportsTheResult) {
  std::string code;
  const std::string w = AddWorker("Esther", &code);  // contact +254 700 000 000
  payout_.set_id("payout-nairobi-1");
  payout_.set_centre("nairobi");
  payout_.set_state(v1::PAYOUT_APPROVED);
  payout_.set_currency("KES");
  v1::PayoutLine* line = payout_.add_lines();
  line->set_worker_account("worker:nairobi/" + w);
  line->set_amount_minor(12050);
  line->set_currency("KES");
  const std::string manager = SignIn(kManagerCode);
  EXPECT_THAT(Get("/manage", manager)->body, HasSubstr("action=\"/manage/payouts/file\""));
  const httplib::Params first{{"batch", "payout-nairobi-1"}, {"rail", "mpesa"}};
  EXPECT_EQ(Post("/manage/payouts/file", "", first)->status, 303);

  auto file = Post("/manage/payouts/file", manager, first);
  ASSERT_EQ(file->status, 200);
  EXPECT_EQ(file->get_header_value("Content-Disposition"),
            "attachment; filename=\"payout-nairobi-1-mpesa.csv\"");
  const std::string id = "payout:payout-nairobi-1:worker:nairobi/" + w;
  EXPECT_EQ(file->body, "OriginatorConversationID,CommandID,Amount,PartyB,Remarks,Occasion\n" + id +
                            ",SalaryPayment,120,254700000000,\"Pay for work, "
                            "payout-nairobi-1\",payout-nairobi-1\n");
  EXPECT_THAT(
      Post("/manage/payouts/file", manager, {{"batch", "payout-nairobi-9"}, {"rail", "mpesa"}})
          ->body,
      HasSubstr("no payout payout-nairobi-9"));

  auto imported =
      Post("/manage/payouts/results", manager,
           {{"batch", "payout-nairobi-1"},
            {"rail", "mpesa"},
            {"results", "OriginatorConversationID,ResultCode,ResultDesc,TransactionID\r\n" + id +
                            ",2001,The initiator information is invalid.,\r\n"}});
  ASSERT_EQ(imported->status, 200);
  EXPECT_THAT(imported->body, HasSubstr("Imported: 0 paid, 1 not paid (back on their balance)."));
  ASSERT_EQ(settlements_.size(), 1u);
  EXPECT_EQ(settlements_[0].settled_by(), "manager");
  ASSERT_EQ(settlements_[0].lines_size(), 1);
  EXPECT_EQ(settlements_[0].lines(0).outcome(), v1::PAYOUT_LINE_FAILED);
  EXPECT_EQ(settlements_[0].lines(0).reason(), "The initiator information is invalid.");
}

// A newcomer trains first; the manager (a person) can mark them trained, which the dispatcher
// hears through a new registration.
TEST_F(WebServerTest, TheManagerSeesWhoIsNewAndCanMarkThemTrained) {
  std::string code;
  const std::string w = AddWorker("Grace", &code);
  const std::string manager = SignIn(kManagerCode);
  auto page = Get("/manage", manager);
  ASSERT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr("New: trains first"));
  EXPECT_THAT(page->body, HasSubstr("formaction=\"/manage/trained\""));
  // The page says what the mark does at the dispatcher: it is a claim, checked there.
  EXPECT_THAT(page->body, HasSubstr("only if they passed training on an earlier job or the "
                                    "operator promoted them"));
  const int changes = roster_changes_;
  auto marked = Post("/manage/trained", manager, {{"worker", w}});
  ASSERT_EQ(marked->status, 200);
  EXPECT_THAT(marked->body, HasSubstr("Marked as trained."));
  EXPECT_EQ(state_->Worker(w)->training_level(), 1u);
  EXPECT_EQ(roster_changes_, changes + 1);
  EXPECT_THAT(marked->body, Not(HasSubstr("New: trains first")));
  EXPECT_EQ(Post("/manage/trained", manager, {})->status, 400);  // nobody ticked
  EXPECT_EQ(Post("/manage/trained", manager, {{"worker", "w-nobody"}})->status, 400);
  // Workers cannot do it for themselves.
  const std::string worker = SignIn(code);
  EXPECT_NE(Post("/manage/trained", worker, {{"worker", w}})->status, 200);
  EXPECT_EQ(state_->Worker(w)->training_level(), 1u);
}

TEST_F(WebServerTest, TheManagerSeesEachDayTrainingProgressAndPutsWorkersOnSkills) {
  std::string code, other;
  const std::string zawadi = AddWorker("Zawadi", &code);
  const std::string baraka = AddWorker("Baraka", &other);
  for (int item : {0, 1, 2}) Hold(zawadi, item, Choice());
  // Answers 90 s each; the dispatcher's receipts say two were check tasks, one of them right.
  auto answer = [&](int item, bool check, bool right) {
    const std::string cookie = SignIn(code);
    DoTask(cookie, absl::StrCat("job-1/label/", item, "@", zawadi), 90);
    v1::Receipt receipt;
    receipt.set_result_id(absl::StrCat("r:job-1/label/", item, "@", zawadi, ":2"));
    receipt.set_status(v1::RECEIPT_ACCEPTED);
    receipt.set_wage_minor(5);
    receipt.set_currency("USD");
    receipt.set_check(check);
    receipt.set_check_correct(right);
    ASSERT_TRUE(state_->ApplyReceipts({receipt}).ok());
  };
  answer(0, /*check=*/true, /*right=*/true);
  clock_.AdvanceMs(24 * 3'600'000);  // the next day: yesterday's answer is not today's
  answer(1, /*check=*/true, /*right=*/false);
  answer(2, /*check=*/false, /*right=*/false);
  const std::string manager = SignIn(kManagerCode);
  auto page = Get("/manage", manager);
  ASSERT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr("<td>0</td><td>2 &middot; 0:03 &middot; 0.10 USD</td><td>New: "
                                    "trains first<br><small>check tasks right: 1 of 2</small>"));
  EXPECT_THAT(page->body, HasSubstr("<td>0 &middot; 0:00 &middot; 0</td>"));  // Baraka
  EXPECT_THAT(page->body, HasSubstr("<tr id=\"totals\"><th>Everyone</th><th>1</th><th>0</th><th>2 "
                                    "&middot; 0:03 &middot; 0.10 USD</th>"));

  // On duty for given skills: checked for every worker before any changes, then registered.
  const int changes = roster_changes_;
  auto bad = Post("/manage/duty", manager,
                  {{"workers", zawadi}, {"workers", baraka}, {"skills", "transcribe, two words"}});
  EXPECT_EQ(bad->status, 400);
  EXPECT_THAT(bad->body, HasSubstr("skills: each a word of letters, digits, - and _"));
  auto stranger = Post("/manage/duty", manager,
                       {{"workers", zawadi}, {"workers", "w-nobody"}, {"skills", "x"}});
  EXPECT_EQ(stranger->status, 400);
  EXPECT_THAT(stranger->body, HasSubstr("no worker w-nobody"));
  EXPECT_EQ(Post("/manage/duty", manager, {{"skills", "x"}})->status, 400);
  EXPECT_TRUE(state_->Worker(zawadi)->skills().empty());
  EXPECT_EQ(roster_changes_, changes);
  auto set = Post("/manage/duty", manager,
                  {{"workers", zawadi}, {"workers", baraka}, {"skills", "transcribe, translate"}});
  ASSERT_EQ(set->status, 200);
  EXPECT_THAT(set->body, HasSubstr("Saved: the platform offers them tasks for these skills"));
  EXPECT_THAT(state_->Worker(zawadi)->skills(), ElementsAre("transcribe", "translate"));
  EXPECT_THAT(state_->Worker(baraka)->skills(), ElementsAre("transcribe", "translate"));
  EXPECT_EQ(roster_changes_, changes + 1);
  EXPECT_THAT(set->body, HasSubstr(" &middot; en,sw &middot; transcribe,translate</small>"));
  // New sign-in codes for both ticked workers at once, each shown once.
  auto codes = Post("/manage/code", manager, {{"workers", zawadi}, {"workers", baraka}});
  ASSERT_EQ(codes->status, 200);
  std::regex shown("Sign-in code for (Zawadi|Baraka): <b class=\"code\">([0-9]{12})</b>");
  EXPECT_EQ(std::distance(std::sregex_iterator(codes->body.begin(), codes->body.end(), shown),
                          std::sregex_iterator()),
            2);
}

// An agent restart signs nobody out: sessions are kept (by their token's hash) in the agent's
// store; signing out, deleting a worker's data or age ends them.
TEST_F(WebServerTest, WorkersSessionsSurviveAnAgentRestartUntilSignOutOrAge) {
  std::string code, other_code;
  const std::string w = AddWorker("Halima", &code);
  const std::string w2 = AddWorker("Imani", &other_code);
  const std::string cookie = SignIn(code);
  const std::string other = SignIn(other_code);
  const std::string manager = SignIn(kManagerCode);
  for (const auto& [hash, s] : state_->Sessions()) {
    EXPECT_EQ(cookie.find(hash), std::string::npos);  // the token itself is not stored
  }
  ASSERT_EQ(state_->Sessions().size(), 3u);
  on_duty_calls_.clear();
  Restart({.listen = "127.0.0.1:0", .manager_code = kManagerCode});
  // Both signed-in workers are back on duty before any page is asked for.
  EXPECT_THAT(on_duty_calls_, ::testing::UnorderedElementsAre(w + "+", w2 + "+"));
  EXPECT_EQ(Get("/task", cookie)->status, 200);
  // A manager signs in again: a manager's session is as good as the code it was opened with.
  EXPECT_EQ(Get("/manage", manager)->status, 303);
  EXPECT_EQ(state_->Sessions().size(), 2u);

  ASSERT_EQ(Post("/signout", other, {})->status, 303);
  Restart({.listen = "127.0.0.1:0", .manager_code = kManagerCode});
  EXPECT_EQ(Get("/task", other)->status, 303);  // to /signin
  EXPECT_EQ(Get("/task", cookie)->status, 200);
  clock_.AdvanceMs(13 * 3'600'000);  // older than the 12 hours a session is kept
  Restart({.listen = "127.0.0.1:0", .manager_code = kManagerCode});
  EXPECT_EQ(Get("/task", cookie)->status, 303);
  EXPECT_TRUE(state_->Sessions().empty());
}

// The manager's review queue: open disputes with the worker's side, decided by a named person
// with a reason; nothing is sent without both.
TEST_F(WebServerTest, TheManagerDecidesOpenDisputesWithAReason) {
  v1::Withholding open, settled;
  open.set_assignment_id("job-1/label/3@w1");
  open.set_worker_account("worker:nairobi/w1");
  open.set_reason(v1::WITHHOLD_RANDOM_CLICKING);
  open.set_note("left blank");
  open.set_decided_by("Otieno");
  open.set_dispute(v1::DISPUTE_OPEN);
  open.set_worker_statement("the page froze");
  settled = open;
  settled.set_assignment_id("job-1/label/4@w1");
  settled.set_dispute(v1::DISPUTE_UPHELD);
  withholdings_ = {open, settled};
  const std::string manager = SignInAsManager("grace");
  auto page = Get("/manage", manager);
  ASSERT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr("Signed in as grace"));
  EXPECT_THAT(page->body, HasSubstr("the page froze"));
  EXPECT_THAT(page->body, HasSubstr("job-1/label/3@w1"));
  EXPECT_THAT(page->body, Not(HasSubstr("job-1/label/4@w1")));  // decided already

  auto missing = Post("/manage/resolve", manager, {{"aid", "job-1/label/3@w1"}, {"restore", "1"}});
  EXPECT_EQ(missing->status, 400);
  EXPECT_THAT(missing->body, HasSubstr("Reason for the decision is required"));
  EXPECT_TRUE(resolutions_.empty());

  auto decided = Post("/manage/resolve", manager,
                      {{"aid", "job-1/label/3@w1"},
                       {"decided_by", "Wanjiru"},  // a name typed counts for nothing
                       {"resolution", "the log shows the page froze"},
                       {"restore", "1"}});
  ASSERT_EQ(decided->status, 200);
  EXPECT_THAT(decided->body, HasSubstr("Decided."));
  ASSERT_EQ(resolutions_.size(), 1u);
  EXPECT_EQ(resolutions_[0].assignment_id(), "job-1/label/3@w1");
  EXPECT_EQ(resolutions_[0].decided_by(), "grace");  // who is signed in
  EXPECT_EQ(resolutions_[0].resolution(), "the log shows the page froze");
  EXPECT_TRUE(resolutions_[0].restore());
}

// Withholding pay is a decision in the name of the manager signed in, for a published reason,
// with what they saw; a name typed counts for nothing.
TEST_F(WebServerTest, TheManagerSignedInWithholdsPayForAPublishedReason) {
  const std::string grace = SignInAsManager("grace");
  auto page = Get("/manage", grace);
  ASSERT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr("<option value=\"WITHHOLD_AUTOMATED\">A script or bot "
                                    "answered</option>"));
  auto no_reason = Post("/manage/withhold", grace,
                        {{"aid", "job-1/label/3@w1"}, {"reason", "WRONG"}, {"note", "x"}});
  EXPECT_EQ(no_reason->status, 400);
  EXPECT_THAT(no_reason->body, HasSubstr("Reason is required"));
  auto no_note = Post("/manage/withhold", grace,
                      {{"aid", "job-1/label/3@w1"}, {"reason", "WITHHOLD_AUTOMATED"}});
  EXPECT_EQ(no_note->status, 400);
  EXPECT_TRUE(withheld_.empty());
  auto done = Post("/manage/withhold", grace,
                   {{"aid", "job-1/label/3@w1"},
                    {"reason", "WITHHOLD_AUTOMATED"},
                    {"note", "forty answers in a minute"},
                    {"decided_by", "Wanjiru"}});
  ASSERT_EQ(done->status, 200);
  EXPECT_THAT(done->body, HasSubstr("Withheld. The worker can see it and dispute it."));
  ASSERT_EQ(withheld_.size(), 1u);
  EXPECT_EQ(withheld_[0].assignment_id(), "job-1/label/3@w1");
  EXPECT_EQ(withheld_[0].reason(), v1::WITHHOLD_AUTOMATED);
  EXPECT_EQ(withheld_[0].note(), "forty answers in a minute");
  EXPECT_EQ(withheld_[0].decided_by(), "grace");
  EXPECT_EQ(withheld_[0].idempotency_key(), "withhold:job-1/label/3@w1:grace");
}

TEST_F(WebServerTest, TheManagerDecidesALowConfidenceResultInTheStagesAnswerShape) {
  std::string code;
  const std::string amina = AddWorker("Amina", &code);
  v1::Review* r = reviews_.add_reviews();
  r->set_task_id("job-1/label/7");
  r->set_job_id("job-1");
  r->set_stage("label");
  r->set_item_index(7);
  v1::Field* f = r->mutable_item()->add_fields();
  f->set_name("text");
  f->set_value("fine <i>I guess</i>");
  for (const char* w : {"w1", "w2"}) r->add_workers(w);
  r->add_labels("positive");
  r->add_labels("negative");
  r->set_confidence(0.5);
  v1::StageSpec* spec = reviews_.add_specs();
  spec->set_job_id("job-1");
  spec->set_stage("label");
  *spec->mutable_human()->mutable_answer() = Choice();
  const std::string manager = SignIn(kManagerCode);

  auto page = Get("/manage", manager);
  ASSERT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr("<b>job-1/label/7</b> &middot; agreement 50%"));
  EXPECT_THAT(page->body, HasSubstr("fine &lt;i&gt;I guess&lt;/i&gt;"));
  EXPECT_THAT(page->body, HasSubstr("w1: <i>positive</i><br>w2: <i>negative</i>"));
  EXPECT_THAT(page->body, HasSubstr("name=\"choice\" value=\"negative\""));  // the stage's form

  // Each part is needed, and the answer must fit the stage's schema; nothing is sent until then.
  auto no_reason = Post("/manage/review", manager,
                        {{"task", "job-1/label/7"}, {"choice", "positive"}, {"reviewer", amina}});
  EXPECT_EQ(no_reason->status, 400);
  EXPECT_THAT(no_reason->body, HasSubstr("Reason for the decision is required"));
  auto stranger = Post("/manage/review", manager,
                       {{"task", "job-1/label/7"},
                        {"choice", "positive"},
                        {"reviewer", "p-nobody"},
                        {"reason", "x"}});
  EXPECT_EQ(stranger->status, 400);
  EXPECT_THAT(stranger->body, HasSubstr("reviewer: no worker p-nobody here"));
  auto off_schema =
      Post("/manage/review", manager,
           {{"task", "job-1/label/7"}, {"choice", "maybe"}, {"reviewer", amina}, {"reason", "x"}});
  EXPECT_EQ(off_schema->status, 400);
  auto gone = Post(
      "/manage/review", manager,
      {{"task", "job-1/label/8"}, {"choice", "positive"}, {"reviewer", amina}, {"reason", "x"}});
  EXPECT_EQ(gone->status, 400);
  EXPECT_THAT(gone->body, HasSubstr("task job-1/label/8 is not waiting for review"));
  EXPECT_TRUE(decisions_.empty());

  auto decided = Post("/manage/review", manager,
                      {{"task", "job-1/label/7"},
                       {"choice", "positive"},
                       {"reviewer", amina},
                       {"reason", "'fine' is mild praise"}});
  ASSERT_EQ(decided->status, 200);
  EXPECT_THAT(decided->body, HasSubstr("Decided. The result takes this answer"));
  ASSERT_EQ(decisions_.size(), 1u);
  EXPECT_EQ(decisions_[0].task_id(), "job-1/label/7");
  EXPECT_EQ(decisions_[0].label(), "positive");
  EXPECT_EQ(decisions_[0].reviewer(), amina);
  EXPECT_EQ(decisions_[0].manager(), "manager");  // the installation's code signed in
  EXPECT_EQ(decisions_[0].reason(), "'fine' is mild praise");
  EXPECT_EQ(decisions_[0].idempotency_key(), "review:job-1/label/7:" + amina + ":manager:positive");

  // Offline, the section says so and nothing is sent.
  online_ = false;
  auto offline = Get("/manage", manager);
  EXPECT_THAT(offline->body, HasSubstr("This needs the internet"));
  auto refused = Post("/manage/review", manager,
                      {{"task", "job-1/label/7"},
                       {"choice", "positive"},
                       {"reviewer", amina},
                       {"reason", "again"}});
  EXPECT_EQ(refused->status, 400);
  EXPECT_EQ(decisions_.size(), 1u);
}

TEST_F(WebServerTest, TheManagerDecidesComparisonsAndSpansInTheirOwnShape) {
  std::string code;
  const std::string amina = AddWorker("Amina", &code);
  auto review = [&](const std::string& stage, int item, const v1::AnswerSchema& schema) {
    v1::Review* r = reviews_.add_reviews();
    r->set_task_id(absl::StrCat("job-1/", stage, "/", item));
    r->set_job_id("job-1");
    r->set_stage(stage);
    r->set_item_index(item);
    for (auto [name, value] :
         {std::pair{"text", "Juma anaishi Nairobi"}, std::pair{"a", "Juma lives in Mombasa"},
          std::pair{"b", "Juma lives in Nairobi"}}) {
      v1::Field* f = r->mutable_item()->add_fields();
      f->set_name(name);
      f->set_value(value);
    }
    r->set_confidence(0.5);
    bool known = false;
    for (const auto& s : reviews_.specs()) known |= s.stage() == stage;
    if (known) return;
    v1::StageSpec* spec = reviews_.add_specs();
    spec->set_job_id("job-1");
    spec->set_stage(stage);
    *spec->mutable_human()->mutable_answer() = schema;
  };
  v1::AnswerSchema pair;
  pair.mutable_comparison()->set_a_field("a");
  pair.mutable_comparison()->set_b_field("b");
  v1::AnswerSchema names;
  names.mutable_spans()->set_field("text");
  names.mutable_spans()->add_labels("LOC");
  review("better", 1, pair);
  review("names", 2, names);
  review("names", 3, names);
  const std::string manager = SignIn(kManagerCode);
  const std::string page = Get("/manage", manager)->body;
  // Each span review has its own block of words; the page script wires every one.
  size_t blocks = 0;
  for (size_t at = page.find("class=\"spans\""); at != std::string::npos;
       at = page.find("class=\"spans\"", at + 1)) {
    ++blocks;
  }
  EXPECT_EQ(blocks, 2u);
  EXPECT_THAT(page, Not(HasSubstr("id=\"spans")));
  EXPECT_THAT(std::string(PageScript()), HasSubstr("querySelectorAll('.spans')"));

  // The reason for a decision is the manager's, not a comparison's own reason (this stage asks
  // none): the pick is decided.
  auto decided = Post("/manage/review", manager,
                      {{"task", "job-1/better/1"},
                       {"pick", "b"},
                       {"reviewer", amina},
                       {"reason", "B names the right town"}});
  ASSERT_EQ(decided->status, 200) << decided->body;
  ASSERT_EQ(decisions_.size(), 1u);
  EXPECT_EQ(decisions_[0].label(), "b");
  EXPECT_EQ(decisions_[0].reason(), "B names the right town");
  decided = Post("/manage/review", manager,
                 {{"task", "job-1/names/2"},
                  {"spans", "13-20:LOC"},
                  {"reviewer", amina},
                  {"reason", "Nairobi is a place"}});
  ASSERT_EQ(decided->status, 200) << decided->body;
  ASSERT_EQ(decisions_.size(), 2u);
  EXPECT_EQ(decisions_[1].label(), "13-20:LOC");
  auto off_words = Post(
      "/manage/review", manager,
      {{"task", "job-1/names/3"}, {"spans", "12-20:LOC"}, {"reviewer", amina}, {"reason", "x"}});
  EXPECT_EQ(off_words->status, 400);
  EXPECT_EQ(decisions_.size(), 2u);
}

// The centre's managers are people with their own codes: the installation's manager adds them;
// a revoked one, or one given a new code, is signed out at once and their old code opens nothing.
TEST_F(WebServerTest, EachManagerSignsInWithTheirOwnCodeAndARevokedOneNoMore) {
  // A code someone else issued opens only the choice of one's own: nothing is decided in the
  // name of a manager whose code another person knows.
  const std::string installation = SignIn(kManagerCode);
  auto added = Post("/manage/managers/add", installation, {{"name", "grace"}});
  ASSERT_EQ(added->status, 200);
  const std::string given = ShownCode(added->body);
  const std::string first = SignIn(given);
  auto only = Get("/manage", first);
  ASSERT_EQ(only->status, 200);
  EXPECT_THAT(only->body, HasSubstr("Your code was issued by someone else."));
  EXPECT_THAT(only->body, Not(HasSubstr("id=\"roster\"")));
  auto refused = Post("/manage/team", first, {{"team_name", "night"}});
  EXPECT_EQ(refused->status, 403);
  EXPECT_THAT(refused->body, HasSubstr("your code was issued by someone else"));
  auto renewed = Post("/manage/managers/code", first, {{"name", "grace"}});
  ASSERT_EQ(renewed->status, 200);
  EXPECT_THAT(renewed->body, HasSubstr("Sign in again with it."));
  const std::string grace_code = ShownCode(renewed->body);
  EXPECT_EQ(Get("/manage", first)->status, 303);  // opened with the old code: over
  EXPECT_EQ(PostSignIn(given)->status, 401);
  const std::string grace = SignIn(grace_code);

  std::string juma_code;
  const std::string juma = SignInAsManager("Juma", &juma_code);
  auto page = Get("/manage", grace);
  ASSERT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr("Signed in as grace"));
  EXPECT_THAT(page->body, HasSubstr("<b>juma</b> &middot; added by manager"));
  EXPECT_EQ(Get("/manage", juma)->status, 200);

  // Only the installation's manager gives another a code; nobody revokes themself; a name is
  // never given twice.
  auto taken = Post("/manage/managers/code", juma, {{"name", "grace"}});
  EXPECT_EQ(taken->status, 403);
  EXPECT_THAT(taken->body, HasSubstr("Only the installation&#39;s manager gives another manager"));
  EXPECT_EQ(PostSignIn(grace_code)->status, 303);  // still hers
  auto self = Post("/manage/managers/revoke", grace, {{"name", "grace"}});
  EXPECT_EQ(self->status, 400);
  EXPECT_THAT(self->body, HasSubstr("a manager cannot revoke themself; ask another"));
  auto again = Post("/manage/managers/add", grace, {{"name", "JUMA"}});
  EXPECT_EQ(again->status, 400);
  EXPECT_THAT(again->body, HasSubstr("juma is or was a manager here; names are never reused"));

  // Grace revokes Juma: his session ends at once and his code opens nothing.
  auto revoked = Post("/manage/managers/revoke", grace, {{"name", "juma"}});
  ASSERT_EQ(revoked->status, 200);
  EXPECT_THAT(revoked->body, HasSubstr("<b>juma</b> &middot; added by manager &middot; revoked "
                                       "by grace"));
  auto gone = Get("/manage", juma);
  EXPECT_EQ(gone->status, 303);
  EXPECT_EQ(gone->get_header_value("Location"), "/signin");
  EXPECT_EQ(PostSignIn(juma_code)->status, 401);

  // The installation's manager gives Grace a new code: her session and old code are over.
  ASSERT_EQ(Post("/manage/managers/code", installation, {{"name", "grace"}})->status, 200);
  EXPECT_EQ(Get("/manage", grace)->status, 303);
  EXPECT_EQ(PostSignIn(grace_code)->status, 401);

  // A restart ends managers' sessions; another installation code ends the old one's.
  EXPECT_EQ(Get("/manage", installation)->status, 200);
  Restart({.listen = "127.0.0.1:0", .manager_code = kManagerCode});
  EXPECT_EQ(Get("/manage", installation)->status, 303);
  const std::string again_installation = SignIn(kManagerCode);
  web_.reset();
  Restart({.listen = "127.0.0.1:0", .manager_code = "another-code-0042"});
  EXPECT_EQ(PostSignIn(kManagerCode)->status, 401);
  EXPECT_EQ(Get("/manage", again_installation)->status, 303);
}

TEST_F(WebServerTest, TheManagerMovesATaskAndReservesAStageForChosenWorkers) {
  std::string code;
  const std::string fatuma = AddWorker("Fatuma", &code);
  const std::string juma = AddWorker("Juma", &code);
  Hold(fatuma, 0, Choice());
  const std::string manager = SignInAsManager("grace");
  auto page = Get("/manage", manager);
  ASSERT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr("job-1/label/0"));
  EXPECT_THAT(page->body, HasSubstr("<option value=\"" + juma + "\">Juma</option>"));

  // The move names who is signed in (a name typed counts for nothing); then the dispatcher's
  // reassignment replaces the held one.
  const std::string aid = "job-1/label/0@" + fatuma;
  auto moved = Post("/manage/move", manager, {{"aid", aid}, {"to", juma}, {"by", "Wanjiru"}});
  ASSERT_EQ(moved->status, 200);
  EXPECT_THAT(moved->body, HasSubstr("Moved."));
  ASSERT_EQ(reassigns_.size(), 1u);
  EXPECT_EQ(reassigns_[0].assignment_id(), aid);
  EXPECT_EQ(reassigns_[0].to_worker(), juma);
  EXPECT_EQ(reassigns_[0].decided_by(), "grace");
  EXPECT_EQ(state_->HeldFor(fatuma), 0u);
  ASSERT_EQ(state_->HeldFor(juma), 1u);
  EXPECT_EQ(state_->PeekNext(juma)->assignment().assignment_id(), "job-1/label/0@" + juma);
  EXPECT_EQ(state_->PeekNext(juma)->assignment().epoch(), 3u);

  // Reserving the stage for Juma: Fatuma's credits exclude it from now on.
  auto bad = Post("/manage/reserve", manager, {{"stage", "label"}, {"workers", juma}});
  EXPECT_EQ(bad->status, 400);
  EXPECT_THAT(bad->body, HasSubstr("stage: expected &lt;job&gt;/&lt;stage&gt;"));
  auto reserved = Post("/manage/reserve", manager, {{"stage", "job-1/label"}, {"workers", juma}});
  ASSERT_EQ(reserved->status, 200);
  EXPECT_THAT(reserved->body, HasSubstr("Reserved:"));
  EXPECT_THAT(reserved->body, HasSubstr("<b>job-1/label</b>: Juma (grace)"));
  EXPECT_THAT(state_->ReservedForOthers(fatuma).stages, ElementsAre("job-1/label"));
  EXPECT_TRUE(state_->ReservedForOthers(juma).stages.empty());
  auto opened = Post("/manage/unreserve", manager, {{"id", "job-1/label"}});
  ASSERT_EQ(opened->status, 200);
  EXPECT_TRUE(state_->Reservations().empty());
}

TEST_F(WebServerTest, TheManagerMakesATeamAndReservesABatchOfItemsForIt) {
  std::string code;
  const std::string fatuma = AddWorker("Fatuma", &code);
  const std::string juma = AddWorker("Juma", &code);
  const std::string manager = SignInAsManager("grace");

  auto team = Post("/manage/team", manager,
                   {{"team_name", "night"}, {"workers", juma}, {"workers", fatuma}});
  ASSERT_EQ(team->status, 200);
  EXPECT_THAT(team->body, HasSubstr("The team is saved."));
  EXPECT_THAT(team->body, HasSubstr("<b>night</b>: Juma, Fatuma (grace)"));
  EXPECT_THAT(team->body, HasSubstr("<option value=\"night\">night</option>"));

  // A batch needs both ends, in order.
  auto half = Post("/manage/reserve", manager,
                   {{"stage", "job-1/label"}, {"first", "100"}, {"team", "night"}});
  EXPECT_EQ(half->status, 400);
  EXPECT_THAT(half->body, HasSubstr("items: give both the first and the last item number"));
  auto backwards =
      Post("/manage/reserve", manager,
           {{"stage", "job-1/label"}, {"first", "9"}, {"last", "2"}, {"team", "night"}});
  EXPECT_EQ(backwards->status, 400);
  EXPECT_TRUE(state_->Reservations().empty());

  auto reserved =
      Post("/manage/reserve", manager,
           {{"stage", "job-1/label"}, {"first", "100"}, {"last", "199"}, {"team", "night"}});
  ASSERT_EQ(reserved->status, 200);
  EXPECT_THAT(reserved->body, HasSubstr("<b>job-1/label</b> items 100 to 199: Team night (grace)"));
  EXPECT_TRUE(state_->ReservedForOthers(juma).batches.empty());
  EXPECT_TRUE(state_->ReservedForOthers(fatuma).batches.empty());
  // Fatuma leaves the team: from her next credit she is leased none of items 100-199.
  ASSERT_EQ(Post("/manage/team", manager, {{"team_name", "night"}, {"workers", juma}})->status,
            200);
  auto others = state_->ReservedForOthers(fatuma);
  ASSERT_EQ(others.batches.size(), 1u);
  EXPECT_EQ(others.batches[0].first_item(), 100u);
  EXPECT_EQ(others.batches[0].last_item(), 199u);

  // The team cannot go while its batch is reserved; opening the batch lets it go.
  auto busy = Post("/manage/disband", manager, {{"team", "night"}});
  EXPECT_EQ(busy->status, 400);
  EXPECT_THAT(busy->body, HasSubstr("job-1/label#100-199 is reserved for it"));
  ASSERT_EQ(Post("/manage/unreserve", manager, {{"id", "job-1/label#100-199"}})->status, 200);
  auto gone = Post("/manage/disband", manager, {{"team", "night"}});
  ASSERT_EQ(gone->status, 200);
  EXPECT_THAT(gone->body, HasSubstr("The team is disbanded."));
  EXPECT_TRUE(state_->Teams().empty());
}

TEST_F(WebServerTest, PastTheDailyLimitNoTaskIsOfferedAndTheWorkerGoesOffDuty) {
  Restart({.listen = "127.0.0.1:0", .max_minutes_per_day = 1});
  std::string code;
  const std::string w = AddWorker("Fatuma", &code);
  for (int item : {0, 1, 2}) Hold(w, item, Choice());
  const std::string cookie = SignIn(code);
  DoTask(cookie, "job-1/label/0@" + w, 40);
  DoTask(cookie, "job-1/label/1@" + w, 25);  // 65 s on task today: past one minute
  auto page = Get("/task", cookie);
  EXPECT_THAT(page->body, HasSubstr("You have worked 0.0 hours today"));
  EXPECT_THAT(page->body, Not(HasSubstr("id=\"start\"")));
  EXPECT_THAT(on_duty_calls_, ElementsAre(w + "+", w + "-"));
  EXPECT_EQ(Post("/task/start", cookie, {{"aid", "job-1/label/2@" + w}})->status, 303);
  EXPECT_EQ(state_->PeekNext(w)->opened_at_ms(), 0);  // not started past the limit
}

TEST_F(WebServerTest, DistressingTasksPastTheDailyCapArePassedBack) {
  Restart({.listen = "127.0.0.1:0", .distressing_per_day = 1});
  std::string code;
  const std::string w = AddWorker("Grace", &code);
  Hold(w, 0, Choice(), /*distressing=*/true);
  Hold(w, 1, Choice(), /*distressing=*/true);
  Hold(w, 2, Choice());
  const std::string cookie = SignIn(code);
  DoTask(cookie, "job-1/moderate/0@" + w, 20);
  auto page = Get("/task", cookie);
  EXPECT_THAT(page->body, HasSubstr("Tasks with upsetting content stop here for today (1 done)"));
  EXPECT_EQ(state_->PeekNext(w)->assignment().assignment_id(), "job-1/label/2@" + w);
  std::vector<v1::Result> out = state_->PendingResults(10);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].assignment_id(), "job-1/moderate/1@" + w);
  EXPECT_TRUE(out[1].answer().skipped());
  EXPECT_EQ(out[1].answer().skip_reason(), "welfare: daily exposure cap");
}

TEST_F(WebServerTest, ALongStretchWithoutAPauseBringsABreakReminder) {
  Restart({.listen = "127.0.0.1:0", .break_after_minutes = 1});
  std::string code;
  const std::string w = AddWorker("Halima", &code);
  for (int item : {0, 1, 2, 3}) Hold(w, item, Choice());
  const std::string cookie = SignIn(code);
  DoTask(cookie, "job-1/label/0@" + w, 30);
  EXPECT_THAT(Get("/task", cookie)->body, Not(HasSubstr("id=\"break\"")));
  DoTask(cookie, "job-1/label/1@" + w, 40);  // 70 s since the first start
  EXPECT_THAT(Get("/task", cookie)->body,
              HasSubstr("You have worked for 1 minutes without a break"));
  clock_.AdvanceMs(11 * 60 * 1000);  // a real pause ends the stretch
  DoTask(cookie, "job-1/label/2@" + w, 20);
  EXPECT_THAT(Get("/task", cookie)->body, Not(HasSubstr("id=\"break\"")));
}

// ---- A neighbour on the centre's Wi-Fi tries every door ----

// Opens a connection to the page from `from` (any 127.x.y.z address is this machine) and sends
// `head`; returns the socket, or -1.
int SendFrom(int port, const char* from, const std::string& head) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, from, &local.sin_addr);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  EXPECT_EQ(send(fd, head.data(), head.size(), 0), static_cast<ssize_t>(head.size()));
  return fd;
}

// What comes back on `fd` until the server closes it; closes it too.
std::string ReadToClose(int fd) {
  std::string reply;
  char buf[4096];
  for (ssize_t n; (n = recv(fd, buf, sizeof(buf), 0)) > 0;) reply.append(buf, n);
  close(fd);
  return reply;
}

// Sends `head` (request line and headers, no body) on a fresh connection and returns what comes
// back until the server closes it.
std::string RawExchange(int port, const std::string& head, const char* from = "127.0.0.1") {
  const int fd = SendFrom(port, from, head);
  return fd < 0 ? "" : ReadToClose(fd);
}

// The slowloris attack: eight neighbours' connections sending headers a line at a time blocked
// every request. Now each address holds at most its share, and the page answers everyone else.
TEST_F(WebServerTest, HalfSentRequestsHoldNoMoreThanTheirAddressesShare) {
  Restart({.listen = "127.0.0.1:0",
           .manager_code = kManagerCode,
           .connection_limits = {.per_address = 2, .total = 16}});
  const std::string half = "GET /signin HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n";
  std::vector<int> slow;
  for (const char* from : {"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"}) {
    for (int i = 0; i < 2; ++i) {
      slow.push_back(SendFrom(web_->port(), from, half));
      ASSERT_GE(slow.back(), 0);
    }
  }
  web_->connections().AwaitHeld(8);
  EXPECT_EQ(web_->connections().Held(), 8u);
  // A third from one of them is turned away at once, and said why.
  const std::string refused = RawExchange(web_->port(), half, "127.0.0.2");
  EXPECT_THAT(refused, ::testing::StartsWith("HTTP/1.1 503 Service Unavailable\r\n"));
  EXPECT_THAT(refused, HasSubstr("Retry-After: 5\r\n"));
  EXPECT_THAT(refused, HasSubstr("Too many connections from this device."));
  // Everyone else is served.
  const std::string served = RawExchange(
      web_->port(), "GET /signin HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
      "127.0.0.9");
  EXPECT_THAT(served, ::testing::StartsWith("HTTP/1.1 200 OK\r\n"));
  auto page = client_->Get("/signin");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  for (int fd : slow) close(fd);
}

// However slowly its bytes come, a request has a deadline: its first part within first_ms. A
// connection that sent half its headers is answered 400 and closed when it passes.
TEST_F(WebServerTest, AHalfSentRequestIsCutOffAtItsDeadline) {
  Restart({.listen = "127.0.0.1:0",
           .manager_code = kManagerCode,
           .connection_limits = {.first_ms = 200}});
  const int fd = SendFrom(web_->port(), "127.0.0.2", "GET /signin HTTP/1.1\r\nHost: x\r\n");
  ASSERT_GE(fd, 0);
  EXPECT_THAT(ReadToClose(fd), ::testing::StartsWith("HTTP/1.1 400 Bad Request\r\n"));
}

TEST_F(WebServerTest, EveryResponseCarriesTheSecurityHeaders) {
  auto page = client_->Get("/signin");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->get_header_value("X-Frame-Options"), "DENY");
  EXPECT_EQ(page->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(page->get_header_value("Referrer-Policy"), "same-origin");
  const std::string csp = page->get_header_value("Content-Security-Policy");
  EXPECT_THAT(csp, ::testing::MatchesRegex(
                       "default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]{44}'; "
                       "style-src 'sha256-[A-Za-z0-9+/=]{44}'; img-src 'self'; media-src 'self'; "
                       "form-action 'self'; frame-ancestors 'none'; "
                       "base-uri 'none'"));
  // The page has no script or style the policy would block: one of each, no inline handler.
  EXPECT_THAT(page->body, Not(HasSubstr("onclick")));
  EXPECT_THAT(page->body, Not(HasSubstr("style=\"")));
  EXPECT_EQ(Get("/nowhere", "")->get_header_value("X-Frame-Options"), "DENY");
}

// Nor can another site sign an old phone into someone else's code (their work would be paid to
// that code): the sign-in form's token is also the page's cookie, which another site cannot set.
TEST_F(WebServerTest, ASignInFormFromAnotherSiteSignsNobodyIn) {
  std::string code;
  AddWorker("Amina", &code);
  auto bare = client_->Post("/signin", httplib::Params{{"code", code}});
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->status, 403);
  EXPECT_FALSE(bare->has_header("Set-Cookie"));
  const std::string forged_token(32, 'a');
  auto guessed = client_->Post(
      "/signin", httplib::Headers{{"Cookie", absl::StrCat("mw_signin=", std::string(32, 'b'))}},
      httplib::Params{{"code", code}, {WebServer::kFormTokenField, forged_token}});
  ASSERT_TRUE(guessed);
  EXPECT_EQ(guessed->status, 403);
  EXPECT_FALSE(guessed->has_header("Set-Cookie"));
  auto own = PostSignIn(code);
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 303);
  EXPECT_THAT(own->get_header_value("Set-Cookie"), HasSubstr("mw_session="));
}

// A browser that sends neither Origin nor Sec-Fetch-Site (an old phone's) still cannot be made
// to post for its user: the form token is in the page, which another site cannot read.
TEST_F(WebServerTest, AFormWithoutThePagesTokenChangesNothing) {
  const std::string manager = SignIn(kManagerCode);
  const std::string token = FormToken(manager);
  ASSERT_EQ(token.size(), 64u);
  // Every form of the page carries the token.
  auto page = Get("/manage", manager);
  ASSERT_EQ(page->status, 200);
  EXPECT_GE(FormsCarrying(page->body, token), 3u);

  const httplib::Params add{{"name", "Mallory"}, {"contact", "x"}, {"languages", "en"}};
  auto missing = client_->Post("/manage/add", httplib::Headers{{"Cookie", manager}}, add);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 403);
  EXPECT_THAT(missing->body, HasSubstr("did not come from this page"));
  httplib::Params wrong = add;
  wrong.emplace(WebServer::kFormTokenField, FormToken("mw_session=another-session"));
  EXPECT_EQ(client_->Post("/manage/add", httplib::Headers{{"Cookie", manager}}, wrong)->status,
            403);
  EXPECT_TRUE(state_->Roster().empty());
  // Signing out takes the token too: without it the session goes on.
  EXPECT_EQ(
      client_->Post("/signout", httplib::Headers{{"Cookie", manager}}, httplib::Params{})->status,
      403);
  EXPECT_EQ(Get("/manage", manager)->status, 200);
  // From the page, with its token, it works.
  EXPECT_EQ(Post("/manage/add", manager, add)->status, 200);
  EXPECT_EQ(state_->Roster().size(), 1u);

  // A worker's answer too.
  std::string code;
  const std::string w = AddWorker("Amina", &code);
  Hold(w, 0, Choice());
  const std::string cookie = SignIn(code);
  const std::string aid = "job-1/label/0@" + w;
  ASSERT_EQ(Post("/task/start", cookie, {{"aid", aid}})->status, 303);
  auto task = Get("/task", cookie);
  // Answer, skip, report the task, a switch to each of the three other languages, sign out.
  EXPECT_EQ(FormsCarrying(task->body, FormToken(cookie)), 7u);
  auto forged = client_->Post(
      "/task/answer", httplib::Headers{{"Cookie", cookie}},
      httplib::Params{{"aid", aid}, {"epoch", "2"}, {"hidden_ms", "0"}, {"choice", "positive"}});
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 403);
  EXPECT_TRUE(state_->PendingFor(w).empty());
}

TEST_F(WebServerTest, AFormSentFromAnotherSiteChangesNothing) {
  const std::string manager = SignIn(kManagerCode);
  auto forged = client_->Post(
      "/manage/add", httplib::Headers{{"Cookie", manager}, {"Origin", "http://evil.example"}},
      httplib::Params{{"name", "Mallory"}, {"contact", "x"}, {"languages", "en"}});
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 403);
  EXPECT_TRUE(state_->Roster().empty());
  auto fetched = client_->Post(
      "/manage/add", httplib::Headers{{"Cookie", manager}, {"Sec-Fetch-Site", "cross-site"}},
      httplib::Params{{"name", "Mallory"}, {"contact", "x"}, {"languages", "en"}});
  ASSERT_TRUE(fetched);
  EXPECT_EQ(fetched->status, 403);
  EXPECT_TRUE(state_->Roster().empty());
  // From the page itself it works.
  auto own =
      client_->Post("/manage/add",
                    httplib::Headers{{"Cookie", manager},
                                     {"Origin", absl::StrCat("http://127.0.0.1:", web_->port())},
                                     {"Sec-Fetch-Site", "same-origin"}},
                    httplib::Params{{"name", "Amina"},
                                    {"contact", "x"},
                                    {"languages", "en"},
                                    {WebServer::kFormTokenField, FormToken(manager)}});
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 200);
  EXPECT_EQ(state_->Roster().size(), 1u);
}

TEST_F(WebServerTest, BackNeverLeadsToAnotherSite) {
  std::string code;
  AddWorker("Amina", &code);
  const std::string cookie = SignIn(code);
  for (const char* back :
       {"//evil.example/", "/\\evil.example", "https://evil.example", "/ok\r\nSet-Cookie:x=1"}) {
    auto res = Post("/lang", cookie, {{"to", "sw"}, {"back", back}});
    ASSERT_TRUE(res) << back;
    EXPECT_EQ(res->get_header_value("Location"), "/") << back;
  }
  auto local = Post("/lang", cookie, {{"to", "en"}, {"back", "/earnings"}});
  EXPECT_EQ(local->get_header_value("Location"), "/earnings");
}

TEST_F(WebServerTest, WrongCodesFromOneDeviceAreThrottledThenAllowedAgain) {
  std::string code;
  AddWorker("Amina", &code);
  for (int i = 0; i < 5; ++i) {
    auto wrong = PostSignIn("00000000");
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 401) << i;
  }
  // The sixth try is refused whatever it is, the right code too: guessing learns nothing.
  auto held = PostSignIn(code);
  ASSERT_TRUE(held);
  EXPECT_EQ(held->status, 429);
  EXPECT_EQ(held->get_header_value("Retry-After"), "900");
  EXPECT_THAT(held->body, HasSubstr("Too many wrong codes from this device. Wait 15 minutes"));
  EXPECT_FALSE(held->has_header("Set-Cookie"));
  auto manager = PostSignIn(kManagerCode);
  EXPECT_EQ(manager->status, 429);
  clock_.AdvanceMs(15 * 60 * 1000);
  EXPECT_FALSE(SignIn(code).empty());
}

TEST_F(WebServerTest, AShortManagerCodeIsRefusedAtStart) {
  web_.reset();
  auto web = WebServer::Start(state_.get(), &clock_, hooks_,
                              {.listen = "127.0.0.1:0", .manager_code = "1234"});
  EXPECT_EQ(web.status(),
            absl::InvalidArgumentError(
                "--manager-code-file: the code must have at least 12 characters, got 4"));
}

TEST_F(WebServerTest, SessionsEndAfterTheirHoursAndWhenANewCodeIsIssued) {
  std::string code;
  const std::string w = AddWorker("Amina", &code);
  const std::string cookie = SignIn(code);
  const std::string manager = SignIn(kManagerCode);
  ASSERT_EQ(Get("/task", cookie)->status, 200);
  // The manager issues a new code (the old one was lost or shared): the old session ends.
  auto issued = Post("/manage/code", manager, {{"worker", w}});
  ASSERT_TRUE(issued);
  ASSERT_EQ(issued->status, 200);
  std::smatch fresh;
  ASSERT_TRUE(std::regex_search(issued->body, fresh, std::regex("<b id=\"code\">([0-9]{12})</b>")));
  EXPECT_EQ(Get("/task", cookie)->status, 303);
  EXPECT_EQ(Get("/manage", manager)->status, 200);  // not the manager's
  const std::string again = SignIn(fresh[1].str());
  EXPECT_EQ(Get("/task", again)->status, 200);
  // Twelve hours on, without a restart: over.
  clock_.AdvanceMs(12 * 3'600'000);
  EXPECT_EQ(Get("/task", again)->status, 303);
  EXPECT_EQ(Get("/manage", manager)->status, 303);
}

TEST_F(WebServerTest, ABodyTooBigIsRefusedFromItsHeadersBeforeAnyOfItIsRead) {
  // 1 GB announced, nothing sent: the answer comes at once, from the headers.
  const std::string reply =
      RawExchange(web_->port(),
                  "POST /signin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                  "application/x-www-form-urlencoded\r\nContent-Length: 1073741824\r\n\r\n");
  EXPECT_THAT(reply, ::testing::StartsWith("HTTP/1.1 413"));
  EXPECT_THAT(reply, HasSubstr("at most 262144 bytes"));
  const std::string chunked =
      RawExchange(web_->port(),
                  "POST /signin HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_THAT(chunked, ::testing::StartsWith("HTTP/1.1 411"));
}

TEST_F(WebServerTest, AThousandCharacterEthiopicAnswerIsSaved) {
  // 1000 characters of three bytes each are 9000 bytes URL-encoded three times over: more than
  // the HTTP library's 8 KB form limit. The answer form is multipart and takes it.
  std::string code;
  const std::string w = AddWorker("Selam", &code);
  v1::AnswerSchema text;
  text.mutable_text()->set_max_length(2000);
  Hold(w, 0, text);
  const std::string cookie = SignIn(code);
  auto page = Get("/task", cookie);
  const std::string aid = "job-1/label/0@" + w;
  ASSERT_EQ(Post("/task/start", cookie, {{"aid", aid}})->status, 303);
  EXPECT_THAT(Get("/task", cookie)->body, HasSubstr("enctype=\"multipart/form-data\""));
  std::string answer;
  for (int i = 0; i < 1000; ++i) answer += "ሰ";
  auto saved = client_->Post(
      "/task/answer", httplib::Headers{{"Cookie", cookie}},
      httplib::MultipartFormDataItems{{"aid", aid, "", ""},
                                      {"epoch", "2", "", ""},
                                      {"hidden_ms", "0", "", ""},
                                      {"text", answer, "", ""},
                                      {WebServer::kFormTokenField, FormToken(cookie), "", ""}});
  ASSERT_TRUE(saved);
  ASSERT_EQ(saved->status, 303) << saved->body;
  EXPECT_THAT(saved->get_header_value("Location"), HasSubstr("notice=saved"));
  auto pending = state_->PendingFor(w);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].answer().text(), answer);
}

TEST_F(WebServerTest, SpansPicksAndRankingsAreCheckedOnThePageBeforeTheyAreSaved) {
  // Spans: the item's words are buttons carrying their place; the text is not listed again.
  std::string code;
  const std::string w = AddWorker("Neema", &code);
  v1::AnswerSchema spans;
  spans.mutable_spans()->set_field("text");
  spans.mutable_spans()->add_labels("PRODUCT");
  Hold(w, 0, spans);
  std::string cookie = SignIn(code);
  std::string aid = "job-1/label/0@" + w;
  ASSERT_EQ(Post("/task/start", cookie, {{"aid", aid}})->status, 303);
  std::string page = Get("/task", cookie)->body;
  EXPECT_THAT(page, HasSubstr("<button type=\"button\" class=\"w\" data-s=\"6\" data-e=\"18\">"
                              "&lt;b&gt;phone&lt;/b&gt;</button>"));
  EXPECT_THAT(page, Not(HasSubstr("<dt>text</dt>")));
  auto refused = Post("/task/answer", cookie,
                      {{"aid", aid}, {"epoch", "2"}, {"spans", "0-3:PRODUCT"}, {"hidden_ms", "0"}});
  EXPECT_EQ(refused->status, 400);
  EXPECT_THAT(refused->body,
              HasSubstr("span 1 (0-3): expected whole words, from a word&#39;s start"));
  EXPECT_TRUE(state_->PendingFor(w).empty());
  auto saved = Post("/task/answer", cookie,
                    {{"aid", aid}, {"epoch", "2"}, {"spans", "6-18:PRODUCT"}, {"hidden_ms", "0"}});
  ASSERT_EQ(saved->status, 303) << saved->body;
  ASSERT_EQ(state_->PendingFor(w).size(), 1u);
  EXPECT_EQ(state_->PendingFor(w)[0].answer().spans().ShortDebugString(),
            "spans { start: 6 end: 18 label: \"PRODUCT\" } field: \"text\"");

  // A comparison: A or B, with the reason when the stage asks for one.
  const std::string w2 = AddWorker("Baraka", &code);
  v1::AnswerSchema pair;
  pair.mutable_comparison()->set_a_field("text");
  pair.mutable_comparison()->set_b_field("other");
  pair.mutable_comparison()->set_ask_reason(true);
  Hold(w2, 1, pair);
  cookie = SignIn(code);
  aid = "job-1/label/1@" + w2;
  ASSERT_EQ(Post("/task/start", cookie, {{"aid", aid}})->status, 303);
  page = Get("/task", cookie)->body;
  EXPECT_THAT(page, HasSubstr("<div class=\"card\" id=\"version-a\"><h3>Version A</h3><p>great "
                              "&lt;b&gt;phone&lt;/b&gt;</p>"));
  EXPECT_THAT(page, HasSubstr("<textarea name=\"pick_reason\" rows=\"3\" maxlength=\"500\">"));
  EXPECT_EQ(
      Post("/task/answer", cookie, {{"aid", aid}, {"epoch", "2"}, {"hidden_ms", "0"}})->status,
      400);
  saved = Post("/task/answer", cookie,
               {{"aid", aid},
                {"epoch", "2"},
                {"pick", "b"},
                {"pick_reason", "Shorter"},
                {"hidden_ms", "0"}});
  ASSERT_EQ(saved->status, 303) << saved->body;
  EXPECT_EQ(state_->PendingFor(w2)[0].answer().pick().ShortDebugString(),
            "winner: \"b\" reason: \"Shorter\"");

  // A ranking: each option its own place.
  const std::string w3 = AddWorker("Zawadi", &code);
  v1::AnswerSchema rank;
  rank.mutable_ranking()->add_fields("text");
  rank.mutable_ranking()->add_fields("other");
  Hold(w3, 2, rank);
  cookie = SignIn(code);
  aid = "job-1/label/2@" + w3;
  ASSERT_EQ(Post("/task/start", cookie, {{"aid", aid}})->status, 303);
  page = Get("/task", cookie)->body;
  // No place is chosen at first: a form sent untouched is refused, not taken as the fields' order.
  EXPECT_THAT(page, HasSubstr("<select name=\"rank_1\" required><option value=\"\">&mdash;</option>"
                              "<option>1</option><option>2</option></select>"));
  for (const auto& [first, second] :
       {std::pair{"2", "2"}, std::pair{"", ""}, std::pair{"1", "3"}}) {
    refused = Post(
        "/task/answer", cookie,
        {{"aid", aid}, {"epoch", "2"}, {"rank_0", first}, {"rank_1", second}, {"hidden_ms", "0"}});
    EXPECT_EQ(refused->status, 400);
    EXPECT_THAT(refused->body, HasSubstr("give each option its own place, 1 to 2"));
  }
  saved =
      Post("/task/answer", cookie,
           {{"aid", aid}, {"epoch", "2"}, {"rank_0", "2"}, {"rank_1", "1"}, {"hidden_ms", "0"}});
  ASSERT_EQ(saved->status, 303) << saved->body;
  EXPECT_EQ(state_->PendingFor(w3)[0].answer().ranking().ShortDebugString(),
            "options: \"other\" options: \"text\"");
}

// ---- The workers' voice ----

class VoiceTest : public WebServerTest {
 protected:
  // A worker paid for one answer on job-1, signed in; returns their cookie.
  std::string PaidWorker(std::string* pseudonym) {
    std::string code;
    *pseudonym = AddWorker("Chausiku", &code);
    Hold(*pseudonym, 0, Choice());
    const std::string cookie = SignIn(code);
    DoTask(cookie, absl::StrCat("job-1/label/0@", *pseudonym), 10);
    v1::Receipt receipt;
    receipt.set_result_id(absl::StrCat("r:job-1/label/0@", *pseudonym, ":2"));
    receipt.set_status(v1::RECEIPT_ACCEPTED);
    receipt.set_wage_minor(5);
    receipt.set_currency("USD");
    EXPECT_TRUE(state_->ApplyReceipts({receipt}).ok());
    return cookie;
  }
};

TEST_F(VoiceTest, AWorkerRatesAJobAndFilesAComplaintThatAManagerAnswers) {
  std::string w;
  const std::string cookie = PaidWorker(&w);
  auto page = Get("/voice", cookie);
  ASSERT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr("id=\"rate-job-1\""));
  // Rating and complaint, and the three languages and signing out in the navigation.
  EXPECT_EQ(FormsCarrying(page->body, FormToken(cookie)), 6u);
  auto rated = Post("/voice/rate", cookie,
                    {{"job", "job-1"},
                     {"clarity", "4"},
                     {"time_estimate", "2"},
                     {"pay_fairness", "3"},
                     {"comment", "Pictures were dark"}});
  ASSERT_EQ(rated->status, 303);
  EXPECT_EQ(rated->get_header_value("Location"), "/voice?notice=rating_saved");
  ASSERT_TRUE(state_->voice().RatingOf(w, "job-1").has_value());
  EXPECT_EQ(state_->voice().RatingOf(w, "job-1")->clarity(), 4u);
  EXPECT_EQ(state_->voice().RatingOf(w, "job-1")->time_estimate(), 2u);
  // Not a job of theirs, a score off the scale, or a second rating: nothing is kept, and the
  // page says why in the worker's language.
  auto other =
      Post("/voice/rate", cookie,
           {{"job", "job-9"}, {"clarity", "4"}, {"time_estimate", "2"}, {"pay_fairness", "3"}});
  EXPECT_EQ(other->status, 400);
  EXPECT_THAT(other->body, HasSubstr("You can rate only the jobs you worked on here."));
  auto off =
      Post("/voice/rate", cookie,
           {{"job", "job-1"}, {"clarity", "6"}, {"time_estimate", "2"}, {"pay_fairness", "3"}});
  EXPECT_EQ(off->status, 400);
  EXPECT_THAT(off->body, HasSubstr("Choose 1 to 5 for each question"));
  auto again =
      Post("/voice/rate", cookie,
           {{"job", "job-1"}, {"clarity", "1"}, {"time_estimate", "1"}, {"pay_fairness", "1"}});
  EXPECT_EQ(again->status, 400);
  EXPECT_THAT(again->body, HasSubstr("A rating is given once"));
  EXPECT_EQ(state_->voice().RatingOf(w, "job-1")->clarity(), 4u);
  EXPECT_THAT(Get("/voice", cookie)->body, HasSubstr("Your rating: clarity 4 · time 2 · pay 3"));

  auto filed = Post("/voice/complain", cookie,
                    {{"topic", "1"}, {"text", "Friday's pay did not <b>arrive</b>."}});
  ASSERT_EQ(filed->status, 303);
  page = Get("/voice", cookie);
  EXPECT_THAT(page->body, HasSubstr("<q>Friday&#39;s pay did not &lt;b&gt;arrive&lt;/b&gt;.</q>"));
  EXPECT_THAT(page->body, HasSubstr("waiting for an answer (0 hours)"));
  auto bad = Post("/voice/complain", cookie, {{"topic", "9"}, {"text", "x"}});
  EXPECT_EQ(bad->status, 400);
  EXPECT_THAT(bad->body, HasSubstr("Choose what it is about"));

  // The manager sees it with its age and answers; one rating is not shown (fewer than five).
  clock_.AdvanceMs(5 * 3'600'000);
  const std::string manager = SignInAsManager("halima");
  auto manage = Get("/manage", manager);
  ASSERT_EQ(manage->status, 200);
  EXPECT_THAT(manage->body, HasSubstr("waiting for an answer (5 hours)"));
  EXPECT_THAT(manage->body, HasSubstr("The oldest open complaint has waited 5 hours."));
  EXPECT_THAT(manage->body, HasSubstr("1 jobs have ratings from fewer than 5 workers: not shown"));
  EXPECT_THAT(manage->body, Not(HasSubstr("Pictures were dark")));
  const size_t voice_at = manage->body.find("id=\"voice\"");
  ASSERT_NE(voice_at, std::string::npos);
  const std::string voice =
      manage->body.substr(voice_at, manage->body.find("<h2>", voice_at) - voice_at);
  EXPECT_THAT(voice, HasSubstr("Friday&#39;s pay"));
  EXPECT_THAT(voice, Not(HasSubstr(w)));  // nobody is named
  EXPECT_THAT(voice, Not(HasSubstr("Chausiku")));
  auto answered = Post("/manage/complaint", manager, {{"id", "1"}, {"answer", "Paid today."}});
  ASSERT_EQ(answered->status, 200);
  EXPECT_THAT(answered->body, HasSubstr("Your answer is saved"));
  EXPECT_EQ(Post("/manage/complaint", manager, {{"id", "1"}, {"answer", "Again"}})->status, 400);
  EXPECT_EQ(Post("/manage/complaint", manager, {{"id", "7"}, {"answer", "x"}})->status, 404);
  page = Get("/voice", cookie);
  EXPECT_THAT(page->body, HasSubstr("Answered by halima on "));
  EXPECT_THAT(page->body, HasSubstr("<q class=\"answer-text\">Paid today.</q>"));
  // A worker cannot answer.
  EXPECT_EQ(Post("/manage/complaint", cookie, {{"id", "1"}, {"answer", "x"}})->status, 303);
  EXPECT_EQ(state_->voice().ComplaintsOf(w)[0].answered_by(), "halima");
}

TEST_F(VoiceTest, TheWorkersRepresentativeReadsAggregatesAndDecidesNothing) {
  std::string w;
  const std::string cookie = PaidWorker(&w);
  ASSERT_EQ(Post("/voice/complain", cookie, {{"topic", "3"}, {"text", "No fire exit."}})->status,
            303);
  const std::string installation = SignIn(kManagerCode);
  auto added = Post("/manage/managers/add", installation, {{"name", "baraka"}, {"role", "rep"}});
  ASSERT_EQ(added->status, 200) << added->body;
  const std::string first = SignIn(ShownCode(added->body));
  auto renewed = Post("/manage/managers/code", first, {{"name", "baraka"}});
  ASSERT_EQ(renewed->status, 200) << renewed->body;
  const std::string rep = SignIn(ShownCode(renewed->body));
  auto page = Get("/manage", rep);
  ASSERT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr("<tr><td>Safety</td><td>1</td><td>0</td></tr>"));
  EXPECT_THAT(page->body, Not(HasSubstr("No fire exit.")));  // counts, not words
  EXPECT_THAT(page->body, Not(HasSubstr("id=\"roster\"")));
  EXPECT_THAT(page->body, Not(HasSubstr(w)));
  for (const char* path : {"/manage/complaint", "/manage/add", "/manage/managers/add"}) {
    auto refused = Post(path, rep, {{"id", "1"}, {"answer", "x"}, {"name", "x"}});
    EXPECT_EQ(refused->status, 403) << path;
  }
  EXPECT_FALSE(state_->voice().Complaints()[0].answered());
  // The managers' list says who represents the workers.
  EXPECT_THAT(Get("/manage", installation)->body,
              HasSubstr("<b>baraka</b> &middot; Workers&#39; representative (reads only)"));
}

TEST_F(VoiceTest, AWorkerFlagsTheTaskInFrontOfThemAndNoOtherOne) {
  std::string code;
  const std::string w = AddWorker("Juma", &code);
  Hold(w, 0, Choice());
  const std::string cookie = SignIn(code);
  const std::string aid = absl::StrCat("job-1/label/0@", w);
  ASSERT_EQ(Post("/task/start", cookie, {{"aid", aid}})->status, 303);
  auto task = Get("/task", cookie);
  EXPECT_THAT(task->body, HasSubstr("action=\"/task/flag\""));
  auto flagged = Post("/task/flag", cookie, {{"aid", aid}, {"kind", "1"}, {"note", "Gore"}});
  ASSERT_EQ(flagged->status, 303);
  EXPECT_EQ(flagged->get_header_value("Location"), "/task?notice=flag_saved");
  auto other = Post("/task/flag", cookie, {{"aid", "job-1/label/5@someone"}, {"kind", "1"}});
  EXPECT_EQ(other->status, 400);
  ASSERT_EQ(state_->voice().Flags().size(), 1u);
  EXPECT_EQ(state_->voice().Flags()[0].task_id(), "job-1/label/0");
  EXPECT_EQ(state_->voice().Flags()[0].note(), "Gore");
}

TEST_F(VoiceTest, DatesAreWrittenInTheWorkersLanguage) {
  std::string w;
  const std::string cookie = PaidWorker(&w);
  ASSERT_EQ(Post("/voice/complain", cookie, {{"topic", "2"}, {"text", "x"}})->status, 303);
  const absl::CivilMinute t =
      absl::ToCivilMinute(absl::FromUnixMillis(clock_.NowMs()), absl::LocalTimeZone());
  const std::string hhmm = absl::StrFormat("%02d:%02d", t.hour(), t.minute());
  // CLDR's abbreviated month names (Urdu's are the full ones).
  const char* en[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const char* ur[] = {"جنوری",  "فروری", "مارچ",  "اپریل",  "مئی",   "جون",
                      "جولائی", "اگست",  "ستمبر", "اکتوبر", "نومبر", "دسمبر"};
  EXPECT_THAT(Get("/voice", cookie)->body,
              HasSubstr(absl::StrCat("&middot; ", t.day(), " ", en[t.month() - 1], " ", hhmm)));
  ASSERT_EQ(Post("/lang", cookie, {{"to", "ur"}, {"back", "/voice"}})->status, 303);
  auto urdu = client_->Get("/voice", httplib::Headers{{"Cookie", cookie + "; mw_lang=ur"}});
  ASSERT_EQ(urdu->status, 200);
  EXPECT_THAT(urdu->body, HasSubstr("dir=\"rtl\""));
  EXPECT_THAT(urdu->body,
              HasSubstr(absl::StrCat("&middot; ", t.day(), " ", ur[t.month() - 1], " ", hhmm)));
}

}  // namespace
}  // namespace mw::agent::web
