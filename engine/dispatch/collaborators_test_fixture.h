// A fixture for the dispatcher's collaborators, without the engine: a real store in a temporary
// directory, the ledger, a centre ("nairobi", paid in USD), and job-1 of a contract with one
// labelling step (overlap 2, piece rate 10, one item), funded with 1000, its task for item 0
// open with slots leased to amina and baraka. Each test builds the collaborator it tests over
// these parts.
#ifndef MW_ENGINE_DISPATCH_COLLABORATORS_TEST_FIXTURE_H_
#define MW_ENGINE_DISPATCH_COLLABORATORS_TEST_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "engine/common/clock.h"
#include "engine/common/ids.h"
#include "engine/contract/contract_file.h"
#include "engine/dispatch/centres.h"
#include "engine/dispatch/idempotency.h"
#include "engine/dispatch/job_catalogue.h"
#include "engine/dispatch/lease_table.h"
#include "engine/dispatch/paymaster.h"
#include "engine/dispatch/scheduler.h"
#include "engine/dispatch/stats.h"
#include "engine/dispatch/worker_book.h"
#include "engine/ledger/ledger.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::dispatch {

class CollaboratorsTest : public ::testing::Test {
 protected:
  static constexpr char kContract[] = R"(
name: Topics
client: acme
currency: USD
budget_minor: 1000
inputs:
  - name: posts
    format: FORMAT_CSV
    inline_text: "id\n1\n"
stages:
  - name: rows
    split: {input: posts, by: SPLIT_ROWS}
  - name: label
    after: [rows]
    human:
      instructions: {en: "Which topic?"}
      answer: {single_choice: {options: [sport, news]}}
      piece_rate_minor: 10
      estimated_seconds: 10
      overlap: 2
  - name: out
    after: [label]
    merge: {}
)";

  void SetUp() override {
    namespace v1 = ::microwork::v1;
    auto s = storage::Store::Open(dir_.Sub("db"), storage::Schema::kDispatcher);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    ASSERT_TRUE(centres_.Load(store_.get()).ok());
    ASSERT_TRUE(workers_.Load(*store_).ok());
    auto l = ledger::Ledger::Load(store_.get(), &clock_);
    ASSERT_TRUE(l.ok()) << l.status();
    ledger_ = std::move(*l);
    pay_ = std::make_unique<Paymaster>(ledger_.get(), &centres_);
    jobs_ = std::make_unique<JobCatalogue>(store_.get());
    scheduler_ = std::make_unique<Scheduler>(jobs_.get(), &centres_, &workers_, pay_.get(), 60'000);
    idempotency_ = std::make_unique<IdempotencyTable>(store_.get());
    v1::Centre centre;
    centre.set_id("nairobi");
    centre.set_currency("USD");
    storage::Batch batch;
    ASSERT_TRUE(centres_.Add(centre, "nairobi", 0, &batch).ok());

    auto contract = contract::ParseContract(kContract, "topics.yaml");
    ASSERT_TRUE(contract.ok()) << contract.status();
    v1::JobRecord record;
    record.mutable_job()->set_id("job-1");
    record.mutable_job()->set_items(1);
    *record.mutable_contract() = *contract;
    v1::JobProgressRecord progress;
    progress.set_state(v1::JOB_RUNNING);
    for (int i = 0; i < contract->stages_size(); ++i) progress.add_stages();
    progress.mutable_stages(1)->set_total(1);
    auto built = BuildJobRun(std::move(record), std::move(progress));
    ASSERT_TRUE(built.ok()) << built.status();
    run_ = &jobs_->Add(1, *std::move(built));
    ASSERT_TRUE(ledger_
                    ->Apply({.id = "fund",
                             .code = v1::CODE_FUNDING,
                             .debit_account = ClientAccount("acme", "USD"),
                             .credit_account = EscrowAccount("job-1"),
                             .amount_minor = 1000,
                             .currency = "USD",
                             .job_id = "job-1"},
                            &batch)
                    .ok());
    v1::Item item;
    item.set_index(0);
    auto task = jobs_->OpenItem(run_, item, 0);
    ASSERT_TRUE(task.ok()) << task.status();
    key_ = jobs_->KeyOf(**task);
    for (const std::string worker : {"amina", "baraka"}) {
      v1::SlotRecord* slot = (*task)->record.add_slots();
      slot->set_worker(worker);
      slot->set_centre("nairobi");
      slot->set_epoch((*task)->record.epoch() + 1);
      slot->set_state(v1::SLOT_LEASED);
      slot->set_leased_at_ms(clock_.NowMs());
      slot->set_lease_expires_at_ms(clock_.NowMs() + 120'000);
      (*task)->record.set_epoch(slot->epoch());
      run_->live_wages["nairobi"] += 10;
      ++run_->leased[0];
      leases_.Hold("nairobi", worker);
    }
  }

  // The open task of item 0, or nullptr once it is decided.
  TaskRun* Task() { return jobs_->FindTask(key_); }
  static std::string Aid(const std::string& worker) {
    return AssignmentId(TaskId("job-1", "label", 0), worker);
  }

  FakeClock clock_;
  mw::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  CentreDirectory centres_;
  WorkerBook workers_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<Paymaster> pay_;
  std::unique_ptr<JobCatalogue> jobs_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<IdempotencyTable> idempotency_;
  LeaseTable leases_{LeaseTable::Options{}};
  EngineStats stats_;
  JobRun* run_ = nullptr;
  std::string key_;
  storage::Batch batch_;
};

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_COLLABORATORS_TEST_FIXTURE_H_
