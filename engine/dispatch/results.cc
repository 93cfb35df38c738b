// Engine: results. Each result is recorded exactly once under its client-generated id, its wage
// reserved in the same write; a task with all its answers gets a verdict, its wages are posted,
// and the item moves on to the next stage. A late result (its lease expired or was fenced) is
// recorded and paid but does not change the task.
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

namespace {

constexpr size_t kMaxResultBytes = 256 * 1024;

v1::Receipt Quarantine(const v1::Result& r, std::string why) {
  v1::Receipt receipt;
  receipt.set_result_id(r.result_id());
  receipt.set_status(v1::RECEIPT_QUARANTINED);
  receipt.set_detail(std::move(why));
  return receipt;
}

}  // namespace

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
      MW_ASSIGN_OR_RETURN(v1::Receipt receipt, RecordContribution(centre_id, r, &batch, &pending));
      *reply.add_receipts() = std::move(receipt);
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

absl::StatusOr<v1::Receipt> Engine::RecordContribution(const std::string& centre_id,
                                                       const v1::Result& r, Batch* batch,
                                                       std::vector<std::string>* pending) {
  if (r.result_id().empty() || r.result_id().size() > 128) {
    return Quarantine(r, "result_id: expected 1 to 128 characters");
  }
  // The longest answer a stage allows (10,000 characters of up to four bytes) fits many times.
  if (const size_t bytes = r.ByteSizeLong(); bytes > kMaxResultBytes) {
    return Quarantine(r, absl::StrCat("result: at most ", kMaxResultBytes, " bytes, got ", bytes));
  }
  const std::string body_hash = Sha256(DeterministicBytes(r));

  // Seen before under this id: the same receipt again, or a conflict.
  MW_ASSIGN_OR_RETURN(std::optional<v1::ResultIdRecord> seen,
                      idempotency_->FindResult(centre_id, r.result_id()));
  if (seen.has_value()) {
    v1::Receipt receipt = seen->receipt();
    if (seen->body_sha256() != body_hash) {
      receipt.set_status(v1::RECEIPT_CONFLICT);
      receipt.set_detail("this result id was used before with a different body");
    } else if (receipt.status() != v1::RECEIPT_QUARANTINED) {
      receipt.set_status(v1::RECEIPT_DUPLICATE);
    }
    return receipt;
  }

  // Every other outcome is stored under the result id, so a resend gets the same answer.
  auto remember = [&](v1::Receipt receipt) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    v1::ResultIdRecord rec;
    rec.set_body_sha256(body_hash);
    *rec.mutable_receipt() = receipt;
    pending->push_back(idempotency_->RememberResult(centre_id, r.result_id(), rec, batch));
    if (receipt.status() == v1::RECEIPT_QUARANTINED) ++stats_.quarantined_results;
    return receipt;
  };

  auto parts = ParseAssignmentId(r.assignment_id());
  if (!parts.ok()) return remember(Quarantine(r, std::string(parts.status().message())));
  const auto& [task_id, worker] = *parts;
  if (worker != r.worker()) {
    return remember(Quarantine(
        r,
        absl::StrCat("worker ", r.worker(), " does not match the assignment's worker ", worker)));
  }
  auto ref = ParseTaskId(task_id);
  if (!ref.ok()) return remember(Quarantine(r, std::string(ref.status().message())));
  JobRun* run = catalogue_.Find(ref->job_id);
  if (run == nullptr) return remember(Quarantine(r, absl::StrCat("no job ", ref->job_id)));
  int pos = -1;
  for (size_t p = 0; p < run->chain.size(); ++p) {
    if (run->chain[p].name == ref->stage) {
      pos = static_cast<int>(p);
    }
  }
  if (pos < 0) {
    return remember(
        Quarantine(r, absl::StrCat("job ", ref->job_id, " has no human stage ", ref->stage)));
  }
  const StageRun& stage = run->chain[pos];
  const std::string task_key = keys::Task(ref->job_id, stage.key, ref->item);

  // The task: open in memory, or done and on disk.
  TaskRun* task = catalogue_.FindTask(task_key);
  v1::TaskRecord done_record;
  if (task == nullptr) {
    absl::Status s = store_->GetRecord(Cf::kTasks, task_key, &done_record);
    if (absl::IsNotFound(s)) return remember(Quarantine(r, absl::StrCat("no task ", task_id)));
    MW_RETURN_IF_ERROR(s);
  }
  v1::TaskRecord& record = task != nullptr ? task->record : done_record;
  v1::SlotRecord* slot = nullptr;
  for (auto& s : *record.mutable_slots()) {
    if (s.worker() == worker) slot = &s;
  }
  if (slot == nullptr) {
    return remember(
        Quarantine(r, absl::StrCat("task ", task_id, " was never assigned to ", worker)));
  }
  if (slot->centre() != centre_id) {
    return remember(Quarantine(r, "the assignment belongs to another centre"));
  }
  if (absl::Status s = CheckAnswer(stage.human.answer(), r.answer()); !s.ok()) {
    return remember(Quarantine(r, absl::StrCat("answer: ", s.message())));
  }

  // One contribution per worker and task, whatever result ids the agent used.
  const std::string contribution_key =
      keys::Contribution(ref->job_id, stage.key, ref->item, worker);
  const std::string assignment_id = AssignmentId(task_id, worker);
  MW_ASSIGN_OR_RETURN(const bool contributed,
                      idempotency_->Contributed(assignment_id, contribution_key));
  if (contributed) {
    v1::Receipt receipt;
    receipt.set_result_id(r.result_id());
    receipt.set_status(v1::RECEIPT_DUPLICATE);
    receipt.set_contribution_id(assignment_id);
    receipt.set_detail("this worker's answer to the task was recorded under another result id");
    return remember(receipt);
  }

  const bool on_time =
      task != nullptr && slot->state() == v1::SLOT_LEASED && slot->epoch() == r.epoch();
  // A lease the job settled when it ended: its wage waited in escrow for this answer.
  if (auto s = run->settling.find(assignment_id); s != run->settling.end()) {
    run->live_wages[s->second.centre] -= s->second.rate;
    run->settling.erase(s);
  }
  const bool gold = record.gold();
  // A job stopped early decides nothing more: its answers are paid as they come in.
  const bool stopped = EndedEarly(run->progress.state());
  const int64_t rate = stage.human.piece_rate_minor();
  const std::string& currency = run->record.contract().currency();
  const FxRate* fx = pay_->CentreRate(*run, centre_id);
  const std::string worker_account = WorkerAccount(centre_id, worker);
  if (on_time) {
    run->live_wages[centre_id] -= rate;
    --run->leased[pos];
    leases_.Release(centre_id, worker);
  }

  v1::Receipt receipt;
  receipt.set_result_id(r.result_id());
  receipt.set_status(v1::RECEIPT_ACCEPTED);
  receipt.set_contribution_id(assignment_id);
  receipt.set_late(!on_time);
  v1::WorkerStatsRecord& stats = workers_.Record(worker_account);

  if (r.answer().skipped()) {
    // No work to pay for; the slot goes back to the pool.
    if (on_time) {
      slot->set_state(v1::SLOT_SKIPPED);
      run->open[pos].push_back(task_key);
      catalogue_.PutTask(*task, batch);
    }
    receipt.set_detail(absl::StrCat("skipped: ", r.answer().skip_reason()));
    stats.set_skipped(stats.skipped() + 1);
  } else {
    // A late answer or a check task's is posted at once: no verdict will come for it, and base
    // pay never waits on quality.
    MW_ASSIGN_OR_RETURN(const int64_t wage,
                        ReserveWage(run, centre_id, worker, assignment_id, rate,
                                    /*post_now=*/!on_time || gold || stopped, batch));
    if (!on_time) {
      ++stats_.late_results;
      stats.set_late(stats.late() + 1);
    }
    const bool correct = gold && AnswerLabel(r.answer()) == record.gold_label();
    if (gold) {
      // A check task: it moves the worker's skill estimate and tells them how it went.
      stats.set_gold_total(stats.gold_total() + 1);
      stats.set_gold_correct(stats.gold_correct() + correct);
      ++stats_.gold_answers;
      stats_.gold_correct += correct;
      receipt.set_check(true);
      receipt.set_check_correct(correct);
      receipt.set_feedback(
          correct ? "check task: your answer matched the known answer"
                  : absl::StrCat("check task: the known answer was \"", record.gold_label(), "\""));
    }
    if (on_time && (gold || stopped)) {
      slot->set_state(v1::SLOT_SUBMITTED);
      catalogue_.PutTask(*task, batch);
    }
    // In the worker's own currency: what they see, and what their floor is checked against.
    receipt.set_wage_minor(wage);
    receipt.set_currency(fx != nullptr ? fx->to : currency);
    const TimeCredit time =
        CreditWorker(*run, stage, centre_id, r, *slot, wage,
                     gold ? std::optional<bool>(correct) : std::nullopt, &receipt, batch);
    stats.set_contributions(stats.contributions() + 1);
    stats.set_active_seconds(stats.active_seconds() + time.credited_seconds);
    v1::StageCursor* cursor = run->progress.mutable_stages(stage.index);
    cursor->set_contributions(cursor->contributions() + 1);
    ++(*run->progress.mutable_centre_contributions())[centre_id];
    ++stats_.contributions;
  }
  workers_.PutRecord(worker_account, batch);

  v1::ContributionRecord contribution;
  *contribution.mutable_result() = r;
  contribution.set_centre(centre_id);
  contribution.set_task_id(task_id);
  *contribution.mutable_receipt() = receipt;
  contribution.set_body_sha256(body_hash);
  contribution.set_recorded_at_ms(clock_->NowMs());
  contribution.set_counted(on_time && !r.answer().skipped() && !gold && !stopped);
  batch->PutRecord(Cf::kContributions, contribution_key, contribution);
  pending->push_back(idempotency_->NoteContribution(assignment_id));

  spdlog::info("event=result task={} assignment={} result={} status={} late={} wage={} {}", task_id,
               assignment_id, r.result_id(), v1::ReceiptStatus_Name(receipt.status()),
               receipt.late(), receipt.wage_minor(), receipt.currency());
  if (contribution.counted()) {
    slot->set_state(v1::SLOT_SUBMITTED);
    task->answers.push_back({worker, AnswerLabel(r.answer()), r.answer().text()});
    uint32_t submitted = 0;
    for (const auto& s : task->record.slots()) submitted += s.state() == v1::SLOT_SUBMITTED;
    if (submitted >= task->record.needed()) {
      MW_RETURN_IF_ERROR(Decide(run, task, batch));  // may erase `task`
    } else {
      catalogue_.PutTask(*task, batch);
    }
  }
  JobCatalogue::PutProgress(*run, batch);
  Touch(run);
  return remember(receipt);
}

