// Engine: the client's output. An item's row is replayed from the verdicts stored for it along
// the job's flow (flow.h), so a restart, a review and the export all see the path the item took;
// the contract's merge stage shapes the rows: one per item, or one per key.
#include <algorithm>
#include <map>
#include <memory>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/ids.h"
#include "engine/common/run_ahead.h"
#include "engine/common/status_macros.h"
#include "engine/dispatch/answers.h"
#include "engine/dispatch/engine.h"
#include "engine/storage/keys.h"

namespace mw::dispatch {

using storage::Cf;
namespace keys = storage::keys;

namespace {

// One item of an export as it is read: the item and each step's verdict of it, by the step's
// position in the flow. Read on one thread and replayed on another (Engine::ExportResults).
struct ReadItem {
  // kNone: it has none yet; kTaken: the replay has it (asked again, it is a point read).
  enum class Verdict : uint8_t { kNone, kRead, kTaken };
  uint64_t index = 0;
  v1::Item item;
  std::vector<v1::ResultRecord> verdicts;  // by flow position
  std::vector<Verdict> state;              // by flow position
};

// Where an export reads verdicts from: items come in increasing index order, so each step's
// verdicts are read by one forward cursor over the job's outputs (a merge join) rather than one
// point read per item and step. Used on one thread.
class SequentialFlow {
 public:
  SequentialFlow(const storage::Store* store, std::string job_id, const storage::Snapshot* snapshot)
      : store_(store), job_id_(std::move(job_id)), snapshot_(snapshot) {}

  // The first item (not a piece) past `after` (from the first when nullopt) with a verdict at
  // `step`, or nullopt when there is none: what a job's export walks while it is under way. The
  // step's cursor stays on it, so ReadVerdicts reads that verdict without a second cursor.
  absl::StatusOr<std::optional<uint64_t>> NextWithVerdict(const Step& step,
                                                          std::optional<uint64_t> after) {
    Reader& r = Open(step);
    if (after.has_value()) r.asked = std::max(r.asked, *after + 1);
    return Advance(r, r.asked, /*skip_pieces=*/true);
  }

  // Every step's verdict of item `into->index` (not a piece), into `into`.
  // REQUIRES: items are asked in increasing order (the cursors only move forward).
  absl::Status ReadVerdicts(const std::vector<Step>& flow, ReadItem* into) {
    into->verdicts.resize(flow.size());
    into->state.assign(flow.size(), ReadItem::Verdict::kNone);
    for (size_t p = 0; p < flow.size(); ++p) {
      Reader& r = Open(flow[p]);
      if (into->index < r.asked) {
        return absl::InternalError(absl::StrCat("export: item ", into->index, " asked after ",
                                                r.asked, " at ", flow[p].name));
      }
      r.asked = into->index;
      MW_ASSIGN_OR_RETURN(std::optional<uint64_t> at,
                          Advance(r, into->index, /*skip_pieces=*/false));
      if (at != into->index) continue;
      MW_RETURN_IF_ERROR(r.cursor->Read(&into->verdicts[p]));
      into->state[p] = ReadItem::Verdict::kRead;
    }
    return absl::OkStatus();
  }

 private:
  struct Reader {
    std::unique_ptr<storage::Cursor> cursor;
    uint64_t asked = 0;  // the highest index asked of it; the cursor is on or before its verdict
  };

  Reader& Open(const Step& step) {
    Reader& r = readers_[step.key];
    if (r.cursor == nullptr) {
      r.cursor = store_->Scan(Cf::kOutputs, keys::StagePrefix(job_id_, step.key), snapshot_);
    }
    return r;
  }

  // Moves `r`'s cursor forward to the first verdict of an item at or past `from` (not a piece,
  // when `skip_pieces`) and returns that item, or nullopt at the end of the step's verdicts.
  static absl::StatusOr<std::optional<uint64_t>> Advance(Reader& r, uint64_t from,
                                                         bool skip_pieces) {
    for (; r.cursor->Valid(); r.cursor->Next()) {
      std::optional<keys::TaskKey> at = keys::ParseTask(r.cursor->key());
      if (!at.has_value()) return absl::DataLossError("malformed output key");
      if (at->item < from || (skip_pieces && IsPiece(at->item))) continue;
      return std::optional<uint64_t>(at->item);
    }
    MW_RETURN_IF_ERROR(r.cursor->status());
    return std::optional<uint64_t>();
  }

