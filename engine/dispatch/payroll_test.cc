#include "engine/dispatch/payroll.h"

#include <map>
#include <random>

#include "gtest/gtest.h"

namespace mw::dispatch {
namespace {

TEST(PayrollTest, TwentyPercentOfOneCentIsChargedOnTheRunningTotal) {
  v1::Accrual fee;
  std::vector<int64_t> charged;
  for (int i = 0; i < 10; ++i) charged.push_back(Accrue(&fee, 1, 200));
  EXPECT_EQ(charged, (std::vector<int64_t>{0, 0, 1, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(fee.basis_minor(), 10);
  EXPECT_EQ(fee.charged_minor(), 2);
}

// The regression behind the per-answer rounding: 609.39 USD of 1-cent wages at 20% charged 0.
TEST(PayrollTest, FeeOnManySmallWagesIsTheAgreedShareOfTheirTotal) {
  v1::Accrual fee;
  int64_t sum = 0;
  for (int i = 0; i < 60939; ++i) sum += Accrue(&fee, 1, 200);
  EXPECT_EQ(sum, 12188);  // 20% of 60,939 cents, rounded half up
}

TEST(PayrollTest, AVoidedWageIsTakenBackAndTheNextChargeCorrectsTheRounding) {
  v1::Accrual share;
  const int64_t a = Accrue(&share, 3, 150);  // 0.45 -> 0
  const int64_t b = Accrue(&share, 3, 150);  // 0.90 -> 1
  EXPECT_EQ(a + b, 1);
  Unaccrue(&share, 3, b);  // the second wage is voided with its leg
  EXPECT_EQ(share.basis_minor(), 3);
  EXPECT_EQ(share.charged_minor(), 0);
  EXPECT_EQ(Accrue(&share, 3, 150), 1);
  EXPECT_EQ(share.charged_minor(), PerMilleOf(6, 150));
}

TEST(PayrollTest, AZeroRateChargesNothingAndKeepsNoTotal) {
  v1::JobProgressRecord progress;
  const FeeAndShare charged = Charge(&progress, "a", {.fee_per_mille = 0, .share_per_mille = 0}, 5);
  EXPECT_EQ(charged.fee, 0);
  EXPECT_EQ(charged.share, 0);
  EXPECT_FALSE(progress.has_fee());
  EXPECT_TRUE(progress.centre_shares().empty());
  Uncharge(&progress, "a", {.fee_per_mille = 0, .share_per_mille = 0}, 5, charged);
  EXPECT_FALSE(progress.has_fee());
  EXPECT_TRUE(progress.centre_shares().empty());
}

TEST(PayrollTest, UnchargeTakesBackWhatChargeCharged) {
  v1::JobProgressRecord progress;
  const PayTerms terms{.fee_per_mille = 200, .share_per_mille = 150};
  Charge(&progress, "a", terms, 4);
  const FeeAndShare second = Charge(&progress, "a", terms, 4);
  Uncharge(&progress, "a", terms, 4, second);
  EXPECT_EQ(progress.fee().basis_minor(), 4);
  EXPECT_EQ(progress.fee().charged_minor(), PerMilleOf(4, 200));
  EXPECT_EQ(progress.centre_shares().at("a").basis_minor(), 4);
  EXPECT_EQ(progress.centre_shares().at("a").charged_minor(), PerMilleOf(4, 150));
}

TEST(PayrollTest, DueOnChargesNothing) {
  v1::JobProgressRecord progress;
  const PayTerms terms{.fee_per_mille = 100, .share_per_mille = 50};
  const FeeAndShare due = DueOn(progress, "nairobi", terms, 30);
  EXPECT_EQ(due.fee, 3);
  EXPECT_EQ(due.share, 2);  // 1.5 rounds half up
  EXPECT_EQ(due.total(30), 35);
  EXPECT_EQ(progress.fee().charged_minor(), 0);
  EXPECT_TRUE(progress.centre_shares().empty());
  const FeeAndShare charged = Charge(&progress, "nairobi", terms, 30);
  EXPECT_EQ(charged.fee, 3);
  EXPECT_EQ(charged.share, 2);
  EXPECT_EQ(progress.centre_shares().at("nairobi").charged_minor(), 2);
}

TEST(PayrollTest, ExposureIsWhatTheLiveLeasesWillCostWithTheirFeeAndShares) {
  v1::JobProgressRecord progress;
  const std::map<std::string, uint32_t> share = {{"a", 150}, {"b", 0}};
  auto rate = [&](const std::string& c) { return share.at(c); };
  // 7 live leases of 1 cent at a, 3 at b, fee 20%: fee on 10 = 2, a's share on 7 = 1.
  EXPECT_EQ(Exposure(progress, 200, {{"a", 7}, {"b", 3}}, rate), 10 + 2 + 1);
  EXPECT_EQ(Exposure(progress, 200, {}, rate), 0);
  // One more lease asked for, at a centre with leases out and at one without.
  EXPECT_EQ(Exposure(progress, 200, {{"a", 7}, {"b", 3}}, rate, "a", 1), 11 + 2 + 1);
  EXPECT_EQ(Exposure(progress, 200, {{"a", 7}}, rate, "b", 3), 10 + 2 + 1);
}

// Property: over random piece rates, fee and share rates and centres, the charged totals are
// the agreed per-mille of the wages to within one minor unit, for every job and every centre.
TEST(PayrollTest, TotalsAreExactOverRandomRates) {
  std::mt19937_64 rng(20261201);
  for (int job = 0; job < 200; ++job) {
    const uint32_t fee_pm = rng() % 400;
    const std::vector<uint32_t> share_pm = {static_cast<uint32_t>(rng() % 300),
                                            static_cast<uint32_t>(rng() % 300)};
    v1::JobProgressRecord progress;
    int64_t wages = 0, fees = 0;
    std::vector<int64_t> centre_wages(2), shares(2);
    const int answers = 1 + static_cast<int>(rng() % 500);
    for (int i = 0; i < answers; ++i) {
      const int64_t rate = 1 + static_cast<int64_t>(rng() % 37);
      const int c = static_cast<int>(rng() % 2);
      const std::string centre = c == 0 ? "a" : "b";
      const FeeAndShare due = DueOn(progress, centre, {fee_pm, share_pm[c]}, rate);
      const FeeAndShare got = Charge(&progress, centre, {fee_pm, share_pm[c]}, rate);
      ASSERT_EQ(due.fee, got.fee);
      ASSERT_EQ(due.share, got.share);
      wages += rate;
      fees += got.fee;
      centre_wages[c] += rate;
      shares[c] += got.share;
    }
    const int64_t exact_fee = wages * fee_pm;  // in thousandths
    EXPECT_LE(std::abs(fees * 1000 - exact_fee), 1000) << "job " << job;
    for (int c = 0; c < 2; ++c) {
      EXPECT_LE(std::abs(shares[c] * 1000 - centre_wages[c] * share_pm[c]), 1000)
          << "job " << job << " centre " << c;
    }
  }
}

TEST(PayrollTest, TimeOnTaskIsCreditedUpToTheLeaseWindowAndAMultipleOfTheEstimate) {
  // A 20 s estimate, ten times at most: 200 s; the lease was held 120 s.
  EXPECT_EQ(CreditTime(18, 20, 10, 120'000).credited_seconds, 18u);
  EXPECT_EQ(CreditTime(18, 20, 10, 120'000).held_seconds, 0u);
  EXPECT_EQ(CreditTime(150, 20, 10, 120'000).credited_seconds, 120u);
  EXPECT_EQ(CreditTime(150, 20, 10, 120'000).held_seconds, 30u);
  EXPECT_EQ(CreditTime(500, 20, 10, 3'600'000).credited_seconds, 200u);
  EXPECT_EQ(CreditTime(500, 20, 10, 3'600'000).held_seconds, 300u);
  // The attack: the most a uint32 holds, from a centre that wants a top-up.
  const TimeCredit minted = CreditTime(4294967295u, 20, 10, 120'000);
  EXPECT_EQ(minted.credited_seconds, 120u);
  EXPECT_EQ(minted.held_seconds, 4294967295u - 120u);
  // No estimate: the lease window alone; a window of part of a second counts as a whole one.
  EXPECT_EQ(CreditTime(4294967295u, 0, 10, 1'500).credited_seconds, 2u);
  // A clock that went backwards gives no window at all.
  EXPECT_EQ(CreditTime(30, 20, 10, -5).credited_seconds, 0u);
  EXPECT_EQ(CreditTime(30, 20, 10, -5).held_seconds, 30u);
}

TEST(PayrollTest, TheUnionOfLeaseWindowsCountsTimeHeldAtOnceOnce) {
  v1::LeaseWindows w;
  WindowUnion u(&w, WindowUnion::kAllRuns);
  EXPECT_EQ(u.Add(0, 600'000), 600'000);        // ten tasks leased at once...
  EXPECT_EQ(u.Add(0, 600'000), 0);              // ...add nothing after the first
  EXPECT_EQ(u.Add(300'000, 900'000), 300'000);  // overlapping: its tail
  EXPECT_EQ(u.Add(2'000'000, 2'100'000), 100'000);
  EXPECT_EQ(u.Add(1'000'000, 1'100'000), 100'000);  // answered out of order: between the two
  EXPECT_EQ(u.Add(850'000, 2'050'000), 1'000'000);  // bridges three runs into one
  EXPECT_EQ(u.Add(900'000, 900'000), 0);            // empty
  EXPECT_EQ(u.Add(5'000, 1'000), 0);                // backwards
  EXPECT_EQ(u.covered_ms(), 2'100'000);
  EXPECT_EQ(u.covered_seconds(), 2100u);
  ASSERT_EQ(w.runs_size(), 1);
  EXPECT_EQ(w.runs(0).start_ms(), 0);
  EXPECT_EQ(w.runs(0).end_ms(), 2'100'000);
}

TEST(PayrollTest, AUnionKeepsItsLatestRunsAndNeverCountsOlderTimeAgain) {
  v1::LeaseWindows w;
  WindowUnion u(&w, /*max_runs=*/2);
  EXPECT_EQ(u.Add(0, 10), 10);
  EXPECT_EQ(u.Add(20, 30), 10);
  EXPECT_EQ(u.Add(40, 50), 10);  // [0, 10) is dropped: nothing before 10 counts again
  ASSERT_EQ(w.runs_size(), 2);
  EXPECT_EQ(w.floor_ms(), 10);
  EXPECT_EQ(u.Add(0, 10), 0);   // short, never long
  EXPECT_EQ(u.Add(5, 25), 10);  // only [10, 20) is new
  EXPECT_EQ(u.covered_ms(), 40);
  ASSERT_EQ(w.runs_size(), 2);
  EXPECT_EQ(w.runs(0).start_ms(), 10);
  EXPECT_EQ(w.runs(0).end_ms(), 30);
  EXPECT_EQ(w.runs(1).start_ms(), 40);
}

}  // namespace
}  // namespace mw::dispatch
