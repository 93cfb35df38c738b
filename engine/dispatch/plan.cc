#include "engine/dispatch/plan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/money.h"
#include "engine/common/status_macros.h"

namespace mw::dispatch {
namespace {

const char* KindName(Step::Role role) {
  switch (role) {
    case Step::Role::kHuman:
      return "human";
    case Step::Role::kVerify:
      return "verify";
    case Step::Role::kImprove:
      return "improve";
    case Step::Role::kVote:
      return "vote";
  }
  return "human";
}

// Check tasks leased alongside `regular` answers at `per_thousand`: one is due after every
// ceil(1000 / per_thousand) - 1 regular ones (the leasing rule), so at most this many.
uint64_t GoldAnswers(uint64_t regular, uint32_t per_thousand) {
  if (per_thousand == 0 || regular == 0) return 0;
  const uint64_t between = (1000 + per_thousand - 1) / per_thousand - 1;
  if (between == 0) return regular;
  return (regular + between - 1) / between;
}

}  // namespace

absl::StatusOr<ContractPlan> PlanContract(const v1::Contract& contract, uint64_t items) {
  ContractPlan plan;
  plan.items = items;
  std::vector<Step> flow = BuildFlow(contract);
  for (const Step& step : flow) plan.pieces |= step.max_pieces > 0;
  if (plan.pieces && items > kMaxItemsWithPieces) {
    return absl::InvalidArgumentError(
        absl::StrCat("a contract whose stages cut pieces takes at most ", kMaxItemsWithPieces,
                     " items, got ", items));
  }
  // How many items reach a step: the job's, times the pieces of every cut it works under, at
  // most (pieces.max) and as expected (pieces.expected, or the most when not given).
  auto reach = [&](const Step& step, bool expected) {
    uint64_t k = items;
    for (int scope = step.scope; scope >= 0; scope = flow[scope].scope) {
      const v1::Pieces& pieces = contract.stages(flow[scope].index).pieces();
      k *= expected && pieces.expected() != 0 ? pieces.expected() : pieces.max();
    }
    return k;
  };
  for (Step& step : flow) {
    StepPlan s;
    const uint64_t reached = reach(step, false);
    const uint64_t expected = reach(step, true);
    s.step = std::move(step);
    const v1::HumanStage& h = s.step.human;
    s.kind = KindName(s.step.role);
    s.tasks = reached;
    s.expected_tasks = expected;
    const auto n = static_cast<int64_t>(reached);
    s.overlap = MaxAnswers(s.step);
    const int64_t rate = h.piece_rate_minor();
    MW_ASSIGN_OR_RETURN(const int64_t per_item, MulMinor(s.overlap, rate));
    // A verify that sends its "no"s to a person pays, at most, one review per item too.
    const bool reviews =
        s.step.role == Step::Role::kVerify && s.step.on_reject == v1::SEND_TO_REVIEW;
    MW_ASSIGN_OR_RETURN(s.wages, MulMinor(per_item + (reviews ? rate : 0), n));
    MW_ASSIGN_OR_RETURN(const int64_t expected_wages,
                        MulMinor(per_item + (reviews ? rate : 0), static_cast<int64_t>(expected)));
    MW_ASSIGN_OR_RETURN(plan.expected_wages, AddMinor(plan.expected_wages, expected_wages));
    s.gold_answers = GoldAnswers(reached * s.overlap, h.qa().gold_per_thousand());
    MW_ASSIGN_OR_RETURN(s.gold_wages, MulMinor(static_cast<int64_t>(s.gold_answers), rate));
    MW_ASSIGN_OR_RETURN(s.training_per_newcomer,
                        MulMinor(static_cast<int64_t>(h.qa().training_tasks()), rate));
    if (auto hourly = HourlyRateMinor(rate, h.estimated_seconds()); hourly.ok()) {
      s.hourly = *hourly;
    }
    MW_ASSIGN_OR_RETURN(plan.wages, AddMinor(plan.wages, s.wages));
    MW_ASSIGN_OR_RETURN(plan.gold_wages, AddMinor(plan.gold_wages, s.gold_wages));
    MW_ASSIGN_OR_RETURN(plan.training_per_newcomer,
                        AddMinor(plan.training_per_newcomer, s.training_per_newcomer));
    plan.steps.push_back(std::move(s));
  }
  MW_ASSIGN_OR_RETURN(const int64_t paid, AddMinor(plan.wages, plan.gold_wages));
  plan.fee = PerMilleOf(paid, contract.platform_fee_per_mille());
  MW_ASSIGN_OR_RETURN(const int64_t expected_paid, AddMinor(plan.expected_wages, plan.gold_wages));
  plan.expected_fee = PerMilleOf(expected_paid, contract.platform_fee_per_mille());
  return plan;
}

absl::Status CheckBudget(const v1::Contract& contract, const ContractPlan& plan) {
  // With pieces, how many there will be is known only as people cut them: the budget must
  // cover the expected cost, and a job whose next pieces it cannot pay for waits on its budget.
  if (contract.budget_minor() >= plan.budgeted()) return absl::OkStatus();
  if (plan.pieces) {
    const std::string& cur = contract.currency();
    return absl::FailedPreconditionError(
        absl::StrCat("budget ", FormatMoney(contract.budget_minor(), cur),
                     " is below the expected cost ", FormatMoney(plan.budgeted(), cur), " of ",
                     plan.items, " items cut into their expected pieces (at most ",
                     FormatMoney(plan.cost(), cur), " if every item is cut into its most)"));
  }
  const std::string& cur = contract.currency();
  std::string parts;
  if (plan.gold_wages > 0 || plan.fee > 0) {
    parts = absl::StrCat(" (wages ", FormatMoney(plan.wages, cur), ", check tasks ",
                         FormatMoney(plan.gold_wages, cur), ", platform fee ",
                         FormatMoney(plan.fee, cur), ")");
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "budget ", FormatMoney(contract.budget_minor(), cur), " is below the cost ",
      FormatMoney(plan.cost(), cur), " of ", plan.items, " items through every stage", parts));
}

