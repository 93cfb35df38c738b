#include "engine/dispatch/flow.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/common/status_macros.h"
#include "engine/contract/validate.h"
#include "engine/dispatch/answers.h"
#include "engine/storage/keys.h"

namespace mw::dispatch {
namespace {

// The stage that asks people to judge one field: yes/no for verify, new/previous for a vote.
v1::HumanStage JudgeStage(const v1::VerifyStage& v, const v1::HumanStage& judged,
                          std::string judged_field, std::string previous_field,
                          std::string default_instructions,
                          std::initializer_list<const char*> options) {
  v1::HumanStage h;
  *h.mutable_instructions() = v.instructions();
  if (!h.instructions().contains("en")) {
    (*h.mutable_instructions())["en"] = std::move(default_instructions);
  }
  for (const char* o : options) h.mutable_answer()->mutable_single_choice()->add_options(o);
  h.set_piece_rate_minor(v.piece_rate_minor());
  h.set_estimated_seconds(v.estimated_seconds());
  h.set_overlap(v.overlap());
  // Judging needs what producing needed to read the item, and the data goes where it went.
  *h.mutable_languages() = judged.languages();
  *h.mutable_regions() = judged.regions();
  h.set_distressing(judged.distressing());
  h.set_judged_field(std::move(judged_field));
  h.set_previous_field(std::move(previous_field));
  *h.mutable_judged_answer() = judged.answer();
  return h;
}

std::string NewField(const std::string& stage) { return absl::StrCat(stage, ".new"); }

// `item` without its fields: its index, line and, for a piece, its place.
void CopyHeader(const v1::Item& item, v1::Item* out) {
  // Field by field, not a copy of every field's text then cleared: this runs for every item of
  // an export. Every field of Item but `fields` (flow_test checks that Item has no other).
  out->set_index(item.index());
  out->set_source_line(item.source_line());
  out->set_parent(item.parent());
  out->set_position(item.position());
  out->set_cut_by(item.cut_by());
}

v1::Item Header(const v1::Item& item) {
  v1::Item out;
  CopyHeader(item, &out);
  return out;
}

void RemoveField(v1::Item* item, const std::string& name) {
  auto* fields = item->mutable_fields();
  for (int i = 0; i < fields->size(); ++i) {
    if (fields->Get(i).name() == name) {
      fields->erase(fields->begin() + i);
      return;
    }
  }
}

}  // namespace

std::vector<Step> BuildFlow(const v1::Contract& contract) {
  std::vector<Step> flow;
  std::map<std::string, const v1::HumanStage*> produced;  // human stages by name
  // Placed stages (and gathers) by name: the entry a stage after them waits for, and the scope
  // of the items such a stage sees.
  struct Placed {
    int entry = -1;
    int scope = -1;
  };
  std::map<std::string, Placed> placed;
  for (int i : contract::TopologicalOrder(contract)) {
    const v1::Stage& s = contract.stages(i);
    if (s.has_gather()) {
      // Stages after a gather see the parent again: they wait for its cutting stage.
      auto cut = placed.find(s.gather().from());
      if (cut == placed.end()) continue;
      const int entry = cut->second.entry;
      std::string field = s.gather().field();
      if (field.empty() && s.after_size() > 0) field = s.after(0);
      // Gathering a gather gathers what its cutting stage settled with.
      for (const v1::Stage& g : contract.stages()) {
        if (g.name() == field && g.has_gather()) field = g.gather().from();
      }
      for (size_t p = entry; p < flow.size() && flow[p].entry == entry; ++p) {
        flow[p].gather_index = i;
        flow[p].gather_field = field;
        flow[p].gather_name = s.name();
        flow[p].gather_readiness =
            s.readiness() == v1::READINESS_UNSPECIFIED ? v1::ALL_DONE : s.readiness();
        flow[p].gather_quorum = s.quorum();
      }
      placed[s.name()] = {.entry = entry, .scope = flow[entry].scope};
      continue;
    }
    if (!s.has_human() && !s.has_verify() && !s.has_iterate()) continue;
    const int entry = static_cast<int>(flow.size());
    if (s.has_human()) {
      flow.push_back(Step{.role = Step::Role::kHuman,
                          .index = i,
                          .stage = s.name(),
                          .name = s.name(),
                          .key = static_cast<uint32_t>(i),
                          .human = s.human()});
      produced[s.name()] = &s.human();
    } else if (s.has_verify()) {
      const std::string target = s.verify().target().empty() ? s.after(0) : s.verify().target();
      static const v1::HumanStage kNone;
      const v1::HumanStage& judged = produced.count(target) ? *produced[target] : kNone;
      flow.push_back(Step{.role = Step::Role::kVerify,
                          .index = i,
                          .stage = s.name(),
                          .name = s.name(),
                          .key = static_cast<uint32_t>(i),
                          .human = JudgeStage(s.verify(), judged, target, "",
                                              absl::StrCat("Is the answer in \"", target,
                                                           "\" right for this item? Yes or no."),
                                              {kYes, kNo})});
    } else {
      const auto& it = s.iterate();
      for (uint32_t r = 0; r < it.max_rounds(); ++r) {
        const bool last = r + 1 == it.max_rounds();
        const std::string round = absl::StrCat(s.name(), ".r", r + 1);
        if (r > 0) flow.back().next = static_cast<int>(flow.size());
        flow.push_back(Step{.role = Step::Role::kImprove,
                            .index = i,
                            .stage = s.name(),
                            .name = round,
                            .key = storage::keys::RoundStage(i, r, false),
                            .human = it.improve(),
                            .next = static_cast<int>(flow.size()) + 1,
                            .round = r,
                            .last_round = last});
        flow.push_back(Step{
            .role = Step::Role::kVote,
            .index = i,
            .stage = s.name(),
            .name = absl::StrCat(round, ".vote"),
            .key = storage::keys::RoundStage(i, r, true),
            .human = JudgeStage(
                it.vote(), it.improve(), NewField(s.name()), s.name(),
                absl::StrCat("Which version of \"", s.name(),
                             "\" is better: the new one or the previous one? (When there is no "
                             "previous one, choose \"new\" if the new one is acceptable.)"),
                {kNewVersion, kPreviousVersion}),
            .round = r,
            .last_round = last});
      }
      produced[s.name()] = &it.improve();
    }
    // The stage graph: what it waits for (the split is not a stage here, nor a cutting stage
    // for the pieces it cut), its scope, and its ancestors.
    std::vector<int> after;
    std::set<int> ancestors;
    int scope = -1;
    for (const std::string& dep : s.after()) {
      auto found = placed.find(dep);
      if (found == placed.end()) continue;  // the split
      const auto [dep_entry, dep_scope] = found->second;
      scope = dep_scope;
      ancestors.insert(dep_entry);
      for (int a : flow[dep_entry].ancestors) ancestors.insert(a);
      if (dep_scope == flow[dep_entry].scope) after.push_back(dep_entry);  // not a cut
    }
    for (int a : after) {
      for (size_t p = a; p < static_cast<size_t>(entry) && flow[p].entry == a; ++p) {
        flow[p].followers.push_back(entry);
      }
    }
    const uint32_t max_pieces = s.has_human() && s.has_pieces() ? s.pieces().max() : 0;
    // A rejection stops a whole item and keeps a piece as cut, unless the stage says otherwise.
    v1::OnReject on_reject = s.on_reject();
    if (on_reject == v1::ON_REJECT_UNSPECIFIED) {
      on_reject = scope >= 0 ? v1::KEEP_PREVIOUS : v1::STOP_ITEM;
    }
    std::string keep = s.keep();
    if (keep.empty() && scope >= 0) keep = flow[scope].stage;
    int replaces = -1;
    if (s.has_iterate()) replaces = entry;
    if (s.has_verify()) {
      auto target = placed.find(s.verify().target().empty() ? s.after(0) : s.verify().target());
      if (target != placed.end()) replaces = target->second.entry;
    }
    for (size_t p = entry; p < flow.size(); ++p) {
      Step& step = flow[p];
      step.entry = entry;
      step.after = after;
      step.ancestors.assign(ancestors.begin(), ancestors.end());
      step.readiness =
          s.readiness() == v1::READINESS_UNSPECIFIED ? v1::ALL_SUCCEEDED : s.readiness();
      step.quorum = s.quorum();
      step.scope = scope;
      step.max_pieces = max_pieces;
      step.on_reject = on_reject;
      step.keep = keep;
      step.replaces = replaces;
    }
    // A stage after a cutting stage works on its pieces.
    placed[s.name()] = {.entry = entry, .scope = max_pieces > 0 ? entry : scope};
  }
  return flow;
}

uint32_t MaxAnswers(const Step& step) {
  return std::max(step.human.overlap(), step.human.qa().max_overlap());
}

bool MayAskForMore(const Step& step, uint32_t needed) {
  return step.human.qa().confidence_target() > 0 && needed < MaxAnswers(step);
}

const std::string* FindField(const v1::Item& item, const std::string& name) {
  for (const auto& f : item.fields()) {
    if (f.name() == name) return &f.value();
  }
  return nullptr;
}

void SetField(v1::Item* item, const std::string& name, const std::string& value) {
  for (auto& f : *item->mutable_fields()) {
    if (f.name() == name) {
      f.set_value(value);
      return;
    }
  }
  v1::Field* f = item->add_fields();
  f->set_name(name);
  f->set_value(value);
}

void Enter(const Step& step, v1::Item* item) {
  if (step.role == Step::Role::kImprove && step.round == 0 &&
      FindField(*item, step.stage) == nullptr) {
    SetField(item, step.stage, "");
  }
}

int Advance(const std::vector<Step>& flow, int pos, const std::string& label, v1::Item* item) {
  const Step& step = flow[pos];
  switch (step.role) {
    case Step::Role::kHuman:
      SetField(item, step.stage, label);
      return step.next;
    case Step::Role::kVerify:
      SetField(item, step.stage, label);
      return Step::kLeave;
    case Step::Role::kImprove: {
      // An unchanged version needs no vote: the iteration has settled.
      const std::string* current = FindField(*item, step.stage);
      if (current != nullptr && !current->empty() && *current == label) return Step::kLeave;
      SetField(item, NewField(step.stage), label);
      return step.next;
    }
    case Step::Role::kVote: {
      const std::string* candidate = FindField(*item, NewField(step.stage));
      const std::string fresh = candidate != nullptr ? *candidate : "";
      RemoveField(item, NewField(step.stage));
      const std::string* current = FindField(*item, step.stage);
      const bool had_version = current != nullptr && !current->empty();
      if (label == kNewVersion) {
        SetField(item, step.stage, fresh);
        return step.last_round ? Step::kLeave : step.next;
      }
      // The previous version stays: it is final if there is one; otherwise try again (with none
      // after the last round, the stage is left rejected).
      if (had_version) return Step::kLeave;
      return step.last_round ? Step::kLeave : step.next;
    }
  }
  return Step::kLeave;
}

Leaving LeftAs(const std::vector<Step>& flow, int pos, const v1::Item& item) {
  const Step& step = flow[pos];
  const std::string* value = FindField(item, step.stage);
  bool rejected = false;
  switch (step.role) {
    case Step::Role::kVerify:
      rejected = value != nullptr && *value == kNo;
      break;
    case Step::Role::kImprove:
    case Step::Role::kVote:
      rejected = value == nullptr || value->empty();
      break;
    case Step::Role::kHuman:
      break;
  }
  if (!rejected) return {};
  v1::OnReject how = step.on_reject;
  if (how == v1::SEND_TO_REVIEW) how = step.scope >= 0 ? v1::KEEP_PREVIOUS : v1::STOP_ITEM;
  if (how != v1::KEEP_PREVIOUS || step.replaces < 0) return {.state = StageState::kRejected};
  const std::string* previous = FindField(item, step.keep);
  return {.state = StageState::kKept,
          .replaced = step.replaces,
          .previous = previous != nullptr ? *previous : ""};
}

StageState CutSettlesAs(const Step& cutting, const ItemFlight::Cut& cut) {
  const auto total = static_cast<uint32_t>(cut.values.size());
  const uint32_t succeeded = total - cut.kept - cut.LeftOut();
  switch (cutting.gather_readiness) {
    case v1::ALL_SUCCEEDED:
      return succeeded == total ? StageState::kSucceeded : StageState::kRejected;
    case v1::QUORUM:
      return succeeded >= cutting.gather_quorum ? StageState::kSucceeded : StageState::kRejected;
    default:
      return StageState::kSucceeded;
  }
}

bool HeldForReview(const Step& step, const std::string& label) {
  return step.role == Step::Role::kVerify && step.on_reject == v1::SEND_TO_REVIEW && label == kNo;
}

bool Settled(StageState s) {
  return s == StageState::kSucceeded || s == StageState::kRejected || s == StageState::kKept ||
         s == StageState::kSkipped;
}

// Whether the stage's field holds a verdict (or the version kept in its place).
bool HasValue(StageState s) {
  return s == StageState::kSucceeded || s == StageState::kRejected || s == StageState::kKept;
}

std::string ItemFlight::Cut::Joined() const {
  std::vector<absl::string_view> in;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i >= left_out.size() || !left_out[i]) in.push_back(values[i]);
  }
  return absl::StrJoin(in, "\n");
}