  const storage::Store* const store_;
  const std::string job_id_;
  const storage::Snapshot* const snapshot_;
  std::map<uint32_t, Reader> readers_;  // by step key
};

// Where the replay of `*current` finds its verdicts: those read with it, taken once; a piece's,
// one asked again or one of another item by a point read.
ReplaySource ReadAheadSource(const storage::Store* store, const std::string& job_id,
                             const storage::Snapshot* snapshot, const std::vector<Step>& flow,
                             ReadItem* const* current) {
  return {.verdict = [=, &job_id, &flow](const Step& step, uint64_t index,
                                         v1::ResultRecord* out) -> absl::Status {
            ReadItem& read = **current;
            if (index == read.index && !IsPiece(index)) {
              for (size_t p = 0; p < flow.size(); ++p) {
                if (flow[p].key != step.key) continue;
                if (read.state[p] == ReadItem::Verdict::kNone) {
                  return absl::NotFoundError("no verdict yet");
                }
                if (read.state[p] == ReadItem::Verdict::kRead) {
                  read.state[p] = ReadItem::Verdict::kTaken;
                  out->Swap(&read.verdicts[p]);
                  return absl::OkStatus();
                }
                break;
              }
            }
            return store->GetRecord(Cf::kOutputs, keys::Task(job_id, step.key, index), out,
                                    snapshot);
          },
          .item =
              [=, &job_id](uint64_t index, v1::Item* out) {
                return store->GetRecord(Cf::kItems, keys::Item(job_id, index), out, snapshot);
              }};
}

// An export's items go from the reading thread to the one making rows this many at a time, at
// most kReadBatchesAhead batches ahead.
constexpr size_t kReadBatch = 64;
constexpr size_t kReadBatchesAhead = 8;

absl::Status NotStored(const Step& step, uint64_t item) {
  return absl::DataLossError(
      absl::StrCat("item ", item, " has a verdict at ", step.name, " but is not stored"));
}

}  // namespace

absl::StatusOr<FlowReplay> Engine::ReplayItem(const std::string& job_id,
                                              const std::vector<StageRun>& flow,
                                              const v1::Item& item,
                                              const storage::Snapshot* snapshot) const {
  return ReplayFlow(flow, item, StoredFlow(store_.get(), job_id, snapshot));
}

absl::StatusOr<std::optional<v1::ResultRecord>> Engine::ExportedRow(
    const std::string& job_id, const std::vector<StageRun>& flow, uint64_t item_index,
    const storage::Snapshot* snapshot, const std::string& ended) const {
  v1::Item item;
  MW_RETURN_IF_ERROR(
      store_->GetRecord(Cf::kItems, keys::Item(job_id, item_index), &item, snapshot));
  MW_ASSIGN_OR_RETURN(FlowReplay path, ReplayItem(job_id, flow, item, snapshot));
  v1::ResultRecord row;
  if (!RowOf(job_id, flow, path, item_index, ended, &row)) return std::nullopt;
  return row;
}

bool Engine::RowOf(const std::string& job_id, const std::vector<StageRun>& flow, FlowReplay& path,
                   uint64_t item_index, const std::string& ended, v1::ResultRecord* out) {
  v1::ResultRecord& row = *out;
  // Every verdict on the way, read before the last becomes the row; the lists are moved, not
  // copied, but for the last one's workers, which the row keeps too (its answers go in the
  // provenance alone).
  google::protobuf::RepeatedPtrField<v1::Provenance> provenance;
  for (size_t i = 0; i < path.verdicts.size(); ++i) {
    v1::ResultRecord& v = path.verdicts[i];
    const bool last = i + 1 == path.verdicts.size();
    v1::Provenance* p = provenance.Add();
    p->set_stage(v.stage());
    p->set_answer(v.answer().has_text() ? v.answer().text() : AnswerLabel(v.answer()));
    if (v.answer().has_spans() || v.answer().has_pick() || v.answer().has_ranking() ||
        v.answer().has_shapes()) {
      *p->mutable_value() = v.answer();
    }
    p->set_confidence(v.confidence());
    if (last) {
      *p->mutable_workers() = v.workers();
    } else {
      p->mutable_workers()->Swap(v.mutable_workers());
    }
    p->mutable_answers()->Swap(v.mutable_worker_answers());
  }
  if (!path.flight.finished()) {
    // Unfinished: listed only once the job has stopped for good, and never a check task.
    if (ended.empty() || item_index >= kGoldItemBase) return false;
    row.set_job_id(job_id);
    row.set_item_index(item_index);
    // Before the stages it waited at (or, never opened, the first).
    std::vector<std::string> before;
    for (const FlowReplay::Waiting& w : path.waiting) {
      if (before.empty() || before.back() != flow[w.pos].stage) before.push_back(flow[w.pos].stage);
    }
    for (int pos : path.held) before.push_back(absl::StrCat(flow[pos].stage, " (in review)"));
    if (before.empty()) before.push_back(flow[0].stage);
    row.set_status(absl::StrCat(ended, " before ", absl::StrJoin(before, ", ")));
  } else if (path.verdicts.empty()) {
    return false;
  } else {
    // The row carries the last verdict, the item's status and every verdict on the way.
    row = std::move(path.verdicts.back());
    row.clear_routed();
    row.set_status(ItemStatus(flow, path.flight));
    // Pieces turned down are gathered with their previous version, or left out: said, never
    // silent.
    for (const auto& [entry, cut] : path.flight.cuts) {
      if (cut.kept > 0) {
        absl::StrAppend(row.mutable_status(), "; ", cut.kept, " of ", cut.values.size(),
                        " pieces of ", flow[entry].stage, " kept their previous version");
      }
      if (const uint32_t out = cut.LeftOut(); out > 0) {
        absl::StrAppend(row.mutable_status(), "; ", out, " of ", cut.values.size(), " pieces of ",
                        flow[entry].stage, " left out (stopped)");
      }
    }
  }
  row.set_item_index(item_index);
  *row.mutable_item() = ExportedItem(flow, std::move(path.item));
  row.mutable_provenance()->Swap(&provenance);
  // The pieces nest under their parent, in order.
  for (FlowReplay& piece : path.pieces) {
    if (!RowOf(job_id, flow, piece, piece.item.index(), ended, row.add_children())) {
      row.mutable_children()->RemoveLast();
    }
  }
  return true;
}

absl::Status Engine::ExportResults(const std::string& job_id,
                                   const std::function<bool(v1::ResultRecord&&)>& sink) const {
  std::vector<StageRun> flow;
  v1::MergeStage merge;
  std::string ended;
  uint64_t seen = 0;
  {
    absl::MutexLock l(&mu_);
    const JobRun* run = catalogue_.Find(job_id);
    if (run == nullptr) return absl::NotFoundError(absl::StrCat("no job ", job_id));
    flow = run->chain;
    const v1::JobState state = run->progress.state();
    if (EndedEarly(state)) ended = state == v1::JOB_CANCELLED ? "cancelled" : "deadline passed";
    if (run->merge_stage >= 0) merge = run->record.contract().stages(run->merge_stage).merge();
    seen = queue_->LastTicket();
  }
  // What a watcher was already told (a job completed) is on disk before the snapshot is taken,
  // so the export holds every result the job's state counts.
  MW_RETURN_IF_ERROR(queue_->WaitDurable(seen));
  auto snapshot = store_->GetSnapshot();
  // Finished items in input order. Items are keyed in index order and split items come first;
  // their verdicts are read alongside (SequentialFlow).
  //
  // Every item enters the stages straight after the split, the first step among them, and is
  // finished only once each of those has its verdict. So unless the job stopped early (then
  // every item is listed, finished or not), the items are taken from the first step's verdicts:
  // a partly done job's export reads what got that far, not every item of the job.
  //
  // The items and their verdicts are read on a thread of their own (RunAhead), a few batches
  // ahead of their replay and rows on this one: an export uses two cores, and `sink` is called
  // here.
  auto read_items = [&](const std::function<bool(ReadItem &&)>& put) -> absl::Status {
    SequentialFlow verdicts(store_.get(), job_id, snapshot.get());
    auto c = store_->Scan(Cf::kItems, keys::JobPrefix(job_id), snapshot.get());
    const bool by_verdicts = ended.empty();
    std::optional<uint64_t> wanted;  // by_verdicts: the item whose verdict is next
    for (bool first = true;; first = false) {
      if (by_verdicts) {
        MW_ASSIGN_OR_RETURN(wanted, verdicts.NextWithVerdict(flow[0], wanted));
        if (!wanted.has_value()) return absl::OkStatus();
        c->SkipTo(keys::Item(job_id, *wanted));
      } else if (!first) {
        c->Next();
      }
      if (!c->Valid()) {
        MW_RETURN_IF_ERROR(c->status());
        if (!by_verdicts) return absl::OkStatus();
        return NotStored(flow[0], *wanted);
      }
      auto index = keys::ParseItem(c->key());
      if (!index.has_value()) return absl::DataLossError("malformed item key");
      if (by_verdicts && *index != *wanted) return NotStored(flow[0], *wanted);
      if (IsPiece(*index)) continue;  // exported under its parent
      ReadItem read;
      read.index = *index;
      MW_RETURN_IF_ERROR(c->Read(&read.item));
      MW_RETURN_IF_ERROR(verdicts.ReadVerdicts(flow, &read));
      if (!put(std::move(read))) return absl::OkStatus();
    }
  };
  auto each_row =
      [&](const std::function<absl::StatusOr<bool>(v1::ResultRecord &&)>& f) -> absl::Status {
    ReadItem* current = nullptr;
    ReplaySource source = ReadAheadSource(store_.get(), job_id, snapshot.get(), flow, &current);
    v1::Item walk;  // every item's replay walks this one
    source.walk = &walk;
    return RunAhead<ReadItem>(read_items,
                              [&](ReadItem& read) -> absl::StatusOr<bool> {
                                current = &read;
                                MW_ASSIGN_OR_RETURN(FlowReplay path,
                                                    ReplayFlow(flow, std::move(read.item), source));
                                v1::ResultRecord row;
                                if (!RowOf(job_id, flow, path, read.index, ended, &row))
                                  return true;
                                return f(std::move(row));
                              },
                              {.batch_items = kReadBatch, .batches_ahead = kReadBatchesAhead});
  };
  if (merge.mode() != v1::GROUP_BY_KEY && merge.mode() != v1::PICK_WINNER) {
    return each_row(
        [&](v1::ResultRecord&& row) -> absl::StatusOr<bool> { return sink(std::move(row)); });
  }

  // By key: first the keys in the order they appear and their items (the winner's, for
  // PICK_WINNER), then one row per key. Memory grows with the number of items, not their size.
  auto key_of = [&](const v1::ResultRecord& row) {
    const std::string* v = FindField(row.item(), merge.key_field());
    return v != nullptr ? *v : std::string();
  };
  struct Group {
    std::vector<uint64_t> items;
    double best = -1;  // PICK_WINNER: the winner's confidence
  };
  std::vector<std::string> order;
  std::map<std::string, Group> groups;
  MW_RETURN_IF_ERROR(each_row([&](v1::ResultRecord&& row) -> absl::StatusOr<bool> {
    const std::string key = key_of(row);
    auto [it, fresh] = groups.try_emplace(key);
    if (fresh) order.push_back(key);
    Group& g = it->second;
    if (merge.mode() == v1::GROUP_BY_KEY) {
      g.items.push_back(row.item().index());
    } else if (row.status() == "succeeded" && row.confidence() > g.best) {
      g.best = row.confidence();
      g.items.assign(1, row.item().index());
    } else if (g.items.empty()) {
      g.items.assign(1, row.item().index());  // none succeeded yet: the first stands in
    }
    return true;
  }));
  const std::string separator = merge.separator().empty() ? "\n" : merge.separator();
  for (const std::string& key : order) {
    const Group& g = groups.at(key);
    std::optional<v1::ResultRecord> merged;
    std::vector<std::string> workers;
    for (uint64_t index : g.items) {
      MW_ASSIGN_OR_RETURN(auto row, ExportedRow(job_id, flow, index, snapshot.get(), ended));
      if (!row.has_value()) return absl::DataLossError("an exported item changed during export");
      if (!merged.has_value()) {
        merged = *std::move(row);
        merged->add_merged_items(index);
        continue;
      }
      // GROUP_BY_KEY: the fields joined in input order, the weakest confidence, every worker,
      // the first rejection.
      merged->add_merged_items(index);
      for (int f = 0; f < merged->item().fields_size(); ++f) {
        v1::Field* field = merged->mutable_item()->mutable_fields(f);
        if (field->name() == merge.key_field() || f >= row->item().fields_size()) continue;
        field->set_value(absl::StrCat(field->value(), separator, row->item().fields(f).value()));
      }
      merged->set_confidence(std::min(merged->confidence(), row->confidence()));
      for (const auto& w : row->workers()) merged->add_workers(w);
      for (auto& p : *row->mutable_provenance()) *merged->add_provenance() = std::move(p);
      if (merged->status() == "succeeded") merged->set_status(row->status());
    }
    if (merge.mode() == v1::GROUP_BY_KEY && merged->merged_items_size() > 1) {
      merged->clear_answer();
      merged->set_votes(0);
    }
    if (!sink(*std::move(merged))) return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status Engine::ExportAnswers(const std::string& job_id,
                                   const std::function<bool(v1::AnswerRow&&)>& sink) const {
  uint64_t seen = 0;
  {
    absl::MutexLock l(&mu_);
    if (catalogue_.Find(job_id) == nullptr) {
      return absl::NotFoundError(absl::StrCat("no job ", job_id));
    }
    seen = queue_->LastTicket();
  }
  MW_RETURN_IF_ERROR(queue_->WaitDurable(seen));  // every answer already counted, on disk
  auto snapshot = store_->GetSnapshot();
  auto c = store_->Scan(Cf::kContributions, keys::JobPrefix(job_id), snapshot.get());
  for (; c->Valid(); c->Next()) {
    v1::ContributionRecord rec;
    if (absl::Status s = c->Read(&rec); !s.ok()) {
      return absl::DataLossError(
          absl::StrCat("contribution ", absl::CHexEscape(c->key()), ": ", s.message()));
    }
    const v1::Result& r = rec.result();
    absl::StatusOr<TaskRef> ref = ParseTaskId(rec.task_id());
    if (!ref.ok()) {
      return absl::DataLossError(absl::StrCat("contribution ", absl::CHexEscape(c->key()),
                                              ": task id: ", ref.status().message()));
    }
    v1::AnswerRow row;
    row.set_task_id(rec.task_id());
    row.set_stage(ref->stage);
    row.set_item_index(ref->item);
    row.set_worker(r.worker());
    row.set_centre(rec.centre());
    *row.mutable_answer() = r.answer();
    row.set_active_seconds(r.active_seconds());
    row.set_credited_seconds(rec.receipt().credited_seconds());
    row.set_wage_minor(rec.receipt().wage_minor());
    row.set_currency(rec.receipt().currency());
    row.set_late(rec.receipt().late());
    row.set_counted(rec.counted());
    row.set_check(rec.receipt().check());
    row.set_check_correct(rec.receipt().check_correct());
    row.set_answered_at_ms(r.answered_at_ms());
    v1::Withholding held;
    absl::Status found = store_->GetRecord(
        Cf::kWithholdings, keys::Withholding(rec.centre(), rec.receipt().contribution_id()), &held,
        snapshot.get());
    if (!found.ok() && !absl::IsNotFound(found)) return found;
    row.set_withheld(found.ok() && held.dispute() != v1::DISPUTE_RESTORED);
    if (!sink(std::move(row))) return absl::OkStatus();
  }
  return c->status();
}

}  // namespace mw::dispatch