Eligibility StepEligibility(const v1::Contract& contract, const v1::HumanStage& stage,
                            const v1::Centre& centre) {
  Eligibility e = CentreEligibility(contract, stage, centre);
  // A centre that lists no languages has not said: its workers' own languages decide.
  if (!e.ok || centre.languages().empty()) return e;
  for (const std::string& language : stage.languages()) {
    if (std::find(centre.languages().begin(), centre.languages().end(), language) ==
        centre.languages().end()) {
      return {false, absl::StrCat("the centre does not list the stage's language ", language)};
    }
  }
  return e;
}

std::vector<std::string> UnservableSteps(const v1::Contract& contract,
                                         const std::vector<Step>& flow,
                                         const std::vector<v1::Centre>& centres) {
  std::vector<std::string> out;
  for (const Step& step : flow) {
    std::vector<std::string> why;
    bool served = false;
    for (const v1::Centre& centre : centres) {
      const Eligibility e = StepEligibility(contract, step.human, centre);
      if (e.ok) {
        served = true;
        break;
      }
      why.push_back(absl::StrCat(centre.id(), ": ", e.why_not));
    }
    if (served) continue;
    out.push_back(absl::StrCat("stage ", step.name, ": ",
                               why.empty() ? "no centre is registered" : absl::StrJoin(why, "; ")));
  }
  return out;
}

absl::Status CheckServable(const v1::Contract& contract, const std::vector<Step>& flow,
                           const std::vector<v1::Centre>& centres) {
  const std::vector<std::string> unservable = UnservableSteps(contract, flow, centres);
  if (unservable.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("no registered centre can take this work:\n  ",
                                                    absl::StrJoin(unservable, "\n  ")));
}

absl::Status CheckGoldSupply(const v1::Stage& stage, uint64_t usable, uint64_t quarantined,
                             const std::string& first_bad) {
  const v1::QaPolicy& qa = stage.human().qa();
  if (usable > 0 || (qa.gold_per_thousand() == 0 && qa.training_tasks() == 0)) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("stage \"", stage.name(), "\" asks for check tasks, but its gold input \"",
                   stage.human().gold_input(), "\" has no usable row (", quarantined, " refused",
                   first_bad.empty() ? "" : absl::StrCat("; the first at ", first_bad), ")"));
}

bool CentreCost::serves_any() const {
  return std::any_of(steps.begin(), steps.end(), [](const Eligibility& e) { return e.ok; });
}

bool CentreCost::serves_all() const {
  return std::all_of(steps.begin(), steps.end(), [](const Eligibility& e) { return e.ok; });
}

CentreCost CostAt(const v1::Contract& contract, const ContractPlan& plan,
                  const v1::Centre& centre) {
  CentreCost out;
  out.centre = centre.id();
  out.share = PerMilleOf(plan.wages + plan.gold_wages, centre.centre_share_per_mille());
  out.total = plan.cost() + out.share;
  for (const StepPlan& s : plan.steps) {
    out.steps.push_back(StepEligibility(contract, s.step.human, centre));
  }
  return out;
}

}  // namespace mw::dispatch
