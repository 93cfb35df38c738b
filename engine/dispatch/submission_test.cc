// Submission alone, against a recording JobIntake: what it stages, in what batches, what job it
// asks for, and what it refuses before asking.
#include "engine/dispatch/submission.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "engine/common/sha256.h"
#include "engine/contract/contract_file.h"
#include "engine/dispatch/job_run.h"
#include "engine/dispatch/plan.h"
#include "engine/media/test_media.h"
#include "gtest/gtest.h"

namespace mw::dispatch {
namespace {

namespace v1 = ::microwork::v1;

constexpr char kStreamed[] = R"(
name: Streamed
client: acme
currency: USD
budget_minor: 100000
inputs:
  - {name: items, format: FORMAT_CSV, path: "items.csv"}
  - {name: checks, format: FORMAT_CSV, inline_text: "id,text,answer\ng1,x,yes\ng2,y,maybe\ng3,z,no\n"}
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
      qa: {method: MAJORITY_VOTE, gold_per_thousand: 100}
      gold_input: checks
)";

class RecordingIntake : public JobIntake {
 public:
  absl::Status StageItems(storage::Batch batch) override {
    staged_batches.push_back(batch.Count());
    return absl::OkStatus();
  }
  void DropStaged(const std::string& job_id) override { dropped.insert(job_id); }
  std::vector<v1::Centre> Centres() const override {
    v1::Centre c;
    c.set_id("nairobi");
    c.set_region("KE");
    c.set_currency("USD");
    c.set_wage_floor_minor_per_hour(600);
    c.add_languages("en");
    c.set_capacity(10);
    return {c};
  }
  absl::StatusOr<v1::SubmitContractReply> CreateJob(NewJob job) override {
    created.push_back(job);
    v1::SubmitContractReply reply = job.reply;
    reply.mutable_job()->set_id(job.job_id.empty() ? "job-1" : job.job_id);
    reply.set_existing(job.job_id.empty());
    return reply;
  }

  absl::StatusOr<std::optional<v1::Media>> FindMedia(const std::string& sha) const override {
    auto it = shelf.find(sha);
    if (it == shelf.end()) return std::nullopt;
    return it->second;
  }
  absl::Status StoreMedia(const v1::Media& media, absl::string_view bytes) override {
    shelf[media.sha256()] = media;
    stored_bytes += bytes.size();
    return absl::OkStatus();
  }

  std::map<std::string, v1::Media> shelf;
  uint64_t stored_bytes = 0;
  std::vector<size_t> staged_batches;  // items per StageItems call
  std::set<std::string> dropped;
  std::vector<NewJob> created;
};

v1::ContractHeader Header(const std::string& key, int64_t budget = 100000) {
  auto contract = contract::ParseContract(kStreamed, "streamed.yaml");
  EXPECT_TRUE(contract.ok()) << contract.status();
  v1::ContractHeader header;
  *header.mutable_contract() = *contract;
  header.mutable_contract()->set_budget_minor(budget);
  header.set_idempotency_key(key);
  return header;
}

v1::InputChunk Chunk(const std::string& data, bool last) {
  v1::InputChunk chunk;
  chunk.set_input("items");
  chunk.set_data(data);
  chunk.set_last(last);
  return chunk;
}

std::string Rows(int from, int to) {
  std::string rows;
  for (int i = from; i < to; ++i) absl::StrAppend(&rows, i, ",text ", i, "\n");
  return rows;
}

TEST(SubmissionTest, ItemsAreStagedInBatchesAndTheJobCarriesTheGoldTasks) {
  RecordingIntake intake;
  Submission sub(&intake, Header("k1"), "job-4", false, {.staging_batch_items = 4});
  ASSERT_TRUE(sub.Start().ok());
  {
    absl::Status st = sub.AddChunk(Chunk("id,text\n" + Rows(0, 5), false));
    ASSERT_TRUE(st.ok()) << st;
  }
  {
    absl::Status st = sub.AddChunk(Chunk(Rows(5, 10), true));
    ASSERT_TRUE(st.ok()) << st;
  }
  auto reply = sub.Finish();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->job().id(), "job-4");

