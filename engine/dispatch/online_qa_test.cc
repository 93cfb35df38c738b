// Online QA in the engine: dynamic overlap, the review queue, gold tasks and skill estimates.
#include <map>

#include "absl/strings/str_cat.h"
#include "engine/common/ids.h"
#include "engine/contract/contract_file.h"
#include "engine/dispatch/engine.h"
#include "engine/dispatch/engine_test_fixture.h"
#include "engine/ledger/audit_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::dispatch {
namespace {

using ::testing::ElementsAre;

constexpr char kDynamic[] = R"(
name: Online QA
client: acme
currency: USD
budget_minor: 100000
inputs:
  - {name: items, format: FORMAT_CSV, inline_text: "id,text\n1,a\n2,b\n"}
  - {name: checks, format: FORMAT_CSV, inline_text: "id,text,answer\ng1,x,yes\ng2,y,no\n"}
stages:
  - name: rows
    split: {input: items, by: SPLIT_ROWS}
  - name: label
    after: [rows]
    human:
      instructions: {en: "Yes or no?"}
      answer: {single_choice: {options: ["yes", "no"]}}
      piece_rate_minor: 5
      estimated_seconds: 20
      overlap: 2
      qa: {method: MAJORITY_VOTE, confidence_target: 0.9, max_overlap: 4, gold_per_thousand: GOLD}
      gold_input: checks
)";

class OnlineQaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = std::move(Engine::Open(dir_.Sub("db"), &clock_, Engine::Options()).value());
    v1::AddCentreRequest add;
    add.set_idempotency_key("c");
    v1::Centre* c = add.mutable_centre();
    c->set_id("nairobi");
    c->set_region("KE");
    c->set_currency("USD");
    c->set_wage_floor_minor_per_hour(100);
    c->set_capacity(100);
    c->add_languages("sw");
    c->add_languages("en");
    ASSERT_TRUE(engine_->AddCentre(add).ok());
    v1::RegisterRequest reg;
    for (int w = 1; w <= 6; ++w) reg.add_workers()->set_worker(absl::StrCat("w", w));
    ASSERT_TRUE(engine_->Register("nairobi", reg).ok());
  }

  void Submit(int gold_per_thousand) {
    std::string text = kDynamic;
    text.replace(text.find("GOLD"), 4, std::to_string(gold_per_thousand));
    SubmitText(text);
  }

  void SubmitText(const std::string& text) {
    auto contract = contract::ParseContract(text, "t.yaml");
    ASSERT_TRUE(contract.ok()) << contract.status();
    v1::ContractHeader header;
    header.set_idempotency_key("k");
    *header.mutable_contract() = *contract;
    auto sub = engine_->BeginSubmission(header);
    ASSERT_TRUE(sub.ok()) << sub.status();
    auto reply = (*sub)->Finish();
    ASSERT_TRUE(reply.ok()) << reply.status();
  }

  std::vector<v1::Assignment> Lease(const std::string& worker, uint32_t n) {
    v1::LeaseRequest req;
    req.set_idempotency_key(absl::StrCat("L", ++leases_));
    req.add_credits()->set_worker(worker);
    req.mutable_credits(0)->set_count(n);
    auto reply = engine_->Lease("nairobi", req);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return {reply->assignments().begin(), reply->assignments().end()};
  }

  v1::Receipt Answer(const v1::Assignment& a, const std::string& choice) {
    v1::SubmitResultsRequest req;
    v1::Result* r = req.add_results();
    r->set_result_id(absl::StrCat("r-", a.assignment_id()));
    r->set_assignment_id(a.assignment_id());
    r->set_epoch(a.epoch());
    r->set_worker(a.worker());
    r->mutable_answer()->set_choice(choice);
    r->set_active_seconds(20);
    auto reply = engine_->SubmitResults("nairobi", req);
    EXPECT_TRUE(reply.ok());
    EXPECT_EQ(reply->receipts(0).status(), v1::RECEIPT_ACCEPTED);
    return reply->receipts(0);
  }

  // Leases one task for `worker`, checks it is item `item` of the client's input, answers it.
  void Do(const std::string& worker, uint64_t item, const std::string& choice) {
    auto got = Lease(worker, 1);
    ASSERT_EQ(got.size(), 1u) << worker;
    EXPECT_EQ(got[0].item().index(), item) << worker;
    Answer(got[0], choice);
  }

  v1::StatementLine Line(const std::string& worker) {
    v1::StatementRequest req;
    req.set_worker_account(WorkerAccount("nairobi", worker));
    auto st = engine_->GetStatement(req, "");
    EXPECT_TRUE(st.ok()) << st.status();
    return st.ok() ? st->lines(0) : v1::StatementLine();
  }

  std::map<uint64_t, v1::ResultRecord> Outputs() {
    std::map<uint64_t, v1::ResultRecord> out;
    EXPECT_TRUE(engine_
                    ->ExportResults("job-1",
                                    [&](const v1::ResultRecord& r) {
                                      out[r.item_index()] = r;
                                      return true;
                                    })
                    .ok());
    return out;
  }

  mw::testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<Engine> engine_;
  int leases_ = 0;
};

