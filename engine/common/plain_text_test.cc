#include "engine/common/plain_text.h"

#include "gtest/gtest.h"

namespace mw {
namespace {

TEST(CsvFieldTest, PlainValuesPassAndSpecialOnesAreQuoted) {
  EXPECT_EQ(CsvField("positive"), "positive");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField("ሰላም ነው"), "ሰላም ነው");
}

TEST(CsvFieldTest, FormulasAreShownAsTextNotRun) {
  EXPECT_EQ(CsvField("=HYPERLINK(\"http://evil\",\"click\")"),
            "\"'=HYPERLINK(\"\"http://evil\"\",\"\"click\"\")\"");
  EXPECT_EQ(CsvField("+cmd|' /C calc'!A0"), "\"'+cmd|' /C calc'!A0\"");
  EXPECT_EQ(CsvField("-2+3"), "\"'-2+3\"");
  EXPECT_EQ(CsvField("@SUM(A1)"), "\"'@SUM(A1)\"");
  EXPECT_EQ(CsvField("\t=1"), "\"'\t=1\"");
  // Numbers stay numbers.
  EXPECT_EQ(CsvField("-5"), "-5");
  EXPECT_EQ(CsvField("+3.25"), "+3.25");
  EXPECT_EQ(CsvField("-1e3"), "-1e3");
  EXPECT_EQ(CsvField("-nan"), "\"'-nan\"");
  EXPECT_EQ(CsvField("-inf"), "\"'-inf\"");
}

TEST(CsvFieldTest, ControlCharactersAreReplaced) {
  EXPECT_EQ(CsvField("a\x1b[31mred"), "a\xEF\xBF\xBD[31mred");
  EXPECT_EQ(CsvField(std::string("nul\0x", 5)), "nul\xEF\xBF\xBDx");
  EXPECT_EQ(CsvField("del\x7f"), "del\xEF\xBF\xBD");
  EXPECT_EQ(CsvField("csi\xC2\x9B"
                     "2J"),
            "csi\xEF\xBF\xBD"
            "2J");
  EXPECT_EQ(CsvField("caf\xC3\xA9"), "caf\xC3\xA9");  // é is text
}

TEST(CsvFieldTest, AppendingAFieldWritesWhatCsvFieldReturns) {
  for (const std::string v :
       {std::string(), std::string("positive"), std::string("a,b"), std::string("say \"hi\""),
        std::string("two\nlines"), std::string("ሰላም ነው"), std::string("=1+1"), std::string("-5"),
        std::string("-2+3"), std::string("@SUM(A1)"), std::string("\t=1"), std::string("it's"),
        std::string("a\x1b[31mred"), std::string("nul\0x", 5), std::string("del\x7f"),
        std::string("csi\xC2\x9B"), std::string("\xC2\xA0nbsp"), std::string("caf\xC3\xA9")}) {
    std::string out = "before,";
    AppendCsvField(v, &out);
    EXPECT_EQ(out, "before," + CsvField(v)) << v;
    // And written in two parts, in place.
    std::string parts = "before,";
    AppendCsvFieldWith(&parts, [&](std::string* field) {
      field->append(v.substr(0, v.size() / 2));
      field->append(v.substr(v.size() / 2));
    });
    EXPECT_EQ(parts, "before," + CsvField(v)) << v;
  }
}

TEST(TerminalTextTest, NothingMovesTheCursor) {
  EXPECT_EQ(TerminalText("ok"), "ok");
  EXPECT_EQ(TerminalText("\x1b]0;owned\x07title"), "\xEF\xBF\xBD]0;owned\xEF\xBF\xBDtitle");
  EXPECT_EQ(TerminalText("line\nbreak\rback"),
            "line\xEF\xBF\xBD"
            "break\xEF\xBF\xBD"
            "back");
  EXPECT_EQ(TerminalText("ሰላም"), "ሰላም");
}

}  // namespace
}  // namespace mw
