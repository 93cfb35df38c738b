#include "engine/dispatch/worker_book.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "engine/storage/keys.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::dispatch {
namespace {

namespace v1 = ::microwork::v1;

constexpr char kAmina[] = "worker:nairobi/amina";
constexpr char kOtieno[] = "worker:nairobi/otieno";
constexpr char kRavi[] = "worker:pune/ravi";

class WorkerBookTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  // With `with_ended`, the book is told which jobs ended (ended_): their records leave memory.
  void Reopen(bool with_ended = false) {
    store_.reset();
    auto s = storage::Store::Open(dir_.Sub("db"), storage::Schema::kDispatcher);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    book_ = WorkerBook();
    WorkerBook::EndedFn ended;
    if (with_ended) ended = [this](absl::string_view job) { return ended_.contains(job); };
    ASSERT_TRUE(book_.Load(*store_, std::move(ended)).ok());
  }
  void Write(storage::Batch batch) {
    ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
  }

  // Every (account@job=wages) a walk from `prefix` visits, in its order.
  std::vector<std::string> Walked(const std::string& prefix) {
    std::vector<std::string> seen;
    absl::Status s = book_.ForEachOnJob(
        prefix,
        [&](const std::string& account, const std::string& job_id, const v1::WorkerJobRecord& r) {
          seen.push_back(absl::StrCat(account, "@", job_id, "=", r.wages_minor()));
          return absl::OkStatus();
        });
    EXPECT_TRUE(s.ok()) << s;
    return seen;
  }

  mw::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  absl::flat_hash_set<std::string> ended_;
  WorkerBook book_;
};

// The records on a job that ended leave memory once the batch that holds them is durable, and
// are read back from the store: found, walked (merged in key order with those in memory),
// changed and put, and then leave again.
TEST_F(WorkerBookTest, RecordsOnAnEndedJobLeaveMemoryOnceDurableAndAreReadBack) {
  Reopen(/*with_ended=*/true);
  book_.CreditWork(kAmina, "job-1", 10, {.credited_seconds = 20});
  book_.CreditWork(kOtieno, "job-1", 5, {.credited_seconds = 9});
  book_.CreditWork(kAmina, "job-2", 7, {.credited_seconds = 3});
  storage::Batch batch;
  book_.NoteOnJob(kAmina, "job-1");
  book_.NoteOnJob(kOtieno, "job-1");
  book_.NoteOnJob(kAmina, "job-2");
  ended_.insert("job-1");  // job-1 ends in this batch
  book_.Retire("job-1");
  book_.WriteNoted(&batch);
  book_.Written(1);
  book_.Forget(0);  // the batch is not durable yet: nothing leaves
  EXPECT_EQ(book_.on_job_in_memory(), 3u);
  Write(std::move(batch));
  book_.Forget(1);
  EXPECT_EQ(book_.on_job_in_memory(), 1u);  // amina's on job-2, which runs
  ASSERT_TRUE(book_.FindOnJob(kOtieno, "job-1").has_value());
  EXPECT_EQ(book_.FindOnJob(kOtieno, "job-1")->wages_minor(), 5);
  EXPECT_FALSE(book_.FindOnJob(kRavi, "job-1").has_value());
  EXPECT_EQ(book_.on_job_in_memory(), 1u);  // finding reads, it does not bring back
  EXPECT_EQ(Walked(""), (std::vector<std::string>{"worker:nairobi/amina@job-1=10",
                                                  "worker:nairobi/amina@job-2=7",
                                                  "worker:nairobi/otieno@job-1=5"}));
  auto facts = book_.Facts(kAmina);
  ASSERT_TRUE(facts.ok()) << facts.status();
  EXPECT_EQ(facts->jobs, 2u);

  // A late answer on job-1 brings amina's record back, changed; it leaves with its batch.
  book_.CreditWork(kAmina, "job-1", 4, {.credited_seconds = 2});
  EXPECT_EQ(book_.on_job_in_memory(), 2u);
  storage::Batch late;
  book_.PutOnJob(kAmina, "job-1", &late);
  book_.Written(2);
  book_.Forget(1);
  EXPECT_EQ(book_.on_job_in_memory(), 2u);
  EXPECT_EQ(Walked(kAmina), (std::vector<std::string>{"worker:nairobi/amina@job-1=14",
                                                      "worker:nairobi/amina@job-2=7"}));
  Write(std::move(late));
  book_.Forget(2);
  EXPECT_EQ(book_.on_job_in_memory(), 1u);
  EXPECT_EQ(book_.FindOnJob(kAmina, "job-1")->wages_minor(), 14);
}

