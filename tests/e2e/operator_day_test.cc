// An operator's day through the real binaries: the plan `mw contract check` prints is the price
// the dispatcher charges (fees and shares exact on the job's totals), work no registered centre
// can take is refused before it is sent, and `mw job close` returns a job's escrow.
#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/strings/str_replace.h"
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

// Ten rows at 1 cent per 4 s (9.00 USD/h), one answer each, a 20% fee.
constexpr char kPennyContract[] = R"(name: Penny labels
client: acme
currency: USD
budget_minor: 100
platform_fee_per_mille: 200
inputs:
  - name: rows
    format: FORMAT_CSV
    inline_text: "text\na\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"
stages:
  - name: rows
    split: {input: rows, by: SPLIT_ROWS}
  - name: label
    after: [rows]
    human:
      instructions: {en: "Yes or no?"}
      answer: {single_choice: {options: ["yes", "no"]}}
      piece_rate_minor: 1
      estimated_seconds: 4
      overlap: 1
      languages: [en]
)";

class OperatorDayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dispatcher_ = std::make_unique<Subprocess>(
        std::vector<std::string>{kBin + "/mw-dispatcher", "--data-dir", dir_.Sub("d"), "--listen",
                                 "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"},
        dir_.Sub("d.log"));
    server_ = testing::ReadyField(dispatcher_->ReadLineContaining("ready"), "grpc");
    ASSERT_EQ(Mw({"centre", "add", "--id", "nairobi", "--region", "KE", "--currency", "USD",
                  "--floor-minor", "150", "--share-per-mille", "150", "--languages", "en",
                  "--credential-out", dir_.Sub("n.cred")})
                  .exit_code,
              0);
  }

  CommandResult Mw(std::vector<std::string> args) {
    std::vector<std::string> argv = {kBin + "/mw", "--server", server_, "--token-file",
                                     dir_.Sub("d/operator.token")};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::Run(argv);
  }

  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_.Sub(name)) << text;
    return dir_.Sub(name);
  }

  testing::TempDir dir_;
  std::unique_ptr<Subprocess> dispatcher_;
  std::string server_;
};

TEST_F(OperatorDayTest, CheckPricesTheFeeAndEachCentresShareOnTheTotals) {
  CommandResult check = Mw({"contract", "check", Write("penny.yaml", kPennyContract)});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  // 10 answers of 1 cent: the fee is 20% of 0.10 USD, not 0 per cent.
  EXPECT_THAT(check.out, HasSubstr("Cost at most 0.12 USD of the budget 1.00 USD: wages 0.10 USD, "
                                   "check tasks 0.00 USD, platform fee 0.02 USD (200 per mille)"));
  EXPECT_THAT(
      check.out,
      HasSubstr("all of it at nairobi: + centre share 0.02 USD (150 per mille) = 0.14 USD"));
}

TEST_F(OperatorDayTest, CheckRefusesWorkNoRegisteredCentreCanTakeAndSaysWhyPerStage) {
  const std::string file = Write(
      "india.yaml", absl::StrReplaceAll(kPennyContract, {{"languages: [en]", "regions: [IN]"}}));
  CommandResult check = Mw({"contract", "check", file});
  EXPECT_NE(check.exit_code, 0);
  EXPECT_EQ(check.err,
            "mw: no registered centre can take this work:\n"
            "  stage label: nairobi: region KE is not among the stage's regions (IN)\n");
  const std::string sw = Write(
      "sw.yaml", absl::StrReplaceAll(kPennyContract, {{"languages: [en]", "languages: [sw]"}}));
  check = Mw({"contract", "check", sw});
  EXPECT_NE(check.exit_code, 0);
  EXPECT_THAT(check.err, HasSubstr("stage label: nairobi: the centre does not list the stage's "
                                   "language sw"));
}