absl::StatusOr<int64_t> Engine::ReserveWage(JobRun* run, const std::string& centre_id,
                                            const std::string& worker,
                                            const std::string& assignment_id, int64_t rate,
                                            bool post_now, Batch* batch) {
  const int64_t cost = pay_->WageCost(*run, centre_id, rate);  // with the fee and the share
  MW_ASSIGN_OR_RETURN(const std::string payer,
                      pay_->PayingAccount(*run, cost, WageTransferId(assignment_id), batch));
  // The fee and the centre's share are charged on the job's running totals (payroll.h).
  const FeeAndShare fees = Charge(&run->progress, centre_id, pay_->Terms(*run, centre_id), rate);
  MW_ASSIGN_OR_RETURN(const int64_t wage,
                      pay_->PayWorker(*run, centre_id,
                                      {.id = WageTransferId(assignment_id),
                                       .kind = v1::TRANSFER_PENDING,
                                       .code = v1::CODE_WAGE,
                                       .debit_account = payer,
                                       .credit_account = WorkerAccount(centre_id, worker),
                                       .amount_minor = rate,
                                       .currency = run->record.contract().currency(),
                                       .job_id = run->record.job().id()},
                                      &fees, batch));
  run->progress.set_wages_reserved_minor(run->progress.wages_reserved_minor() + rate);
  if (post_now) MW_RETURN_IF_ERROR(pay_->PostWage(run, assignment_id, rate, batch).status());
  return wage;
}

