// A worker's work record through the real binaries: mw-dispatcher issues its signed half for a
// worker of centre alpha (played here over CentreService, with its own key), the centre attests
// it, and `mw record verify` accepts the file and the dispatcher key from the data directory,
// and refuses it once one byte is changed, or under another dispatcher key.
#include <signal.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/record/work_record.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "microwork/v1/services.grpc.pb.h"
#include "proto/rpc/channel.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace mw {
namespace {

namespace v1 = ::microwork::v1;
using ::testing::HasSubstr;
using testing::Subprocess;

const std::string kBin = MW_BIN_DIR;

constexpr char kContract[] = R"(
name: Two reviews
client: acme
currency: USD
budget_minor: 1000
inputs:
  - {name: reviews, format: FORMAT_CSV, inline_text: "id,text\nr1,Good\nr2,Bad\n"}
stages:
  - name: rows
    split: {input: reviews, by: SPLIT_ROWS}
  - name: label
    after: [rows]
    human:
      instructions: {en: "Positive or negative?"}
      answer: {single_choice: {options: [positive, negative]}}
      piece_rate_minor: 5
      estimated_seconds: 20
      overlap: 1
      languages: [sw]
  - name: result
    after: [label]
    merge: {}
)";

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return std::string(absl::StripAsciiWhitespace(text));
}

TEST(WorkRecordE2eTest, ARecordVerifiesWithMwAndFailsOnceAByteIsChanged) {
  testing::TempDir dir;
  Subprocess dispatcher({kBin + "/mw-dispatcher", "--data-dir", dir.Sub("d"), "--listen",
                         "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"},
                        dir.Sub("d.log"));
  const std::string server =
      testing::ReadyField(dispatcher.ReadLineContaining("mw-dispatcher ready"), "grpc");
  ASSERT_FALSE(server.empty());
  auto mw = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {kBin + "/mw", "--server", server, "--token-file",
                                     dir.Sub("d/operator.token")};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::Run(argv);
  };
  ASSERT_EQ(
      mw({"centre", "add", "--id", "alpha", "--region", "KE", "--currency", "USD", "--floor-minor",
          "150", "--languages", "sw", "--credential-out", dir.Sub("alpha.cred")})
          .exit_code,
      0);
  std::ofstream(dir.Sub("contract.yaml")) << kContract;
  ASSERT_EQ(mw({"contract", "submit", dir.Sub("contract.yaml")}).exit_code, 0);

  // Alpha's worker w1 answers both items.
  auto alpha = v1::CentreService::NewStub(*rpc::MakeChannel({.target = server}));
  const std::string cred = Read(dir.Sub("alpha.cred"));
  auto ctx = [&] { return rpc::MakeContext(cred, absl::Seconds(20)); };
  v1::RegisterRequest reg;
  reg.add_workers()->set_worker("w1");
  reg.mutable_workers(0)->add_languages("sw");
  v1::RegisterReply registered;
  ASSERT_TRUE(alpha->Register(ctx().get(), reg, &registered).ok());
  v1::LeaseRequest lease;
  lease.set_idempotency_key("w1-lease");
  lease.add_credits()->set_worker("w1");
  lease.mutable_credits(0)->set_count(2);
  v1::LeaseReply leased;
  ASSERT_TRUE(alpha->Lease(ctx().get(), lease, &leased).ok());
  ASSERT_EQ(leased.assignments_size(), 2);
  v1::SubmitResultsRequest submit;
  for (const auto& a : leased.assignments()) {
    v1::Result* r = submit.add_results();
    r->set_result_id(absl::StrCat("r-", a.assignment_id()));
    r->set_assignment_id(a.assignment_id());
    r->set_epoch(a.epoch());
    r->set_worker("w1");
    r->mutable_answer()->set_choice("positive");
    r->set_active_seconds(20);
  }
  v1::SubmitResultsReply receipts;
  ASSERT_TRUE(alpha->SubmitResults(ctx().get(), submit, &receipts).ok());

  // The dispatcher issues its half naming alpha's key; a worker alpha never had gets nothing.
  const record::SigningKey centre_key = *record::SigningKey::Generate();
  v1::IssueWorkRecordRequest req;
  req.set_worker("w1");
  req.set_centre_key(centre_key.public_key());
  v1::IssueWorkRecordReply half;
  grpc::Status issued = alpha->IssueWorkRecord(ctx().get(), req, &half);
  ASSERT_TRUE(issued.ok()) << issued.error_message();
  EXPECT_THAT(half.text(), HasSubstr("Worker: w1 at centre alpha\n"));
  EXPECT_THAT(half.text(), HasSubstr("Answers: 2\n"));
  EXPECT_THAT(half.text(), HasSubstr("Agreement with verdicts: 2 of 2 agreed (100%)\n"));
  EXPECT_THAT(half.text(), HasSubstr("  any skill in sw: checks none, verdicts 2 of 2 agreed"));
  req.set_worker("nobody");
  EXPECT_EQ(alpha->IssueWorkRecord(ctx().get(), req, &half).error_code(),
            grpc::StatusCode::NOT_FOUND);
  req.set_centre_key("short");
  EXPECT_EQ(alpha->IssueWorkRecord(ctx().get(), req, &half).error_message(),
            "centre_key: expected an Ed25519 public key of 32 bytes, got 5");
  req.set_worker("w1");
  req.set_centre_key(centre_key.public_key());
  ASSERT_TRUE(alpha->IssueWorkRecord(ctx().get(), req, &half).ok());

  auto record = record::Attest(half.text(), "Amina Wanjiru", absl::Now(), centre_key);
  ASSERT_TRUE(record.ok()) << record.status();
  std::ofstream(dir.Sub("record.txt")) << *record;
  const std::string published = record::Fingerprint(
      record::SigningKey::LoadOrCreate(dir.Sub("d/installation.key"))->public_key());
  testing::CommandResult ok = testing::Run(
      {kBin + "/mw", "record", "verify", dir.Sub("record.txt"), "--dispatcher-key", published});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out,
              HasSubstr("a valid work record of worker w1 (Amina Wanjiru) at centre alpha"));
  EXPECT_THAT(ok.out, HasSubstr(absl::StrCat("signed by the dispatcher key ", published)));

  // Another dispatcher's key is refused, so is the record with one byte changed.
  const std::string other = record::Fingerprint(record::SigningKey::Generate()->public_key());
  testing::CommandResult foreign = testing::Run(
      {kBin + "/mw", "record", "verify", dir.Sub("record.txt"), "--dispatcher-key", other});
  EXPECT_NE(foreign.exit_code, 0);
  EXPECT_THAT(foreign.err, HasSubstr(absl::StrCat("signed by dispatcher key ", published,
                                                  ", not the one given (", other, ")")));
  std::string changed = *record;
  const size_t at = changed.find("Answers: 2");
  ASSERT_NE(at, std::string::npos);
  changed[at + 9] = '3';
  std::ofstream(dir.Sub("changed.txt")) << changed;
  testing::CommandResult bad =
      testing::Run({kBin + "/mw", "record", "verify", dir.Sub("changed.txt")});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("NOT a valid work record: record line"));
  EXPECT_THAT(bad.err, HasSubstr("expected the dispatcher's signature of every line above it"));

  dispatcher.Signal(SIGTERM);
  EXPECT_EQ(dispatcher.Wait(), 0);
}

}  // namespace
}  // namespace mw