// A record put again in a later batch stays until that batch is durable.
TEST_F(WorkerBookTest, ARecordPutAgainLeavesWithItsLastBatch) {
  Reopen(/*with_ended=*/true);
  book_.CreditWork(kAmina, "job-1", 10, {.credited_seconds = 20});
  ended_.insert("job-1");
  storage::Batch first;
  book_.PutOnJob(kAmina, "job-1", &first);
  book_.Written(1);
  Write(std::move(first));
  book_.CreditWork(kAmina, "job-1", 1, {.credited_seconds = 1});
  storage::Batch second;
  book_.PutOnJob(kAmina, "job-1", &second);
  book_.Written(2);
  book_.Forget(1);
  EXPECT_EQ(book_.on_job_in_memory(), 1u);
  EXPECT_EQ(book_.FindOnJob(kAmina, "job-1")->wages_minor(), 11);
  Write(std::move(second));
  book_.Forget(2);
  EXPECT_EQ(book_.on_job_in_memory(), 0u);
  EXPECT_EQ(book_.FindOnJob(kAmina, "job-1")->wages_minor(), 11);
}

// Loading keeps in memory only the records on jobs that run; those on ended jobs are still
// found, walked, updated (a payout's reset of the period) and released from (held time), and
// what training passed on them still counts.
TEST_F(WorkerBookTest, LoadingLeavesEndedJobsRecordsInTheStore) {
  book_.CreditWork(kAmina, "job-1", 10, {.credited_seconds = 20});
  book_.CreditWork(kRavi, "job-1", 8, {.credited_seconds = 11, .held_seconds = 6});
  book_.OnJob(kRavi, "job-1").set_window_seconds(30);
  book_.CreditWork(kAmina, "job-2", 7, {.credited_seconds = 3});
  v1::HumanStage stage;
  stage.add_skills("receipts");
  stage.mutable_qa()->set_training_tasks(1);
  ASSERT_TRUE(book_.CountTrainingAnswer(kOtieno, "job-1", true, stage));
  storage::Batch batch;
  for (const char* account : {kAmina, kRavi, kOtieno}) book_.PutOnJob(account, "job-1", &batch);
  book_.PutOnJob(kAmina, "job-2", &batch);
  Write(std::move(batch));
  ended_.insert("job-1");
  Reopen(/*with_ended=*/true);
  EXPECT_EQ(book_.on_job_in_memory(), 1u);
  EXPECT_TRUE(book_.Promoted(kOtieno, "job-1"));
  EXPECT_TRUE(book_.PassedTrainingOnAnyJob(kOtieno));
  EXPECT_TRUE(book_.Vouched(kOtieno, stage));
  EXPECT_FALSE(book_.Promoted(kAmina, "job-1"));
  EXPECT_EQ(Walked("worker:"), (std::vector<std::string>{
                                   "worker:nairobi/amina@job-1=10", "worker:nairobi/amina@job-2=7",
                                   "worker:nairobi/otieno@job-1=0", "worker:pune/ravi@job-1=8"}));
  // A person releases ravi's held time on job-1: the record comes back to be changed.
  v1::TimeRelease release;
  release.set_seconds(6);
  ASSERT_TRUE(book_.ReleaseHeld(kRavi, "job-1", release).ok());
  EXPECT_EQ(book_.FindOnJob(kRavi, "job-1")->active_seconds(), 17u);
  EXPECT_EQ(book_.ReleaseHeld(kRavi, "job-9", release).code(), absl::StatusCode::kNotFound);
  // A walk told which records it wants brings back only those: amina's on job-1 has time this
  // period, otieno's none.
  std::vector<std::string> visited;
  ASSERT_TRUE(
      book_
          .UpdateOnJob(
              "worker:nairobi/",
              [&](const std::string& account, const std::string& job_id, v1::WorkerJobRecord&) {
                visited.push_back(absl::StrCat(account, "@", job_id));
                return absl::OkStatus();
              },
              [](const v1::WorkerJobRecord& r) { return r.period_active_seconds() != 0; })
          .ok());
  EXPECT_EQ(visited,
            (std::vector<std::string>{"worker:nairobi/amina@job-1", "worker:nairobi/amina@job-2"}));
  EXPECT_EQ(book_.on_job_in_memory(), 3u);  // with ravi's, back to be released
  // A payout's walk over nairobi brings its records back and resets their period.
  ASSERT_TRUE(book_
                  .UpdateOnJob("worker:nairobi/",
                               [](const std::string&, const std::string&, v1::WorkerJobRecord& r) {
                                 r.set_period_wages_minor(0);
                                 return absl::OkStatus();
                               })
                  .ok());
  EXPECT_EQ(book_.on_job_in_memory(), 4u);
  EXPECT_EQ(book_.FindOnJob(kAmina, "job-1")->period_wages_minor(), 0);
  EXPECT_EQ(book_.FindOnJob(kAmina, "job-2")->period_wages_minor(), 0);
  EXPECT_EQ(book_.FindOnJob(kAmina, "job-1")->wages_minor(), 10);
  storage::Batch payout;
  for (const auto& [account, job] : std::vector<std::pair<std::string, std::string>>{
           {kAmina, "job-1"}, {kAmina, "job-2"}, {kOtieno, "job-1"}, {kRavi, "job-1"}}) {
    book_.PutOnJob(account, job, &payout);
  }
  book_.Written(1);
  Write(std::move(payout));
  book_.Forget(1);
  EXPECT_EQ(book_.on_job_in_memory(), 1u);  // amina's on job-2 again
  Reopen(/*with_ended=*/true);
  EXPECT_EQ(book_.FindOnJob(kAmina, "job-1")->period_wages_minor(), 0);
  EXPECT_EQ(book_.FindOnJob(kRavi, "job-1")->active_seconds(), 17u);
}

