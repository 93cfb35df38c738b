#include "engine/dispatch/flow.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "engine/contract/validate.h"
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
  // Where a rejection leads is known once the next stage is placed: patch these then.
  std::vector<size_t> reject_from;
  auto place = [&](const v1::Stage& s) {
    const int here = static_cast<int>(flow.size());
    for (size_t f : reject_from) {
      // ALL_DONE: a rejected item still goes through the next stage; otherwise it is finished.
      if (s.readiness() == v1::ALL_DONE) flow[f].on_reject = here;
    }
    reject_from.clear();
    if (!flow.empty()) {
      Step& prev = flow.back();
      if (prev.role == Step::Role::kVote) {
        for (Step& st : flow) {
          if ((st.role == Step::Role::kVote || st.role == Step::Role::kImprove) &&
              st.index == prev.index) {
            st.exit = here;
            if (st.role == Step::Role::kVote && st.last_round) st.next = here;
          }
        }
      } else {
        prev.next = here;
      }
    }
  };
  std::map<std::string, const v1::HumanStage*> produced;  // human stages by name
  for (int i : contract::TopologicalOrder(contract)) {
    const v1::Stage& s = contract.stages(i);
    if (s.has_human()) {
      place(s);
      flow.push_back(Step{.role = Step::Role::kHuman,
                          .index = i,
                          .stage = s.name(),
                          .name = s.name(),
                          .key = static_cast<uint32_t>(i),
                          .human = s.human()});
      produced[s.name()] = &s.human();
    } else if (s.has_verify()) {
      place(s);
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
      reject_from.push_back(flow.size() - 1);
    } else if (s.has_iterate()) {
      place(s);
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
        reject_from.push_back(flow.size() - 1);
      }
      produced[s.name()] = &it.improve();
    }
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
      return label == kNo ? step.on_reject : step.next;
    case Step::Role::kImprove: {
      // An unchanged version needs no vote: the iteration has settled.
      const std::string* current = FindField(*item, step.stage);
      if (current != nullptr && !current->empty() && *current == label) return step.exit;
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
        return step.last_round ? step.exit : step.next;
      }
      // The previous version stays: it is final if there is one; otherwise try again.
      if (had_version) return step.exit;
      return step.last_round ? step.on_reject : step.next;
    }
  }
  return -1;
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
