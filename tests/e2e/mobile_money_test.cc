// A payout batch round-trips through an M-Pesa bulk file and the rail's result file, with the
// real dispatcher and mw: centre nairobi (played here over CentreService) makes the file from
// its own phone numbers, the rail pays one worker and fails the other, the result is imported,
// the failed amount is back on that worker's balance and `mw ledger verify` passes.
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "microwork/v1/services.grpc.pb.h"
#include "proto/rpc/channel.h"
#include "testing/temp_dir.h"
#include "tests/e2e/one_centre.h"
#include "worker-agent/payouts/mobile_money.h"

namespace mw {
namespace {

namespace v1 = ::microwork::v1;
using ::testing::HasSubstr;

constexpr char kContract[] = R"(
name: Four reviews
client: acme
currency: KES
budget_minor: 10000000
inputs:
  - {name: reviews, format: FORMAT_CSV, inline_text: "id,text\nr1,Good\nr2,Bad\nr3,Fine\nr4,Poor\n"}
stages:
  - name: rows
    split: {input: reviews, by: SPLIT_ROWS}
  - name: label
    after: [rows]
    human:
      instructions: {en: "Positive or negative?"}
      answer: {single_choice: {options: [positive, negative]}}
      piece_rate_minor: 2550
      estimated_seconds: 20
      overlap: 1
  - name: result
    after: [label]
    merge: {}
)";

TEST(MobileMoneyE2eTest, APayoutRoundTripsThroughTheMpesaFilesAndWhatFailedIsOwedAgain) {
  testing::TempDir dir;
  e2e::OneCentre d(&dir, "nairobi", {"--currency", "KES", "--floor-minor", "15000"}, kContract);
  ASSERT_TRUE(d.ok());
  d.Answer("w1", 2, "positive");  // 51.00 KES owed to each
  d.Answer("w2", 2, "positive");
  auto mw = [&](std::vector<std::string> args) { return d.Mw(std::move(args)); };
  auto* centre = &d.centre();
  auto ctx = [&] { return d.Ctx(); };
  ASSERT_EQ(mw({"payout", "create", "--centre", "nairobi"}).exit_code, 0);
  testing::CommandResult approved =
      mw({"payout", "approve", "payout-nairobi-1", "--by", "operator"});
  ASSERT_EQ(approved.exit_code, 0) << approved.err;

  // The centre makes the M-Pesa file from its roster's numbers.
  v1::GetPayoutRequest get;
  get.set_batch_id("payout-nairobi-1");
  v1::PayoutBatch batch;
  ASSERT_TRUE(centre->GetCentrePayout(ctx().get(), get, &batch).ok());
  ASSERT_EQ(batch.lines_size(), 2);
  auto phones = [](const std::string& account) {
    return account == "worker:nairobi/w1" ? std::string("0712 345 678")
                                          : std::string("+254 799 000 002");
  };
  auto file = agent::payouts::PaymentFile(agent::payouts::Rail::kMpesa, batch, phones);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_THAT(*file, HasSubstr("payout:payout-nairobi-1:worker:nairobi/w1,SalaryPayment,51,"
                               "254712345678,"));
  EXPECT_THAT(*file, HasSubstr("payout:payout-nairobi-1:worker:nairobi/w2,SalaryPayment,51,"
                               "254799000002,"));

  // The rail pays w1 and fails w2; the result comes back through the same ids.
  auto settle = agent::payouts::ReadResults(
      agent::payouts::Rail::kMpesa, batch,
      "OriginatorConversationID,ResultCode,ResultDesc,TransactionID\n"
      "payout:payout-nairobi-1:worker:nairobi/w1,0,The service request is processed "
      "successfully.,RKT7X1Y2Z3\n"
      "payout:payout-nairobi-1:worker:nairobi/w2,2040,Credit Party customer type "
      "(Unregistered or Registered Customer) can't be supported by the service.,\n");
  ASSERT_TRUE(settle.ok()) << settle.status();
  settle->set_settled_by("otieno");
  agent::payouts::KeySettlement(&*settle);
  v1::PayoutBatch settled;
  grpc::Status s = centre->SettlePayout(ctx().get(), *settle, &settled);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(settled.lines(0).outcome(), v1::PAYOUT_LINE_PAID);
  EXPECT_EQ(settled.lines(0).paid_minor(), 5100);
  EXPECT_EQ(settled.lines(1).outcome(), v1::PAYOUT_LINE_FAILED);

  testing::CommandResult w2 = mw({"statement", "--worker", "worker:nairobi/w2"});
  ASSERT_EQ(w2.exit_code, 0) << w2.err;
  EXPECT_THAT(w2.out, HasSubstr("51.00 KES"));  // owed again
  testing::CommandResult w1 = mw({"statement", "--worker", "worker:nairobi/w1"});
  EXPECT_THAT(w1.out, ::testing::Not(HasSubstr("51.00 KES")));  // paid
  testing::CommandResult verify = mw({"ledger", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace mw
