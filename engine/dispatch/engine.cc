// Engine: opening, recovery, jobs, centres, idempotency and the ledger's read side.
// Leasing is in leasing.cc, results and verdicts in results.cc, submissions in submission.cc.
#include "engine/dispatch/engine.h"

#include <spdlog/spdlog.h>

#include <tuple>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "engine/common/ids.h"
#include "engine/common/money.h"
#include "engine/common/proto_bytes.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"
#include "engine/dispatch/answers.h"
#include "engine/dispatch/plan.h"
#include "engine/dispatch/routing.h"
#include "engine/storage/keys.h"
#include "engine/storage/record.h"

namespace mw::dispatch {

using storage::Batch;
using storage::Cf;
namespace keys = storage::keys;

namespace {

constexpr char kNextJobKey[] = "next_job";
constexpr char kMediaKey[] = "media_key";
// The keys this dispatcher writes: 1 since transfer ids are keyed with their kind last
// (keys::TransferIdIndex). A store a newer dispatcher wrote is refused rather than read with the
// wrong keys: a transfer id looked up under another encoding reads as not applied, and a payment
// retried would be paid again. (Dispatchers before this marker do not look for it.)
constexpr char kStoreFormatKey[] = "store_format";
constexpr int kStoreFormat = 1;

}  // namespace

Engine::Engine(std::unique_ptr<storage::Store> store, const Clock* clock, const Options& options)
    : clock_(clock),
      options_(options),
      store_(std::move(store)),
      queue_(std::make_unique<storage::CommitQueue>(store_.get())),
      catalogue_(store_.get()),
      leases_(LeaseTable::Options{.lease_ms = options.lease_ms,
                                  .schedule_to_start_ms = options.schedule_to_start_ms,
                                  .start_to_close_ms = options.start_to_close_ms,
                                  .max_attempts = options.max_attempts,
                                  .retry_base_ms = options.retry_base_ms,
                                  .retry_max_ms = options.retry_max_ms,
                                  .seed = options.seed}),
      idempotency_(std::make_unique<IdempotencyTable>(store_.get())) {
  store_->OnWriteFailure([on_failure = options.on_write_failure](const absl::Status& s) {
    spdlog::critical(
        "event=disk_write_failed error=\"{}\" what=\"nothing more can be made durable; every "
        "call fails until a restart recovers from the disk\"",
        s.ToString());
    if (on_failure) on_failure(s);
  });
}

Engine::~Engine() { queue_.reset(); }

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(const std::string& data_dir,
                                                     const Clock* clock, const Options& options) {
  MW_ASSIGN_OR_RETURN(auto store,
                      storage::Store::Open(data_dir, storage::Schema::kDispatcher, options.store));
  std::unique_ptr<Engine> engine(new Engine(std::move(store), clock, options));
  MW_RETURN_IF_ERROR(engine->Recover());
  return engine;
}

absl::Status Engine::Recover() {
  absl::MutexLock l(&mu_);
  MW_ASSIGN_OR_RETURN(std::optional<std::string> format,
                      store_->Get(Cf::kMeta, keys::Meta(kStoreFormatKey)));
  int stored_format = 0;
  if (format.has_value() && !absl::SimpleAtoi(*format, &stored_format)) {
    return absl::DataLossError(
        absl::StrCat("meta store_format \"", absl::CHexEscape(*format), "\" is not a number"));
  }
  if (stored_format > kStoreFormat) {
    return absl::FailedPreconditionError(
        absl::StrCat("the store in ", store_->dir(), " has format ", stored_format,
                     ", written by a newer mw-dispatcher; this one reads formats up to ",
                     kStoreFormat, ": run the newer one"));
  }
  MW_ASSIGN_OR_RETURN(ledger_, ledger::Ledger::Load(store_.get(), clock_));

  MW_ASSIGN_OR_RETURN(auto next, store_->Get(Cf::kMeta, keys::Meta(kNextJobKey)));
  if (uint64_t n; next.has_value()) {
    if (!absl::SimpleAtoi(*next, &n)) return absl::DataLossError("meta next_job is not a number");
    catalogue_.SetNextNumber(n);
  }
  MW_ASSIGN_OR_RETURN(std::optional<std::string> media_key,
                      store_->Get(Cf::kMeta, keys::Meta(kMediaKey)));
  if (media_key.has_value()) {
    // Replacing it would void every token out on lease: a wrong one is damage, not a default.
    if (media_key->size() != 32) return absl::DataLossError("meta media_key is not 32 bytes");
    media_key_ = *media_key;
  } else {
    media_key_ = RandomBytes(32);
    Batch batch;
    batch.Put(Cf::kMeta, keys::Meta(kMediaKey), media_key_);
    MW_RETURN_IF_ERROR(store_->Write(std::move(batch), storage::Durability::kSynced));
  }
  // A store written before result ids were keyed id first: moved over once, before any call.
  MW_RETURN_IF_ERROR(IdempotencyTable::MoveCentreFirstResultIds(store_.get()).status());
  if (stored_format < kStoreFormat) {  // every key moved over above
    Batch batch;
    batch.Put(Cf::kMeta, keys::Meta(kStoreFormatKey), absl::StrCat(kStoreFormat));
    MW_RETURN_IF_ERROR(store_->Write(std::move(batch), storage::Durability::kSynced));
  }
  MW_RETURN_IF_ERROR(centres_.Load(store_.get()));
  MW_RETURN_IF_ERROR(staff_.Load(store_.get()));
  MW_RETURN_IF_ERROR(voice_.Load(store_.get()));
  pay_ = std::make_unique<Paymaster>(ledger_.get(), &centres_);
  scheduler_ = std::make_unique<Scheduler>(&catalogue_, &centres_, &workers_, pay_.get(),
                                           options_.fair_share_window_ms);
  lifecycle_ = std::make_unique<JobLifecycle>(JobLifecycle::Parts{
      .jobs = &catalogue_,
      .ledger = ledger_.get(),
      .pay = pay_.get(),
      .leases = &leases_,
      .clock = clock_,
      .stats = &stats_,
      .changed = [this](JobRun* run) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { Touch(run); },
      .ended = [this](const std::string& job_id)
                   ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { workers_.Retire(job_id); }});
  verdicts_ =
      std::make_unique<VerdictRecorder>(VerdictRecorder::Parts{.jobs = &catalogue_,
                                                               .pay = pay_.get(),
                                                               .workers = &workers_,
                                                               .lifecycle = lifecycle_.get(),
                                                               .clock = clock_,
                                                               .stats = &stats_});
  contributions_ = std::make_unique<ContributionRecorder>(
      ContributionRecorder::Parts{.jobs = &catalogue_,
                                  .idempotency = idempotency_.get(),
                                  .leases = &leases_,
                                  .pay = pay_.get(),
                                  .workers = &workers_,
                                  .centres = &centres_,
                                  .scheduler = scheduler_.get(),
                                  .clock = clock_,
                                  .stats = &stats_,
                                  .max_time_multiple = options_.max_time_multiple});
  MW_ASSIGN_OR_RETURN(auto payouts, store_->Get(Cf::kMeta, keys::Meta("next_payout")));
  if (payouts.has_value() && !absl::SimpleAtoi(*payouts, &next_payout_)) {
    return absl::DataLossError("meta next_payout is not a number");
  }
  for (auto c = store_->Scan(Cf::kReviews, ""); c->Valid(); c->Next()) {
    v1::Review review;
    MW_RETURN_IF_ERROR(c->Read(&review));
    stats_.reviews_open += !review.decided();
  }
  for (auto c = store_->Scan(Cf::kJobs, ""); c->Valid(); c->Next()) {
    v1::JobRecord record;
    MW_RETURN_IF_ERROR(c->Read(&record));
    v1::JobProgressRecord progress;
    MW_RETURN_IF_ERROR(
        store_->GetRecord(Cf::kJobProgress, keys::Job(record.job().id()), &progress));
    const std::string id = record.job().id();
    auto n = JobNumber(id);
    if (!n.has_value()) return absl::DataLossError(absl::StrCat("stored job id ", id));
    MW_ASSIGN_OR_RETURN(JobRun run, BuildJobRun(std::move(record), std::move(progress)));
    catalogue_.Add(*n, std::move(run));
    MW_RETURN_IF_ERROR(RecoverJob(id));
  }
  // With the jobs known: the workers' records on those that ended stay in the store.
  MW_RETURN_IF_ERROR(
      workers_.Load(*store_, [this](absl::string_view job_id) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        // Called by the book, under the lock its caller holds.
        const std::optional<uint64_t> n = JobNumber(job_id);
        if (!n.has_value()) return false;
        auto it = catalogue_.jobs().find(*n);
        return it != catalogue_.jobs().end() && IsFinal(it->second.progress.state());
      }));

