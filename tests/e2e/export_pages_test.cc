// A large export through the real mw-dispatcher: its rows come many to a message, at most 1,024
// to a page, every row once and in order; `mw` writes them all.
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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
  for (v1::ResultPage page; reader->Read(&page);) {
    page_sizes.push_back(page.results_size());
    for (const auto& r : page.results()) items.push_back(r.item_index());
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(page_sizes, (std::vector<int>{1024, 1024, 452}));
  ASSERT_EQ(items.size(), static_cast<size_t>(kItems));
  for (int i = 0; i < kItems; ++i) ASSERT_EQ(items[i], static_cast<uint64_t>(i)) << i;

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
  ASSERT_EQ(d.Mw({"results", "answers", "job-1", "--format", "jsonl", "--out", dir.Sub("a.jsonl")})
                .exit_code,
            0);
  EXPECT_EQ(Lines(dir.Sub("a.jsonl")), static_cast<uint64_t>(kItems));
}

}  // namespace
}  // namespace mw
