#include "engine/dispatch/scheduler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <climits>

#include "absl/strings/str_cat.h"
#include "engine/common/ids.h"
#include "engine/common/status_macros.h"
#include "engine/dispatch/routing.h"

namespace mw::dispatch {

namespace v1 = ::microwork::v1;
using storage::Batch;

namespace {

// Items of a reserved batch opened (for the workers it is reserved for) per call by a worker it
// is not reserved for, as the stage's cursor passes over them.
constexpr int kOpenAheadPerCall = 64;

}  // namespace

std::vector<JobRun*> Scheduler::ServingOrder() const {
  std::vector<JobRun*> order;
  for (auto& [n, job] : jobs_->jobs()) order.push_back(&job);
  std::stable_sort(order.begin(), order.end(), [](const JobRun* a, const JobRun* b) {
    const uint32_t pa = a->record.contract().priority(), pb = b->record.contract().priority();
    if (pa != pb) return pa > pb;
    const int64_t da = a->deadline_ms == 0 ? INT64_MAX : a->deadline_ms;
    const int64_t db = b->deadline_ms == 0 ? INT64_MAX : b->deadline_ms;
    return da < db;
  });
  return order;
}

absl::StatusOr<Scheduler::Pick> Scheduler::Next(const std::vector<JobRun*>& order,
                                                const std::string& centre_id,
                                                const v1::WorkerOnDuty& worker,
                                                const v1::WorkerCredit& credit, int64_t now,
                                                Batch* batch, std::vector<JobRun*>* now_waiting) {
  bool held_back = false;
  for (JobRun* run : order) {
    if (run->progress.state() != v1::JOB_RUNNING) continue;
    if (run->deadline_ms != 0 && now >= run->deadline_ms) continue;  // stops soon
    if (!FairShareAllows(*run, centre_id, now)) {
      held_back = true;
      continue;
    }
    bool unaffordable = false;
    MW_ASSIGN_OR_RETURN(TaskRun * task,
                        NextIn(run, centre_id, worker, credit, now, batch, &unaffordable));
    if (task != nullptr) {
      run->nothing_for.erase(centre_id);
      return Pick{.run = run, .task = task};
    }
    run->nothing_for[centre_id] = now + fair_share_window_ms_;
    // Nothing to lease and the escrow short. With leases out, one may expire and free its wage;
    // with none, the job waits for funding rather than overspend (FundJob resumes it).
    if (unaffordable && pay_->Exposure(*run) == 0 && run->progress.state() == v1::JOB_RUNNING) {
      run->progress.set_state(v1::JOB_BUDGET_EXHAUSTED);
      JobCatalogue::PutProgress(*run, batch);
      now_waiting->push_back(run);
      spdlog::warn("event=budget_exhausted job={}", run->record.job().id());
    }
  }
  return Pick{.held_back = held_back};
}

void Scheduler::EndCall(const std::string& centre_id, bool short_of_work, int64_t now) {
  if (short_of_work) {
    short_until_[centre_id] = now + fair_share_window_ms_;
  } else {
    short_until_.erase(centre_id);
  }
}

TaskRun* Scheduler::NextGold(JobRun* run, int pos, const std::string& worker) {
  auto& gold = run->gold[pos];
  for (size_t n = 0; n < gold.size(); ++n) {
    const size_t i = (run->gold_cursor[pos] + n) % gold.size();
    TaskRun* task = jobs_->FindTask(gold[i]);
    if (task == nullptr || HadOrBarred(task->record, worker)) continue;
    run->gold_cursor[pos] = i + 1;
    return task;
  }
  return nullptr;  // this worker has seen every check task
}

absl::StatusOr<TaskRun*> Scheduler::NextIn(JobRun* run, const std::string& centre_id,
                                           const v1::WorkerOnDuty& worker,
                                           const v1::WorkerCredit& credit, int64_t now,
                                           Batch* batch, bool* unaffordable) {
  const v1::Contract& contract = run->record.contract();
  const std::string& job_id = run->record.job().id();
  const v1::Centre& centre = *centres_->Find(centre_id);
  // Later stages first: finishing items already under way beats starting new ones.
  for (int pos = static_cast<int>(run->chain.size()) - 1; pos >= 0; --pos) {
    const StageRun& stage = run->chain[pos];
    if (!CentreEligibility(contract, stage.human, centre).ok) continue;
    if (!WorkerQualifies(stage.human, worker)) continue;
    if (credit.no_distressing() && stage.human.distressing()) continue;
    const std::string stage_key = absl::StrCat(job_id, "/", contract.stages(stage.index).name());
    if (std::find(credit.exclude_stages().begin(), credit.exclude_stages().end(), stage_key) !=
        credit.exclude_stages().end()) {
      continue;  // the centre's manager reserved the stage for other workers
    }
    // Or some of its items: those stay for the workers they were reserved for.
    auto reserved_for_others = [&](uint64_t item) {
      for (const auto& b : credit.exclude_batches()) {
        if (b.stage() == stage_key && item >= b.first_item() && item <= b.last_item()) return true;
      }
      return false;
    };
    if (!pay_->Affords(*run, centre_id, stage.human.piece_rate_minor())) {
      *unaffordable = true;  // a cheaper stage may still be leased
      continue;
    }
    // Paid training: a newcomer gets check tasks with feedback until they pass.
    if (InTraining(*run, stage, centre_id, worker)) {
      if (TaskRun* gold = NextGold(run, pos, worker.worker()); gold != nullptr) return gold;
      // Nothing left to train on here: they stay on check tasks for this job (a centre's word
      // that they are trained counts only beside a record of training passed elsewhere).
      continue;
    }
    // A check task is due after every 1000 / gold_per_thousand - 1 regular ones.
    const uint32_t gold_rate = stage.human.qa().gold_per_thousand();
    if (gold_rate > 0 && (run->since_gold[pos] + 1) * gold_rate >= 1000) {
      if (TaskRun* gold = NextGold(run, pos, worker.worker()); gold != nullptr) {
        run->since_gold[pos] = 0;
        return gold;
      }
    }
    auto& open = run->open[pos];
    for (size_t i = 0; i < open.size();) {
      TaskRun* task = jobs_->FindTask(open[i]);
      if (task == nullptr || FreeSlots(task->record) == 0) {
        open.erase(open.begin() + i);  // done or full: it comes back if a slot frees
        continue;
      }
      if (task->record.next_attempt_at_ms() > now) {
        ++i;  // backing off after an expired lease
        continue;
      }
      if (!HadOrBarred(task->record, worker.worker()) && !reserved_for_others(task->item_index)) {
        ++run->since_gold[pos];
        return task;
      }
      ++i;
    }
    // A stage straight after the split opens the job's next item: its task there, and at every
    // other such stage (fan-out). The first step's cursor counts the items opened.
    if (!stage.after.empty() || !stage.is_entry(pos) || stage.scope >= 0) continue;
    v1::StageCursor* cursor = run->progress.mutable_stages(run->chain[0].index);
    // Items reserved for others are opened as tasks for them to take, and passed over; a few
    // per call, so that a long reserved batch never makes one lease call slow.
    for (int opened = 0; opened < kOpenAheadPerCall && cursor->next_item() < cursor->total() &&
                         reserved_for_others(cursor->next_item());
         ++opened) {
      MW_ASSIGN_OR_RETURN(v1::Item item, jobs_->ReadNextItem(job_id, cursor->next_item()));
      cursor->set_next_item(cursor->next_item() + 1);
      jobs_->NoteProgress(run);  // written once per batch, with the task OpenItem writes
      MW_RETURN_IF_ERROR(jobs_->OpenItem(run, std::move(item), pos).status());
    }
    if (cursor->next_item() < cursor->total() && !reserved_for_others(cursor->next_item())) {
      MW_ASSIGN_OR_RETURN(v1::Item item, jobs_->ReadNextItem(job_id, cursor->next_item()));
      cursor->set_next_item(cursor->next_item() + 1);
      jobs_->NoteProgress(run);  // written once per batch, with the task OpenItem writes
      ++run->since_gold[pos];
      MW_ASSIGN_OR_RETURN(TaskRun * task, jobs_->OpenItem(run, std::move(item), pos));
      // Its other stages' tasks are open for the next worker; this one is taken now.
      return task;
    }
  }
  return nullptr;
}

bool Scheduler::InTraining(const JobRun& run, const StageRun& stage, const std::string& centre_id,
                           const v1::WorkerOnDuty& worker) const {
  if (stage.human.qa().training_tasks() == 0) return false;
  const std::string account = WorkerAccount(centre_id, worker.worker());
  const std::string& job_id = run.record.job().id();
  // A person's promotion covers the job; training passed on it covers the stages that ask for
  // no skill or language, and those it vouched for.
  if (workers_->PromotedByPerson(account, job_id)) return false;
  if (workers_->Promoted(account, job_id) && workers_->Vouched(account, stage.human)) return false;
  // The centre's word that the worker is trained (training_level > 0) is a claim: it skips
  // training only beside this dispatcher's record of training passed on another job.
  if (worker.training_level() == 0 || !workers_->PassedTrainingOnAnyJob(account)) return true;
  // So is its word that the worker has the skills and languages the stage asks for: the stage's
  // check tasks test it, unless training passed on a stage that asked for them.
  return !workers_->Vouched(account, stage.human);
}

bool Scheduler::FairShareAllows(const JobRun& run, const std::string& centre_id,
                                int64_t now) const {
  auto granted = [&](const std::string& id) -> uint64_t {
    auto it = run.granted.find(id);
    return it == run.granted.end() ? 0 : it->second;
  };
  const uint64_t mine = granted(centre_id), my_weight = centres_->ShareWeight(centre_id);
  for (const auto& [other, until] : short_until_) {
    if (other == centre_id || until <= now) continue;
    const v1::Centre* other_centre = centres_->Find(other);
    if (other_centre == nullptr) continue;
    if (auto n = run.nothing_for.find(other); n != run.nothing_for.end() && n->second > now) {
      continue;  // short, but not of this job's work
    }
    bool eligible = false;
    for (const StageRun& stage : run.chain) {
      eligible =
          eligible || CentreEligibility(run.record.contract(), stage.human, *other_centre).ok;
    }
    // Ahead of a contending centre, weight for weight: leave the next task to it.
    if (eligible && mine * centres_->ShareWeight(other) > granted(other) * my_weight) return false;
  }
  return true;
}

}  // namespace mw::dispatch
