#include "cli/annotation_formats.h"

#include <sstream>

#include "gtest/gtest.h"

namespace mw::cli {
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

}  // namespace
}  // namespace mw::cli