TEST_F(OnlineQaTest, DynamicOverlapStopsAtTheTargetOrTheCapAndQueuesAReview) {
  Submit(0);
  // Item 0: two agree at once (confidence 1.0 >= 0.9): decided with two answers.
  Do("w1", 0, "yes");
  Do("w2", 0, "yes");
  // Item 1: 1-1, then 2-1, then 2-2: one more answer each time, up to the cap of four.
  Do("w1", 1, "yes");
  Do("w2", 1, "no");
  Do("w3", 1, "yes");
  EXPECT_TRUE(Outputs().count(1) == 0);  // 2 of 3 is 0.67: not yet
  Do("w4", 1, "no");
  EXPECT_TRUE(Lease("w5", 1).empty());  // nothing left to do

  auto out = Outputs();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].answer().choice(), "yes");
  EXPECT_EQ(out[0].votes(), 2u);
  EXPECT_FALSE(out[0].needs_review());
  EXPECT_TRUE(out[1].needs_review());
  EXPECT_DOUBLE_EQ(out[1].confidence(), 0.5);
  EXPECT_EQ(engine_->Stats().overlap_extensions, 2u);
  EXPECT_EQ(engine_->GetJob("job-1")->state(), v1::JOB_COMPLETED);

  auto queue = engine_->ListReviews("", false);
  ASSERT_TRUE(queue.ok());
  ASSERT_EQ(queue->size(), 1u);
  EXPECT_EQ((*queue)[0].task_id(), "job-1/label/1");
  EXPECT_THAT((*queue)[0].workers(), ElementsAre("w1", "w2", "w3", "w4"));
  EXPECT_THAT((*queue)[0].labels(), ElementsAre("yes", "no", "yes", "no"));
  EXPECT_EQ(engine_->Stats().reviews_open, 1u);

  v1::DecideReviewRequest decide;
  decide.set_idempotency_key("d1");
  decide.set_task_id("job-1/label/1");
  decide.set_label("no");
  decide.set_reviewer("nairobi/w3");
  decide.set_reason("the text says no");
  EXPECT_EQ(engine_->DecideReview(decide).status().code(), absl::StatusCode::kPermissionDenied);
  decide.set_reviewer("nairobi/w6");
  decide.set_label("maybe");
  EXPECT_EQ(engine_->DecideReview(decide).status().code(), absl::StatusCode::kInvalidArgument);
  decide.set_label("no");
  decide.set_idempotency_key("d2");
  auto decided = engine_->DecideReview(decide);
  ASSERT_TRUE(decided.ok()) << decided.status();
  EXPECT_TRUE(decided->decided());
  EXPECT_EQ(Outputs()[1].answer().choice(), "no");
  EXPECT_EQ(Outputs()[1].reviewed_by(), "nairobi/w6");
  EXPECT_FALSE(Outputs()[1].needs_review());
  EXPECT_TRUE(engine_->ListReviews("job-1", false)->empty());
  decide.set_idempotency_key("d3");
  EXPECT_EQ(engine_->DecideReview(decide).status().code(), absl::StatusCode::kFailedPrecondition);

  // Pay: every answer, agreeing or not, at 5; the review at 5.
  for (const char* w : {"w1", "w2"}) EXPECT_EQ(Line(w).posted_minor(), 10) << w;
  for (const char* w : {"w3", "w4", "w6"}) EXPECT_EQ(Line(w).posted_minor(), 5) << w;
  EXPECT_EQ(Line("w6").reviews(), 1u);
  ledger::Auditor auditor;
  ASSERT_TRUE(ledger::AuditStore(*engine_->store(), &auditor).ok());
  EXPECT_EQ(auditor.jobs().at("job-1").wages, 35);
}

