// Truth inference for categorical answers: the label of each task and its confidence.
// Every method is deterministic for a given input; ties go to the lowest label id, which after
// CrowdData::Finalize is the label that sorts first in byte order.
//
//   MajorityVote    the most given label; confidence = its share of the task's answers
//   WeightedVote    each worker weighted by agreement with the majority (crowd-kit's Wawa)
//   DawidSkene      EM over full K x K confusion matrices per worker (Dawid & Skene 1979)
//   OneCoin         EM with one accuracy per worker, errors spread evenly over other labels
//
// EM starts from the majority-vote posteriors and stops when the log-likelihood per answer
// improves by less than `tolerance`, or after `max_iterations`. The defaults run EM to
// convergence with a weak Dirichlet prior (0.01 pseudo-counts per confusion cell): on the four
// public datasets in qa/testdata this meets or beats crowd-kit's Dawid-Skene (see bench/).
#ifndef MW_QA_CLASSIFICATION_H_
#define MW_QA_CLASSIFICATION_H_

#include "qa/crowd_data.h"

namespace mw::qa {

struct EmOptions {
  int max_iterations = 500;
  double tolerance = 1e-8;
  // Pseudo-counts added to every confusion cell (0 = plain maximum likelihood, floored at
  // 1e-10 so no cell is exactly zero; crowd-kit's choice, with tolerance 1e-5).
  double smoothing = 0.01;
};

// REQUIRES for all: data.Finalize() was called.
Aggregate MajorityVote(const CrowdData& data);
Aggregate WeightedVote(const CrowdData& data);
Aggregate DawidSkene(const CrowdData& data, const EmOptions& options);
Aggregate OneCoin(const CrowdData& data, const EmOptions& options);

// Per-worker accuracy against `aggregate`'s labels, weighted by posterior where there is one:
// the skill estimate the dispatcher keeps for routing and bonuses.
std::vector<double> WorkerAgreement(const CrowdData& data, const Aggregate& aggregate);

}  // namespace mw::qa

#endif  // MW_QA_CLASSIFICATION_H_
