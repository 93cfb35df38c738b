#include "engine/dispatch/verdict_recorder.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/ids.h"
#include "engine/common/status_macros.h"
#include "engine/dispatch/answers.h"
#include "engine/dispatch/flow.h"
#include "engine/storage/keys.h"

namespace mw::dispatch {

namespace v1 = ::microwork::v1;
using storage::Batch;
using storage::Cf;
namespace keys = storage::keys;

absl::Status VerdictRecorder::Decide(JobRun* run, TaskRun* task, Batch* batch) {
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
    skills.push_back(p_.workers->Skill(accounts.back(), stage.human));
  }
  const auto& answer_schema = stage.human.answer();
  const Verdict vote = run->aggregations[task->chain_pos]->Decide(labels, skills);

  // Dynamic overlap: below the target and under the cap, ask one more worker.
  const bool dynamic = qa.confidence_target() > 0;
  if (MayAskForMore(stage, task->record.needed()) && vote.confidence < qa.confidence_target()) {
    task->record.set_needed(task->record.needed() + 1);
    p_.jobs->PutTask(*task, batch);
    run->open[task->chain_pos].push_back(task_key);
    ++p_.stats->overlap_extensions;
    return absl::OkStatus();
  }
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

  // Below the target at the cap, or a "no" that the stage sends to a person before the item moves.
  const bool held = HeldForReview(stage, verdict);
  const bool needs_review = held || (dynamic && vote.confidence < qa.confidence_target());

  v1::ResultRecord out;
  out.set_job_id(task->job_id);
  out.set_stage(stage.name);
  out.set_item_index(task->item_index);
  *out.mutable_answer() = LabelToAnswer(answer_schema, verdict);
  out.set_confidence(vote.confidence);
  out.set_votes(static_cast<uint32_t>(vote.votes));
  out.set_needs_review(needs_review);
  out.set_routed(verdict);
  out.set_held(held);
  for (const CountedContribution& a : task->answers) {
    out.add_workers(a.worker);
    out.add_worker_answers(answer_schema.has_text() ? a.text : a.label);
  }
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
    *review.mutable_excluded() = task->record.excluded();
    review.set_confidence(vote.confidence);
    review.set_created_at_ms(p_.clock->NowMs());
    batch->PutRecord(Cf::kReviews, task_key, review);
    ++p_.stats->reviews_open;
  }

  // Base pay never depends on the verdict: every counted contribution's wage is posted (the
  // answer that completed the task posted its own, ContributionRecorder::Count). Agreement only
  // moves the skill estimates.
  for (size_t i = 0; i < task->answers.size(); ++i) {
    const std::string aid = AssignmentId(task_id, task->answers[i].worker);
    // A wage a person already withheld (voided) stays withheld; every other one is posted.
    MW_ASSIGN_OR_RETURN(bool posted,
                        p_.pay->PostWage(run, aid, stage.human.piece_rate_minor(), batch));
    if (posted && spdlog::should_log(spdlog::level::debug)) {
      spdlog::debug("event=wage_posted task={} assignment={} transfer={} amount={}", task_id, aid,
                    WagePostTransferId(aid), stage.human.piece_rate_minor());
    }
    p_.workers->CountVerdict(accounts[i], stage.human,
                             run->aggregations[task->chain_pos]->Agrees(labels[i], vote.label));
    p_.workers->NoteRecord(accounts[i]);
  }
  task->record.set_state(v1::TASK_DONE);
  p_.jobs->PutTask(*task, batch);
  spdlog::debug("event=verdict task={} label=\"{}\" confidence={:.4f} votes={}/{} review={}",
                task_id, vote.label, vote.confidence, vote.votes, vote.total, needs_review);
  ++p_.stats->verdicts;

  // The item moves on (flow.h): to the next step of its stage, or out of the stage to the stages
  // after it whose readiness is met now.
  const int pos = task->chain_pos;
  v1::Item item = std::move(task->item);
  std::vector<std::string> producers;
  for (const CountedContribution& a : task->answers) producers.push_back(a.worker);
  p_.jobs->EraseTask(task_key);  // `task` is gone now
  if (held) {
    spdlog::info("event=held_for_review task={}", task_id);
    return absl::OkStatus();
  }
  return MoveOn(run, pos, std::move(item), verdict, std::move(producers), batch);
}

absl::Status VerdictRecorder::MoveOn(JobRun* run, int pos, v1::Item item, const std::string& label,
                                     std::vector<std::string> producers, Batch* batch) {
  const int next = Advance(run->chain, pos, label, &item);
  if (next != Step::kLeave) {
    // A vote judges this improvement: not by those who made it.
    if (run->chain[next].role != StageRun::Role::kVote) producers.clear();
    return p_.jobs->CreateTask(run, next, std::move(item), producers).status();
  }
  const std::string* value = FindField(item, run->chain[pos].stage);
  return Leave(run, run->chain[pos].entry, LeftAs(run->chain, pos, item),
               value != nullptr ? *value : "", item, producers, batch);
}

