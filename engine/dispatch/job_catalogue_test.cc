#include "engine/dispatch/job_catalogue.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "engine/contract/contract_file.h"
#include "engine/storage/keys.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::dispatch {
namespace {

namespace v1 = ::microwork::v1;
namespace keys = storage::keys;

constexpr char kContract[] = R"(
name: Topics
client: acme
currency: USD
budget_minor: 1000
inputs:
  - name: posts
    format: FORMAT_CSV
    inline_text: "id\n1\n2\n"
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

class JobCatalogueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = storage::Store::Open(dir_.Sub("db"), storage::Schema::kDispatcher);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    catalogue_ = std::make_unique<JobCatalogue>(store_.get());
  }

  // The stored job "job-1" of kContract, as BuildJobRun makes it.
  static absl::StatusOr<JobRun> Built(int progress_stages = 3) {
    auto contract = contract::ParseContract(kContract, "topics.yaml");
    if (!contract.ok()) return contract.status();
    v1::JobRecord record;
    record.mutable_job()->set_id("job-1");
    *record.mutable_contract() = *contract;
    v1::JobProgressRecord progress;
    progress.set_state(v1::JOB_RUNNING);
    for (int i = 0; i < progress_stages; ++i) progress.add_stages();
    return BuildJobRun(std::move(record), std::move(progress));
  }

  static v1::Item Item(uint64_t index) {
    v1::Item item;
    item.set_index(index);
    return item;
  }

  mw::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<JobCatalogue> catalogue_;
};

TEST(JobNumberTest, OnlyJobDashDigitsIsAJobId) {
  EXPECT_EQ(JobNumber("job-12"), 12u);
  EXPECT_EQ(JobNumber("job-x"), std::nullopt);
  EXPECT_EQ(JobNumber("12"), std::nullopt);
  EXPECT_EQ(JobNumber("job-"), std::nullopt);
}

TEST_F(JobCatalogueTest, ABuiltRunHasOneQueueAndOneAggregationPerStep) {
  auto run = Built();
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->chain.size(), 1u);
  EXPECT_EQ(run->chain[0].name, "label");
  EXPECT_EQ(run->split_stage, 0);
  EXPECT_EQ(run->merge_stage, 2);
  EXPECT_EQ(run->aggregations.size(), 1u);
  EXPECT_EQ(run->open.size(), 1u);
  EXPECT_EQ(run->gold.size(), 1u);
  EXPECT_EQ(run->since_gold, std::vector<uint64_t>{0});
}

TEST_F(JobCatalogueTest, ProgressThatDoesNotFitTheContractIsDataLoss) {
  auto run = Built(/*progress_stages=*/2);
  EXPECT_EQ(run.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(run.status().message(), "job job-1: progress has 2 stages, contract 3");
}

TEST_F(JobCatalogueTest, JobsAreFoundByIdAndNumberedOnFromTheRecoveredNumber) {
  auto built = Built();
  ASSERT_TRUE(built.ok());
  catalogue_->SetNextNumber(7);
  EXPECT_EQ(catalogue_->TakeNumber(), 7u);
  EXPECT_EQ(catalogue_->next_number(), 8u);
  JobRun& run = catalogue_->Add(1, *std::move(built));
  EXPECT_EQ(catalogue_->Find("job-1"), &run);
  EXPECT_EQ(catalogue_->Find("job-2"), nullptr);
  EXPECT_EQ(catalogue_->Find("nonsense"), nullptr);
  EXPECT_EQ(JobCatalogue::FindStage(&run, "label"), &run.chain[0]);
  EXPECT_EQ(JobCatalogue::FindStage(&run, "rows"), nullptr);  // not a human stage
  EXPECT_EQ(JobCatalogue::FindStage(nullptr, "label"), nullptr);
}

TEST_F(JobCatalogueTest, ACreatedTaskIsWrittenQueuedAndFoundAndNeverCreatedTwice) {
  auto built = Built();
  ASSERT_TRUE(built.ok());
  JobRun& run = catalogue_->Add(1, *std::move(built));
  storage::Batch batch;
  auto task = catalogue_->CreateTask(&run, 0, Item(4), {"amina"});
  ASSERT_TRUE(task.ok()) << task.status();
  const std::string key = keys::Task("job-1", run.chain[0].key, 4);
  EXPECT_EQ(catalogue_->KeyOf(**task), key);
  EXPECT_EQ(catalogue_->FindTask(key), *task);
  EXPECT_EQ((*task)->record.state(), v1::TASK_OPEN);
  EXPECT_EQ((*task)->record.needed(), 2u);
  EXPECT_EQ(FreeSlots((*task)->record), 2u);
  EXPECT_TRUE(HadOrBarred((*task)->record, "amina"));  // excluded
  EXPECT_FALSE(HadOrBarred((*task)->record, "baraka"));
  EXPECT_TRUE(catalogue_->HasNoted());
  catalogue_->WriteNoted(&batch);
  EXPECT_EQ(batch.Count(), 1u);
  ASSERT_EQ(run.open[0].size(), 1u);
  EXPECT_EQ(run.open[0][0], key);

  // Again: refused, and nothing written or queued.
  auto again = catalogue_->CreateTask(&run, 0, Item(4));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kInternal);
  EXPECT_FALSE(catalogue_->HasNoted());
  catalogue_->WriteNoted(&batch);
  EXPECT_EQ(batch.Count(), 1u);
  EXPECT_EQ(run.open[0].size(), 1u);
  EXPECT_EQ(catalogue_->tasks().size(), 1u);

  catalogue_->EraseTask(key);
  EXPECT_EQ(catalogue_->FindTask(key), nullptr);
}