TEST_F(OnlineQaTest, ACentreDecidesTheReviewsOfStagesItMayWorkOnWithItsOwnPeople) {
  // A second centre whose floor this stage's pay (5 per 20 s = 9.00/h) does not meet.
  v1::AddCentreRequest add;
  add.set_idempotency_key("c2");
  v1::Centre* c = add.mutable_centre();
  c->set_id("lagos");
  c->set_region("NG");
  c->set_currency("USD");
  c->set_wage_floor_minor_per_hour(2000);
  c->set_capacity(100);
  ASSERT_TRUE(engine_->AddCentre(add).ok());
  Submit(0);
  Do("w1", 0, "yes");
  Do("w2", 0, "no");
  Do("w3", 0, "yes");
  Do("w4", 0, "no");  // 2-2 at the cap: item 0 waits for review

  auto nairobi = engine_->ListReviewsForCentre("nairobi");
  ASSERT_TRUE(nairobi.ok()) << nairobi.status();
  ASSERT_EQ(nairobi->reviews_size(), 1);
  EXPECT_EQ(nairobi->reviews(0).task_id(), "job-1/label/0");
  ASSERT_EQ(nairobi->specs_size(), 1);  // the answer form for the page
  EXPECT_EQ(nairobi->specs(0).stage(), "label");
  EXPECT_EQ(nairobi->specs(0).human().answer().single_choice().options_size(), 2);
  auto lagos = engine_->ListReviewsForCentre("lagos");
  ASSERT_TRUE(lagos.ok());
  EXPECT_EQ(lagos->reviews_size(), 0);
  EXPECT_EQ(engine_->ListReviewsForCentre("nowhere").status().code(), absl::StatusCode::kNotFound);

  v1::DecideReviewRequest decide;
  decide.set_idempotency_key("d1");
  decide.set_task_id("job-1/label/0");
  decide.set_label("yes");
  decide.set_reason("the text says yes");
  // Lagos may not decide it, even naming its own person; nor name another centre's person.
  decide.set_reviewer("x9");
  EXPECT_EQ(engine_->DecideReview(decide, "lagos").status().code(), absl::StatusCode::kNotFound);
  decide.set_reviewer("lagos/x9");
  EXPECT_EQ(engine_->DecideReview(decide, "nairobi").status().code(),
            absl::StatusCode::kPermissionDenied);
  decide.set_reviewer("w2");  // answered it
  EXPECT_EQ(engine_->DecideReview(decide, "nairobi").status().code(),
            absl::StatusCode::kPermissionDenied);
  // A made-up person, by the centre or by the operator: decided and paid, once. No more.
  decide.set_reviewer("ghost");
  EXPECT_EQ(engine_->DecideReview(decide, "nairobi").status(),
            absl::NotFoundError("reviewer: ghost is not a registered worker of centre nairobi"));
  decide.set_reviewer("nairobi/ghost");
  EXPECT_EQ(engine_->DecideReview(decide).status(),
            absl::NotFoundError("reviewer: ghost is not a registered worker of centre nairobi"));
  EXPECT_EQ(engine_->Stats().reviews_open, 1u);  // nothing changed

  decide.set_manager("grace");  // signed in at the agent
  decide.set_reviewer("nairobi/w6");
  EXPECT_EQ(engine_->DecideReview(decide).status(),
            absl::InvalidArgumentError("manager: only a centre's call names its manager"));
  decide.set_reviewer("w6");  // the centre's own person, named bare
  auto decided = engine_->DecideReview(decide, "nairobi", "centre:nairobi");
  ASSERT_TRUE(decided.ok()) << decided.status();
  EXPECT_EQ(decided->reviewer(), "nairobi/w6");
  EXPECT_EQ(decided->recorded_by(), "centre:nairobi/manager:grace");
  EXPECT_EQ(decided->reason(), "the text says yes");
  EXPECT_EQ(Outputs()[0].answer().choice(), "yes");
  EXPECT_EQ(Outputs()[0].reviewed_by(), "nairobi/w6");
  EXPECT_EQ(Line("w6").posted_minor(), 5);
  EXPECT_EQ(engine_->ListReviewsForCentre("nairobi")->reviews_size(), 0);
  // The same request again is answered from the record, not paid twice.
  ASSERT_TRUE(engine_->DecideReview(decide, "nairobi", "centre:nairobi").ok());
  EXPECT_EQ(Line("w6").posted_minor(), 5);
}