uint32_t ItemFlight::Cut::LeftOut() const {
  return static_cast<uint32_t>(std::count(left_out.begin(), left_out.end(), true));
}

ItemFlight StartFlight(const std::vector<Step>& flow, int scope) {
  ItemFlight flight;
  flight.scope = scope;
  flight.state.assign(flow.size(), StageState::kOutOfScope);
  flight.value.assign(flow.size(), "");
  for (size_t p = 0; p < flow.size(); ++p) {
    if (!flow[p].is_entry(static_cast<int>(p)) || flow[p].scope != scope) continue;
    ++flight.unsettled;
    flight.state[p] = flow[p].after.empty() ? StageState::kRunning : StageState::kWaiting;
  }
  return flight;
}

int EntryOf(const std::vector<Step>& flow, const std::string& stage) {
  for (const Step& step : flow) {
    if (step.stage == stage) return step.entry;
  }
  return -1;
}

bool IsPiece(uint64_t index) { return index >= kPieceBase && index < kGoldItemBase; }

uint64_t PieceIndex(uint64_t parent, uint32_t stage_index, uint32_t position) {
  const uint64_t kLow = (uint64_t{1} << 56) - 1;
  const uint64_t level = IsPiece(parent) ? ((parent - kPieceBase) >> 56) + 1 : 1;
  const uint64_t number = IsPiece(parent) ? (parent - kPieceBase) & kLow : parent;
  return kPieceBase + (level << 56) + ((number << 16) & kLow) + (uint64_t{stage_index} << 10) +
         position;
}

