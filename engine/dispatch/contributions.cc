#include "engine/dispatch/contributions.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/common/ids.h"
#include "engine/common/proto_bytes.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"
#include "engine/dispatch/answers.h"
#include "engine/storage/keys.h"
#include "engine/storage/record.h"

namespace mw::dispatch {

namespace v1 = ::microwork::v1;
using storage::Batch;
using storage::Cf;
namespace keys = storage::keys;

namespace {

constexpr size_t kMaxResultBytes = 256 * 1024;
// A result up to this size is stored under its id as the key of its contribution, whose record
// holds the receipt; a larger one keeps its own copy of the receipt. A resend of the id (which a
// centre can make at will, thousands in one call) then reads at most a record this large, not
// one of 256 KiB.
constexpr size_t kReceiptByReferenceMaxBytes = 4096;

v1::Receipt Quarantine(const v1::Result& r, std::string why) {
  v1::Receipt receipt;
  receipt.set_result_id(r.result_id());
  receipt.set_status(v1::RECEIPT_QUARANTINED);
  receipt.set_detail(std::move(why));
  return receipt;
}

}  // namespace

ContributionRecorder::Body ContributionRecorder::Measure(const v1::Result& r) {
  // One too large to record is quarantined on its size: not copied, not hashed.
  if (const size_t bytes = r.ByteSizeLong(); bytes > kMaxResultBytes) {
    return Body{.size = bytes};
  }
  Body body{.bytes = DeterministicBytes(r)};
  body.size = body.bytes.size();
  body.sha256 = Sha256(body.bytes);
  return body;
}

absl::StatusOr<ContributionRecorder::Recorded> ContributionRecorder::Record(
    const std::string& centre_id, const v1::Result& r, const Body& body, Batch* batch,
    std::vector<std::string>* pending, bool* changed) {
  Recorded recorded;
  if (r.result_id().empty() || r.result_id().size() > 128) {
    recorded.receipt = Quarantine(r, "result_id: expected 1 to 128 characters");
    return recorded;
  }
  // The longest answer a stage allows (10,000 characters of up to four bytes) fits many times.
  if (body.size > kMaxResultBytes) {
    recorded.receipt =
        Quarantine(r, absl::StrCat("result: at most ", kMaxResultBytes, " bytes, got ", body.size));
    return recorded;
  }
  const std::string& body_hash = body.sha256;

  // Seen before under this id: the same receipt again, or a conflict.
  MW_ASSIGN_OR_RETURN(std::optional<v1::ResultIdRecord> seen,
                      p_.idempotency->FindResult(centre_id, r.result_id()));
  if (seen.has_value()) {
    v1::Receipt receipt = seen->receipt();
    if (seen->body_sha256() != body_hash) {
      receipt.set_status(v1::RECEIPT_CONFLICT);
      receipt.set_detail("this result id was used before with a different body");
    } else if (receipt.status() != v1::RECEIPT_QUARANTINED) {
      receipt.set_status(v1::RECEIPT_DUPLICATE);
    }
    recorded.receipt = std::move(receipt);
    return recorded;
  }

  // Every other outcome is stored under the result id, so a resend gets the same answer: the
  // receipt itself, or the key of the contribution whose record holds it.
  auto remember = [&](v1::Receipt receipt, const std::string* contribution_key = nullptr) {
    v1::ResultIdRecord rec;
    rec.set_body_sha256(body_hash);
    *rec.mutable_receipt() = receipt;
    pending->push_back(
        p_.idempotency->RememberResult(centre_id, r.result_id(), rec, batch, contribution_key));
    if (receipt.status() == v1::RECEIPT_QUARANTINED) ++p_.stats->quarantined_results;
    recorded.receipt = std::move(receipt);
    return std::move(recorded);
  };

  Claim claim;
  MW_ASSIGN_OR_RETURN(std::optional<std::string> refused, Locate(centre_id, r, &claim));
  if (refused.has_value()) return remember(Quarantine(r, *std::move(refused)));

  // One contribution per worker and task, whatever result ids the agent used.
  MW_ASSIGN_OR_RETURN(const bool contributed, p_.idempotency->Contributed(claim.contribution_key));
  if (contributed) {
    v1::Receipt receipt;
    receipt.set_result_id(r.result_id());
    receipt.set_status(v1::RECEIPT_DUPLICATE);
    receipt.set_contribution_id(claim.assignment_id);
    receipt.set_detail("this worker's answer to the task was recorded under another result id");
    return remember(receipt);
  }

  *changed = true;  // from here on memory changes with the batch
  // Count puts the contribution's record, with this receipt, in the batch.
  MW_ASSIGN_OR_RETURN(v1::Receipt receipt,
                      Count(centre_id, r, body, &claim, batch, pending, &recorded));
  return remember(std::move(receipt),
                  body.size <= kReceiptByReferenceMaxBytes ? &claim.contribution_key : nullptr);
}

absl::Status ContributionRecorder::ReadAhead(const std::string& centre_id,
                                             const v1::SubmitResultsRequest& request) {
  std::vector<std::string> result_ids, transfer_ids;
  std::vector<std::string> contributions;
  for (const v1::Result& r : request.results()) {
    result_ids.push_back(r.result_id());
    // What Locate finds for it, where it would find anything; the rest Record reads itself.
    auto parts = ParseAssignmentId(r.assignment_id());
    if (!parts.ok()) continue;
    auto ref = ParseTaskId(parts->first);
    if (!ref.ok()) continue;
    const JobRun* run = p_.jobs->Find(ref->job_id);
    if (run == nullptr) continue;
    const int pos = StagePos(*run, ref->stage);
    if (pos < 0) continue;
    p_.pay->WageTransferIds(*run, centre_id, AssignmentId(parts->first, parts->second),
                            &transfer_ids);
    contributions.push_back(
        keys::Contribution(ref->job_id, run->chain[pos].key, ref->item, parts->second));
  }
  MW_RETURN_IF_ERROR(p_.idempotency->ReadAhead(centre_id, result_ids, contributions));
  return p_.pay->ReadAhead(transfer_ids);
}

int ContributionRecorder::StagePos(const JobRun& run, const std::string& name) {
  int pos = -1;
  for (size_t p = 0; p < run.chain.size(); ++p) {
    if (run.chain[p].name == name) pos = static_cast<int>(p);
  }
  return pos;
}

absl::StatusOr<std::optional<std::string>> ContributionRecorder::Locate(
    const std::string& centre_id, const v1::Result& r, Claim* claim) {
  auto parts = ParseAssignmentId(r.assignment_id());
  if (!parts.ok()) return std::string(parts.status().message());
  const auto& [task_id, worker] = *parts;
  if (worker != r.worker()) {
    return absl::StrCat("worker ", r.worker(), " does not match the assignment's worker ", worker);
  }
  auto ref = ParseTaskId(task_id);
  if (!ref.ok()) return std::string(ref.status().message());
  JobRun* run = p_.jobs->Find(ref->job_id);
  if (run == nullptr) return absl::StrCat("no job ", ref->job_id);
  const int pos = StagePos(*run, ref->stage);
  if (pos < 0) {
    return absl::StrCat("job ", ref->job_id, " has no human stage ", ref->stage);
  }
  const StageRun& stage = run->chain[pos];
  const std::string task_key = keys::Task(ref->job_id, stage.key, ref->item);

  // The task: open in memory, or done and on disk.
  TaskRun* task = p_.jobs->FindTask(task_key);
  v1::TaskRecord& done_record = claim->done_record;
  if (task == nullptr) {
    absl::Status s = p_.jobs->ReadTaskRecord(task_key, &done_record);
    if (absl::IsNotFound(s)) return absl::StrCat("no task ", task_id);
    MW_RETURN_IF_ERROR(s);
  }
  v1::TaskRecord& record = task != nullptr ? task->record : done_record;
  v1::SlotRecord* slot = nullptr;
  for (auto& s : *record.mutable_slots()) {
    if (s.worker() == worker) slot = &s;
  }
  if (slot == nullptr) {
    return absl::StrCat("task ", task_id, " was never assigned to ", worker);
  }
  if (slot->centre() != centre_id) {
    return std::string("the assignment belongs to another centre");
  }
  // Spans are checked against the text an open task shows. A late answer to a done task (it
  // changes no verdict) is checked without it: its item may have moved on since, and reading it
  // back for every resent answer would be work a centre could ask for at will.
  const v1::Item* shown = task != nullptr ? &task->item : nullptr;
  if (absl::Status s = CheckAnswer(stage.human.answer(), r.answer(), shown); !s.ok()) {
    return absl::StrCat("answer: ", s.message());
  }
  if (stage.max_pieces > 0 && !r.answer().skipped() &&
      SplitPieces(r.answer().text(), stage.max_pieces + 1).size() > stage.max_pieces) {
    return absl::StrCat("answer: at most ", stage.max_pieces, " pieces, one per line; got more");
  }

  claim->run = run;
  claim->pos = pos;
  claim->task_id = task_id;
  claim->worker = worker;
  claim->task_key = task_key;
  claim->contribution_key = keys::Contribution(ref->job_id, stage.key, ref->item, worker);
  claim->assignment_id = AssignmentId(task_id, worker);
  claim->task = task;
  claim->slot = slot;
  return std::nullopt;
}

absl::StatusOr<v1::Receipt> ContributionRecorder::Count(const std::string& centre_id,
                                                        const v1::Result& r, const Body& body,
                                                        Claim* claim, Batch* batch,
                                                        std::vector<std::string>* pending,
                                                        Recorded* recorded) {
  JobRun* run = claim->run;
  const int pos = claim->pos;
  const StageRun& stage = run->chain[pos];
  TaskRun* task = claim->task;
  v1::TaskRecord& record = task != nullptr ? task->record : claim->done_record;
  v1::SlotRecord* slot = claim->slot;
  const std::string& worker = claim->worker;
  const std::string& task_id = claim->task_id;
  const std::string& task_key = claim->task_key;
  const std::string& assignment_id = claim->assignment_id;
  const std::string& contribution_key = claim->contribution_key;
  // The worker's record on the job, back from the store when it left memory (a late answer on a
  // job that ended): read before anything changes, so that a store that cannot be read fails
  // the answer having changed nothing.
  MW_RETURN_IF_ERROR(p_.workers->Fetch(WorkerAccount(centre_id, worker), run->record.job().id()));
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
  // Counted: one of the answers the task's verdict is made of. With it the task may have all it
  // asks for (its slot is still leased, so it is the one added): the caller then decides it.
  const bool counted = on_time && !r.answer().skipped() && !gold && !stopped;
  bool fills = false;
  if (counted) {
    uint32_t submitted = 1;
    for (const auto& s : record.slots()) submitted += s.state() == v1::SLOT_SUBMITTED;
    fills = submitted >= record.needed();
  }
  const int64_t rate = stage.human.piece_rate_minor();
  const std::string& currency = run->record.contract().currency();
  const FxRate* fx = p_.pay->CentreRate(*run, centre_id);
  const std::string worker_account = WorkerAccount(centre_id, worker);
  if (on_time) {
    run->live_wages[centre_id] -= rate;
    --run->leased[pos];
    p_.leases->Disarm(task_key, worker);
    p_.leases->Release(centre_id, worker);
  }

  v1::Receipt receipt;
  receipt.set_result_id(r.result_id());
  receipt.set_status(v1::RECEIPT_ACCEPTED);
  receipt.set_contribution_id(assignment_id);
  receipt.set_late(!on_time);
  v1::WorkerStatsRecord& stats = p_.workers->Record(worker_account);
  TimeCredit time;  // what the time credited was bounded by; no window when none was

  if (r.answer().skipped()) {
    // No work to pay for; the slot goes back to the pool.
    if (on_time) {
      slot->set_state(v1::SLOT_SKIPPED);
      run->open[pos].push_back(task_key);
      p_.jobs->PutTask(*task, batch);
    }
    receipt.set_detail(absl::StrCat("skipped: ", r.answer().skip_reason()));
    stats.set_skipped(stats.skipped() + 1);
  } else {
    // A late answer or a check task's is posted at once: no verdict will come for it, and base
    // pay never waits on quality. So is the answer that completes its task when the verdict,
    // made with it in this batch, cannot ask for more instead: nothing could happen between a
    // reservation and its posting. Every other answer's is reserved until the verdict.
    const bool completes = fills && !MayAskForMore(stage, record.needed());
    MW_ASSIGN_OR_RETURN(const int64_t wage,
                        ReserveWage(run, centre_id, worker, assignment_id, rate,
                                    /*post_now=*/!on_time || gold || stopped || completes, batch));
    if (completes && spdlog::should_log(spdlog::level::debug)) {
      spdlog::debug("event=wage_posted task={} assignment={} transfer={} amount={}", task_id,
                    assignment_id, WageTransferId(assignment_id), rate);  // as the verdict's are
    }
    if (!on_time) {
      ++p_.stats->late_results;
      stats.set_late(stats.late() + 1);
    }
    const bool correct = gold && AnswerLabel(r.answer()) == record.gold_label();
    if (gold) {
      // A check task: it moves the worker's skill estimate and tells them how it went.
      p_.workers->CountCheck(worker_account, stage.human, correct);
      ++p_.stats->gold_answers;
      p_.stats->gold_correct += correct;
      receipt.set_check(true);
      receipt.set_check_correct(correct);
      receipt.set_feedback(
          correct ? "check task: your answer matched the known answer"
                  : absl::StrCat("check task: the known answer was \"", record.gold_label(), "\""));
    }
    if (on_time && (gold || stopped)) {
      slot->set_state(v1::SLOT_SUBMITTED);
      p_.jobs->PutTask(*task, batch);
    }
    // In the worker's own currency: what they see, and what their floor is checked against.
    receipt.set_wage_minor(wage);
    receipt.set_currency(fx != nullptr ? fx->to : currency);
    time = CreditWorker(*run, stage, centre_id, r, *slot, wage,
                        gold ? std::optional<bool>(correct) : std::nullopt, &receipt, batch);
    stats.set_contributions(stats.contributions() + 1);
    if (stats.first_answer_ms() == 0) stats.set_first_answer_ms(p_.clock->NowMs());
    stats.set_last_answer_ms(p_.clock->NowMs());
    stats.set_active_seconds(stats.active_seconds() + time.credited_seconds);
    v1::StageCursor* cursor = run->progress.mutable_stages(stage.index);
    cursor->set_contributions(cursor->contributions() + 1);
    ++(*run->progress.mutable_centre_contributions())[centre_id];
    ++p_.stats->contributions;
  }
  p_.workers->NoteRecord(worker_account);  // written once per batch (Engine::Commit)

  // Its result: the bytes measured (Body), written as they are.
  v1::ContributionRecord contribution;
  contribution.set_centre(centre_id);
  contribution.set_task_id(task_id);
  *contribution.mutable_receipt() = receipt;
  contribution.set_body_sha256(body.sha256);
  contribution.set_recorded_at_ms(p_.clock->NowMs());
  contribution.set_counted(counted);
  contribution.set_lease_window_ms(time.window_ms);
  contribution.set_lease_window_start_ms(time.window_start_ms);
  batch->Put(Cf::kContributions, contribution_key,
             storage::EncodeRecordWith(contribution, v1::ContributionRecord::kResultFieldNumber,
                                       body.bytes));
  pending->push_back(p_.idempotency->NoteContribution(contribution_key));

  spdlog::debug("event=result task={} assignment={} result={} status={} late={} wage={} {}",
                task_id, assignment_id, r.result_id(), v1::ReceiptStatus_Name(receipt.status()),
                receipt.late(), receipt.wage_minor(), receipt.currency());
  recorded->run = run;
  if (counted) {
    slot->set_state(v1::SLOT_SUBMITTED);
    task->answers.push_back({worker, AnswerLabel(r.answer()), r.answer().text()});
    if (fills) {
      recorded->complete = task;  // the caller decides it, then writes the progress
    } else {
      p_.jobs->PutTask(*task, batch);
    }
  }
  return receipt;
}

absl::StatusOr<int64_t> ContributionRecorder::ReserveWage(JobRun* run, const std::string& centre_id,
                                                          const std::string& worker,
                                                          const std::string& assignment_id,
                                                          int64_t rate, bool post_now,
                                                          Batch* batch) {
  const int64_t cost = p_.pay->WageCost(*run, centre_id, rate);  // with the fee and the share
  MW_ASSIGN_OR_RETURN(const std::string payer,
                      p_.pay->PayingAccount(*run, cost, WageTransferId(assignment_id), batch));
  // The fee and the centre's share are charged on the job's running totals (payroll.h).
  const FeeAndShare fees = Charge(&run->progress, centre_id, p_.pay->Terms(*run, centre_id), rate);
  // Posted at once: one transfer (with its legs), not a reservation and its posting.
  MW_ASSIGN_OR_RETURN(
      const int64_t wage,
      p_.pay->PayWorker(*run, centre_id,
                        {.id = WageTransferId(assignment_id),
                         .kind = post_now ? v1::TRANSFER_POSTED : v1::TRANSFER_PENDING,
                         .code = v1::CODE_WAGE,
                         .debit_account = payer,
                         .credit_account = WorkerAccount(centre_id, worker),
                         .amount_minor = rate,
                         .currency = run->record.contract().currency(),
                         .job_id = run->record.job().id()},
                        &fees, batch));
  run->progress.set_wages_reserved_minor(run->progress.wages_reserved_minor() + rate);
  if (post_now) run->progress.set_wages_posted_minor(run->progress.wages_posted_minor() + rate);
  return wage;
}

TimeCredit ContributionRecorder::CreditWorker(const JobRun& run, const StageRun& stage,
                                              const std::string& centre_id, const v1::Result& r,
                                              const v1::SlotRecord& slot, int64_t wage,
                                              std::optional<bool> check_correct,
                                              v1::Receipt* receipt, Batch* batch) {
  const std::string& job_id = run.record.job().id();
  const std::string account = WorkerAccount(centre_id, r.worker());
  // What the wage floor is checked against at the next payout: measured time and earnings on
  // this job, this period. The time is the centre's claim, credited up to what the lease and the
  // estimate allow.
  // On the job as a whole, it is bounded by the union of the worker's lease windows.
  const TimeCredit time = p_.workers->CreditWork(
      account, job_id, wage,
      CreditTime(r.active_seconds(), stage.human.estimated_seconds(), p_.max_time_multiple,
                 std::max(slot.lease_expires_at_ms(), p_.clock->NowMs()) - slot.leased_at_ms(),
                 slot.leased_at_ms()));
  receipt->set_credited_seconds(time.credited_seconds);
  receipt->set_held_seconds(time.held_seconds);
  if (time.held_seconds > 0) {
    receipt->set_detail(
        absl::StrCat("time on task: ", r.active_seconds(), " s reported, ", time.credited_seconds,
                     " s credited (at most ", p_.max_time_multiple, " times the ",
                     stage.human.estimated_seconds(),
                     " s estimate, within the time your leases on this job were held); ",
                     time.held_seconds, " s held for a person to look at"));
    ++p_.stats->held_time_results;
    spdlog::warn("event=time_held centre={} assignment={} reported={} credited={}", centre_id,
                 r.assignment_id(), r.active_seconds(), time.credited_seconds);
  }
  // Training: count the trainee's check answers; enough of them right promotes them.
  const v1::WorkerOnDuty* on_duty = p_.centres->OnDuty(centre_id, r.worker());
  if (check_correct.has_value() && on_duty != nullptr &&
      p_.scheduler->InTraining(run, stage, centre_id, *on_duty) &&
      p_.workers->CountTrainingAnswer(account, job_id, *check_correct, stage.human)) {
    const v1::WorkerJobRecord& on_job = p_.workers->OnJob(account, job_id);
    receipt->set_promoted(true);
    receipt->set_feedback(absl::StrCat(receipt->feedback(), ". Training passed (",
                                       on_job.training_correct(), " of ", on_job.training_answers(),
                                       " right): regular tasks from now on"));
    spdlog::info("event=promoted worker={} job={} right={} of={}", account, job_id,
                 on_job.training_correct(), on_job.training_answers());
  }
  p_.workers->NoteOnJob(account, job_id);
  return time;
}

}  // namespace mw::dispatch