TEST_F(OnlineQaTest, GoldTasksAreMixedInScoredPaidAndMoveSkill) {
  Submit(500);  // one check task in every two assignments
  auto got = Lease("w1", 4);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_LT(got[0].item().index(), kGoldItemBase);
  EXPECT_GE(got[1].item().index(), kGoldItemBase);
  EXPECT_LT(got[2].item().index(), kGoldItemBase);
  EXPECT_GE(got[3].item().index(), kGoldItemBase);
  // The known answer is not in what the worker sees.
  for (const auto& f : got[1].item().fields()) EXPECT_NE(f.name(), "answer");
  EXPECT_EQ(got[1].stage(), got[0].stage());

  // g1's answer is "yes", g2's "no": w1 gets the first right and the second wrong.
  std::map<std::string, std::string> known = {{"g1", "yes"}, {"g2", "no"}};
  int wrong = 0;
  for (int i : {1, 3}) {
    const std::string id = got[i].item().fields(0).value();
    const bool answer_right = i == 1;
    v1::Receipt r = Answer(got[i], answer_right ? known[id] : (known[id] == "yes" ? "no" : "yes"));
    EXPECT_EQ(r.wage_minor(), 5);  // check tasks are paid like any other
    EXPECT_TRUE(r.check());
    EXPECT_EQ(r.check_correct(), answer_right);  // the centre's page counts training from these
    if (answer_right) {
      EXPECT_EQ(r.feedback(), "check task: your answer matched the known answer");
    } else {
      EXPECT_EQ(r.feedback(), absl::StrCat("check task: the known answer was \"", known[id], "\""));
      ++wrong;
    }
  }
  EXPECT_EQ(wrong, 1);
  v1::StatementLine line = Line("w1");
  EXPECT_EQ(line.gold_total(), 2u);
  EXPECT_EQ(line.gold_correct(), 1u);
  EXPECT_DOUBLE_EQ(line.skill(), 0.5);  // Beta(1,1) + 1 right + 1 wrong
  EXPECT_EQ(line.posted_minor(), 10);   // both check answers paid, right or wrong

  // A second worker who gets both right ends up with a higher skill.
  auto w2 = Lease("w2", 4);
  for (const auto& a : w2) {
    if (a.item().index() >= kGoldItemBase) Answer(a, known[a.item().fields(0).value()]);
  }
  EXPECT_DOUBLE_EQ(Line("w2").skill(), 0.75);
  EXPECT_GT(Line("w2").skill(), Line("w1").skill());
  EXPECT_EQ(engine_->Stats().gold_answers, 4u);
  EXPECT_EQ(engine_->Stats().gold_correct, 3u);
  // Gold never reaches the client's output.
  for (const auto& a : got) {
    if (a.item().index() < kGoldItemBase) Answer(a, "yes");
  }
  for (const auto& [index, out] : Outputs()) EXPECT_LT(index, kGoldItemBase);
}

