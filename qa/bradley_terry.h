// Pairwise comparisons into a ranking: the Bradley-Terry model, in which item i beats item j
// with probability s_i / (s_i + s_j), fitted by Hunter's MM update (Ann. Statist. 2004) with one
// virtual draw against a unit-strength item, so an item that never lost stays finite. With
// worker noise, each worker's reliability eta is the mean chance the fitted model gives the
// outcomes they stated (a prior of four comparisons at 0.8), and their votes weigh 2 eta - 1: a
// careless worker's near nothing, and those of a worker mostly against the model count, by as
// much, for the other item (as Crowd-BT, Chen et al. WSDM 2013, lets a worker's comparisons be
// flipped). Strengths and reliabilities are refitted in turn until neither moves.
//
//   BtResult r = BradleyTerry({{"w1", "gpt", "llama", true}, {"w2", "llama", "gpt", false}, ...});
//   // r.items: ("gpt", 1.9), ("llama", 0.5), ... strongest first; r.reliability["w1"] = 0.81
#ifndef MW_QA_BRADLEY_TERRY_H_
#define MW_QA_BRADLEY_TERRY_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mw::qa {

struct PairVote {
  std::string worker;
  std::string a;
  std::string b;
  bool a_won = false;
};

struct BtOptions {
  bool worker_noise = true;  // false: plain Bradley–Terry, every worker taken at their word
  int max_iterations = 500;
  double tolerance = 1e-9;  // the largest change of a log-strength that ends the fit
};

struct BtResult {
  // Every item compared, with its strength (geometric mean 1), strongest first (ties by name).
  std::vector<std::pair<std::string, double>> items;
  std::map<std::string, double> reliability;  // each worker's eta, 0 to 1
  int iterations = 0;
  bool converged = false;
};

// REQUIRES: in every vote a != b.
BtResult BradleyTerry(const std::vector<PairVote>& votes, const BtOptions& options = {});

}  // namespace mw::qa

#endif  // MW_QA_BRADLEY_TERRY_H_
