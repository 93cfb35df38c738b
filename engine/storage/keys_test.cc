#include "engine/storage/keys.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace mw::storage::keys {
namespace {

TEST(KeysTest, TaskKeyRoundTrips) {
  const std::string k = Task("job-12", 3, 1'000'000'007);
  auto parsed = ParseTask(k);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->job_id, "job-12");
  EXPECT_EQ(parsed->stage, 3u);
  EXPECT_EQ(parsed->item, 1'000'000'007u);
  EXPECT_FALSE(ParseTask(k.substr(0, k.size() - 1)).has_value());
  EXPECT_FALSE(ParseTask(k + "x").has_value());
}

TEST(KeysTest, IntegerOrderIsByteOrder) {
  std::vector<uint64_t> items = {0, 1, 255, 256, 65535, 1ull << 32, (1ull << 63) + 5};
  std::vector<std::string> encoded;
  for (uint64_t i : items) encoded.push_back(Item("job-1", i));
  EXPECT_TRUE(std::is_sorted(encoded.begin(), encoded.end()));
  for (size_t i = 0; i < items.size(); ++i) EXPECT_EQ(ParseItem(encoded[i]), items[i]);
}

TEST(KeysTest, LengthPrefixKeepsJobsApart) {
  // Without a length prefix "job-1" + item would be a prefix of "job-10" + item.
  const std::string a = JobPrefix("job-1");
  const std::string b = Item("job-10", 0);
  EXPECT_NE(b.compare(0, a.size(), a), 0);
}

TEST(KeysTest, ContributionKeysSortUnderTheirTask) {
  const std::string task = Task("j", 0, 9);
  const std::string c = Contribution("j", 0, 9, "w-1");
  EXPECT_EQ(c.compare(0, task.size(), task), 0);
  EXPECT_LT(Contribution("j", 0, 9, "zzz"), Task("j", 0, 10));
}

TEST(KeysTest, ResultIdsSortByIdAcrossCentresAndNeverCollide) {
  // Consecutive ids of two centres sort together, one id's centres side by side.
  std::vector<std::string> keys = {ResultId("nairobi", "r-2"), ResultId("accra", "r-1"),
                                   ResultId("nairobi", "r-1"), ResultId("accra", "r-2")};
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{ResultId("accra", "r-1"), ResultId("nairobi", "r-1"),
                                            ResultId("accra", "r-2"), ResultId("nairobi", "r-2")}));
  // The centre's length at the end tells where the id stops.
  EXPECT_NE(ResultId("ab", "c"), ResultId("b", "ca"));
  EXPECT_NE(ResultId("", "ab"), ResultId("b", "a"));
  // Tagged, never a key of the old encoding, which starts with a zero byte.
  EXPECT_EQ(ResultId("accra", "r-1")[0], kResultIdTag);
  EXPECT_EQ(CentreFirstResultId("accra", "r-1")[0], '\0');
  EXPECT_EQ(Withholding("accra", "a-1"), CentreFirstResultId("accra", "a-1"));
}

TEST(KeysTest, TransferIdKeysSortNumbersByValueAndReadBackToTheirIds) {
  // An item's number sorts by value, whatever its length; the rest as it is.
  std::vector<std::string> ids = {"wage:job-1/label/1000000@w1", "wage:job-1/label/999@w2",
                                  "wage:job-1/label/1000@w0",    "wage:job-1/label/999@w10",
                                  "wage:job-2/label/1@w1",       "wage:job-1/label/999@w9"};
  std::vector<std::string> sorted;
  for (const std::string& id : ids) sorted.push_back(TransferIdIndex(id));
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::string> back;
  for (const std::string& k : sorted) back.push_back(ParseTransferIdIndex(k).value_or("?"));
  EXPECT_EQ(back,
            (std::vector<std::string>{"wage:job-1/label/999@w2", "wage:job-1/label/999@w9",
                                      "wage:job-1/label/999@w10", "wage:job-1/label/1000@w0",
                                      "wage:job-1/label/1000000@w1", "wage:job-2/label/1@w1"}));
  EXPECT_EQ(TransferIdIndex("fund:7"), std::string("\0\x01"
                                                   "7\0:fund",
                                                   9));
  EXPECT_EQ(TransferIdIndex("payout-7"), std::string("\0payout-\x01"
                                                     "7",
                                                     10));

  // One id per key: runs past kMaxDigitRun are cut, low bytes escaped, and all read back.
  const std::string forty(40, '7');
  const std::vector<std::string> tricky = {"",
                                           "1",
                                           forty,
                                           forty + "x",
                                           std::string("a\x03"
                                                       "12",
                                                       4),
                                           "a12",
                                           std::string("a\0"
                                                       "b",
                                                       3),
                                           "a\x1f",
                                           "0007",
                                           "7@" + forty + "@7",
                                           ":",
                                           ":a",
                                           "a:",
                                           "a",
                                           "a:b:c",
                                           std::string("k\0:b", 4),
                                           std::string("k:\0:", 4)};
  std::set<std::string> keys;
  for (const std::string& id : tricky) {
    const std::string k = TransferIdIndex(id);
    EXPECT_EQ(k[0], kTransferIdTag);
    EXPECT_EQ(ParseTransferIdIndex(k), id) << absl::CHexEscape(k);
    keys.insert(k);
  }
  EXPECT_EQ(keys.size(), tricky.size());
  EXPECT_EQ(TransferIdIndex(forty), std::string(1, '\0') + std::string(1, 31) +
                                        std::string(31, '7') + std::string(1, 9) +
                                        std::string(9, '7'));

  // What is not such a key: verbatim, a short or non-digit run, a digit outside a run, a zero
  // byte followed by neither a low byte nor the kind's mark, a kind with a ':'.
  EXPECT_EQ(ParseTransferIdIndex("wage:a1"), std::nullopt);
  for (const std::string& bad : {std::string("\0a\x03"
                                             "12",
                                             5),
                                 std::string("\0a\x02"
                                             "1x",
                                             5),
                                 std::string("\0a1", 3), std::string("\0a\0", 3),
                                 std::string("\0a\0x", 4), std::string("\0a\0:b:c", 7),
                                 std::string("\x01"
                                             "a",
                                             2)}) {
    EXPECT_EQ(ParseTransferIdIndex(bad), std::nullopt) << absl::CHexEscape(bad);
  }
  EXPECT_EQ(ParseTransferIdIndex(std::string("\0\x20", 2)).value_or("?"), " ");
}