std::vector<std::string> SplitPieces(const std::string& verdict, uint32_t max) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(verdict, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    if (out.size() == max) break;
    out.emplace_back(line);
  }
  return out;
}

v1::Item MakePiece(const std::vector<Step>& flow, int entry, const v1::Item& parent,
                   uint32_t position, const std::string& piece) {
  v1::Item item = parent;
  item.set_index(PieceIndex(parent.index(), flow[entry].index, position));
  item.set_parent(parent.index());
  item.set_position(position);
  item.set_cut_by(flow[entry].stage);
  SetField(&item, flow[entry].stage, piece);
  return item;
}

Gathered GatheredValue(const std::vector<Step>& flow, int cut_entry, const ItemFlight& piece,
                       const v1::Item& item, std::string* value) {
  bool kept = false;
  for (size_t p = 0; p < flow.size(); ++p) {
    if (!flow[p].is_entry(static_cast<int>(p)) || flow[p].scope != cut_entry) continue;
    if (piece.state[p] == StageState::kRejected) {
      value->clear();
      return Gathered::kLeftOut;
    }
    kept |= piece.state[p] == StageState::kKept;
  }
  const int gathered = EntryOf(flow, flow[cut_entry].gather_field);
  if (gathered >= 0 && (piece.state[gathered] == StageState::kSucceeded ||
                        piece.state[gathered] == StageState::kKept)) {
    *value = piece.value[gathered];
    return kept ? Gathered::kKept : Gathered::kDone;
  }
  // Skipped (a readiness that could not be met): the piece goes back as it was cut.
  const std::string* as_cut = FindField(item, flow[cut_entry].stage);
  *value = as_cut != nullptr ? *as_cut : "";
  return Gathered::kKept;
}

