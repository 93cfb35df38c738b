// TLS end to end: certificates from deploy/tls/make-certs.sh; a dispatcher that requires client
// certificates (mutual TLS); mw and an agent that present them; and the refusals: no client
// certificate, plaintext to a TLS server, plaintext off loopback; and, among the dispatcher's
// other refusals at start, a memory budget too small.
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace mw {
namespace {

using testing::CommandResult;
using ::testing::HasSubstr;
using testing::Subprocess;

const std::string kBin = MW_BIN_DIR;
const std::string kSource = MW_SOURCE_DIR;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CommandResult certs = testing::Run({kSource + "/deploy/tls/make-certs.sh", dir_.Sub("tls"),
                                        "127.0.0.1", "nairobi", "operator"});
    ASSERT_EQ(certs.exit_code, 0) << certs.err;
    dispatcher_ = std::make_unique<Subprocess>(
        std::vector<std::string>{kBin + "/mw-dispatcher", "--data-dir", dir_.Sub("dispatcher"),
                                 "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                                 "--tls-cert", dir_.Sub("tls/dispatcher.crt"), "--tls-key",
                                 dir_.Sub("tls/dispatcher.key"), "--tls-ca",
                                 dir_.Sub("tls/ca.crt")},
        dir_.Sub("dispatcher.log"));
    const std::string ready = dispatcher_->ReadLineContaining("mw-dispatcher ready");
    ASSERT_FALSE(ready.empty());
    server_ = testing::ReadyField(ready, "grpc");
  }

  void TearDown() override {
    dispatcher_->Signal(SIGTERM);
    EXPECT_EQ(dispatcher_->Wait(), 0);
  }

  // mw as the operator, with `tls` flags.
  CommandResult Mw(std::vector<std::string> tls, std::vector<std::string> args) {
    std::vector<std::string> argv = {
        kBin + "/mw", "--server", server_, "--token-file", dir_.Sub("dispatcher/operator.token"),
        "--timeout",  "10"};
    argv.insert(argv.end(), tls.begin(), tls.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::Run(argv);
  }

  std::vector<std::string> Client(const std::string& who) {
    return {"--tls-ca",   dir_.Sub("tls/ca.crt"),
            "--tls-cert", dir_.Sub("tls/" + who + ".crt"),
            "--tls-key",  dir_.Sub("tls/" + who + ".key")};
  }

  testing::TempDir dir_;
  std::unique_ptr<Subprocess> dispatcher_;
  std::string server_;
};

TEST_F(TlsTest, MutualTlsCarriesAWholeJob) {
  ASSERT_EQ(Mw(Client("centre-operator"),
               {"centre", "add", "--id", "nairobi", "--region", "KE", "--currency", "USD",
                "--floor-minor", "150", "--credential-out", dir_.Sub("nairobi.cred")})
                .exit_code,
            0);
  ASSERT_EQ(Mw(Client("centre-operator"),
               {"contract", "submit", kSource + "/examples/demo/contract.yaml"})
                .exit_code,
            0);
  std::vector<std::string> agent = {kBin + "/mw-agent",  "--dispatcher",           server_,
                                    "--credential-file", dir_.Sub("nairobi.cred"), "--data-dir",
                                    dir_.Sub("agent"),   "--sim-workers",          "3"};
  for (const auto& f : Client("centre-nairobi")) agent.push_back(f);
  Subprocess a(agent, dir_.Sub("agent.log"));
  ASSERT_FALSE(a.ReadLineContaining("mw-agent ready").empty());
  CommandResult watch = Mw(Client("centre-operator"), {"job", "watch", "job-1", "--every", "3600"});
  EXPECT_EQ(watch.exit_code, 0) << watch.err;
  EXPECT_THAT(watch.out, HasSubstr("completed"));
  a.Signal(SIGTERM);
  EXPECT_EQ(a.Wait(), 0);
}

TEST_F(TlsTest, WithoutAClientCertificateOrWithPlaintextNothingGetsThrough) {
  CommandResult no_cert = Mw({"--tls-ca", dir_.Sub("tls/ca.crt")}, {"job", "list"});
  EXPECT_EQ(no_cert.exit_code, 1);
  CommandResult plaintext = Mw({}, {"job", "list"});
  EXPECT_EQ(plaintext.exit_code, 1);
  CommandResult ok = Mw(Client("centre-operator"), {"job", "list"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "No jobs.\n");
}

// The memory budget is bounded below: a dispatcher with too little cache would read every block
// from disk again. Refused before anything is opened.
TEST(DispatcherStartTest, TooSmallABudgetIsRefusedNamingTheOption) {
  testing::TempDir dir;
  CommandResult d =
      testing::Run({kBin + "/mw-dispatcher", "--data-dir", dir.Sub("d"), "--listen", "127.0.0.1:0",
                    "--metrics-listen", "127.0.0.1:0", "--block-cache-mb", "4"});
  EXPECT_EQ(d.exit_code, 105);  // CLI11's ValidationError
  EXPECT_THAT(d.err, HasSubstr("--block-cache-mb: Value 4 not in range 8 to 65536"));
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("d")));
}