TEST_F(JobCatalogueTest, FreeSlotsCountLeasedAndSubmittedOnesAndNoneOnceNotOpen) {
  v1::TaskRecord task;
  task.set_state(v1::TASK_OPEN);
  task.set_needed(3);
  task.add_slots()->set_state(v1::SLOT_LEASED);
  task.add_slots()->set_state(v1::SLOT_SUBMITTED);
  auto* expired = task.add_slots();
  expired->set_state(v1::SLOT_EXPIRED);
  expired->set_worker("chidi");
  EXPECT_EQ(FreeSlots(task), 1u);
  EXPECT_TRUE(HadOrBarred(task, "chidi"));  // an expired slot counts: never the same task twice
  task.set_state(v1::TASK_DEAD);
  EXPECT_EQ(FreeSlots(task), 0u);
}

TEST_F(JobCatalogueTest, ItemsAreReadAsStagedAndAMissingOneIsNotFound) {
  storage::Batch batch;
  v1::Item item = Item(3);
  item.add_fields()->set_name("id");
  batch.PutRecord(storage::Cf::kItems, keys::Item("job-1", 3), item);
  ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
  auto read = catalogue_->ReadItem("job-1", 3);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->index(), 3u);
  EXPECT_EQ(read->fields(0).name(), "id");
  EXPECT_EQ(catalogue_->ReadItem("job-1", 4).status().code(), absl::StatusCode::kNotFound);
}

// ReadNextItem reads ahead, a window at a time: what it hands out is what ReadItem reads,
// across windows, a gap in the indexes, a reader that goes back, jobs whose ids share a start,
// and more jobs than it keeps windows for.
TEST_F(JobCatalogueTest, ItemsReadInOrderComeAsStagedAcrossWindowsGapsAndJobs) {
  storage::Batch batch;
  auto stage = [&](const std::string& job, uint64_t index, size_t bytes) {
    v1::Item item = Item(index);
    v1::Field* f = item.add_fields();
    f->set_name("text");
    f->set_value(absl::StrCat(job, "#", index, std::string(bytes, 'x')));
    batch.PutRecord(storage::Cf::kItems, keys::Item(job, index), item);
  };
  for (uint64_t i = 0; i < 200; ++i) {
    if (i != 150) stage("job-1", i, i < 20 ? 100 << 10 : 10);  // big ones fill a window early
  }
  for (int j = 2; j <= 12; ++j) {
    for (uint64_t i = 0; i < 5; ++i) stage(absl::StrCat("job-", j), i, 10);
  }
  ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
  auto same = [&](const std::string& job, uint64_t index) {
    auto next = catalogue_->ReadNextItem(job, index);
    auto direct = catalogue_->ReadItem(job, index);
    ASSERT_TRUE(next.ok()) << job << " " << index << ": " << next.status();
    ASSERT_TRUE(direct.ok()) << direct.status();
    EXPECT_EQ(next->SerializeAsString(), direct->SerializeAsString()) << job << " " << index;
    EXPECT_EQ(next->fields(0).value().substr(0, job.size() + 1), job + "#");
  };
  for (uint64_t i = 0; i < 150; ++i) {
    same("job-1", i);
    if (i % 10 == 0 && i / 10 < 5) same("job-10", i / 10);
  }
  EXPECT_EQ(catalogue_->ReadNextItem("job-1", 150).status().code(), absl::StatusCode::kNotFound);
  for (uint64_t i = 151; i < 200; ++i) same("job-1", i);
  EXPECT_EQ(catalogue_->ReadNextItem("job-1", 200).status().code(), absl::StatusCode::kNotFound);
  same("job-1", 5);  // back
  same("job-1", 7);  // a skip forward inside the window
  for (uint64_t i = 0; i < 5; ++i) {
    for (int j = 2; j <= 12; ++j) same(absl::StrCat("job-", j), i);
  }
}