namespace {

enum class Readiness { kWait, kStart, kSkip };

// Whether the stage at `entry` can start for an item standing as `flight` says. Monotone: once
// it says start or skip, more stages settling never change it.
Readiness Ready(const Step& stage, const ItemFlight& flight) {
  uint32_t succeeded = 0, rejected = 0, skipped = 0, open = 0;
  for (int a : stage.after) {
    switch (flight.state[a]) {
      case StageState::kSucceeded:
      case StageState::kKept:  // the item goes on as after a success
        ++succeeded;
        break;
      case StageState::kRejected:
        ++rejected;
        break;
      case StageState::kSkipped:
        ++skipped;
        break;
      default:
        ++open;
    }
  }
  switch (stage.readiness) {
    case v1::ALL_DONE:
      if (skipped > 0) return Readiness::kSkip;
      return open == 0 ? Readiness::kStart : Readiness::kWait;
    case v1::QUORUM:
      if (succeeded >= stage.quorum) return Readiness::kStart;
      return succeeded + open < stage.quorum ? Readiness::kSkip : Readiness::kWait;
    default:
      if (rejected + skipped > 0) return Readiness::kSkip;
      return open == 0 ? Readiness::kStart : Readiness::kWait;
  }
}

}  // namespace

std::vector<int> Settle(const std::vector<Step>& flow, int entry, StageState state,
                        std::string value, ItemFlight* flight, std::vector<int>* settled) {
  std::vector<int> started;
  // Stages to settle, with how; a stage is pushed once: when it leaves kWaiting or kRunning.
  std::vector<std::pair<int, StageState>> todo = {{entry, state}};
  flight->value[entry] = std::move(value);
  while (!todo.empty()) {
    auto [at, how] = todo.back();
    todo.pop_back();
    if (Settled(flight->state[at])) continue;  // not reached: each is pushed once
    flight->state[at] = how;
    --flight->unsettled;
    if (settled != nullptr) settled->push_back(at);
    for (int f : flow[at].followers) {
      if (flight->state[f] != StageState::kWaiting) continue;  // started (a quorum) or settled
      switch (Ready(flow[f], *flight)) {
        case Readiness::kStart:
          flight->state[f] = StageState::kRunning;
          started.push_back(f);
          break;
        case Readiness::kSkip:
          todo.push_back({f, StageState::kSkipped});
          flight->state[f] = StageState::kRunning;  // pushed; settled when popped
          break;
        case Readiness::kWait:
          break;
      }
    }
  }
  std::sort(started.begin(), started.end());
  return started;
}

