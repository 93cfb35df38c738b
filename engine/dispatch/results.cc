// Engine: results. Each result is recorded exactly once under its client-generated id, its wage
// reserved in the same write (ContributionRecorder, contributions.h); a task with all its answers
// gets a verdict, its wages are posted, and the item moves on to the next stage (Decide). A late
// result (its lease expired or was fenced) is recorded and paid but does not change the task.
#include <spdlog/spdlog.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "engine/common/ids.h"
#include "engine/common/proto_bytes.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"
#include "engine/dispatch/answers.h"
#include "engine/dispatch/engine.h"
#include "engine/dispatch/verdicts.h"
#include "engine/storage/keys.h"

namespace mw::dispatch {

using storage::Batch;
using storage::Cf;
namespace keys = storage::keys;

absl::StatusOr<v1::SubmitResultsReply> Engine::SubmitResults(
    const std::string& centre_id, const v1::SubmitResultsRequest& request) {
  if (request.results_size() > static_cast<int>(options_.max_results_per_call)) {
    return absl::InvalidArgumentError(absl::StrCat("results: at most ",
                                                   options_.max_results_per_call, " per call, got ",
                                                   request.results_size()));
  }
  MW_RETURN_IF_ERROR(Admit(options_.max_waiting_commit_bytes, "results"));
  v1::SubmitResultsReply reply;
  std::vector<std::string> pending;
  uint64_t ticket;
  {
    absl::MutexLock l(&mu_);
    if (!centres_.Contains(centre_id)) return absl::NotFoundError("centre is not registered");
    // A centre may touch only its own assignments: one foreign id refuses the whole call,
    // before anything changes.
    for (const v1::Result& r : request.results()) {
      MW_RETURN_IF_ERROR(CheckOwnership(centre_id, r.assignment_id()));
    }
    Batch batch;
    for (const v1::Result& r : request.results()) {
      MW_ASSIGN_OR_RETURN(ContributionRecorder::Recorded recorded,
                          contributions_->Record(centre_id, r, &batch, &pending));
      if (recorded.complete != nullptr) {
        MW_RETURN_IF_ERROR(Decide(recorded.run, recorded.complete, &batch));  // may erase it
        JobCatalogue::PutProgress(*recorded.run, &batch);
      }
      if (recorded.run != nullptr) Touch(recorded.run);
      *reply.add_receipts() = std::move(recorded.receipt);
    }
    ticket = batch.Empty() ? queue_->LastTicket() : Commit(std::move(batch));
  }
  MW_RETURN_IF_ERROR(queue_->WaitDurable(ticket));
  Forget(pending);
  return reply;
}

absl::Status Engine::CheckOwnership(const std::string& centre_id,
                                    const std::string& assignment_id) const {
  auto parts = ParseAssignmentId(assignment_id);
  if (!parts.ok()) return absl::OkStatus();
  auto ref = ParseTaskId(parts->first);
  if (!ref.ok()) return absl::OkStatus();
  const JobRun* run = catalogue_.Find(ref->job_id);
  if (run == nullptr) return absl::OkStatus();
  for (const StageRun& stage : run->chain) {
    if (stage.name != ref->stage) continue;
    const std::string key = keys::Task(ref->job_id, stage.key, ref->item);
    v1::TaskRecord stored;
    const v1::TaskRecord* record = nullptr;
    if (const TaskRun* open = catalogue_.FindTask(key); open != nullptr) {
      record = &open->record;
    } else if (store_->GetRecord(Cf::kTasks, key, &stored).ok()) {
      record = &stored;
    }
    if (record == nullptr) return absl::OkStatus();
    for (const auto& slot : record->slots()) {
      if (slot.worker() == parts->second && slot.centre() != centre_id) {
        return absl::PermissionDeniedError(
            absl::StrCat("assignment ", assignment_id, " belongs to another centre"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Engine::Decide(JobRun* run, TaskRun* task, Batch* batch) {
  const StageRun& stage = run->chain[task->chain_pos];
  const v1::QaPolicy& qa = stage.human.qa();
  const std::string task_id = TaskId(task->job_id, stage.name, task->item_index);
  const std::string task_key = keys::Task(task->job_id, stage.key, task->item_index);

  // Who answered, from which centre, and how skilled each is thought to be.
  std::vector<std::string> labels, accounts;
  std::vector<double> skills;
  for (const auto& [worker, label, text] : task->answers) {
    std::string centre;
    for (const auto& s : task->record.slots()) {
      if (s.worker() == worker) centre = s.centre();
    }
    labels.push_back(label);
    accounts.push_back(WorkerAccount(centre, worker));
    skills.push_back(workers_.Skill(accounts.back()));
  }
  const auto& answer_schema = stage.human.answer();
  const Verdict vote = run->aggregations[task->chain_pos]->Decide(labels, skills);

  // Dynamic overlap: below the target and under the cap, ask one more worker.
  const bool dynamic = qa.confidence_target() > 0;
  const uint32_t cap = std::max(qa.max_overlap(), stage.human.overlap());
  if (dynamic && vote.confidence < qa.confidence_target() && task->record.needed() < cap) {
    task->record.set_needed(task->record.needed() + 1);
    catalogue_.PutTask(*task, batch);
    run->open[task->chain_pos].push_back(task_key);
    ++stats_.overlap_extensions;
    return absl::OkStatus();
  }
  const bool needs_review = dynamic && vote.confidence < qa.confidence_target();
  // A text verdict keeps the words as a worker who gave it wrote them (the label is folded).
  std::string verdict = vote.label;
  if (answer_schema.has_text()) {
    for (const CountedContribution& a : task->answers) {
      if (a.label == vote.label) {
        verdict = a.text;
        break;
      }
    }
  }

  v1::ResultRecord out;
  out.set_job_id(task->job_id);
  out.set_stage(stage.name);
  out.set_item_index(task->item_index);
  *out.mutable_item() = task->item;
  *out.mutable_answer() = LabelToAnswer(answer_schema, verdict);
  out.set_confidence(vote.confidence);
  out.set_votes(static_cast<uint32_t>(vote.votes));
  out.set_needs_review(needs_review);
  out.set_routed(verdict);
  for (const CountedContribution& a : task->answers) out.add_workers(a.worker);
  batch->PutRecord(Cf::kOutputs, task_key, out);
  if (needs_review) {
    v1::Review review;
    review.set_task_id(task_id);
    review.set_job_id(task->job_id);
    review.set_stage(stage.name);
    review.set_item_index(task->item_index);
    *review.mutable_item() = task->item;
    for (const CountedContribution& a : task->answers) {
      review.add_workers(a.worker);
      review.add_labels(a.label);
    }
    review.set_confidence(vote.confidence);
    review.set_created_at_ms(clock_->NowMs());
    batch->PutRecord(Cf::kReviews, task_key, review);
    ++stats_.reviews_open;
  }

  // Base pay never depends on the verdict: every counted contribution's wage is posted.
  // Agreement only moves the skill estimates.
  for (size_t i = 0; i < task->answers.size(); ++i) {
    const std::string aid = AssignmentId(task_id, task->answers[i].worker);
    // A wage a person already withheld (voided) stays withheld; every other one is posted.
    MW_ASSIGN_OR_RETURN(bool posted,
                        pay_->PostWage(run, aid, stage.human.piece_rate_minor(), batch));
    if (posted) {
      spdlog::info("event=wage_posted task={} assignment={} transfer={} amount={}", task_id, aid,
                   WagePostTransferId(aid), stage.human.piece_rate_minor());
    }
    v1::WorkerStatsRecord& stats = workers_.Record(accounts[i]);
    if (labels[i] == vote.label) {
      stats.set_agreed(stats.agreed() + 1);
    } else {
      stats.set_disagreed(stats.disagreed() + 1);
    }
    workers_.PutRecord(accounts[i], batch);
  }
  task->record.set_state(v1::TASK_DONE);
  catalogue_.PutTask(*task, batch);
  spdlog::info("event=verdict task={} label=\"{}\" confidence={:.4f} votes={}/{} review={}",
               task_id, vote.label, vote.confidence, vote.votes, vote.total, needs_review);
  ++stats_.verdicts;

  // The item moves on (flow.h). Each stage it leaves, or skips after a rejection, counts it done.
  const int pos = task->chain_pos;
  v1::Item item = std::move(task->item);
  std::vector<std::string> producers;
  for (const CountedContribution& a : task->answers) producers.push_back(a.worker);
  catalogue_.EraseTask(task_key);  // `task` is gone now
  const int next = Advance(run->chain, pos, verdict, &item);
  // The stages of the steps from here to the next one, except the stage the item is still in.
  std::set<int> left;
  for (int p = pos; p < (next >= 0 ? next : static_cast<int>(run->chain.size())); ++p) {
    left.insert(run->chain[p].index);
  }
  if (next >= 0) left.erase(run->chain[next].index);
  for (int index : left) {
    v1::StageCursor* cursor = run->progress.mutable_stages(index);
    cursor->set_done(cursor->done() + 1);
  }
  if (next >= 0) {
    // A verify step judges this verdict, a vote this improvement: not by those who made it.
    const StageRun::Role role = run->chain[next].role;
    if (role != StageRun::Role::kVerify && role != StageRun::Role::kVote) producers.clear();
    MW_RETURN_IF_ERROR(
        catalogue_.CreateTask(run, next, std::move(item), batch, producers).status());
  } else {
    if (run->merge_stage >= 0) {
      v1::StageCursor* merge = run->progress.mutable_stages(run->merge_stage);
      merge->set_done(merge->done() + 1);
    }
    run->progress.set_items_finished(run->progress.items_finished() + 1);
    if (run->progress.items_finished() == run->record.job().items()) {
      MW_RETURN_IF_ERROR(Complete(run, batch));
    }
  }
  return absl::OkStatus();
}

}  // namespace mw::dispatch
