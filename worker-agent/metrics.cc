#include "worker-agent/metrics.h"

#include <prometheus/metric_family.h>

#include "engine/metrics/families.h"

namespace mw::agent {

std::vector<prometheus::MetricFamily> AgentCollector::Collect() const {
  using T = prometheus::MetricType;
  const centre::OutboxStats outbox = state_->Outbox();
  const Agent::Stats stats = agent_->stats();
  const int64_t now = clock_->NowMs();
  const double oldest =
      outbox.oldest_queued_at_ms == 0 ? 0 : (now - outbox.oldest_queued_at_ms) / 1000.0;
  const double since_sync =
      stats.last_sync_ok_ms == 0 ? -1 : (now - stats.last_sync_ok_ms) / 1000.0;
  return {
      metrics::Single("mw_agent_outbox_depth", "Answers waiting for the dispatcher's receipt.",
                      T::Gauge, outbox.depth),
      metrics::Single("mw_agent_outbox_oldest_age_seconds",
                      "Age of the oldest answer in the outbox.", T::Gauge, oldest),
      metrics::Single("mw_agent_seconds_since_last_sync",
                      "Seconds since the last successful sync (-1 before the first).", T::Gauge,
                      since_sync),
      metrics::Single("mw_agent_results_sent_total", "Answers the dispatcher gave a receipt for.",
                      T::Counter, stats.results_sent),
      metrics::Single("mw_agent_sync_failures_total", "Sync attempts that failed and were retried.",
                      T::Counter, stats.sync_failures),
      metrics::Single("mw_agent_quarantined_results_total", "Answers the dispatcher quarantined.",
                      T::Counter, outbox.quarantined),
      metrics::Single("mw_agent_assignments_leased_total",
                      "Assignments leased from the dispatcher.", T::Counter, stats.leased),
      metrics::Single("mw_agent_media_cache_bytes",
                      "Bytes of media on the agent's disk, complete and partial.", T::Gauge,
                      stats.media_cache_bytes),
      metrics::Single("mw_agent_media_fetched_bytes_total",
                      "Bytes of media fetched from the dispatcher.", T::Counter,
                      stats.media_fetched_bytes),
      metrics::Single("mw_agent_media_waiting",
                      "Media files held assignments name that are not on disk yet: their tasks "
                      "wait.",
                      T::Gauge, stats.media_waiting),
      metrics::Single("mw_agent_media_prefetch_lag_seconds",
                      "How long the longest-waiting media file has waited (0 when none waits).",
                      T::Gauge, stats.media_lag_seconds),
  };
}

}  // namespace mw::agent
