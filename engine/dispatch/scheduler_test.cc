#include "engine/dispatch/scheduler.h"

#include <memory>

#include "engine/common/clock.h"
#include "engine/common/ids.h"
#include "engine/contract/contract_file.h"
#include "engine/storage/keys.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::dispatch {
namespace {

namespace v1 = ::microwork::v1;
namespace keys = storage::keys;

// Two steps: label each post (overlap 2), then check each label (overlap 1).
constexpr char kContract[] = R"(
name: Topics
client: acme
currency: USD
budget_minor: 1000
inputs:
  - name: posts
    format: FORMAT_CSV
    inline_text: "id\n1\n2\n3\n4\n"
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
      qa: {training_tasks: TRAINING}
  - name: check
    after: [label]
    human:
      instructions: {en: "Is the topic right?"}
      answer: {single_choice: {options: ["yes", "no"]}}
      piece_rate_minor: 5
      estimated_seconds: 10
      overlap: 1
  - name: out
    after: [check]
    merge: {}
)";

constexpr int64_t kWindowMs = 60'000;

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = storage::Store::Open(dir_.Sub("db"), storage::Schema::kDispatcher);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    ASSERT_TRUE(centres_.Load(store_.get()).ok());
    ASSERT_TRUE(workers_.Load(*store_).ok());
    auto l = ledger::Ledger::Load(store_.get(), &clock_);
    ASSERT_TRUE(l.ok()) << l.status();
    ledger_ = std::move(*l);
    pay_ = std::make_unique<Paymaster>(ledger_.get(), &centres_);
    catalogue_ = std::make_unique<JobCatalogue>(store_.get());
    scheduler_ =
        std::make_unique<Scheduler>(catalogue_.get(), &centres_, &workers_, pay_.get(), kWindowMs);
    AddCentre("nairobi");
    AddCentre("pune");
    storage::Batch items;
    for (uint64_t i = 0; i < 4; ++i) {
      v1::Item item;
      item.set_index(i);
      items.PutRecord(storage::Cf::kItems, keys::Item("job-1", i), item);
    }
    ASSERT_TRUE(store_->Write(std::move(items), storage::Durability::kSynced).ok());
  }

  void AddCentre(const std::string& id) {
    v1::Centre c;
    c.set_id(id);
    c.set_currency("USD");
    c.set_share_weight(1);
    storage::Batch batch;
    ASSERT_TRUE(centres_.Add(c, id, 0, &batch).ok());
  }

  // Job number `n` of kContract with four items, its escrow funded with `funds`.
  JobRun& AddJob(uint64_t n, int64_t funds = 1000, int training_tasks = 0) {
    std::string text = kContract;
    text.replace(text.find("TRAINING"), 8, std::to_string(training_tasks));
    auto contract = contract::ParseContract(text, "topics.yaml");
    EXPECT_TRUE(contract.ok()) << contract.status();
    v1::JobRecord record;
    const std::string id = absl::StrCat("job-", n);
    record.mutable_job()->set_id(id);
    *record.mutable_contract() = *contract;
    v1::JobProgressRecord progress;
    progress.set_state(v1::JOB_RUNNING);
    for (int i = 0; i < contract->stages_size(); ++i) progress.add_stages();
    progress.mutable_stages(1)->set_total(4);
    auto run = BuildJobRun(std::move(record), std::move(progress));
    EXPECT_TRUE(run.ok()) << run.status();
    if (funds > 0) {
      storage::Batch batch;
      EXPECT_TRUE(ledger_
                      ->Apply({.id = absl::StrCat("fund-", id),
                               .code = v1::CODE_FUNDING,
                               .debit_account = ClientAccount("acme", "USD"),
                               .credit_account = EscrowAccount(id),
                               .amount_minor = funds,
                               .currency = "USD",
                               .job_id = id},
                              &batch)
                      .ok());
    }
    return catalogue_->Add(n, *std::move(run));
  }

  static v1::WorkerOnDuty Worker(const std::string& name, uint32_t level = 1) {
    v1::WorkerOnDuty w;
    w.set_worker(name);
    w.set_training_level(level);
    return w;
  }

  static v1::WorkerCredit Credit(const std::string& name) {
    v1::WorkerCredit c;
    c.set_worker(name);
    c.set_count(1);
    return c;
  }

  // The next pick for `worker` of `centre` at time `now`, over every job.
  Scheduler::Pick Next(const std::string& centre, const v1::WorkerOnDuty& worker,
                       const v1::WorkerCredit& credit, int64_t now = 1'000) {
    auto pick = scheduler_->Next(scheduler_->ServingOrder(), centre, worker, credit, now, &batch_,
                                 &waiting_);
    EXPECT_TRUE(pick.ok()) << pick.status();
    return pick.ok() ? *pick : Scheduler::Pick{};
  }

  static void Lease(TaskRun* task, const std::string& worker) {
    v1::SlotRecord* slot = task->record.add_slots();
    slot->set_worker(worker);
    slot->set_state(v1::SLOT_LEASED);
  }

  FakeClock clock_;
  mw::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  CentreDirectory centres_;
  WorkerBook workers_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<Paymaster> pay_;
  std::unique_ptr<JobCatalogue> catalogue_;
  std::unique_ptr<Scheduler> scheduler_;
  storage::Batch batch_;
  std::vector<JobRun*> waiting_;
};

