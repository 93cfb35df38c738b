#include "engine/dispatch/submission.h"

#include "absl/strings/str_cat.h"
#include "engine/common/ids.h"
#include "engine/common/money.h"
#include "engine/common/proto_bytes.h"
#include "engine/common/status_macros.h"
#include "engine/dispatch/answers.h"
#include "engine/dispatch/flow.h"
#include "engine/dispatch/job_run.h"
#include "engine/dispatch/plan.h"
#include "engine/storage/keys.h"

namespace mw::dispatch {

using storage::Batch;
using storage::Cf;
namespace keys = storage::keys;

namespace {
constexpr size_t kMaxQuarantineShown = 100;
}  // namespace

Submission::Submission(JobIntake* intake, v1::ContractHeader header, std::string job_id,
                       bool replay, Options options)
    : intake_(intake),
      options_(options),
      header_(std::move(header)),
      job_id_(std::move(job_id)),
      replay_(replay),
      media_(intake, options.media, /*keep=*/!header_.dry_run()) {}

Submission::~Submission() {
  if (!finished_ && !replay_ && !header_.dry_run()) {
    intake_->DropStaged(job_id_);
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
      CheckMedia(in.name(), splitter_.get());
      if (in.source_case() == v1::Input::kInlineText) {
        v1::InputChunk chunk;
        chunk.set_input(in.name());
        chunk.set_data(in.inline_text());
        chunk.set_last(true);
        MW_RETURN_IF_ERROR(FeedChunk(chunk));
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
      CheckMedia(in.name(), g.splitter.get());
      if (in.source_case() == v1::Input::kInlineText) {
        v1::InputChunk chunk;
        chunk.set_input(in.name());
        chunk.set_data(in.inline_text());
        chunk.set_last(true);
        MW_RETURN_IF_ERROR(FeedChunk(chunk));
      }
    }
  }
  return absl::OkStatus();
}

void Submission::CheckMedia(const std::string& input, contract::Splitter* splitter) {
  for (const v1::Input& in : header_.contract().inputs()) {
    if (in.name() != input || in.media().empty()) continue;
    splitter->set_check([this, &in](v1::Item* item) { return media_.Attach(in, item); });
  }
}

absl::Status Submission::AddMediaFile(const v1::MediaFile& file) {
  if (inputs_started_) {
    return absl::InvalidArgumentError(absl::StrCat("media_file \"", file.name().substr(0, 80),
                                                   "\": media files come before the inputs"));
  }
  hasher_.Update(DeterministicBytes(file));
  if (replay_) return absl::OkStatus();
  return media_.AddFile(file);
}

absl::Status Submission::AddMediaChunk(const v1::MediaChunk& chunk) {
  if (replay_) return absl::OkStatus();  // the file's sha256, hashed with its name, stands for it
  if (inputs_started_) {
    return absl::InvalidArgumentError("media_chunk: media files come before the inputs");
  }
  return media_.AddChunk(chunk);
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
  if (!header_.dry_run()) staged_.PutRecord(Cf::kItems, keys::Item(job_id_, index), item);
  gold_tasks_.push_back({gold->stage_index, index, *std::move(label)});
  if (++staged_items_ >= options_.staging_batch_items) return Flush();
  return absl::OkStatus();
}

absl::Status Submission::Flush() {
  if (staged_.Empty()) return absl::OkStatus();
  // Buffered: invisible until Finish's synced write, which also makes these durable.
  MW_RETURN_IF_ERROR(intake_->StageItems(std::move(staged_)));
  staged_ = Batch();
  staged_items_ = 0;
  return absl::OkStatus();
}

absl::Status Submission::AddChunk(const v1::InputChunk& chunk) {
  if (!inputs_started_) {
    inputs_started_ = true;
    if (!replay_) MW_RETURN_IF_ERROR(media_.Close());
  }
  return FeedChunk(chunk);
}

absl::Status Submission::FeedChunk(const v1::InputChunk& chunk) {
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
  const uint64_t cap = c.caps().max_items() != 0 ? c.caps().max_items() : options_.max_items;
  absl::Status status;
  auto on_item = [&](v1::Item item) {
    if (!status.ok()) return;
    if (item.index() >= cap) {
      status = absl::InvalidArgumentError(absl::StrCat(
          "input \"", split_input_, "\" has more than ", cap, " items (caps.max_items)"));
      return;
    }
    if (header_.dry_run()) return;
    staged_.PutRecord(Cf::kItems, keys::Item(job_id_, item.index()), item);
    if (++staged_items_ >= options_.staging_batch_items) status = Flush();
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
  if (!replay_) {
    MW_RETURN_IF_ERROR(media_.Close());
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
      for (const NewJob::GoldTask& t : gold_tasks_) usable += t.stage_index == gold.stage_index;
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
      MW_RETURN_IF_ERROR(CheckServable(c, BuildFlow(c), intake_->Centres()));
    }
    v1::ContractCost* cost = reply_.mutable_plan();
    cost->set_items(items);
    cost->set_wages_minor(plan.wages);
    cost->set_check_wages_minor(plan.gold_wages);
    cost->set_fee_minor(plan.fee);
    cost->set_cost_minor(plan.cost());
    cost->set_expected_cost_minor(plan.budgeted());
    cost->set_training_per_newcomer_minor(plan.training_per_newcomer);
    cost->set_budget_minor(c.budget_minor());
    if (header_.dry_run()) {
      v1::Job* job = reply_.mutable_job();
      job->set_contract_name(c.name());
      job->set_client(c.client());
      job->set_items(items);
      job->set_currency(c.currency());
      job->set_budget_minor(c.budget_minor());
      return reply_;
    }
  }

  NewJob job;
  job.header = &header_;
  job.job_id = job_id_;
  job.body_hash = hash;
  job.items = replay_ ? 0 : splitter_->items();
  job.gold_tasks = std::move(gold_tasks_);
  job.reply = std::move(reply_);
  MW_ASSIGN_OR_RETURN(v1::SubmitContractReply reply, intake_->CreateJob(std::move(job)));
  finished_ = !reply.existing();
  return reply;
}

}  // namespace mw::dispatch
