#include "worker-agent/payouts/mobile_money.h"

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mw::agent::payouts {
namespace {

namespace v1 = ::microwork::v1;
using ::testing::HasSubstr;

constexpr char kAmina[] = "worker:nairobi/w1";
constexpr char kBaraka[] = "worker:nairobi/w2";
constexpr char kCheru[] = "worker:nairobi/w3";

v1::PayoutBatch Batch(const std::string& currency) {
  v1::PayoutBatch b;
  b.set_id("payout-nairobi-1");
  b.set_centre("nairobi");
  b.set_state(v1::PAYOUT_APPROVED);
  b.set_currency(currency);
  for (auto [account, amount] :
       {std::pair{kAmina, int64_t{57672}}, std::pair{kBaraka, int64_t{12000}},
        std::pair{kCheru, int64_t{50}}}) {
    v1::PayoutLine* l = b.add_lines();
    l->set_worker_account(account);
    l->set_amount_minor(amount);
    l->set_currency(currency);
  }
  return b;
}

std::string Phone(const std::string& account) {
  if (account == kAmina) return "0712 345 678";
  if (account == kBaraka) return "+254 110 000 001";
  return "";
}

TEST(MobileMoneyTest, NumbersAreTakenAsEachRailNeedsThem) {
  EXPECT_EQ(RailNumber(Rail::kMpesa, "0712 345 678"), "254712345678");
  EXPECT_EQ(RailNumber(Rail::kMpesa, "+254-712-345-678"), "254712345678");
  EXPECT_EQ(RailNumber(Rail::kMpesa, "712345678"), "254712345678");
  EXPECT_EQ(RailNumber(Rail::kMpesa, "0110000001"), "254110000001");
  EXPECT_EQ(RailNumber(Rail::kMpesa, "+254 (0)712 345 678"), "254712345678");
  EXPECT_EQ(RailNumber(Rail::kMpesa, "+256 772 000 000"), "");  // Ugandan
  EXPECT_EQ(RailNumber(Rail::kMpesa, "amina@example.org"), "");
  EXPECT_EQ(RailNumber(Rail::kMpesa, ""), "");
  EXPECT_EQ(RailNumber(Rail::kMtnMomo, "+256 772 000 000"), "256772000000");
  EXPECT_EQ(RailNumber(Rail::kMtnMomo, "0772 000 000"), "");  // no country
  EXPECT_EQ(RailNumber(Rail::kMtnMomo, "256772000000"), "");  // written without its "+"
  EXPECT_EQ(RailNumber(Rail::kMtnMomo, "12345678901"), "");   // an id number, not a phone
}

// Whole shillings, numbers as 2547..., the ledger's transfer id as the idempotency key; the
// 0.50 KES line is left out; a worker without a number stops the file, named.
TEST(MobileMoneyTest, TheMpesaFileHasOneSalaryPaymentPerLine) {
  auto file = PaymentFile(Rail::kMpesa, Batch("KES"), Phone);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(*file,
            "OriginatorConversationID,CommandID,Amount,PartyB,Remarks,Occasion\n"
            "payout:payout-nairobi-1:worker:nairobi/w1,SalaryPayment,576,254712345678,"
            "\"Pay for work, payout-nairobi-1\",payout-nairobi-1\n"
            "payout:payout-nairobi-1:worker:nairobi/w2,SalaryPayment,120,254110000001,"
            "\"Pay for work, payout-nairobi-1\",payout-nairobi-1\n");
  v1::PayoutBatch more = Batch("KES");
  more.mutable_lines(2)->set_amount_minor(700);
  EXPECT_EQ(PaymentFile(Rail::kMpesa, more, Phone).status().message(),
            "no phone number M-Pesa takes for worker:nairobi/w3 (expected 07XXXXXXXX, 01XXXXXXXX "
            "or +254...); fix their contact on the roster first");
  EXPECT_EQ(PaymentFile(Rail::kMpesa, Batch("UGX"), Phone).status().message(),
            "M-Pesa pays KES; payout-nairobi-1 is in UGX");
  v1::PayoutBatch created = Batch("KES");
  created.set_state(v1::PAYOUT_CREATED);
  EXPECT_EQ(PaymentFile(Rail::kMpesa, created, Phone).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// A result file with one failure: the paid line keeps what M-Pesa carried, the failed one and
// the line below a shilling go back to the balance.
TEST(MobileMoneyTest, TheMpesaResultSettlesEveryLine) {
  auto settle = ReadResults(
      Rail::kMpesa, Batch("KES"),
      "OriginatorConversationID,ResultCode,ResultDesc,TransactionID\n"
      "payout:payout-nairobi-1:worker:nairobi/w1,0,The service request is processed "
      "successfully.,RKT7X1Y2Z3\n"
      "payout:payout-nairobi-1:worker:nairobi/w2,2001,The initiator information is invalid.,\n");
  ASSERT_TRUE(settle.ok()) << settle.status();
  EXPECT_EQ(settle->batch_id(), "payout-nairobi-1");
  // Its key comes from what it says: the same import again replays, another one does not.
  v1::SettlePayoutRequest keyed = *settle, other = *settle;
  KeySettlement(&keyed);
  other.set_settled_by("otieno");
  KeySettlement(&other);
  EXPECT_TRUE(absl::StartsWith(keyed.idempotency_key(), "settle:payout-nairobi-1:"));
  EXPECT_NE(keyed.idempotency_key(), other.idempotency_key());
  v1::SettlePayoutRequest again = *settle;
  KeySettlement(&again);
  EXPECT_EQ(again.idempotency_key(), keyed.idempotency_key());
  ASSERT_EQ(settle->lines_size(), 3);
  EXPECT_EQ(settle->lines(0).worker_account(), kAmina);
  EXPECT_EQ(settle->lines(0).outcome(), v1::PAYOUT_LINE_PAID);
  EXPECT_EQ(settle->lines(0).paid_minor(), 57600);
  EXPECT_EQ(settle->lines(0).rail_reference(), "RKT7X1Y2Z3");
  EXPECT_EQ(settle->lines(1).outcome(), v1::PAYOUT_LINE_FAILED);
  EXPECT_EQ(settle->lines(1).reason(), "The initiator information is invalid.");
  EXPECT_EQ(settle->lines(2).worker_account(), kCheru);
  EXPECT_EQ(settle->lines(2).outcome(), v1::PAYOUT_LINE_FAILED);
  EXPECT_EQ(settle->lines(2).reason(),
            "below M-Pesa's smallest unit (1 KES): paid with a later batch");

  EXPECT_EQ(ReadResults(Rail::kMpesa, Batch("KES"),
                        "OriginatorConversationID,ResultCode,ResultDesc,TransactionID\n"
                        "payout:payout-nairobi-9:worker:nairobi/w1,0,ok,X\n")
                .status()
                .message(),
            "the result file, line 2: \"payout:payout-nairobi-9:worker:nairobi/w1\" is not a line "
            "of payout-nairobi-1");
  EXPECT_THAT(ReadResults(Rail::kMpesa, Batch("KES"), "id,code\n").status().message(),
              HasSubstr("the result file, line 1: expected 4 fields"));
  // A garbled code is not a failure to pay again, and a paid row names its transaction.
  const std::string header = "OriginatorConversationID,ResultCode,ResultDesc,TransactionID\n";
  EXPECT_EQ(ReadResults(Rail::kMpesa, Batch("KES"),
                        header + "payout:payout-nairobi-1:worker:nairobi/w1, 0,ok,X\n")
                .status()
                .message(),
            "the result file, line 2: ResultCode: expected a whole number (0: paid), got \" 0\"");
  EXPECT_EQ(ReadResults(Rail::kMpesa, Batch("KES"),
                        header + "payout:payout-nairobi-1:worker:nairobi/w1,0,ok,\n")
                .status()
                .message(),
            "the result file, line 2: a paid row names the rail's transaction id");
}

TEST(MobileMoneyTest, TheMtnFileAndItsResults) {
  auto phone = [](const std::string& a) {
    return a == kCheru ? std::string("") : std::string("+256 772 000 00") + a.back();
  };
  v1::PayoutBatch b = Batch("UGX");  // no minor units: every line is whole
  b.mutable_lines(2)->set_amount_minor(0);
  auto file = PaymentFile(Rail::kMtnMomo, b, phone);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_THAT(*file, HasSubstr("payout:payout-nairobi-1:worker:nairobi/w1,MSISDN,256772000001,"
                               "57672,UGX,"));
  auto settle = ReadResults(Rail::kMtnMomo, b,
                            "externalId,status,reason,financialTransactionId\n"
                            "payout:payout-nairobi-1:worker:nairobi/w1,SUCCESSFUL,,123\n"
                            "payout:payout-nairobi-1:worker:nairobi/w2,PENDING,,\n");
  ASSERT_TRUE(settle.ok()) << settle.status();
  ASSERT_EQ(settle->lines_size(), 2);  // w2 still pending; w3's zero left out and returned
  EXPECT_EQ(settle->lines(0).paid_minor(), 57672);
}

}  // namespace
}  // namespace mw::agent::payouts