  // Items staged by submissions that never finished belong to no job: delete them.
  std::string start;
  for (;;) {
    auto c = store_->ScanFrom(Cf::kItems, "", start);
    if (!c->Valid()) break;
    keys::KeyReader r(c->key());
    std::string job_id;
    if (!r.ReadString(&job_id)) return absl::DataLossError("malformed item key");
    const std::string prefix = keys::JobPrefix(job_id);
    if (catalogue_.Find(job_id) == nullptr)
      MW_RETURN_IF_ERROR(store_->DeletePrefix(Cf::kItems, prefix));
    auto after = keys::PrefixSuccessor(prefix);
    if (!after.has_value()) break;
    start = *after;
  }
  return absl::OkStatus();
}

absl::Status Engine::RecoverJob(const std::string& job_id) {
  JobRun* run = catalogue_.Find(job_id);
  if (run->progress.state() == v1::JOB_COMPLETED) return absl::OkStatus();
  const int64_t now = clock_->NowMs();
  for (size_t pos = 0; pos < run->chain.size(); ++pos) {
    const StageRun& stage = run->chain[pos];
    // Tasks, items and contributions are all keyed in item order: one cursor each, walked in
    // step, instead of a lookup and a fresh iterator per task (a large job restarts in a
    // fraction of the time).
    auto items = store_->Scan(Cf::kItems, keys::JobPrefix(job_id));
    auto contributions = store_->Scan(Cf::kContributions, keys::StagePrefix(job_id, stage.key));
    for (auto c = store_->Scan(Cf::kTasks, keys::StagePrefix(job_id, stage.key)); c->Valid();
         c->Next()) {
      v1::TaskRecord rec;
      MW_RETURN_IF_ERROR(c->Read(&rec));
      if (rec.state() != v1::TASK_OPEN && rec.state() != v1::TASK_DEAD) continue;
      auto key = keys::ParseTask(c->key());
      if (!key.has_value()) return absl::DataLossError("malformed task key");
      if (EndedEarly(run->progress.state())) {
        // The job ended: nothing of it is open; a lease out then may still be answered for one
        // more lease period, its wage kept in escrow (JobLifecycle).
        for (const auto& slot : rec.slots()) {
          if (slot.state() != v1::SLOT_LEASED) continue;
          run->settling[AssignmentId(TaskId(job_id, stage.name, key->item), slot.worker())] = {
              .centre = slot.centre(),
              .rate = stage.human.piece_rate_minor(),
              .until_ms = leases_.ExpiryFrom(now, slot)};
          run->live_wages[slot.centre()] += stage.human.piece_rate_minor();
        }
        continue;
      }
      TaskRun task;
      task.job_id = job_id;
      task.chain_pos = static_cast<int>(pos);
      task.item_index = key->item;
      const std::string item_key = keys::Item(job_id, key->item);
      while (items->Valid() && items->key() < item_key) items->Next();
      if (!items->Valid() || items->key() != item_key) {
        MW_RETURN_IF_ERROR(items->status());
        return absl::DataLossError(absl::StrCat("task ", c->key(), " has no item"));
      }
      MW_RETURN_IF_ERROR(items->Read(&task.item));
      // A later step sees the verdicts of the steps before it as fields (gold items carry their
      // own): the item's path so far, replayed from the stored verdicts.
      if (!rec.gold()) {
        MW_ASSIGN_OR_RETURN(FlowReplay path, ReplayItem(job_id, run->chain, task.item));
        auto at = std::find_if(
            path.waiting.begin(), path.waiting.end(),
            [&](const FlowReplay::Waiting& w) { return w.pos == static_cast<int>(pos); });
        if (at == path.waiting.end()) {
          return absl::DataLossError(absl::StrCat("task ", c->key(), " is open at step ", pos,
                                                  " but its item's verdicts do not lead there"));
        }
        task.item = std::move(at->item);
      }
      while (contributions->Valid() && contributions->key() < c->key()) contributions->Next();
      for (; contributions->Valid() && absl::StartsWith(contributions->key(), c->key());
           contributions->Next()) {
        v1::ContributionRecord contribution;
        MW_RETURN_IF_ERROR(contributions->Read(&contribution));
        if (contribution.counted()) {
          const v1::Result& r = contribution.result();
          task.answers.push_back({r.worker(), AnswerLabel(r.answer()), r.answer().text()});
        }
      }
      for (auto& slot : *rec.mutable_slots()) {
        if (slot.state() != v1::SLOT_LEASED) continue;
        slot.set_lease_expires_at_ms(leases_.ExpiryFrom(now, slot));
        leases_.Arm(std::string(c->key()), slot);
        run->live_wages[slot.centre()] += stage.human.piece_rate_minor();
        ++run->leased[pos];
        leases_.Hold(slot.centre(), slot.worker());
      }
      task.record = std::move(rec);
      if (task.record.gold()) {
        run->gold[pos].push_back(std::string(c->key()));
      } else if (task.record.state() == v1::TASK_DEAD) {
        ++stats_.dead_tasks;
      } else if (FreeSlots(task.record) > 0) {
        run->open[pos].push_back(std::string(c->key()));
      }
      MW_RETURN_IF_ERROR(catalogue_.AddTask(std::string(c->key()), std::move(task)).status());
    }
  }
  return absl::OkStatus();
}

