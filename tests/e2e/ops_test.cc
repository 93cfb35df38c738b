// Operations end to end: after a job runs, both servers' /metrics pass `promtool check metrics`
// and carry the values the job implies, and Debian's real Prometheus, started with the scrape
// configuration from deploy/, scrapes them: `up` is 1 for both and a known counter reads right.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "testing/file_watch.h"
#include "testing/http_get.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace mw {
namespace {

using testing::CommandResult;
using testing::Subprocess;

const std::string kBin = MW_BIN_DIR;
const std::string kSource = MW_SOURCE_DIR;

// A port the OS says is free now (bound and released): for Prometheus, which cannot report the
// port it picked for itself.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string Field(const std::string& line, const std::string& name) {
  for (absl::string_view part : absl::StrSplit(line, ' ')) {
    if (absl::ConsumePrefix(&part, name + "=")) return std::string(part);
  }
  return "";
}

class OpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dispatcher_ = std::make_unique<Subprocess>(
        std::vector<std::string>{kBin + "/mw-dispatcher", "--data-dir", dir_.Sub("dispatcher"),
                                 "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"},
        dir_.Sub("dispatcher.log"));
    const std::string ready = dispatcher_->ReadLineContaining("mw-dispatcher ready");
    server_ = Field(ready, "grpc");
    dispatcher_metrics_ = Field(ready, "metrics");
    ASSERT_FALSE(server_.empty());
  }

  CommandResult Mw(std::vector<std::string> args) {
    std::vector<std::string> argv = {kBin + "/mw", "--server", server_, "--token-file",
                                     dir_.Sub("dispatcher/operator.token")};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::Run(argv);
  }

  // Runs the demo contract at one centre with always-right workers, to completion.
  void RunJob() {
    ASSERT_EQ(Mw({"centre", "add", "--id", "nairobi", "--region", "KE", "--currency", "USD",
                  "--floor-minor", "150", "--credential-out", dir_.Sub("nairobi.cred")})
                  .exit_code,
              0);
    ASSERT_EQ(Mw({"contract", "submit", kSource + "/examples/demo/contract.yaml"}).exit_code, 0);
    agent_ = std::make_unique<Subprocess>(
        std::vector<std::string>{kBin + "/mw-agent", "--dispatcher", server_, "--credential-file",
                                 dir_.Sub("nairobi.cred"), "--data-dir", dir_.Sub("agent"),
                                 "--sim-workers", "3", "--sim-accuracy", "1.0", "--sim-truth",
                                 kSource + "/examples/demo/truth.csv", "--metrics-listen",
                                 "127.0.0.1:0"},
        dir_.Sub("agent.log"));
    agent_metrics_ = Field(agent_->ReadLineContaining("mw-agent ready"), "metrics");
    ASSERT_FALSE(agent_metrics_.empty());
    ASSERT_EQ(Mw({"job", "watch", "job-1", "--every", "3600"}).exit_code, 0);
  }

  CommandResult Promtool(const std::string& exposition) {
    const std::string file = dir_.Sub("scrape.txt");
    std::ofstream(file) << exposition;
    return testing::Run({"/bin/sh", "-c", "promtool check metrics < " + file + " 2>&1"});
  }

  void TearDown() override {
    if (agent_) {
      agent_->Signal(SIGTERM);
      EXPECT_EQ(agent_->Wait(), 0);
    }
    dispatcher_->Signal(SIGTERM);
    EXPECT_EQ(dispatcher_->Wait(), 0);
  }

  testing::TempDir dir_;
  std::unique_ptr<Subprocess> dispatcher_, agent_;
  std::string server_, dispatcher_metrics_, agent_metrics_;
};

