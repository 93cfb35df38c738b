// Prometheus metrics of the dispatcher, read from the engine's counters at scrape time, so the
// hot paths pay nothing for them. Labels are low-cardinality: never a job or worker id.
#ifndef MW_DISPATCHER_METRICS_H_
#define MW_DISPATCHER_METRICS_H_

#include <prometheus/collectable.h>

#include <vector>

#include "engine/dispatch/engine.h"

namespace mw {

class DispatcherCollector final : public prometheus::Collectable {
 public:
  // Borrows `engine`, which must outlive the collector's registration.
  explicit DispatcherCollector(const dispatch::Engine* engine) : engine_(engine) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const dispatch::Engine* engine_;
};

}  // namespace mw

#endif  // MW_DISPATCHER_METRICS_H_
