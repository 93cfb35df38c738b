#include "dispatcher/metrics.h"

#include <prometheus/metric_family.h>

#include "engine/metrics/families.h"

namespace mw {

std::vector<prometheus::MetricFamily> DispatcherCollector::Collect() const {
  const dispatch::EngineStats s = engine_->Stats();
  using T = prometheus::MetricType;
  // Labelled families: centres and currencies are few (never job or worker ids).
  prometheus::MetricFamily tasks{"mw_tasks", "Tasks by state and stage kind.", T::Gauge, {}};
  tasks.metric.push_back(
      metrics::Sample({{"state", "open"}, {"kind", "human"}}, s.tasks_open, T::Gauge));
  tasks.metric.push_back(
      metrics::Sample({{"state", "done"}, {"kind", "human"}}, s.tasks_done, T::Gauge));
  prometheus::MetricFamily depth{"mw_centre_queue_depth",
                                 "Assignments leased to a centre and not yet answered.",
                                 T::Gauge,
                                 {}};
  prometheus::MetricFamily age{"mw_centre_queue_oldest_age_seconds",
                               "Age of the oldest unanswered assignment at a centre.",
                               T::Gauge,
                               {}};
  for (const auto& [centre, q] : s.centre_queues) {
    depth.metric.push_back(metrics::Sample({{"centre", centre}}, q.first, T::Gauge));
    age.metric.push_back(metrics::Sample({{"centre", centre}}, q.second / 1000.0, T::Gauge));
  }
  prometheus::MetricFamily wages{"mw_wages_minor",
                                 "Workers' wages in minor units by currency and state: reserved "
                                 "(awaiting a verdict), owed (posted, not yet paid), paid out.",
                                 T::Gauge,
                                 {}};
  for (const auto& [currency, w] : s.wages) {
    wages.metric.push_back(
        metrics::Sample({{"currency", currency}, {"state", "reserved"}}, w.reserved, T::Gauge));
    wages.metric.push_back(
        metrics::Sample({{"currency", currency}, {"state", "owed"}}, w.posted, T::Gauge));
    wages.metric.push_back(
        metrics::Sample({{"currency", currency}, {"state", "paid"}}, w.paid, T::Gauge));
  }
  const double agreement =
      s.gold_answers == 0 ? 0 : static_cast<double>(s.gold_correct) / s.gold_answers;
  return {
      tasks,
      depth,
      age,
      wages,
      metrics::Single("mw_gold_agreement_ratio",
                      "Share of check-task answers that matched (0 before any).", T::Gauge,
                      agreement),
      metrics::Single("mw_jobs_running", "Jobs in the running state.", T::Gauge, s.jobs_running),
      metrics::Single("mw_tasks_open", "Tasks created and waiting for answers.", T::Gauge,
                      s.tasks_open),
      metrics::Single("mw_leases_active", "Assignments leased to centres and not yet answered.",
                      T::Gauge, s.leases_active),
      metrics::Single("mw_task_retries_total", "Tasks offered again after an expired lease.",
                      T::Counter, s.retries),
      metrics::Single("mw_dead_letter_tasks",
                      "Tasks whose every attempt expired, waiting for a redrive.", T::Gauge,
                      s.dead_tasks),
      metrics::Single("mw_lease_expiries_total", "Leases that ran out and went back to the pool.",
                      T::Counter, s.lease_expiries),
      metrics::Single("mw_contributions_total", "Answers recorded and paid.", T::Counter,
                      s.contributions),
      metrics::Single("mw_late_results_total",
                      "Answers that arrived after their lease; recorded and paid.", T::Counter,
                      s.late_results),
      metrics::Single("mw_quarantined_results_total", "Results set aside as known-bad.", T::Counter,
                      s.quarantined_results),
      metrics::Single("mw_held_time_results_total",
                      "Results whose reported time on task exceeded what the lease and the "
                      "estimate allow; the excess is held for a person.",
                      T::Counter, s.held_time_results),
      metrics::Single("mw_verdicts_total", "Tasks that received a verdict.", T::Counter,
                      s.verdicts),
      metrics::Single("mw_commit_groups_total", "Synced RocksDB write groups (group commits).",
                      T::Counter, s.commit_groups),
      metrics::Single("mw_leases_without_timer",
                      "Live leases with no timer to expire them (always 0).", T::Gauge,
                      s.leases_without_timer),
      metrics::Single("mw_lease_timers",
                      "Lease timers armed: one per live lease; an answered or moved lease "
                      "holds none.",
                      T::Gauge, s.lease_timers),
      metrics::Single("mw_review_queue_depth", "Results waiting for a person to review them.",
                      T::Gauge, s.reviews_open),
      metrics::Single("mw_gold_answers_total", "Answers to check tasks.", T::Counter,
                      s.gold_answers),
      metrics::Single("mw_gold_correct_total",
                      "Answers to check tasks that matched the known answer.", T::Counter,
                      s.gold_correct),
      metrics::Single("mw_overlap_extensions_total", "Answers added by dynamic overlap.",
                      T::Counter, s.overlap_extensions),
  };
}

}  // namespace mw
