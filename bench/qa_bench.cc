// qa_bench: accuracy and speed of the truth-inference methods on the public crowd datasets
// (qa/testdata: d_product, zhang_rte, dog, face), and how fit time and memory grow with the
// number of answers. A program that prints figures, not a test.
//
//   build/bin/qa_bench [DATA_DIR]        (default: the repository's qa/testdata)
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
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
