#include "qa/numeric.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mw::qa {
namespace {

NumberEstimate With(double value, const std::vector<double>& values, double tolerance) {
  NumberEstimate e;
  e.value = value;
  e.count = static_cast<int>(values.size());
  if (values.empty()) return e;
  const double band = std::max(tolerance, std::abs(value) * tolerance);
  int near = 0;
  for (double v : values) near += std::abs(v - value) <= band;
  e.confidence = static_cast<double>(near) / values.size();
  return e;
}

}  // namespace

NumberEstimate Median(std::vector<double> values, double tolerance) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  const double m = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return With(m, values, tolerance);
}

NumberEstimate LowerMedian(std::vector<double> values, double tolerance) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  return With(values[(values.size() - 1) / 2], values, tolerance);
}

NumberEstimate Mean(const std::vector<double>& values, double tolerance) {
  if (values.empty()) return {};
  const double m = std::accumulate(values.begin(), values.end(), 0.0) / values.size();
  return With(m, values, tolerance);
}

NumberEstimate TrimmedMean(std::vector<double> values, double trim, double tolerance) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  const size_t cut = static_cast<size_t>(std::floor(std::clamp(trim, 0.0, 0.49) * values.size()));
  std::vector<double> kept(values.begin() + cut, values.end() - cut);
  const double m = std::accumulate(kept.begin(), kept.end(), 0.0) / kept.size();
  return With(m, values, tolerance);
}

}  // namespace mw::qa
