#include "qa/ranking.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace mw::qa {

RankVerdict BordaCount(const std::vector<std::vector<std::string>>& answers,
                       const std::vector<std::string>& options) {
  RankVerdict out;
  out.total = static_cast<int>(answers.size());
  const size_t n = options.size();
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < n; ++i) index.emplace(options[i], i);
  std::vector<long> points(n, 0);
  for (const auto& answer : answers) {
    for (size_t place = 0; place < answer.size(); ++place) {
      if (auto it = index.find(answer[place]); it != index.end()) {
        points[it->second] += static_cast<long>(n - 1 - place);
      }
    }
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return points[a] > points[b]; });
  std::vector<size_t> place_in_verdict(n);
  for (size_t p = 0; p < n; ++p) {
    out.order.push_back(options[order[p]]);
    place_in_verdict[order[p]] = p;
  }
  const size_t pairs = n * (n - 1) / 2;
  double agreement = 0;
  for (const auto& answer : answers) {
    if (answer == out.order) ++out.votes;
    if (pairs == 0) {
      agreement += 1;
      continue;
    }
    size_t concordant = 0;
    for (size_t i = 0; i < answer.size(); ++i) {
      for (size_t j = i + 1; j < answer.size(); ++j) {
        auto a = index.find(answer[i]), b = index.find(answer[j]);
        if (a != index.end() && b != index.end() &&
            place_in_verdict[a->second] < place_in_verdict[b->second]) {
          ++concordant;
        }
      }
    }
    agreement += static_cast<double>(concordant) / pairs;
  }
  out.confidence = answers.empty() ? 0 : agreement / answers.size();
  return out;
}

}  // namespace mw::qa