TEST_F(SchedulerTest, JobsAreServedByPriorityThenNearerDeadlineThenAge) {
  JobRun& oldest = AddJob(1);
  JobRun& due = AddJob(2);
  due.deadline_ms = 5'000;
  JobRun& urgent = AddJob(3);
  urgent.record.mutable_contract()->set_priority(5);
  JobRun& newest = AddJob(4);
  EXPECT_EQ(scheduler_->ServingOrder(), (std::vector<JobRun*>{&urgent, &due, &oldest, &newest}));
}

TEST_F(SchedulerTest, AnItemsFirstStepTakesTheNextItemInOrderAndWritesTheCursor) {
  JobRun& run = AddJob(1);
  Scheduler::Pick pick = Next("nairobi", Worker("amina"), Credit("amina"));
  ASSERT_NE(pick.task, nullptr);
  EXPECT_EQ(pick.run, &run);
  EXPECT_EQ(pick.task->chain_pos, 0);
  EXPECT_EQ(pick.task->item_index, 0u);
  EXPECT_EQ(run.progress.stages(1).next_item(), 1u);
  EXPECT_EQ(batch_.Count(), 0u);  // the cursor and the new task are noted
  catalogue_->WriteNoted(&batch_);
  EXPECT_EQ(batch_.Count(), 2u);  // and written once
  catalogue_->WriteNoted(&batch_);
  EXPECT_EQ(batch_.Count(), 2u);
}

TEST_F(SchedulerTest, LaterStepsComeFirstAndNobodyGetsATaskTheyHad) {
  JobRun& run = AddJob(1);
  // (Task pointers last until the next task is created: the test keeps keys.)
  TaskRun* first = Next("nairobi", Worker("amina"), Credit("amina")).task;
  ASSERT_NE(first, nullptr);
  Lease(first, "amina");
  const std::string first_key = catalogue_->KeyOf(*first);
  v1::Item item;
  item.set_index(3);
  ASSERT_TRUE(catalogue_->CreateTask(&run, 1, item).ok());

  // The check step is served before new labels.
  Scheduler::Pick pick = Next("nairobi", Worker("baraka"), Credit("baraka"));
  ASSERT_NE(pick.task, nullptr);
  EXPECT_EQ(catalogue_->KeyOf(*pick.task), keys::Task("job-1", run.chain[1].key, 3));
  Lease(pick.task, "baraka");
  // The label task of item 0 has a free slot; baraka gets it, amina (who had it) a new item.
  pick = Next("nairobi", Worker("baraka"), Credit("baraka"));
  ASSERT_NE(pick.task, nullptr);
  EXPECT_EQ(catalogue_->KeyOf(*pick.task), first_key);
  Scheduler::Pick amina = Next("nairobi", Worker("amina"), Credit("amina"));
  ASSERT_NE(amina.task, nullptr);
  EXPECT_EQ(amina.task->item_index, 1u);
}