// The example configuration (deploy/config, shipped in the package) names only options the
// dispatcher has: read whole, it gets as far as the certificate it names, which is not here.
TEST(DispatcherStartTest, TheExampleConfigurationIsReadWhole) {
  testing::TempDir dir;
  CommandResult d =
      testing::Run({kBin + "/mw-dispatcher", "--config", kSource + "/deploy/config/dispatcher.toml",
                    "--data-dir", dir.Sub("d"), "--listen", "127.0.0.1:0", "--metrics-listen",
                    "127.0.0.1:0", "--operator-token-file", dir.Sub("operator.token")});
  EXPECT_EQ(d.exit_code, 1);
  EXPECT_THAT(d.err, HasSubstr("/etc/microwork/tls/dispatcher.crt: cannot read"));
}

// A name the dispatcher does not know, in a configuration file, is refused before anything is
// opened (not read as nothing, leaving the option at its default).
TEST(DispatcherStartTest, AMisspeltOptionInAConfigurationIsRefused) {
  testing::TempDir dir;
  std::ofstream(dir.Sub("dispatcher.toml"))
      << "listen = \"127.0.0.1:0\"\nblock-cache-megabytes = 256\n";
  CommandResult d = testing::Run({kBin + "/mw-dispatcher", "--config", dir.Sub("dispatcher.toml"),
                                  "--data-dir", dir.Sub("d"), "--metrics-listen", "127.0.0.1:0"});
  EXPECT_EQ(d.exit_code, 110);  // CLI11's ConfigError
  EXPECT_THAT(d.err, HasSubstr("INI was not able to parse block-cache-megabytes"));
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("d")));
}

// The agent's example configuration too: read whole, it gets as far as the centre's credential.
TEST(AgentStartTest, TheExampleConfigurationIsReadWhole) {
  testing::TempDir dir;
  CommandResult a =
      testing::Run({kBin + "/mw-agent", "--config", kSource + "/deploy/config/agent.toml",
                    "--data-dir", dir.Sub("a")});
  EXPECT_EQ(a.exit_code, 1);
  EXPECT_THAT(a.err, HasSubstr("/etc/microwork/centre.cred: cannot read"));
}

TEST(PlaintextTest, RefusedOffLoopback) {
  testing::TempDir dir;
  CommandResult d = testing::Run({kBin + "/mw-dispatcher", "--data-dir", dir.Sub("d"), "--listen",
                                  "0.0.0.0:0", "--metrics-listen", "127.0.0.1:0"});
  EXPECT_EQ(d.exit_code, 1);
  EXPECT_THAT(d.err, HasSubstr("refusing to serve plaintext on 0.0.0.0:0: give "
                               "--tls-cert/--tls-key or --insecure"));
  CommandResult m = testing::Run(
      {kBin + "/mw", "--server", "10.1.2.3:7070", "--token-file", "/dev/null", "job", "list"});
  EXPECT_EQ(m.exit_code, 1);
  EXPECT_EQ(m.err,
            "mw: refusing plaintext to 10.1.2.3:7070: give --tls-ca for a non-loopback "
            "server\n");
}

}  // namespace
}  // namespace mw