std::vector<int> Settle(const std::vector<Step>& flow, int entry, const Leaving& left,
                        std::string value, ItemFlight* flight, std::vector<int>* settled) {
  if (left.state == StageState::kKept) {
    if (left.replaced == entry) {
      value = left.previous;
    } else if (left.replaced >= 0) {
      flight->value[left.replaced] = left.previous;
    }
  }
  return Settle(flow, entry, left.state, std::move(value), flight, settled);
}

namespace {

// Whether `name` is the field of a stage of `scope` (or a new version of one).
bool IsStageField(const std::vector<Step>& flow, int scope, absl::string_view name) {
  name = absl::StripSuffix(name, ".new");
  for (const Step& step : flow) {
    if (step.stage == name && step.scope == scope) return true;
  }
  return false;
}

// `item`'s fields, taken out of it in order; the caller owns them. Off an arena (an Item held by
// value) they are the objects themselves, not copies of their text.
std::vector<std::unique_ptr<v1::Field>> TakeFields(v1::Item* item) {
  auto* fields = item->mutable_fields();
  std::vector<v1::Field*> raw(fields->size());
  fields->ExtractSubrange(0, fields->size(), raw.data());
  std::vector<std::unique_ptr<v1::Field>> taken;
  taken.reserve(raw.size());
  for (v1::Field* f : raw) taken.emplace_back(f);
  return taken;
}

void SetAncestorFields(const std::vector<Step>& flow, int entry, const ItemFlight& flight,
                       v1::Item* item) {
  for (int a : flow[entry].ancestors) {
    if (HasValue(flight.state[a])) SetField(item, flow[a].stage, flight.value[a]);
  }
}

// EntryItem, into `item`: cleared first, its fields' objects kept and filled again.
void FillEntryItem(const std::vector<Step>& flow, int entry, const ItemFlight& flight,
                   const v1::Item& from, v1::Item* item) {
  item->Clear();
  CopyHeader(from, item);
  item->mutable_fields()->Reserve(from.fields_size());
  for (const auto& f : from.fields()) {
    if (!IsStageField(flow, flight.scope, f.name())) *item->add_fields() = f;
  }
  SetAncestorFields(flow, entry, flight, item);
}

}  // namespace