v1::Job Engine::JobView(const JobRun& run) const {
  v1::Job job = run.record.job();
  job.set_state(run.progress.state());
  job.set_completed_at_ms(run.progress.completed_at_ms());
  job.set_wages_reserved_minor(run.progress.wages_reserved_minor());
  job.set_wages_posted_minor(run.progress.wages_posted_minor());
  job.set_fees_minor(run.progress.fee().charged_minor());
  int64_t shares = 0;
  for (const auto& [centre, accrual] : run.progress.centre_shares()) {
    shares += accrual.charged_minor();
  }
  job.set_centre_shares_minor(shares);
  job.set_refunded_minor(run.progress.refunded_minor());
  if (!IsFinal(run.progress.state())) {
    job.set_waiting_for(
        absl::StrJoin(UnservableSteps(run.record.contract(), run.chain, centres_.Sorted()), "\n"));
  }
  const v1::Contract& c = run.record.contract();
  for (int i = 0; i < c.stages_size(); ++i) {
    const v1::StageCursor& cur = run.progress.stages(i);
    v1::StageProgress* p = job.add_stages();
    p->set_stage(c.stages(i).name());
    p->set_total(cur.total());
    p->set_done(cur.done());
    p->set_contributions(cur.contributions());
    p->set_quarantined(cur.quarantined());
    if (c.stages(i).has_human()) {
      *p->mutable_answer() = c.stages(i).human().answer();
    } else if (c.stages(i).has_iterate()) {
      *p->mutable_answer() = c.stages(i).iterate().improve().answer();
    } else if (c.stages(i).has_verify()) {
      for (const char* o : {kYes, kNo})
        p->mutable_answer()->mutable_single_choice()->add_options(o);
    }
    for (size_t pos = 0; pos < run.chain.size(); ++pos) {
      if (run.chain[pos].index == i) p->set_leased(p->leased() + run.leased[pos]);
    }
  }
  // Achieved shares beside the weighted targets, among the centres that contributed.
  const std::map<std::string, uint64_t> by_centre(run.progress.centre_contributions().begin(),
                                                  run.progress.centre_contributions().end());
  uint64_t total = 0, weights = 0;
  for (const auto& [centre, n] : by_centre) {
    total += n;
    weights += centres_.ShareWeight(centre);
  }
  for (const auto& [centre, n] : by_centre) {
    v1::CentreShare* share = job.add_shares();
    share->set_centre(centre);
    share->set_weight(static_cast<uint32_t>(centres_.ShareWeight(centre)));
    share->set_contributions(n);
    share->set_achieved(total == 0 ? 0 : static_cast<double>(n) / total);
    share->set_target(static_cast<double>(share->weight()) / weights);
  }
  return job;
}

