#include "worker-agent/agent.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace mw::agent {

Agent::Agent(centre::AgentState* state, DispatcherLink* link, const Clock* clock, Options options)
    : state_(state),
      link_(link),
      clock_(clock),
      options_(std::move(options)),
      jitter_(options_.jitter_seed) {}

Agent::~Agent() { Stop(); }

bool Agent::WaitOrStop(absl::Duration d, const bool* flag) {
  absl::MutexLock l(&mu_);
  auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || (flag != nullptr && *flag);
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), d);
  return stopping_;
}

absl::Duration Agent::Backoff(int failures) {
  // Exponential from 200 ms, capped, with full jitter so centres do not retry in step.
  absl::Duration cap = absl::Milliseconds(200) * (1 << std::min(failures, 10));
  if (cap > options_.max_backoff) cap = options_.max_backoff;
  absl::MutexLock l(&mu_);
  std::uniform_real_distribution<double> u(0.5, 1.0);
  return cap * u(jitter_);
}

void Agent::Start(std::vector<std::string> simulated) {
  {
    absl::MutexLock l(&mu_);
    on_duty_ = simulated;
  }
  if (options_.media != nullptr) {
    MediaCache* media = options_.media;
    state_->SetReady([media](const v1::CachedAssignment& a) {
      for (const v1::Field& f : a.assignment().item().fields()) {
        if (f.has_media() && !media->Has(f.media().sha256())) return false;
      }
      return true;
    });
  }
  threads_.emplace_back([this, simulated] {
    RegisterUntilDone();
    {
      absl::MutexLock l(&mu_);
      if (stopping_) return;
    }
    std::vector<std::thread> loops;
    loops.emplace_back([this] { LeaseLoop(); });
    loops.emplace_back([this] { SyncLoop(); });
    if (options_.media != nullptr) loops.emplace_back([this] { PrefetchLoop(); });
    for (const auto& w : simulated) loops.emplace_back([this, w] { WorkerLoop(w); });
    for (auto& t : loops) t.join();
  });
}

