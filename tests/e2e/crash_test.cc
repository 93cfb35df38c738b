// Crash safety with real processes: the dispatcher is killed with SIGKILL at 20 random moments
// while two agents keep leasing and submitting, and restarted on the same port each time. At
// the end every contribution an agent saw acknowledged is in the ledger, none is paid twice,
// no live lease ever lacks a timer, and the ledger verifies.
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "microwork/v1/services.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "proto/rpc/channel.h"
#include "testing/file_watch.h"
#include "testing/http_get.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace mw {
namespace {

using testing::CommandResult;
using testing::Subprocess;
namespace v1 = ::microwork::v1;

const std::string kBin = MW_BIN_DIR;
constexpr int kItems = 3000;
constexpr int kKills = 20;

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream csv(dir_.Sub("items.csv"));
    csv << "id,text\n";
    for (int i = 0; i < kItems; ++i) csv << "I" << i << ",item number " << i << "\n";
    csv.close();
    std::ofstream(dir_.Sub("contract.yaml")) << R"(
name: Crash drill
client: acme
currency: USD
budget_minor: 100000
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
      overlap: 3
  - {name: out, after: [label], merge: {}}
)";
    StartDispatcher("127.0.0.1:0", "127.0.0.1:0");
  }

  void StartDispatcher(const std::string& listen, const std::string& metrics) {
    dispatcher_ = std::make_unique<Subprocess>(
        std::vector<std::string>{kBin + "/mw-dispatcher", "--data-dir", dir_.Sub("dispatcher"),
                                 "--listen", listen, "--metrics-listen", metrics},
        dir_.Sub("dispatcher.log"));
    const std::string ready = dispatcher_->ReadLineContaining("mw-dispatcher ready");
    ASSERT_FALSE(ready.empty()) << "the dispatcher did not start; see "
                                << dir_.Sub("dispatcher.log");
    server_ = testing::ReadyField(ready, "grpc");
    metrics_ = testing::ReadyField(ready, "metrics");
  }

  CommandResult Mw(std::vector<std::string> args) {
    std::vector<std::string> argv = {kBin + "/mw", "--server", server_, "--token-file",
                                     dir_.Sub("dispatcher/operator.token")};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::Run(argv);
  }

  std::unique_ptr<v1::OperatorService::Stub> Operator() {
    return v1::OperatorService::NewStub(*rpc::MakeChannel({.target = server_}));
  }

  std::string Token() {
    return std::string(absl::StripAsciiWhitespace(
        testing::Run({"/bin/cat", dir_.Sub("dispatcher/operator.token")}).out));
  }

  // Follows the job until its stages have at least `contributions` answers (or it ends).
  void WaitForContributions(uint64_t contributions) {
    auto ctx = rpc::MakeContext(Token(), absl::Seconds(120));
    v1::GetJobRequest req;
    req.set_job_id("job-1");
    auto stub = Operator();
    auto reader = stub->WatchJob(ctx.get(), req);
    v1::JobEvent event;
    while (reader->Read(&event)) {
      uint64_t answers = 0;
      for (const auto& s : event.job().stages()) answers += s.contributions();
      if (answers >= contributions || event.final()) break;
    }
    ctx->TryCancel();
    reader->Finish().IgnoreError();
  }

  // Wage transfers in the ledger as an auditor reads it: assignment id -> wages ("wage:",
  // reserved or posted at once) and, in `posted`, how many were posted (a reservation's posting,
  // "wage-post:", or a wage posted at once).
  std::map<std::string, int> Wages(int* posted = nullptr) {
    std::map<std::string, int> wages;
    auto ctx = rpc::MakeContext(Token(), absl::Seconds(60));
    auto ledger = v1::LedgerService::NewStub(*rpc::MakeChannel({.target = server_}));
    auto reader = ledger->ReadLedger(ctx.get(), {});
    v1::LedgerRecord rec;
    while (reader->Read(&rec)) {
      if (!rec.has_transfer()) continue;
      absl::string_view id = rec.transfer().id();
      // Posted: by the posting of its reservation, or at once (a task's last answer).
      const bool posts =
          absl::StartsWith(id, "wage-post:") ||
          (absl::StartsWith(id, "wage:") && rec.transfer().kind() == v1::TRANSFER_POSTED);
      if (posted != nullptr && posts) ++*posted;
      if (absl::ConsumePrefix(&id, "wage:")) ++wages[std::string(id)];
    }
    EXPECT_TRUE(reader->Finish().ok());
    return wages;
  }

  // Two centres, nairobi and kampala, whose credentials go to "<centre>.cred".
  void AddCentres() {
    for (const char* c : {"nairobi", "kampala"}) {
      EXPECT_EQ(
          Mw({"centre", "add", "--id", c, "--region", "KE", "--currency", "USD", "--floor-minor",
              "100", "--capacity", "100", "--credential-out", dir_.Sub(absl::StrCat(c, ".cred"))})
              .exit_code,
          0);
    }
  }

  // An agent of four simulated workers answering at once at each centre; `extra` are more flags.
  std::vector<std::unique_ptr<Subprocess>> StartAgents(const std::vector<std::string>& extra = {}) {
    std::vector<std::unique_ptr<Subprocess>> agents;
    for (const char* c : {"nairobi", "kampala"}) {
      std::vector<std::string> argv = {kBin + "/mw-agent",
                                       "--dispatcher",
                                       server_,
                                       "--credential-file",
                                       dir_.Sub(absl::StrCat(c, ".cred")),
                                       "--data-dir",
                                       dir_.Sub(absl::StrCat("agent-", c)),
                                       "--sim-workers",
                                       "4",
                                       "--sim-time-scale",
                                       "0",
                                       "--max-backoff-ms",
                                       "200",
                                       "--receipt-log",
                                       dir_.Sub(absl::StrCat("receipts-", c, ".log"))};
      argv.insert(argv.end(), extra.begin(), extra.end());
      agents.push_back(
          std::make_unique<Subprocess>(argv, dir_.Sub(absl::StrCat("agent-", c, ".log"))));
      EXPECT_FALSE(agents.back()->ReadLineContaining("mw-agent ready").empty());
    }
    return agents;
  }

  // Kills the dispatcher with SIGKILL once the job has each of `points` answers (sorted), and
  // restarts it on the same ports.
  void KillAt(const std::vector<uint64_t>& points) {
    const std::string listen = server_, metrics = metrics_;
    for (size_t k = 0; k < points.size(); ++k) {
      SCOPED_TRACE(absl::StrCat("kill ", k + 1, " at ", points[k], " answers"));
      WaitForContributions(points[k]);
      dispatcher_->Signal(SIGKILL);
      ASSERT_EQ(dispatcher_->Wait(), 128 + SIGKILL);
      StartDispatcher(listen, metrics);
      // The reconciler re-armed a timer for every live lease.
      const std::string scrape = testing::HttpGet(metrics_, "/metrics");
      ASSERT_EQ(testing::MetricValue(scrape, "mw_leases_without_timer"), 0) << scrape;
    }
  }

  // `count` answer counts in [lo, hi], sorted, from `seed` so that a failure replays.
  static std::vector<uint64_t> Points(uint32_t seed, int count, uint64_t lo, uint64_t hi) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<uint64_t> at(lo, hi);
    std::vector<uint64_t> points;
    for (int i = 0; i < count; ++i) points.push_back(at(rng));
    std::sort(points.begin(), points.end());
    return points;
  }

  // Every result an agent saw acknowledged, by assignment id, from the receipt logs.
  std::set<std::string> Acknowledged() {
    std::set<std::string> acknowledged;
    for (const char* c : {"nairobi", "kampala"}) {
      std::ifstream log(dir_.Sub(absl::StrCat("receipts-", c, ".log")));
      std::string id, status;
      while (log >> id >> status) {
        EXPECT_TRUE(status == "RECEIPT_ACCEPTED" || status == "RECEIPT_DUPLICATE") << id << status;
        // "r:<assignment id>:<epoch>"
        const size_t last = id.rfind(':');
        acknowledged.insert(id.substr(2, last - 2));
      }
    }
    return acknowledged;
  }

  // Waits until the agents' receipt logs hold `n` acknowledged results, or until nothing in the
  // test's directory changes for 30 s: when the job completes, the reply to the last answers
  // may still be on its way to an agent, and stopping it then would lose that reply (not the
  // answers, which the ledger holds).
  void WaitForAcknowledged(size_t n) {
    testing::DirectoryWatch watch(dir_.path());
    for (int i = 0; i < 2000 && Acknowledged().size() < n; ++i) {
      if (!watch.WaitForChange(30000)) return;
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<Subprocess> dispatcher_;
  std::string server_, metrics_;
};

TEST_F(CrashTest, TwentyKillsLoseNothingAndPayNothingTwice) {
  AddCentres();
  CommandResult submit = Mw({"contract", "submit", dir_.Sub("contract.yaml")});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  std::vector<std::unique_ptr<Subprocess>> agents = StartAgents();

  // Kill points: 20 random contribution counts, from a fixed seed so a failure replays.
  ASSERT_NO_FATAL_FAILURE(KillAt(Points(20261123, kKills, 50, kItems * 3 - 500)));

  CommandResult watch = Mw({"job", "watch", "job-1", "--every", "3600"});
  ASSERT_EQ(watch.exit_code, 0) << watch.err;
  EXPECT_TRUE(absl::StrContains(watch.out, "completed")) << watch.out;
  WaitForAcknowledged(kItems * 3);
  for (auto& a : agents) a->Signal(SIGTERM);
  for (auto& a : agents) EXPECT_EQ(a->Wait(), 0);

  const std::set<std::string> acknowledged = Acknowledged();
  int posted = 0;
  const std::map<std::string, int> wages = Wages(&posted);
  EXPECT_EQ(acknowledged.size(), static_cast<size_t>(kItems * 3));
  for (const auto& aid : acknowledged) {
    ASSERT_EQ(wages.count(aid), 1u) << "acknowledged but not in the ledger: " << aid;
  }
  for (const auto& [aid, n] : wages) ASSERT_EQ(n, 1) << "paid twice: " << aid;
  EXPECT_EQ(wages.size(), static_cast<size_t>(kItems * 3));
  EXPECT_EQ(posted, kItems * 3);

  CommandResult verify = Mw({"ledger", "verify"});
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_TRUE(absl::StrContains(verify.out, "job-1: funding 1000.00 USD = wages 90.00 USD"))
      << verify.out;
  dispatcher_->Signal(SIGTERM);
  EXPECT_EQ(dispatcher_->Wait(), 0);
}

// Pieces cut by people, for real: every row is cut into two pieces, each labelled by two workers
// and gathered back, while the dispatcher is killed with SIGKILL at 8 random moments (pieces
// being created, decided and gathered). At the end every tree is whole and every acknowledged
// answer is paid once.
TEST_F(CrashTest, KillsWhilePiecesAreCutAndGatheredLeaveEveryTreeWhole) {
  constexpr int kRows = 300, kPieceKills = 8;
  std::ofstream(dir_.Sub("pieces.yaml")) << R"(
name: Crash drill with pieces
client: acme
currency: USD
budget_minor: 100000
inputs: [{name: items, format: FORMAT_CSV, path: rows.csv}]
stages:
  - {name: rows, split: {input: items, by: SPLIT_ROWS}}
  - name: cut
    after: [rows]
    pieces: {max: 3, expected: 2}
    human:
      instructions: {en: "Copy each sentence, one per line"}
      answer: {text: {max_length: 200}}
      piece_rate_minor: 1
      estimated_seconds: 5
      overlap: 1
  - name: part
    after: [cut]
    human:
      instructions: {en: "Pick one"}
      answer: {single_choice: {options: [a, b, c]}}
      piece_rate_minor: 1
      estimated_seconds: 5
      overlap: 2
  - {name: back, after: [part], gather: {from: cut}}
  - {name: out, after: [back], merge: {}}
)";
  {
    std::ofstream rows(dir_.Sub("rows.csv")), truth(dir_.Sub("truth.csv"));
    rows << "id,text\n";
    truth << "id,cut,part\n";
    for (int i = 0; i < kRows; ++i) {
      rows << "R" << i << ",row " << i << "\n";
      truth << "R" << i << ",\"first of " << i << "\nsecond of " << i << "\",a\n";
    }
  }
  AddCentres();
  CommandResult submit = Mw({"contract", "submit", dir_.Sub("pieces.yaml")});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  std::vector<std::unique_ptr<Subprocess>> agents =
      StartAgents({"--sim-accuracy", "1", "--sim-truth", dir_.Sub("truth.csv")});
  // Answers in all: a cut per row, two answers on each of its two pieces.
  constexpr int kAnswers = kRows + kRows * 2 * 2;
  ASSERT_NO_FATAL_FAILURE(KillAt(Points(20261202, kPieceKills, 20, kAnswers - 100)));
  CommandResult watch = Mw({"job", "watch", "job-1", "--every", "3600"});
  ASSERT_EQ(watch.exit_code, 0) << watch.err;
  EXPECT_TRUE(absl::StrContains(watch.out, "completed")) << watch.out;
  WaitForAcknowledged(kAnswers);
  for (auto& a : agents) a->Signal(SIGTERM);
  for (auto& a : agents) EXPECT_EQ(a->Wait(), 0);

  const std::set<std::string> acknowledged = Acknowledged();
  const std::map<std::string, int> wages = Wages();
  EXPECT_EQ(acknowledged.size(), static_cast<size_t>(kAnswers));
  for (const auto& aid : acknowledged) {
    ASSERT_EQ(wages.count(aid), 1u) << "acknowledged but not in the ledger: " << aid;
  }
  for (const auto& [aid, n] : wages) ASSERT_EQ(n, 1) << "paid twice: " << aid;
  EXPECT_EQ(wages.size(), static_cast<size_t>(kAnswers));

  // Every tree is whole: each row exported once with its two pieces in order, and the row
  // holds their verdicts, gathered back in that order.
  CommandResult exported =
      Mw({"results", "export", "job-1", "--format", "jsonl", "--out", dir_.Sub("out.jsonl")});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  std::ifstream jsonl(dir_.Sub("out.jsonl"));
  int rows = 0;
  for (std::string line; std::getline(jsonl, line); ++rows) {
    const auto row = nlohmann::json::parse(line);
    ASSERT_EQ(row["item"], rows) << line;
    ASSERT_EQ(row["children"].size(), 2u) << line;
    std::vector<std::string> parts;
    for (size_t k = 0; k < 2; ++k) {
      const auto& piece = row["children"][k];
      EXPECT_EQ(piece["parent"], rows);
      EXPECT_EQ(piece["position"], k);
      EXPECT_EQ(piece["fields"]["cut"], absl::StrCat(k == 0 ? "first of " : "second of ", rows));
      parts.push_back(piece["fields"]["part"]);
    }
    EXPECT_EQ(row["fields"]["cut"], absl::StrCat(parts[0], "\n", parts[1])) << line;
  }
  EXPECT_EQ(rows, kRows);
  CommandResult verify = Mw({"ledger", "verify"});
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  dispatcher_->Signal(SIGTERM);
  EXPECT_EQ(dispatcher_->Wait(), 0);
}

