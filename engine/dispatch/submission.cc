// Engine: contract submissions. The inputs stream in, are split as they arrive and staged in the
// store (buffered writes, invisible: no job refers to them); Finish creates the job, its progress
// and its escrow funding in one synced write. Anything unfinished is deleted, here or at the next
// start.
#include "absl/strings/str_cat.h"
#include "engine/common/ids.h"
#include "engine/common/money.h"
#include "engine/common/proto_bytes.h"
#include "engine/common/status_macros.h"
#include "engine/dispatch/answers.h"
#include "engine/dispatch/engine.h"
#include "engine/dispatch/plan.h"
#include "engine/storage/keys.h"

namespace mw::dispatch {

using storage::Batch;
using storage::Cf;
namespace keys = storage::keys;

namespace {
constexpr size_t kMaxQuarantineShown = 100;
}  // namespace

absl::StatusOr<std::unique_ptr<Submission>> Engine::BeginSubmission(
    const v1::ContractHeader& header) {
  if (header.idempotency_key().empty()) {
    return absl::InvalidArgumentError("idempotency_key: required");
  }
  MW_RETURN_IF_ERROR(Admit(options_.max_waiting_commit_bytes, "submission"));
  MW_RETURN_IF_ERROR(
      contract::ErrorsToStatus(contract::ValidateContract(header.contract(), options_.limits)));
  bool replay = false;
  std::string job_id;
  {
    absl::MutexLock l(&mu_);
    MW_ASSIGN_OR_RETURN(replay, idempotency_->Seen(kOperatorPrincipal, header.idempotency_key()));
    if (!replay) job_id = absl::StrCat("job-", next_job_++);
  }
  std::unique_ptr<Submission> sub(new Submission(this, header, job_id, replay));
  MW_RETURN_IF_ERROR(sub->Start());
  return sub;
}

Submission::Submission(Engine* engine, v1::ContractHeader header, std::string job_id, bool replay)
    : engine_(engine), header_(std::move(header)), job_id_(std::move(job_id)), replay_(replay) {}

Submission::~Submission() {
  if (!finished_ && !replay_) {
    // Best effort; what remains is deleted at the next start.
    engine_->store_->DeletePrefix(Cf::kItems, keys::JobPrefix(job_id_)).IgnoreError();
  }
}

absl::Status Submission::Start() {
  hasher_.Update(DeterministicBytes(header_));
  const v1::Contract& c = header_.contract();
  for (const auto& stage : c.stages()) {
    if (!stage.has_split()) continue;
    split_input_ = stage.split().input();
    for (const auto& in : c.inputs()) {
      if (in.name() != split_input_) continue;
      splitter_ = std::make_unique<contract::Splitter>(stage.split(), in.format());
      if (in.source_case() == v1::Input::kInlineText) {
        v1::InputChunk chunk;
        chunk.set_input(in.name());
        chunk.set_data(in.inline_text());
        chunk.set_last(true);
        MW_RETURN_IF_ERROR(AddChunk(chunk));
      }
    }
  }
  if (splitter_ == nullptr) return absl::InternalError("validated contract has no split input");
  // Gold inputs are split the same way as the main input, one splitter each.
  const v1::SplitStage* split = nullptr;
  for (const auto& stage : c.stages()) {
    if (stage.has_split()) split = &stage.split();
  }
  for (int i = 0; i < c.stages_size(); ++i) {
    const auto& stage = c.stages(i);
    if (!stage.has_human() || stage.human().gold_input().empty()) continue;
    for (const auto& in : c.inputs()) {
      if (in.name() != stage.human().gold_input()) continue;
      GoldInput& g = gold_[in.name()];
      g.stage_index = i;
      g.answer_field =
          stage.human().gold_answer_field().empty() ? "answer" : stage.human().gold_answer_field();
      g.splitter = std::make_unique<contract::Splitter>(*split, in.format());
      if (in.source_case() == v1::Input::kInlineText) {
        v1::InputChunk chunk;
        chunk.set_input(in.name());
        chunk.set_data(in.inline_text());
        chunk.set_last(true);
        MW_RETURN_IF_ERROR(AddChunk(chunk));
      }
    }
  }
  return absl::OkStatus();
}

void Submission::Quarantine(const std::string& input, contract::BadRow bad) {
  reply_.set_quarantined_total(reply_.quarantined_total() + 1);
  if (static_cast<size_t>(reply_.quarantined_size()) < kMaxQuarantineShown) {
    v1::QuarantinedRow* q = reply_.add_quarantined();
    q->set_input(input);
    q->set_line(bad.line);
    q->set_reason(std::move(bad.reason));
  }
}

absl::Status Submission::AddGoldItem(GoldInput* gold, v1::Item item, uint64_t line,
                                     const std::string& input) {
  // The known answer leaves the item: the worker must not see it.
  const v1::AnswerSchema& schema = header_.contract().stages(gold->stage_index).human().answer();
  absl::StatusOr<std::string> label = TakeGoldAnswer(schema, gold->answer_field, &item);
  if (!label.ok()) {
    Quarantine(input, {line, std::string(label.status().message())});
    return absl::OkStatus();
  }
  const uint64_t index = kGoldItemBase + gold_tasks_.size();
  item.set_index(index);
  staged_.PutRecord(Cf::kItems, keys::Item(job_id_, index), item);
  gold_tasks_.push_back({gold->stage_index, index, *std::move(label)});
  if (++staged_items_ >= engine_->options_.staging_batch_items) return Flush();
  return absl::OkStatus();
}

absl::Status Submission::Flush() {
  if (staged_.Empty()) return absl::OkStatus();
  // Buffered: invisible until Finish's synced write, which also makes these durable.
  MW_RETURN_IF_ERROR(engine_->store_->Write(std::move(staged_), storage::Durability::kBuffered));
  staged_ = Batch();
  staged_items_ = 0;
  return absl::OkStatus();
}

absl::Status Submission::AddChunk(const v1::InputChunk& chunk) {
  bool known = false;
  for (const auto& in : header_.contract().inputs()) known = known || in.name() == chunk.input();
  if (!known) {
    return absl::InvalidArgumentError(
        absl::StrCat("chunk for input \"", chunk.input(), "\", which the contract does not have"));
  }
  hasher_.Update(chunk.input());
  hasher_.Update(chunk.data());
  if (replay_) return absl::OkStatus();
  if (auto g = gold_.find(chunk.input()); g != gold_.end()) {
    GoldInput& gold = g->second;
    if (gold.done) {
      return absl::InvalidArgumentError(
          absl::StrCat("input \"", chunk.input(), "\": data after its last chunk"));
    }
    absl::Status status;
    auto on_item = [&](v1::Item item) {
      const uint64_t line = item.source_line();
      if (status.ok()) status = AddGoldItem(&gold, std::move(item), line, g->first);
    };
    auto on_bad = [&](contract::BadRow bad) { Quarantine(g->first, std::move(bad)); };
    MW_RETURN_IF_ERROR(gold.splitter->Feed(chunk.data(), on_item, on_bad));
    if (chunk.last()) {
      gold.done = true;
      MW_RETURN_IF_ERROR(gold.splitter->Finish(on_item, on_bad));
    }
    return status;
  }
  if (chunk.input() != split_input_) return absl::OkStatus();
  if (split_input_done_) {
    return absl::InvalidArgumentError(
        absl::StrCat("input \"", chunk.input(), "\": data after its last chunk"));
  }
  const v1::Contract& c = header_.contract();
  const uint64_t cap =
      c.caps().max_items() != 0 ? c.caps().max_items() : engine_->options_.limits.max_items;
  absl::Status status;
  auto on_item = [&](v1::Item item) {
    if (!status.ok()) return;
    if (item.index() >= cap) {
      status = absl::InvalidArgumentError(absl::StrCat(
          "input \"", split_input_, "\" has more than ", cap, " items (caps.max_items)"));
      return;
    }
    staged_.PutRecord(Cf::kItems, keys::Item(job_id_, item.index()), item);
    if (++staged_items_ >= engine_->options_.staging_batch_items) status = Flush();
  };
  auto on_bad = [&](contract::BadRow bad) { Quarantine(split_input_, std::move(bad)); };
  MW_RETURN_IF_ERROR(splitter_->Feed(chunk.data(), on_item, on_bad));
  if (chunk.last()) {
    split_input_done_ = true;
    MW_RETURN_IF_ERROR(splitter_->Finish(on_item, on_bad));
  }
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("input \"", split_input_, "\": ", status.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::SubmitContractReply> Submission::Finish() {
  const std::string hash = hasher_.Finish();
  const v1::Contract& c = header_.contract();
  const std::string& key = header_.idempotency_key();
  if (!replay_) {
    if (!split_input_done_) {
      return absl::InvalidArgumentError(
          absl::StrCat("input \"", split_input_, "\": the stream ended before its last chunk"));
    }
    for (const auto& [name, gold] : gold_) {
      if (!gold.done) {
        return absl::InvalidArgumentError(
            absl::StrCat("input \"", name, "\": the stream ended before its last chunk"));
      }
    }
    MW_RETURN_IF_ERROR(Flush());
    const uint64_t items = splitter_->items();
    if (items == 0) {
      return absl::InvalidArgumentError(absl::StrCat("input \"", split_input_,
                                                     "\" has no usable items (",
                                                     reply_.quarantined_total(), " quarantined)"));
    }
    // Check tasks asked for must exist (plan.h: the rule `mw contract check` applies too).
    for (const auto& [name, gold] : gold_) {
      uint64_t usable = 0, refused = 0;
      for (const GoldTask& t : gold_tasks_) usable += t.stage_index == gold.stage_index;
      std::string first_bad;
      for (const auto& q : reply_.quarantined()) {
        if (q.input() != name) continue;
        if (first_bad.empty()) first_bad = absl::StrCat("line ", q.line(), ": ", q.reason());
        ++refused;
      }
      MW_RETURN_IF_ERROR(CheckGoldSupply(c.stages(gold.stage_index), usable, refused, first_bad));
    }
    // The most the job can cost (plan.h): the rule `mw contract check` shows.
    MW_ASSIGN_OR_RETURN(ContractPlan plan, PlanContract(c, items));
    MW_RETURN_IF_ERROR(CheckBudget(c, plan));
    if (!header_.wait_for_centres()) {
      MW_RETURN_IF_ERROR(CheckServable(c, BuildFlow(c), engine_->ListCentres()));
    }
  }

  Engine& e = *engine_;
  uint64_t ticket;
  std::vector<std::string> pending;
  {
    absl::MutexLock l(&e.mu_);
    v1::SubmitContractReply stored;
    MW_ASSIGN_OR_RETURN(bool replayed,
                        e.idempotency_->Replay(kOperatorPrincipal, key, hash, &stored));
    if (replayed) {
      ticket = e.queue_->LastTicket();
      reply_ = std::move(stored);
      reply_.set_existing(true);
      if (const JobRun* run = e.FindJob(reply_.job().id()); run != nullptr) {
        *reply_.mutable_job() = e.JobView(*run);
      }
    } else if (replay_) {
      return absl::InternalError("idempotency record vanished");
    } else {
      const int64_t now = e.clock_->NowMs();
      const uint64_t items = splitter_->items();
      v1::JobRecord record;
      v1::Job* job = record.mutable_job();
      job->set_id(job_id_);
      job->set_contract_name(c.name());
      job->set_client(c.client());
      job->set_state(v1::JOB_RUNNING);
      job->set_created_at_ms(now);
      job->set_items(items);
      job->set_currency(c.currency());
      job->set_budget_minor(c.budget_minor());
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
          cur->set_quarantined(reply_.quarantined_total());
        }
      }
      for (const GoldTask& g : gold_tasks_) {
        auto* cur = progress.mutable_stages(g.stage_index);
        cur->set_gold_items(cur->gold_items() + 1);
      }
      MW_ASSIGN_OR_RETURN(JobRun run, e.BuildJobRun(record, progress));

      Batch batch;
      // Check tasks exist from the start; any worker may get each one once.
      for (const GoldTask& g : gold_tasks_) {
        TaskRun task;
        task.job_id = job_id_;
        task.item_index = g.item_index;
        for (size_t pos = 0; pos < run.chain.size(); ++pos) {
          if (run.chain[pos].index == g.stage_index) task.chain_pos = static_cast<int>(pos);
        }
        MW_RETURN_IF_ERROR(
            e.store_->GetRecord(Cf::kItems, keys::Item(job_id_, g.item_index), &task.item));
        task.record.set_state(v1::TASK_OPEN);
        task.record.set_gold(true);
        task.record.set_gold_label(g.label);
        const std::string key = keys::Task(job_id_, g.stage_index, g.item_index);
        batch.PutRecord(Cf::kTasks, key, task.record);
        run.gold[task.chain_pos].push_back(key);
        e.tasks_.emplace(key, std::move(task));
      }
      batch.PutRecord(Cf::kJobs, keys::Job(job_id_), record);
      batch.PutRecord(Cf::kJobProgress, keys::Job(job_id_), progress);
      batch.Put(Cf::kMeta, keys::Meta("next_job"), absl::StrCat(e.next_job_));
      MW_RETURN_IF_ERROR(e.ledger_
                             ->Apply({.id = FundingTransferId(job_id_),
                                      .kind = v1::TRANSFER_POSTED,
                                      .code = v1::CODE_FUNDING,
                                      .debit_account = ClientAccount(c.client(), c.currency()),
                                      .credit_account = EscrowAccount(job_id_),
                                      .amount_minor = c.budget_minor(),
                                      .currency = c.currency(),
                                      .job_id = job_id_},
                                     &batch)
                             .status());
      *reply_.mutable_job() = e.JobView(run);
      pending.push_back(e.idempotency_->Remember(kOperatorPrincipal, key, hash, reply_,
                                                 e.clock_->NowMs(), &batch));
      e.jobs_.emplace(std::stoull(job_id_.substr(4)), std::move(run));
      ticket = e.Commit(std::move(batch));
      finished_ = true;
    }
  }
  MW_RETURN_IF_ERROR(e.queue_->WaitDurable(ticket));
  e.Forget(pending);
  return reply_;
}

}  // namespace mw::dispatch