// A record noted many times in one batch is written once, as it stands when the batch is
// written; a WriteNoted with nothing noted since writes nothing.
TEST_F(WorkerBookTest, NotedRecordsAreWrittenOnceAsTheyStandAtTheEnd) {
  for (int answer = 1; answer <= 3; ++answer) {
    book_.Record(kAmina).set_contributions(answer);
    book_.NoteRecord(kAmina);
    book_.OnJob(kAmina, "job-1").set_wages_minor(10 * answer);
    book_.NoteOnJob(kAmina, "job-1");
  }
  storage::Batch batch;
  book_.WriteNoted(&batch);
  EXPECT_EQ(batch.Count(), 2u);
  Write(std::move(batch));
  storage::Batch again;
  book_.WriteNoted(&again);
  EXPECT_TRUE(again.Empty());

  Reopen();
  ASSERT_NE(book_.FindRecord(kAmina), nullptr);
  EXPECT_EQ(book_.FindRecord(kAmina)->contributions(), 3u);
  ASSERT_TRUE(book_.FindOnJob(kAmina, "job-1").has_value());
  EXPECT_EQ(book_.FindOnJob(kAmina, "job-1")->wages_minor(), 30);
}

TEST_F(WorkerBookTest, SkillIsTheBetaPosteriorOfChecksAndAgreement) {
  EXPECT_DOUBLE_EQ(book_.Skill(kAmina), 0.5);  // nothing known yet
  v1::WorkerStatsRecord& r = book_.Record(kAmina);
  r.set_gold_total(4);
  r.set_gold_correct(3);
  r.set_agreed(5);
  r.set_disagreed(1);
  // (1 + 3 + 5) / (2 + 4 + 5 + 1)
  EXPECT_DOUBLE_EQ(book_.Skill(kAmina), 9.0 / 12.0);
  EXPECT_DOUBLE_EQ(book_.Skill(kOtieno), 0.5);
}

