// Submission: one contract arriving. Its inputs come in chunks and are split as they arrive; the
// items are staged through the JobIntake (buffered writes no job refers to yet, so invisible);
// Finish checks what the whole input allows (gold supply, budget, servable centres) and asks the
// intake to make the job exist, in one synced write. Destroying an unfinished Submission drops
// what it staged.
//
//   MW_ASSIGN_OR_RETURN(std::unique_ptr<Submission> sub, engine->BeginSubmission(header));
//   for (const v1::InputChunk& chunk : chunks) MW_RETURN_IF_ERROR(sub->AddChunk(chunk));
//   MW_ASSIGN_OR_RETURN(v1::SubmitContractReply reply, sub->Finish());
//
// A replay (the idempotency key was seen) only hashes the chunks; Finish then returns the stored
// reply, or ALREADY_EXISTS when the body differs. A dry run (header.dry_run, no job id) splits
// and checks everything but stages nothing; Finish returns the reply a job would get, with its
// plan, and makes no job. Not thread-safe; the intake must outlive it.
#ifndef MW_ENGINE_DISPATCH_SUBMISSION_H_
#define MW_ENGINE_DISPATCH_SUBMISSION_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/common/sha256.h"
#include "engine/contract/splitter.h"
#include "engine/contract/validate.h"
#include "engine/dispatch/media_receiver.h"
#include "engine/storage/store.h"
#include "microwork/v1/records.pb.h"
#include "microwork/v1/services.pb.h"

namespace mw::dispatch {

// A job ready to exist: everything Finish learnt from the contract and its inputs.
struct NewJob {
  struct GoldTask {
    int stage_index = 0;
    uint64_t item_index = 0;  // kGoldItemBase and up
    std::string label;        // the known answer, as AnswerLabel writes it
  };
  const microwork::v1::ContractHeader* header = nullptr;
  std::string job_id;     // empty for a replay
  std::string body_hash;  // of the header and every chunk, in order
  uint64_t items = 0;     // the client's items staged (indexes 0 .. items - 1)
  std::vector<GoldTask> gold_tasks;
  microwork::v1::SubmitContractReply reply;  // the quarantine report so far
};

// What a Submission needs from the dispatcher (media: MediaShelf's).
class JobIntake : public MediaShelf {
 public:
  // Writes staged items, buffered (made durable by CreateJob's synced write).
  [[nodiscard]] virtual absl::Status StageItems(storage::Batch batch) = 0;
  // Deletes what was staged for `job_id`, best effort (what remains goes at the next start).
  virtual void DropStaged(const std::string& job_id) = 0;
  // The registered centres, for the check that some centre can serve every stage.
  virtual std::vector<microwork::v1::Centre> Centres() const = 0;
  // Makes `job` exist, with its gold tasks and its escrow funded, in one synced write; for a
  // replay, returns the stored reply (existing = true) instead.
  [[nodiscard]] virtual absl::StatusOr<microwork::v1::SubmitContractReply> CreateJob(
      NewJob job) = 0;

 protected:
  ~JobIntake() = default;
};

class Submission {
 public:
  struct Options {
    size_t staging_batch_items = 2000;  // items per staging write
    // Items when the contract sets no caps.max_items (Engine::Options::limits).
    uint64_t max_items = contract::Limits().max_items;
    MediaCaps media;
  };
  // `job_id` empty when `replay` or a dry run. Call Start before anything else.
  Submission(JobIntake* intake, microwork::v1::ContractHeader header, std::string job_id,
             bool replay, Options options);
  ~Submission();
  Submission(const Submission&) = delete;
  Submission& operator=(const Submission&) = delete;

  // Hashes the header and splits the inputs carried inline in the contract.
  [[nodiscard]] absl::Status Start();
  // The media files the rows name, each before any input chunk (MediaReceiver: what is refused).
  [[nodiscard]] absl::Status AddMediaFile(const microwork::v1::MediaFile& file);
  [[nodiscard]] absl::Status AddMediaChunk(const microwork::v1::MediaChunk& chunk);
  // INVALID_ARGUMENT for a chunk of an input the contract lacks, data after an input's last
  // chunk, or more items than the cap.
  [[nodiscard]] absl::Status AddChunk(const microwork::v1::InputChunk& chunk);
  // FAILED_PRECONDITION when the budget cannot pay for the work or no centre can serve it;
  // INVALID_ARGUMENT when an input did not arrive whole or was unusable. On any error nothing of
  // the job remains.
  [[nodiscard]] absl::StatusOr<microwork::v1::SubmitContractReply> Finish();

 private:
  struct GoldInput {
    int stage_index = 0;
    std::string answer_field;
    std::unique_ptr<contract::Splitter> splitter;
    bool done = false;
  };
  absl::Status Flush();
  // AddChunk's work; also for the inputs carried inline, which come before any media.
  absl::Status FeedChunk(const microwork::v1::InputChunk& chunk);
  // Gives `splitter` of `input` the media check, when the input has media fields.
  void CheckMedia(const std::string& input, contract::Splitter* splitter);
  void Quarantine(const std::string& input, contract::BadRow bad);
  absl::Status AddGoldItem(GoldInput* gold, microwork::v1::Item item, uint64_t line,
                           const std::string& input);

  JobIntake* const intake_;
  const Options options_;
  microwork::v1::ContractHeader header_;
  std::string job_id_;
  bool replay_;          // the key was seen before: only hash, compare and replay
  Sha256Hasher hasher_;  // over the header, then every chunk in order
  MediaReceiver media_;
  bool inputs_started_ = false;  // an input chunk arrived: no more media
  std::unique_ptr<contract::Splitter> splitter_;
  std::string split_input_;
  std::map<std::string, GoldInput> gold_;     // by input name
  std::vector<NewJob::GoldTask> gold_tasks_;  // staged so far, over every gold input
  bool split_input_done_ = false;
  storage::Batch staged_;
  size_t staged_items_ = 0;
  bool finished_ = false;
  microwork::v1::SubmitContractReply reply_;
};

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_SUBMISSION_H_