void Engine::Touch(JobRun* run) {
  ++run->version;
  changed_.SignalAll();
}

uint64_t Engine::Commit(Batch batch) {
  // What the batch's calls changed many times over, written once each: jobs' progress, workers'
  // records, and the balances of the accounts its transfers touched.
  catalogue_.WriteNoted(&batch);
  workers_.WriteNoted(&batch);
  ledger_->WriteBalances(&batch);
  const uint64_t ticket = queue_->Enqueue(std::move(batch));
  const uint64_t durable = queue_->DurableTicket();
  // Workers' records on ended jobs leave memory once their batch is durable.
  workers_.Written(ticket);
  workers_.Forget(durable);
  // The ledger keeps the transfers it applied until they are readable from the store: this
  // batch's end where it applied new ones, and those of batches durable by now handed back.
  const uint64_t seq = ledger_->head_seq();
  if (seq > ledger_marked_) {
    ledger_marks_.push_back({ticket, seq});
    ledger_marked_ = seq;
  }
  uint64_t written = 0;
  while (!ledger_marks_.empty() && ledger_marks_.front().ticket <= durable) {
    written = ledger_marks_.front().seq;
    ledger_marks_.pop_front();
  }
  if (written > 0) ledger_->Written(written);
  return ticket;
}

void Engine::Forget(std::vector<std::string> pending_keys) {
  UnlockedIdempotency().ForgetLater(std::move(pending_keys));
}

