// A worker's work record through the real binaries: mw-dispatcher issues its signed half for a
// worker of centre alpha (played here over CentreService, with its own key), the centre attests
// it, and `mw record verify` accepts the file and the dispatcher key from the data directory,
// and refuses it once one byte is changed, or under another dispatcher key.
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/record/work_record.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "microwork/v1/services.grpc.pb.h"
#include "proto/rpc/channel.h"
#include "testing/temp_dir.h"
#include "tests/e2e/one_centre.h"

namespace mw {
namespace {

namespace v1 = ::microwork::v1;
using ::testing::HasSubstr;

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

TEST(WorkRecordE2eTest, ARecordVerifiesWithMwAndFailsOnceAByteIsChanged) {
  testing::TempDir dir;
  e2e::OneCentre d(&dir, "alpha",
                   {"--currency", "USD", "--floor-minor", "150", "--languages", "sw"}, kContract);
  ASSERT_TRUE(d.ok());
  d.Answer("w1", 2, "positive", {"sw"});  // alpha's worker w1 answers both items
  auto* alpha = &d.centre();
  auto ctx = [&] { return d.Ctx(); };
  const std::string kBin = e2e::OneCentre::Bin("");

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
      {kBin + "mw", "record", "verify", dir.Sub("record.txt"), "--dispatcher-key", published});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr(": a valid work record (worker w1, Amina Wanjiru, centre alpha)\n"
                                "  dispatcher key " +
                                published + ": the one given\n"));
  testing::CommandResult unchecked =
      testing::Run({kBin + "mw", "record", "verify", dir.Sub("record.txt")});
  EXPECT_EQ(unchecked.exit_code, 0) << unchecked.err;
  EXPECT_THAT(unchecked.out, HasSubstr("signatures intact, signer NOT checked"));

  // Another dispatcher's key is refused, so is the record with one byte changed.
  const std::string other = record::Fingerprint(record::SigningKey::Generate()->public_key());
  testing::CommandResult foreign = testing::Run(
      {kBin + "mw", "record", "verify", dir.Sub("record.txt"), "--dispatcher-key", other});
  EXPECT_NE(foreign.exit_code, 0);
  EXPECT_THAT(foreign.err, HasSubstr(absl::StrCat("signed by dispatcher key ", published,
                                                  ", not the one given (", other, ")")));
  std::string changed = *record;
  const size_t at = changed.find("Answers: 2");
  ASSERT_NE(at, std::string::npos);
  changed[at + 9] = '3';
  std::ofstream(dir.Sub("changed.txt")) << changed;
  testing::CommandResult bad =
      testing::Run({kBin + "mw", "record", "verify", dir.Sub("changed.txt")});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("NOT a valid work record: record line"));
  EXPECT_THAT(bad.err, HasSubstr("expected the dispatcher's signature of every line above it"));
}

}  // namespace
}  // namespace mw
