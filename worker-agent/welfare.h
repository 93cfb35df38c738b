// The welfare policy: how much work a centre lets one worker do, and when it reminds them to
// rest. One home for the rules; the worker's page only shows what they decide.
//
//   - A daily and a weekly limit on time on task (minutes; 0 = none). Past one, the worker gets
//     no more tasks that day or week, and goes off duty so their leased-ahead work goes back.
//   - A daily cap on answers to stages tagged distressing; past it those tasks are passed back.
//   - A break reminder after this many minutes of continuous work. A stretch of work ends at a
//     pause of kPauseMs between answers.
//
//   WelfareCheck check = CheckWelfare(limits, work_today, work_this_week, stretch_start, now);
//   if (check.stop != WelfareCheck::kNone) { ... }
#ifndef MW_WORKER_AGENT_WELFARE_H_
#define MW_WORKER_AGENT_WELFARE_H_

#include <array>
#include <cstdint>

#include "worker-agent/state/agent_state.h"

namespace mw::agent {

struct WelfareLimits {
  uint32_t max_minutes_per_day = 0;
  uint32_t max_minutes_per_week = 0;
  uint32_t distressing_per_day = 0;
  uint32_t break_after_minutes = 0;
  bool any() const {
    return max_minutes_per_day > 0 || max_minutes_per_week > 0 || distressing_per_day > 0 ||
           break_after_minutes > 0;
  }
};

// A pause this long between answers ends a stretch of work.
inline constexpr int64_t kPauseMs = 10 * 60 * 1000;

struct WelfareCheck {
  enum Stop { kNone, kDayLimit, kWeekLimit };
  Stop stop = kNone;
  bool pass_distressing = false;  // past the daily cap: distressing tasks go back
  int64_t break_minutes = 0;      // > 0: remind them of a break, after this many minutes
};

// What the policy says for a worker who did `today` since the day began and `week` since the
// week began, working continuously since `stretch_start_ms` (0: not working now), at `now_ms`.
WelfareCheck CheckWelfare(const WelfareLimits& limits, const centre::WorkDone& today,
                          const centre::WorkDone& week, int64_t stretch_start_ms, int64_t now_ms);

// When the stretch of work that an answer at `now_ms` belongs to began: a new one after a pause
// (or at the first answer), started when the task was opened `open_ms` before; else the same.
int64_t StretchStart(int64_t last_answer_ms, int64_t stretch_start_ms, int64_t now_ms,
                     int64_t open_ms);

// Where today, this week (from Monday) and this month begin, in the centre's local time.
std::array<int64_t, 3> PeriodStarts(int64_t now_ms);

// An answer's time on task, in whole seconds rounded up: from when the worker opened the task to
// `now_ms`, less the time the page reports it was hidden (`hidden_ms`: the page's claim, held to
// between 0 and the time open).
uint32_t ActiveSeconds(int64_t opened_at_ms, int64_t now_ms, int64_t hidden_ms);

}  // namespace mw::agent

#endif  // MW_WORKER_AGENT_WELFARE_H_
