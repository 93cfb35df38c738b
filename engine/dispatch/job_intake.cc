// Engine: taking jobs in. BeginSubmission validates a contract and starts a Submission
// (submission.h), which stages the items through the JobIntake calls below; CreateJob makes the
// job exist in one synced write: its record and progress, its gold tasks, the escrow funded from
// its client, and the idempotency record.
#include "absl/strings/str_cat.h"
#include "engine/common/ids.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"
#include "engine/dispatch/engine.h"
#include "engine/storage/keys.h"
#include "engine/storage/record.h"

namespace mw::dispatch {

using storage::Batch;
using storage::Cf;
namespace keys = storage::keys;

absl::StatusOr<std::unique_ptr<Submission>> Engine::BeginSubmission(
    const v1::ContractHeader& header) {
  if (header.idempotency_key().empty() && !header.dry_run()) {
    return absl::InvalidArgumentError("idempotency_key: required");
  }
  MW_RETURN_IF_ERROR(Admit(options_.max_waiting_commit_bytes, "submission"));
  MW_RETURN_IF_ERROR(
      contract::ErrorsToStatus(contract::ValidateContract(header.contract(), options_.limits)));
  // Every step's QA method is one this dispatcher runs (verdicts.h), before any input arrives.
  for (const StageRun& step : BuildFlow(header.contract())) {
    MW_RETURN_IF_ERROR(AggregationFor(step.human.qa(), step.human.answer()).status());
  }
  bool replay = false;
  std::string job_id;
  if (!header.dry_run()) {  // a dry run keeps nothing, not even a job number
    absl::MutexLock l(&mu_);
    MW_ASSIGN_OR_RETURN(replay, idempotency_->Seen(kOperatorPrincipal, header.idempotency_key()));
    if (!replay) job_id = absl::StrCat("job-", catalogue_.TakeNumber());
  }
  auto sub = std::make_unique<Submission>(
      static_cast<JobIntake*>(this), header, job_id, replay,
      Submission::Options{.staging_batch_items = options_.staging_batch_items,
                          .max_items = options_.limits.max_items,
                          .media = options_.media});
  MW_RETURN_IF_ERROR(sub->Start());
  return sub;
}

absl::Status Engine::StageItems(Batch batch) {
  return store_->Write(std::move(batch), storage::Durability::kBuffered);
}

void Engine::DropStaged(const std::string& job_id) {
  store_->DeletePrefix(Cf::kItems, keys::JobPrefix(job_id)).IgnoreError();
}

std::vector<v1::Centre> Engine::Centres() const { return ListCentres(); }

absl::StatusOr<std::optional<v1::Media>> Engine::FindMedia(const std::string& sha256) const {
  v1::Media media;
  absl::Status s = store_->GetRecord(Cf::kMedia, keys::MediaInfo(sha256), &media);
  if (absl::IsNotFound(s)) return std::nullopt;
  MW_RETURN_IF_ERROR(s);
  return media;
}

absl::Status Engine::StoreMedia(const v1::Media& media, absl::string_view bytes) {
  Batch batch;
  for (size_t at = 0, i = 0; at < bytes.size(); at += keys::kMediaChunkBytes, ++i) {
    batch.Put(Cf::kMedia, keys::MediaChunk(media.sha256(), static_cast<uint32_t>(i)),
              bytes.substr(at, keys::kMediaChunkBytes));
  }
  // The record last in the batch: whoever finds it finds every chunk.
  batch.PutRecord(Cf::kMedia, keys::MediaInfo(media.sha256()), media);
  return store_->Write(std::move(batch), storage::Durability::kBuffered);
}

std::string Engine::MediaToken(absl::string_view centre, absl::string_view sha256) const {
  return ToHex(HmacSha256(media_key_, absl::StrCat(centre, std::string(1, '\0'), sha256)));
}

absl::Status Engine::ReadMedia(const std::string& centre, const std::string& sha256,
                               const std::string& token, uint64_t offset,
                               const std::function<bool(absl::string_view, bool)>& emit) const {
  if (!IsSha256Hex(sha256)) {
    return absl::InvalidArgumentError("sha256: expected 64 lower-case hex digits");
  }
  if (!SecretsEqual(token, MediaToken(centre, sha256))) {
    return absl::PermissionDeniedError(
        absl::StrCat("media ", sha256, ": no lease to this centre gave this token for it"));
  }
  MW_ASSIGN_OR_RETURN(std::optional<v1::Media> media, FindMedia(sha256));
  if (!media.has_value()) {
    return absl::NotFoundError(absl::StrCat("media ", sha256.substr(0, 64), ": not kept here"));
  }
  const uint64_t size = media->bytes();
  if (offset > size) {
    return absl::OutOfRangeError(
        absl::StrCat("media ", sha256, ": offset ", offset, " is past its ", size, " bytes"));
  }
  if (offset == size) {
    emit("", true);
    return absl::OkStatus();
  }
  for (uint64_t i = offset / keys::kMediaChunkBytes; i * keys::kMediaChunkBytes < size; ++i) {
    MW_ASSIGN_OR_RETURN(
        std::optional<std::string> chunk,
        store_->Get(Cf::kMedia, keys::MediaChunk(sha256, static_cast<uint32_t>(i))));
    const uint64_t start = i * keys::kMediaChunkBytes;
    if (!chunk.has_value() || start + chunk->size() > size) {
      return absl::DataLossError(absl::StrCat("media ", sha256, ": chunk ", i, " is missing"));
    }
    absl::string_view data(*chunk);
    if (offset > start) data.remove_prefix(offset - start);
    if (!emit(data, start + chunk->size() == size)) return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> Engine::MissingMedia(
    const std::vector<std::string>& sha256s) const {
  if (sha256s.size() > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("sha256: at most 1000 in one call, got ", sha256s.size()));
  }
  std::vector<std::string> missing;
  for (const std::string& sha : sha256s) {
    if (!IsSha256Hex(sha)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sha256: expected 64 lower-case hex digits, got \"", sha.substr(0, 80), "\""));
    }
    MW_ASSIGN_OR_RETURN(std::optional<v1::Media> media, FindMedia(sha));
    if (!media.has_value()) missing.push_back(sha);
  }
  return missing;
}

