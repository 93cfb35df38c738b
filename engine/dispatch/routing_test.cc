#include "engine/dispatch/routing.h"

#include "gtest/gtest.h"

namespace mw::dispatch {
namespace {

class RoutingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    contract_.set_currency("USD");
    stage_.set_piece_rate_minor(5);
    stage_.set_estimated_seconds(20);  // 9.00 USD/h
    centre_.set_id("c");
    centre_.set_region("KE");
    centre_.set_currency("USD");
    centre_.set_wage_floor_minor_per_hour(900);
  }
  microwork::v1::Contract contract_;
  microwork::v1::HumanStage stage_;
  microwork::v1::Centre centre_;
};

TEST_F(RoutingTest, AtTheFloorIsEligible) {
  EXPECT_TRUE(CentreEligibility(contract_, stage_, centre_).ok);
}

TEST_F(RoutingTest, BelowTheFloorSaysWhy) {
  centre_.set_wage_floor_minor_per_hour(901);
  auto e = CentreEligibility(contract_, stage_, centre_);
  EXPECT_FALSE(e.ok);
  EXPECT_EQ(e.why_not, "pays 9.00 USD/h, below the centre's floor of 9.01 USD/h");
}

TEST_F(RoutingTest, DataResidency) {
  stage_.add_regions("IN");
  stage_.add_regions("UG");
  EXPECT_EQ(CentreEligibility(contract_, stage_, centre_).why_not,
            "region KE is not among the stage's regions (IN, UG)");
}

TEST_F(RoutingTest, CurrencyWithoutRate) {
  centre_.set_currency("KES");
  EXPECT_EQ(CentreEligibility(contract_, stage_, centre_).why_not,
            "pays in KES; no exchange rate from USD is agreed");
}

TEST_F(RoutingTest, AnAgreedRateConvertsTheHourlyPayBeforeTheFloorCheck) {
  centre_.set_currency("KES");
  auto* rate = contract_.add_exchange_rates();
  rate->set_currency("KES");
  rate->set_rate("129.50");
  rate->set_agreed_at("2026-11-01T09:00:00Z");
  rate->set_agreed_by("Amina");
  // 9.00 USD/h is 1165.50 KES/h at the agreed rate.
  centre_.set_wage_floor_minor_per_hour(116550);
  EXPECT_TRUE(CentreEligibility(contract_, stage_, centre_).ok);
  centre_.set_wage_floor_minor_per_hour(116551);
  EXPECT_EQ(CentreEligibility(contract_, stage_, centre_).why_not,
            "pays 9.00 USD/h (1165.50 KES/h at 1 USD = 129.50 KES (agreed "
            "2026-11-01T09:00:00Z by Amina)), below the centre's floor of 1165.51 KES/h");
  centre_.set_currency("UGX");
  EXPECT_EQ(CentreEligibility(contract_, stage_, centre_).why_not,
            "pays in UGX; no exchange rate from USD is agreed");
}

TEST_F(RoutingTest, WorkerNeedsEverySkillAndLanguage) {
  stage_.add_skills("ocr");
  stage_.add_languages("sw");
  microwork::v1::WorkerOnDuty w;
  w.add_skills("ocr");
  EXPECT_FALSE(WorkerQualifies(stage_, w));
  w.add_languages("sw");
  EXPECT_TRUE(WorkerQualifies(stage_, w));
}

}  // namespace
}  // namespace mw::dispatch