TEST_F(OperatorDayTest, SubmitRefusesWorkNoCentreCanTakeUnlessToldToWaitAndTheJobSaysWhy) {
  const std::string file = Write(
      "india.yaml", absl::StrReplaceAll(kPennyContract, {{"languages: [en]", "regions: [IN]"}}));
  CommandResult refused = Mw({"contract", "submit", file});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_EQ(refused.err, "mw: " + file +
                             ": the dispatcher refused the contract:\nno registered centre can "
                             "take this work:\n  stage label: nairobi: region KE is not among the "
                             "stage's regions (IN)\n");
  EXPECT_THAT(Mw({"job", "list"}).out, ::testing::Not(HasSubstr("job-1")));

  CommandResult waiting = Mw({"contract", "submit", file, "--wait-for-centres"});
  ASSERT_EQ(waiting.exit_code, 0) << waiting.err;
  ASSERT_THAT(waiting.out, ::testing::StartsWith("Submitted job-"));
  const std::string id = waiting.out.substr(10, waiting.out.find(':') - 10);
  CommandResult job = Mw({"job", "get", id});
  ASSERT_EQ(job.exit_code, 0) << job.err;
  EXPECT_THAT(job.out, HasSubstr("  waiting: no registered centre can take\n"
                                 "    stage label: nairobi: region KE is not among the stage's "
                                 "regions (IN)\n"));
}

// The regression: a broken gold file passed check, and submit ran with zero check tasks.
TEST_F(OperatorDayTest, AGoldFileWithNoUsableRowIsRefusedAtCheckAndAtSubmit) {
  const std::string file = Write(
      "gold.yaml",
      absl::StrReplaceAll(
          kPennyContract,
          {{"      languages: [en]\n",
            "      languages: [en]\n      qa: {gold_per_thousand: 100}\n      gold_input: gold\n"},
           {"stages:\n",
            "  - name: gold\n    format: FORMAT_CSV\n    inline_text: "
            "\"text,answer\\na,maybe\\nb,perhaps\\n\"\nstages:\n"}}));
  CommandResult check = Mw({"contract", "check", file});
  EXPECT_NE(check.exit_code, 0);
  EXPECT_THAT(check.out, HasSubstr("Input gold: 0 check tasks for label, 2 rows quarantined\n"
                                   "  line 2: gold answer: "));
  EXPECT_THAT(check.err, HasSubstr("mw: stage \"label\" asks for check tasks, but its gold input "
                                   "\"gold\" has no usable row (2 refused; the first at line 2: "
                                   "gold answer: "));
  CommandResult submit = Mw({"contract", "submit", file});
  EXPECT_NE(submit.exit_code, 0);
  EXPECT_THAT(submit.err, HasSubstr("stage \"label\" asks for check tasks, but its gold input "
                                    "\"gold\" has no usable row (2 refused; the first at line 2: "
                                    "gold answer: "));
  EXPECT_THAT(Mw({"job", "list"}).out, ::testing::Not(HasSubstr("Penny")));
}

// The regression: semantic errors named the field but not the line, a wrong enum value did not
// list the valid names, and a YAML mistake could come back as only "unknown token".
TEST_F(OperatorDayTest, EveryContractErrorNamesTheFileTheLineAndWhatWasExpected) {
  const std::string semantic =
      Write("overlap.yaml", absl::StrReplaceAll(kPennyContract, {{"overlap: 1", "overlap: 0"}}));
  EXPECT_EQ(Mw({"contract", "check", semantic}).err,
            "mw: " + semantic + ":20: stages[1].human.overlap: expected 1 to 15, got 0\n");
  const std::string named = Write(
      "enum.yaml", absl::StrReplaceAll(kPennyContract, {{"by: SPLIT_ROWS", "by: SPLIT_ROW"}}));
  EXPECT_EQ(Mw({"contract", "check", named}).err,
            "mw: " + named +
                ":12: stages[0].split.by: expected one of SPLIT_ROWS, SPLIT_RECORDS, SPLIT_LINES "
                "or SPLIT_CHARS"
                ", got \"SPLIT_ROW\"\n");
  const std::string tab =
      Write("tab.yaml", absl::StrReplaceAll(kPennyContract, {{"client: acme", "client: @acme"}}));
  EXPECT_EQ(Mw({"contract", "check", tab}).err,
            "mw: " + tab +
                ":2:9: unknown token: a character YAML does not expect here (a tab "
                "used to indent, or a value starting with @, ` or % that needs "
                "quotes)\n");
}

TEST_F(OperatorDayTest, CloseCancelsARunningJobAndReturnsItsEscrow) {
  ASSERT_EQ(Mw({"contract", "submit", Write("penny.yaml", kPennyContract)}).exit_code, 0);
  CommandResult closed = Mw({"job", "close", "job-1"});
  ASSERT_EQ(closed.exit_code, 0) << closed.err;
  EXPECT_THAT(closed.out, HasSubstr("job-1  Penny labels  (acme)  cancelled"));
  EXPECT_THAT(closed.out, HasSubstr("refunded to the client 1.00 USD"));
  CommandResult verify = Mw({"ledger", "verify"});
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_THAT(verify.out, HasSubstr("refunds 1.00 USD + remaining escrow 0.00 USD"));
}

