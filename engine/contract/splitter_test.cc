#include "engine/contract/splitter.h"

#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace mw::contract {
namespace {

using microwork::v1::Item;
using microwork::v1::SplitStage;

struct Out {
  std::vector<Item> items;
  std::vector<BadRow> bad;
};

absl::StatusOr<Out> Split(SplitStage spec, microwork::v1::InputFormat format,
                          const std::string& text, size_t chunk) {
  Splitter splitter(spec, format);
  Out out;
  auto on_item = [&](Item i) { out.items.push_back(std::move(i)); };
  auto on_bad = [&](BadRow b) { out.bad.push_back(std::move(b)); };
  for (size_t i = 0; i < text.size(); i += chunk) {
    if (auto s = splitter.Feed(text.substr(i, chunk), on_item, on_bad); !s.ok()) return s;
  }
  if (auto s = splitter.Finish(on_item, on_bad); !s.ok()) return s;
  EXPECT_EQ(splitter.items(), out.items.size());
  EXPECT_EQ(splitter.quarantined(), out.bad.size());
  return out;
}

SplitStage MakeSpec(microwork::v1::SplitBy by, uint32_t chunk = 0) {
  SplitStage s;
  s.set_by(by);
  s.set_chunk_size(chunk);
  return s;
}

TEST(SplitterTest, CsvRowsBecomeItemsAndBadRowsAreQuarantined) {
  auto out = Split(MakeSpec(microwork::v1::SPLIT_ROWS), microwork::v1::FORMAT_CSV,
                   "id,text\n1,good\n2,too,many\n3,fine\n", 5);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->items.size(), 2u);
  EXPECT_EQ(out->items[0].index(), 0u);
  EXPECT_EQ(out->items[1].index(), 1u);
  EXPECT_EQ(out->items[1].source_line(), 4u);
  EXPECT_EQ(out->items[1].fields(1).name(), "text");
  EXPECT_EQ(out->items[1].fields(1).value(), "fine");
  ASSERT_EQ(out->bad.size(), 1u);
  EXPECT_EQ(out->bad[0].line, 3u);
  EXPECT_EQ(out->bad[0].reason, "expected 2 fields as in the header, got 3");
}

TEST(SplitterTest, ACheckRefusesRowsBeforeTheyTakeAnIndexAndMayChangeThem) {
  for (auto format : {microwork::v1::FORMAT_CSV, microwork::v1::FORMAT_JSONL}) {
    Splitter splitter(MakeSpec(microwork::v1::SPLIT_ROWS), format);
    splitter.set_check([](Item* item) -> std::string {
      if (item->fields(0).value() == "b") return "b is refused";
      item->mutable_fields(0)->set_value(item->fields(0).value() + "!");
      return "";
    });
    Out out;
    auto on_item = [&](Item i) { out.items.push_back(std::move(i)); };
    auto on_bad = [&](BadRow b) { out.bad.push_back(std::move(b)); };
    const std::string text = format == microwork::v1::FORMAT_CSV
                                 ? "x\na\nb\nc\n"
                                 : "{\"x\":\"a\"}\n{\"x\":\"b\"}\n{\"x\":\"c\"}\n";
    ASSERT_TRUE(splitter.Feed(text, on_item, on_bad).ok());
    ASSERT_TRUE(splitter.Finish(on_item, on_bad).ok());
    ASSERT_EQ(out.items.size(), 2u);
    EXPECT_EQ(out.items[0].index(), 0u);
    EXPECT_EQ(out.items[0].fields(0).value(), "a!");
    EXPECT_EQ(out.items[1].index(), 1u);
    EXPECT_EQ(out.items[1].fields(0).value(), "c!");
    const uint64_t b_line = format == microwork::v1::FORMAT_CSV ? 3 : 2;
    ASSERT_EQ(out.bad.size(), 1u);
    EXPECT_EQ(out.bad[0].line, b_line);
    EXPECT_EQ(out.bad[0].reason, "b is refused");
    EXPECT_EQ(splitter.items(), 2u);
    EXPECT_EQ(splitter.quarantined(), 1u);
  }
}

TEST(SplitterTest, EmptyCsvAndBadHeaderAreErrors) {
  EXPECT_EQ(Split(MakeSpec(microwork::v1::SPLIT_ROWS), microwork::v1::FORMAT_CSV, "", 5)
                .status()
                .message(),
            "the CSV input is empty: expected a header row");
  EXPECT_EQ(
      Split(MakeSpec(microwork::v1::SPLIT_ROWS), microwork::v1::FORMAT_CSV, "id,,x\n1,2,3\n", 5)
          .status()
          .message(),
      "line 1: header column 2 has no name");
}

TEST(SplitterTest, JsonlRecords) {
  auto out = Split(MakeSpec(microwork::v1::SPLIT_RECORDS), microwork::v1::FORMAT_JSONL,
                   "{\"id\": 1, \"text\": \"a\"}\n\nnot json\n[1]\n{\"text\":\"b\"}", 4);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->items.size(), 2u);
  EXPECT_EQ(out->items[0].fields(0).value(), "1");
  EXPECT_EQ(out->items[0].fields(1).value(), "a");
  EXPECT_EQ(out->items[1].source_line(), 5u);
  ASSERT_EQ(out->bad.size(), 2u);
  EXPECT_EQ(out->bad[0].line, 3u);
  EXPECT_EQ(out->bad[0].reason, "not valid JSON");
  EXPECT_EQ(out->bad[1].reason, "expected a JSON object");
}

// The regression: JSONL inputs came back with their fields in alphabetical order.
TEST(SplitterTest, JsonlFieldsKeepTheOrderTheClientWrote) {
  auto out = Split(MakeSpec(microwork::v1::SPLIT_RECORDS), microwork::v1::FORMAT_JSONL,
                   "{\"sms\": \"hi\", \"id\": 7, \"at\": \"2026-11-01\"}\n", 4);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->items.size(), 1u);
  ASSERT_EQ(out->items[0].fields_size(), 3);
  EXPECT_EQ(out->items[0].fields(0).name(), "sms");
  EXPECT_EQ(out->items[0].fields(1).name(), "id");
  EXPECT_EQ(out->items[0].fields(2).name(), "at");
}

TEST(SplitterTest, TextByLines) {
  auto out = Split(MakeSpec(microwork::v1::SPLIT_LINES, 2), microwork::v1::FORMAT_TEXT,
                   "one\ntwo\nthree\nfour\nfive\n", 3);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->items.size(), 3u);
  EXPECT_EQ(out->items[0].fields(0).value(), "one\ntwo");
  EXPECT_EQ(out->items[1].source_line(), 3u);
  EXPECT_EQ(out->items[2].fields(0).value(), "five");
}

TEST(SplitterTest, TextByCharactersNeverCutsACodePoint) {
  // "añb✓c" is 5 code points in 8 bytes; chunks of 2 code points.
  auto out = Split(MakeSpec(microwork::v1::SPLIT_CHARS, 2), microwork::v1::FORMAT_TEXT,
                   "a\xc3\xb1"
                   "b\xe2\x9c\x93"
                   "c",
                   1);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->items.size(), 3u);
  EXPECT_EQ(out->items[0].fields(0).value(), "a\xc3\xb1");
  EXPECT_EQ(out->items[1].fields(0).value(), "b\xe2\x9c\x93");
  EXPECT_EQ(out->items[2].fields(0).value(), "c");
}

}  // namespace
}  // namespace mw::contract