void Agent::Stop() {
  {
    absl::MutexLock l(&mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
}

Agent::Stats Agent::stats() const {
  absl::MutexLock l(&mu_);
  return stats_;
}

void Agent::SetOnDuty(const std::string& pseudonym, bool on_duty) {
  absl::MutexLock l(&mu_);
  auto it = std::find(on_duty_.begin(), on_duty_.end(), pseudonym);
  if (on_duty && it == on_duty_.end()) {
    on_duty_.push_back(pseudonym);
    // Back before the release ran: what they hold stays theirs.
    release_.erase(std::remove(release_.begin(), release_.end(), pseudonym), release_.end());
    lease_wanted_ = true;
  } else if (!on_duty && it != on_duty_.end()) {
    on_duty_.erase(it);
    release_.push_back(pseudonym);
    sync_wanted_ = true;
  }
}

void Agent::ReleaseOffDuty() {
  std::vector<std::string> workers;
  {
    absl::MutexLock l(&mu_);
    workers.swap(release_);
  }
  for (const auto& w : workers) {
    // What an off-duty worker holds goes back at once, as skipped, rather than lapsing later
    // (which would count as a failed attempt against the task).
    for (const auto& held : state_->HeldBy(w)) {
      v1::Result r = centre::ResultFor(held.assignment(), w, clock_->NowMs());
      r.mutable_answer()->set_skipped(true);
      r.mutable_answer()->set_skip_reason("released: the worker went off duty");
      if (absl::Status s = state_->SaveAnswer(r); !s.ok()) {
        spdlog::warn("event=release_failed worker={} error=\"{}\"", w, s.ToString());
      }
    }
  }
}

void Agent::RosterChanged() {
  absl::MutexLock l(&mu_);
  register_wanted_ = true;
  lease_wanted_ = true;
}

void Agent::AnswerSaved() {
  absl::MutexLock l(&mu_);
  sync_wanted_ = true;
  lease_wanted_ = true;
}

bool Agent::online() const {
  absl::MutexLock l(&mu_);
  return online_;
}

std::vector<std::string> Agent::OnDuty() const {
  absl::MutexLock l(&mu_);
  return on_duty_;
}

// Everyone on the roster is registered (the dispatcher checks a lease's worker against it); only
// those on duty are leased for.
absl::Status Agent::RegisterOnce() {
  v1::RegisterRequest req;
  for (const auto& e : state_->Roster()) {
    v1::WorkerOnDuty* w = req.add_workers();
    w->set_worker(e.pseudonym());
    *w->mutable_skills() = e.skills();
    *w->mutable_languages() = e.languages();
    w->set_training_level(e.training_level());
  }
  req.set_agent_version("mw-agent 0.1");
  auto reply = link_->Register(req);
  absl::MutexLock l(&mu_);
  online_ = reply.ok();
  if (!reply.ok()) return reply.status();
  lease_ms_ = int64_t{reply->lease_seconds()} * 1000;
  spdlog::info("event=registered centre={} workers={} lease_seconds={}", reply->centre().id(),
               req.workers_size(), reply->lease_seconds());
  return absl::OkStatus();
}

void Agent::RegisterUntilDone() {
  for (int failures = 0;; ++failures) {
    absl::Status s = RegisterOnce();
    if (s.ok()) return;
    spdlog::warn("event=register_failed error=\"{}\"", s.ToString());
    if (WaitOrStop(Backoff(failures), nullptr)) return;
  }
}

std::vector<v1::WorkerCredit> LeaseCredits(const centre::AgentState& state,
                                           const std::vector<std::string>& on_duty,
                                           uint32_t lease_buffer, uint32_t distressing_per_day,
                                           int64_t now_ms) {
  std::vector<v1::WorkerCredit> credits;
  for (const auto& w : on_duty) {
    const size_t held = state.HeldFor(w);
    if (held >= lease_buffer) continue;
    v1::WorkerCredit c;
    c.set_worker(w);
    c.set_count(static_cast<uint32_t>(lease_buffer - held));
    if (distressing_per_day > 0) {
      // A day that cannot be read counts as past the cap: no distressing work rather than too
      // much.
      absl::StatusOr<centre::WorkDone> today = state.WorkSince(w, centre::LocalDayStart(now_ms));
      if (!today.ok() || today->distressing >= distressing_per_day) c.set_no_distressing(true);
    }
    centre::AgentState::Reserved others = state.ReservedForOthers(w);
    for (auto& stage : others.stages) c.add_exclude_stages(std::move(stage));
    for (auto& batch : others.batches) *c.add_exclude_batches() = std::move(batch);
    credits.push_back(std::move(c));
  }
  return credits;
}

absl::Status Agent::LeaseOnce(bool* got_work) {
  *got_work = false;
  {
    bool again;
    {
      absl::MutexLock l(&mu_);
      again = register_wanted_;
      register_wanted_ = false;
    }
    if (again) {
      if (absl::Status s = RegisterOnce(); !s.ok()) {
        absl::MutexLock l(&mu_);
        register_wanted_ = true;
        return s;
      }
    }
  }
  const std::vector<v1::WorkerCredit> credits = LeaseCredits(
      *state_, OnDuty(), options_.lease_buffer, options_.distressing_per_day, clock_->NowMs());
  if (credits.empty()) return absl::OkStatus();
  auto request = state_->PendingLease(credits);
  if (!request.ok()) return request.status();
  auto reply = link_->Lease(*request);
  {
    absl::MutexLock l(&mu_);
    online_ = reply.ok() || !Retryable(reply.status());
  }
  if (!reply.ok()) {
    if (failing_lease_key_ != request->idempotency_key()) {
      failing_lease_key_ = request->idempotency_key();
      lease_failures_ = 0;
    }
    ++lease_failures_;
    if (!ResendLease(reply.status(), lease_failures_)) {
      // Refused for good (the roster changed under it, say), or again and again: drop it and
      // ask afresh. Anything it was granted expires at the dispatcher and is offered again.
      spdlog::warn("event=lease_refused key={} failures={} error=\"{}\"",
                   request->idempotency_key(), lease_failures_, reply.status().ToString());
      if (absl::Status s = state_->AbandonLease(); !s.ok()) return s;
    }
    return reply.status();
  }
  lease_failures_ = 0;
  if (absl::Status s = state_->SaveLease(*reply); !s.ok()) return s;
  if (reply->assignments_size() > 0) {
    *got_work = true;
    absl::MutexLock l(&mu_);
    ++work_epoch_;
    prefetch_wanted_ = true;
    stats_.leased += reply->assignments_size();
  }
  return absl::OkStatus();
}

bool ResendLease(const absl::Status& status, int failures) {
  if (!Retryable(status)) return false;
  if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) return true;
  return failures < kMaxLeaseRefusals;
}

absl::Status Agent::HeartbeatOnce() {
  v1::HeartbeatRequest req;
  for (auto& id : state_->HeldIds()) req.add_assignment_ids(std::move(id));
  if (req.assignment_ids().empty()) return absl::OkStatus();
  // Opened since the list above was read: an id not in it would be refused, so check.
  const absl::flat_hash_set<std::string> held(req.assignment_ids().begin(),
                                              req.assignment_ids().end());
  for (auto& id : state_->OpenedIds()) {
    if (held.contains(id)) req.add_started(std::move(id));
  }
  auto reply = link_->Heartbeat(req);
  if (!reply.ok()) return reply.status();
  if (reply->lost().empty()) return absl::OkStatus();
  spdlog::info("event=leases_lost count={}", reply->lost_size());
  return state_->DropAssignments({reply->lost().begin(), reply->lost().end()});
}

void Agent::LeaseLoop() {
  int failures = 0;
  absl::Time next_heartbeat = absl::Now();
  for (;;) {
    absl::Duration wait = options_.idle_poll;
    if (absl::Now() >= next_heartbeat) {
      absl::Status hb = HeartbeatOnce();
      int64_t lease_ms;
      {
        absl::MutexLock l(&mu_);
        lease_ms = lease_ms_;
      }
      next_heartbeat = absl::Now() + absl::Milliseconds(lease_ms / 3);
      if (!hb.ok()) spdlog::warn("event=heartbeat_failed error=\"{}\"", hb.ToString());
    }
    bool got_work = false;
    absl::Status s = LeaseOnce(&got_work);
    if (s.ok()) {
      failures = 0;
      if (got_work) wait = absl::ZeroDuration();  // fill every buffer before resting
    } else {
      wait = Backoff(failures++);
      spdlog::warn("event=lease_failed error=\"{}\" retry_in_ms={}", s.ToString(),
                   absl::ToInt64Milliseconds(wait));
    }
    {
      absl::MutexLock l(&mu_);
      lease_wanted_ = false;
    }
    // After a failure, the backoff holds even if a worker asks for work meanwhile: an outage
    // must not turn into a tight retry loop.
    if (WaitOrStop(wait, s.ok() ? &lease_wanted_ : nullptr)) return;
  }
}

absl::Status Agent::SyncOnce(bool* more) {
  *more = false;
  ReleaseOffDuty();
  std::vector<v1::Result> pending = state_->PendingResults(options_.sync_batch);
  if (pending.empty()) {
    ShareVoice();
    return absl::OkStatus();
  }
  v1::SubmitResultsRequest req;
  for (auto& r : pending) *req.add_results() = std::move(r);
  auto reply = link_->SubmitResults(req);
  if (!reply.ok()) return reply.status();
  std::vector<v1::Receipt> receipts(reply->receipts().begin(), reply->receipts().end());
  for (const auto& r : receipts) {
    if (r.status() == v1::RECEIPT_QUARANTINED || r.status() == v1::RECEIPT_CONFLICT) {
      spdlog::warn("event=result_quarantined result_id={} detail=\"{}\"", r.result_id(),
                   r.detail());
    }
  }
  if (absl::Status s = state_->ApplyReceipts(receipts); !s.ok()) return s;
  for (const auto& r : receipts) {
    if (r.promoted()) {
      RosterChanged();  // the new training level goes upstream
      break;
    }
  }
  if (!options_.receipt_log.empty()) {
    std::ofstream log(options_.receipt_log, std::ios::app);
    for (const auto& r : receipts) {
      log << r.result_id() << " " << v1::ReceiptStatus_Name(r.status()) << "\n";
    }
  }
  ShareVoice();
  absl::MutexLock l(&mu_);
  stats_.results_sent += receipts.size();
  stats_.last_sync_ok_ms = clock_->NowMs();
  *more = pending.size() == options_.sync_batch;
  return absl::OkStatus();
}

void Agent::ShareVoice() {
  const int64_t now = clock_->NowMs();
  centre::VoiceBook& voice = state_->voice();
  // This runs after every sync: with nothing new since the last share and the refresh not due,
  // it reads nothing.
  const bool due = now - voice_shared_ms_ >= absl::ToInt64Milliseconds(options_.voice_refresh);
  if (!due && voice.changes() == voice_changes_shared_) return;
  if (due) {
    if (auto n = voice.Escalate(now, absl::ToInt64Milliseconds(options_.complaint_escalation));
        !n.ok()) {
      spdlog::warn("event=complaints_not_escalated error=\"{}\"", n.status().ToString());
    } else if (*n > 0) {
      spdlog::info("event=complaints_escalated count={}", *n);
    }
  }
  const uint64_t changes = voice.changes();
  v1::ShareVoiceRequest req = voice.Unshared();
  auto reply = link_->ShareVoice(req);
  if (!reply.ok()) {
    spdlog::warn("event=voice_not_shared error=\"{}\"", reply.status().ToString());
    return;
  }
  for (int i = 0; i < reply->rating_refusals_size() && i < req.ratings_size(); ++i) {
    if (!reply->rating_refusals(i).empty()) {
      spdlog::warn("event=rating_refused job={} why=\"{}\"", req.ratings(i).job_id(),
                   reply->rating_refusals(i));
    }
  }
  for (int i = 0; i < reply->flag_refusals_size() && i < req.flags_size(); ++i) {
    if (!reply->flag_refusals(i).empty()) {
      spdlog::warn("event=flag_refused task={} why=\"{}\"", req.flags(i).task_id(),
                   reply->flag_refusals(i));
    }
  }
  for (int i = 0; i < reply->complaint_refusals_size() && i < req.complaints_size(); ++i) {
    if (!reply->complaint_refusals(i).empty()) {
      spdlog::warn("event=complaint_refused id={} why=\"{}\"", req.complaints(i).id(),
                   reply->complaint_refusals(i));
    }
  }
  if (absl::Status s = voice.Shared(req, *reply, now); !s.ok()) {
    spdlog::warn("event=voice_not_marked error=\"{}\"", s.ToString());
    return;
  }
  voice_shared_ms_ = now;
  voice_changes_shared_ = changes;
}

void Agent::SyncLoop() {
  int failures = 0;
  for (;;) {
    bool more = false;
    absl::Status s = SyncOnce(&more);
    absl::Duration wait = options_.sync_backstop;
    if (!s.ok()) {
      wait = Backoff(failures++);
      absl::MutexLock l(&mu_);
      ++stats_.sync_failures;
      spdlog::warn("event=sync_failed error=\"{}\" retry_in_ms={}", s.ToString(),
                   absl::ToInt64Milliseconds(wait));
    } else {
      failures = 0;
      if (more) wait = absl::ZeroDuration();
    }
    bool stopping;
    {
      absl::MutexLock l(&mu_);
      stopping = stopping_;
      if (s.ok()) sync_wanted_ = false;
    }
    if (stopping) {
      // One last attempt after a failure, then drain while the dispatcher answers; whatever
      // is left waits in the outbox for the next start.
      if (!s.ok()) s = SyncOnce(&more);
      while (s.ok() && more) s = SyncOnce(&more);
      return;
    }
    WaitOrStop(wait, s.ok() ? &sync_wanted_ : nullptr);  // backoff holds after a failure
  }
}

absl::Status Agent::PrefetchOnce() {
  MediaCache* media = options_.media;
  const int64_t now = clock_->NowMs();
  const std::vector<v1::Media> needed = state_->HeldMedia();
  absl::flat_hash_set<std::string> keep;
  for (const v1::Media& m : needed) keep.insert(m.sha256());
  // Files no held assignment names go once every answer is acknowledged, or sooner when the
  // disk budget runs short (an answered task's file is not needed to send its answer).
  if (state_->Outbox().depth == 0 || media->bytes() >= media->budget() / 4 * 3) {
    // What is held now, not `keep`: a lease saved since names files that must stay.
    state_->WithHeldMedia(
        [media](const absl::flat_hash_set<std::string>& held) { media->Retain(held); });
  }
  absl::Status link_error;
  bool fetched = false;
  for (const v1::Media& m : needed) {
    if (media->Has(m.sha256())) continue;
    media_waiting_since_.emplace(m.sha256(), now);
    if (!link_error.ok()) continue;  // the link is down: try later
    absl::Status s = media->Fetch(
        m, [this](const v1::Media& file, uint64_t offset, const MediaCache::Sink& sink) {
          return link_->FetchMedia(file, offset, sink);
        });
    if (s.ok()) {
      fetched = true;
      media_waiting_since_.erase(m.sha256());
    } else if (Retryable(s) && !absl::IsResourceExhausted(s)) {
      link_error = s;
    } else {
      // This file only (too large for what is left of the budget, refused, not the bytes
      // named): the others go on; its tasks wait and the lag metric shows it.
      spdlog::warn("event=media_fetch_failed sha256={} error=\"{}\"", m.sha256(), s.ToString());
    }
  }
  for (auto it = media_waiting_since_.begin(); it != media_waiting_since_.end();) {
    if (keep.contains(it->first) && !media->Has(it->first)) {
      ++it;
    } else {
      media_waiting_since_.erase(it++);
    }
  }
  int64_t oldest = now;
  for (const auto& [sha, since] : media_waiting_since_) oldest = std::min(oldest, since);
  absl::MutexLock l(&mu_);
  stats_.media_waiting = media_waiting_since_.size();
  stats_.media_lag_seconds = (now - oldest) / 1000.0;
  stats_.media_cache_bytes = media->bytes();
  stats_.media_fetched_bytes = media->fetched_bytes();
  if (fetched) ++work_epoch_;  // workers waiting for these files may start
  return link_error;
}

void Agent::PrefetchLoop() {
  int failures = 0;
  for (;;) {
    {
      absl::MutexLock l(&mu_);
      prefetch_wanted_ = false;
    }
    absl::Status s = PrefetchOnce();
    if (!s.ok()) {
      ++failures;
      spdlog::warn("event=media_prefetch_paused error=\"{}\"", s.ToString());
    } else {
      failures = 0;
    }
    const absl::Duration wait = s.ok() ? options_.idle_poll : Backoff(failures);
    if (WaitOrStop(wait, s.ok() ? &prefetch_wanted_ : nullptr)) return;
  }
}

void Agent::WorkerLoop(const std::string& worker) {
  for (;;) {
    std::optional<v1::CachedAssignment> a = state_->OpenNext(worker);
    if (!a.has_value()) {
      uint64_t epoch;
      {
        absl::MutexLock l(&mu_);
        if (stopping_) return;
        epoch = work_epoch_;
        lease_wanted_ = true;
        auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || work_epoch_ != epoch;
        };
        mu_.AwaitWithTimeout(absl::Condition(&ready), options_.idle_poll);
      }
      continue;
    }
    SimulatedAnswer sim = Simulate(options_.crowd, worker, *a);
    if (options_.time_scale > 0 &&
        WaitOrStop(absl::Seconds(sim.active_seconds * options_.time_scale), nullptr)) {
      return;  // the shift ended mid-task: nothing is saved, the lease will lapse
    }
    v1::Result r = centre::ResultFor(a->assignment(), worker, clock_->NowMs());
    *r.mutable_answer() = sim.answer;
    r.set_active_seconds(sim.active_seconds);
    if (absl::Status s = state_->SaveAnswer(r); !s.ok()) {
      spdlog::error("event=save_failed error=\"{}\"", s.ToString());
      if (WaitOrStop(absl::Seconds(1), nullptr)) return;
      continue;
    }
    absl::MutexLock l(&mu_);
    sync_wanted_ = true;
    lease_wanted_ = true;
    if (!sim.truth_known && !options_.crowd.truth_field.empty() &&
        guessed_stages_.insert(a->assignment().stage()).second) {
      spdlog::warn(
          "event=sim_truth_missing stage={} task={} truth_field={}: the truth file has no answer "
          "for this item, so simulated workers guess on this stage's items it lacks",
          a->assignment().stage(), a->assignment().task_id(), options_.crowd.truth_field);
    }
  }
}

}  // namespace mw::agent
