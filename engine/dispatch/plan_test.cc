#include "engine/dispatch/plan.h"

#include "engine/contract/validate.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace mw::dispatch {
namespace {

// 1-cent labels, three answers each, a check task in every ten, five training tasks, 20% fee.
v1::Contract PennyContract() {
  v1::Contract c;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        name: "penny"
        client: "acme"
        currency: "USD"
        budget_minor: 100000
        platform_fee_per_mille: 200
        inputs { name: "rows" format: FORMAT_CSV inline_text: "text\na\n" }
        inputs { name: "gold" format: FORMAT_CSV inline_text: "text,answer\na,x\n" }
        stages {
          name: "rows"
          split { input: "rows" by: SPLIT_ROWS }
        }
        stages {
          name: "label"
          after: "rows"
          human {
            instructions { key: "en" value: "Pick one." }
            answer { single_choice { options: "x" options: "y" } }
            piece_rate_minor: 1
            estimated_seconds: 4
            overlap: 3
            qa { gold_per_thousand: 100 training_tasks: 5 }
            gold_input: "gold"
          }
        }
      )pb",
      &c));
  EXPECT_TRUE(contract::ValidateContract(c, contract::Limits()).empty())
      << contract::ErrorsToStatus(contract::ValidateContract(c, contract::Limits()));
  return c;
}

TEST(PlanTest, PricesWagesCheckTasksAndTheFeeOnTheirTotal) {
  const v1::Contract c = PennyContract();
  auto plan = PlanContract(c, 1000);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->steps.size(), 1u);
  const StepPlan& s = plan->steps[0];
  EXPECT_EQ(s.kind, "human");
  EXPECT_EQ(s.tasks, 1000u);
  EXPECT_EQ(s.overlap, 3u);
  EXPECT_EQ(s.wages, 3000);
  EXPECT_EQ(s.gold_answers, 334u);  // one after every 9 regular answers: ceil(3000 / 9)
  EXPECT_EQ(s.gold_wages, 334);
  EXPECT_EQ(s.training_per_newcomer, 5);
  EXPECT_EQ(s.hourly, 900);  // 1 cent per 4 s: 9.00 USD/h
  // The fee is 20% of the total, not 20% of each cent rounded (which would be 0).
  EXPECT_EQ(plan->fee, 667);  // 20% of 33.34 USD = 6.668, rounded
  EXPECT_EQ(plan->cost(), 3000 + 334 + 667);
}

TEST(PlanTest, TheBudgetRuleNamesItsParts) {
  v1::Contract c = PennyContract();
  auto plan = PlanContract(c, 1000);
  ASSERT_TRUE(plan.ok());
  c.set_budget_minor(plan->cost());
  EXPECT_TRUE(CheckBudget(c, *plan).ok());
  c.set_budget_minor(plan->cost() - 1);
  const absl::Status s = CheckBudget(c, *plan);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "budget 40.00 USD is below the cost 40.01 USD of 1000 items through every stage "
            "(wages 30.00 USD, check tasks 3.34 USD, platform fee 6.67 USD)");
}

TEST(PlanTest, ACentresShareIsPricedOnTopAndItsEligibilitySaysWhy) {
  const v1::Contract c = PennyContract();
  auto plan = PlanContract(c, 1000);
  ASSERT_TRUE(plan.ok());
  v1::Centre centre;
  centre.set_id("nairobi");
  centre.set_region("KE");
  centre.set_currency("USD");
  centre.set_wage_floor_minor_per_hour(901);  // above the stage's 9.00 USD/h
  centre.set_centre_share_per_mille(150);
  const CentreCost at = CostAt(c, *plan, centre);
  EXPECT_EQ(at.share, 500);  // 15% of 33.34 USD = 5.001
  EXPECT_EQ(at.total, plan->cost() + 500);
  ASSERT_EQ(at.steps.size(), 1u);
  EXPECT_FALSE(at.steps[0].ok);
  EXPECT_FALSE(at.serves_any());
  centre.set_wage_floor_minor_per_hour(900);
  EXPECT_TRUE(CostAt(c, *plan, centre).serves_all());
  // A stage in Kiswahili needs a centre that lists it, when the centre lists its languages.
  centre.add_languages("en");
  v1::Contract sw = c;
  sw.mutable_stages(1)->mutable_human()->add_languages("sw");
  auto sw_plan = PlanContract(sw, 1000);
  ASSERT_TRUE(sw_plan.ok());
  const CentreCost no_sw = CostAt(sw, *sw_plan, centre);
  EXPECT_FALSE(no_sw.serves_any());
  EXPECT_EQ(no_sw.steps[0].why_not, "the centre does not list the stage's language sw");
  centre.add_languages("sw");
  EXPECT_TRUE(CostAt(sw, *sw_plan, centre).serves_all());
}

TEST(PlanTest, AStageThatAsksForCheckTasksNeedsAUsableGoldRow) {
  const v1::Contract c = PennyContract();  // gold_per_thousand 100, training 5
  const v1::Stage& label = c.stages(1);
  EXPECT_TRUE(CheckGoldSupply(label, 1, 0, "").ok());
  const absl::Status s = CheckGoldSupply(label, 0, 3, "line 2: gold answer: no");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "stage \"label\" asks for check tasks, but its gold input \"gold\" has no usable row "
            "(3 refused; the first at line 2: gold answer: no)");
  v1::Stage no_gold = label;
  no_gold.mutable_human()->mutable_qa()->Clear();
  EXPECT_TRUE(CheckGoldSupply(no_gold, 0, 3, "line 2: x").ok());
}

}  // namespace
}  // namespace mw::dispatch
