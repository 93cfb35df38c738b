// End to end: the real mw-dispatcher, two mw-agent processes and the mw client, over gRPC on
// loopback (ports chosen by the OS), with state in RocksDB under a fresh directory. The demo
// contract runs with simulated workers who are always right, so the merged results and the
// ledger totals are known exactly.
#include <signal.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "health.grpc.pb.h"
#include "proto/rpc/channel.h"
#include "reflection.grpc.pb.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace mw {
namespace {

using testing::CommandResult;
using ::testing::HasSubstr;
using testing::Subprocess;
using ::testing::UnorderedElementsAre;

const std::string kBin = MW_BIN_DIR;
const std::string kExamples = std::string(MW_SOURCE_DIR) + "/examples/demo";

std::map<std::string, std::string> ReadTruth() {
  std::map<std::string, std::string> truth;
  std::ifstream in(kExamples + "/truth.csv");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, ',');
    truth[f[0]] = f[1];
  }
  return truth;
}

// Splits one CSV line of the export (quoted fields may hold commas and doubled quotes).
std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

class DemoFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dispatcher_ = std::make_unique<Subprocess>(
        std::vector<std::string>{kBin + "/mw-dispatcher", "--data-dir", dir_.Sub("dispatcher"),
                                 "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"},
        dir_.Sub("dispatcher.log"));
    const std::string ready = dispatcher_->ReadLineContaining("mw-dispatcher ready");
    ASSERT_FALSE(ready.empty()) << "dispatcher did not start";
    server_ = testing::ReadyField(ready, "grpc");
    token_file_ = dir_.Sub("dispatcher/operator.token");
  }

  void TearDown() override {
    for (auto& a : agents_) a->Signal(SIGTERM);
    for (auto& a : agents_) EXPECT_EQ(a->Wait(), 0);
    dispatcher_->Signal(SIGTERM);
    EXPECT_EQ(dispatcher_->Wait(), 0) << "the dispatcher did not shut down cleanly";
  }

  CommandResult Mw(std::vector<std::string> args, const std::string& token_file = "") {
    std::vector<std::string> argv = {kBin + "/mw", "--server", server_, "--token-file",
                                     token_file.empty() ? token_file_ : token_file};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::Run(argv);
  }

  void AddCentre(const std::string& id, const std::string& region) {
    CommandResult r = Mw({"centre", "add", "--id", id, "--region", region, "--currency", "USD",
                          "--floor-minor", "150", "--languages", "en", "--capacity", "60",
                          "--credential-out", dir_.Sub(id + ".cred")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  void StartAgent(const std::string& id) {
    agents_.push_back(std::make_unique<Subprocess>(
        std::vector<std::string>{kBin + "/mw-agent", "--dispatcher", server_, "--credential-file",
                                 dir_.Sub(id + ".cred"), "--data-dir", dir_.Sub("agent-" + id),
                                 "--sim-workers", "3", "--sim-accuracy", "1.0", "--sim-truth",
                                 kExamples + "/truth.csv", "--sim-time-scale", "0"},
        dir_.Sub("agent-" + id + ".log")));
    ASSERT_FALSE(agents_.back()->ReadLineContaining("mw-agent ready").empty());
  }

  int64_t StatementTotalMinor(const std::string& centre) {
    CommandResult r = Mw({"statement", "--centre", centre});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    for (absl::string_view line : absl::StrSplit(r.out, '\n')) {
      if (!absl::StartsWith(absl::StripLeadingAsciiWhitespace(line), "total")) continue;
      std::vector<absl::string_view> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
      // "total <posted> USD <awaiting> USD"
      std::vector<absl::string_view> money = absl::StrSplit(f[1], '.');
      int64_t units, cents;
      EXPECT_TRUE(absl::SimpleAtoi(money[0], &units) && absl::SimpleAtoi(money[1], &cents));
      return units * 100 + cents;
    }
    ADD_FAILURE() << "no total in\n" << r.out;
    return -1;
  }

  testing::TempDir dir_;
  std::unique_ptr<Subprocess> dispatcher_;
  std::vector<std::unique_ptr<Subprocess>> agents_;
  std::string server_, token_file_;
};

TEST_F(DemoFlowTest, HealthAndReflectionAreServed) {
  auto channel = rpc::MakeChannel({.target = server_});
  ASSERT_TRUE(channel.ok());
  auto health = grpc::health::v1::Health::NewStub(*channel);
  grpc::health::v1::HealthCheckResponse h;
  auto ctx = rpc::MakeContext("", absl::Seconds(10));
  ASSERT_TRUE(health->Check(ctx.get(), {}, &h).ok());
  EXPECT_EQ(h.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  auto reflection = grpc::reflection::v1alpha::ServerReflection::NewStub(*channel);
  auto rctx = rpc::MakeContext("", absl::Seconds(10));
  auto stream = reflection->ServerReflectionInfo(rctx.get());
  grpc::reflection::v1alpha::ServerReflectionRequest req;
  req.set_list_services("");
  ASSERT_TRUE(stream->Write(req));
  stream->WritesDone();
  grpc::reflection::v1alpha::ServerReflectionResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  std::vector<std::string> names;
  for (const auto& s : resp.list_services_response().service()) names.push_back(s.name());
  EXPECT_THAT(names,
              UnorderedElementsAre("microwork.v1.OperatorService", "microwork.v1.CentreService",
                                   "microwork.v1.LedgerService", "grpc.health.v1.Health",
                                   "grpc.reflection.v1alpha.ServerReflection"));
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(DemoFlowTest, ContractIsSplitDoneVerifiedMergedAndPaid) {
  AddCentre("nairobi", "KE");
  AddCentre("kampala", "UG");
  CommandResult submit = Mw({"contract", "submit", kExamples + "/contract.yaml"});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  EXPECT_EQ(submit.out, "Submitted job-1: 300 items\n");
  StartAgent("nairobi");
  StartAgent("kampala");

  CommandResult watch = Mw({"job", "watch", "job-1", "--every", "3600"});
  ASSERT_EQ(watch.exit_code, 0) << watch.err;
  EXPECT_THAT(watch.out, HasSubstr("job-1  Product review sentiment  (duka-online)  completed  "
                                   "300 items  wages 45.00 USD posted, 0.00 USD awaiting"));

  // The merged results: every review, in input order, with the truth by a 3-0 vote.
  ASSERT_EQ(
      Mw({"results", "export", "job-1", "--format", "csv", "--out", dir_.Sub("r.csv")}).exit_code,
      0);
  const auto truth = ReadTruth();
  std::ifstream csv(dir_.Sub("r.csv"));
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(
      line,
      "review_id,product,text,sentiment,status,confidence,votes,workers,provenance,item,parent");
  int rows = 0;
  std::set<std::string> workers;
  while (std::getline(csv, line)) {
    std::vector<std::string> f = SplitCsv(line);
    ASSERT_EQ(f.size(), 11u) << line;
    ++rows;
    EXPECT_EQ(f[9], absl::StrCat(rows - 1));  // the item's id; no parent: not a piece
    EXPECT_EQ(f[10], "");
    EXPECT_EQ(f[0], absl::StrFormat("R%04d", rows));
    EXPECT_EQ(f[3], truth.at(f[0])) << line;
    EXPECT_EQ(f[4], "succeeded");
    EXPECT_EQ(f[5], "1.0000");
    EXPECT_EQ(f[6], "3");
    std::vector<std::string> who = absl::StrSplit(f[7], ';');
    EXPECT_EQ(std::set<std::string>(who.begin(), who.end()).size(), 3u) << line;
    // Provenance: the one verdict, with the same workers.
    EXPECT_EQ(f[8], absl::StrCat("sentiment=", f[3], " (1.00; ", f[7], ")"));
    workers.insert(who.begin(), who.end());
  }
  EXPECT_EQ(rows, 300);
  EXPECT_EQ(workers.size(), 6u);  // both centres' three workers took part
  ASSERT_EQ(Mw({"results", "export", "job-1", "--format", "jsonl", "--out", dir_.Sub("r.jsonl")})
                .exit_code,
            0);
  std::ifstream jsonl(dir_.Sub("r.jsonl"));
  int records = 0;
  while (std::getline(jsonl, line)) records += absl::StartsWith(line, "{\"item\":");
  EXPECT_EQ(records, 300);

  // Pay: 900 contributions at 0.05 USD, all posted, split between the two centres; on top of
  // each, the platform's fee of 0.01 USD (these centres keep no share). The completed job returns
  // its unspent 16.00 USD to the client: one more transfer, and no escrow left behind. The
  // transfers: the funding; for each of the 600 answers before a task's last, its wage and fee
  // reserved, then posted at the verdict (4); for each task's last answer, decided with it, its
  // wage and fee posted at once (2); the refund. 1 + 2,400 + 600 + 1.
  EXPECT_EQ(StatementTotalMinor("nairobi") + StatementTotalMinor("kampala"), 4500);
  CommandResult verify = Mw({"ledger", "verify"});
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_THAT(verify.out, HasSubstr("Ledger OK: 3002 transfers, 9 accounts, hash chain unbroken"));
  EXPECT_THAT(verify.out, HasSubstr("USD: debits = credits = 140.00 USD posted, 0.00 USD pending"));
  EXPECT_THAT(verify.out,
              HasSubstr("job-1: funding 70.00 USD = wages 45.00 USD + awaiting 0.00 USD + "
                        "top-ups 0.00 USD + fees 9.00 USD + centre shares 0.00 USD + refunds "
                        "16.00 USD + remaining escrow 0.00 USD"));
}

TEST_F(DemoFlowTest, MalformedContractsAreRefusedAndNothingIsWritten) {
  const std::string good = testing::Run({"/bin/cat", kExamples + "/contract.yaml"}).out;
  struct Case {
    std::string name, from, to, message;
  };
  const std::vector<Case> cases = {
      {"syntax", "budget_minor: 7000", "budget_minor: [7000",
       ".yaml:9:1: end of sequence flow not found"},
      {"unknown", "piece_rate_minor: 5", "piece_rate: 5",
       ":33: stages[1].human.piece_rate: unknown field"},
      {"type", "piece_rate_minor: 5", "piece_rate_minor: five",
       ":33: stages[1].human.piece_rate_minor: expected an integer (int64), got \"five\""},
      {"missing", "path: reviews.csv", "path: nowhere.csv",
       "inputs[0].path: cannot read \"nowhere.csv\""},
      {"invalid", "overlap: 3", "overlap: 0", "stages[1].human.overlap: expected 1 to 15, got 0"},
  };
  // The contracts sit beside a copy of their input, in this test's own directory.
  ASSERT_EQ(
      testing::Run({"/bin/cp", kExamples + "/reviews.csv", dir_.Sub("reviews.csv")}).exit_code, 0);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string text = good;
    ASSERT_NE(text.find(c.from), std::string::npos);
    text.replace(text.find(c.from), c.from.size(), c.to);
    const std::string file = dir_.Sub(c.name + ".yaml");
    std::ofstream(file) << text;
    CommandResult r = Mw({"contract", "submit", file});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr(file));
    EXPECT_THAT(r.err, HasSubstr(c.message));
  }
  CommandResult jobs = Mw({"job", "list"});
  EXPECT_EQ(jobs.out, "No jobs.\n");
}

TEST_F(DemoFlowTest, WrongCredentialsAreRefused) {
  std::ofstream(dir_.Sub("bad.token")) << "mwo_not-the-token\n";
  CommandResult r = Mw({"job", "list"}, dir_.Sub("bad.token"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "mw: missing or unknown credential (authorization: Bearer <token>)\n");
  AddCentre("nairobi", "KE");
  CommandResult as_centre = Mw({"job", "list"}, dir_.Sub("nairobi.cred"));
  EXPECT_EQ(as_centre.err,
            "mw: the platform's people only (a centre's credential is for its agent)\n");
}

}  // namespace
}  // namespace mw
