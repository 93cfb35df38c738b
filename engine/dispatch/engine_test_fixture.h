// The engine test fixture: a real engine on RocksDB in a temp directory, a fake clock, and
// helpers to add centres, submit the three-review contract below, lease and answer.
#ifndef MW_ENGINE_DISPATCH_ENGINE_TEST_FIXTURE_H_
#define MW_ENGINE_DISPATCH_ENGINE_TEST_FIXTURE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/common/clock.h"
#include "engine/contract/contract_file.h"
#include "engine/dispatch/engine.h"
#include "engine/ledger/auditor.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::dispatch {

inline constexpr char kContract[] = R"(
name: Review sentiment
client: acme
currency: USD
budget_minor: 1000
inputs:
  - name: reviews
    format: FORMAT_CSV
    inline_text: "id,text\n1,great\n2,awful\n3,fine\n"
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
      overlap: 3
  - name: result
    after: [label]
    merge: {}
)";

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open(const Engine::Options& options = Engine::Options()) {
    engine_.reset();
    auto e = Engine::Open(dir_.Sub("db"), &clock_, options);
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(*e);
  }

  v1::Centre MakeCentre(const std::string& id, int64_t floor = 600, uint32_t weight = 0) {
    v1::Centre c;
    c.set_id(id);
    c.set_region("KE");
    c.set_currency("USD");
    c.set_wage_floor_minor_per_hour(floor);
    c.add_languages("en");
    c.set_capacity(100);
    c.set_share_weight(weight);
    return c;
  }

  // Adds a centre with `workers` on duty.
  // Every transfer in the ledger, by id.
  std::map<std::string, v1::Transfer> TransfersById() {
    std::map<std::string, v1::Transfer> by_id;
    EXPECT_TRUE(engine_
                    ->ReadLedger([&](const v1::LedgerRecord& r) {
                      if (r.has_transfer()) by_id[r.transfer().id()] = r.transfer();
                      return true;
                    })
                    .ok());
    return by_id;
  }

  void AddCentre(const std::string& id, std::vector<std::string> workers, int64_t floor = 600,
                 uint32_t weight = 0) {
    v1::AddCentreRequest req;
    req.set_idempotency_key(absl::StrCat("add-", id));
    *req.mutable_centre() = MakeCentre(id, floor, weight);
    auto reply = engine_->AddCentre(req);
    ASSERT_TRUE(reply.ok()) << reply.status();
    auto who = engine_->AuthenticateCentre(reply->credential());
    ASSERT_TRUE(who.ok());
    EXPECT_EQ(*who, id);
    v1::RegisterRequest reg;
    for (const auto& w : workers) reg.add_workers()->set_worker(w);
    ASSERT_TRUE(engine_->Register(id, reg).ok());
  }

  // `wait_for_centres`: most tests submit before any centre exists (see LifecycleTest for the
  // refusal of work no centre can take).
  absl::StatusOr<v1::SubmitContractReply> Submit(const std::string& text,
                                                 const std::string& key = "k1",
                                                 bool wait_for_centres = true) {
    auto contract = contract::ParseContract(text, "test.yaml");
    if (!contract.ok()) return contract.status();
    v1::ContractHeader header;
    header.set_idempotency_key(key);
    header.set_wait_for_centres(wait_for_centres);
    *header.mutable_contract() = *contract;
    auto sub = engine_->BeginSubmission(header);
    if (!sub.ok()) return sub.status();
    return (*sub)->Finish();
  }

  absl::StatusOr<v1::LeaseReply> Lease(const std::string& centre, const std::string& worker,
                                       uint32_t count, const std::string& key) {
    v1::LeaseRequest req;
    req.set_idempotency_key(key);
    auto* c = req.add_credits();
    c->set_worker(worker);
    c->set_count(count);
    return engine_->Lease(centre, req);
  }

  v1::Result Answer(const v1::Assignment& a, const std::string& choice) {
    v1::Result r;
    r.set_result_id(absl::StrCat("r-", a.assignment_id()));
    r.set_assignment_id(a.assignment_id());
    r.set_epoch(a.epoch());
    r.set_worker(a.worker());
    r.mutable_answer()->set_choice(choice);
    r.set_active_seconds(18);
    return r;
  }

  std::vector<v1::Receipt> SubmitResults(const std::string& centre,
                                         const std::vector<v1::Result>& results) {
    v1::SubmitResultsRequest req;
    for (const auto& r : results) *req.add_results() = r;
    auto reply = engine_->SubmitResults(centre, req);
    EXPECT_TRUE(reply.ok()) << reply.status();
    if (!reply.ok()) return {};
    return {reply->receipts().begin(), reply->receipts().end()};
  }

  std::map<uint64_t, std::string> Results(const std::string& job) {
    std::map<uint64_t, std::string> out;
    EXPECT_TRUE(engine_
                    ->ExportResults(job,
                                    [&](const v1::ResultRecord& r) {
                                      out[r.item_index()] = r.answer().choice();
                                      return true;
                                    })
                    .ok());
    return out;
  }

  absl::Status Audit(ledger::Auditor* auditor) {
    // Audit what a client would see: the streamed ledger.
    return engine_->AuditLedger(auditor);
  }

  // Each worker answers every assignment: "positive" for item 0 and 2, "negative" for item 1,
  // except `dissenter`, who always says "negative".
  void AnswerAll(const std::string& centre, const v1::LeaseReply& lease,
                 const std::string& dissenter = "") {
    std::vector<v1::Result> results;
    for (const auto& a : lease.assignments()) {
      std::string choice = a.item().index() == 1 ? "negative" : "positive";
      if (a.worker() == dissenter) choice = "negative";
      results.push_back(Answer(a, choice));
    }
    for (const auto& r : SubmitResults(centre, results)) {
      EXPECT_EQ(r.status(), v1::RECEIPT_ACCEPTED) << r.detail();
    }
  }

  mw::testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_ENGINE_TEST_FIXTURE_H_
