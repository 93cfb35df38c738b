#include "dispatcher/service/pages.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "microwork/v1/services.pb.h"

namespace mw::rpc {
namespace {

namespace v1 = ::microwork::v1;
using ::testing::ElementsAre;

// The client's end: keeps what it is sent, and fails every write after the first `take` pages.
template <typename Page>
class PageWriter : public grpc::ServerWriterInterface<Page> {
 public:
  explicit PageWriter(int take = 1 << 30) : take_(take) {}
  void SendInitialMetadata() override {}
  bool Write(const Page& page, grpc::WriteOptions) override {
    if (static_cast<int>(pages.size()) >= take_) return false;
    pages.push_back(page);
    return true;
  }
  std::vector<Page> pages;

 private:
  const int take_;
};
using Writer = PageWriter<v1::AnswerPage>;

v1::AnswerRow Row(uint64_t i, size_t text = 0) {
  v1::AnswerRow row;
  row.set_item_index(i);
  row.set_worker(std::string(text, 'x'));
  return row;
}

std::vector<int> Sizes(const Writer& w) {
  std::vector<int> out;
  for (const auto& p : w.pages) out.push_back(p.answers_size());
  return out;
}

TEST(PagesTest, EveryRowIsSentOnceInOrderInPagesOfAtMostAThousandAndTwentyFour) {
  Writer w;
  const absl::Status s = SendPages<v1::AnswerPage, v1::AnswerRow>(
      &w, &v1::AnswerPage::add_answers, [](const std::function<bool(v1::AnswerRow &&)>& put) {
        for (uint64_t i = 0; i < 2500; ++i) {
          if (!put(Row(i))) return absl::InternalError("the client went");
        }
        return absl::OkStatus();
      });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(Sizes(w), ElementsAre(1024, 1024, 452));
  uint64_t next = 0;
  for (const auto& p : w.pages) {
    for (const auto& row : p.answers()) EXPECT_EQ(row.item_index(), next++);
  }
  EXPECT_EQ(next, 2500u);
}

TEST(PagesTest, APageEndsAtAMegabyteWhateverItsRows) {
  Writer w;
  const absl::Status s = SendPages<v1::AnswerPage, v1::AnswerRow>(
      &w, &v1::AnswerPage::add_answers, [](const std::function<bool(v1::AnswerRow &&)>& put) {
        for (uint64_t i = 0; i < 5; ++i) put(Row(i, 400 << 10));  // 400 KiB each
        return absl::OkStatus();
      });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(Sizes(w), ElementsAre(3, 2));  // the third row takes the first past 1 MiB
}

TEST(PagesTest, NothingMadeIsNothingSent) {
  Writer w;
  const absl::Status s = SendPages<v1::AnswerPage, v1::AnswerRow>(
      &w, &v1::AnswerPage::add_answers,
      [](const std::function<bool(v1::AnswerRow &&)>&) { return absl::OkStatus(); });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(w.pages.empty());
}

TEST(PagesTest, OnceTheClientHasGoneTheRowsStopComingAndTheMakerIsToldSo) {
  Writer w(/*take=*/1);
  uint64_t made = 0;
  bool told = false;
  const absl::Status s = SendPages<v1::AnswerPage, v1::AnswerRow>(
      &w, &v1::AnswerPage::add_answers, [&](const std::function<bool(v1::AnswerRow &&)>& put) {
        for (uint64_t i = 0; i < 1'000'000; ++i) {
          ++made;
          if (!put(Row(i))) {
            told = true;
            return absl::OkStatus();  // as the engine's exports do: a stop, not a failure
          }
        }
        return absl::OkStatus();
      });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(told);
  EXPECT_THAT(Sizes(w), ElementsAre(1024));
  // The page sent, the one whose write failed, at most kBatchesAhead batches waiting, and the one
  // being made when the client was found gone.
  EXPECT_LE(made, 2 * kPageRows + (kBatchesAhead + 1) * kBatchRows);
}

TEST(PagesTest, LargeRowsWaitByTheirSizeNotTheirNumber) {
  Writer w(/*take=*/1);
  uint64_t made = 0;
  const absl::Status s = SendPages<v1::AnswerPage, v1::AnswerRow>(
      &w, &v1::AnswerPage::add_answers, [&](const std::function<bool(v1::AnswerRow &&)>& put) {
        for (uint64_t i = 0; i < 10'000; ++i) {
          ++made;
          if (!put(Row(i, 400 << 10))) return absl::OkStatus();  // 400 KiB each
        }
        return absl::OkStatus();
      });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(Sizes(w), ElementsAre(3));
  // Three rows fill a page and a batch: the page sent, the one whose write failed, the batches
  // waiting and the one being made, three rows each (by count it would be 256 rows a batch).
  EXPECT_LE(made, 3 * (2 + kBatchesAhead + 1));
}

TEST(PagesTest, AFailedExportSendsWhatWasWholeAndReturnsTheFailure) {
  Writer w;
  const absl::Status s = SendPages<v1::AnswerPage, v1::AnswerRow>(
      &w, &v1::AnswerPage::add_answers, [](const std::function<bool(v1::AnswerRow &&)>& put) {
        for (uint64_t i = 0; i < 1500; ++i) put(Row(i));
        return absl::DataLossError("item 1500 does not parse");
      });
  EXPECT_EQ(s, absl::DataLossError("item 1500 does not parse"));
  EXPECT_THAT(Sizes(w), ElementsAre(1024));  // the partly full page is not sent
}

TEST(PagesTest, AFailedExportStillSendsAPageItsLastRowsFilled) {
  Writer w;
  const absl::Status s = SendPages<v1::AnswerPage, v1::AnswerRow>(
      &w, &v1::AnswerPage::add_answers, [](const std::function<bool(v1::AnswerRow &&)>& put) {
        for (uint64_t i = 0; i < 256; ++i) put(Row(i, 3584));  // a batch: 896 KiB of a page
        put(Row(256, 200 << 10));                              // fills the page
        put(Row(257));
        return absl::DataLossError("item 258 does not parse");
      });
  EXPECT_EQ(s, absl::DataLossError("item 258 does not parse"));
  EXPECT_THAT(Sizes(w), ElementsAre(257));  // and row 257, alone in a page, is held back
}

// SendTextPages: a row's text is "<index>:" and `text` x's, then a new line.
void WriteRow(const v1::AnswerRow& row, std::string* out) {
  absl::StrAppend(out, row.item_index(), ":", row.worker(), "\n");
}

std::string RowText(uint64_t i, size_t text = 0) {
  std::string out;
  WriteRow(Row(i, text), &out);
  return out;
}

TEST(TextPagesTest, TheTextOfEveryRowIsSentOnceInOrderInPagesOfWholeRows) {
  PageWriter<v1::ResultPage> w;
  const size_t row_bytes = 1000;  // with "<index>:" and the new line, 1,003 to 1,005 bytes
  const absl::Status s = SendTextPages<v1::ResultPage, v1::AnswerRow>(
      &w, WriteRow, [&](const std::function<bool(v1::AnswerRow &&)>& put) {
        for (uint64_t i = 0; i < 600; ++i) {
          if (!put(Row(i, row_bytes))) return absl::InternalError("the client went");
        }
        return absl::OkStatus();
      });
  ASSERT_TRUE(s.ok()) << s;
  // Each page ends with the row that takes it to 256 KiB or past: rows 0..9 are 1,003 bytes,
  // 10..99 1,004 and the rest 1,005, so the first page is 261 rows (262,195 bytes), and so is the
  // second (262,305).
  std::string expected;
  for (uint64_t i = 0; i < 600; ++i) expected += RowText(i, row_bytes);
  std::string joined;
  std::vector<uint64_t> rows;
  for (const auto& page : w.pages) {
    EXPECT_EQ(page.results_size(), 0);
    ASSERT_FALSE(page.text().empty());
    EXPECT_EQ(page.text().back(), '\n');
    joined += page.text();
    rows.push_back(page.rows());
  }
  EXPECT_EQ(joined, expected);
  EXPECT_THAT(rows, ElementsAre(261, 261, 78));
  EXPECT_GE(w.pages[0].text().size(), kTextPageBytes);
  EXPECT_LT(w.pages[0].text().size() - RowText(260, row_bytes).size(), kTextPageBytes);
}

TEST(TextPagesTest, TextLongerThanAMegabyteGoesOverSeveralPagesCountedOnItsLast) {
  PageWriter<v1::ResultPage> w;
  const absl::Status s = SendTextPages<v1::ResultPage, v1::AnswerRow>(
      &w, WriteRow, [&](const std::function<bool(v1::AnswerRow &&)>& put) {
        put(Row(0, 3 << 20));  // "0:", 3 MiB and a new line
        put(Row(1));
        return absl::OkStatus();
      });
  ASSERT_TRUE(s.ok()) << s;
  std::string joined;
  std::vector<size_t> sizes;
  std::vector<uint64_t> rows;
  for (const auto& page : w.pages) {
    joined += page.text();
    sizes.push_back(page.text().size());
    rows.push_back(page.rows());
  }
  EXPECT_EQ(joined, RowText(0, 3 << 20) + RowText(1));
  EXPECT_THAT(sizes, ElementsAre(1 << 20, 1 << 20, 1 << 20, 3, 3));
  EXPECT_THAT(rows, ElementsAre(0, 0, 0, 1, 1));
}

TEST(TextPagesTest, NothingMadeIsNothingSent) {
  PageWriter<v1::ResultPage> w;
  const absl::Status s = SendTextPages<v1::ResultPage, v1::AnswerRow>(
      &w, WriteRow, [](const std::function<bool(v1::AnswerRow &&)>&) { return absl::OkStatus(); });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(w.pages.empty());
}

TEST(TextPagesTest, AFailedExportSendsItsWholePagesAndReturnsTheFailure) {
  PageWriter<v1::ResultPage> w;
  const absl::Status s = SendTextPages<v1::ResultPage, v1::AnswerRow>(
      &w, WriteRow, [](const std::function<bool(v1::AnswerRow &&)>& put) {
        for (uint64_t i = 0; i < 300; ++i) put(Row(i, 1000));
        return absl::DataLossError("item 300 does not parse");
      });
  EXPECT_EQ(s, absl::DataLossError("item 300 does not parse"));
  ASSERT_EQ(w.pages.size(), 1u);  // rows 261 to 299 are held back
  EXPECT_EQ(w.pages[0].rows(), 261u);
}

TEST(TextPagesTest, OnceTheClientHasGoneTheRowsStopComingAndTheMakerIsToldSo) {
  PageWriter<v1::ResultPage> w(/*take=*/1);
  uint64_t made = 0;
  bool told = false;
  const absl::Status s = SendTextPages<v1::ResultPage, v1::AnswerRow>(
      &w, WriteRow, [&](const std::function<bool(v1::AnswerRow &&)>& put) {
        for (uint64_t i = 0; i < 1'000'000; ++i) {
          ++made;
          if (!put(Row(i, 1000))) {
            told = true;
            return absl::OkStatus();
          }
        }
        return absl::OkStatus();
      });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(told);
  ASSERT_EQ(w.pages.size(), 1u);
  // The page sent, the one whose write failed, at most kBatchesAhead pages waiting, and the one
  // being made when the client was found gone: 261 rows or fewer each.
  EXPECT_LE(made, 261 * (2 + kBatchesAhead + 1));
}

}  // namespace
}  // namespace mw::rpc