// The skill estimate is kept per kind of work: right on the Kiswahili stage's checks and wrong
// on the English one's, a worker's statement shows one estimate for each, drawn from the overall
// one, and every answer is paid.
TEST_F(OnlineQaTest, SkillIsKeptPerLanguageAndShowsThatWayInTheStatement) {
  std::string stages;
  for (const char* language : {"sw", "en"}) {
    stages += absl::StrCat(R"(
  - name: label_)",
                           language, R"(
    after: [rows]
    human:
      instructions: {en: "Yes or no?"}
      answer: {single_choice: {options: ["yes", "no"]}}
      piece_rate_minor: 5
      estimated_seconds: 20
      overlap: 2
      languages: [)",
                           language, R"(]
      qa: {method: WEIGHTED_VOTE, gold_per_thousand: 500}
      gold_input: checks_)",
                           language);
  }
  SubmitText(absl::StrCat(R"(
name: Per language
client: acme
currency: USD
budget_minor: 100000
inputs:
  - {name: items, format: FORMAT_CSV, inline_text: "id,text\n1,a\n2,b\n"}
  - {name: checks_sw, format: FORMAT_CSV, inline_text: "id,text,answer\ng1,x,yes\ng2,y,no\n"}
  - {name: checks_en, format: FORMAT_CSV, inline_text: "id,text,answer\ng1,x,yes\ng2,y,no\n"}
stages:
  - name: rows
    split: {input: items, by: SPLIT_ROWS})",
                          stages, "\n"));
  v1::RegisterRequest reg;
  v1::WorkerOnDuty* w1 = reg.add_workers();
  w1->set_worker("w1");
  w1->add_languages("sw");
  w1->add_languages("en");
  ASSERT_TRUE(engine_->Register("nairobi", reg).ok());

  std::map<std::string, std::string> known = {{"g1", "yes"}, {"g2", "no"}};
  std::map<std::string, int> checks;  // by stage
  for (const auto& a : Lease("w1", 8)) {
    if (a.item().index() < kGoldItemBase) continue;  // left unanswered
    const std::string& id = a.item().fields(0).value();
    const std::string stage = a.stage().substr(a.stage().rfind('/') + 1);
    const bool right = stage == "label_sw";
    v1::Receipt r = Answer(a, right ? known[id] : (known[id] == "yes" ? "no" : "yes"));
    EXPECT_EQ(r.wage_minor(), 5) << "every answer is paid, right or wrong";
    ++checks[stage];
  }
  ASSERT_EQ(checks, (std::map<std::string, int>{{"label_en", 2}, {"label_sw", 2}}));

  v1::StatementLine line = Line("w1");
  EXPECT_EQ(line.gold_total(), 4u);
  EXPECT_EQ(line.gold_correct(), 2u);
  EXPECT_DOUBLE_EQ(line.skill(), 0.5);  // (1 + 2) / (2 + 4)
  EXPECT_EQ(line.posted_minor(), 20);
  ASSERT_EQ(line.skills_size(), 2);
  std::map<std::string, v1::SkillLine> by_language;
  for (const v1::SkillLine& k : line.skills()) {
    EXPECT_EQ(k.skill(), "");
    by_language[k.language()] = k;
  }
  EXPECT_EQ(by_language["sw"].gold_total(), 2u);
  EXPECT_EQ(by_language["sw"].gold_correct(), 2u);
  EXPECT_DOUBLE_EQ(by_language["sw"].estimate(), 0.75);  // (2 * 0.5 + 2) / (2 + 2)
  EXPECT_EQ(by_language["en"].gold_total(), 2u);
  EXPECT_EQ(by_language["en"].gold_correct(), 0u);
  EXPECT_DOUBLE_EQ(by_language["en"].estimate(), 0.25);  // (2 * 0.5 + 0) / (2 + 2)
}

TEST_F(OnlineQaTest, AWorkerNeverSeesTheSameCheckTaskTwice) {
  Submit(500);
  std::set<uint64_t> gold_seen;
  for (int round = 0; round < 3; ++round) {
    for (const auto& a : Lease("w1", 2)) {
      if (a.item().index() >= kGoldItemBase) {
        EXPECT_TRUE(gold_seen.insert(a.item().index()).second);
      }
      Answer(a, "yes");
    }
  }
  EXPECT_EQ(gold_seen.size(), 2u);  // only two check tasks exist
}

}  // namespace
}  // namespace mw::dispatch

