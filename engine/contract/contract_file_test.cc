#include "engine/contract/contract_file.h"

#include "gtest/gtest.h"

namespace mw::contract {
namespace {

constexpr char kGood[] = R"(
name: Review sentiment
client: acme
currency: USD
budgetMinor: 100000
inputs:
  - {name: reviews, format: FORMAT_CSV, path: reviews.csv}
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
      overlap: 3
)";

TEST(ContractFileTest, YamlMapsOntoTheProto) {
  auto c = ParseContract(kGood, "c.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->name(), "Review sentiment");
  EXPECT_EQ(c->budget_minor(), 100000);
  EXPECT_EQ(c->inputs(0).format(), microwork::v1::FORMAT_CSV);
  EXPECT_EQ(c->stages(1).human().piece_rate_minor(), 5);
  EXPECT_EQ(c->stages(1).human().answer().single_choice().options(1), "negative");
  EXPECT_EQ(c->stages(1).after(0), "rows");
}

TEST(ContractFileTest, JsonIsAccepted) {
  auto c = ParseContract(R"({"name": "x", "client": "c", "budget_minor": "12"})", "c.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->budget_minor(), 12);
}

struct BadCase {
  const char* text;
  const char* message;
};

class ContractFileErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ContractFileErrorTest, NamesFileLineFieldAndExpectation) {
  auto c = ParseContract(GetParam().text, "c.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ContractFileErrorTest,
    ::testing::Values(
        BadCase{"name: x\nstages:\n  - name: a\n    human: {pice_rate: 5}\n",
                "c.yaml:4: stages[0].human.pice_rate: unknown field"},
        BadCase{"name: x\nstages:\n  - name: a\n    human:\n      piece_rate_minor: abc\n",
                "c.yaml:5: stages[0].human.piece_rate_minor: expected an integer (int64), got "
                "\"abc\""},
        BadCase{"name: x\nbudget_minor: 1.5\n",
                "c.yaml:2: budget_minor: expected an integer (int64), got 1.5"},
        BadCase{"name: x\ninputs:\n  - format: FORMAT_XLS\n",
                "c.yaml:3: inputs[0].format: expected one of FORMAT_CSV, FORMAT_JSONL or "
                "FORMAT_TEXT, got \"FORMAT_XLS\""},
        BadCase{"name: 5\n", "c.yaml:1: name: expected a string (quote it in YAML), got 5"},
        BadCase{"name: x\nstages:\n  - {name: a, split: {}, human: {}}\n",
                "c.yaml:3: stages[0]: more than one kind is set; a stage has exactly one of "
                "split, human, verify, iterate, merge"},
        BadCase{"name: [unclosed\n",
                "c.yaml:2:1: end of sequence flow not found: a list opened with [ is not closed "
                "with ]"},
        BadCase{"- a\n- b\n", "c.yaml: expected a mapping of contract fields at the top level"},
        BadCase{"name: x\nname: y\n", "c.yaml:2: field \"name\" appears twice"}));

// Regression: found by tests/fuzz/contract_fuzzer (invalid UTF-8 threw from the JSON step).
TEST(ContractFileTest, InvalidUtf8IsAnErrorNamingTheLine) {
  auto c = ParseContract("name: x\nclient: \xff\xfe\n", "c.yaml");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(), "c.yaml:2: the file is not valid UTF-8");
}

TEST(ContractFileTest, MissingFileIsNotFound) {
  auto c = LoadContractFile("/nonexistent/contract.yaml");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(c.status().message(), "/nonexistent/contract.yaml: cannot read the contract file");
}

TEST(ContractFileTest, ExampleFileLoads) {
  auto c = LoadContractFile(std::string(MW_CONTRACT_TESTDATA) + "/good.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->stages(1).human().instructions().at("sw"),
            "Je, maoni haya ni mazuri, mabaya au ya kati?");
}

}  // namespace
}  // namespace mw::contract