// ---- Centres -------------------------------------------------------------------------------

absl::StatusOr<v1::AddCentreReply> Engine::AddCentre(const v1::AddCentreRequest& request) {
  const v1::Centre& c = request.centre();
  std::vector<std::string> errors;
  if (!IsSimpleName(c.id())) errors.push_back("centre.id: expected 1-40 of a-z, 0-9, _ or -");
  if (c.region().empty() || c.region().size() > 16) {
    errors.push_back("centre.region: expected a region code such as KE or IN-KA");
  }
  if (!IsCurrencyCode(c.currency())) errors.push_back("centre.currency: expected an ISO 4217 code");
  if (c.wage_floor_minor_per_hour() <= 0) {
    errors.push_back("centre.wage_floor_minor_per_hour: must be positive");
  }
  if (c.capacity() == 0) errors.push_back("centre.capacity: must be at least 1");
  if (c.centre_share_per_mille() > 500) {
    errors.push_back("centre.centre_share_per_mille: expected 0 to 500 (thousandths of a wage)");
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  const std::string& key = request.idempotency_key();
  auto reply = Idempotent<v1::AddCentreReply>(
      kOperatorPrincipal, key, request,
      [&](Batch* batch, v1::AddCentreReply* reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        MW_RETURN_IF_ERROR(centres_.Add(c, key, clock_->NowMs(), batch));
        *reply->mutable_centre() = c;
        return absl::OkStatus();
      });
  // The stored reply never holds the credential: it is derived again, for a replay too, unless
  // it was rotated since (a revoked credential is not shown again).
  if (reply.ok()) ShowCredential(c.id(), key, &*reply);
  return reply;
}

void Engine::ShowCredential(const std::string& centre_id, const std::string& derived_from,
                            v1::AddCentreReply* reply) const {
  std::string credential = UnlockedCentres().CurrentCredential(centre_id, derived_from);
  if (!credential.empty()) reply->set_credential(std::move(credential));
}

absl::StatusOr<v1::AddCentreReply> Engine::RotateCentreCredential(
    const v1::RotateCentreCredentialRequest& request) {
  const std::string derived_from = absl::StrCat("rotate:", request.idempotency_key());
  auto reply = Idempotent<v1::AddCentreReply>(
      kOperatorPrincipal, request.idempotency_key(), request,
      [&](Batch* batch, v1::AddCentreReply* reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        MW_ASSIGN_OR_RETURN(*reply->mutable_centre(),
                            centres_.Rotate(request.centre_id(), derived_from, batch));
        spdlog::info("event=centre_credential_rotated centre={}", request.centre_id());
        return absl::OkStatus();
      });
  if (reply.ok()) ShowCredential(request.centre_id(), derived_from, &*reply);
  return reply;
}

std::vector<v1::Centre> Engine::ListCentres() const {
  absl::MutexLock l(&mu_);
  return centres_.Sorted();
}

// ---- The platform's people -------------------------------------------------------------------

// A credential is handed back by the call that made it, never stored: a replay (same caller,
// same key) returns the account without it. Each method and caller has its own keys.
absl::StatusOr<v1::StaffCredential> Engine::AddStaff(const v1::AddStaffRequest& request,
                                                     const std::string& by) {
  std::vector<v1::StaffRole> roles;
  for (int r : request.roles()) roles.push_back(static_cast<v1::StaffRole>(r));
  std::string credential;
  auto reply = Idempotent<v1::StaffCredential>(
      absl::StrCat("staff-add:", by), request.idempotency_key(), request,
      [&](Batch* batch, v1::StaffCredential* reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        MW_ASSIGN_OR_RETURN(
            *reply->mutable_account(),
            staff_.Add(request.name(), roles, by, clock_->NowMs(), batch, &credential));
        spdlog::info("event=staff_added name={} by={}", request.name(), by);
        return absl::OkStatus();
      });
  if (reply.ok()) reply->set_credential(credential);
  return reply;
}

absl::StatusOr<v1::StaffCredential> Engine::RotateStaffCredential(const v1::StaffRequest& request,
                                                                  const std::string& by) {
  std::string credential;
  auto reply = Idempotent<v1::StaffCredential>(
      absl::StrCat("staff-rotate:", by), request.idempotency_key(), request,
      [&](Batch* batch, v1::StaffCredential* reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        MW_ASSIGN_OR_RETURN(*reply->mutable_account(),
                            staff_.Rotate(request.name(), by, clock_->NowMs(), batch, &credential));
        spdlog::info("event=staff_credential_rotated name={} by={}", request.name(), by);
        return absl::OkStatus();
      });
  if (reply.ok()) reply->set_credential(credential);
  return reply;
}

absl::StatusOr<v1::StaffAccount> Engine::RevokeStaff(const v1::StaffRequest& request,
                                                     const std::string& by) {
  return Idempotent<v1::StaffAccount>(
      absl::StrCat("staff-revoke:", by), request.idempotency_key(), request,
      [&](Batch* batch, v1::StaffAccount* reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        MW_ASSIGN_OR_RETURN(*reply, staff_.Revoke(request.name(), by, clock_->NowMs(), batch));
        spdlog::info("event=staff_revoked name={} by={}", request.name(), by);
        return absl::OkStatus();
      });
}

std::vector<v1::StaffAccount> Engine::ListStaff() const {
  absl::MutexLock l(&mu_);
  return staff_.Sorted();
}

absl::StatusOr<v1::StaffAccount> Engine::AuthenticateStaff(const std::string& credential) const {
  return UnlockedStaff().Authenticate(credential);
}

absl::StatusOr<std::string> Engine::AuthenticateCentre(const std::string& credential) const {
  return UnlockedCentres().Authenticate(credential);
}

bool Engine::HasNoted() const {
  return catalogue_.HasNoted() || workers_.HasNoted() || ledger_->HasApplied();
}

void Engine::Abandon(const absl::Status& why) {
  catalogue_.DropNoted();
  workers_.DropNoted();
  ledger_->DropApplied();
  Diverged(why);
}

void Engine::Diverged(const absl::Status& why) {
  if (diverged_.exchange(true)) return;
  spdlog::critical(
      "event=state_diverged error=\"{}\" what=\"a call failed after changing memory; nothing of "
      "it was written, and no more writes are taken until a restart recovers from the disk\"",
      why.ToString());
  if (options_.on_write_failure) options_.on_write_failure(why);
}

absl::Status Engine::Admit(uint64_t limit, absl::string_view what) const {
  if (diverged_.load()) {
    return absl::UnavailableError(
        absl::StrCat(what, ": the dispatcher must restart (a failed call left memory ahead of ",
                     "the disk); retry after it has"));
  }
  const uint64_t waiting = queue_->WaitingBytes();
  if (waiting <= limit) return absl::OkStatus();
  return absl::ResourceExhaustedError(
      absl::StrCat(what, ": the dispatcher has ", waiting / 1024,
                   " KB of changes waiting for the disk; retry after 200 ms"));
}

absl::StatusOr<v1::RegisterReply> Engine::Register(const std::string& centre_id,
                                                   const v1::RegisterRequest& request) {
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < request.workers_size(); ++i) {
    const auto& w = request.workers(i);
    if (!IsSimpleName(w.worker())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "workers[", i, "].worker: expected a pseudonym of 1-40 of a-z, 0-9, _ or -"));
    }
    if (!seen.insert(w.worker()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("workers[", i, "].worker: ", w.worker(), " is listed twice"));
    }
  }
  v1::RegisterReply reply;
  uint64_t ticket;
  {
    absl::MutexLock l(&mu_);
    Batch batch;
    MW_ASSIGN_OR_RETURN(*reply.mutable_centre(),
                        centres_.SetOnDuty(centre_id, request.workers(), &batch));
    ticket = Commit(std::move(batch));
    reply.set_server_time_ms(clock_->NowMs());
    reply.set_lease_seconds(static_cast<uint32_t>(options_.lease_ms / 1000));
  }
  MW_RETURN_IF_ERROR(queue_->WaitDurable(ticket));
  return reply;
}