v1::Item EntryItem(const std::vector<Step>& flow, int entry, const ItemFlight& flight,
                   const v1::Item& from) {
  v1::Item item;
  FillEntryItem(flow, entry, flight, from, &item);
  return item;
}

v1::Item EntryItem(const std::vector<Step>& flow, int entry, const ItemFlight& flight,
                   v1::Item&& from) {
  v1::Item item = Header(from);
  item.mutable_fields()->Reserve(from.fields_size());
  for (std::unique_ptr<v1::Field>& f : TakeFields(&from)) {
    if (!IsStageField(flow, flight.scope, f->name())) {
      item.mutable_fields()->AddAllocated(f.release());
    }
  }
  SetAncestorFields(flow, entry, flight, &item);
  return item;
}

namespace {

// ReplayFlow, with `movable` (when not null) the same item as `input`, whose fields the
// replay's item takes once nothing else reads them, and `walk` (when not null) the item walked
// through the stages (ReplaySource::walk).
absl::StatusOr<FlowReplay> Replay(const std::vector<Step>& flow, const v1::Item& input,
                                  v1::Item* movable, v1::Item* walk, const ReplaySource& source) {
  FlowReplay replay;
  replay.verdicts.reserve(flow.size());  // at most one a step: no moves as they come
  const int scope = input.cut_by().empty() ? -1 : EntryOf(flow, input.cut_by());
  replay.flight = StartFlight(flow, scope);
  ItemFlight& flight = replay.flight;
  // Stages in flow order: every stage a stage waits for comes before it. Each sees the item in
  // turn, filled again in place (its fields' objects are reused; one that waits is moved out).
  v1::Item own;
  v1::Item& item = walk != nullptr ? *walk : own;
  for (int entry = 0; entry < static_cast<int>(flow.size()); ++entry) {
    if (!flow[entry].is_entry(entry)) continue;
    // Waiting: its stages are still open; settled: skipped (Settle decided both).
    if (flight.state[entry] != StageState::kRunning) continue;
    FillEntryItem(flow, entry, flight, input, &item);
    int at = entry;
    Enter(flow[at], &item);
    while (true) {
      // Read in its place among the verdicts, taken back when the item goes no further.
      v1::ResultRecord& out = replay.verdicts.emplace_back();
      absl::Status s = source.verdict(flow[at], input.index(), &out);
      if (absl::IsNotFound(s)) {
        replay.verdicts.pop_back();
        replay.waiting.push_back({at, std::move(item)});
        break;
      }
      if (!s.ok()) return s;
      if (out.held() && out.reviewed_by().empty()) {
        replay.verdicts.pop_back();
        replay.held.push_back(at);  // waits for a person, not for a task
        break;
      }
      // The item moves as it did when the verdict was made (a held one: with the person's
      // answer); a later review's answer shows in its field.
      const std::string reviewed = AnswerLabel(out.answer());
      const int next =
          Advance(flow, at, out.held() || out.routed().empty() ? reviewed : out.routed(), &item);
      const Step& step = flow[at];
      const Leaving left = next == Step::kLeave ? LeftAs(flow, at, item) : Leaving{};
      if (!out.reviewed_by().empty() &&
          (step.role == Step::Role::kHuman || step.role == Step::Role::kVerify)) {
        SetField(&item, step.stage, reviewed);
      }
      if (next != Step::kLeave) {
        at = next;
        Enter(flow[at], &item);
        continue;
      }
      const std::string* value = FindField(item, step.stage);
      const std::string verdict = value != nullptr ? *value : "";
      if (step.max_pieces > 0) {
        // Cut: the stage settles once every piece is done, with their gathered values.
        const std::vector<std::string> pieces = SplitPieces(verdict, step.max_pieces);
        ItemFlight::Cut& cut = flight.cuts[entry];
        cut.values.resize(pieces.size());
        cut.left_out.assign(pieces.size(), false);
        for (uint32_t i = 0; i < pieces.size(); ++i) {
          v1::Item piece;
          MW_RETURN_IF_ERROR(source.item(PieceIndex(input.index(), flow[entry].index, i), &piece));
          MW_ASSIGN_OR_RETURN(FlowReplay done, Replay(flow, piece, &piece, nullptr, source));
          if (done.flight.finished()) {
            const Gathered g = GatheredValue(flow, entry, done.flight, done.item, &cut.values[i]);
            cut.kept += g == Gathered::kKept;
            cut.left_out[i] = g == Gathered::kLeftOut;
          } else {
            ++cut.open;
          }
          replay.pieces.push_back(std::move(done));
        }
        if (cut.open > 0) break;
        Settle(flow, entry, CutSettlesAs(flow[entry], cut), cut.Joined(), &flight);
        break;
      }
      Settle(flow, entry, left, verdict, &flight);
      break;
    }
  }
  replay.item = movable != nullptr ? EntryItem(flow, 0, flight, std::move(*movable))
                                   : EntryItem(flow, 0, flight, input);
  for (int p = 0; p < static_cast<int>(flow.size()); ++p) {
    if (flow[p].is_entry(p) && HasValue(flight.state[p])) {
      SetField(&replay.item, flow[p].stage, flight.value[p]);
    }
  }
  return replay;
}

}  // namespace

