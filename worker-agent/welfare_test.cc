#include "worker-agent/welfare.h"

#include "gtest/gtest.h"

namespace mw::agent {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

centre::WorkDone Worked(uint64_t minutes, uint32_t distressing = 0) {
  return {.active_seconds = minutes * 60, .distressing = distressing};
}

TEST(WelfareTest, NoLimitsStopNothing) {
  const WelfareCheck check =
      CheckWelfare({}, Worked(900, 99), Worked(9000), kNow - 600'000'000, kNow);
  EXPECT_EQ(check.stop, WelfareCheck::kNone);
  EXPECT_FALSE(check.pass_distressing);
  EXPECT_EQ(check.break_minutes, 0);
  EXPECT_FALSE(WelfareLimits().any());
}

TEST(WelfareTest, TheDayLimitComesBeforeTheWeekAndBothStopAtTheLimitItself) {
  const WelfareLimits limits{.max_minutes_per_day = 360, .max_minutes_per_week = 1800};
  EXPECT_EQ(CheckWelfare(limits, Worked(359), Worked(359), 0, kNow).stop, WelfareCheck::kNone);
  EXPECT_EQ(CheckWelfare(limits, Worked(360), Worked(360), 0, kNow).stop, WelfareCheck::kDayLimit);
  EXPECT_EQ(CheckWelfare(limits, Worked(60), Worked(1800), 0, kNow).stop, WelfareCheck::kWeekLimit);
  EXPECT_EQ(CheckWelfare(limits, Worked(400), Worked(1900), 0, kNow).stop, WelfareCheck::kDayLimit);
}

TEST(WelfareTest, DistressingTasksGoBackAtTheDailyCap) {
  const WelfareLimits limits{.distressing_per_day = 20};
  EXPECT_FALSE(CheckWelfare(limits, Worked(10, 19), {}, 0, kNow).pass_distressing);
  EXPECT_TRUE(CheckWelfare(limits, Worked(10, 20), {}, 0, kNow).pass_distressing);
}

TEST(WelfareTest, ABreakIsSuggestedAfterALongStretchOnly) {
  const WelfareLimits limits{.break_after_minutes = 90};
  EXPECT_EQ(CheckWelfare(limits, {}, {}, kNow - 89 * 60'000, kNow).break_minutes, 0);
  EXPECT_EQ(CheckWelfare(limits, {}, {}, kNow - 95 * 60'000, kNow).break_minutes, 95);
  EXPECT_EQ(CheckWelfare(limits, {}, {}, 0, kNow).break_minutes, 0);  // not working now
}

TEST(WelfareTest, AStretchEndsAtAPauseOfTenMinutes) {
  // The first answer starts a stretch when its task was opened.
  EXPECT_EQ(StretchStart(0, 0, kNow, 30'000), kNow - 30'000);
  // Answers closer than the pause continue it.
  EXPECT_EQ(StretchStart(kNow - kPauseMs + 1, kNow - 3'600'000, kNow, 30'000), kNow - 3'600'000);
  // A pause of ten minutes or more starts a new one.
  EXPECT_EQ(StretchStart(kNow - kPauseMs, kNow - 3'600'000, kNow, 30'000), kNow - 30'000);
}

TEST(WelfareTest, PeriodsBeginAtTodayTheWeekAndTheMonthInOrder) {
  const std::array<int64_t, 3> starts = PeriodStarts(kNow);
  EXPECT_LE(starts[0], kNow);
  EXPECT_GT(starts[0], kNow - 24 * 3'600'000);
  EXPECT_LE(starts[1], starts[0]);
  EXPECT_GT(starts[1], kNow - 7 * 24 * 3'600'000);
  EXPECT_LE(starts[2], kNow);
  EXPECT_GT(starts[2], kNow - 31LL * 24 * 3'600'000);
}

TEST(ActiveSecondsTest, TimeOpenLessTimeHiddenRoundedUpAndAHiddenClaimHeldToTheTimeOpen) {
  EXPECT_EQ(ActiveSeconds(1'000, 21'000, 0), 20u);
  EXPECT_EQ(ActiveSeconds(1'000, 21'001, 0), 21u);       // a part second counts
  EXPECT_EQ(ActiveSeconds(1'000, 21'000, 5'000), 15u);   // hidden for 5 s
  EXPECT_EQ(ActiveSeconds(1'000, 21'000, 99'000), 0u);   // never more hidden than open
  EXPECT_EQ(ActiveSeconds(1'000, 21'000, -7'000), 20u);  // nor less than nothing
  EXPECT_EQ(ActiveSeconds(21'000, 1'000, 0), 0u);        // a clock that went back
}

}  // namespace
}  // namespace mw::agent
