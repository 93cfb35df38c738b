// qa_bench: accuracy and speed of the truth-inference methods on the public crowd datasets
// (qa/testdata: d_product, zhang_rte, dog, face), and how fit time and memory grow with the
// number of answers. A program that prints figures, not a test.
//
//   build/bin/qa_bench [DATA_DIR]        (default: the repository's qa/testdata)
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/contract/answers_csv.h"
#include "qa/classification.h"

namespace {

using mw::qa::Aggregate;
using mw::qa::CrowdData;

struct Method {
  const char* name;
  std::function<Aggregate(const CrowdData&)> fit;
};

const std::vector<Method>& Methods() {
  static const std::vector<Method> methods = {
      {"mv", [](const CrowdData& d) { return mw::qa::MajorityVote(d); }},
      {"wmv", [](const CrowdData& d) { return mw::qa::WeightedVote(d); }},
      {"ds", [](const CrowdData& d) { return mw::qa::DawidSkene(d, mw::qa::EmOptions()); }},
      {"onecoin", [](const CrowdData& d) { return mw::qa::OneCoin(d, mw::qa::EmOptions()); }},
      {"glad", [](const CrowdData& d) { return mw::qa::Glad(d, mw::qa::EmOptions()); }},
      {"mace", [](const CrowdData& d) { return mw::qa::Mace(d, mw::qa::EmOptions()); }},
  };
  return methods;
}

double Accuracy(const CrowdData& d, const Aggregate& a,
                const std::map<std::string, std::string>& gold, int* scored) {
  int right = 0;
  *scored = 0;
  for (const auto& [task, label] : gold) {
    const int t = d.TaskId(task);
    if (t < 0) continue;  // a gold task nobody answered
    ++*scored;
    right += d.label(a.tasks[t].label) == label;
  }
  return *scored == 0 ? 0 : static_cast<double>(right) / *scored;
}

// Median wall time of `runs` fits, in milliseconds.
double MedianMs(const std::function<void()>& fit, int runs) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    fit();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// A generated crowd with known truth: good workers (60-95% right), workers who read class 0 as
// class 1, spammers answering at random and spammers always giving one label, in the given
// mix; each task answered by `per_task` distinct workers. Seeded: the same every run.
struct Labelled {
  std::string name;
  CrowdData data;
  std::map<std::string, std::string> gold;
};

Labelled Generate(const std::string& name, uint32_t seed, int tasks, int K, int workers,
                  int per_task, double biased, double spammers) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::vector<std::vector<double>>> confusion(workers);  // [w][truth][answer]
  for (int w = 0; w < workers; ++w) {
    const double r = u(rng), skill = 0.6 + 0.35 * u(rng);
    auto& m = confusion[w];
    m.assign(K, std::vector<double>(K, 0));
    const int favourite = static_cast<int>(u(rng) * K) % K;
    for (int k = 0; k < K; ++k) {
      for (int l = 0; l < K; ++l) {
        if (r < spammers / 2) {
          m[k][l] = 1.0 / K;
        } else if (r < spammers) {
          m[k][l] = l == favourite ? 1.0 : 0.0;
        } else if (r < spammers + biased && k == 0) {
          m[k][l] = l == 1 ? skill : (1 - skill) / (K - 1);
        } else {
          m[k][l] = l == k ? skill : (1 - skill) / (K - 1);
        }
      }
    }
  }
  Labelled out;
  out.name = name;
  std::vector<int> order(workers);
  for (int t = 0; t < tasks; ++t) {
    const int truth = static_cast<int>(u(rng) * K) % K;
    const std::string task = absl::StrCat("t", t);
    out.gold[task] = absl::StrCat("c", truth);
    for (int i = 0; i < workers; ++i) order[i] = i;
    for (int i = 0; i < per_task; ++i) {
      std::swap(order[i], order[i + static_cast<int>(u(rng) * (workers - i)) % (workers - i)]);
      const auto& row = confusion[order[i]][truth];
      std::discrete_distribution<int> pick(row.begin(), row.end());
      out.data.Add(task, absl::StrCat("w", order[i]), absl::StrCat("c", pick(rng)));
    }
  }
  out.data.Finalize();
  return out;
}

