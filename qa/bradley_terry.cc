#include "qa/bradley_terry.h"

#include <algorithm>
#include <cmath>

namespace mw::qa {

BtResult BradleyTerry(const std::vector<PairVote>& votes, const BtOptions& options) {
  // Items and workers as indices.
  std::map<std::string, int> item_index, worker_index;
  std::vector<std::string> items, workers;
  auto index = [](std::map<std::string, int>& m, std::vector<std::string>& names,
                  const std::string& name) {
    auto [it, fresh] = m.emplace(name, static_cast<int>(names.size()));
    if (fresh) names.push_back(name);
    return it->second;
  };
  struct Vote {
    int worker, winner, loser;
  };
  std::vector<Vote> said;
  said.reserve(votes.size());
  for (const PairVote& v : votes) {
    const int a = index(item_index, items, v.a), b = index(item_index, items, v.b);
    said.push_back({index(worker_index, workers, v.worker), v.a_won ? a : b, v.a_won ? b : a});
  }
  const size_t n = items.size();
  std::vector<double> s(n, 1.0), eta(workers.size(), 1.0);
  BtResult result;
  for (result.iterations = 1; result.iterations <= options.max_iterations; ++result.iterations) {
    // Each worker's weight: how far their reliability is from a coin's, 2 eta - 1; a vote of a
    // worker mostly against the model counts, by as much, for the other item.
    // Items (Hunter's MM on weighted wins): wins over the sum of weight / (s_i + s_j) over i's
    // comparisons, plus one virtual draw (half a win each way) against an item of strength 1.
    std::vector<double> wins(n, 0.5), denominator(n, 0.0);
    for (size_t i = 0; i < n; ++i) denominator[i] = 1 / (s[i] + 1);
    for (const Vote& v : said) {
      const double weight = 2 * eta[v.worker] - 1;
      const int winner = weight >= 0 ? v.winner : v.loser;
      const int loser = weight >= 0 ? v.loser : v.winner;
      const double w = std::abs(weight);
      wins[winner] += w;
      const double d = w / (s[winner] + s[loser]);
      denominator[winner] += d;
      denominator[loser] += d;
    }
    std::vector<double> next(n);
    double log_mean = 0;
    for (size_t i = 0; i < n; ++i) {
      next[i] = wins[i] / denominator[i];
      log_mean += std::log(next[i]) / static_cast<double>(n);
    }
    double change = 0;
    for (size_t i = 0; i < n; ++i) {
      next[i] /= std::exp(log_mean);
      change = std::max(change, std::abs(std::log(next[i]) - std::log(s[i])));
    }
    s = std::move(next);
    // Workers: the mean chance the model gives the outcomes they stated, with a prior of four
    // comparisons at 0.8.
    if (options.worker_noise) {
      std::vector<double> sum(workers.size(), 4 * 0.8), count(workers.size(), 4.0);
      for (const Vote& v : said) {
        sum[v.worker] += s[v.winner] / (s[v.winner] + s[v.loser]);
        count[v.worker] += 1;
      }
      for (size_t w = 0; w < workers.size(); ++w) {
        const double next_eta = sum[w] / count[w];
        change = std::max(change, std::abs(next_eta - eta[w]));
        eta[w] = next_eta;
      }
    }
    if (change < options.tolerance) {
      result.converged = true;
      break;
    }
  }
  result.iterations = std::min(result.iterations, options.max_iterations);
  for (size_t i = 0; i < n; ++i) result.items.emplace_back(items[i], s[i]);
  std::sort(result.items.begin(), result.items.end(), [](const auto& x, const auto& y) {
    return x.second != y.second ? x.second > y.second : x.first < y.first;
  });
  for (size_t w = 0; w < workers.size(); ++w) {
    result.reliability[workers[w]] = options.worker_noise ? eta[w] : 1.0;
  }
  return result;
}

}  // namespace mw::qa
