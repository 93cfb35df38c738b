// Answers files read alike whether plain (the fast path) or quoted (the CSV reader), and a bad
// row is refused with the same words either way.
#include "engine/contract/answers_csv.h"

#include <fstream>

#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::contract {
namespace {

std::string Write(const testing::TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.Sub(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// Every answer as "task/worker/label", in the order CrowdData holds them.
std::vector<std::string> Answers(const qa::CrowdData& d) {
  std::vector<std::string> out;
  for (const auto& a : d.answers()) {
    out.push_back(d.task(a.task) + "/" + d.worker(a.worker) + "/" + d.label(a.label));
  }
  return out;
}

TEST(AnswersCsvTest, PlainAndQuotedFilesReadTheSame) {
  testing::TempDir dir;
  const std::string plain =
      Write(dir, "plain.csv", "task,worker,label\nt1,w1,yes\nt2,w1,no\nt1,w2,yes\nt2,w3,ná");
  const std::string quoted =
      Write(dir, "quoted.csv",
            "task,worker,label\r\n\"t1\",w1,yes\r\nt2,w1,\"no\"\r\nt1,w2,yes\r\nt2,w3,ná\r\n");
  auto a = ReadAnswersCsv(plain);
  auto b = ReadAnswersCsv(quoted);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(Answers(*a),
            (std::vector<std::string>{"t1/w1/yes", "t1/w2/yes", "t2/w1/no", "t2/w3/ná"}));
  EXPECT_EQ(Answers(*a), Answers(*b));
  EXPECT_EQ(a->num_labels(), 3);
}

TEST(AnswersCsvTest, ABadRowIsNamedTheSameOnEitherPath) {
  testing::TempDir dir;
  auto a = ReadAnswersCsv(Write(dir, "plain.csv", "task,worker,label\nt1,w1\n"));
  auto b = ReadAnswersCsv(Write(dir, "quoted.csv", "task,worker,label\n\"t1\",w1\n"));
  EXPECT_EQ(a.status().message(), dir.Sub("plain.csv") + ":2: expected 3 fields, got 2");
  EXPECT_EQ(b.status().message(), dir.Sub("quoted.csv") + ":2: expected 3 fields, got 2");
  EXPECT_EQ(ReadAnswersCsv(dir.Sub("missing.csv")).status().code(), absl::StatusCode::kNotFound);
}

TEST(AnswersCsvTest, ComparisonsNameTheirWinnerAsAOrBOrTheItemItself) {
  testing::TempDir dir;
  auto votes = ReadComparisonsCsv(Write(dir, "pairs.csv",
                                        "worker,a,b,winner\nw1,gpt,llama,a\nw2,gpt,llama,b\n"
                                        "w3,llama,gpt,gpt\n"));
  ASSERT_TRUE(votes.ok()) << votes.status();
  ASSERT_EQ(votes->size(), 3u);
  EXPECT_TRUE((*votes)[0].a_won);
  EXPECT_FALSE((*votes)[1].a_won);
  EXPECT_FALSE((*votes)[2].a_won);  // "gpt" is b there
  EXPECT_EQ((*votes)[2].worker, "w3");
  EXPECT_EQ(ReadComparisonsCsv(Write(dir, "bad.csv", "worker,a,b,winner\nw1,x,y,a\nw1,x,y,z\n"))
                .status()
                .message(),
            dir.Sub("bad.csv") + ":3: the winner \"z\" is neither a nor b (x or y)");
  EXPECT_EQ(ReadComparisonsCsv(Write(dir, "same.csv", "worker,a,b,winner\nw1,x,x,a\n"))
                .status()
                .message(),
            dir.Sub("same.csv") + ":2: expected two different items, got \"x\" and \"x\"");
}

}  // namespace
}  // namespace mw::contract