  // Two gold rows are usable ("maybe" is not an option: quarantined); ten items; four a batch.
  size_t staged = 0;
  for (size_t n : intake.staged_batches) {
    EXPECT_LE(n, 4u);
    staged += n;
  }
  EXPECT_EQ(staged, 12u);
  ASSERT_EQ(intake.created.size(), 1u);
  const NewJob& job = intake.created[0];
  EXPECT_EQ(job.job_id, "job-4");
  EXPECT_EQ(job.items, 10u);
  ASSERT_EQ(job.gold_tasks.size(), 2u);
  EXPECT_EQ(job.gold_tasks[0].item_index, kGoldItemBase);
  EXPECT_EQ(job.gold_tasks[0].label, "yes");
  EXPECT_EQ(job.gold_tasks[1].item_index, kGoldItemBase + 1);
  EXPECT_EQ(job.gold_tasks[1].label, "no");
  EXPECT_EQ(job.gold_tasks[1].stage_index, 1);
  EXPECT_EQ(job.reply.quarantined_total(), 1u);
  EXPECT_EQ(job.reply.quarantined(0).input(), "checks");
  EXPECT_EQ(job.reply.quarantined(0).line(), 3u);
  EXPECT_TRUE(intake.dropped.empty());
}

TEST(SubmissionTest, RowsNamingMediaGetTheFilesOrAreQuarantinedBeforeTheyTakeAnIndex) {
  RecordingIntake intake;
  v1::ContractHeader header = Header("k-media");
  auto* media = header.mutable_contract()->mutable_inputs(0)->add_media();
  media->set_field("text");  // the rows' second column names a file
  media->set_kind(v1::MEDIA_IMAGE);
  const std::string jpeg = media::TestImage(120, 90);
  const std::string sha = ToHex(Sha256(jpeg));
  Submission sub(&intake, header, "job-7", false, {});
  ASSERT_TRUE(sub.Start().ok());
  v1::MediaFile file;
  file.set_name("a.jpg");
  file.set_sha256(sha);
  file.set_bytes(jpeg.size());
  ASSERT_TRUE(sub.AddMediaFile(file).ok());
  v1::MediaChunk chunk;
  chunk.set_sha256(sha);
  chunk.set_data(jpeg);
  chunk.set_last(true);
  ASSERT_TRUE(sub.AddMediaChunk(chunk).ok());
  ASSERT_TRUE(sub.AddChunk(Chunk("id,text\n1,a.jpg\n2,b.jpg\n3,a.jpg\n", true)).ok());
  // Media come before the inputs.
  file.set_name("late.jpg");
  EXPECT_EQ(std::string(sub.AddMediaFile(file).message()),
            "media_file \"late.jpg\": media files come before the inputs");
  auto reply = sub.Finish();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->plan().items(), 2u);
  ASSERT_EQ(intake.created.size(), 1u);
  EXPECT_EQ(intake.created[0].items, 2u);
  ASSERT_EQ(intake.shelf.size(), 1u);
  EXPECT_EQ(intake.shelf[sha].width(), 120u);
  EXPECT_EQ(intake.stored_bytes, jpeg.size());
  // The gold input's "maybe" and the row naming a file never sent.
  ASSERT_EQ(reply->quarantined_total(), 2u);
  EXPECT_EQ(reply->quarantined(1).input(), "items");
  EXPECT_EQ(reply->quarantined(1).line(), 3u);
  EXPECT_EQ(reply->quarantined(1).reason(), "text: \"b.jpg\" was not sent with the contract");
}

TEST(SubmissionTest, AReplayOnlyHashesAndAnotherBodyHashesDifferently) {
  RecordingIntake intake;
  Submission one(&intake, Header("k1"), "job-1", false, {});
  ASSERT_TRUE(one.Start().ok());
  {
    absl::Status st = one.AddChunk(Chunk("id,text\n" + Rows(0, 3), true));
    ASSERT_TRUE(st.ok()) << st;
  }
  ASSERT_TRUE(one.Finish().ok());
  // A replay only hashes: nothing is staged, and the intake is asked for the stored reply.
  Submission replay(&intake, Header("k1"), "", true, {});
  ASSERT_TRUE(replay.Start().ok());
  {
    absl::Status st = replay.AddChunk(Chunk("id,text\n" + Rows(0, 3), true));
    ASSERT_TRUE(st.ok()) << st;
  }
  const size_t staged_before = intake.staged_batches.size();
  auto reply = replay.Finish();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_TRUE(reply->existing());
  EXPECT_EQ(intake.staged_batches.size(), staged_before);
  ASSERT_EQ(intake.created.size(), 2u);
  EXPECT_EQ(intake.created[1].job_id, "");
  EXPECT_EQ(intake.created[1].body_hash, intake.created[0].body_hash);
  // Another body under the same key hashes differently (the intake refuses it then).
  Submission other(&intake, Header("k1"), "", true, {});
  ASSERT_TRUE(other.Start().ok());
  {
    absl::Status st = other.AddChunk(Chunk("id,text\n" + Rows(0, 4), true));
    ASSERT_TRUE(st.ok()) << st;
  }
  ASSERT_TRUE(other.Finish().ok());
  EXPECT_NE(intake.created[2].body_hash, intake.created[0].body_hash);
}

