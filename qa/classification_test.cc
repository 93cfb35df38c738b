#include "qa/classification.h"

#include <cmath>
#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace mw::qa {
namespace {

// A synthetic crowd: K classes, workers with known confusion matrices, each task answered by
// `per_task` distinct workers drawn at random. Seeded, so every run is the same.
struct Synthetic {
  CrowdData data;
  std::vector<int> truth;                                   // by task id
  std::vector<std::vector<std::vector<double>>> confusion;  // [w][truth][answer]
};

Synthetic MakeCrowd(uint32_t seed, int tasks, int K, int per_task) {
  std::mt19937 rng(seed);
  Synthetic s;
  // 12 good workers (80% right), 6 biased ones (truth 0 read as 1 60% of the time),
  // 4 spammers (uniform).
  for (int w = 0; w < 22; ++w) {
    std::vector<std::vector<double>> m(K, std::vector<double>(K));
    for (int k = 0; k < K; ++k) {
      for (int l = 0; l < K; ++l) {
        if (w < 12)
          m[k][l] = k == l ? 0.8 : 0.2 / (K - 1);
        else if (w < 18)
          m[k][l] = k == 0 ? (l == 1 ? 0.6 : 0.4 / (K - 1)) : (k == l ? 0.9 : 0.1 / (K - 1));
        else
          m[k][l] = 1.0 / K;
      }
    }
    s.confusion.push_back(m);
  }
  std::discrete_distribution<int> cls({0.5, 0.3, 0.2});
  std::vector<int> workers(s.confusion.size());
  std::iota(workers.begin(), workers.end(), 0);
  for (int t = 0; t < tasks; ++t) {
    const int k = cls(rng);
    std::shuffle(workers.begin(), workers.end(), rng);
    for (int i = 0; i < per_task; ++i) {
      const int w = workers[i];
      std::discrete_distribution<int> ans(s.confusion[w][k].begin(), s.confusion[w][k].end());
      s.data.Add(absl::StrCat("t", t), absl::StrCat("w", w), absl::StrCat("c", ans(rng)));
    }
    s.truth.push_back(k);
  }
  s.data.Finalize();
  return s;
}

double Accuracy(const Synthetic& s, const Aggregate& a) {
  int right = 0;
  for (int t = 0; t < s.data.num_tasks(); ++t) {
    const int truth = s.truth[std::stoi(s.data.task(t).substr(1))];
    right += s.data.label(a.tasks[t].label) == absl::StrCat("c", truth);
  }
  return static_cast<double>(right) / s.data.num_tasks();
}

TEST(DawidSkeneTest, RecoversKnownConfusionMatricesWithinTolerance) {
  // Nine answers per task: the truth is nearly certain, so the model's soft counts should match
  // an oracle's hard ones.
  Synthetic s = MakeCrowd(7, 3000, 3, 9);
  Aggregate ds = DawidSkene(s.data, EmOptions());
  ASSERT_TRUE(ds.converged);
  const int K = 3;
  // What an oracle that knew every true label would count for each worker: DS, which never
  // sees the truth, recovers it within 0.02 in every cell (and the generating matrices within
  // sampling noise).
  std::vector<double> oracle(static_cast<size_t>(s.data.num_workers()) * K * K, 0.0);
  for (const auto& a : s.data.answers()) {
    const int k =
        s.data.LabelId(absl::StrCat("c", s.truth[std::stoi(s.data.task(a.task).substr(1))]));
    oracle[(a.worker * K + a.label) * K + k] += 1;
  }
  for (int w = 0; w < s.data.num_workers(); ++w) {
    for (int k = 0; k < K; ++k) {
      double n = 0;
      for (int l = 0; l < K; ++l) n += oracle[(w * K + l) * K + k];
      for (int l = 0; l < K; ++l) {
        const double estimated = ds.confusion[(w * K + l) * K + k];
        EXPECT_NEAR(estimated, oracle[(w * K + l) * K + k] / n, 0.02)
            << s.data.worker(w) << " truth " << s.data.label(k) << " answer " << s.data.label(l);
        const int true_w = std::stoi(s.data.worker(w).substr(1));
        const int tk = std::stoi(s.data.label(k).substr(1)),
                  tl = std::stoi(s.data.label(l).substr(1));
        EXPECT_NEAR(estimated, s.confusion[true_w][tk][tl], 0.12);
      }
    }
  }
  EXPECT_NEAR(ds.priors[s.data.LabelId("c0")], 0.5, 0.03);
}

TEST(DawidSkeneTest, ModellingBiasedWorkersBeatsCountingThem) {
  Synthetic s = MakeCrowd(7, 4000, 3, 5);
  EXPECT_GT(Accuracy(s, DawidSkene(s.data, EmOptions())), Accuracy(s, MajorityVote(s.data)) + 0.02);
}

TEST(DawidSkeneTest, DeterministicForTheSameInput) {
  Synthetic a = MakeCrowd(3, 500, 3, 3), b = MakeCrowd(3, 500, 3, 3);
  Aggregate x = DawidSkene(a.data, EmOptions()), y = DawidSkene(b.data, EmOptions());
  ASSERT_EQ(x.tasks.size(), y.tasks.size());
  for (size_t t = 0; t < x.tasks.size(); ++t) {
    EXPECT_EQ(x.tasks[t].label, y.tasks[t].label);
    EXPECT_EQ(x.tasks[t].confidence, y.tasks[t].confidence);
  }
  EXPECT_EQ(x.iterations, y.iterations);
}

TEST(OneCoinTest, BeatsMajorityWhenSpammersAbound) {
  Synthetic s = MakeCrowd(11, 3000, 3, 5);
  Aggregate oc = OneCoin(s.data, EmOptions());
  EXPECT_GT(Accuracy(s, oc), Accuracy(s, MajorityVote(s.data)));
  // Spammers (w18..w21) get a low skill, good workers a high one.
  const std::vector<double> skill = WorkerAgreement(s.data, oc);
  for (int w = 0; w < s.data.num_workers(); ++w) {
    const int true_w = std::stoi(s.data.worker(w).substr(1));
    if (true_w < 12) EXPECT_GT(skill[w], 0.7) << true_w;
    if (true_w >= 18) EXPECT_LT(skill[w], 0.45) << true_w;
  }
}

TEST(GladTest, BeatsMajorityWhenSpammersAboundAndIsDeterministic) {
  Synthetic s = MakeCrowd(11, 3000, 3, 5);
  Aggregate glad = Glad(s.data, EmOptions());
  EXPECT_GT(Accuracy(s, glad), Accuracy(s, MajorityVote(s.data)));
  EXPECT_TRUE(glad.converged);
  Synthetic again = MakeCrowd(11, 3000, 3, 5);
  Aggregate same = Glad(again.data, EmOptions());
  for (int t = 0; t < s.data.num_tasks(); ++t) {
    EXPECT_EQ(glad.tasks[t].label, same.tasks[t].label);
    EXPECT_EQ(glad.tasks[t].confidence, same.tasks[t].confidence);
  }
}

TEST(MaceTest, FindsTheSpammersAndBeatsMajority) {
  Synthetic s = MakeCrowd(11, 3000, 3, 5);
  Aggregate mace = Mace(s.data, EmOptions());
  EXPECT_GT(Accuracy(s, mace), Accuracy(s, MajorityVote(s.data)));
  // A spammer's answers look like its guesses: P(answer l | truth k) nearly the same for every
  // truth; a good worker's diagonal stands out.
  const int K = s.data.num_labels();
  for (int w = 0; w < s.data.num_workers(); ++w) {
    const int true_w = std::stoi(s.data.worker(w).substr(1));
    auto p = [&](int l, int k) { return mace.confusion[(static_cast<size_t>(w) * K + l) * K + k]; };
    if (true_w < 12) EXPECT_GT(p(0, 0), p(0, 1) + 0.3) << true_w;
    if (true_w >= 18) EXPECT_LT(p(0, 0), p(0, 1) + 0.3) << true_w;
  }
}

TEST(MajorityVoteTest, SharesAndTieBreakToTheLowestLabel) {
  CrowdData d;
  d.Add("t1", "a", "yes");
  d.Add("t1", "b", "no");
  d.Add("t2", "a", "yes");
  d.Add("t2", "b", "yes");
  d.Add("t2", "c", "no");
  d.Finalize();
  Aggregate mv = MajorityVote(d);
  EXPECT_EQ(d.label(mv.tasks[d.TaskId("t1")].label), "no");  // tie: "no" < "yes"
  EXPECT_DOUBLE_EQ(mv.tasks[d.TaskId("t1")].confidence, 0.5);
  EXPECT_EQ(d.label(mv.tasks[d.TaskId("t2")].label), "yes");
  EXPECT_DOUBLE_EQ(mv.tasks[d.TaskId("t2")].confidence, 2.0 / 3);
}

TEST(WeightedVoteTest, AgreeingWorkersOutweighADissenter) {
  // c always disagrees with the majority elsewhere, so on t3 a and b's single vote... each one
  // worker per label: c's weight is the smallest, so a's answer wins.
  CrowdData d;
  for (int t = 0; t < 4; ++t) {
    d.Add(absl::StrCat("t", t), "a", "x");
    d.Add(absl::StrCat("t", t), "b", "x");
    d.Add(absl::StrCat("t", t), "c", "y");
  }
  d.Add("t9", "a", "x");
  d.Add("t9", "c", "y");
  d.Finalize();
  Aggregate w = WeightedVote(d);
  EXPECT_EQ(d.label(w.tasks[d.TaskId("t9")].label), "x");
  EXPECT_DOUBLE_EQ(w.tasks[d.TaskId("t9")].confidence, 1.0);  // c's weight is 0
  // Plain majority would have tied and picked "x" by order with confidence 0.5.
  EXPECT_DOUBLE_EQ(MajorityVote(d).tasks[d.TaskId("t9")].confidence, 0.5);
}

}  // namespace
}  // namespace mw::qa
