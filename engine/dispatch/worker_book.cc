#include "engine/dispatch/worker_book.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/storage/keys.h"
#include "engine/storage/record.h"

namespace mw::dispatch {

namespace v1 = ::microwork::v1;
namespace keys = storage::keys;
using storage::Cf;

absl::Status WorkerBook::Load(const storage::Store& store, EndedFn ended) {
  store_ = &store;
  ended_ = std::move(ended);
  auto stats = store.Scan(Cf::kWorkerStats, "");
  for (; stats->Valid(); stats->Next()) {
    v1::WorkerStatsRecord rec;
    MW_RETURN_IF_ERROR(stats->Read(&rec));
    records_[std::string(stats->key())] = std::move(rec);
  }
  MW_RETURN_IF_ERROR(stats->status());
  auto c = store.Scan(Cf::kWorkerJobs, "");
  for (; c->Valid(); c->Next()) {
    v1::WorkerJobRecord rec;
    MW_RETURN_IF_ERROR(c->Read(&rec));
    const std::string key(c->key());
    if (rec.promoted()) {
      auto parts = keys::ParseWorkerJob(key);
      if (!parts.has_value()) {
        return absl::DataLossError(
            absl::StrCat("worker-job record with a malformed key \"", absl::CHexEscape(key), "\""));
      }
      passed_training_.insert(parts->first);
      for (const std::string& v : rec.vouched()) vouched_[parts->first].insert(v);
      // Training passed before what it vouched for was kept: it vouches, as it did then, for
      // everything (a person's promotion never did).
      if (rec.vouched().empty() && !rec.has_promotion()) vouched_[parts->first].insert("*");
    }
    if (Ended(key)) continue;  // read from the store when asked for
    OnJobEntry(key) = std::move(rec);
  }
  return c->status();
}

v1::WorkerJobRecord& WorkerBook::OnJobEntry(const std::string& key) {
  auto [it, made] = on_job_.try_emplace(key);
  if (made) on_job_keys_.insert(key);
  return it->second;
}

namespace {

// The job id of a keys::WorkerJob key (what follows its first '\0', as ParseWorkerJob reads it,
// without copies); nullopt when malformed.
std::optional<absl::string_view> JobOfKey(absl::string_view key) {
  const size_t nul = key.find('\0');
  if (nul == absl::string_view::npos) return std::nullopt;
  return key.substr(nul + 1);
}

}  // namespace

bool WorkerBook::Ended(const std::string& key) const {
  if (!ended_) return false;
  const std::optional<absl::string_view> job = JobOfKey(key);
  return job.has_value() && ended_(*job);
}

absl::StatusOr<std::optional<v1::WorkerJobRecord>> WorkerBook::Stored(
    const std::string& key) const {
  if (store_ == nullptr || !Ended(key)) return std::nullopt;  // in memory, or nowhere
  v1::WorkerJobRecord rec;
  absl::Status s = store_->GetRecord(Cf::kWorkerJobs, key, &rec);
  if (absl::IsNotFound(s)) return std::nullopt;
  if (!s.ok()) return s;
  return rec;
}

absl::StatusOr<v1::WorkerJobRecord*> WorkerBook::Loaded(const std::string& key) {
  if (auto it = on_job_.find(key); it != on_job_.end()) return &it->second;
  MW_ASSIGN_OR_RETURN(std::optional<v1::WorkerJobRecord> stored, Stored(key));
  if (!stored.has_value()) return nullptr;
  v1::WorkerJobRecord& rec = OnJobEntry(key);
  rec = *std::move(stored);
  NotePut(key);  // leaves memory again with the next durable batch
  return &rec;
}

absl::Status WorkerBook::Fetch(const std::string& account, const std::string& job_id) {
  return Loaded(keys::WorkerJob(account, job_id)).status();
}

void WorkerBook::NotePut(const std::string& key) {
  if (Ended(key)) put_.insert(key);
}

void WorkerBook::Retire(const std::string& job_id) {
  if (!ended_) return;
  for (const std::string& key : on_job_keys_) {
    if (JobOfKey(key) == job_id) put_.insert(key);
  }
}

void WorkerBook::Written(uint64_t ticket) {
  for (const std::string& key : put_) {
    leaving_.emplace_back(ticket, key);
    last_ticket_[key] = ticket;
  }
  put_.clear();
}

void WorkerBook::Forget(uint64_t durable) {
  while (!leaving_.empty() && leaving_.front().first <= durable) {
    const auto& [ticket, key] = leaving_.front();
    auto it = last_ticket_.find(key);
    // Put again in a later batch: it leaves with that one.
    if (it != last_ticket_.end() && it->second == ticket) {
      last_ticket_.erase(it);
      on_job_.erase(key);
      on_job_keys_.erase(key);
    }
    leaving_.pop_front();
  }
}

v1::WorkerStatsRecord& WorkerBook::Record(const std::string& account) { return records_[account]; }

const v1::WorkerStatsRecord* WorkerBook::FindRecord(const std::string& account) const {
  auto it = records_.find(account);
  return it == records_.end() ? nullptr : &it->second;
}

void WorkerBook::PutRecord(const std::string& account, storage::Batch* batch) {
  batch->PutRecord(Cf::kWorkerStats, account, records_[account]);
}

void WorkerBook::NoteRecord(const std::string& account) { noted_records_.insert(account); }

void WorkerBook::NoteOnJob(const std::string& account, const std::string& job_id) {
  noted_on_job_.insert(keys::WorkerJob(account, job_id));
}

void WorkerBook::WriteNoted(storage::Batch* batch) {
  for (const std::string& account : noted_records_) {
    batch->PutRecord(Cf::kWorkerStats, account, records_[account]);
  }
  for (const std::string& key : noted_on_job_) {
    batch->PutRecord(Cf::kWorkerJobs, key, OnJobEntry(key));
    NotePut(key);
  }
  noted_records_.clear();
  noted_on_job_.clear();
}

v1::WorkerJobRecord& WorkerBook::OnJob(const std::string& account, const std::string& job_id) {
  const std::string key = keys::WorkerJob(account, job_id);
  absl::StatusOr<v1::WorkerJobRecord*> loaded = Loaded(key);
  if (!loaded.ok()) {
    // A caller that did not Fetch first: an empty record here would be written over the one the
    // store could not read (the worker's wages and time on the job). A programming error.
    spdlog::critical("event=worker_job_unreadable key=\"{}\" status=\"{}\"", absl::CHexEscape(key),
                     loaded.status().ToString());
    std::abort();
  }
  if (*loaded != nullptr) return **loaded;
  NotePut(key);  // a first record on an ended job (a late answer's) leaves memory too
  return OnJobEntry(key);
}

void WorkerBook::PutOnJob(const std::string& account, const std::string& job_id,
                          storage::Batch* batch) {
  const std::string key = keys::WorkerJob(account, job_id);
  batch->PutRecord(Cf::kWorkerJobs, key, OnJob(account, job_id));
  NotePut(key);
}

namespace {

// Calls fn(account, job id, record) for every entry of `on_job` whose key starts with `prefix`,
// in key order (`ordered`, on_job's keys in order), stopping at its first error. DATA_LOSS for a
// malformed key.
template <typename Map, typename Fn>
absl::Status Walk(const absl::btree_set<std::string>& ordered, Map& on_job,
                  const std::string& prefix, const Fn& fn) {
  for (auto k = ordered.lower_bound(prefix); k != ordered.end() && absl::StartsWith(*k, prefix);
       ++k) {
    auto parts = keys::ParseWorkerJob(*k);
    if (!parts.has_value()) return absl::DataLossError("malformed worker-job key");
    MW_RETURN_IF_ERROR(fn(parts->first, parts->second, on_job.find(*k)->second));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WorkerBook::ForEachOnJob(
    const std::string& account_prefix,
    const std::function<absl::Status(const std::string&, const std::string&,
                                     const v1::WorkerJobRecord&)>& fn) const {
  if (store_ == nullptr || !ended_) return Walk(on_job_keys_, on_job_, account_prefix, fn);
  // Memory and the store merged in key order; memory's copy of a key is the newer.
  auto mem = on_job_keys_.lower_bound(account_prefix);
  auto in_memory = [&] {
    return mem != on_job_keys_.end() && absl::StartsWith(*mem, account_prefix);
  };
  auto c = store_->Scan(Cf::kWorkerJobs, account_prefix);
  for (;;) {
    const bool from_memory = in_memory();
    if (!from_memory && !c->Valid()) break;
    const bool take_memory = from_memory && (!c->Valid() || *mem <= c->key());
    const std::string key = take_memory ? *mem : std::string(c->key());
    auto parts = keys::ParseWorkerJob(key);
    if (!parts.has_value()) return absl::DataLossError("malformed worker-job key");
    if (take_memory) {
      if (c->Valid() && c->key() == key) c->Next();
      MW_RETURN_IF_ERROR(fn(parts->first, parts->second, on_job_.find(key)->second));
      ++mem;
    } else {
      v1::WorkerJobRecord rec;
      MW_RETURN_IF_ERROR(c->Read(&rec));
      c->Next();
      MW_RETURN_IF_ERROR(fn(parts->first, parts->second, rec));
    }
  }
  return c->status();  // a scan stopped by an error is not a walk of everything
}

absl::Status WorkerBook::UpdateOnJob(
    const std::string& account_prefix,
    const std::function<absl::Status(const std::string&, const std::string&, v1::WorkerJobRecord&)>&
        fn,
    const std::function<bool(const v1::WorkerJobRecord&)>& wanted) {
  // Those that left memory come back for `fn` (and leave again once put and durable).
  if (store_ != nullptr && ended_) {
    auto c = store_->Scan(Cf::kWorkerJobs, account_prefix);
    for (; c->Valid(); c->Next()) {
      const std::string key(c->key());
      if (on_job_.contains(key)) continue;
      v1::WorkerJobRecord rec;
      MW_RETURN_IF_ERROR(c->Read(&rec));
      if (wanted && !wanted(rec)) continue;
      OnJobEntry(key) = std::move(rec);
      NotePut(key);
    }
    MW_RETURN_IF_ERROR(c->status());
  }
  return Walk(on_job_keys_, on_job_, account_prefix, fn);
}

namespace {

// The posterior mean of Beta(prior * weight, (1 - prior) * weight) given `right` of `total`.
double BetaMean(double prior, double weight, uint64_t right, uint64_t total) {
  return (prior * weight + static_cast<double>(right)) / (weight + static_cast<double>(total));
}

// The record's counts for one kind of work, created on first use.
v1::SkillCounts& KindCounts(v1::WorkerStatsRecord& record, const std::string& skill,
                            const std::string& language) {
  for (v1::SkillCounts& k : *record.mutable_by_kind()) {
    if (k.skill() == skill && k.language() == language) return k;
  }
  v1::SkillCounts* k = record.add_by_kind();
  k->set_skill(skill);
  k->set_language(language);
  return *k;
}

}  // namespace

double WorkerBook::Skill(const std::string& account) const {
  const v1::WorkerStatsRecord* s = FindRecord(account);
  if (s == nullptr) return 0.5;
  return BetaMean(0.5, 2, s->gold_correct() + s->agreed(),
                  s->gold_total() + s->agreed() + s->disagreed());
}

double WorkerBook::Skill(const std::string& account, const v1::HumanStage& stage) const {
  const v1::WorkerStatsRecord* s = FindRecord(account);
  if (s == nullptr) return 0.5;
  uint64_t right = 0, total = 0;
  for (const auto& [skill, language] : Kinds(stage)) {
    for (const v1::SkillCounts& k : s->by_kind()) {
      if (k.skill() != skill || k.language() != language) continue;
      right += k.gold_correct() + k.agreed();
      total += k.gold_total() + k.agreed() + k.disagreed();
    }
  }
  return BetaMean(Skill(account), 2, right, total);
}

std::vector<v1::SkillLine> WorkerBook::SkillLines(const std::string& account) const {
  std::vector<v1::SkillLine> lines;
  const v1::WorkerStatsRecord* s = FindRecord(account);
  if (s == nullptr) return lines;
  const double overall = Skill(account);
  for (const v1::SkillCounts& k : s->by_kind()) {
    v1::SkillLine& line = lines.emplace_back();
    line.set_skill(k.skill());
    line.set_language(k.language());
    line.set_gold_total(k.gold_total());
    line.set_gold_correct(k.gold_correct());
    line.set_agreed(k.agreed());
    line.set_disagreed(k.disagreed());
    line.set_estimate(BetaMean(overall, 2, k.gold_correct() + k.agreed(),
                               k.gold_total() + k.agreed() + k.disagreed()));
  }
  return lines;
}

absl::StatusOr<record::WorkFacts> WorkerBook::Facts(const std::string& account) const {
  record::WorkFacts f;
  if (const v1::WorkerStatsRecord* s = FindRecord(account); s != nullptr) {
    f.answers = s->contributions();
    f.active_seconds = s->active_seconds();
    f.checks = s->gold_total();
    f.checks_right = s->gold_correct();
    f.verdicts = s->agreed() + s->disagreed();
    f.agreed = s->agreed();
    f.first_ms = s->first_answer_ms();
    f.last_ms = s->last_answer_ms();
  }
  for (const v1::SkillLine& k : SkillLines(account)) {
    f.kinds.push_back({k.skill(), k.language(), k.gold_total(), k.gold_correct(),
                       k.agreed() + k.disagreed(), k.agreed(), k.estimate()});
  }
  // The key is the account and the job: only this account's entries, not a longer pseudonym's.
  MW_RETURN_IF_ERROR(ForEachOnJob(
      account + '\0', [&](const std::string&, const std::string&, const v1::WorkerJobRecord&) {
        ++f.jobs;
        return absl::OkStatus();
      }));
  return f;
}

std::vector<std::pair<std::string, std::string>> WorkerBook::Kinds(const v1::HumanStage& stage) {
  std::vector<std::string> skills(stage.skills().begin(), stage.skills().end());
  std::vector<std::string> languages(stage.languages().begin(), stage.languages().end());
  if (skills.empty()) skills.emplace_back();
  if (languages.empty()) languages.emplace_back();
  std::vector<std::pair<std::string, std::string>> kinds;
  for (const std::string& skill : skills) {
    for (const std::string& language : languages) {
      if (std::find(kinds.begin(), kinds.end(), std::make_pair(skill, language)) == kinds.end()) {
        kinds.emplace_back(skill, language);
      }
    }
  }
  return kinds;
}

void WorkerBook::CountCheck(const std::string& account, const v1::HumanStage& stage, bool correct) {
  v1::WorkerStatsRecord& r = Record(account);
  r.set_gold_total(r.gold_total() + 1);
  r.set_gold_correct(r.gold_correct() + correct);
  for (const auto& [skill, language] : Kinds(stage)) {
    v1::SkillCounts& k = KindCounts(r, skill, language);
    k.set_gold_total(k.gold_total() + 1);
    k.set_gold_correct(k.gold_correct() + correct);
  }
}

void WorkerBook::CountVerdict(const std::string& account, const v1::HumanStage& stage,
                              bool agreed) {
  v1::WorkerStatsRecord& r = Record(account);
  auto count = [agreed](auto& counts) {
    if (agreed) {
      counts.set_agreed(counts.agreed() + 1);
    } else {
      counts.set_disagreed(counts.disagreed() + 1);
    }
  };
  count(r);
  for (const auto& [skill, language] : Kinds(stage)) count(KindCounts(r, skill, language));
}

TimeCredit WorkerBook::CreditWork(const std::string& account, const std::string& job_id,
                                  int64_t wage, TimeCredit time) {
  v1::WorkerJobRecord& r = OnJob(account, job_id);
  if (time.window_ms > 0) {
    v1::LeaseWindows* kept = r.mutable_windows();
    if (kept->runs_size() == 0 && kept->covered_ms() == 0 && r.window_seconds() > 0) {
      // A record from before the union kept the sum of its windows: that stands for the past,
      // and nothing before this window is counted again.
      kept->set_covered_ms(static_cast<int64_t>(r.window_seconds()) * 1000);
      kept->set_floor_ms(time.window_start_ms);
    }
    WindowUnion windows(kept, WindowUnion::kKeptRuns);
    windows.Add(time.window_start_ms, time.window_start_ms + time.window_ms);
    r.set_window_seconds(windows.covered_seconds());
    const uint64_t room =
        r.window_seconds() > r.active_seconds() ? r.window_seconds() - r.active_seconds() : 0;
    if (time.credited_seconds > room) {
      time.held_seconds += time.credited_seconds - static_cast<uint32_t>(room);
      time.credited_seconds = static_cast<uint32_t>(room);
    }
  }
  r.set_held_seconds(r.held_seconds() + time.held_seconds);
  r.set_active_seconds(r.active_seconds() + time.credited_seconds);
  r.set_wages_minor(r.wages_minor() + wage);
  r.set_period_active_seconds(r.period_active_seconds() + time.credited_seconds);
  r.set_period_wages_minor(r.period_wages_minor() + wage);
  return time;
}

std::optional<v1::WorkerJobRecord> WorkerBook::FindOnJob(const std::string& account,
                                                         const std::string& job_id) const {
  const std::string key = keys::WorkerJob(account, job_id);
  if (auto it = on_job_.find(key); it != on_job_.end()) return it->second;
  return StoredOrNone(key);
}

std::optional<v1::WorkerJobRecord> WorkerBook::StoredOrNone(const std::string& key) const {
  absl::StatusOr<std::optional<v1::WorkerJobRecord>> stored = Stored(key);
  if (!stored.ok()) {
    spdlog::error("event=worker_job_unreadable key=\"{}\" status=\"{}\"", absl::CHexEscape(key),
                  stored.status().ToString());
    return std::nullopt;
  }
  return *std::move(stored);
}

bool WorkerBook::OnJobSays(const std::string& account, const std::string& job_id,
                           bool (*says)(const v1::WorkerJobRecord&)) const {
  const std::string key = keys::WorkerJob(account, job_id);
  // The scheduler asks on every lease of a training stage: a job that runs is in memory, and
  // is read there without a copy.
  if (auto it = on_job_.find(key); it != on_job_.end()) return says(it->second);
  const std::optional<v1::WorkerJobRecord> r = StoredOrNone(key);
  return r.has_value() && says(*r);
}

uint64_t WorkerBook::Releasable(const v1::WorkerJobRecord& r) {
  if (r.window_seconds() <= r.active_seconds()) return 0;
  return std::min<uint64_t>(r.held_seconds(), r.window_seconds() - r.active_seconds());
}

absl::Status WorkerBook::ReleaseHeld(const std::string& account, const std::string& job_id,
                                     const v1::TimeRelease& release) {
  MW_ASSIGN_OR_RETURN(v1::WorkerJobRecord * found, Loaded(keys::WorkerJob(account, job_id)));
  if (found == nullptr) {
    return absl::NotFoundError(absl::StrCat(account, " has no work on ", job_id));
  }
  v1::WorkerJobRecord& r = *found;
  if (release.seconds() > Releasable(r)) {
    return absl::FailedPreconditionError(
        absl::StrCat(account, " on ", job_id, ": ", release.seconds(), " s cannot be released; ",
                     Releasable(r), " s can (", r.held_seconds(), " s held, ", r.active_seconds(),
                     " s credited of the ", r.window_seconds(), " s their leases were held)"));
  }
  r.set_held_seconds(r.held_seconds() - release.seconds());
  r.set_active_seconds(r.active_seconds() + release.seconds());
  r.set_period_active_seconds(r.period_active_seconds() + release.seconds());
  *r.add_releases() = release;
  return absl::OkStatus();
}

absl::Status WorkerBook::Promote(const std::string& account, const std::string& job_id,
                                 const v1::PersonDecision& decision) {
  MW_RETURN_IF_ERROR(Fetch(account, job_id));  // an unreadable record is not an empty one
  if (Promoted(account, job_id)) {
    return absl::FailedPreconditionError(
        absl::StrCat(account, " passed training on ", job_id, " already"));
  }
  v1::WorkerJobRecord& r = OnJob(account, job_id);
  r.set_promoted(true);
  *r.mutable_promotion() = decision;
  passed_training_.insert(account);
  return absl::OkStatus();
}

bool WorkerBook::PromotedByPerson(const std::string& account, const std::string& job_id) const {
  return OnJobSays(account, job_id,
                   [](const v1::WorkerJobRecord& r) { return r.promoted() && r.has_promotion(); });
}

bool WorkerBook::Promoted(const std::string& account, const std::string& job_id) const {
  return OnJobSays(account, job_id, [](const v1::WorkerJobRecord& r) { return r.promoted(); });
}

bool WorkerBook::PassedTrainingOnAnyJob(const std::string& account) const {
  return passed_training_.contains(account);
}

namespace {

// What a stage asks of a worker, as WorkerJobRecord.vouched spells it.
std::vector<std::string> Asks(const v1::HumanStage& stage) {
  std::vector<std::string> out;
  for (const std::string& s : stage.skills()) out.push_back(absl::StrCat("skill:", s));
  for (const std::string& l : stage.languages()) out.push_back(absl::StrCat("language:", l));
  return out;
}

}  // namespace

bool WorkerBook::Vouched(const std::string& account, const v1::HumanStage& stage) const {
  const std::vector<std::string> asks = Asks(stage);
  if (asks.empty()) return true;
  auto it = vouched_.find(account);
  if (it == vouched_.end()) return false;
  if (it->second.contains("*")) return true;
  for (const std::string& a : asks) {
    if (!it->second.contains(a)) return false;
  }
  return true;
}

bool WorkerBook::CountTrainingAnswer(const std::string& account, const std::string& job_id,
                                     bool correct, const v1::HumanStage& stage) {
  const v1::QaPolicy& qa = stage.qa();
  v1::WorkerJobRecord& r = OnJob(account, job_id);
  r.set_training_answers(r.training_answers() + 1);
  r.set_training_correct(r.training_correct() + correct);
  const uint32_t bar = qa.training_accuracy_percent() == 0 ? 80 : qa.training_accuracy_percent();
  if (r.promoted() || r.training_answers() < qa.training_tasks() ||
      uint64_t{r.training_correct()} * 100 < uint64_t{bar} * r.training_answers()) {
    return false;
  }
  r.set_promoted(true);
  passed_training_.insert(account);
  r.add_vouched("trained");  // kept even when the stage asks for nothing (not a legacy record)
  for (std::string& a : Asks(stage)) {
    vouched_[account].insert(a);
    r.add_vouched(std::move(a));
  }
  return true;
}

}  // namespace mw::dispatch
