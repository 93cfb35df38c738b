// Accuracy of the aggregators on the four public crowd datasets in qa/testdata, held to the best
// published or measured figure for each (shared/truth-data/README.md): a regression here means
// the inference got worse.
#include <cmath>

#include "engine/contract/answers_csv.h"
#include "gtest/gtest.h"
#include "qa/classification.h"

namespace mw::qa {
namespace {

struct Expectation {
  const char* dataset;
  int gold;          // gold tasks that have answers
  int ds_right;      // tasks Dawid-Skene gets right, at least
  double reference;  // best published or measured accuracy for the dataset
  int decimals;      // the precision it was published at
  int mv_right;      // majority vote, exactly (ties to the lowest label)
};

class TruthDataTest : public ::testing::TestWithParam<Expectation> {};

int Right(const CrowdData& d, const Aggregate& a, const std::map<std::string, std::string>& gold,
          int* scored) {
  int right = 0;
  *scored = 0;
  for (const auto& [task, label] : gold) {
    const int t = d.TaskId(task);
    if (t < 0) continue;
    ++*scored;
    right += d.label(a.tasks[t].label) == label;
  }
  return right;
}

TEST_P(TruthDataTest, DawidSkeneMeetsTheBestReferenceFigure) {
  const Expectation& e = GetParam();
  const std::string dir = std::string(MW_QA_TESTDATA) + "/" + e.dataset;
  auto data = contract::ReadAnswersCsv(dir + "/answers.csv");
  auto gold = contract::ReadGoldCsv(dir + "/gold.csv");
  ASSERT_TRUE(data.ok() && gold.ok());
  int scored = 0;
  const Aggregate ds = DawidSkene(*data, EmOptions());
  const int right = Right(*data, ds, *gold, &scored);
  EXPECT_EQ(scored, e.gold);
  EXPECT_GE(right, e.ds_right);
  // Compared at the precision the reference was published at.
  const double scale = std::pow(10.0, e.decimals);
  EXPECT_GE(std::round(static_cast<double>(right) / scored * scale) / scale, e.reference - 1e-12);
  EXPECT_TRUE(ds.converged);
  EXPECT_EQ(Right(*data, MajorityVote(*data), *gold, &scored), e.mv_right);
}

INSTANTIATE_TEST_SUITE_P(PublicDatasets, TruthDataTest,
                         ::testing::Values(
                             // crowd-kit's Dawid-Skene: 0.940; PVLDB'17: 0.9366 (DS), 0.9378 (BCC).
                             Expectation{"d_product", 8315, 7816, 0.940, 3, 7455},
                             Expectation{"zhang_rte", 800, 742, 0.9275, 4, 735},
                             Expectation{"dog", 807, 680, 0.8426, 4, 660},
                             Expectation{"face", 584, 374, 0.6404, 4, 368}),
                         [](const auto& info) { return std::string(info.param.dataset); });

}  // namespace
}  // namespace mw::qa