// Per kind of work (a skill in a language): checks and verdicts count overall and in each kind the
// stage is; the estimate on a stage pools its kinds under a prior at the overall estimate.
TEST_F(WorkerBookTest, SkillIsKeptPerKindOfWorkFromTheOverallRecord) {
  v1::HumanStage sw, en, both, plain;
  for (v1::HumanStage* s : {&sw, &en, &both}) s->add_skills("transcribe");
  sw.add_languages("sw");
  en.add_languages("en");
  both.add_languages("sw");
  both.add_languages("en");
  EXPECT_DOUBLE_EQ(book_.Skill(kAmina, sw), 0.5);  // nothing known yet
  for (int i = 0; i < 3; ++i) book_.CountCheck(kAmina, sw, true);
  for (int i = 0; i < 3; ++i) book_.CountVerdict(kAmina, en, false);
  book_.CountVerdict(kAmina, plain, true);
  // Overall (1 + 3 + 1) / (2 + 3 + 3 + 1).
  EXPECT_DOUBLE_EQ(book_.Skill(kAmina), 5.0 / 9.0);
  const double overall = 5.0 / 9.0;
  EXPECT_DOUBLE_EQ(book_.Skill(kAmina, sw), (2 * overall + 3) / (2 + 3));
  EXPECT_DOUBLE_EQ(book_.Skill(kAmina, en), (2 * overall + 0) / (2 + 3));
  EXPECT_DOUBLE_EQ(book_.Skill(kAmina, both), (2 * overall + 3) / (2 + 6));
  EXPECT_DOUBLE_EQ(book_.Skill(kAmina, plain), (2 * overall + 1) / (2 + 1));
  v1::HumanStage translate = sw;
  translate.set_skills(0, "translate");
  EXPECT_DOUBLE_EQ(book_.Skill(kAmina, translate), overall);  // a kind new to her

  storage::Batch batch;
  book_.PutRecord(kAmina, &batch);
  Write(std::move(batch));
  Reopen();
  std::vector<v1::SkillLine> lines = book_.SkillLines(kAmina);
  ASSERT_EQ(lines.size(), 3u);  // in the order first met
  EXPECT_EQ(lines[0].skill(), "transcribe");
  EXPECT_EQ(lines[0].language(), "sw");
  EXPECT_EQ(lines[0].gold_total(), 3u);
  EXPECT_EQ(lines[0].gold_correct(), 3u);
  EXPECT_DOUBLE_EQ(lines[0].estimate(), (2 * overall + 3) / (2 + 3));
  EXPECT_EQ(lines[1].language(), "en");
  EXPECT_EQ(lines[1].disagreed(), 3u);
  EXPECT_DOUBLE_EQ(lines[1].estimate(), (2 * overall) / (2 + 3));
  EXPECT_EQ(lines[2].skill(), "");
  EXPECT_EQ(lines[2].language(), "");
  EXPECT_EQ(lines[2].agreed(), 1u);
  EXPECT_TRUE(book_.SkillLines(kOtieno).empty());
  EXPECT_EQ(WorkerBook::Kinds(both), (std::vector<std::pair<std::string, std::string>>{
                                         {"transcribe", "sw"}, {"transcribe", "en"}}));
}

