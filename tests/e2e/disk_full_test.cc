// A full disk, through the real binaries: the dispatcher runs under a file-size limit (ulimit -f,
// with SIGXFSZ ignored), so RocksDB's writes fail as they would on a full disk. The failure is
// logged and the dispatcher exits (75) for its supervisor to restart; started again once there
// is room, it recovers everything it acknowledged and takes work again. Before, it kept running
// with every write failing, silently, until someone restarted it.
#include <fstream>

#include "absl/strings/str_cat.h"
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

constexpr char kContract[] = R"(name: Big rows
client: acme
currency: USD
budget_minor: 100000000
inputs:
  - name: rows
    format: FORMAT_CSV
    path: big.csv
stages:
  - name: rows
    split: {input: rows, by: SPLIT_ROWS}
  - name: label
    after: [rows]
    human:
      instructions: {en: "Yes or no?"}
      answer: {single_choice: {options: ["yes", "no"]}}
      piece_rate_minor: 10
      estimated_seconds: 4
      overlap: 1
)";

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream csv(dir_.Sub("big.csv"));
    csv << "id,text\n";
    for (int i = 0; i < 1500; ++i) csv << "r" << i << "," << std::string(900, 'x') << "\n";
    std::ofstream(dir_.Sub("c.yaml")) << kContract;
  }

  // The dispatcher on dir_/d; with `limit_kb` > 0, no file it writes may grow past that.
  std::unique_ptr<Subprocess> StartDispatcher(int limit_kb) {
    const std::string run = absl::StrCat(kBin, "/mw-dispatcher --data-dir ", dir_.Sub("d"),
                                         " --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0");
    auto d = std::make_unique<Subprocess>(
        std::vector<std::string>{
            "/bin/bash", "-c",
            limit_kb > 0 ? absl::StrCat("ulimit -f ", limit_kb, "; trap '' XFSZ; exec ", run)
                         : absl::StrCat("exec ", run)},
        dir_.Sub("d.log"));
    server_ = testing::ReadyField(d->ReadLineContaining("ready"), "grpc");
    return d;
  }

  CommandResult Mw(std::vector<std::string> args) {
    std::vector<std::string> argv = {kBin + "/mw", "--server", server_, "--token-file",
                                     dir_.Sub("d/operator.token")};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::Run(argv);
  }

  std::string Log() {
    std::ifstream in(dir_.Sub("d.log"));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  testing::TempDir dir_;
  std::string server_;
};

TEST_F(DiskFullTest, AFailedWriteIsLoggedTheDispatcherExitsAndARestartRecovers) {
  auto full = StartDispatcher(/*limit_kb=*/2048);
  ASSERT_FALSE(server_.empty());
  ASSERT_EQ(Mw({"centre", "add", "--id", "nairobi", "--region", "KE", "--currency", "USD",
                "--floor-minor", "100", "--credential-out", dir_.Sub("n.cred")})
                .exit_code,
            0);
  CommandResult first = Mw({"contract", "submit", dir_.Sub("c.yaml"), "--key", "k1"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, "Submitted job-1: 1500 items\n");
  // The second does not fit: refused, never acknowledged.
  CommandResult second = Mw({"contract", "submit", dir_.Sub("c.yaml"), "--key", "k2"});
  EXPECT_NE(second.exit_code, 0);
  EXPECT_EQ(full->ReadLineContaining("never printed"), "");  // stdout closes at exit
  EXPECT_EQ(full->Wait(), 75);
  const std::string log = Log();
  EXPECT_THAT(log, HasSubstr("level=critical event=disk_write_failed error=\""));
  EXPECT_THAT(log, HasSubstr("File too large"));
  EXPECT_THAT(log,
              HasSubstr("level=critical event=exit reason=write_failed_or_memory_ahead code=75"));

  // Room again: the supervisor's restart recovers what was acknowledged and takes work.
  auto roomy = StartDispatcher(/*limit_kb=*/0);
  CommandResult job = Mw({"job", "get", "job-1"});
  ASSERT_EQ(job.exit_code, 0) << job.err;
  EXPECT_THAT(job.out, HasSubstr("job-1  Big rows  (acme)"));
  EXPECT_THAT(job.out, HasSubstr("1500 items"));
  CommandResult again = Mw({"contract", "submit", dir_.Sub("c.yaml"), "--key", "k2"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, ::testing::MatchesRegex("Submitted job-[23]: 1500 items\n"));
  EXPECT_EQ(Mw({"ledger", "verify"}).exit_code, 0);
}

}  // namespace
}  // namespace mw