// ---- Jobs ----------------------------------------------------------------------------------

absl::StatusOr<v1::Job> Engine::GetJob(const std::string& job_id) const {
  absl::MutexLock l(&mu_);
  const JobRun* run = catalogue_.Find(job_id);
  if (run == nullptr) return absl::NotFoundError(absl::StrCat("no job ", job_id));
  return JobView(*run);
}

std::vector<v1::Job> Engine::ListJobs() const {
  absl::MutexLock l(&mu_);
  std::vector<v1::Job> out;
  for (const auto& [n, run] : catalogue_.jobs()) out.push_back(JobView(run));
  return out;
}

absl::StatusOr<std::pair<v1::Job, uint64_t>> Engine::WaitForJob(const std::string& job_id,
                                                                uint64_t version,
                                                                absl::Duration timeout) const {
  absl::MutexLock l(&mu_);
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    const JobRun* run = catalogue_.Find(job_id);
    if (run == nullptr) return absl::NotFoundError(absl::StrCat("no job ", job_id));
    if (run->version != version) return std::make_pair(JobView(*run), run->version);
    if (changed_.WaitWithDeadline(&mu_, deadline)) {
      return std::make_pair(JobView(*run), run->version);
    }
  }
}

// ---- Ledger --------------------------------------------------------------------------------