// A reader that goes on past a window's end is read twice as far ahead each time, up to 512
// items; one that jumps, or a job whose window another job's took, starts again at 64.
TEST_F(JobCatalogueTest, AReaderThatGoesOnIsReadFurtherAheadAndOneThatJumpsIsNot) {
  storage::Batch batch;
  for (uint64_t i = 0; i < 2000; ++i) {
    batch.PutRecord(storage::Cf::kItems, keys::Item("job-1", i), Item(i));
  }
  for (int j = 2; j <= 9; ++j) {
    batch.PutRecord(storage::Cf::kItems, keys::Item(absl::StrCat("job-", j), 0), Item(0));
  }
  ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
  uint64_t next = 0;
  std::vector<size_t> held;  // after the first item of each scan
  while (next < 1500) {
    ASSERT_TRUE(catalogue_->ReadNextItem("job-1", next).ok()) << next;
    const size_t ahead = catalogue_->HeldAhead("job-1");
    held.push_back(ahead);
    for (uint64_t i = next + 1; i <= next + ahead; ++i) {
      ASSERT_TRUE(catalogue_->ReadNextItem("job-1", i).ok()) << i;
    }
    EXPECT_EQ(catalogue_->HeldAhead("job-1"), 0u);
    next += ahead + 1;
  }
  EXPECT_EQ(held, (std::vector<size_t>{63, 127, 255, 511, 511, 511}));
  ASSERT_TRUE(catalogue_->ReadNextItem("job-1", 1600).ok());  // a jump
  EXPECT_EQ(catalogue_->HeldAhead("job-1"), 63u);
  ASSERT_TRUE(catalogue_->ReadNextItem("job-1", 1601).ok());
  for (int j = 2; j <= 9; ++j) {  // eight other jobs: job-1's window goes to the last of them
    ASSERT_TRUE(catalogue_->ReadNextItem(absl::StrCat("job-", j), 0).ok()) << j;
  }
  EXPECT_EQ(catalogue_->HeldAhead("job-1"), 0u);
  ASSERT_TRUE(catalogue_->ReadNextItem("job-1", 1602).ok());
  EXPECT_EQ(catalogue_->HeldAhead("job-1"), 63u);
}

// An item read ahead that does not decode ends the window: the items before it come, and it
// fails as ReadItem fails it, when it is asked for.
TEST_F(JobCatalogueTest, AnItemReadAheadThatDoesNotDecodeFailsOnlyItself) {
  storage::Batch batch;
  for (uint64_t i = 0; i < 3; ++i)
    batch.PutRecord(storage::Cf::kItems, keys::Item("job-1", i), Item(i));
  batch.Put(storage::Cf::kItems, keys::Item("job-1", 3), "\x07garbage");
  batch.PutRecord(storage::Cf::kItems, keys::Item("job-1", 4), Item(4));
  ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
  for (uint64_t i = 0; i < 3; ++i) {
    auto item = catalogue_->ReadNextItem("job-1", i);
    ASSERT_TRUE(item.ok()) << i << ": " << item.status();
    EXPECT_EQ(item->index(), i);
  }
  EXPECT_EQ(catalogue_->ReadItem("job-1", 3).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(catalogue_->ReadNextItem("job-1", 3).status().code(), absl::StatusCode::kDataLoss);
  auto after = catalogue_->ReadNextItem("job-1", 4);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->index(), 4u);
}

}  // namespace
}  // namespace mw::dispatch