// Offline first, for real: the dispatcher goes away for a long stretch while the centre's workers
// keep answering into the agent's outbox; the agent is killed with SIGKILL in the middle of it;
// then both come back. Every answer arrives exactly once and is paid once.
TEST_F(CrashTest, AnswersMadeOfflineSurviveAnAgentKillAndArriveExactlyOnce) {
  constexpr int kOffline = 400;
  {
    std::ofstream csv(dir_.Sub("offline.csv"));
    csv << "id,text\n";
    for (int i = 0; i < kOffline; ++i) csv << "O" << i << ",item " << i << "\n";
  }
  std::string contract = testing::Run({"/bin/cat", dir_.Sub("contract.yaml")}).out;
  contract.replace(contract.find("items.csv"), 9, "offline.csv");
  std::ofstream(dir_.Sub("offline.yaml")) << contract;
  ASSERT_EQ(Mw({"centre", "add", "--id", "nairobi", "--region", "KE", "--currency", "USD",
                "--floor-minor", "100", "--capacity", "500", "--credential-out",
                dir_.Sub("nairobi.cred")})
                .exit_code,
            0);
  CommandResult submit = Mw({"contract", "submit", dir_.Sub("offline.yaml")});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  // Workers take about 20 ms a task (0.001 of the estimate), so the outage spans real work.
  const std::vector<std::string> agent_argv = {kBin + "/mw-agent",
                                               "--dispatcher",
                                               server_,
                                               "--credential-file",
                                               dir_.Sub("nairobi.cred"),
                                               "--data-dir",
                                               dir_.Sub("agent-offline"),
                                               "--sim-workers",
                                               "4",
                                               "--sim-time-scale",
                                               "0.004",
                                               "--lease-buffer",
                                               "40",
                                               "--max-backoff-ms",
                                               "200",
                                               "--metrics-listen",
                                               "127.0.0.1:0",
                                               "--receipt-log",
                                               dir_.Sub("receipts-offline.log")};
  auto agent = std::make_unique<Subprocess>(agent_argv, dir_.Sub("agent-offline.log"));
  std::string ready = agent->ReadLineContaining("mw-agent ready");
  ASSERT_FALSE(ready.empty());
  const std::string agent_metrics = testing::ReadyField(ready, "metrics");
  WaitForContributions(100);

  // The link goes: the dispatcher is gone. Workers go on answering held work into the outbox.
  const std::string listen = server_, metrics = metrics_;
  dispatcher_->Signal(SIGKILL);
  ASSERT_EQ(dispatcher_->Wait(), 128 + SIGKILL);
  double outbox = 0;
  for (int i = 0; i < 200000 && outbox < 30; ++i) {
    outbox =
        testing::MetricValue(testing::HttpGet(agent_metrics, "/metrics"), "mw_agent_outbox_depth");
  }
  ASSERT_GE(outbox, 30) << "the workers did not keep working offline";
  // Mid-outage, mid-work: the agent dies too.
  agent->Signal(SIGKILL);
  ASSERT_EQ(agent->Wait(), 128 + SIGKILL);

  StartDispatcher(listen, metrics);
  agent = std::make_unique<Subprocess>(agent_argv, dir_.Sub("agent-offline.log"));
  ASSERT_FALSE(agent->ReadLineContaining("mw-agent ready").empty());
  CommandResult watch = Mw({"job", "watch", "job-1", "--every", "3600"});
  ASSERT_EQ(watch.exit_code, 0) << watch.err;
  EXPECT_TRUE(absl::StrContains(watch.out, "completed")) << watch.out;
  agent->Signal(SIGTERM);
  EXPECT_EQ(agent->Wait(), 0);

  std::set<std::string> acknowledged;
  std::ifstream log(dir_.Sub("receipts-offline.log"));
  std::string id, status;
  while (log >> id >> status) {
    ASSERT_TRUE(status == "RECEIPT_ACCEPTED" || status == "RECEIPT_DUPLICATE") << id << status;
    acknowledged.insert(id.substr(2, id.rfind(':') - 2));
  }
  std::map<std::string, int> wages = Wages();
  EXPECT_EQ(acknowledged.size(), static_cast<size_t>(kOffline * 3));
  EXPECT_EQ(wages.size(), static_cast<size_t>(kOffline * 3));
  for (const auto& aid : acknowledged) ASSERT_EQ(wages[aid], 1) << aid;
  CommandResult verify = Mw({"ledger", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace mw
