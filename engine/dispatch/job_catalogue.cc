#include "engine/dispatch/job_catalogue.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "engine/common/status_macros.h"
#include "engine/dispatch/routing.h"
#include "engine/storage/keys.h"

namespace mw::dispatch {

namespace v1 = ::microwork::v1;
using storage::Batch;
using storage::Cf;
namespace keys = storage::keys;

std::optional<uint64_t> JobNumber(absl::string_view job_id) {
  uint64_t n;
  if (!absl::ConsumePrefix(&job_id, "job-") || !absl::SimpleAtoi(job_id, &n)) return std::nullopt;
  return n;
}

uint32_t FreeSlots(const v1::TaskRecord& task) {
  if (task.state() != v1::TASK_OPEN) return 0;
  uint32_t taken = 0;
  for (const auto& s : task.slots()) {
    taken += s.state() == v1::SLOT_LEASED || s.state() == v1::SLOT_SUBMITTED;
  }
  return taken >= task.needed() ? 0 : task.needed() - taken;
}

bool HadOrBarred(const v1::TaskRecord& task, const std::string& worker) {
  for (const auto& s : task.slots()) {
    if (s.worker() == worker) return true;
  }
  return std::find(task.excluded().begin(), task.excluded().end(), worker) != task.excluded().end();
}

absl::StatusOr<JobRun> BuildJobRun(v1::JobRecord record, v1::JobProgressRecord progress) {
  JobRun run;
  run.record = std::move(record);
  run.progress = std::move(progress);
  const v1::Contract& c = run.record.contract();
  for (int i = 0; i < c.stages_size(); ++i) {
    if (c.stages(i).has_split()) run.split_stage = i;
    if (c.stages(i).has_merge()) run.merge_stage = i;
  }
  run.chain = BuildFlow(c);
  if (run.split_stage < 0 || run.chain.empty()) {
    return absl::DataLossError(absl::StrCat("job ", run.record.job().id(),
                                            ": stored contract has no split or human stage"));
  }
  for (const StageRun& step : run.chain) {
    MW_ASSIGN_OR_RETURN(auto aggregation, AggregationFor(step.human.qa(), step.human.answer()));
    run.aggregations.push_back(std::move(aggregation));
  }
  if (run.progress.stages_size() != c.stages_size()) {
    return absl::DataLossError(absl::StrCat("job ", run.record.job().id(), ": progress has ",
                                            run.progress.stages_size(), " stages, contract ",
                                            c.stages_size()));
  }
  if (!c.deadline().empty()) {
    absl::Time t;
    std::string err;
    if (absl::ParseTime(absl::RFC3339_full, c.deadline(), &t, &err)) {
      run.deadline_ms = absl::ToUnixMillis(t);
    }
  }
  for (const auto& r : c.exchange_rates()) {
    MW_ASSIGN_OR_RETURN(auto rate, AgreedRate(c, r.currency()));
    if (rate.has_value()) run.rates.emplace(r.currency(), *std::move(rate));
  }
  run.open.resize(run.chain.size());
  run.leased.assign(run.chain.size(), 0);
  run.gold.resize(run.chain.size());
  run.since_gold.assign(run.chain.size(), 0);
  run.gold_cursor.assign(run.chain.size(), 0);
  return run;
}

JobRun* JobCatalogue::Find(const std::string& job_id) {
  auto n = JobNumber(job_id);
  if (!n.has_value()) return nullptr;
  auto it = jobs_.find(*n);
  return it == jobs_.end() ? nullptr : &it->second;
}

const JobRun* JobCatalogue::Find(const std::string& job_id) const {
  return const_cast<JobCatalogue*>(this)->Find(job_id);
}

const StageRun* JobCatalogue::FindStage(const JobRun* run, const std::string& name) {
  if (run == nullptr) return nullptr;
  for (const StageRun& s : run->chain) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

TaskRun* JobCatalogue::FindTask(const std::string& key) {
  auto it = tasks_.find(key);
  return it == tasks_.end() ? nullptr : &it->second;
}

const TaskRun* JobCatalogue::FindTask(const std::string& key) const {
  return const_cast<JobCatalogue*>(this)->FindTask(key);
}

absl::StatusOr<TaskRun*> JobCatalogue::AddTask(std::string key, TaskRun task) {
  auto [it, inserted] = tasks_.emplace(key, std::move(task));
  if (!inserted) return absl::InternalError(absl::StrCat("task ", key, " created twice"));
  return &it->second;
}

absl::StatusOr<TaskRun*> JobCatalogue::CreateTask(JobRun* run, int chain_pos, v1::Item item,
                                                  const std::vector<std::string>& excluded) {
  const std::string& job_id = run->record.job().id();
  const StageRun& stage = run->chain[chain_pos];
  Enter(stage, &item);
  std::string key = keys::Task(job_id, stage.key, item.index());
  if (tasks_.contains(key)) {
    return absl::InternalError(absl::StrCat("task ", key, " created twice"));
  }
  TaskRun task;
  task.job_id = job_id;
  task.chain_pos = chain_pos;
  task.item_index = item.index();
  task.item = std::move(item);
  task.record.set_state(v1::TASK_OPEN);
  task.record.set_needed(stage.human.overlap());
  for (const std::string& w : excluded) task.record.add_excluded(w);
  NoteTask(key);  // written by WriteNoted, with whatever the rest of the call adds (a slot)
  run->open[chain_pos].push_back(key);
  return AddTask(std::move(key), std::move(task));
}

ReplaySource StoredFlow(const storage::Store* store, const std::string& job_id,
                        const storage::Snapshot* snapshot) {
  return {.verdict =
              [=](const Step& step, uint64_t index, v1::ResultRecord* out) {
                return store->GetRecord(Cf::kOutputs, keys::Task(job_id, step.key, index), out,
                                        snapshot);
              },
          .item =
              [=](uint64_t index, v1::Item* out) {
                return store->GetRecord(Cf::kItems, keys::Item(job_id, index), out, snapshot);
              }};
}

absl::StatusOr<TaskRun*> JobCatalogue::OpenItem(JobRun* run, v1::Item item, int pos) {
  const std::string& job_id = run->record.job().id();
  const uint64_t index = item.index();
  ItemFlight flight = StartFlight(run->chain);
  for (int p = 0; p < static_cast<int>(run->chain.size()); ++p) {
    if (flight.state[p] != StageState::kRunning) continue;
    v1::StageCursor* cursor = run->progress.mutable_stages(run->chain[p].index);
    cursor->set_next_item(std::max(cursor->next_item(), index + 1));
    MW_RETURN_IF_ERROR(CreateTask(run, p, EntryItem(run->chain, p, flight, item)).status());
  }
  run->flight.insert_or_assign(index, std::move(flight));
  TaskRun* task = FindTask(keys::Task(job_id, run->chain[pos].key, index));
  if (task == nullptr) {
    return absl::InternalError(absl::StrCat("step ", pos, " does not take items from the split"));
  }
  return task;
}

absl::Status JobCatalogue::OpenPiece(JobRun* run, int cut_entry, v1::Item piece, Batch* batch) {
  const uint64_t index = piece.index();
  batch->PutRecord(Cf::kItems, keys::Item(run->record.job().id(), index), piece);
  ItemFlight flight = StartFlight(run->chain, cut_entry);
  for (int p = 0; p < static_cast<int>(run->chain.size()); ++p) {
    if (!run->chain[p].is_entry(p) || run->chain[p].scope != cut_entry) continue;
    // Every stage of the scope gets one more item to do.
    v1::StageCursor* cursor = run->progress.mutable_stages(run->chain[p].index);
    cursor->set_total(cursor->total() + 1);
    if (run->chain[p].gather_index >= 0) {
      v1::StageCursor* gather = run->progress.mutable_stages(run->chain[p].gather_index);
      gather->set_total(gather->total() + 1);
    }
    if (flight.state[p] != StageState::kRunning) continue;
    cursor->set_next_item(cursor->next_item() + 1);
    MW_RETURN_IF_ERROR(CreateTask(run, p, EntryItem(run->chain, p, flight, piece)).status());
  }
  run->flight.insert_or_assign(index, std::move(flight));
  return absl::OkStatus();
}

absl::StatusOr<FlowReplay> JobCatalogue::Replay(const JobRun& run, uint64_t index) const {
  const std::string& job_id = run.record.job().id();
  MW_ASSIGN_OR_RETURN(v1::Item item, ReadItem(job_id, index));
  return ReplayFlow(run.chain, item, StoredFlow(store_, job_id));
}

std::string JobCatalogue::KeyOf(const TaskRun& task) const {
  const JobRun* run = Find(task.job_id);
  return keys::Task(task.job_id, run->chain[task.chain_pos].key, task.item_index);
}

absl::Status JobCatalogue::ReadTaskRecord(const std::string& key, v1::TaskRecord* record) const {
  return store_->GetRecord(Cf::kTasks, key, record);
}

absl::StatusOr<v1::Item> JobCatalogue::ReadItem(const std::string& job_id, uint64_t index) const {
  v1::Item item;
  MW_RETURN_IF_ERROR(store_->GetRecord(Cf::kItems, keys::Item(job_id, index), &item));
  return item;
}

absl::StatusOr<v1::Item> JobCatalogue::ReadNextItem(const std::string& job_id, uint64_t index) {
  ItemWindow* w = nullptr;
  for (ItemWindow& candidate : item_windows_) {
    if (candidate.job_id == job_id) w = &candidate;
  }
  if (w == nullptr) {
    if (item_windows_.size() < kItemWindows) {
      w = &item_windows_.emplace_back();
    } else {
      w = &*std::min_element(
          item_windows_.begin(), item_windows_.end(),
          [](const ItemWindow& a, const ItemWindow& b) { return a.used < b.used; });
    }
    w->job_id = job_id;
    w->items.clear();
    w->ahead = 0;
  }
  w->used = ++item_reads_;
  // Skip what the reader passed over; a reader that went back starts a new window.
  while (!w->items.empty() && w->first < index) {
    w->items.pop_front();
    ++w->first;
  }
  if (w->items.empty() || w->first != index) {
    // A reader that goes on from where the window ended is read twice as far ahead each time,
    // up to kItemsAhead (a lease call of many workers takes hundreds of one job's items); one
    // that starts or jumps, kItemsAheadFirst (with many jobs leased in turn, a window may serve
    // a few items before another job's takes its place).
    const bool onward = w->ahead > 0 && w->items.empty() && w->first == index;
    w->ahead = onward ? std::min(2 * w->ahead, kItemsAhead) : kItemsAheadFirst;
    w->items.clear();
    w->first = index;
    size_t bytes = 0;
    auto c = store_->ScanFrom(Cf::kItems, keys::Job(job_id), keys::Item(job_id, index));
    // Only consecutive items from `index`: a gap ends the window, and so does an item that does
    // not read (what is read ahead may not fail the item asked for).
    for (; c->Valid() && w->items.size() < w->ahead && bytes < kItemBytesAhead; c->Next()) {
      const std::optional<uint64_t> at = keys::ParseItem(c->key());
      if (!at.has_value() || *at != index + w->items.size()) break;
      v1::Item item;
      if (!c->Read(&item).ok()) break;
      bytes += c->value().size();
      w->items.push_back(std::move(item));
    }
    // Nothing read (none there, or it or the scan failed): the item, or its error, as ReadItem
    // gives it.
    if (w->items.empty()) return ReadItem(job_id, index);
  }
  v1::Item item = std::move(w->items.front());
  w->items.pop_front();
  ++w->first;
  return item;
}

size_t JobCatalogue::HeldAhead(const std::string& job_id) const {
  for (const ItemWindow& w : item_windows_) {
    if (w.job_id == job_id) return w.items.size();
  }
  return 0;
}

void JobCatalogue::PutTask(const TaskRun& task, Batch* batch) const {
  batch->PutRecord(Cf::kTasks, KeyOf(task), task.record);
}

void JobCatalogue::PutProgress(const JobRun& run, Batch* batch) {
  batch->PutRecord(Cf::kJobProgress, keys::Job(run.record.job().id()), run.progress);
}

void JobCatalogue::NoteProgress(const JobRun* run) {
  if (std::find(noted_runs_.begin(), noted_runs_.end(), run) == noted_runs_.end())
    noted_runs_.push_back(run);
}

void JobCatalogue::NoteTask(const std::string& key) { noted_tasks_.insert(key); }

void JobCatalogue::WriteNoted(Batch* batch) {
  for (const JobRun* run : noted_runs_) PutProgress(*run, batch);
  noted_runs_.clear();
  for (const std::string& key : noted_tasks_) {
    if (const TaskRun* task = FindTask(key); task != nullptr) PutTask(*task, batch);
  }
  noted_tasks_.clear();
}

}  // namespace mw::dispatch