namespace mw::dispatch {
namespace {

// Paid training: a newcomer gets only check tasks, each paid and answered with feedback, until
// enough are right; then regular work. A worker the centre counts as trained, with no record
// here of passing training, trains too: the centre's word alone skips nothing.
TEST_F(OnlineQaTest, NewcomersTrainOnPaidCheckTasksUntilTheyPass) {
  v1::RegisterRequest reg;
  for (const char* w : {"w1", "w2"}) reg.add_workers()->set_worker(w);
  auto* trained = reg.add_workers();
  trained->set_worker("w3");
  trained->set_training_level(1);
  ASSERT_TRUE(engine_->Register("nairobi", reg).ok());
  std::string text = kDynamic;
  text.replace(text.find("gold_per_thousand: GOLD}"), 24,
               "gold_per_thousand: 0, training_tasks: 2, training_accuracy_percent: 100}");
  text.replace(text.find("g2,y,no\\n"), 9, "g2,y,no\\ng3,z,yes\\n");
  SubmitText(text);
  std::map<std::string, std::string> known = {{"g1", "yes"}, {"g2", "no"}, {"g3", "yes"}};

  // "Trained" by the centre's word alone: check tasks only.
  auto claimed = Lease("w3", 2);
  ASSERT_EQ(claimed.size(), 2u);
  for (const auto& a : claimed) EXPECT_GE(a.item().index(), kGoldItemBase);

  // A newcomer: every check task and nothing else, until they pass.
  auto training = Lease("w1", 4);
  ASSERT_EQ(training.size(), 3u);
  for (const auto& a : training) EXPECT_GE(a.item().index(), kGoldItemBase);
  v1::Receipt first = Answer(training[0], known[training[0].item().fields(0).value()]);
  EXPECT_FALSE(first.promoted());
  v1::Receipt second = Answer(training[1], known[training[1].item().fields(0).value()]);
  EXPECT_TRUE(second.promoted());
  EXPECT_EQ(second.feedback(),
            "check task: your answer matched the known answer. Training passed (2 of 2 right): "
            "regular tasks from now on");
  EXPECT_EQ(Line("w1").posted_minor(), 10);  // training is paid work
  auto regular = Lease("w1", 1);
  ASSERT_EQ(regular.size(), 1u);
  EXPECT_LT(regular[0].item().index(), kGoldItemBase);

  // Below the bar: still training, and once the check tasks run out, no regular work.
  auto tries = Lease("w2", 3);
  ASSERT_EQ(tries.size(), 3u);
  const std::string id = tries[0].item().fields(0).value();
  EXPECT_FALSE(Answer(tries[0], known[id] == "yes" ? "no" : "yes").promoted());
  EXPECT_FALSE(Answer(tries[1], known[tries[1].item().fields(0).value()]).promoted());
  EXPECT_FALSE(Answer(tries[2], known[tries[2].item().fields(0).value()]).promoted());
  EXPECT_TRUE(Lease("w2", 2).empty());
  EXPECT_EQ(Line("w2").posted_minor(), 15);

  // Out of check tasks, w2 is not stuck: a person at the dispatcher promotes them, named with a
  // reason, and regular work follows.
  v1::PromoteWorkerRequest promote;
  promote.set_idempotency_key("promote-w2");
  promote.set_worker_account("worker:nairobi/w2");
  promote.set_job_id("job-1");
  promote.set_reason("two of three right; the manager watched the third");
  EXPECT_EQ(engine_->PromoteWorker(promote).status().code(), absl::StatusCode::kInvalidArgument);
  promote.set_decided_by("qa:halima");
  promote.set_worker_account("nairobi/w2");
  EXPECT_EQ(engine_->PromoteWorker(promote).status().code(), absl::StatusCode::kInvalidArgument);
  promote.set_worker_account("worker:nairobi/w2");
  promote.set_job_id("job-9");
  EXPECT_EQ(engine_->PromoteWorker(promote).status().code(), absl::StatusCode::kNotFound);
  promote.set_job_id("job-1");
  promote.set_idempotency_key("promote-w2-again");
  auto promoted = engine_->PromoteWorker(promote);
  ASSERT_TRUE(promoted.ok()) << promoted.status();
  EXPECT_EQ(promoted->training_answers(), 3u);
  EXPECT_EQ(promoted->training_correct(), 2u);
  EXPECT_EQ(promoted->promotion().decided_by(), "qa:halima");
  promote.set_idempotency_key("promote-w2-third");
  EXPECT_EQ(engine_->PromoteWorker(promote).status().code(),
            absl::StatusCode::kFailedPrecondition);  // promoted already
  // The decision survives a restart, and regular work follows.
  engine_.reset();
  engine_ = std::move(Engine::Open(dir_.Sub("db"), &clock_, Engine::Options()).value());
  ASSERT_TRUE(engine_->Register("nairobi", reg).ok());  // the centre comes back after the restart
  auto regular_w2 = Lease("w2", 1);
  ASSERT_EQ(regular_w2.size(), 1u);
  EXPECT_LT(regular_w2[0].item().index(), kGoldItemBase);
}

constexpr char kCount[] = R"(
name: Count the items on a receipt
client: acme
currency: USD
budget_minor: 1000
inputs:
  - {name: receipts, format: FORMAT_CSV, inline_text: "id\nr1\n"}
stages:
  - name: rows
    split: {input: receipts, by: SPLIT_ROWS}
  - name: lines
    after: [rows]
    human:
      instructions: {en: "How many items?"}
      answer: {number: {min: 0, max: 1000, integer: true}}
      piece_rate_minor: 5
      estimated_seconds: 20
      overlap: 3
      qa: {method: MEDIAN}
)";

// The regression: a number stage accepted MEDIAN but was decided by a vote on the numbers' text.
class NumberVerdictTest : public EngineTest {};

TEST_F(NumberVerdictTest, ANumberStagesVerdictIsTheMedianOfThreeWorkersNumbers) {
  AddCentre("nairobi", {"w1", "w2", "w3"});
  ASSERT_TRUE(Submit(kCount).ok());
  std::vector<v1::Result> results;
  for (auto [w, n] : {std::pair{"w1", "40"}, {"w2", "42"}, {"w3", "400"}}) {
    auto lease = Lease("nairobi", w, 1, absl::StrCat("L-", w));
    ASSERT_EQ(lease->assignments_size(), 1);
    v1::Result r = Answer(lease->assignments(0), "");
    r.mutable_answer()->set_number(n);
    results.push_back(r);
  }
  for (const auto& receipt : SubmitResults("nairobi", results)) {
    EXPECT_EQ(receipt.status(), v1::RECEIPT_ACCEPTED);
  }
  std::vector<v1::ResultRecord> rows;
  ASSERT_TRUE(engine_
                  ->ExportResults("job-1",
                                  [&](const v1::ResultRecord& r) {
                                    rows.push_back(r);
                                    return true;
                                  })
                  .ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].answer().number(), "42");       // no two answers agree: a vote would pick "40"
  EXPECT_DOUBLE_EQ(rows[0].confidence(), 2.0 / 3);  // 40 and 42 are within 5% of 42
  ASSERT_EQ(rows[0].provenance_size(), 1);
  EXPECT_EQ(rows[0].provenance(0).answer(), "42");
  // The provenance names each worker's own number beside them.
  const v1::Provenance& p = rows[0].provenance(0);
  std::map<std::string, std::string> own;
  ASSERT_EQ(p.workers_size(), p.answers_size());
  for (int i = 0; i < p.workers_size(); ++i) own[p.workers(i)] = p.answers(i);
  EXPECT_EQ(own, (std::map<std::string, std::string>{{"w1", "40"}, {"w2", "42"}, {"w3", "400"}}));
}

}  // namespace
}  // namespace mw::dispatch