TEST_F(SchedulerTest, StagesAndItemsReservedForOthersArePassedOverAndTheItemsOpenedForThem) {
  JobRun& run = AddJob(1);
  v1::Item item;
  item.set_index(3);
  ASSERT_TRUE(catalogue_->CreateTask(&run, 1, item).ok());
  v1::WorkerCredit credit = Credit("amina");
  credit.add_exclude_stages("job-1/check");
  v1::ItemBatch* reserved = credit.add_exclude_batches();
  reserved->set_stage("job-1/label");
  reserved->set_first_item(0);
  reserved->set_last_item(1);
  Scheduler::Pick pick = Next("nairobi", Worker("amina"), credit);
  ASSERT_NE(pick.task, nullptr);
  EXPECT_EQ(pick.task->chain_pos, 0);
  EXPECT_EQ(pick.task->item_index, 2u);
  // Items 0 and 1 are open now, for the workers they are reserved for.
  EXPECT_NE(catalogue_->FindTask(keys::Task("job-1", run.chain[0].key, 0)), nullptr);
  EXPECT_NE(catalogue_->FindTask(keys::Task("job-1", run.chain[0].key, 1)), nullptr);
  EXPECT_EQ(catalogue_->tasks().size(), 4u);
}

TEST_F(SchedulerTest, AJobWithNoMoneyForTheNextWageAndNoLeaseOutWaitsOnItsBudget) {
  JobRun& run = AddJob(1, /*funds=*/5);  // a check (5) would fit, a label (10) not
  Scheduler::Pick pick = Next("nairobi", Worker("amina"), Credit("amina"));
  EXPECT_EQ(pick.task, nullptr);
  EXPECT_EQ(run.progress.state(), v1::JOB_BUDGET_EXHAUSTED);
  EXPECT_EQ(waiting_, std::vector<JobRun*>{&run});
  EXPECT_EQ(batch_.Count(), 1u);  // the progress record
  EXPECT_EQ(run.nothing_for.at("nairobi"), 1'000 + kWindowMs);
}

TEST_F(SchedulerTest, WithALeaseOutAShortJobKeepsRunningForTheWageThatMayComeBack) {
  JobRun& run = AddJob(1, /*funds=*/5);
  run.live_wages["pune"] = 5;
  EXPECT_EQ(Next("nairobi", Worker("amina"), Credit("amina")).task, nullptr);
  EXPECT_EQ(run.progress.state(), v1::JOB_RUNNING);
  EXPECT_TRUE(waiting_.empty());
}

TEST_F(SchedulerTest, ANewcomerTrainsOnCheckTasksOnlyUntilTheyPass) {
  JobRun& run = AddJob(1, 1000, /*training_tasks=*/2);
  TaskRun gold;
  gold.job_id = "job-1";
  gold.item_index = kGoldItemBase;
  gold.record.set_state(v1::TASK_OPEN);
  gold.record.set_gold(true);
  const std::string key = keys::Task("job-1", run.chain[0].key, kGoldItemBase);
  ASSERT_TRUE(catalogue_->AddTask(key, gold).ok());
  run.gold[0].push_back(key);

  const v1::WorkerOnDuty newcomer = Worker("dalia", /*level=*/0);
  EXPECT_TRUE(scheduler_->InTraining(run, run.chain[0], "nairobi", newcomer));
  EXPECT_EQ(Next("nairobi", newcomer, Credit("dalia")).task, catalogue_->FindTask(key));
  Lease(catalogue_->FindTask(key), "dalia");
  // Every check task seen: nothing more for her on this job until she passes.
  EXPECT_EQ(Next("nairobi", newcomer, Credit("dalia")).task, nullptr);
  // The centre's word alone that someone is trained skips nothing: a hostile centre could send
  // every newcomer past paid training.
  const v1::WorkerOnDuty amina = Worker("amina", 1);
  EXPECT_TRUE(scheduler_->InTraining(run, run.chain[0], "nairobi", amina));
  EXPECT_EQ(Next("nairobi", amina, Credit("amina")).task, catalogue_->FindTask(key));
  // With this dispatcher's record of her passing training on another job, it does.
  v1::HumanStage trained_on;
  trained_on.mutable_qa()->set_training_tasks(1);
  ASSERT_TRUE(
      workers_.CountTrainingAnswer(WorkerAccount("nairobi", "amina"), "job-0", true, trained_on));
  EXPECT_FALSE(scheduler_->InTraining(run, run.chain[0], "nairobi", amina));
  Scheduler::Pick pick = Next("nairobi", amina, Credit("amina"));
  ASSERT_NE(pick.task, nullptr);
  EXPECT_FALSE(pick.task->record.gold());
  // The record does not speak for a worker whose centre counts them a newcomer.
  ASSERT_TRUE(
      workers_.CountTrainingAnswer(WorkerAccount("nairobi", "dalia"), "job-0", true, trained_on));
  EXPECT_TRUE(scheduler_->InTraining(run, run.chain[0], "nairobi", newcomer));
  // Nor does the centre's word that a worker has the skills and languages a stage asks for:
  // Amina trains on a stage that asks for transcription in Kiswahili, however her centre lists
  // her, until training on such a stage vouched for them.
  run.chain[0].human.add_skills("transcribe");
  run.chain[0].human.add_languages("sw");
  v1::WorkerOnDuty claimed = Worker("amina", 1);
  claimed.add_skills("transcribe");
  claimed.add_languages("sw");
  EXPECT_TRUE(scheduler_->InTraining(run, run.chain[0], "nairobi", claimed));
  v1::HumanStage transcribing = trained_on;
  transcribing.add_skills("transcribe");
  transcribing.add_languages("sw");
  workers_.CountTrainingAnswer(WorkerAccount("nairobi", "amina"), "job-5", true, transcribing);
  EXPECT_FALSE(scheduler_->InTraining(run, run.chain[0], "nairobi", claimed));
}

TEST_F(SchedulerTest, WhileACentreIsShortOfWorkNoCentreGetsAheadOfItWeightForWeight) {
  JobRun& run = AddJob(1);
  run.granted["nairobi"] = 2;
  scheduler_->EndCall("pune", /*short_of_work=*/true, 1'000);
  EXPECT_EQ(Next("nairobi", Worker("amina"), Credit("amina"), 1'000).task, nullptr);
  EXPECT_NE(Next("pune", Worker("ravi"), Credit("ravi"), 1'000).task, nullptr);
  // Once pune has nothing of this job it could do, it is not waited for.
  run.nothing_for["pune"] = 1'000 + kWindowMs;
  EXPECT_NE(Next("nairobi", Worker("amina"), Credit("amina"), 1'000).task, nullptr);
  // And a centre stops contending when its window passes or it got what it asked.
  run.nothing_for.clear();
  run.granted["nairobi"] = 5;
  EXPECT_NE(Next("nairobi", Worker("amina"), Credit("amina"), 1'000 + kWindowMs).task, nullptr);
  scheduler_->EndCall("pune", /*short_of_work=*/false, 2'000);
  EXPECT_NE(Next("nairobi", Worker("amina"), Credit("amina"), 2'000).task, nullptr);
}

}  // namespace
}  // namespace mw::dispatch
