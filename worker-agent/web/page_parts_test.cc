#include "worker-agent/web/page_parts.h"

#include "gtest/gtest.h"

namespace mw::agent::web {
namespace {

v1::Item Item(std::initializer_list<std::pair<const char*, const char*>> fields) {
  v1::Item item;
  for (const auto& [name, value] : fields) {
    auto* f = item.add_fields();
    f->set_name(name);
    f->set_value(value);
  }
  return item;
}

TEST(PagePartsTest, AVerifyStageShowsTheSpansItJudgesMarkedOnTheirText) {
  // "Is this right?" on a spans stage: the worker sees the text with the spans marked and
  // labelled, not the spans' text form, and not the text twice.
  v1::HumanStage verify;
  verify.set_judged_field("names");
  verify.mutable_judged_answer()->mutable_spans()->set_field("text");
  verify.mutable_answer()->mutable_single_choice()->add_options("yes");
  const v1::Item item =
      Item({{"id", "n1"}, {"text", "Juma <b> anaishi Nairobí ."}, {"names", "0-4:PER;17-24:LOC"}});
  EXPECT_EQ(ItemFields(verify, item).str(),
            "<dl><dt>id</dt><dd>n1</dd></dl><p class=\"judged\"><mark>Juma</mark><sub>PER</sub> "
            "&lt;b&gt; anaishi <mark>Nairobí</mark><sub>LOC</sub> .</p>");
  // A judged value that is not spans (an older record, say) is listed as it is.
  const v1::Item odd = Item({{"text", "Juma"}, {"names", "Juma"}});
  EXPECT_EQ(ItemFields(verify, odd).str(),
            "<dl><dt>text</dt><dd>Juma</dd><dt>names</dt><dd>Juma</dd></dl>");
  // So are spans without their text; and spans past the text's end mark what there is.
  EXPECT_EQ(ItemFields(verify, Item({{"names", "0-4:PER"}})).str(),
            "<dl><dt>names</dt><dd>0-4:PER</dd></dl>");
  EXPECT_EQ(ItemFields(verify, Item({{"text", "Juma Otieno"}, {"names", "5-40:PER"}})).str(),
            "<dl></dl><p class=\"judged\">Juma <mark>Otieno</mark><sub>PER</sub></p>");
}

TEST(PagePartsTest, FieldsTheAnswerShowsAreNotListedTwice) {
  v1::HumanStage pair;
  pair.mutable_answer()->mutable_comparison()->set_a_field("a");
  pair.mutable_answer()->mutable_comparison()->set_b_field("b");
  EXPECT_EQ(ItemFields(pair, Item({{"q", "Which?"}, {"a", "x"}, {"b", "y"}})).str(),
            "<dl><dt>q</dt><dd>Which?</dd></dl>");
}

}  // namespace
}  // namespace mw::agent::web