// A worker's time on a job never passes the union of their lease windows; what would is held.
TEST_F(WorkerBookTest, TimeOnAJobStaysWithinTheUnionOfItsLeaseWindows) {
  const TimeCredit first = book_.CreditWork(
      kAmina, "job-1", 5,
      {.credited_seconds = 100, .window_ms = 120'000, .window_start_ms = 1'000'000});
  EXPECT_EQ(first.credited_seconds, 100u);
  // Held at the same time: 20 s of the union are left.
  const TimeCredit second = book_.CreditWork(
      kAmina, "job-1", 5,
      {.credited_seconds = 100, .window_ms = 120'000, .window_start_ms = 1'000'000});
  EXPECT_EQ(second.credited_seconds, 20u);
  EXPECT_EQ(second.held_seconds, 80u);
  // Later, a window of its own.
  const TimeCredit third =
      book_.CreditWork(kAmina, "job-1", 5,
                       {.credited_seconds = 60, .window_ms = 60'000, .window_start_ms = 2'000'000});
  EXPECT_EQ(third.credited_seconds, 60u);
  const v1::WorkerJobRecord& r = book_.OnJob(kAmina, "job-1");
  EXPECT_EQ(r.window_seconds(), 180u);
  EXPECT_EQ(r.active_seconds(), 180u);
  EXPECT_EQ(r.held_seconds(), 80u);
  EXPECT_EQ(WorkerBook::Releasable(r), 0u);
}

// A record written before the union kept the sum of its windows: that stands for the past, and
// the next window adds its own time (it is not cut to the new union alone).
TEST_F(WorkerBookTest, ARecordFromBeforeTheUnionKeepsItsPastWindows) {
  v1::WorkerJobRecord& old = book_.OnJob(kAmina, "job-1");
  old.set_window_seconds(2400);
  old.set_active_seconds(1800);
  const TimeCredit next = book_.CreditWork(
      kAmina, "job-1", 5,
      {.credited_seconds = 500, .window_ms = 600'000, .window_start_ms = 9'000'000});
  EXPECT_EQ(next.credited_seconds, 500u);
  EXPECT_EQ(next.held_seconds, 0u);
  const v1::WorkerJobRecord& r = book_.OnJob(kAmina, "job-1");
  EXPECT_EQ(r.window_seconds(), 3000u);
  EXPECT_EQ(r.active_seconds(), 2300u);
}

TEST_F(WorkerBookTest, RecordsSurviveAReopenOnlyOnceTheyArePut) {
  book_.Record(kAmina).set_contributions(7);
  book_.Record(kOtieno).set_contributions(2);  // never put
  book_.CreditWork(kAmina, "job-1", 25, {.credited_seconds = 40, .held_seconds = 5});
  storage::Batch batch;
  book_.PutRecord(kAmina, &batch);
  book_.PutOnJob(kAmina, "job-1", &batch);
  Write(std::move(batch));
  Reopen();
  ASSERT_NE(book_.FindRecord(kAmina), nullptr);
  EXPECT_EQ(book_.FindRecord(kAmina)->contributions(), 7u);
  EXPECT_EQ(book_.FindRecord(kOtieno), nullptr);
  const v1::WorkerJobRecord& on_job = book_.OnJob(kAmina, "job-1");
  EXPECT_EQ(on_job.active_seconds(), 40u);
  EXPECT_EQ(on_job.held_seconds(), 5u);
  EXPECT_EQ(on_job.wages_minor(), 25);
  EXPECT_EQ(on_job.period_active_seconds(), 40u);
  EXPECT_EQ(on_job.period_wages_minor(), 25);
}

TEST_F(WorkerBookTest, WorkIsCreditedPerJobAndThePeriodAddsUp) {
  book_.CreditWork(kAmina, "job-1", 10, {.credited_seconds = 20});
  book_.CreditWork(kAmina, "job-1", 10, {.credited_seconds = 30});
  book_.CreditWork(kAmina, "job-2", 7, {.credited_seconds = 15});
  EXPECT_EQ(book_.OnJob(kAmina, "job-1").active_seconds(), 50u);
  EXPECT_EQ(book_.OnJob(kAmina, "job-1").wages_minor(), 20);
  EXPECT_EQ(book_.OnJob(kAmina, "job-2").period_wages_minor(), 7);
}

TEST_F(WorkerBookTest, ForEachOnJobVisitsTheCentresWorkersAndUpdateCanResetThePeriod) {
  book_.CreditWork(kAmina, "job-1", 10, {.credited_seconds = 20});
  book_.CreditWork(kOtieno, "job-2", 5, {.credited_seconds = 9});
  book_.CreditWork(kRavi, "job-1", 8, {.credited_seconds = 11});
  std::map<std::string, int64_t> seen;
  ASSERT_TRUE(book_
                  .ForEachOnJob("worker:nairobi/",
                                [&](const std::string& account, const std::string& job_id,
                                    const v1::WorkerJobRecord& r) {
                                  seen[account + "@" + job_id] = r.wages_minor();
                                  return absl::OkStatus();
                                })
                  .ok());
  EXPECT_EQ(seen, (std::map<std::string, int64_t>{{"worker:nairobi/amina@job-1", 10},
                                                  {"worker:nairobi/otieno@job-2", 5}}));
  ASSERT_TRUE(book_
                  .UpdateOnJob("worker:pune/",
                               [](const std::string&, const std::string&, v1::WorkerJobRecord& r) {
                                 r.set_period_wages_minor(0);
                                 return absl::OkStatus();
                               })
                  .ok());
  EXPECT_EQ(book_.OnJob(kRavi, "job-1").period_wages_minor(), 0);
  EXPECT_EQ(book_.OnJob(kRavi, "job-1").wages_minor(), 8);
  EXPECT_EQ(book_.OnJob(kAmina, "job-1").period_wages_minor(), 10);
  // The first error stops the walk and is returned.
  int calls = 0;
  absl::Status s = book_.ForEachOnJob(
      "", [&](const std::string&, const std::string&, const v1::WorkerJobRecord&) {
        ++calls;
        return absl::InternalError("stop");
      });
  EXPECT_EQ(s.message(), "stop");
  EXPECT_EQ(calls, 1);
}

// A walk visits the records under its prefix in key order (account, then job), those loaded
// from the store as well as those made since, and no others: a worker's own walk (Facts) does
// not reach a longer pseudonym's.
TEST_F(WorkerBookTest, AWalkVisitsOnlyItsPrefixsRecordsInKeyOrder) {
  const std::string amina2 = "worker:nairobi/amina2";
  book_.CreditWork(kAmina, "job-2", 4, {.credited_seconds = 5});
  storage::Batch batch;
  book_.PutOnJob(kAmina, "job-2", &batch);
  Write(std::move(batch));
  Reopen();
  book_.CreditWork(amina2, "job-1", 6, {.credited_seconds = 7});
  book_.CreditWork(kRavi, "job-1", 8, {.credited_seconds = 9});
  book_.CreditWork(kAmina, "job-1", 10, {.credited_seconds = 11});
  book_.CreditWork(kOtieno, "job-3", 12, {.credited_seconds = 13});
  std::vector<std::string> seen;
  ASSERT_TRUE(book_
                  .ForEachOnJob(kAmina,
                                [&](const std::string& account, const std::string& job_id,
                                    const v1::WorkerJobRecord& r) {
                                  seen.push_back(
                                      absl::StrCat(account, "@", job_id, "=", r.wages_minor()));
                                  return absl::OkStatus();
                                })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"worker:nairobi/amina@job-1=10",
                                            "worker:nairobi/amina@job-2=4",
                                            "worker:nairobi/amina2@job-1=6"}));
  auto facts = book_.Facts(kAmina);
  ASSERT_TRUE(facts.ok()) << facts.status();
  EXPECT_EQ(facts->jobs, 2u);
  seen.clear();
  ASSERT_TRUE(book_
                  .ForEachOnJob("",
                                [&](const std::string& account, const std::string& job_id,
                                    const v1::WorkerJobRecord&) {
                                  seen.push_back(absl::StrCat(account, "@", job_id));
                                  return absl::OkStatus();
                                })
                  .ok());
  EXPECT_EQ(seen,
            (std::vector<std::string>{"worker:nairobi/amina@job-1", "worker:nairobi/amina@job-2",
                                      "worker:nairobi/amina2@job-1", "worker:nairobi/otieno@job-3",
                                      "worker:pune/ravi@job-1"}));
}

// Training passed on a stage that asks for skills and languages vouches for them, across a
// restart; a person's promotion skips training on its job but vouches for nothing.
TEST_F(WorkerBookTest, TrainingPassedVouchesForTheStagesSkillsAndLanguages) {
  v1::HumanStage transcribe;
  transcribe.mutable_qa()->set_training_tasks(1);
  transcribe.add_skills("transcribe");
  transcribe.add_languages("sw");
  v1::HumanStage plain;
  plain.mutable_qa()->set_training_tasks(1);
  EXPECT_TRUE(book_.Vouched(kAmina, plain));  // asks for nothing
  EXPECT_FALSE(book_.Vouched(kAmina, transcribe));
  ASSERT_TRUE(book_.CountTrainingAnswer(kAmina, "job-1", true, plain));
  EXPECT_FALSE(book_.Vouched(kAmina, transcribe));  // trained, but not on this
  ASSERT_TRUE(book_.CountTrainingAnswer(kAmina, "job-2", true, transcribe));
  EXPECT_TRUE(book_.Vouched(kAmina, transcribe));
  v1::HumanStage more = transcribe;
  more.add_languages("am");
  EXPECT_FALSE(book_.Vouched(kAmina, more));
  v1::PersonDecision decision;
  decision.set_decided_by("operator");
  ASSERT_TRUE(book_.Promote(kOtieno, "job-2", decision).ok());
  EXPECT_FALSE(book_.Vouched(kOtieno, transcribe));
  storage::Batch batch;
  book_.PutOnJob(kAmina, "job-2", &batch);
  Write(std::move(batch));
  Reopen();
  EXPECT_TRUE(book_.Vouched(kAmina, transcribe));
  EXPECT_EQ(book_.OnJob(kAmina, "job-2").vouched_size(), 3);  // "trained", skill, language
}

// A record of training passed from before vouching was kept vouches, as then, for everything;
// a person's promotion never did.
TEST_F(WorkerBookTest, TrainingPassedBeforeVouchingWasKeptStillCounts) {
  v1::HumanStage transcribe;
  transcribe.add_skills("transcribe");
  storage::Batch batch;
  v1::WorkerJobRecord legacy;
  legacy.set_promoted(true);
  batch.PutRecord(storage::Cf::kWorkerJobs, storage::keys::WorkerJob(kAmina, "job-1"), legacy);
  v1::WorkerJobRecord by_person;
  by_person.set_promoted(true);
  by_person.mutable_promotion()->set_decided_by("operator");
  batch.PutRecord(storage::Cf::kWorkerJobs, storage::keys::WorkerJob(kOtieno, "job-1"), by_person);
  Write(std::move(batch));
  Reopen();
  EXPECT_TRUE(book_.Vouched(kAmina, transcribe));
  EXPECT_FALSE(book_.Vouched(kOtieno, transcribe));
  EXPECT_TRUE(book_.PromotedByPerson(kOtieno, "job-1"));
  EXPECT_FALSE(book_.PromotedByPerson(kAmina, "job-1"));
}

TEST_F(WorkerBookTest, TrainingPromotesAtTheCountAndTheBarAndOnlyOnce) {
  v1::HumanStage stage;
  v1::QaPolicy& qa = *stage.mutable_qa();
  qa.set_training_tasks(5);  // bar unset: 80%
  EXPECT_FALSE(book_.Promoted(kAmina, "job-1"));
  // Right, right, wrong, right: four answers, below the count.
  for (bool correct : {true, true, false, true}) {
    EXPECT_FALSE(book_.CountTrainingAnswer(kAmina, "job-1", correct, stage));
  }
  // The fifth makes 4 of 5 = 80%: promoted by this answer.
  EXPECT_TRUE(book_.CountTrainingAnswer(kAmina, "job-1", true, stage));
  EXPECT_TRUE(book_.Promoted(kAmina, "job-1"));
  EXPECT_FALSE(book_.CountTrainingAnswer(kAmina, "job-1", true, stage));  // already promoted
  EXPECT_FALSE(book_.Promoted(kAmina, "job-2"));                          // per job
  EXPECT_TRUE(book_.PassedTrainingOnAnyJob(kAmina));
  EXPECT_FALSE(book_.PassedTrainingOnAnyJob(kOtieno));
  // Once put, the record of training passed survives a restart.
  storage::Batch batch;
  book_.PutOnJob(kAmina, "job-1", &batch);
  Write(std::move(batch));
  Reopen();
  EXPECT_TRUE(book_.Promoted(kAmina, "job-1"));
  EXPECT_TRUE(book_.PassedTrainingOnAnyJob(kAmina));
  EXPECT_FALSE(book_.PassedTrainingOnAnyJob(kOtieno));

  // 3 of 5 is below 80%: not yet; a sixth right makes 4 of 6 (66%): still not; with a 60% bar
  // it would have been.
  for (bool correct : {true, false, true, false, true}) {
    EXPECT_FALSE(book_.CountTrainingAnswer(kOtieno, "job-1", correct, stage));
  }
  EXPECT_FALSE(book_.CountTrainingAnswer(kOtieno, "job-1", true, stage));
  qa.set_training_accuracy_percent(60);
  EXPECT_TRUE(book_.CountTrainingAnswer(kOtieno, "job-1", true, stage));  // 5 of 7
  EXPECT_EQ(book_.OnJob(kOtieno, "job-1").training_answers(), 7u);
  EXPECT_EQ(book_.OnJob(kOtieno, "job-1").training_correct(), 5u);
}

}  // namespace
}  // namespace mw::dispatch
