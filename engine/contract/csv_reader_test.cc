#include "engine/contract/csv_reader.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace mw::contract {
namespace {

std::vector<CsvReader::Row> ReadAll(const std::string& text, size_t chunk,
                                    CsvReader::Options options = {}) {
  CsvReader reader(options);
  std::vector<CsvReader::Row> rows;
  auto emit = [&](CsvReader::Row r) { rows.push_back(std::move(r)); };
  for (size_t i = 0; i < text.size(); i += chunk) reader.Feed(text.substr(i, chunk), emit);
  reader.Finish(emit);
  return rows;
}

using Fields = std::vector<std::string>;

TEST(CsvReaderTest, QuotesCommasNewlinesAndCrlfInAnyChunking) {
  const std::string text = "id,text\r\n1,\"a, \"\"quoted\"\"\nline\"\r\n\r\n2,plain\n3,last";
  for (size_t chunk : {1u, 2u, 3u, 7u, 1000u}) {
    SCOPED_TRACE(chunk);
    auto rows = ReadAll(text, chunk);
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows[0].fields, (Fields{"id", "text"}));
    EXPECT_EQ(rows[1].fields, (Fields{"1", "a, \"quoted\"\nline"}));
    EXPECT_EQ(rows[1].line, 2u);
    EXPECT_EQ(rows[2].fields, (Fields{"2", "plain"}));
    EXPECT_EQ(rows[2].line, 5u);  // the row with an embedded newline spans lines 2-3; 4 is blank
    EXPECT_EQ(rows[3].fields, (Fields{"3", "last"}));
    for (const auto& r : rows) EXPECT_EQ(r.error, "");
  }
}

TEST(CsvReaderTest, BadRowsCarryAnErrorAndReadingGoesOn) {
  auto rows = ReadAll("a,b\nx\"y,2\n1,\"q\"z\n\xff\xfe,3\nok,4\n", 4);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[1].error, "field 1 has a quote but does not start with one");
  EXPECT_EQ(rows[2].error, "field 2 has characters after its closing quote");
  EXPECT_EQ(rows[3].error, "field 1 is not valid UTF-8");
  EXPECT_TRUE(rows[3].fields.empty());
  EXPECT_EQ(rows[4].fields, (Fields{"ok", "4"}));
  EXPECT_EQ(rows[4].line, 5u);
}

TEST(CsvReaderTest, OverlongFieldAndUnterminatedQuote) {
  CsvReader::Options options;
  options.max_field_bytes = 4;
  auto rows = ReadAll("abcdef,1\nab,2\n\"open", 3, options);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].error, "field 1 is longer than 4 bytes");
  EXPECT_EQ(rows[1].fields, (Fields{"ab", "2"}));
  EXPECT_EQ(rows[2].error, "the input ends inside a quoted field");
}

TEST(CsvReaderTest, ARowOfManyFieldsEachWithinTheLimitIsRefusedAsAWhole) {
  // The attack, scaled down: 1024 fields of 64 KB each, each inside the field limit, were one
  // 67 MB item. Here: fields of 4 bytes, rows of at most 10.
  CsvReader::Options options;
  options.max_field_bytes = 4;
  options.max_row_bytes = 10;
  auto rows = ReadAll("abcd,efgh,ijkl\nabcd,efgh\nok,1\n", 5, options);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].error, "the row is longer than 10 bytes (all its fields together)");
  EXPECT_TRUE(rows[0].fields.empty());
  EXPECT_EQ(rows[1].fields, (Fields{"abcd", "efgh"}));
  EXPECT_EQ(rows[2].fields, (Fields{"ok", "1"}));
  EXPECT_EQ(rows[2].line, 3u);
  // At the defaults: 1024 fields of 64 KB.
  std::string big;
  for (int i = 0; i < 1024; ++i) absl::StrAppend(&big, i ? "," : "", std::string(64 * 1024, 'x'));
  auto real = ReadAll(big + "\nok\n", 1 << 20, CsvReader::Options());
  ASSERT_EQ(real.size(), 2u);
  EXPECT_EQ(real[0].error, "the row is longer than 65536 bytes (all its fields together)");
  EXPECT_EQ(real[1].fields, (Fields{"ok"}));
}

TEST(Utf8Test, RejectsOverlongsSurrogatesAndTruncation) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("Habari, dunia \xe2\x9c\x93 \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xe2\x9c"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
}

}  // namespace
}  // namespace mw::contract
