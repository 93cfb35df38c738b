#include "qa/classification.h"

#include <algorithm>
#include <cmath>

namespace mw::qa {
namespace {

constexpr double kFloor = 1e-10;

// Index of the largest value; the lowest index on ties.
int32_t ArgMax(const std::vector<double>& v) {
  int32_t best = 0;
  for (size_t k = 1; k < v.size(); ++k) {
    if (v[k] > v[best]) best = static_cast<int32_t>(k);
  }
  return best;
}

// Vote shares per task, each answer weighted by its worker's weight.
std::vector<std::vector<double>> Shares(const CrowdData& data,
                                        const std::vector<double>* worker_weight) {
  const int K = data.num_labels();
  std::vector<std::vector<double>> shares(data.num_tasks(), std::vector<double>(K, 0.0));
  for (const auto& a : data.answers()) {
    shares[a.task][a.label] += worker_weight == nullptr ? 1.0 : (*worker_weight)[a.worker];
  }
  for (auto& s : shares) {
    double total = 0;
    for (double v : s) total += v;
    if (total > 0) {
      for (double& v : s) v /= total;
    } else {
      for (double& v : s) v = 1.0 / K;  // every weight zero: no information
    }
  }
  return shares;
}

Aggregate FromPosteriors(std::vector<std::vector<double>> posteriors, bool keep) {
  Aggregate out;
  out.tasks.resize(posteriors.size());
  for (size_t t = 0; t < posteriors.size(); ++t) {
    out.tasks[t].label = ArgMax(posteriors[t]);
    out.tasks[t].confidence = posteriors[t][out.tasks[t].label];
  }
  if (keep) out.posteriors = std::move(posteriors);
  return out;
}

// The number of labels, known at compile time when `kLabels` is not 0: two labels (yes/no, the
// commonest set) get loops the compiler unrolls, which made the fit about twice as fast.
template <int kLabels>
int Labels(const CrowdData& data) {
  return kLabels > 0 ? kLabels : data.num_labels();
}

// One EM run. `m_step(post)` refits the model from the flat posteriors post[t * K + k];
// `score(t, ll)` adds to ll[k] the log-likelihood of task t's answers if its truth were k. The
// class priors, the E-step's normalisation and the stopping rule are shared by every model.
// REQUIRES: kLabels is 0 or data.num_labels().
template <int kLabels = 0, typename MStep, typename Score>
Aggregate RunEm(const CrowdData& data, const EmOptions& options, MStep m_step, Score score) {
  const int T = data.num_tasks(), K = Labels<kLabels>(data);
  std::vector<double> post(static_cast<size_t>(T) * K);
  {
    const auto shares = Shares(data, nullptr);
    for (int t = 0; t < T; ++t) std::copy(shares[t].begin(), shares[t].end(), &post[t * K]);
  }
  std::vector<double> log_prior(K), prior(K), ll(K);
  const size_t answers = data.answers().size();
  double previous = -INFINITY;
  int iterations = 0, stable = 0;
  bool converged = false;
  std::vector<int32_t> labels(T, -1);
  for (int it = 1; it <= options.max_iterations; ++it) {
    // M-step: class priors, then the model.
    std::fill(prior.begin(), prior.end(), 0.0);
    for (int t = 0; t < T; ++t) {
      for (int k = 0; k < K; ++k) prior[k] += post[static_cast<size_t>(t) * K + k];
    }
    for (int k = 0; k < K; ++k) log_prior[k] = std::log(std::max(prior[k] / T, kFloor));
    m_step(post);

    // E-step: posteriors from priors and the model, in log space, with the total
    // log-likelihood of the answers for the stopping rule.
    double total = 0;
    // The tasks' normalisers (each in [1, K]) multiply here and are logged when the product
    // passes 1e200, not once per task: a log per task was a fifth of the fit.
    double normalisers = 1;
    int changed = 0;
    for (int t = 0; t < T; ++t) {
      std::copy(log_prior.begin(), log_prior.end(), ll.begin());
      score(t, ll.data());
      // The largest term is exp(0) = 1: one exp fewer per task (half of them when K = 2).
      const int32_t best =
          static_cast<int32_t>(std::max_element(ll.begin(), ll.end()) - ll.begin());
      const double top = ll[best];
      double* p = &post[static_cast<size_t>(t) * K];
      double sum = 0;
      for (int k = 0; k < K; ++k) sum += (p[k] = k == best ? 1.0 : std::exp(ll[k] - top));
      const double inv = 1.0 / sum;
      for (int k = 0; k < K; ++k) p[k] *= inv;
      changed += best != labels[t];
      labels[t] = best;
      total += top;
      normalisers *= sum;
      if (normalisers > 1e200) {
        total += std::log(normalisers);
        normalisers = 1;
      }
    }
    total += std::log(normalisers);
    iterations = it;
    const double per_answer = total / std::max<size_t>(answers, 1);
    stable = changed == 0 ? stable + 1 : 0;
    if (per_answer - previous < options.tolerance ||
        (options.stable_iterations > 0 && stable >= options.stable_iterations)) {
      converged = true;
      break;
    }
    previous = per_answer;
  }
  std::vector<std::vector<double>> posteriors(T);
  for (int t = 0; t < T; ++t) posteriors[t].assign(&post[t * K], &post[t * K] + K);
  Aggregate result = FromPosteriors(std::move(posteriors), true);
  for (int k = 0; k < K; ++k) result.priors.push_back(std::exp(log_prior[k]));
  result.iterations = iterations;
  result.converged = converged;
  return result;
}

// EM for the models with one answer distribution per worker and truth: `m_step(post,
// log_conf)` fills log_conf[(w * K + l) * K + k] = log P(answer l | truth k) for worker w.
template <int kLabels = 0, typename MStep>
Aggregate RunConfusionEm(const CrowdData& data, const EmOptions& options, MStep m_step) {
  const int K = Labels<kLabels>(data);
  const auto& offsets = data.task_offsets();
  const auto& answers = data.answers();
  std::vector<double> log_conf(static_cast<size_t>(data.num_workers()) * K * K);
  Aggregate result = RunEm<kLabels>(
      data, options, [&](const std::vector<double>& post) { m_step(post, &log_conf); },
      [&](int t, double* ll) {
        for (int32_t i = offsets[t]; i < offsets[t + 1]; ++i) {
          const auto& a = answers[i];
          const double* row = &log_conf[(static_cast<size_t>(a.worker) * K + a.label) * K];
          for (int k = 0; k < K; ++k) ll[k] += row[k];
        }
      });
  result.confusion.resize(log_conf.size());
  for (size_t i = 0; i < log_conf.size(); ++i) result.confusion[i] = std::exp(log_conf[i]);
  return result;
}

}  // namespace

Aggregate MajorityVote(const CrowdData& data) {
  return FromPosteriors(Shares(data, nullptr), false);
}

std::vector<double> WorkerAgreement(const CrowdData& data, const Aggregate& aggregate) {
  std::vector<double> agree(data.num_workers(), 0.0), count(data.num_workers(), 0.0);
  for (const auto& a : data.answers()) {
    count[a.worker] += 1;
    agree[a.worker] += aggregate.posteriors.empty()
                           ? (aggregate.tasks[a.task].label == a.label ? 1.0 : 0.0)
                           : aggregate.posteriors[a.task][a.label];
  }
  for (int w = 0; w < data.num_workers(); ++w) {
    agree[w] = count[w] > 0 ? agree[w] / count[w] : 0;
  }
  return agree;
}

Aggregate WeightedVote(const CrowdData& data) {
  const std::vector<double> weights = WorkerAgreement(data, MajorityVote(data));
  return FromPosteriors(Shares(data, &weights), false);
}

namespace {

template <int kLabels>
Aggregate DawidSkeneOf(const CrowdData& data, const EmOptions& options) {
  const int K = Labels<kLabels>(data), W = data.num_workers();
  std::vector<double> counts(static_cast<size_t>(W) * K * K);
  std::vector<char> seen(static_cast<size_t>(W) * K);
  for (const auto& a : data.answers()) seen[static_cast<size_t>(a.worker) * K + a.label] = 1;
  auto m_step = [&](const std::vector<double>& post, std::vector<double>* log_conf) {
    std::fill(counts.begin(), counts.end(), options.smoothing);
    for (const auto& a : data.answers()) {
      double* row = &counts[(static_cast<size_t>(a.worker) * K + a.label) * K];
      const double* p = &post[static_cast<size_t>(a.task) * K];
      for (int k = 0; k < K; ++k) row[k] += p[k];
    }
    for (int w = 0; w < W; ++w) {
      for (int k = 0; k < K; ++k) {
        // A label the worker gave gets at least the floor, so its log is finite.
        double norm = 0;
        for (int l = 0; l < K; ++l) {
          double& c = counts[(static_cast<size_t>(w) * K + l) * K + k];
          if (seen[static_cast<size_t>(w) * K + l]) c = std::max(c, kFloor);
          norm += c;
        }
        for (int l = 0; l < K; ++l) {
          const double c = counts[(static_cast<size_t>(w) * K + l) * K + k];
          (*log_conf)[(static_cast<size_t>(w) * K + l) * K + k] =
              std::log(std::max(c / norm, kFloor));
        }
      }
    }
  };
  return RunConfusionEm<kLabels>(data, options, m_step);
}

}  // namespace

Aggregate DawidSkene(const CrowdData& data, const EmOptions& options) {
  return data.num_labels() == 2 ? DawidSkeneOf<2>(data, options) : DawidSkeneOf<0>(data, options);
}

Aggregate OneCoin(const CrowdData& data, const EmOptions& options) {
  const int K = data.num_labels(), W = data.num_workers();
  std::vector<double> right(W), total(W);
  auto m_step = [&](const std::vector<double>& post, std::vector<double>* log_conf) {
    std::fill(right.begin(), right.end(), options.smoothing);
    std::fill(total.begin(), total.end(), 2 * options.smoothing);
    for (const auto& a : data.answers()) {
      right[a.worker] += post[static_cast<size_t>(a.task) * K + a.label];
      total[a.worker] += 1;
    }
    for (int w = 0; w < W; ++w) {
      double skill = total[w] > 0 ? right[w] / total[w] : 0.5;
      skill = std::clamp(skill, kFloor, 1 - kFloor);
      const double log_right = std::log(skill);
      const double log_wrong = std::log(std::max((1 - skill) / std::max(K - 1, 1), kFloor));
      for (int l = 0; l < K; ++l) {
        for (int k = 0; k < K; ++k) {
          (*log_conf)[(static_cast<size_t>(w) * K + l) * K + k] = l == k ? log_right : log_wrong;
        }
      }
    }
  };
  return RunConfusionEm(data, options, m_step);
}

Aggregate Mace(const CrowdData& data, const EmOptions& options) {
  // Each answer is the truth when the worker knows (probability theta_w), otherwise a guess
  // from the worker's own label distribution xi_w: P(l | k) = theta [l == k] + (1 - theta) xi(l).
  const int K = data.num_labels(), W = data.num_workers();
  std::vector<double> theta(W, 0.8), xi(static_cast<size_t>(W) * K, 1.0 / std::max(K, 1));
  std::vector<double> knows(W), seen(W), guessed(static_cast<size_t>(W) * K);
  const double pseudo = std::max(options.smoothing, kFloor);
  auto m_step = [&](const std::vector<double>& post, std::vector<double>* log_conf) {
    std::fill(knows.begin(), knows.end(), 0.5);  // Beta(0.5, 0.5) on theta
    std::fill(seen.begin(), seen.end(), 1.0);
    std::fill(guessed.begin(), guessed.end(), pseudo);
    for (const auto& a : data.answers()) {
      const size_t wl = static_cast<size_t>(a.worker) * K + a.label;
      const double th = theta[a.worker];
      // The chance the answer came from knowing: the truth is its label, and the worker knew.
      const double right = post[static_cast<size_t>(a.task) * K + a.label];
      const double knew = right * th / (th + (1 - th) * xi[wl]);
      knows[a.worker] += knew;
      seen[a.worker] += 1;
      guessed[wl] += 1 - knew;
    }
    for (int w = 0; w < W; ++w) {
      theta[w] = std::clamp(knows[w] / seen[w], kFloor, 1 - kFloor);
      double total = 0;
      for (int l = 0; l < K; ++l) total += guessed[static_cast<size_t>(w) * K + l];
      for (int l = 0; l < K; ++l) {
        const size_t wl = static_cast<size_t>(w) * K + l;
        xi[wl] = guessed[wl] / total;
        for (int k = 0; k < K; ++k) {
          (*log_conf)[wl * K + k] =
              std::log(std::max((l == k ? theta[w] : 0.0) + (1 - theta[w]) * xi[wl], kFloor));
        }
      }
    }
  };
  return RunConfusionEm(data, options, m_step);
}

Aggregate Glad(const CrowdData& data, const EmOptions& options) {
  // P(answer right) = sigmoid(alpha_w * beta_t), beta_t = exp(b_t) > 0; a wrong answer is any
  // other label alike. The M-step is two rounds of Newton steps on each parameter in turn
  // (diagonal Fisher scoring, steps capped), with the priors alpha ~ N(1, 1) and b ~ N(1, 1).
  const int T = data.num_tasks(), K = data.num_labels(), W = data.num_workers();
  const auto& answers = data.answers();
  const auto& offsets = data.task_offsets();
  std::vector<double> alpha(W, 1.0), b(T, 1.0);
  std::vector<double> grad_a(W), hess_a(W), grad_b(T), hess_b(T);
  const double log_others = std::log(std::max(K - 1, 1));
  auto sigmoid = [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
  auto m_step = [&](const std::vector<double>& post) {
    for (int round = 0; round < 2; ++round) {
      std::fill(grad_a.begin(), grad_a.end(), 0.0);
      std::fill(hess_a.begin(), hess_a.end(), 1.0);
      for (const auto& a : answers) {
        const double beta = std::exp(b[a.task]);
        const double s = sigmoid(alpha[a.worker] * beta);
        const double q = post[static_cast<size_t>(a.task) * K + a.label];
        grad_a[a.worker] += (q - s) * beta;
        hess_a[a.worker] += s * (1 - s) * beta * beta;
      }
      for (int w = 0; w < W; ++w) {
        const double g = grad_a[w] - (alpha[w] - 1.0);
        alpha[w] += std::clamp(g / hess_a[w], -1.0, 1.0);
      }
      std::fill(grad_b.begin(), grad_b.end(), 0.0);
      std::fill(hess_b.begin(), hess_b.end(), 1.0);
      for (const auto& a : answers) {
        const double beta = std::exp(b[a.task]);
        const double x = alpha[a.worker] * beta;
        const double s = sigmoid(x);
        const double q = post[static_cast<size_t>(a.task) * K + a.label];
        grad_b[a.task] += (q - s) * x;
        hess_b[a.task] += s * (1 - s) * x * x;
      }
      for (int t = 0; t < T; ++t) {
        const double g = grad_b[t] - (b[t] - 1.0);
        b[t] = std::clamp(b[t] + std::clamp(g / hess_b[t], -1.0, 1.0), -8.0, 8.0);
      }
    }
  };
  auto score = [&](int t, double* ll) {
    const double beta = std::exp(b[t]);
    for (int32_t i = offsets[t]; i < offsets[t + 1]; ++i) {
      const auto& a = answers[i];
      const double x = alpha[a.worker] * beta;
      // log sigmoid(x) and log(1 - sigmoid(x)), stable for large |x|.
      const double log_right = -std::log1p(std::exp(-x));
      const double log_wrong = -x + log_right - log_others;
      for (int k = 0; k < K; ++k) ll[k] += k == a.label ? log_right : log_wrong;
    }
  };
  return RunEm(data, options, m_step, score);
}

}  // namespace mw::qa
