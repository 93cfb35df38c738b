#include "engine/dispatch/job_lifecycle.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/common/ids.h"
#include "engine/common/status_macros.h"

namespace mw::dispatch {

namespace v1 = ::microwork::v1;
using storage::Batch;

absl::Status JobLifecycle::Stop(JobRun* run, v1::JobState state, const std::string& why,
                                Batch* batch) {
  const std::string& job_id = run->record.job().id();
  MW_ASSIGN_OR_RETURN(const int64_t paid_now, ReleaseTasks(run, batch));
  MW_RETURN_IF_ERROR(RefundRemainder(run, why, batch));
  run->progress.set_state(state);
  run->progress.set_completed_at_ms(p_.clock->NowMs());
  JobCatalogue::PutProgress(*run, batch);
  p_.changed(run);
  if (p_.ended) p_.ended(job_id);
  spdlog::warn(
      "event=job_stopped job={} state={} wages_paid_without_verdict={} leases_settling={} "
      "escrow_kept_for_them={} refunded={}",
      job_id, v1::JobState_Name(state), paid_now, run->settling.size(), p_.pay->Exposure(*run),
      run->progress.refunded_minor());
  return absl::OkStatus();
}

absl::Status JobLifecycle::RefundRemainder(JobRun* run, const std::string& transfer_suffix,
                                           Batch* batch) {
  const std::string& job_id = run->record.job().id();
  const std::string escrow = EscrowAccount(job_id);
  const int64_t amount = p_.ledger->Available(escrow) - p_.pay->Exposure(*run);
  if (amount <= 0) return absl::OkStatus();
  const v1::Contract& c = run->record.contract();
  MW_RETURN_IF_ERROR(p_.ledger
                         ->Apply({.id = absl::StrCat("refund:", job_id, ":", transfer_suffix),
                                  .kind = v1::TRANSFER_POSTED,
                                  .code = v1::CODE_REFUND,
                                  .debit_account = escrow,
                                  .credit_account = ClientAccount(c.client(), c.currency()),
                                  .amount_minor = amount,
                                  .currency = c.currency(),
                                  .job_id = job_id,
                                  .reason = "the job ended; nobody can still earn this"},
                                 batch)
                         .status());
  run->progress.set_refunded_minor(run->progress.refunded_minor() + amount);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> JobLifecycle::ReleaseTasks(JobRun* run, Batch* batch) {
  const std::string& job_id = run->record.job().id();
  int64_t paid_now = 0;
  auto& tasks = p_.jobs->tasks();
  for (auto it = tasks.begin(); it != tasks.end();) {
    TaskRun& task = it->second;
    if (task.job_id != job_id) {
      ++it;
      continue;
    }
    const StageRun& step = run->chain[task.chain_pos];
    const std::string task_id = TaskId(job_id, step.name, task.item_index);
    for (const auto& slot : task.record.slots()) {
      const std::string aid = AssignmentId(task_id, slot.worker());
      if (slot.state() == v1::SLOT_SUBMITTED) {
        // An answer in: no verdict will come for a task the job left unfinished.
        MW_ASSIGN_OR_RETURN(bool posted,
                            p_.pay->PostWage(run, aid, step.human.piece_rate_minor(), batch));
        if (posted) paid_now += step.human.piece_rate_minor();
        continue;
      }
      if (slot.state() != v1::SLOT_LEASED) continue;
      run->settling[aid] = {
          .centre = slot.centre(),
          .rate = step.human.piece_rate_minor(),
          .until_ms = std::min(slot.lease_expires_at_ms(), p_.leases->Bound(slot))};
      --run->leased[task.chain_pos];
      p_.leases->Release(slot.centre(), slot.worker());
    }
    if (task.record.state() == v1::TASK_DEAD) --p_.stats->dead_tasks;
    tasks.erase(it++);
  }
  // Emptied containers keep their room; an ended job's is given back, or a dispatcher running
  // job after job grows by every job it ever ran (the room for its items in flight alone is
  // about 10 KB a thousand items). Items still in flight (a job stopped early) stay.
  for (auto& open : run->open) std::deque<std::string>().swap(open);
  for (auto& gold : run->gold) std::vector<std::string>().swap(gold);
  if (run->flight.empty()) decltype(run->flight)().swap(run->flight);
  return paid_now;
}

absl::Status JobLifecycle::Complete(JobRun* run, Batch* batch) {
  run->progress.set_state(v1::JOB_COMPLETED);
  run->progress.set_completed_at_ms(p_.clock->NowMs());
  MW_RETURN_IF_ERROR(ReleaseTasks(run, batch).status());  // check tasks nobody needs any more
  MW_RETURN_IF_ERROR(RefundRemainder(run, "completed", batch));
  if (p_.ended) p_.ended(run->record.job().id());
  spdlog::info("event=job_completed job={} refunded={} leases_settling={}", run->record.job().id(),
               run->progress.refunded_minor(), run->settling.size());
  return absl::OkStatus();
}

absl::Status JobLifecycle::StopExpired(int64_t now_ms, Batch* batch, int* expired) {
  for (auto& [n, run] : p_.jobs->jobs()) {
    // Leases out when the job ended that can no longer be answered in time: their wage goes
    // back to the client.
    std::string first;
    for (auto it = run.settling.begin(); it != run.settling.end();) {
      if (it->second.until_ms > now_ms) {
        ++it;
        continue;
      }
      if (first.empty()) first = it->first;
      run.live_wages[it->second.centre] -= it->second.rate;
      it = run.settling.erase(it);
      ++p_.stats->lease_expiries;
      ++*expired;
    }
    if (!first.empty()) {
      MW_RETURN_IF_ERROR(RefundRemainder(
          &run, absl::StrCat("settled:", first, ":", p_.ledger->head_seq()), batch));
      JobCatalogue::PutProgress(run, batch);
    }
    if (run.deadline_ms == 0 || now_ms < run.deadline_ms || IsFinal(run.progress.state())) {
      continue;
    }
    MW_RETURN_IF_ERROR(Stop(&run, v1::JOB_DEADLINE_PASSED, "deadline", batch));
  }
  return absl::OkStatus();
}

}  // namespace mw::dispatch
