// fault_bench: sustained load with faults, on the real binaries. A dispatcher and several agents
// (each with simulated workers answering at once) run a large job; during the run the dispatcher
// is killed with SIGKILL and restarted twice, and one agent is cut off (stopped with SIGSTOP, so
// its link carries nothing and its leases expire) for a stretch. The contributions recorded are
// sampled from the dispatcher four times a second. Prints the steady rate, each fault's dip and
// recovery time, and the invariant checks at the end: every contribution an agent saw
// acknowledged is in the ledger, none is paid twice, no live lease lacks a timer after a
// restart, and `mw ledger verify` passes. A program that prints figures, not a test.
//
//   build/bin/fault_bench [--seconds 40] [--agents 3] [--workers 8] [--cut-seconds 10]
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "microwork/v1/services.grpc.pb.h"
#include "proto/rpc/channel.h"
#include "testing/http_get.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace {

namespace v1 = microwork::v1;
using mw::testing::Subprocess;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string BinDir() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  std::string self(buf, n > 0 ? n : 0);
  return self.substr(0, self.rfind('/'));
}

class Bench {
 public:
  Bench(std::string bin, int agents, int workers)
      : bin_(std::move(bin)), agents_n_(agents), workers_(workers) {}

  void Setup(int items) {
    std::ofstream csv(dir_.Sub("items.csv"));
    csv << "id,text\n";
    for (int i = 0; i < items; ++i) csv << "I" << i << ",item number " << i << "\n";
    csv.close();
    std::ofstream(dir_.Sub("contract.yaml")) << R"(
name: Load with faults
client: acme
currency: USD
budget_minor: 100000000
inputs: [{name: items, format: FORMAT_CSV, path: items.csv}]
stages:
  - {name: rows, split: {input: items, by: SPLIT_ROWS}}
  - name: label
    after: [rows]
    human:
      instructions: {en: "Pick one"}
      answer: {single_choice: {options: [a, b, c]}}
      piece_rate_minor: 1
      estimated_seconds: 5
      overlap: 1
  - {name: out, after: [label], merge: {}}
)";
    StartDispatcher("127.0.0.1:0", "127.0.0.1:0");
    token_ = std::string(absl::StripAsciiWhitespace(
        mw::testing::Run({"/bin/cat", dir_.Sub("dispatcher/operator.token")}).out));
    for (int a = 0; a < agents_n_; ++a) {
      const std::string id = absl::StrCat("centre-", a);
      Must(Mw({"centre", "add", "--id", id, "--region", "KE", "--currency", "USD", "--floor-minor",
               "100", "--capacity", "10000", "--credential-out", dir_.Sub(id + ".cred")}));
    }
    Must(Mw({"contract", "submit", dir_.Sub("contract.yaml")}));
    for (int a = 0; a < agents_n_; ++a) {
      const std::string id = absl::StrCat("centre-", a);
      agents_.push_back(std::make_unique<Subprocess>(
          std::vector<std::string>{bin_ + "/mw-agent", "--dispatcher", server_, "--credential-file",
                                   dir_.Sub(id + ".cred"), "--data-dir", dir_.Sub("agent-" + id),
                                   "--sim-workers", std::to_string(workers_), "--sim-time-scale",
                                   "0", "--max-backoff-ms", "200", "--log-level", "warn",
                                   "--receipt-log", dir_.Sub("receipts-" + id + ".log")},
          dir_.Sub("agent-" + id + ".log")));
      if (agents_.back()->ReadLineContaining("mw-agent ready").empty())
        Die("an agent did not start");
    }
  }

  // Recorded contributions (durable: read from the job, not a process counter), or -1 when
  // the dispatcher does not answer.
  int64_t Contributions() {
    // One channel for the run: it reconnects by itself when the dispatcher comes back.
    if (operator_ == nullptr) {
      operator_ = v1::OperatorService::NewStub(*mw::rpc::MakeChannel({.target = server_}));
    }
    v1::GetJobRequest req;
    req.set_job_id("job-1");
    v1::Job job;
    auto ctx = mw::rpc::MakeContext(token_, absl::Milliseconds(200));
    if (!operator_->GetJob(ctx.get(), req, &job).ok() || job.stages_size() < 2) return -1;
    return static_cast<int64_t>(job.stages(1).contributions());
  }

  // Kills the dispatcher with SIGKILL and starts it again on the same ports; seconds until it
  // serves again, and whether every live lease had a timer once it did.
  std::pair<double, bool> KillAndRestart() {
    const auto t = Clock::now();
    dispatcher_->Signal(SIGKILL);
    dispatcher_->Wait();
    const double reaped = Since(t);
    StartDispatcher(server_, metrics_);
    std::printf("    (reaped after %.2f s, then %.2f s to reopen and serve)\n", reaped,
                Since(t) - reaped);
    const double restart = Since(t);
    const double without = mw::testing::MetricValue(mw::testing::HttpGet(metrics_, "/metrics"),
                                                    "mw_leases_without_timer");
    return {restart, without == 0};
  }

  void Cut(int agent, bool cut) { agents_[agent]->Signal(cut ? SIGSTOP : SIGCONT); }

  // Stops the agents and checks the ledger against what they saw acknowledged.
  bool Verify() {
    for (auto& a : agents_) a->Signal(SIGTERM);
    for (auto& a : agents_) a->Wait();
    std::set<std::string> acknowledged;
    for (int a = 0; a < agents_n_; ++a) {
      std::ifstream log(dir_.Sub(absl::StrCat("receipts-centre-", a, ".log")));
      std::string id, status;
      while (log >> id >> status) {
        if (status != "RECEIPT_ACCEPTED" && status != "RECEIPT_DUPLICATE") {
          std::printf("  FAIL: receipt %s %s\n", id.c_str(), status.c_str());
          return false;
        }
        acknowledged.insert(id.substr(2, id.rfind(':') - 2));  // "r:<assignment>:<epoch>"
      }
    }
    std::map<std::string, int> wages;
    auto ctx = mw::rpc::MakeContext(token_, absl::Seconds(120));
    auto ledger = v1::LedgerService::NewStub(*mw::rpc::MakeChannel({.target = server_}));
    auto reader = ledger->ReadLedger(ctx.get(), {});
    v1::LedgerRecord rec;
    while (reader->Read(&rec)) {
      if (!rec.has_transfer()) continue;
      absl::string_view id = rec.transfer().id();
      if (absl::ConsumePrefix(&id, "wage:")) ++wages[std::string(id)];
    }
    if (!reader->Finish().ok()) return false;
    uint64_t lost = 0, twice = 0;
    for (const auto& aid : acknowledged) lost += wages.count(aid) == 0;
    for (const auto& [aid, n] : wages) twice += n > 1;
    const auto verify = Mw({"ledger", "verify"});
    std::printf(
        "  acknowledged contributions %zu, in the ledger %zu: %llu lost, %llu paid twice; "
        "mw ledger verify exit %d\n",
        acknowledged.size(), wages.size(), static_cast<unsigned long long>(lost),
        static_cast<unsigned long long>(twice), verify.exit_code);
    return lost == 0 && twice == 0 && verify.exit_code == 0;
  }

  ~Bench() {
    for (auto& a : agents_) a->Signal(SIGCONT);
  }

 private:
  void StartDispatcher(const std::string& listen, const std::string& metrics) {
    dispatcher_ = std::make_unique<Subprocess>(
        std::vector<std::string>{bin_ + "/mw-dispatcher", "--data-dir", dir_.Sub("dispatcher"),
                                 "--listen", listen, "--metrics-listen", metrics, "--lease-seconds",
                                 "5", "--log-level", "warn"},
        dir_.Sub("dispatcher.log"));
    const std::string ready = dispatcher_->ReadLineContaining("mw-dispatcher ready");
    if (ready.empty()) Die("the dispatcher did not start; see " + dir_.Sub("dispatcher.log"));
    server_ = mw::testing::ReadyField(ready, "grpc");
    metrics_ = mw::testing::ReadyField(ready, "metrics");
  }

  mw::testing::CommandResult Mw(std::vector<std::string> args) {
    std::vector<std::string> argv = {bin_ + "/mw", "--server", server_, "--token-file",
                                     dir_.Sub("dispatcher/operator.token")};
    argv.insert(argv.end(), args.begin(), args.end());
    return mw::testing::Run(argv);
  }

  static void Must(const mw::testing::CommandResult& r) {
    if (r.exit_code != 0) Die(r.err);
  }
  [[noreturn]] static void Die(const std::string& why) {
    std::fprintf(stderr, "fault_bench: %s\n", why.c_str());
    std::exit(1);
  }

  const std::string bin_;
  const int agents_n_, workers_;
  mw::testing::TempDir dir_;
  std::unique_ptr<Subprocess> dispatcher_;
  std::vector<std::unique_ptr<Subprocess>> agents_;
  std::string server_, metrics_, token_;
  std::unique_ptr<v1::OperatorService::Stub> operator_;
};

