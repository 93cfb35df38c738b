// Building Prometheus metric families at scrape time, for the servers' collectors.
#ifndef MW_ENGINE_METRICS_FAMILIES_H_
#define MW_ENGINE_METRICS_FAMILIES_H_

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace mw::metrics {

// A family with one unlabelled sample.
prometheus::MetricFamily Single(const char* name, const char* help, prometheus::MetricType type,
                                double value);

// One labelled sample, to push into a family's `metric`.
prometheus::ClientMetric Sample(std::vector<prometheus::ClientMetric::Label> labels, double value,
                                prometheus::MetricType type);

}  // namespace mw::metrics

#endif  // MW_ENGINE_METRICS_FAMILIES_H_