TEST_F(OpsTest, MetricsPassPromtoolAndCarryTheJobsFigures) {
  RunJob();
  const std::string d = testing::HttpGet(dispatcher_metrics_, "/metrics");
  CommandResult check = Promtool(d);
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_EQ(check.out, "") << check.out;
  EXPECT_EQ(testing::MetricValue(d, "mw_contributions_total"), 900);
  EXPECT_EQ(testing::MetricValue(d, "mw_verdicts_total"), 300);
  EXPECT_EQ(testing::MetricValue(d, "mw_leases_without_timer"), 0);
  EXPECT_TRUE(absl::StrContains(d, "mw_wages_minor{currency=\"USD\",state=\"owed\"} 4500"));
  EXPECT_TRUE(absl::StrContains(d, "mw_centre_queue_depth{centre=\"nairobi\"} 0"));

  const std::string a = testing::HttpGet(agent_metrics_, "/metrics");
  check = Promtool(a);
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_EQ(check.out, "") << check.out;
  EXPECT_EQ(testing::MetricValue(a, "mw_agent_assignments_leased_total"), 900);
  EXPECT_GE(testing::MetricValue(a, "mw_agent_seconds_since_last_sync"), 0);
}

TEST_F(OpsTest, ARealPrometheusScrapesBothServersWithTheDeployConfig) {
  RunJob();
  // The deploy config, pointed at this test's servers and scraping every second.
  std::ifstream in(kSource + "/deploy/prometheus/prometheus.yml");
  std::stringstream config;
  config << in.rdbuf();
  const std::string text =
      absl::StrReplaceAll(config.str(), {{"127.0.0.1:9464", dispatcher_metrics_},
                                         {"127.0.0.1:9465", agent_metrics_},
                                         {"scrape_interval: 15s", "scrape_interval: 1s"}});
  std::ofstream(dir_.Sub("prometheus.yml")) << text;
  std::filesystem::copy_file(kSource + "/deploy/prometheus/alerts.yml", dir_.Sub("alerts.yml"));
  std::filesystem::create_directories(dir_.Sub("tsdb"));

  const int port = FreePort();
  const std::string web = absl::StrCat("127.0.0.1:", port);
  testing::DirectoryWatch tsdb(dir_.Sub("tsdb"));
  Subprocess prometheus({"/usr/bin/prometheus", "--config.file=" + dir_.Sub("prometheus.yml"),
                         "--storage.tsdb.path=" + dir_.Sub("tsdb"), "--web.listen-address=" + web},
                        dir_.Sub("prometheus.log"));

  // Each scrape appends to the write-ahead log: query after every change until both targets
  // are up and the counter is in (at most 60 changes, each within 10 s).
  auto query = [&](const std::string& q) {
    const std::string body = testing::HttpGet(web, "/api/v1/query?query=" + q);
    return nlohmann::json::parse(body, nullptr, false);
  };
  std::unique_ptr<testing::DirectoryWatch> wal;
  int up = 0;
  double contributions = -1;
  for (int i = 0; i < 60 && (up < 2 || contributions != 900); ++i) {
    if (wal == nullptr && std::filesystem::exists(dir_.Sub("tsdb/wal"))) {
      wal = std::make_unique<testing::DirectoryWatch>(dir_.Sub("tsdb/wal"));
    }
    (wal != nullptr ? wal.get() : &tsdb)->WaitForChange(10'000);
    nlohmann::json r = query("up");
    if (r.is_discarded() || r["status"] != "success") continue;
    up = 0;
    for (const auto& s : r["data"]["result"]) up += s["value"][1] == "1";
    nlohmann::json c = query("mw_contributions_total");
    if (!c.is_discarded() && !c["data"]["result"].empty()) {
      contributions = std::stod(c["data"]["result"][0]["value"][1].get<std::string>());
    }
  }
  EXPECT_EQ(up, 2) << testing::HttpGet(web, "/api/v1/targets");
  EXPECT_EQ(contributions, 900);
  nlohmann::json sync = query("mw_agent_outbox_depth");
  ASSERT_FALSE(sync.is_discarded());
  ASSERT_EQ(sync["data"]["result"].size(), 1u);
  EXPECT_EQ(sync["data"]["result"][0]["metric"]["centre"], "local");
  prometheus.Signal(SIGTERM);
  EXPECT_EQ(prometheus.Wait(), 0);
}

}  // namespace
}  // namespace mw