TEST(SubmissionTest, AStreamCutShortIsRefusedAndWhatItStagedIsDropped) {
  RecordingIntake intake;
  {
    Submission sub(&intake, Header("k1"), "job-2", false, {});
    ASSERT_TRUE(sub.Start().ok());
    {
      absl::Status st = sub.AddChunk(Chunk("id,text\n" + Rows(0, 3), false));
      ASSERT_TRUE(st.ok()) << st;
    }
    auto reply = sub.Finish();
    EXPECT_EQ(reply.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(reply.status().message(), "input \"items\": the stream ended before its last chunk");
  }
  EXPECT_TRUE(intake.created.empty());
  EXPECT_EQ(intake.dropped, std::set<std::string>{"job-2"});
}

TEST(SubmissionTest, BadChunksAreRefusedNamingTheInput) {
  RecordingIntake intake;
  Submission sub(&intake, Header("k1"), "job-3", false, {.max_items = 5});
  ASSERT_TRUE(sub.Start().ok());
  v1::InputChunk unknown = Chunk("x", false);
  unknown.set_input("photos");
  EXPECT_EQ(sub.AddChunk(unknown).message(),
            "chunk for input \"photos\", which the contract does not have");
  absl::Status too_many = sub.AddChunk(Chunk("id,text\n" + Rows(0, 6), true));
  EXPECT_EQ(too_many.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(too_many.message(),
            "input \"items\": input \"items\" has more than 5 items (caps.max_items)");
  EXPECT_EQ(sub.AddChunk(Chunk("7,late\n", true)).message(),
            "input \"items\": data after its last chunk");
}

TEST(SubmissionTest, ABudgetThatCannotPayIsRefusedBeforeTheJobIsAskedFor) {
  RecordingIntake intake;
  Submission sub(&intake, Header("k1", /*budget=*/10), "job-5", false, {});
  ASSERT_TRUE(sub.Start().ok());
  {
    absl::Status st = sub.AddChunk(Chunk("id,text\n" + Rows(0, 3), true));
    ASSERT_TRUE(st.ok()) << st;
  }
  auto reply = sub.Finish();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(intake.created.empty());
}

TEST(SubmissionTest, ADryRunChecksAndPricesEverythingAndKeepsNothing) {
  RecordingIntake intake;
  v1::ContractHeader header = Header("");
  header.set_dry_run(true);
  {
    Submission sub(&intake, header, "", false, {.staging_batch_items = 4});
    ASSERT_TRUE(sub.Start().ok());
    ASSERT_TRUE(sub.AddChunk(Chunk("id,text\n" + Rows(0, 10), true)).ok());
    auto reply = sub.Finish();
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->job().id(), "");
    EXPECT_EQ(reply->job().items(), 10u);
    EXPECT_EQ(reply->job().contract_name(), "Streamed");
    EXPECT_EQ(reply->quarantined_total(), 1u);  // the gold row "maybe", as a submission says
    auto plan = PlanContract(header.contract(), 10);
    ASSERT_TRUE(plan.ok()) << plan.status();
    EXPECT_EQ(reply->plan().items(), 10u);
    EXPECT_EQ(reply->plan().wages_minor(), 100);  // 10 items x 2 answers x 5
    EXPECT_EQ(reply->plan().check_wages_minor(), plan->gold_wages);
    EXPECT_EQ(reply->plan().fee_minor(), plan->fee);
    EXPECT_EQ(reply->plan().cost_minor(), plan->cost());
    EXPECT_EQ(reply->plan().expected_cost_minor(), plan->cost());
    EXPECT_EQ(reply->plan().budget_minor(), 100000);
  }
  EXPECT_TRUE(intake.staged_batches.empty());
  EXPECT_TRUE(intake.created.empty());
  EXPECT_TRUE(intake.dropped.empty());  // nothing to drop: never DropStaged("")

  // A dry run is refused for what a submission is refused for.
  v1::ContractHeader poor = Header("", /*budget=*/50);
  poor.set_dry_run(true);
  Submission sub(&intake, poor, "", false, {});
  ASSERT_TRUE(sub.Start().ok());
  ASSERT_TRUE(sub.AddChunk(Chunk("id,text\n" + Rows(0, 10), true)).ok());
  EXPECT_EQ(sub.Finish().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(intake.created.empty());
}

}  // namespace
}  // namespace mw::dispatch