// The regression: re-submitting a file printed "Submitted job-1" and returned the old, cancelled
// job.
TEST_F(OperatorDayTest, ResubmittingTheSameFileSaysWhichJobItMadeAndItsState) {
  const std::string file = Write("penny.yaml", kPennyContract);
  CommandResult first = Mw({"contract", "submit", file});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, "Submitted job-1: 10 items\n");
  ASSERT_EQ(Mw({"job", "cancel", "job-1"}).exit_code, 0);
  CommandResult again = Mw({"contract", "submit", file});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out,
            "Not submitted again: this contract with these inputs was submitted before as job-1, "
            "which is JOB_CANCELLED (10 items). To run it once more as a new job, give --key "
            "with a new key.\n");
  CommandResult fresh = Mw({"contract", "submit", file, "--key", "second-run"});
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_EQ(fresh.out, "Submitted job-2: 10 items\n");
}

// A client's row or a worker's answer that a spreadsheet would run as a formula, or that would
// drive a terminal, reaches the export as plain text.
TEST_F(OperatorDayTest, ExportedCsvCarriesNoFormulasAndNoControlCharacters) {
  Write("rows.csv",
        "text\n"
        "\"=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\"\n"
        "@SUM(A1)\n"
        "-5\n"
        "\"bell\x07 and \x1b[2J clear\"\n");
  const std::string contract = absl::StrReplaceAll(
      kPennyContract,
      {{R"(inline_text: "text\na\nb\nc\nd\ne\nf\ng\nh\ni\nj\n")", "path: rows.csv"}});
  CommandResult submit = Mw({"contract", "submit", Write("formula.yaml", contract)});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  EXPECT_EQ(submit.out, "Submitted job-1: 4 items\n");
  ASSERT_EQ(Mw({"job", "cancel", "job-1"}).exit_code, 0);
  CommandResult exported =
      Mw({"results", "export", "job-1", "--format", "csv", "--out", dir_.Sub("out.csv")});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  std::ifstream in(dir_.Sub("out.csv"));
  std::vector<std::string> first_fields;
  for (std::string line; std::getline(in, line);) {
    first_fields.push_back(line.substr(0, line.find(",,cancelled before label")));
  }
  EXPECT_EQ(first_fields, (std::vector<std::string>{
                              "text,label,status,confidence,votes,workers,provenance,item,parent",
                              "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\"",
                              "\"'@SUM(A1)\"",
                              "-5",
                              "bell\xEF\xBF\xBD and \xEF\xBF\xBD[2J clear",
                          }));
}

// An export that fails (here: a job that does not exist) says which job and leaves nothing behind:
// no half-written "<out>.partial", and a good export already at --out untouched.
TEST_F(OperatorDayTest, AFailedExportLeavesNoFileBehindAndKeepsTheLastGoodOne) {
  Write("kept.csv", "an earlier export\n");
  for (std::vector<std::string> export_args : {
           std::vector<std::string>{"results", "export", "job-9", "--format", "csv"},
           std::vector<std::string>{"results", "export", "job-9", "--format", "label-studio"},
           std::vector<std::string>{"results", "answers", "job-9", "--format", "jsonl"},
       }) {
    for (const std::string& out : {dir_.Sub("new.csv"), dir_.Sub("kept.csv")}) {
      export_args.insert(export_args.end(), {"--out", out});
      CommandResult failed = Mw(export_args);
      export_args.resize(export_args.size() - 2);
      SCOPED_TRACE(export_args[1] + " " + export_args[4] + " to " + out);
      EXPECT_EQ(failed.exit_code, 1);
      EXPECT_THAT(failed.err, HasSubstr("job-9"));
      EXPECT_FALSE(std::filesystem::exists(out + ".partial"));
    }
    EXPECT_FALSE(std::filesystem::exists(dir_.Sub("new.csv")));
    std::ifstream kept(dir_.Sub("kept.csv"));
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(kept), {}), "an earlier export\n");
  }
}

}  // namespace
}  // namespace mw
