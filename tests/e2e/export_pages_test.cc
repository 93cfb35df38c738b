// A large export through the real mw-dispatcher: its rows come many to a message, at most 1,024
// to a page, every row once and in order; asked for CSV or JSONL, the pages are the file's text;
// `mw` writes them all.
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "formats/result_rows.h"
#include "gtest/gtest.h"
#include "microwork/v1/services.grpc.pb.h"
#include "proto/rpc/channel.h"
#include "testing/contracts.h"
#include "testing/temp_dir.h"
#include "tests/e2e/one_centre.h"

namespace mw {
namespace {

namespace v1 = ::microwork::v1;

constexpr int kItems = 2'500;

uint64_t Lines(const std::string& path) {
  std::ifstream in(path);
  uint64_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

std::string Contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(ExportPagesTest, AThousandRowsToAMessageEveryRowOnceInOrder) {
  testing::TempDir dir;
  e2e::OneCentre d(&dir, "alpha", {"--currency", "USD", "--floor-minor", "150"},
                   testing::ManyReviewsContract(kItems));
  ASSERT_TRUE(d.ok());
  for (int w = 0; w < kItems / 50; ++w) d.Answer(absl::StrCat("w", w), 50, "positive");

  std::ifstream token_file(dir.Sub("d/operator.token"));
  std::string token;
  std::getline(token_file, token);
  auto channel = rpc::MakeChannel({.target = d.server()});
  ASSERT_TRUE(channel.ok()) << channel.status();
  auto ops = v1::OperatorService::NewStub(*channel);

  v1::ExportResultsRequest results;
  results.set_job_id("job-1");
  auto ctx = rpc::MakeContext(token, absl::Seconds(60));
  auto reader = ops->ExportResults(ctx.get(), results);
  std::vector<int> page_sizes;
  std::vector<uint64_t> items;
  // The rows as text, as the dispatcher is to write them when asked for a format.
  formats::ResultText csv(formats::ResultText::Format::kCsv);
  formats::ResultText jsonl(formats::ResultText::Format::kJsonl);
  std::string csv_text, jsonl_text;
  for (v1::ResultPage page; reader->Read(&page);) {
    page_sizes.push_back(page.results_size());
    EXPECT_TRUE(page.text().empty());
    for (const auto& r : page.results()) {
      items.push_back(r.item_index());
      csv.Append(r, &csv_text);
      jsonl.Append(r, &jsonl_text);
    }
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(page_sizes, (std::vector<int>{1024, 1024, 452}));
  ASSERT_EQ(items.size(), static_cast<size_t>(kItems));
  for (int i = 0; i < kItems; ++i) ASSERT_EQ(items[i], static_cast<uint64_t>(i)) << i;

  // Asked for CSV or JSONL, the pages are the file's text, of whole rows, in order.
  for (const auto& [format, text] :
       {std::pair{v1::EXPORT_CSV, csv_text}, std::pair{v1::EXPORT_JSONL, jsonl_text}}) {
    results.set_format(format);
    auto text_ctx = rpc::MakeContext(token, absl::Seconds(60));
    auto text_reader = ops->ExportResults(text_ctx.get(), results);
    std::string joined;
    uint64_t rows = 0;
    for (v1::ResultPage page; text_reader->Read(&page);) {
      EXPECT_EQ(page.results_size(), 0);
      ASSERT_FALSE(page.text().empty());
      EXPECT_EQ(page.text().back(), '\n');
      joined += page.text();
      rows += page.rows();
    }
    ASSERT_TRUE(text_reader->Finish().ok()) << format;
    EXPECT_EQ(joined, text) << format;
    EXPECT_EQ(rows, static_cast<uint64_t>(kItems)) << format;
  }
  // A format this dispatcher does not know is refused before anything is sent.
  results.set_format(static_cast<v1::ExportFormat>(7));
  auto bad_ctx = rpc::MakeContext(token, absl::Seconds(60));
  auto bad_reader = ops->ExportResults(bad_ctx.get(), results);
  v1::ResultPage none;
  EXPECT_FALSE(bad_reader->Read(&none));
  const grpc::Status refused = bad_reader->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refused.error_message(),
            "format: 7 is none of EXPORT_RECORDS, EXPORT_CSV, EXPORT_JSONL");

  v1::ExportAnswersRequest answers;
  answers.set_job_id("job-1");
  auto answers_ctx = rpc::MakeContext(token, absl::Seconds(60));
  auto answer_reader = ops->ExportAnswers(answers_ctx.get(), answers);
  page_sizes.clear();
  for (v1::AnswerPage page; answer_reader->Read(&page);) {
    page_sizes.push_back(page.answers_size());
  }
  ASSERT_TRUE(answer_reader->Finish().ok());
  EXPECT_EQ(page_sizes, (std::vector<int>{1024, 1024, 452}));

  // mw writes a header and one line per row, and each answer.
  ASSERT_EQ(
      d.Mw({"results", "export", "job-1", "--format", "csv", "--out", dir.Sub("r.csv")}).exit_code,
      0);
  EXPECT_EQ(Lines(dir.Sub("r.csv")), kItems + 1u);
  EXPECT_EQ(Contents(dir.Sub("r.csv")), csv_text);
  ASSERT_EQ(d.Mw({"results", "export", "job-1", "--format", "jsonl", "--out", dir.Sub("r.jsonl")})
                .exit_code,
            0);
  EXPECT_EQ(Contents(dir.Sub("r.jsonl")), jsonl_text);
  ASSERT_EQ(d.Mw({"results", "answers", "job-1", "--format", "jsonl", "--out", dir.Sub("a.jsonl")})
                .exit_code,
            0);
  EXPECT_EQ(Lines(dir.Sub("a.jsonl")), static_cast<uint64_t>(kItems));
}

}  // namespace
}  // namespace mw
