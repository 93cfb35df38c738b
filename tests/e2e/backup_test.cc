// Backups end to end: an online checkpoint taken while agents submit, restored into a new data
// directory and served by a second dispatcher, whose ledger verifies with exactly the totals
// the backup reported.
#include <signal.h>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "microwork/v1/services.grpc.pb.h"
#include "proto/rpc/channel.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace mw {
namespace {

using testing::CommandResult;
using ::testing::HasSubstr;
using testing::Subprocess;

const std::string kBin = MW_BIN_DIR;
const std::string kSource = MW_SOURCE_DIR;

std::unique_ptr<Subprocess> StartDispatcher(const std::string& data_dir, const std::string& log,
                                            std::string* server) {
  auto d = std::make_unique<Subprocess>(
      std::vector<std::string>{kBin + "/mw-dispatcher", "--data-dir", data_dir, "--listen",
                               "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"},
      log);
  *server = testing::ReadyField(d->ReadLineContaining("ready"), "grpc");
  return d;
}

// The lines after the first of `out`: the totals, formatted alike by backup, restore and verify.
std::string Totals(const std::string& out) {
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  std::string totals;
  for (const auto& l : lines) {
    const std::string trimmed(absl::StripLeadingAsciiWhitespace(l));
    if (absl::StrContains(trimmed, "transfers,") ||
        absl::StrContains(trimmed, "debits = credits")) {
      // verify prints "Ledger OK: N transfers, ..." where backup prints "N transfers, ...".
      absl::string_view t = trimmed;
      absl::ConsumePrefix(&t, "Ledger OK: ");
      totals += std::string(t) + "\n";
    }
  }
  return totals;
}

TEST(BackupTest, OnlineBackupUnderLoadRestoresToTheSameVerifiedTotals) {
  testing::TempDir dir;
  std::string server;
  auto dispatcher = StartDispatcher(dir.Sub("live"), dir.Sub("live.log"), &server);
  auto mw = [&](const std::string& at, std::vector<std::string> args) {
    std::vector<std::string> argv = {kBin + "/mw", "--server", at, "--token-file",
                                     dir.Sub("live/operator.token")};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::Run(argv);
  };
  ASSERT_EQ(mw(server, {"centre", "add", "--id", "nairobi", "--region", "KE", "--currency", "USD",
                        "--floor-minor", "150", "--credential-out", dir.Sub("n.cred")})
                .exit_code,
            0);
  ASSERT_EQ(mw(server, {"contract", "submit", kSource + "/examples/demo/contract.yaml"}).exit_code,
            0);
  Subprocess agent({kBin + "/mw-agent", "--dispatcher", server, "--credential-file",
                    dir.Sub("n.cred"), "--data-dir", dir.Sub("agent"), "--sim-workers", "3"},
                   dir.Sub("agent.log"));
  ASSERT_FALSE(agent.ReadLineContaining("mw-agent ready").empty());

  // Under load: once answers are flowing.
  {
    auto ctx =
        rpc::MakeContext(std::string(absl::StripAsciiWhitespace(
                             testing::Run({"/bin/cat", dir.Sub("live/operator.token")}).out)),
                         absl::Seconds(60));
    auto ops = microwork::v1::OperatorService::NewStub(*rpc::MakeChannel({.target = server}));
    microwork::v1::GetJobRequest req;
    req.set_job_id("job-1");
    auto reader = ops->WatchJob(ctx.get(), req);
    microwork::v1::JobEvent e;
    while (reader->Read(&e) && e.job().stages(1).contributions() < 150 && !e.final()) {
    }
    ctx->TryCancel();
    reader->Finish().IgnoreError();
  }
  CommandResult backup = mw(server, {"admin", "backup", "--out", dir.Sub("backup")});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  EXPECT_THAT(backup.out, HasSubstr("ledger verified"));
  // The live dispatcher served on: the job still completes.
  ASSERT_EQ(mw(server, {"job", "watch", "job-1", "--every", "3600"}).exit_code, 0);
  EXPECT_EQ(mw(server, {"admin", "backup", "--out", dir.Sub("backup")}).err,
            "mw: " + dir.Sub("backup") + " exists: a backup needs a new path\n");

  CommandResult restore = testing::Run({kBin + "/mw-dispatcher", "--restore-from",
                                        dir.Sub("backup"), "--data-dir", dir.Sub("restored")});
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(Totals(restore.out), Totals(backup.out));

  std::string restored_server;
  auto restored = StartDispatcher(dir.Sub("restored"), dir.Sub("restored.log"), &restored_server);
  std::vector<std::string> verify_argv = {
      kBin + "/mw", "--server", restored_server, "--token-file", dir.Sub("restored/operator.token"),
      "ledger",     "verify"};
  CommandResult verify = testing::Run(verify_argv);
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_EQ(Totals(verify.out), Totals(backup.out));
  EXPECT_FALSE(Totals(backup.out).empty());
  // Centre credentials derive from state in the backup: the agent could reconnect to it.
  CommandResult centres = testing::Run({kBin + "/mw", "--server", restored_server, "--token-file",
                                        dir.Sub("restored/operator.token"), "centre", "list"});
  EXPECT_THAT(centres.out, HasSubstr("nairobi  region KE"));

  agent.Signal(SIGTERM);
  EXPECT_EQ(agent.Wait(), 0);
  for (auto* d : {dispatcher.get(), restored.get()}) {
    d->Signal(SIGTERM);
    EXPECT_EQ(d->Wait(), 0);
  }
}

}  // namespace
}  // namespace mw