TimeCredit Engine::CreditWorker(const JobRun& run, const StageRun& stage,
                                const std::string& centre_id, const v1::Result& r,
                                const v1::SlotRecord& slot, int64_t wage,
                                std::optional<bool> check_correct, v1::Receipt* receipt,
                                Batch* batch) {
  const std::string& job_id = run.record.job().id();
  const std::string account = WorkerAccount(centre_id, r.worker());
  // What the wage floor is checked against at the next payout: measured time and earnings on
  // this job, this period. The time is the centre's claim, credited up to what the lease and the
  // estimate allow.
  const TimeCredit time =
      CreditTime(r.active_seconds(), stage.human.estimated_seconds(), options_.max_time_multiple,
                 std::max(slot.lease_expires_at_ms(), clock_->NowMs()) - slot.leased_at_ms());
  receipt->set_credited_seconds(time.credited_seconds);
  receipt->set_held_seconds(time.held_seconds);
  workers_.CreditWork(account, job_id, wage, time);
  if (time.held_seconds > 0) {
    receipt->set_detail(
        absl::StrCat("time on task: ", r.active_seconds(), " s reported, ", time.credited_seconds,
                     " s credited (at most ", options_.max_time_multiple, " times the ",
                     stage.human.estimated_seconds(), " s estimate, within the lease); ",
                     time.held_seconds, " s held for a person to look at"));
    ++stats_.held_time_results;
    spdlog::warn("event=time_held centre={} assignment={} reported={} credited={}", centre_id,
                 r.assignment_id(), r.active_seconds(), time.credited_seconds);
  }
  // Training: count the trainee's check answers; enough of them right promotes them.
  const v1::WorkerOnDuty* on_duty = centres_.OnDuty(centre_id, r.worker());
  if (check_correct.has_value() && on_duty != nullptr &&
      scheduler_->InTraining(run, stage, centre_id, *on_duty) &&
      workers_.CountTrainingAnswer(account, job_id, *check_correct, stage.human.qa())) {
    const v1::WorkerJobRecord& on_job = workers_.OnJob(account, job_id);
    receipt->set_promoted(true);
    receipt->set_feedback(absl::StrCat(receipt->feedback(), ". Training passed (",
                                       on_job.training_correct(), " of ", on_job.training_answers(),
                                       " right): regular tasks from now on"));
    spdlog::info("event=promoted worker={} job={} right={} of={}", account, job_id,
                 on_job.training_correct(), on_job.training_answers());
  }
  workers_.PutOnJob(account, job_id, batch);
  return time;
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
