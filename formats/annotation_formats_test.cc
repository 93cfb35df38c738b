#include "formats/annotation_formats.h"

#include <sstream>
#include <tuple>

#include "gtest/gtest.h"

namespace mw::formats {
namespace {

v1::ResultRecord Row(const std::string& text, const std::string& spans) {
  v1::ResultRecord rec;
  rec.set_item_index(3);
  rec.set_status("succeeded");
  auto* f = rec.mutable_item()->add_fields();
  f->set_name("text");
  f->set_value(text);
  auto* p = rec.add_provenance();
  p->set_stage("names");
  p->set_answer(spans);
  auto* set = p->mutable_value()->mutable_spans();
  set->set_field("text");
  for (const auto& [start, end, label] : std::vector<std::tuple<uint32_t, uint32_t, std::string>>{
           {0, 17, "PER"}, {37, 43, "LOC place"}}) {
    auto* s = set->add_spans();
    s->set_start(start);
    s->set_end(end);
    s->set_label(label);
  }
  return rec;
}

TEST(AnnotationFormatsTest, ConllColumnsHoldNoWhiteSpaceAndNoDocumentStart) {
  // Words: "Amina" 0-5, "Odhiambo<NBSP>Jr" 6-17 (one word: only ASCII white space splits),
  // "anaishi" 18-25, "-DOCSTART-" 26-36, "Kisumu" 37-43.
  const v1::ResultRecord rec =
      Row("Amina Odhiambo\xc2\xa0Jr anaishi -DOCSTART- Kisumu", "0-17:PER;37-43:LOC place");
  std::ostringstream out;
  ASSERT_TRUE(WriteConllItem(rec, "", &out));
  EXPECT_EQ(out.str(),
            "Amina -X- _ B-PER\n"
            "Odhiambo_Jr -X- _ I-PER\n"
            "anaishi -X- _ O\n"
            "_DOCSTART- -X- _ O\n"
            "Kisumu -X- _ B-LOC_place\n"
            "\n");
  // Turned down by a verify stage, even behind another note: left out, like a row without spans.
  v1::ResultRecord rejected = rec;
  rejected.set_status("succeeded; kept names as names: rejected by check");
  std::ostringstream none;
  EXPECT_FALSE(WriteConllItem(rejected, "", &none));
  EXPECT_FALSE(WriteConllItem(rec, "other", &none));
  EXPECT_EQ(none.str(), "");
  // A piece's verdict counts for its parent.
  v1::ResultRecord parent;
  *parent.add_children() = rec;
  EXPECT_TRUE(HasSpansVerdict(parent, "names"));
  EXPECT_FALSE(HasSpansVerdict(parent, "other"));
}

TEST(AnnotationFormatsTest, ALabelStudioTaskCountsOffsetsInUtf16AndLeavesOutWhatItHasNoTypeFor) {
  // The emoji is one code point and two UTF-16 code units: "Juma" is code points 2-6, units 3-7.
  v1::ResultRecord rec;
  rec.set_item_index(3);
  rec.set_status("succeeded");
  for (auto [name, value] :
       {std::pair{"text", "\xf0\x9f\x98\x80 Juma"}, std::pair{"a", "x"}, std::pair{"b", "y"}}) {
    auto* f = rec.mutable_item()->add_fields();
    f->set_name(name);
    f->set_value(value);
  }
  auto add = [&](const std::string& stage, const std::string& answer) {
    auto* p = rec.add_provenance();
    p->set_stage(stage);
    p->set_answer(answer);
    return p->mutable_value();
  };
  auto* span = add("names", "2-6:PER")->mutable_spans()->add_spans();
  span->set_start(2);
  span->set_end(6);
  span->set_label("PER");
  add("better", "b")->mutable_pick()->set_winner("b");
  add("check", "yes");
  add("total", "2.5");
  add("tags", "red|blue");
  add("note", "Looks fine");
  add("order", "t2>t1")->mutable_ranking()->add_options("t2");
  add("sw.r1", "an iteration's round");
  std::map<std::string, v1::AnswerSchema> answers;
  answers["names"].mutable_spans()->set_field("text");
  answers["better"].mutable_comparison()->set_a_field("a");
  answers["better"].mutable_comparison()->set_b_field("b");
  answers["check"].mutable_single_choice()->add_options("yes");
  answers["total"].mutable_number()->set_max(10);
  answers["tags"].mutable_multi_choice()->add_options("red");
  answers["note"].mutable_text();
  answers["order"].mutable_ranking()->add_fields("t1");
  const auto expected = nlohmann::ordered_json::parse(R"({
    "id": 4,
    "data": {"text": "😀 Juma", "a": "x", "b": "y"},
    "meta": {"item": 3, "status": "succeeded"},
    "annotations": [{"id": 4, "result": [
      {"id": "names-1", "from_name": "names", "to_name": "text", "type": "labels",
       "value": {"start": 3, "end": 7, "text": "Juma", "labels": ["PER"]}},
      {"id": "better-2", "from_name": "better", "to_name": "a,b", "type": "pairwise",
       "value": {"selected": "right"}},
      {"id": "check-3", "from_name": "check", "to_name": "item", "type": "choices",
       "value": {"choices": ["yes"]}},
      {"id": "total-4", "from_name": "total", "to_name": "item", "type": "number",
       "value": {"number": 2.5}},
      {"id": "tags-5", "from_name": "tags", "to_name": "item", "type": "choices",
       "value": {"choices": ["red", "blue"]}},
      {"id": "note-6", "from_name": "note", "to_name": "item", "type": "textarea",
       "value": {"text": ["Looks fine"]}}
    ], "ground_truth": false, "was_cancelled": false}]
  })");
  EXPECT_EQ(LabelStudioTask(rec, 4, answers).dump(), expected.dump());
}

// A row of a boxes stage "vehicles" drawn on a 640x480 photo.
v1::ResultRecord BoxesRow(const std::string& status = "succeeded") {
  v1::ResultRecord rec;
  rec.set_item_index(7);
  rec.set_status(status);
  auto* f = rec.mutable_item()->add_fields();
  f->set_name("photo");
  f->set_value("street/s07.png");
  f->mutable_media()->set_kind(v1::MEDIA_IMAGE);
  f->mutable_media()->set_width(640);
  f->mutable_media()->set_height(480);
  auto* p = rec.add_provenance();
  p->set_stage("vehicles");
  p->set_answer("car:10,20,110,90;bus:320,200,640,480");
  auto* set = p->mutable_value()->mutable_shapes();
  set->set_field("photo");
  for (const auto& [label, x0, y0, x1, y1] :
       std::vector<std::tuple<std::string, uint32_t, uint32_t, uint32_t, uint32_t>>{
           {"car", 10, 20, 110, 90}, {"bus", 320, 200, 640, 480}}) {
    auto* s = set->add_shapes();
    s->set_label(label);
    s->set_x0(x0);
    s->set_y0(y0);
    s->set_x1(x1);
    s->set_y1(y1);
  }
  return rec;
}

v1::ShapeLabels Vehicles(v1::ShapeKind kind = v1::SHAPE_BOX) {
  v1::ShapeLabels schema;
  schema.set_field("photo");
  schema.set_kind(kind);
  for (const char* l : {"car", "bus", "motorbike"}) schema.add_labels(l);
  return schema;
}

TEST(AnnotationFormatsTest, CocoHasAnImagePerItemABoxPerShapeAndEveryLabelAsACategory) {
  CocoDataset coco("vehicles", Vehicles());
  v1::ResultRecord parent = BoxesRow();
  *parent.add_children() = BoxesRow();
  EXPECT_EQ(coco.Add(parent), 2u);
  EXPECT_EQ(coco.Add(BoxesRow("succeeded; rejected by check")), 0u);  // turned down
  const nlohmann::ordered_json j = coco.Json();
  EXPECT_EQ(j["images"].dump(),
            R"([{"id":1,"file_name":"street/s07.png","width":640,"height":480},)"
            R"({"id":2,"file_name":"street/s07.png","width":640,"height":480}])");
  ASSERT_EQ(j["annotations"].size(), 4u);
  EXPECT_EQ(j["annotations"][1].dump(),
            R"({"id":2,"image_id":1,"category_id":2,"bbox":[320,200,320,280],"area":89600,)"
            R"("iscrowd":0})");
  EXPECT_EQ(j["categories"].dump(),
            R"([{"id":1,"name":"car","supercategory":""},{"id":2,"name":"bus","supercategory":""},)"
            R"({"id":3,"name":"motorbike","supercategory":""}])");
}

TEST(AnnotationFormatsTest, YoloLinesAreCentresAndSizesAsFractionsOfTheImage) {
  const v1::ResultRecord rec = BoxesRow();
  auto [verdict, image] = ShapesVerdict(rec, "vehicles");
  ASSERT_NE(verdict, nullptr);
  EXPECT_EQ(YoloLabels(*verdict, *image, Vehicles().labels()),
            "0 0.093750 0.114583 0.156250 0.145833\n"
            "1 0.750000 0.708333 0.500000 0.583333\n");
  EXPECT_EQ(ShapesVerdict(rec, "other").first, nullptr);
  EXPECT_EQ(YoloLabelPath("street/s07.png"), "street/s07.txt");
  EXPECT_EQ(YoloLabelPath("https://cdn.example.org/a/b/IMG 1.jpeg?sig=x"), "IMG_1.txt");
  EXPECT_EQ(YoloLabelPath("v1.2/photo"), "v1.2/photo.txt");
  EXPECT_EQ(YoloLabelPath("https://x.org/a.jpg?sig=a/b"), "a.txt");
  // Whatever a row names, the file stays inside labels/.
  EXPECT_EQ(YoloLabelPath("../../notes.png"), "_/_/notes.txt");
  EXPECT_EQ(YoloLabelPath("/home/u/x.png"), "_/home/u/x.txt");
  EXPECT_EQ(YoloLabelPath("a//./b.png"), "a/_/_/b.txt");
  EXPECT_EQ(YoloLabelPath(".hidden"), ".hidden.txt");
}

TEST(AnnotationFormatsTest, ShapesAreLabelStudioRectanglesInPercentOfTheImage) {
  std::map<std::string, v1::AnswerSchema> answers;
  *answers["vehicles"].mutable_shapes() = Vehicles();
  const nlohmann::ordered_json task = LabelStudioTask(BoxesRow(), 1, answers);
  ASSERT_EQ(task["annotations"][0]["result"].size(), 2u);
  EXPECT_EQ(task["annotations"][0]["result"][1].dump(),
            R"({"id":"vehicles-2","from_name":"vehicles","to_name":"photo",)"
            R"("type":"rectanglelabels","value":{"x":50.0,"y":41.666666666666664,"width":50.0,)"
            R"("height":58.333333333333336,"rotation":0,"rectanglelabels":["bus"]},)"
            R"("original_width":640,"original_height":480,"image_rotation":0})");
  EXPECT_EQ(AnswerJson(BoxesRow().provenance(0).value(), BoxesRow().item()).dump(),
            R"([{"label":"car","x":10,"y":20,"width":100,"height":70},)"
            R"({"label":"bus","x":320,"y":200,"width":320,"height":280}])");
}

}  // namespace
}  // namespace mw::formats