absl::StatusOr<v1::SubmitContractReply> Engine::CreateJob(NewJob job) {
  const v1::Contract& c = job.header->contract();
  const std::string& key = job.header->idempotency_key();
  const std::string& hash = job.body_hash;
  v1::SubmitContractReply reply = std::move(job.reply);
  uint64_t ticket;
  std::vector<std::string> pending;
  {
    absl::MutexLock l(&mu_);
    v1::SubmitContractReply stored;
    MW_ASSIGN_OR_RETURN(bool replayed,
                        idempotency_->Replay(kOperatorPrincipal, key, hash, &stored));
    if (replayed) {
      ticket = queue_->LastTicket();
      reply = std::move(stored);
      reply.set_existing(true);
      if (const JobRun* run = catalogue_.Find(reply.job().id()); run != nullptr) {
        *reply.mutable_job() = JobView(*run);
      }
    } else if (job.job_id.empty()) {
      return absl::InternalError("idempotency record vanished");
    } else {
      const int64_t now = clock_->NowMs();
      const uint64_t items = job.items;
      v1::JobRecord record;
      v1::Job* view = record.mutable_job();
      view->set_id(job.job_id);
      view->set_contract_name(c.name());
      view->set_client(c.client());
      view->set_state(v1::JOB_RUNNING);
      view->set_created_at_ms(now);
      view->set_items(items);
      view->set_currency(c.currency());
      view->set_budget_minor(c.budget_minor());
      *record.mutable_contract() = c;
      for (auto& in : *record.mutable_contract()->mutable_inputs()) in.clear_inline_text();
      record.set_idempotency_key(key);

      v1::JobProgressRecord progress;
      progress.set_state(v1::JOB_RUNNING);
      for (const auto& s : c.stages()) {
        v1::StageCursor* cur = progress.add_stages();
        cur->set_total(items);
        if (s.has_split()) {
          cur->set_next_item(items);
          cur->set_done(items);
          cur->set_quarantined(reply.quarantined_total());
        }
      }
      // Stages that work on pieces start with none: pieces are counted as people cut them.
      for (const Step& step : BuildFlow(c)) {
        if (step.scope < 0) continue;
        progress.mutable_stages(step.index)->set_total(0);
        if (step.gather_index >= 0) progress.mutable_stages(step.gather_index)->set_total(0);
      }
      for (const NewJob::GoldTask& g : job.gold_tasks) {
        auto* cur = progress.mutable_stages(g.stage_index);
        cur->set_gold_items(cur->gold_items() + 1);
      }
      MW_ASSIGN_OR_RETURN(JobRun run, BuildJobRun(record, progress));

      Batch batch;
      // Check tasks exist from the start; any worker may get each one once.
      std::vector<std::pair<std::string, TaskRun>> gold_tasks;
      for (const NewJob::GoldTask& g : job.gold_tasks) {
        TaskRun task;
        task.job_id = job.job_id;
        task.item_index = g.item_index;
        for (size_t pos = 0; pos < run.chain.size(); ++pos) {
          if (run.chain[pos].index == g.stage_index) task.chain_pos = static_cast<int>(pos);
        }
        MW_RETURN_IF_ERROR(
            store_->GetRecord(Cf::kItems, keys::Item(job.job_id, g.item_index), &task.item));
        task.record.set_state(v1::TASK_OPEN);
        task.record.set_gold(true);
        task.record.set_gold_label(g.label);
        const std::string key = keys::Task(job.job_id, g.stage_index, g.item_index);
        batch.PutRecord(Cf::kTasks, key, task.record);
        run.gold[task.chain_pos].push_back(key);
        gold_tasks.emplace_back(key, std::move(task));
      }
      batch.PutRecord(Cf::kJobs, keys::Job(job.job_id), record);
      batch.PutRecord(Cf::kJobProgress, keys::Job(job.job_id), progress);
      batch.Put(Cf::kMeta, keys::Meta("next_job"), absl::StrCat(catalogue_.next_number()));
      MW_RETURN_IF_ERROR(ledger_
                             ->Apply({.id = FundingTransferId(job.job_id),
                                      .kind = v1::TRANSFER_POSTED,
                                      .code = v1::CODE_FUNDING,
                                      .debit_account = ClientAccount(c.client(), c.currency()),
                                      .credit_account = EscrowAccount(job.job_id),
                                      .amount_minor = c.budget_minor(),
                                      .currency = c.currency(),
                                      .job_id = job.job_id},
                                     &batch)
                             .status());
      *reply.mutable_job() = JobView(run);
      for (auto& [key, task] : gold_tasks) {
        MW_RETURN_IF_ERROR(catalogue_.AddTask(std::move(key), std::move(task)).status());
      }
      // Remembered last: a reply kept for a call that failed would be replayed to its resend.
      pending.push_back(
          idempotency_->Remember(kOperatorPrincipal, key, hash, reply, clock_->NowMs(), &batch));
      catalogue_.Add(*JobNumber(job.job_id), std::move(run));
      ticket = Commit(std::move(batch));
    }
  }
  MW_RETURN_IF_ERROR(queue_->WaitDurable(ticket));
  Forget(std::move(pending));
  return reply;
}

}  // namespace mw::dispatch