absl::StatusOr<FlowReplay> ReplayFlow(const std::vector<Step>& flow, const v1::Item& input,
                                      const ReplaySource& source) {
  return Replay(flow, input, nullptr, source.walk, source);
}

absl::StatusOr<FlowReplay> ReplayFlow(const std::vector<Step>& flow, v1::Item&& input,
                                      const ReplaySource& source) {
  return Replay(flow, input, &input, source.walk, source);
}

std::string ItemStatus(const std::vector<Step>& flow, const ItemFlight& flight) {
  std::vector<std::string> said;
  for (int p = 0; p < static_cast<int>(flow.size()); ++p) {
    if (!flow[p].is_entry(p)) continue;
    if (flight.state[p] == StageState::kRejected && flow[p].max_pieces > 0) {
      said.push_back(absl::StrCat("stopped by ", flow[p].gather_name, ": too few pieces of ",
                                  flow[p].stage, " succeeded"));
    } else if (flight.state[p] == StageState::kRejected) {
      said.push_back(absl::StrCat("rejected by ", flow[p].stage));
    } else if (flight.state[p] == StageState::kKept) {
      said.push_back(absl::StrCat("kept ", flow[p].keep, " as ", flow[flow[p].replaces].stage,
                                  ": rejected by ", flow[p].stage));
    }
  }
  return said.empty() ? "succeeded" : absl::StrJoin(said, "; ");
}

v1::Item ExportedItem(const std::vector<Step>& flow, v1::Item item) {
  // A flow has a few steps: looked through in place, without a set built for every row of an
  // export.
  auto a_stage = [&](const std::string& name, size_t before) {
    return std::any_of(flow.begin(), flow.begin() + static_cast<std::ptrdiff_t>(before),
                       [&](const Step& step) { return step.stage == name; });
  };
  // The fields themselves move over (the objects, not copies of their text): the input's in
  // their order, then each stage's in flow order, its name and value alone.
  v1::Item out = Header(item);
  out.mutable_fields()->Reserve(item.fields_size() + static_cast<int>(flow.size()));
  std::vector<std::unique_ptr<v1::Field>> stage_fields;
  for (std::unique_ptr<v1::Field>& f : TakeFields(&item)) {
    if (a_stage(f->name(), flow.size())) {
      stage_fields.push_back(std::move(f));
    } else {
      out.mutable_fields()->AddAllocated(f.release());
    }
  }
  for (size_t i = 0; i < flow.size(); ++i) {
    if (a_stage(flow[i].stage, i)) continue;  // placed already
    auto found = std::find_if(stage_fields.begin(), stage_fields.end(), [&](const auto& f) {
      return f != nullptr && f->name() == flow[i].stage;  // the first, as FindField's
    });
    if (found == stage_fields.end()) {
      out.add_fields()->set_name(flow[i].stage);
      continue;
    }
    v1::Field* field = found->release();
    field->clear_media();  // the stage's field: its name and value alone
    const auto* reflection = field->GetReflection();
    if (!reflection->GetUnknownFields(*field).empty()) {
      reflection->MutableUnknownFields(field)->Clear();
    }
    out.mutable_fields()->AddAllocated(field);
  }
  return out;
}

}  // namespace mw::dispatch