// The ids one assignment's pay writes (its wage with fee and share legs, the wage's post) sort
// side by side, after every id of the assignments before it, whatever their kinds: a flush's keys
// lie above what is stored, and a compaction of it rewrites nothing below.
TEST(KeysTest, TransferIdKeysSortByWhatTheyPayForThenByKind) {
  const std::vector<std::string> ids = {"wage-post:job-2/label/1@w1",
                                        "wage:job-2/label/1@w1",
                                        "wage:job-1/label/10@w1/fee",
                                        "wage-post:job-1/label/10@w1",
                                        "wage:job-1/label/9@w1",
                                        "wage:job-1/label/10@w1",
                                        "fund:job-2",
                                        "wage-post:job-1/label/9@w1",
                                        "wage:job-1/label/10@w1/share"};
  std::vector<std::string> sorted;
  for (const std::string& id : ids) sorted.push_back(TransferIdIndex(id));
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::string> back;
  for (const std::string& k : sorted) back.push_back(ParseTransferIdIndex(k).value_or("?"));
  EXPECT_EQ(back, (std::vector<std::string>{
                      "wage:job-1/label/9@w1", "wage-post:job-1/label/9@w1",
                      "wage:job-1/label/10@w1", "wage-post:job-1/label/10@w1",
                      "wage:job-1/label/10@w1/fee", "wage:job-1/label/10@w1/share", "fund:job-2",
                      "wage:job-2/label/1@w1", "wage-post:job-2/label/1@w1"}));
}

// The keys before the kind went last: the whole id in number order, after their own tag.
TEST(KeysTest, WholeIdTransferIdKeysReadBack) {
  for (const std::string& id : {std::string("fund:7"), std::string("wage:job-1/l/12@w3"),
                                std::string("a\x03", 2), std::string()}) {
    const std::string k = WholeIdTransferIdIndex(id);
    EXPECT_EQ(k[0], kWholeIdTransferIdTag);
    EXPECT_EQ(ParseWholeIdTransferIdIndex(k), id) << absl::CHexEscape(k);
    EXPECT_EQ(ParseTransferIdIndex(k), std::nullopt);
  }
  EXPECT_EQ(WholeIdTransferIdIndex("fund:7"), std::string("\x01"
                                                          "fund:\x01"
                                                          "7"));
  EXPECT_EQ(ParseWholeIdTransferIdIndex(TransferIdIndex("fund:7")), std::nullopt);
}

TEST(KeysTest, TransferSeqOrder) {
  EXPECT_LT(Transfer(9), Transfer(10));
  EXPECT_EQ(ParseTransfer(Transfer(123456789)), 123456789u);
}

TEST(KeysTest, ATransferInABlockNamesTheBlockAndItsSeq) {
  const std::string v = TransferInBlock(1001, 1007);
  EXPECT_EQ(v.substr(0, 8), Transfer(1001));
  EXPECT_EQ(ParseTransferInBlock(v), std::make_pair(uint64_t{1001}, uint64_t{1007}));
  EXPECT_EQ(ParseTransferInBlock(Transfer(1007)), std::nullopt);         // a lone transfer's
  EXPECT_EQ(ParseTransferInBlock(TransferInBlock(9, 8)), std::nullopt);  // before its block
}

TEST(KeysTest, PrefixSuccessor) {
  EXPECT_EQ(PrefixSuccessor("ab"), std::string("ac"));
  EXPECT_EQ(PrefixSuccessor(std::string("a\xff", 2)), std::string("b"));
  EXPECT_EQ(PrefixSuccessor(std::string("\xff\xff", 2)), std::nullopt);
}

}  // namespace
}  // namespace mw::storage::keys

namespace mw::storage::keys {
namespace {

TEST(KeysTest, WorkerJobKeysScanByCentre) {
  const std::string k = WorkerJob("worker:nairobi/w1", "job-3");
  auto parsed = ParseWorkerJob(k);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->first, "worker:nairobi/w1");
  EXPECT_EQ(parsed->second, "job-3");
  EXPECT_EQ(k.compare(0, 15, "worker:nairobi/"), 0);
  EXPECT_FALSE(ParseWorkerJob("no-nul").has_value());
}

TEST(KeysTest, EarningsSortByTimeWithinOneWorkerOnly) {
  const std::string a = Earning("w1", 1000, "r9");
  const std::string b = Earning("w1", 2000, "r1");
  EXPECT_LT(a, b);
  EXPECT_EQ(a.compare(0, EarningsPrefix("w1").size(), EarningsPrefix("w1")), 0);
  // Another worker whose pseudonym starts with this one's never falls under its prefix.
  const std::string other = Earning("w10", 1000, "r1");
  EXPECT_NE(other.compare(0, EarningsPrefix("w1").size(), EarningsPrefix("w1")), 0);
}

}  // namespace
}  // namespace mw::storage::keys
