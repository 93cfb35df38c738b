// Prometheus metrics of an agent, read at scrape time: the outbox (depth, oldest age), how long
// since the last successful sync, and what has been sent.
#ifndef MW_WORKER_AGENT_METRICS_H_
#define MW_WORKER_AGENT_METRICS_H_

#include <prometheus/collectable.h>

#include "worker-agent/agent.h"
#include "worker-agent/state/agent_state.h"

namespace mw::agent {

class AgentCollector final : public prometheus::Collectable {
 public:
  // Borrows all three; they must outlive the collector's registration.
  AgentCollector(const centre::AgentState* state, const Agent* agent, const Clock* clock)
      : state_(state), agent_(agent), clock_(clock) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const centre::AgentState* state_;
  const Agent* agent_;
  const Clock* clock_;
};

}  // namespace mw::agent

#endif  // MW_WORKER_AGENT_METRICS_H_
