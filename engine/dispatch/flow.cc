#include "engine/dispatch/flow.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
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
  return h;
}

std::string NewField(const std::string& stage) { return absl::StrCat(stage, ".new"); }

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
  std::map<std::string, int> entry_of;                    // placed stages' entries, by name
  for (int i : contract::TopologicalOrder(contract)) {
    const v1::Stage& s = contract.stages(i);
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
    // The stage graph: what it waits for (the split is not a stage here), and its ancestors.
    std::vector<int> after;
    std::set<int> ancestors;
    for (const std::string& dep : s.after()) {
      auto found = entry_of.find(dep);
      if (found == entry_of.end()) continue;  // the split
      after.push_back(found->second);
      ancestors.insert(found->second);
      for (int a : flow[found->second].ancestors) ancestors.insert(a);
    }
    for (int a : after) {
      for (size_t p = a; p < flow.size() && flow[p].entry == a && p < static_cast<size_t>(entry);
           ++p) {
        flow[p].followers.push_back(entry);
      }
    }
    for (size_t p = entry; p < flow.size(); ++p) {
      Step& step = flow[p];
      step.entry = entry;
      step.after = after;
      step.ancestors.assign(ancestors.begin(), ancestors.end());
      step.readiness =
          s.readiness() == v1::READINESS_UNSPECIFIED ? v1::ALL_SUCCEEDED : s.readiness();
      step.quorum = s.quorum();
    }
    entry_of[s.name()] = entry;
  }
  return flow;
}

uint32_t MaxAnswers(const Step& step) {
  return std::max(step.human.overlap(), step.human.qa().max_overlap());
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

StageState LeftAs(const std::vector<Step>& flow, int pos, const v1::Item& item) {
  const Step& step = flow[pos];
  const std::string* value = FindField(item, step.stage);
  switch (step.role) {
    case Step::Role::kVerify:
      return value != nullptr && *value == kNo ? StageState::kRejected : StageState::kSucceeded;
    case Step::Role::kImprove:
    case Step::Role::kVote:
      return value == nullptr || value->empty() ? StageState::kRejected : StageState::kSucceeded;
    case Step::Role::kHuman:
      break;
  }
  return StageState::kSucceeded;
}

bool Settled(StageState s) {
  return s == StageState::kSucceeded || s == StageState::kRejected || s == StageState::kSkipped;
}

ItemFlight StartFlight(const std::vector<Step>& flow) {
  ItemFlight flight;
  flight.state.assign(flow.size(), StageState::kWaiting);
  flight.value.assign(flow.size(), "");
  for (size_t p = 0; p < flow.size(); ++p) {
    if (!flow[p].is_entry(static_cast<int>(p))) continue;
    ++flight.unsettled;
    if (flow[p].after.empty()) flight.state[p] = StageState::kRunning;
  }
  return flight;
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

v1::Item EntryItem(const std::vector<Step>& flow, int entry, const ItemFlight& flight,
                   const v1::Item& from) {
  auto is_stage_field = [&](absl::string_view name) {
    name = absl::StripSuffix(name, ".new");
    for (const Step& step : flow) {
      if (step.stage == name) return true;
    }
    return false;
  };
  v1::Item item;
  item.set_index(from.index());
  item.set_source_line(from.source_line());
  for (const auto& f : from.fields()) {
    if (!is_stage_field(f.name())) *item.add_fields() = f;
  }
  for (int a : flow[entry].ancestors) {
    const StageState s = flight.state[a];
    if (s == StageState::kSucceeded || s == StageState::kRejected) {
      SetField(&item, flow[a].stage, flight.value[a]);
    }
  }
  return item;
}

absl::StatusOr<FlowReplay> ReplayFlow(
    const std::vector<Step>& flow, const v1::Item& input,
    const std::function<absl::Status(const Step&, v1::ResultRecord*)>& verdict_of) {
  FlowReplay replay;
  replay.flight = StartFlight(flow);
  ItemFlight& flight = replay.flight;
  // Stages in flow order: every stage a stage waits for comes before it.
  for (int entry = 0; entry < static_cast<int>(flow.size()); ++entry) {
    if (!flow[entry].is_entry(entry)) continue;
    if (flight.state[entry] == StageState::kWaiting) {
      // Not started by Settle below (a skip is decided there too): its stages are still open.
      continue;
    }
    if (flight.state[entry] != StageState::kRunning) continue;  // skipped
    v1::Item item = EntryItem(flow, entry, flight, input);
    int at = entry;
    Enter(flow[at], &item);
    while (true) {
      v1::ResultRecord out;
      absl::Status s = verdict_of(flow[at], &out);
      if (absl::IsNotFound(s)) {
        replay.waiting.push_back({at, std::move(item)});
        break;
      }
      if (!s.ok()) return s;
      // The item moves as it did when the verdict was made; a review's answer shows in its field.
      const std::string reviewed = AnswerLabel(out.answer());
      const int next = Advance(flow, at, out.routed().empty() ? reviewed : out.routed(), &item);
      const Step& step = flow[at];
      const StageState left = next == Step::kLeave ? LeftAs(flow, at, item) : StageState::kRunning;
      if (!out.reviewed_by().empty() &&
          (step.role == Step::Role::kHuman || step.role == Step::Role::kVerify)) {
        SetField(&item, step.stage, reviewed);
      }
      replay.verdicts.push_back(std::move(out));
      if (next != Step::kLeave) {
        at = next;
        Enter(flow[at], &item);
        continue;
      }
      const std::string* value = FindField(item, step.stage);
      Settle(flow, entry, left, value != nullptr ? *value : "", &flight);
      break;
    }
  }
  replay.item = EntryItem(flow, 0, flight, input);
  for (int p = 0; p < static_cast<int>(flow.size()); ++p) {
    const StageState s = flight.state[p];
    if (flow[p].is_entry(p) && (s == StageState::kSucceeded || s == StageState::kRejected)) {
      SetField(&replay.item, flow[p].stage, flight.value[p]);
    }
  }
  return replay;
}

std::string ItemStatus(const std::vector<Step>& flow, const v1::Item& item) {
  std::set<int> seen;
  for (const Step& step : flow) {
    if (!seen.insert(step.index).second) continue;
    const std::string* value = FindField(item, step.stage);
    if (step.role == Step::Role::kVerify && value != nullptr && *value == kNo) {
      return absl::StrCat("rejected by ", step.stage);
    }
    if (step.role == Step::Role::kImprove && value != nullptr && value->empty()) {
      return absl::StrCat("rejected by ", step.stage);
    }
  }
  return "succeeded";
}

v1::Item ExportedItem(const std::vector<Step>& flow, const v1::Item& item) {
  std::set<std::string> stages;
  for (const Step& step : flow) stages.insert(step.stage);
  v1::Item out;
  out.set_index(item.index());
  out.set_source_line(item.source_line());
  for (const auto& f : item.fields()) {
    if (!stages.count(f.name())) *out.add_fields() = f;
  }
  std::set<std::string> placed;
  for (const Step& step : flow) {
    if (!placed.insert(step.stage).second) continue;
    const std::string* value = FindField(item, step.stage);
    SetField(&out, step.stage, value != nullptr ? *value : "");
  }
  return out;
}

}  // namespace mw::dispatch