absl::StatusOr<ItemFlight*> VerdictRecorder::FlightOf(JobRun* run, uint64_t index) {
  auto found = run->flight.find(index);
  if (found == run->flight.end()) {
    // Nothing of this item settled since start-up: every verdict of it so far is on disk.
    MW_ASSIGN_OR_RETURN(FlowReplay replay, p_.jobs->Replay(*run, index));
    found = run->flight.emplace(index, std::move(replay.flight)).first;
  }
  return &found->second;
}

absl::Status VerdictRecorder::Leave(JobRun* run, int entry, const Leaving& left, std::string value,
                                    const v1::Item& item, const std::vector<std::string>& producers,
                                    Batch* batch) {
  MW_ASSIGN_OR_RETURN(ItemFlight * flight, FlightOf(run, item.index()));
  if (flight->state[entry] != StageState::kRunning) {
    return absl::InternalError(absl::StrCat("item ", item.index(), " left stage ",
                                            run->chain[entry].stage, ", which is not running"));
  }
  const StageRun& stage = run->chain[entry];
  if (stage.max_pieces > 0) {
    // Cut: each piece goes on by itself; the stage settles when the last one is done.
    const std::vector<std::string> pieces = SplitPieces(value, stage.max_pieces);
    if (!pieces.empty()) {
      ItemFlight::Cut& cut = flight->cuts[entry];
      cut.open = static_cast<uint32_t>(pieces.size());
      cut.values.assign(pieces.size(), "");
      cut.left_out.assign(pieces.size(), false);
      cut.kept = 0;
      for (uint32_t i = 0; i < pieces.size(); ++i) {
        MW_RETURN_IF_ERROR(p_.jobs->OpenPiece(
            run, entry, MakePiece(run->chain, entry, item, i, pieces[i]), batch));
      }
      spdlog::info("event=item_cut job={} item={} stage={} pieces={}", run->record.job().id(),
                   item.index(), stage.stage, pieces.size());
      return absl::OkStatus();
    }
    // No pieces: nothing to gather, and the gather's readiness says whether that will do.
    return SettleStage(run, flight, entry, Leaving{.state = CutSettlesAs(stage, {})}, "", item,
                       producers, batch);
  }
  return SettleStage(run, flight, entry, left, std::move(value), item, producers, batch);
}

absl::Status VerdictRecorder::SettleStage(JobRun* run, ItemFlight* flight, int entry,
                                          const Leaving& left, std::string value,
                                          const v1::Item& item,
                                          const std::vector<std::string>& producers, Batch* batch) {
  std::vector<int> settled;
  const std::vector<int> started =
      Settle(run->chain, entry, left, std::move(value), flight, &settled);
  // Each stage settled (decided, or skipped) counts the item done, and so does the gather of a
  // cutting stage that settled.
  for (int e : settled) {
    v1::StageCursor* cursor = run->progress.mutable_stages(run->chain[e].index);
    cursor->set_done(cursor->done() + 1);
    if (run->chain[e].gather_index >= 0) {
      v1::StageCursor* gather = run->progress.mutable_stages(run->chain[e].gather_index);
      gather->set_done(gather->done() + 1);
    }
  }
  for (int e : started) {
    // A verify step judges this verdict: not by those who made it.
    const bool judges = run->chain[e].role == StageRun::Role::kVerify;
    MW_RETURN_IF_ERROR(p_.jobs
                           ->CreateTask(run, e, EntryItem(run->chain, e, *flight, item),
                                        judges ? producers : std::vector<std::string>{})
                           .status());
  }
  if (!flight->finished()) return absl::OkStatus();
  const uint64_t index = item.index();
  if (IsPiece(index)) {
    // A piece done goes back to its parent; the last one settles the parent's cutting stage.
    const int cut_entry = flight->scope;
    std::string gathered;
    const Gathered how = GatheredValue(run->chain, cut_entry, *flight, item, &gathered);
    run->flight.erase(index);  // `flight` is gone now
    MW_ASSIGN_OR_RETURN(ItemFlight * parent, FlightOf(run, item.parent()));
    ItemFlight::Cut& cut = parent->cuts[cut_entry];
    if (item.position() >= cut.values.size() || cut.open == 0) {
      return absl::InternalError(absl::StrCat("piece ", index, " of item ", item.parent(),
                                              " is not one its parent waits for"));
    }
    cut.values[item.position()] = std::move(gathered);
    cut.kept += how == Gathered::kKept;
    cut.left_out[item.position()] = how == Gathered::kLeftOut;
    if (--cut.open > 0) return absl::OkStatus();
    MW_ASSIGN_OR_RETURN(v1::Item parent_item,
                        p_.jobs->ReadItem(run->record.job().id(), item.parent()));
    return SettleStage(run, parent, cut_entry,
                       Leaving{.state = CutSettlesAs(run->chain[cut_entry], cut)}, cut.Joined(),
                       parent_item, {}, batch);
  }
  run->flight.erase(index);
  if (run->merge_stage >= 0) {
    v1::StageCursor* merge = run->progress.mutable_stages(run->merge_stage);
    merge->set_done(merge->done() + 1);
  }
  run->progress.set_items_finished(run->progress.items_finished() + 1);
  if (run->progress.items_finished() == run->record.job().items()) {
    MW_RETURN_IF_ERROR(p_.lifecycle->Complete(run, batch));
  }
  return absl::OkStatus();
}

}  // namespace mw::dispatch