// Dawid-Skene's settings, chosen by leave-one-dataset-out: for each real set held out, the
// setting with the best mean accuracy on every other set (real and generated) is scored on it.
struct Setting {
  std::string name;
  mw::qa::EmOptions options;
};

std::vector<Setting> Settings() {
  std::vector<Setting> out;
  for (double smoothing : {0.0, 0.01, 0.1, 1.0}) {
    for (int stable : {0, 5}) {
      Setting s;
      s.options.smoothing = smoothing;
      s.options.stable_iterations = stable;
      s.name = absl::StrCat(
          "smoothing ", smoothing,
          stable == 0 ? ", until the likelihood settles" : ", until labels hold 5 rounds");
      out.push_back(s);
    }
  }
  return out;
}

// Runs `argv` and returns its wall time in milliseconds (-1 when it failed).
double RunMs(const std::vector<std::string>& argv) {
  std::fflush(stdout);  // or the child's copy of the buffer is written twice
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (freopen("/dev/null", "w", stdout) == nullptr) _exit(126);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? ms : -1;
}

long PeakRssKb() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : std::string(MW_QA_TESTDATA);
  std::printf("Truth inference on %s (median of 9 fits; one thread)\n\n", dir.c_str());
  std::printf("%-10s %7s %6s %8s  %-8s %9s %9s %6s\n", "dataset", "answers", "gold", "workers",
              "method", "accuracy", "fit ms", "iters");
  for (const char* name : {"d_product", "zhang_rte", "dog", "face"}) {
    auto data = mw::contract::ReadAnswersCsv(absl::StrCat(dir, "/", name, "/answers.csv"));
    auto gold = mw::contract::ReadGoldCsv(absl::StrCat(dir, "/", name, "/gold.csv"));
    if (!data.ok() || !gold.ok()) {
      std::fprintf(stderr, "%s: %s\n", name,
                   (!data.ok() ? data.status() : gold.status()).ToString().c_str());
      return 1;
    }
    for (const Method& m : Methods()) {
      Aggregate a = m.fit(*data);
      int scored = 0;
      const double acc = Accuracy(*data, a, *gold, &scored);
      const double ms = MedianMs([&] { m.fit(*data); }, 9);
      std::printf("%-10s %7zu %6d %8d  %-8s %9.4f %9.2f %6d\n", name, data->answers().size(),
                  scored, data->num_workers(), m.name, acc, ms, a.iterations);
    }
  }

  // Leave one dataset out.
  std::vector<Labelled> sets;
  for (const char* name : {"d_product", "zhang_rte", "dog", "face"}) {
    auto data = mw::contract::ReadAnswersCsv(absl::StrCat(dir, "/", name, "/answers.csv"));
    auto gold = mw::contract::ReadGoldCsv(absl::StrCat(dir, "/", name, "/gold.csv"));
    sets.push_back({name, *std::move(data), *std::move(gold)});
  }
  const size_t real = sets.size();
  sets.push_back(Generate("gen-a", 1, 4000, 2, 120, 3, 0.1, 0.2));
  sets.push_back(Generate("gen-b", 2, 3000, 4, 60, 5, 0.2, 0.1));
  sets.push_back(Generate("gen-c", 3, 2000, 3, 300, 3, 0.0, 0.35));
  sets.push_back(Generate("gen-d", 4, 1500, 2, 30, 7, 0.3, 0.05));
  const std::vector<Setting> settings = Settings();
  std::vector<std::vector<double>> acc(settings.size(), std::vector<double>(sets.size()));
  for (size_t i = 0; i < settings.size(); ++i) {
    for (size_t d = 0; d < sets.size(); ++d) {
      int scored = 0;
      acc[i][d] = Accuracy(sets[d].data, mw::qa::DawidSkene(sets[d].data, settings[i].options),
                           sets[d].gold, &scored);
    }
  }
  std::printf(
      "\nDawid-Skene settings on every set (accuracy; gen-* are generated with known "
      "truth)\n%-50s",
      "setting");
  for (const auto& d : sets) std::printf(" %9s", d.name.c_str());
  std::printf("\n");
  for (size_t i = 0; i < settings.size(); ++i) {
    std::printf("%-50s", settings[i].name.c_str());
    for (double a : acc[i]) std::printf(" %9.4f", a);
    std::printf("\n");
  }
  const std::map<std::string, double> crowdkit = {
      {"d_product", 0.940}, {"zhang_rte", 0.9275}, {"dog", 0.8426}, {"face", 0.6404}};
  std::printf(
      "\nLeave one dataset out: the setting best on the other sets, scored on the one "
      "held out\n%-10s %-50s %9s %9s %8s\n",
      "held out", "chosen on the others", "accuracy", "crowd-kit", "diff");
  for (size_t held = 0; held < real; ++held) {
    size_t best = 0;
    double best_mean = -1;
    for (size_t i = 0; i < settings.size(); ++i) {
      double sum = 0;
      for (size_t d = 0; d < sets.size(); ++d) sum += d == held ? 0 : acc[i][d];
      if (sum / (sets.size() - 1) > best_mean + 1e-12) {
        best_mean = sum / (sets.size() - 1);
        best = i;
      }
    }
    const double ck = crowdkit.at(sets[held].name);
    std::printf("%-10s %-50s %9.4f %9.4f %+8.4f\n", sets[held].name.c_str(),
                settings[best].name.c_str(), acc[best][held], ck, acc[best][held] - ck);
  }

  // Speed on ~100k answers: d_product four times over (fresh task and worker ids per copy), the
  // whole `mw qa aggregate --method ds` process beside the fit alone.
  {
    auto base = mw::contract::ReadAnswersCsv(absl::StrCat(dir, "/d_product/answers.csv"));
    char tmpl[] = "/tmp/qa-bench-XXXXXX";
    const std::string tmp = mkdtemp(tmpl);
    const std::string answers = tmp + "/answers.csv", out = tmp + "/out.csv";
    CrowdData big;
    {
      std::ofstream f(answers);
      f << "task,worker,label\n";
      for (int c = 0; c < 4; ++c) {
        for (const auto& a : base->answers()) {
          const std::string task = absl::StrCat(c, ":", base->task(a.task));
          const std::string worker = absl::StrCat(c, ":", base->worker(a.worker));
          f << task << "," << worker << "," << base->label(a.label) << "\n";
          big.Add(task, worker, base->label(a.label));
        }
      }
    }
    big.Finalize();
    const std::string self = argv[0];
    const std::string mw = self.substr(0, self.rfind('/') + 1) + "mw";
    std::vector<double> runs;
    for (int i = 0; i < 5; ++i) {
      runs.push_back(
          RunMs({mw, "qa", "aggregate", "--method", "ds", "--answers", answers, "--out", out}));
    }
    std::sort(runs.begin(), runs.end());
    mw::qa::Aggregate a;
    const double fit = MedianMs([&] { a = mw::qa::DawidSkene(big, mw::qa::EmOptions()); }, 9);
    std::printf(
        "\nWhole process on %zu answers, %d tasks, %d workers: mw qa aggregate --method ds "
        "(median of 5 runs)\n",
        big.answers().size(), big.num_tasks(), big.num_workers());
    std::printf("qa answers=%zu whole_process_ms=%.1f fit_ms=%.1f iterations=%d\n",
                big.answers().size(), runs[runs.size() / 2], fit, a.iterations);
    std::remove(answers.c_str());
    std::remove(out.c_str());
    rmdir(tmp.c_str());
  }

  // Growth: d_product copied 1, 2, 4, 8 times over (fresh task and worker ids per copy).
  std::printf("\nGrowth: Dawid-Skene on d_product replicated (fit time, resident memory)\n");
  std::printf("%6s %9s %9s %11s\n", "copies", "answers", "fit ms", "peak RSS MB");
  auto base = mw::contract::ReadAnswersCsv(absl::StrCat(dir, "/d_product/answers.csv"));
  for (int copies : {1, 2, 4, 8}) {
    CrowdData big;
    for (int c = 0; c < copies; ++c) {
      for (const auto& a : base->answers()) {
        big.Add(absl::StrCat(c, ":", base->task(a.task)),
                absl::StrCat(c, ":", base->worker(a.worker)), base->label(a.label));
      }
    }
    big.Finalize();
    const double ms = MedianMs([&] { mw::qa::DawidSkene(big, mw::qa::EmOptions()); }, 5);
    std::printf("%6d %9zu %9.2f %11.1f\n", copies, big.answers().size(), ms, PeakRssKb() / 1024.0);
  }
  return 0;
}
