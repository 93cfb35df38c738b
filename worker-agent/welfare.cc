#include "worker-agent/welfare.h"

#include <algorithm>

#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace mw::agent {

WelfareCheck CheckWelfare(const WelfareLimits& limits, const centre::WorkDone& today,
                          const centre::WorkDone& week, int64_t stretch_start_ms, int64_t now_ms) {
  WelfareCheck check;
  if (limits.max_minutes_per_day > 0 &&
      today.active_seconds >= uint64_t{limits.max_minutes_per_day} * 60) {
    check.stop = WelfareCheck::kDayLimit;
  } else if (limits.max_minutes_per_week > 0 &&
             week.active_seconds >= uint64_t{limits.max_minutes_per_week} * 60) {
    check.stop = WelfareCheck::kWeekLimit;
  }
  check.pass_distressing =
      limits.distressing_per_day > 0 && today.distressing >= limits.distressing_per_day;
  if (limits.break_after_minutes > 0 && stretch_start_ms > 0) {
    const int64_t minutes = (now_ms - stretch_start_ms) / 60'000;
    if (minutes >= limits.break_after_minutes) check.break_minutes = minutes;
  }
  return check;
}

int64_t StretchStart(int64_t last_answer_ms, int64_t stretch_start_ms, int64_t now_ms,
                     int64_t open_ms) {
  if (last_answer_ms == 0 || now_ms - last_answer_ms >= kPauseMs) return now_ms - open_ms;
  return stretch_start_ms;
}

std::array<int64_t, 3> PeriodStarts(int64_t now_ms) {
  const absl::TimeZone tz = absl::LocalTimeZone();
  const absl::CivilDay today = absl::ToCivilDay(absl::FromUnixMillis(now_ms), tz);
  const int since_monday = static_cast<int>(absl::GetWeekday(today));  // monday == 0
  return {centre::LocalDayStart(now_ms),
          absl::ToUnixMillis(absl::FromCivil(today - since_monday, tz)),
          absl::ToUnixMillis(absl::FromCivil(absl::CivilMonth(today), tz))};
}

uint32_t ActiveSeconds(int64_t opened_at_ms, int64_t now_ms, int64_t hidden_ms) {
  const int64_t open_ms = std::max<int64_t>(0, now_ms - opened_at_ms);
  hidden_ms = std::clamp<int64_t>(hidden_ms, 0, open_ms);
  return static_cast<uint32_t>((open_ms - hidden_ms + 999) / 1000);
}

}  // namespace mw::agent
