// ContractPlan: what a contract will ask of people and what it can cost, step by step. One home
// for the price of a contract: the dispatcher refuses a submission whose budget cannot pay for
// it, and `mw contract check` prints the same figures before anything is sent.
//
//   MW_ASSIGN_OR_RETURN(ContractPlan plan, PlanContract(contract, items));
//   MW_RETURN_IF_ERROR(CheckBudget(contract, plan));
//
// Costs are worst cases under the contract's caps: every item through every step (every round of
// an iteration) at its highest overlap, check (gold) tasks at the stage's rate, and the
// platform's fee on the total, exact to the minor unit (payroll.h). Training is priced per
// newcomer, since how many newcomers come is not known in advance; a centre's share is priced
// per centre (CostAt), since the work may go to any eligible centre.
#ifndef MW_ENGINE_DISPATCH_PLAN_H_
#define MW_ENGINE_DISPATCH_PLAN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/dispatch/flow.h"
#include "engine/dispatch/routing.h"
#include "microwork/v1/contract.pb.h"
#include "microwork/v1/dispatch.pb.h"

namespace mw::dispatch {

struct StepPlan {
  Step step;
  std::string kind;             // "human", "verify", "improve" or "vote"
  uint64_t tasks = 0;           // one per item (per piece at most, for a stage on pieces)
  uint64_t expected_tasks = 0;  // per piece as expected (Pieces.expected)
  uint32_t overlap = 0;         // answers per task at most
  int64_t wages = 0;            // tasks x overlap x piece rate
  uint64_t gold_answers = 0;    // check tasks mixed in at the stage's gold rate, at most
  int64_t gold_wages = 0;
  int64_t training_per_newcomer = 0;  // qa.training_tasks x piece rate
  std::optional<int64_t> hourly;      // piece rate / estimated time, per hour
};

struct ContractPlan {
  std::vector<StepPlan> steps;  // in flow order (BuildFlow)
  uint64_t items = 0;
  int64_t wages = 0;       // every step's regular answers
  int64_t gold_wages = 0;  // every step's check tasks
  int64_t fee = 0;         // the platform's, on wages + gold_wages
  int64_t training_per_newcomer = 0;
  // Stages cut pieces: the figures above are for every item cut into its most pieces, and these
  // for the expected pieces.
  bool pieces = false;
  int64_t expected_wages = 0;
  int64_t expected_fee = 0;
  // The most it can cost: wages, check tasks and the fee.
  int64_t cost() const { return wages + gold_wages + fee; }
  int64_t expected_cost() const { return expected_wages + gold_wages + expected_fee; }
  // What the budget must cover at submission: the cost, or with pieces the expected cost.
  int64_t budgeted() const { return pieces ? expected_cost() : cost(); }
};

// The plan of `contract` (which ValidateContract accepted) over `items` items. INVALID_ARGUMENT
// when a cost overflows.
[[nodiscard]] absl::StatusOr<ContractPlan> PlanContract(const v1::Contract& contract,
                                                        uint64_t items);

// FAILED_PRECONDITION, naming the budget, the cost and its parts, when `contract`'s budget is
// below `plan.cost()`.
[[nodiscard]] absl::Status CheckBudget(const v1::Contract& contract, const ContractPlan& plan);

// Whether `centre` can take `stage`'s work: the routing rule (CentreEligibility) and the
// stage's languages among those the centre lists (when it lists any).
Eligibility StepEligibility(const v1::Contract& contract, const v1::HumanStage& stage,
                            const v1::Centre& centre);

// The steps of `flow` no centre in `centres` can take, one line each:
// "stage <name>: <centre>: <why>; <centre>: <why>" ("no centre is registered" without any).
std::vector<std::string> UnservableSteps(const v1::Contract& contract,
                                         const std::vector<Step>& flow,
                                         const std::vector<v1::Centre>& centres);

// FAILED_PRECONDITION listing UnservableSteps when there are any: work that would sit at 0%
// with its budget locked.
[[nodiscard]] absl::Status CheckServable(const v1::Contract& contract,
                                         const std::vector<Step>& flow,
                                         const std::vector<v1::Centre>& centres);

// INVALID_ARGUMENT when `stage` asks for check tasks (qa.gold_per_thousand or
// qa.training_tasks) and its gold input gave none it can use: the job would run without any,
// silently. `quarantined` rows of that input were refused, the first for `first_bad`
// ("line N: reason"; empty when none were).
[[nodiscard]] absl::Status CheckGoldSupply(const v1::Stage& stage, uint64_t usable,
                                           uint64_t quarantined, const std::string& first_bad);

// What the plan costs at `centre` if every answer came from there: the centre's share on top,
// and per step whether the centre may take it (StepEligibility).
struct CentreCost {
  std::string centre;
  int64_t share = 0;               // Centre.centre_share_per_mille of wages + gold_wages
  int64_t total = 0;               // plan.cost() + share
  std::vector<Eligibility> steps;  // as plan.steps
  bool serves_any() const;
  bool serves_all() const;
};
CentreCost CostAt(const v1::Contract& contract, const ContractPlan& plan, const v1::Centre& centre);

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_PLAN_H_