absl::StatusOr<record::WorkFacts> Engine::WorkFacts(const std::string& centre,
                                                    const std::string& worker) const {
  if (!IsSimpleName(worker)) {
    return absl::InvalidArgumentError("worker: expected a pseudonym of 1-40 of a-z, 0-9, _ or -");
  }
  const std::string account = WorkerAccount(centre, worker);
  absl::MutexLock l(&mu_);
  if (workers_.FindRecord(account) == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("worker: no work recorded for \"", worker, "\" at centre ", centre));
  }
  MW_ASSIGN_OR_RETURN(record::WorkFacts facts, workers_.Facts(account));
  facts.centre = centre;
  facts.worker = worker;
  return facts;
}

absl::StatusOr<v1::Statement> Engine::GetStatement(const v1::StatementRequest& request,
                                                   const std::string& centre_scope) const {
  v1::Statement st;
  auto add_line = [&](const v1::Account& a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    v1::StatementLine* line = st.add_lines();
    line->set_account(a.id());
    line->set_currency(a.currency());
    line->set_pending_minor(a.credits_pending() - a.debits_pending());
    line->set_posted_minor(a.credits_posted() - a.debits_posted());
    if (const v1::WorkerStatsRecord* found = workers_.FindRecord(a.id()); found != nullptr) {
      const v1::WorkerStatsRecord& s = *found;
      line->set_contributions(s.contributions());
      line->set_active_seconds(s.active_seconds());
      line->set_gold_total(s.gold_total());
      line->set_gold_correct(s.gold_correct());
      line->set_agreed(s.agreed());
      line->set_disagreed(s.disagreed());
      line->set_reviews(s.reviews());
    }
    line->set_skill(workers_.Skill(a.id()));
    for (v1::SkillLine& kind : workers_.SkillLines(a.id())) *line->add_skills() = std::move(kind);
  };
  absl::MutexLock l(&mu_);
  switch (request.subject_case()) {
    case v1::StatementRequest::kCentre: {
      if (!centre_scope.empty() && request.centre() != centre_scope) {
        return absl::PermissionDeniedError("a centre sees only its own workers");
      }
      if (!centres_.Contains(request.centre())) {
        return absl::NotFoundError(absl::StrCat("no centre ", request.centre()));
      }
      st.set_title(absl::StrCat("Workers of centre ", request.centre()));
      ledger_->ForEachAccount(WorkerAccount(request.centre(), ""), add_line);
      return st;
    }
    case v1::StatementRequest::kWorkerAccount: {
      if (!centre_scope.empty() &&
          !absl::StartsWith(request.worker_account(), WorkerAccount(centre_scope, ""))) {
        return absl::PermissionDeniedError("a centre sees only its own workers");
      }
      const v1::Account* a = ledger_->Find(request.worker_account());
      if (a == nullptr || !absl::StartsWith(a->id(), "worker:")) {
        return absl::NotFoundError(absl::StrCat("no worker account ", request.worker_account()));
      }
      st.set_title(absl::StrCat("Statement for ", a->id()));
      add_line(*a);
      return st;
    }
    case v1::StatementRequest::kJobId: {
      if (!centre_scope.empty()) {
        return absl::PermissionDeniedError("job statements are for operators");
      }
      if (catalogue_.Find(request.job_id()) == nullptr) {
        return absl::NotFoundError(absl::StrCat("no job ", request.job_id()));
      }
      st.set_title(absl::StrCat("Job ", request.job_id()));
      if (const v1::Account* a = ledger_->Find(EscrowAccount(request.job_id())); a != nullptr) {
        add_line(*a);
      }
      return st;
    }
    case v1::StatementRequest::SUBJECT_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("statement: name a centre, a worker account or a job");
}

absl::Status Engine::ReadLedger(const std::function<bool(const v1::LedgerRecord&)>& sink) const {
  auto snapshot = store_->GetSnapshot();
  v1::LedgerRecord rec;
  MW_ASSIGN_OR_RETURN(ledger::StoredBalances balances,
                      ledger::ReadBalances(*store_, snapshot.get()));
  for (auto& [id, a] : balances.accounts) {
    *rec.mutable_account() = std::move(a);
    if (!sink(rec)) return absl::OkStatus();
  }
  bool more = true;
  absl::Status read = ledger::ForEachTransfer(*store_, snapshot.get(), 0, [&](v1::Transfer& t) {
    *rec.mutable_transfer() = std::move(t);
    more = sink(rec);
    return more ? absl::OkStatus() : absl::CancelledError("the reader stopped");
  });
  if (!more) return absl::OkStatus();
  MW_RETURN_IF_ERROR(read);
  MW_ASSIGN_OR_RETURN(std::vector<v1::TimeBound> bounds, TimeBounds(*snapshot));
  for (v1::TimeBound& bound : bounds) {
    *rec.mutable_time_bound() = std::move(bound);
    if (!sink(rec)) return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status Engine::AuditLedger(ledger::Auditor* auditor) const {
  absl::Status violation;
  MW_RETURN_IF_ERROR(ReadLedger([&](const v1::LedgerRecord& rec) {
    if (rec.has_account()) auditor->AddAccount(rec.account());
    if (rec.has_transfer() && violation.ok()) violation = auditor->AddTransfer(rec.transfer());
    if (rec.has_time_bound()) auditor->AddTimeBound(rec.time_bound());
    return true;
  }));
  return violation.ok() ? auditor->Finish() : violation;
}

EngineStats Engine::Stats() const {
  absl::MutexLock l(&mu_);
  EngineStats s = stats_;
  s.tasks_open = catalogue_.tasks().size();
  s.tasks_done = stats_.verdicts;
  ledger_->ForEachAccount("worker:", [&](const v1::Account& a) {
    EngineStats::Wages& w = s.wages[a.currency()];
    w.reserved += a.credits_pending();
    w.posted += a.credits_posted() - a.debits_posted();
    w.paid += a.debits_posted();
  });
  s.jobs_running = 0;
  s.leases_active = 0;
  for (const auto& [n, run] : catalogue_.jobs()) {
    s.jobs_running += run.progress.state() == v1::JOB_RUNNING;
    for (uint64_t l : run.leased) s.leases_active += l;
  }
  s.commit_groups = queue_->groups_written();
  s.ledger_unwritten = ledger_->unwritten();
  s.worker_job_records = workers_.on_job_in_memory();
  s.lease_timers = leases_.armed();
  // Every live lease must have a timer that fires no later than its expiry (the invariant the
  // reconciler restores after a restart). O(timers + slots): cheap at scrape intervals.
  const auto covered = leases_.CoverageCheck();
  const int64_t now = clock_->NowMs();
  for (const v1::Centre& centre : centres_.Sorted()) s.centre_queues[centre.id()] = {0, 0};
  for (const auto& [key, task] : catalogue_.tasks()) {
    for (const auto& slot : task.record.slots()) {
      if (slot.state() != v1::SLOT_LEASED) continue;
      auto& [depth, oldest] = s.centre_queues[slot.centre()];
      ++depth;
      oldest = std::max(oldest, now - slot.leased_at_ms());
      if (!covered(key, slot)) ++s.leases_without_timer;
    }
  }
  return s;
}

}  // namespace mw::dispatch
