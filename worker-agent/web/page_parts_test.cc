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

v1::Item PhotoItem(const char* judged) {
  v1::Item item = Item({{"id", "s1"}, {"photo", "s1.png"}, {"vehicles", judged}});
  auto* media = item.mutable_fields(1)->mutable_media();
  media->set_sha256(std::string(64, 'a'));
  media->set_kind(v1::MEDIA_IMAGE);
  media->set_width(2000);
  media->set_height(1500);
  return item;
}

TEST(PagePartsTest, AVerifyStageShowsTheBoxesItJudgesDrawnOnTheImageOnce) {
  v1::HumanStage verify;
  verify.set_judged_field("vehicles");
  verify.mutable_judged_answer()->mutable_shapes()->set_field("photo");
  verify.mutable_judged_answer()->mutable_shapes()->set_kind(v1::SHAPE_BOX);
  verify.mutable_answer()->mutable_single_choice()->add_options("yes");
  const MediaView view{.phone = {.long_side = 1000, .quality = 60}};
  EXPECT_EQ(
      ItemFields(verify, PhotoItem("car:10,20,110,90;bus:500,400,900,800"), &view).str(),
      "<dl><dt>id</dt><dd>s1</dd></dl><div class=\"draw\"><img src=\"/media/" +
          std::string(64, 'a') +
          "\" width=\"1000\" height=\"750\" alt=\"s1.png\"><svg viewBox=\"0 0 2000 1500\" "
          "preserveAspectRatio=\"none\" aria-hidden=\"true\"><rect x=\"10\" y=\"20\" "
          "width=\"100\" height=\"70\"></rect><rect x=\"500\" y=\"400\" width=\"400\" "
          "height=\"400\"></rect></svg></div><ol class=\"marked\"><li>car (10,20)&ndash;(110,90)"
          "</li><li>bus (500,400)&ndash;(900,800)</li></ol>");
  // Without the image at hand (a page that serves no media), the fields as they are.
  EXPECT_EQ(ItemFields(verify, PhotoItem("car:10,20,110,90")).str(),
            "<dl><dt>id</dt><dd>s1</dd><dt>photo</dt><dd>s1.png</dd><dt>vehicles</dt>"
            "<dd>car:10,20,110,90</dd></dl>");
}

TEST(PagePartsTest, ShapesAreDrawnOnTheImageOrWrittenWhereItIsNotAtHand) {
  v1::AnswerSchema schema;
  auto* shapes = schema.mutable_shapes();
  shapes->set_field("photo");
  shapes->set_kind(v1::SHAPE_POINT);
  shapes->add_labels("door");
  const MediaView view{.phone = {.long_side = 1000, .quality = 60}};
  const std::string page = AnswerFields(schema, PhotoItem(""), Messages::Get(), "en", &view).str();
  EXPECT_NE(page.find("<div class=\"shapes\" data-kind=\"point\" data-w=\"2000\" "
                      "data-h=\"1500\" data-max=\"50\" data-corners=\"12\" data-remove=\"Remove\" "
                      "data-start=\"\">"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("<input type=\"radio\" name=\"shape_label\" value=\"door\" checked>"),
            std::string::npos);
  EXPECT_NE(page.find("<svg viewBox=\"0 0 2000 1500\""), std::string::npos);
  EXPECT_NE(page.find("<input type=\"hidden\" name=\"shapes\" value=\"\">"), std::string::npos);
  EXPECT_EQ(AnswerFields(schema, PhotoItem(""), Messages::Get(), "en").str(),
            "<label>Write each point as label:x,y in pixels of the 2000x1500 image, joined by ; "
            "(labels: door)<input type=\"text\" name=\"shapes\" value=\"\" "
            "autocomplete=\"off\"></label>");
}

TEST(PagePartsTest, APolygonStageStartsFromTheItemsPreDrawnShapesWhenTheyFitTheStage) {
  v1::AnswerSchema schema;
  auto* shapes = schema.mutable_shapes();
  shapes->set_field("photo");
  shapes->set_kind(v1::SHAPE_POLYGON);
  shapes->set_max_vertices(6);
  shapes->set_start_field("vehicles");
  shapes->add_labels("field");
  const MediaView view{.phone = {.long_side = 1000, .quality = 60}};
  std::string page =
      AnswerFields(schema, PhotoItem("field:10,10,500,10,300,400"), Messages::Get(), "en", &view)
          .str();
  EXPECT_NE(page.find("<p class=\"notice\">Some shapes are already drawn. Check each one: move, "
                      "remove or add shapes until they are right.</p><div class=\"shapes\" "
                      "data-kind=\"polygon\" data-w=\"2000\" data-h=\"1500\" data-max=\"50\" "
                      "data-corners=\"6\" data-remove=\"Remove\" "
                      "data-start=\"field:10,10,500,10,300,400\"><p>Choose a label, then tap each "
                      "corner"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("<button type=\"button\" class=\"close\">Close the outline</button>"),
            std::string::npos);
  // Not this stage's: a box, a label not in the set, a corner outside the image, seven corners.
  for (const char* start : {"field:10,10,50,50", "crop:10,10,500,10,300,400",
                            "field:10,10,2500,10,300,400", "field:1,1,9,1,9,9,5,12,1,9,0,5,0,3"}) {
    page = AnswerFields(schema, PhotoItem(start), Messages::Get(), "en", &view).str();
    EXPECT_NE(page.find("<p class=\"notice\">The shapes meant to be drawn already could not be "
                        "read, so you start from an empty image.</p>"),
              std::string::npos)
        << start;
    EXPECT_NE(page.find("data-start=\"\">"), std::string::npos) << start;
  }
  // Written, where the image is not at hand: the text field holds them to correct.
  EXPECT_EQ(
      AnswerFields(schema, PhotoItem("field:10,10,500,10,300,400"), Messages::Get(), "en").str(),
      "<p class=\"notice\">Some shapes are already drawn. Check each one: move, remove or "
      "add shapes until they are right.</p><label>Write each outline as label:x,y,x,y,x,y "
      "(each corner in turn) in pixels of the 2000x1500 image, joined by ; (labels: field)"
      "<input type=\"text\" name=\"shapes\" value=\"field:10,10,500,10,300,400\" "
      "autocomplete=\"off\"></label>");
}

TEST(PagePartsTest, AJudgedPolygonIsDrawnAndListedByItsCorners) {
  v1::HumanStage verify;
  verify.set_judged_field("vehicles");
  verify.mutable_judged_answer()->mutable_shapes()->set_field("photo");
  verify.mutable_judged_answer()->mutable_shapes()->set_kind(v1::SHAPE_POLYGON);
  verify.mutable_answer()->mutable_single_choice()->add_options("yes");
  const MediaView view{.phone = {.long_side = 1000, .quality = 60}};
  const std::string page = ItemFields(verify, PhotoItem("field:10,10,500,10,300,400"), &view).str();
  EXPECT_NE(page.find("<polygon points=\"10,10,500,10,300,400\"></polygon></svg></div><ol "
                      "class=\"marked\"><li>field (10,10) (500,10) (300,400)</li></ol>"),
            std::string::npos)
      << page;
}

}  // namespace
}  // namespace mw::agent::web
