// Engine: leases. Centres pull work for named workers; each grant is a slot on a task with a
// fencing epoch and a timer. A worker never holds two slots of one task (expired ones count).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/common/ids.h"
#include "engine/common/proto_bytes.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"
#include "engine/dispatch/engine.h"
#include "engine/dispatch/routing.h"
#include "engine/storage/keys.h"

namespace mw::dispatch {

using storage::Batch;
using storage::Cf;
namespace keys = storage::keys;

namespace {

// A centre's idempotency key as the log shows it: its first 128 bytes, escaped (the key is the
// caller's text, and a line break in it would forge a line of the log).
std::string LoggedKey(const std::string& key) {
  constexpr size_t kShown = 128;
  std::string out = absl::CHexEscape(absl::string_view(key).substr(0, kShown));
  if (key.size() > kShown) out += "...";
  return out;
}

}  // namespace

absl::StatusOr<v1::LeaseReply> Engine::Lease(const std::string& centre_id,
                                             const v1::LeaseRequest& request) {
  if (request.credits_size() > static_cast<int>(options_.max_credits_per_call)) {
    return absl::InvalidArgumentError(absl::StrCat("credits: at most ",
                                                   options_.max_credits_per_call, " per call, got ",
                                                   request.credits_size()));
  }
  // New work waits first when the disk lags: results (finished work) are admitted longer.
  MW_RETURN_IF_ERROR(Admit(options_.max_waiting_commit_bytes / 2, "lease"));
  for (int i = 0; i < request.credits_size(); ++i) {
    const auto& c = request.credits(i);
    if (c.count() == 0 || c.count() > options_.max_credit_per_worker) {
      return absl::InvalidArgumentError(
          absl::StrCat("credits[", i, "].count: expected 1 to ", options_.max_credit_per_worker));
    }
  }
  const std::string principal = absl::StrCat("centre:", centre_id);
  bool granted_now = false;  // not a replay of a reply given before
  absl::StatusOr<v1::LeaseReply> leased = Idempotent<v1::LeaseReply>(
      principal, request.idempotency_key(), request,
      [&](Batch* batch, v1::LeaseReply* reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        const v1::Centre* centre = centres_.Find(centre_id);
        if (centre == nullptr) return absl::NotFoundError("centre is not registered");
        const int64_t now = clock_->NowMs();
        // Check every credit before changing anything.
        std::vector<const v1::WorkerOnDuty*> workers;
        for (const auto& credit : request.credits()) {
          const v1::WorkerOnDuty* worker = centres_.OnDuty(centre_id, credit.worker());
          if (worker == nullptr) {
            return absl::FailedPreconditionError(
                absl::StrCat("worker ", credit.worker(), " is not on duty at centre ", centre_id,
                             "; Register the workers on duty first"));
          }
          workers.push_back(worker);
        }
        absl::flat_hash_set<std::string> specs_sent;
        size_t reply_bytes = 0;      // the assignments' and specs' serialized sizes so far
        bool short_of_work = false;  // asked for more than there was for it
        const std::vector<JobRun*> order = scheduler_->ServingOrder();
        std::vector<JobRun*> now_waiting;  // stopped to wait on their budget
        for (int ci = 0; ci < request.credits_size(); ++ci) {
          const v1::WorkerCredit& credit = request.credits(ci);
          const v1::WorkerOnDuty* worker = workers[ci];
          for (uint32_t k = 0; k < credit.count(); ++k) {
            if (reply_bytes >= options_.max_lease_reply_bytes) break;
            if (leases_.HeldBy(centre_id, credit.worker()) >= options_.max_credit_per_worker) break;
            if (leases_.HeldByCentre(centre_id) >= centre->capacity()) break;
            MW_ASSIGN_OR_RETURN(
                Scheduler::Pick pick,
                scheduler_->Next(order, centre_id, *worker, credit, now, batch, &now_waiting));
            for (JobRun* run : now_waiting) Touch(run);
            now_waiting.clear();
            if (pick.task == nullptr) {  // nothing this worker may do now
              // Short of work, unless the work there was is kept for a centre behind this one.
              short_of_work = short_of_work || !pick.held_back;
              break;
            }
            JobRun* run = pick.run;
            TaskRun* task = pick.task;
            const StageRun& stage = run->chain[task->chain_pos];
            const std::string& stage_name = stage.name;
            v1::SlotRecord* slot = AddSlot(task, centre_id, credit.worker(), now);
            run->live_wages[centre_id] += stage.human.piece_rate_minor();
            ++run->leased[task->chain_pos];
            ++run->granted[centre_id];
            leases_.Hold(centre_id, credit.worker());

            v1::Assignment* a = reply->add_assignments();
            MW_RETURN_IF_ERROR(FillAssignment(*run, *task, *slot, a));
            if (spdlog::should_log(spdlog::level::debug)) {  // its arguments cost, under the lock
              spdlog::debug(
                  "event=lease task={} assignment={} centre={} worker={} epoch={} request={}",
                  a->task_id(), a->assignment_id(), centre_id, credit.worker(), a->epoch(),
                  LoggedKey(request.idempotency_key()));
            }
            reply_bytes += a->ByteSizeLong();
            if (specs_sent.insert(absl::StrCat(task->job_id, "/", stage_name)).second) {
              v1::StageSpec* spec = reply->add_specs();
              FillSpec(*run, stage, spec);
              reply_bytes += spec->ByteSizeLong();
            }
            Touch(run);
          }
        }
        scheduler_->EndCall(centre_id, short_of_work, now);
        granted_now = true;
        return absl::OkStatus();
      });
  // One line a call, after the lock; each grant is a debug line (see results.cc).
  if (leased.ok() && granted_now && leased->assignments_size() > 0) {
    spdlog::info("event=lease centre={} assignments={} request={}", centre_id,
                 leased->assignments_size(), LoggedKey(request.idempotency_key()));
  }
  return leased;
}

v1::SlotRecord* Engine::AddSlot(TaskRun* task, const std::string& centre_id,
                                const std::string& worker, int64_t now) {
  v1::SlotRecord* slot = task->record.add_slots();
  slot->set_worker(worker);
  slot->set_centre(centre_id);
  slot->set_epoch(task->record.epoch() + 1);
  slot->set_state(v1::SLOT_LEASED);
  slot->set_leased_at_ms(now);
  slot->set_lease_expires_at_ms(leases_.ExpiryFrom(now, *slot));
  task->record.set_epoch(slot->epoch());
  const std::string key = catalogue_.KeyOf(*task);
  catalogue_.NoteTask(key);  // written once by Commit, with its creation when that was now
  leases_.Arm(key, *slot);
  return slot;
}

absl::Status Engine::FillAssignment(const JobRun& run, const TaskRun& task,
                                    const v1::SlotRecord& slot, v1::Assignment* a) const {
  const StageRun& stage = run.chain[task.chain_pos];
  const std::string& stage_name = stage.name;
  const std::string task_id = TaskId(task.job_id, stage_name, task.item_index);
  a->set_assignment_id(AssignmentId(task_id, slot.worker()));
  a->set_task_id(task_id);
  a->set_job_id(task.job_id);
  a->set_stage(stage_name);
  a->set_worker(slot.worker());
  a->set_epoch(slot.epoch());
  *a->mutable_item() = task.item;
  // The centre may fetch the item's media with these (FetchMedia).
  for (v1::Field& f : *a->mutable_item()->mutable_fields()) {
    if (!f.has_media()) continue;
    f.mutable_media()->set_fetch_token(MediaToken(slot.centre(), f.media().sha256()));
  }
  a->set_lease_expires_at_ms(slot.lease_expires_at_ms());
  // The pay the worker sees before starting, in their centre's currency.
  if (const FxRate* fx = pay_->CentreRate(run, slot.centre()); fx != nullptr) {
    MW_ASSIGN_OR_RETURN(int64_t local, ConvertMinor(stage.human.piece_rate_minor(), *fx));
    a->set_piece_rate_minor(local);
    a->set_currency(fx->to);
  } else {
    a->set_piece_rate_minor(stage.human.piece_rate_minor());
    a->set_currency(run.record.contract().currency());
  }
  return absl::OkStatus();
}

void Engine::FillSpec(const JobRun& run, const StageRun& stage, v1::StageSpec* spec) const {
  spec->set_job_id(run.record.job().id());
  spec->set_stage(stage.name);
  *spec->mutable_human() = stage.human;
  spec->set_currency(run.record.contract().currency());
  spec->set_client(run.record.contract().client());
}

absl::StatusOr<v1::ReassignReply> Engine::Reassign(const std::string& centre_id,
                                                   const v1::ReassignRequest& r) {
  if (r.decided_by().empty()) return absl::InvalidArgumentError("decided_by: who moves the task");
  MW_ASSIGN_OR_RETURN(auto parts, ParseAssignmentId(r.assignment_id()));
  MW_ASSIGN_OR_RETURN(TaskRef ref, ParseTaskId(parts.first));
  const std::string& from = parts.second;
  if (r.to_worker() == from) {
    return absl::InvalidArgumentError("to_worker: the assignment is that worker's already");
  }
  return Idempotent<v1::ReassignReply>(
      absl::StrCat("centre:", centre_id), r.idempotency_key(), r,
      [&](Batch* batch,
          v1::ReassignReply* reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        JobRun* run = catalogue_.Find(ref.job_id);
        const StageRun* stage = JobCatalogue::FindStage(run, ref.stage);
        // The step's storage key (an iteration's rounds each have their own), not its stage's
        // index.
        TaskRun* open = stage == nullptr
                            ? nullptr
                            : catalogue_.FindTask(keys::Task(ref.job_id, stage->key, ref.item));
        if (open == nullptr) {
          return absl::NotFoundError(
              absl::StrCat("task ", parts.first, " is not open (decided, or no such task)"));
        }
        TaskRun& task = *open;
        v1::SlotRecord* held = nullptr;
        for (auto& slot : *task.record.mutable_slots()) {
          if (slot.worker() == from && slot.centre() == centre_id &&
              slot.state() == v1::SLOT_LEASED) {
            held = &slot;
          }
        }
        if (held == nullptr) {
          return absl::FailedPreconditionError(absl::StrCat(
              r.assignment_id(), " is not leased to this centre now (answered, expired or moved)"));
        }
        const v1::WorkerOnDuty* to = centres_.OnDuty(centre_id, r.to_worker());
        if (to == nullptr) {
          return absl::FailedPreconditionError(
              absl::StrCat("worker ", r.to_worker(), " is not on duty at centre ", centre_id));
        }
        if (HadOrBarred(task.record, r.to_worker())) {
          return absl::FailedPreconditionError(
              absl::StrCat("worker ", r.to_worker(),
                           " has had this task already, or produced the answer it judges"));
        }
        if (!WorkerQualifies(stage->human, *to) ||
            (!task.record.gold() && scheduler_->InTraining(*run, *stage, centre_id, *to))) {
          return absl::FailedPreconditionError(absl::StrCat(
              "worker ", r.to_worker(), " lacks the stage's skills or languages, or still trains"));
        }
        const uint32_t to_held = leases_.HeldBy(centre_id, r.to_worker());
        if (to_held >= options_.max_credit_per_worker) {
          return absl::FailedPreconditionError(absl::StrCat(
              "worker ", r.to_worker(), " holds ", to_held, " assignments, the most allowed"));
        }
        // Everything checked. The first worker's slot is fenced like a skip: an answer from it
        // arrives late and is paid, not counted. The centre's lease count and the job's
        // exposure stay as they are: the same centre holds the task.
        held->set_state(v1::SLOT_SKIPPED);
        leases_.Move(centre_id, from, r.to_worker());
        leases_.Disarm(catalogue_.KeyOf(task), from);
        v1::SlotRecord* slot = AddSlot(&task, centre_id, r.to_worker(), clock_->NowMs());
        MW_RETURN_IF_ERROR(FillAssignment(*run, task, *slot, reply->mutable_assignment()));
        FillSpec(*run, *stage, reply->mutable_spec());
        spdlog::info("event=reassign task={} from={} to={} centre={} epoch={} by=\"{}\"",
                     parts.first, from, r.to_worker(), centre_id, slot->epoch(), r.decided_by());
        Touch(run);
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::HeartbeatReply> Engine::Heartbeat(const std::string& centre_id,
                                                     const v1::HeartbeatRequest& request) {
  const absl::flat_hash_set<std::string> started(request.started().begin(),
                                                 request.started().end());
  // The request's shape first, outside the lock.
  const absl::flat_hash_set<std::string> listed(request.assignment_ids().begin(),
                                                request.assignment_ids().end());
  for (const std::string& id : started) {
    if (!listed.contains(id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("started: ", id, " is not among assignment_ids"));
    }
  }
  v1::HeartbeatReply reply;
  Batch batch;  // the first start of each assignment is kept: it bounds the lease from then on
  uint64_t ticket = 0;
  {
    absl::MutexLock l(&mu_);
    const int64_t now = clock_->NowMs();
    reply.set_lease_expires_at_ms(now + options_.lease_ms);
    for (const std::string& id : request.assignment_ids()) {
      MW_RETURN_IF_ERROR(CheckOwnership(centre_id, id));
    }
    for (const std::string& id : request.assignment_ids()) {
      bool alive = false;
      auto parts = ParseAssignmentId(id);
      auto ref = parts.ok() ? ParseTaskId(parts->first) : absl::StatusOr<TaskRef>(parts.status());
      JobRun* run = ref.ok() ? catalogue_.Find(ref->job_id) : nullptr;
      if (run != nullptr) {
        for (const StageRun& stage : run->chain) {
          if (stage.name != ref->stage) continue;
          const std::string key = keys::Task(ref->job_id, stage.key, ref->item);
          TaskRun* task = catalogue_.FindTask(key);
          if (task == nullptr) break;
          for (auto& slot : *task->record.mutable_slots()) {
            if (slot.worker() == parts->second && slot.centre() == centre_id &&
                slot.state() == v1::SLOT_LEASED) {
              if (started.contains(id) && slot.started_at_ms() == 0) {
                slot.set_started_at_ms(now);
                catalogue_.PutTask(*task, &batch);
              }
              // The extension itself is memory only: after a restart every live lease gets a
              // fresh timer anyway (within its bound).
              const int64_t expires = leases_.ExpiryFrom(now, slot);
              if (expires <= now) break;  // out of time: it expires on the next timer pass
              slot.set_lease_expires_at_ms(expires);
              leases_.Arm(key, slot);
              alive = true;
            }
          }
        }
      }
      if (!alive) reply.add_lost(id);
    }
    if (!batch.Empty()) ticket = Commit(std::move(batch));
  }
  if (ticket != 0) MW_RETURN_IF_ERROR(queue_->WaitDurable(ticket));
  return reply;
}

std::optional<int64_t> Engine::NextExpiry() const {
  absl::MutexLock l(&mu_);
  return leases_.NextExpiry();
}

absl::StatusOr<int> Engine::ExpireLeases() {
  int expired = 0;
  uint64_t ticket = 0;
  {
    absl::MutexLock l(&mu_);
    const int64_t now = clock_->NowMs();
    Batch batch;
    absl::Status s = ExpireDue(now, &batch, &expired);
    if (!s.ok()) {
      // The due timers were taken, and leases expired or jobs stopped in memory before the
      // failure: nothing of them will be written, so memory is ahead of the disk.
      Abandon(s);
      return s;
    }
    if (!batch.Empty()) ticket = Commit(std::move(batch));
  }
  if (ticket != 0) MW_RETURN_IF_ERROR(queue_->WaitDurable(ticket));
  return expired;
}

absl::Status Engine::ExpireDue(int64_t now, Batch* batch, int* expired) {
  MW_RETURN_IF_ERROR(lifecycle_->StopExpired(now, batch, expired));
  for (const LeaseTable::Timer& t : leases_.TakeDue(now)) {
    TaskRun* open = catalogue_.FindTask(t.task_key);
    if (open == nullptr) continue;  // the task is done
    TaskRun& task = *open;
    for (auto& slot : *task.record.mutable_slots()) {
      if (slot.worker() != t.worker || slot.epoch() != t.epoch || slot.state() != v1::SLOT_LEASED ||
          slot.lease_expires_at_ms() > now) {
        continue;  // submitted, or extended by a heartbeat (a later timer covers it)
      }
      slot.set_state(v1::SLOT_EXPIRED);
      JobRun* run = catalogue_.Find(task.job_id);
      const std::string task_id =
          TaskId(task.job_id, run->chain[task.chain_pos].name, task.item_index);
      run->live_wages[slot.centre()] -= run->chain[task.chain_pos].human.piece_rate_minor();
      --run->leased[task.chain_pos];
      leases_.Release(slot.centre(), slot.worker());
      // Gold tasks have no attempts to count: anyone else may take them any time.
      const uint32_t failures = task.record.failed_attempts() + (task.record.gold() ? 0 : 1);
      task.record.set_failed_attempts(failures);
      if (EndedEarly(run->progress.state())) {
        // The job stopped: nobody takes the slot again, and its wage goes back to the client.
        MW_RETURN_IF_ERROR(lifecycle_->RefundRemainder(
            run, absl::StrCat("expired:", AssignmentId(task_id, slot.worker())), batch));
      } else if (!task.record.gold() && leases_.Exhausted(failures)) {
        task.record.set_state(v1::TASK_DEAD);
        ++stats_.dead_tasks;
        spdlog::warn("event=dead_letter task={} attempts={} last_worker={}", task_id, failures,
                     slot.worker());
      } else if (!task.record.gold()) {
        // Exponential backoff with jitter before the slot is offered again.
        task.record.set_next_attempt_at_ms(now + leases_.RetryDelay(failures));
        run->open[task.chain_pos].push_back(t.task_key);
        ++stats_.retries;
      }
      spdlog::info("event=lease_expired task={} worker={} centre={} epoch={} attempts={}", task_id,
                   slot.worker(), slot.centre(), slot.epoch(), failures);
      catalogue_.PutTask(task, batch);
      Touch(run);
      ++stats_.lease_expiries;
      ++*expired;
    }
  }
  return absl::OkStatus();
}

}  // namespace mw::dispatch

namespace mw::dispatch {

std::vector<v1::DeadTask> Engine::ListDeadTasks(const std::string& job_id) const {
  absl::MutexLock l(&mu_);
  std::vector<v1::DeadTask> out;
  for (const auto& [key, task] : catalogue_.tasks()) {
    if (task.record.state() != v1::TASK_DEAD) continue;
    if (!job_id.empty() && task.job_id != job_id) continue;
    const JobRun* run = catalogue_.Find(task.job_id);
    v1::DeadTask d;
    d.set_task_id(TaskId(task.job_id, run->chain[task.chain_pos].name, task.item_index));
    d.set_failed_attempts(task.record.failed_attempts());
    for (const auto& slot : task.record.slots()) d.add_workers(slot.worker());
    *d.mutable_item() = task.item;
    out.push_back(std::move(d));
  }
  std::sort(out.begin(), out.end(),
            [](const v1::DeadTask& a, const v1::DeadTask& b) { return a.task_id() < b.task_id(); });
  return out;
}

absl::StatusOr<v1::DeadTask> Engine::RedriveTask(const v1::RedriveTaskRequest& request) {
  MW_ASSIGN_OR_RETURN(TaskRef ref, ParseTaskId(request.task_id()));
  return Idempotent<v1::DeadTask>(
      kOperatorPrincipal, request.idempotency_key(), request,
      [&](Batch* batch, v1::DeadTask* reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        JobRun* run = catalogue_.Find(ref.job_id);
        int pos = -1;
        for (size_t p = 0; run != nullptr && p < run->chain.size(); ++p) {
          if (run->chain[p].name == ref.stage) {
            pos = static_cast<int>(p);
          }
        }
        const std::string key =
            pos < 0 ? "" : keys::Task(ref.job_id, run->chain[pos].key, ref.item);
        TaskRun* found = pos < 0 ? nullptr : catalogue_.FindTask(key);
        if (found == nullptr) {
          return absl::NotFoundError(absl::StrCat("no open or dead task ", request.task_id()));
        }
        TaskRun& task = *found;
        if (task.record.state() != v1::TASK_DEAD) {
          return absl::FailedPreconditionError(
              absl::StrCat("task ", request.task_id(), " is not in the dead-letter state"));
        }
        reply->set_task_id(request.task_id());
        reply->set_failed_attempts(task.record.failed_attempts());
        task.record.set_state(v1::TASK_OPEN);
        task.record.set_failed_attempts(0);
        task.record.set_next_attempt_at_ms(0);
        run->open[pos].push_back(key);
        --stats_.dead_tasks;
        catalogue_.PutTask(task, batch);
        Touch(run);
        spdlog::info("event=redrive task={}", request.task_id());
        return absl::OkStatus();
      });
}

}  // namespace mw::dispatch