// Contributions per second over the second that ends at sample i (samples every 250 ms).
double RateAt(const std::vector<int64_t>& v, size_t i) {
  if (i < 4 || v[i] < 0 || v[i - 4] < 0) return -1;
  return static_cast<double>(v[i] - v[i - 4]);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fault_bench"};
  double seconds = 40, cut_seconds = 10;
  int agents = 3, workers = 8, items = 400'000;
  std::string bin = BinDir(), base;
  app.add_option("--seconds", seconds, "Length of the run");
  app.add_option("--agents", agents, "Centres, one agent each");
  app.add_option("--workers", workers, "Simulated workers per agent");
  app.add_option("--items", items, "Items in the job (more than the run can finish)");
  app.add_option("--cut-seconds", cut_seconds, "How long one agent is cut off");
  app.add_option("--bin", bin, "Where mw-dispatcher, mw-agent and mw are");
  app.add_option("--dir", base, "Where the state goes (default $TMPDIR)");
  CLI11_PARSE(app, argc, argv);
  if (!base.empty()) setenv("TMPDIR", base.c_str(), 1);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  Bench bench(bin, agents, workers);
  std::printf("Load with faults: %d agents x %d simulated workers, %.0f s, %d items\n", agents,
              workers, seconds, items);
  bench.Setup(items);

  // The schedule: kill at 25%, cut agent 0 at 50% for cut_seconds, kill at 75%.
  struct Fault {
    double at;
    std::string what;
    size_t sample = 0;
  };
  std::vector<Fault> faults = {
      {seconds * 0.25, "dispatcher SIGKILL + restart"},
      {seconds * 0.50, absl::StrCat("agent cut off for ", cut_seconds, " s")},
      {seconds * 0.75, "dispatcher SIGKILL + restart"}};
  std::vector<int64_t> samples;
  const auto start = Clock::now();
  size_t next = 0;
  bool timers_ok = true;
  double cut_until = -1;
  while (Since(start) < seconds) {
    const double t = Since(start);
    if (next < faults.size() && t >= faults[next].at) {
      faults[next].sample = samples.size();
      if (absl::StartsWith(faults[next].what, "dispatcher")) {
        auto [restart, ok] = bench.KillAndRestart();
        timers_ok = timers_ok && ok;
        std::printf("  t=%5.1f s  %s: serving again after %.2f s, leases without a timer: %s\n", t,
                    faults[next].what.c_str(), restart, ok ? "none" : "SOME");
      } else {
        bench.Cut(0, true);
        cut_until = t + cut_seconds;
        std::printf("  t=%5.1f s  %s\n", t, faults[next].what.c_str());
      }
      ++next;
    }
    if (cut_until >= 0 && t >= cut_until) {
      bench.Cut(0, false);
      cut_until = -1;
      std::printf("  t=%5.1f s  agent reconnected\n", t);
    }
    samples.push_back(bench.Contributions());
    std::this_thread::sleep_until(start + std::chrono::milliseconds(250 * samples.size()));
  }
  if (cut_until >= 0) bench.Cut(0, false);

  // Steady rate: the median one-second rate before the first fault (after a warm-up second).
  std::vector<double> steady;
  for (size_t i = 8; i < faults[0].sample; ++i) {
    if (double r = RateAt(samples, i); r >= 0) steady.push_back(r);
  }
  std::sort(steady.begin(), steady.end());
  const double base_rate = steady.empty() ? 0 : steady[steady.size() / 2];
  std::printf("  steady rate before the faults: %.0f contributions/s (median of 1-s windows)\n",
              base_rate);
  for (size_t f = 0; f < faults.size(); ++f) {
    const size_t from = faults[f].sample;
    const size_t to = f + 1 < faults.size() ? faults[f + 1].sample : samples.size();
    double low = base_rate;
    double recovered = -1;
    for (size_t i = from; i < to; ++i) {
      const double r = RateAt(samples, i);
      low = std::min(low, std::max(r, 0.0));
      if (i >= from + 4 && r >= 0.8 * base_rate && recovered < 0) {
        recovered = (i - from) * 0.25;
      }
    }
    if (recovered < 0) {
      std::printf("  %-32s dip to %.0f/s (%.0f%%); not back to 80%% before the next fault\n",
                  faults[f].what.c_str(), low, base_rate > 0 ? 100 * low / base_rate : 0);
    } else {
      std::printf("  %-32s dip to %.0f/s (%.0f%%); back to >= 80%% of steady after %.2f s\n",
                  faults[f].what.c_str(), low, base_rate > 0 ? 100 * low / base_rate : 0,
                  recovered);
    }
  }
  const bool ok = bench.Verify() && timers_ok;
  std::printf("  invariants: %s\n", ok ? "all hold" : "VIOLATED");
  return ok ? 0 : 1;
}
