#include "engine/dispatch/answers.h"

#include <tuple>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mw::dispatch {
namespace {

using microwork::v1::Answer;
using microwork::v1::AnswerSchema;

TEST(AnswersTest, SingleChoiceMustBeAnOption) {
  AnswerSchema s;
  s.mutable_single_choice()->add_options("yes");
  s.mutable_single_choice()->add_options("no");
  Answer a;
  a.set_choice("no");
  EXPECT_TRUE(CheckAnswer(s, a).ok());
  a.set_choice("perhaps");
  EXPECT_EQ(CheckAnswer(s, a).message(), "choice \"perhaps\" is not one of the options (yes, no)");
  // A value from outside is quoted short: an error never carries a megabyte back.
  a.set_choice(std::string(1 << 20, 'x'));
  EXPECT_EQ(CheckAnswer(s, a).message(),
            absl::StrCat("choice \"", std::string(60, 'x'),
                         "...\" (1048576 bytes) is not one of the options (yes, no)"));
  a.set_text("no");
  EXPECT_EQ(CheckAnswer(s, a).message(), "expected a single choice");
  a.set_skipped(true);
  EXPECT_TRUE(CheckAnswer(s, a).ok());
}

TEST(AnswersTest, TextLengthInCodePoints) {
  AnswerSchema s;
  s.mutable_text()->set_min_length(2);
  s.mutable_text()->set_max_length(3);
  Answer a;
  a.set_text("\xc3\xb1\xc3\xb1\xc3\xb1");  // three code points, six bytes
  EXPECT_TRUE(CheckAnswer(s, a).ok());
  a.set_text("abcd");
  EXPECT_EQ(CheckAnswer(s, a).message(), "expected 2 to 3 characters, got 4");
}

TEST(AnswersTest, NumbersAreRangeChecked) {
  AnswerSchema s;
  s.mutable_number()->set_min(0);
  s.mutable_number()->set_max(100);
  s.mutable_number()->set_integer(true);
  Answer a;
  a.set_number("42");
  EXPECT_TRUE(CheckAnswer(s, a).ok());
  a.set_number("4.5");
  EXPECT_EQ(CheckAnswer(s, a).message(), "expected a whole number, got 4.5");
  a.set_number("101");
  EXPECT_EQ(CheckAnswer(s, a).message(), "101 is outside 0 to 100");
  a.set_number("x");
  EXPECT_EQ(CheckAnswer(s, a).message(), "\"x\" is not a number; expected digits such as 12.5");
  // Not-a-number and infinity parse as doubles and compare false with every bound: refused
  // before the range check, whatever the range.
  s.mutable_number()->set_integer(false);
  for (const char* bad : {"-nan", "nan", "NaN", "inf", "-infinity"}) {
    a.set_number(bad);
    EXPECT_EQ(CheckAnswer(s, a).message(),
              absl::StrCat("\"", bad, "\" is not a number; expected digits such as 12.5"))
        << bad;
  }
}

TEST(AnswersTest, LabelsNormaliseTextAndSortChoices) {
  Answer a;
  a.set_text("  Hello   World ");
  EXPECT_EQ(AnswerLabel(a), "hello world");
  a.mutable_choices()->add_options("b");
  a.mutable_choices()->add_options("a");
  EXPECT_EQ(AnswerLabel(a), "a|b");
  AnswerSchema s;
  s.mutable_multi_choice();
  EXPECT_EQ(LabelToAnswer(s, "a|b").choices().options_size(), 2);
}

AnswerSchema Entities() {
  AnswerSchema s;
  auto* sp = s.mutable_spans();
  sp->set_field("text");
  sp->add_labels("PER");
  sp->add_labels("LOC");
  sp->set_max_count(3);
  return s;
}

microwork::v1::Item Sentence() {
  microwork::v1::Item item;
  auto* f = item.add_fields();
  f->set_name("text");
  f->set_value("Juma anaishi Nairobi");  // words 0-4, 5-12, 13-20
  return item;
}

Answer Spans(std::vector<std::tuple<uint32_t, uint32_t, std::string>> spans) {
  Answer a;
  for (const auto& [start, end, label] : spans) {
    auto* s = a.mutable_spans()->add_spans();
    s->set_start(start);
    s->set_end(end);
    s->set_label(label);
  }
  if (spans.empty()) a.mutable_spans();
  return a;
}

TEST(AnswersTest, SpansCoverWholeWordsOfTheTextWithListedLabels) {
  const AnswerSchema s = Entities();
  const microwork::v1::Item item = Sentence();
  EXPECT_TRUE(CheckAnswer(s, Spans({{0, 4, "PER"}, {13, 20, "LOC"}}), &item).ok());
  EXPECT_TRUE(CheckAnswer(s, Spans({}), &item).ok());
  EXPECT_TRUE(CheckAnswer(s, Spans({{0, 12, "PER"}}), &item).ok());  // two words
  EXPECT_EQ(CheckAnswer(s, Spans({{0, 3, "PER"}}), &item).message(),
            "span 1 (0-3): expected whole words, from a word's start to a word's end");
  EXPECT_EQ(CheckAnswer(s, Spans({{4, 12, "PER"}}), &item).message(),
            "span 1 (4-12): expected whole words, from a word's start to a word's end");
  EXPECT_EQ(CheckAnswer(s, Spans({{13, 25, "LOC"}}), &item).message(),
            "span 1 (13-25): the text has 20 characters");
  EXPECT_EQ(CheckAnswer(s, Spans({{0, 4, "ORG"}}), &item).message(),
            "span 1 (0-4): label \"ORG\" is not one of PER, LOC");
  EXPECT_EQ(CheckAnswer(s, Spans({{5, 12, "PER"}, {0, 4, "PER"}}), &item).message(),
            "span 2 (0-4): overlaps the span before it, or is out of order");
  EXPECT_EQ(CheckAnswer(s, Spans({{4, 4, "PER"}}), &item).message(),
            "span 1 (4-4): expected start before end");
  EXPECT_EQ(CheckAnswer(s, Spans({{0, 4, "PER"}, {5, 12, "PER"}, {13, 20, "LOC"}, {21, 22, "LOC"}}),
                        &item)
                .message(),
            "expected 0 to 3 spans, got 4");
  Answer other_field = Spans({{0, 4, "PER"}});
  other_field.mutable_spans()->set_field("title");
  EXPECT_EQ(CheckAnswer(s, other_field, &item).message(),
            "spans mark the field \"title\"; expected text");
  microwork::v1::Item no_text;
  EXPECT_EQ(CheckAnswer(s, Spans({{0, 4, "PER"}}), &no_text).message(),
            "the item has no field \"text\" to mark");
  // Without the item only what needs no text is checked.
  EXPECT_TRUE(CheckAnswer(s, Spans({{0, 3, "PER"}}), nullptr).ok());
  EXPECT_EQ(CheckAnswer(s, Spans({{0, 3, "ORG"}}), nullptr).message(),
            "span 1 (0-3): label \"ORG\" is not one of PER, LOC");
  Answer text;
  text.set_text("Juma");
  EXPECT_EQ(CheckAnswer(s, text, &item).message(), "expected labelled spans");
}

TEST(AnswersTest, AComparisonIsAOrBWithAReasonOnlyWhenAsked) {
  AnswerSchema s;
  s.mutable_comparison()->set_a_field("model_a");
  s.mutable_comparison()->set_b_field("model_b");
  Answer a;
  a.mutable_pick()->set_winner("b");
  EXPECT_TRUE(CheckAnswer(s, a).ok());
  a.mutable_pick()->set_winner("c");
  EXPECT_EQ(CheckAnswer(s, a).message(), "pick \"c\": expected \"a\" or \"b\"");
  a.mutable_pick()->set_winner("a");
  a.mutable_pick()->set_reason("shorter");
  EXPECT_EQ(CheckAnswer(s, a).message(), "reason: expected at most 0 characters, got 7");
  s.mutable_comparison()->set_ask_reason(true);
  s.mutable_comparison()->set_max_reason_length(5);
  EXPECT_EQ(CheckAnswer(s, a).message(), "reason: expected at most 5 characters, got 7");
  a.mutable_pick()->set_reason("fewer");
  EXPECT_TRUE(CheckAnswer(s, a).ok());
}

TEST(AnswersTest, ARankingNamesEveryFieldOnce) {
  AnswerSchema s;
  for (const char* f : {"m1", "m2", "m3"}) s.mutable_ranking()->add_fields(f);
  Answer a;
  for (const char* f : {"m2", "m3", "m1"}) a.mutable_ranking()->add_options(f);
  EXPECT_TRUE(CheckAnswer(s, a).ok());
  a.mutable_ranking()->set_options(2, "m2");
  EXPECT_EQ(CheckAnswer(s, a).message(), "\"m2\" is ranked twice");
  a.mutable_ranking()->set_options(2, "m9");
  EXPECT_EQ(CheckAnswer(s, a).message(), "\"m9\" is not one of the ranked (m1, m2, m3)");
  a.mutable_ranking()->mutable_options()->RemoveLast();
  EXPECT_EQ(CheckAnswer(s, a).message(), "expected all 3 ranked, got 2");
}

TEST(AnswersTest, SpansPicksAndRankingsRoundTripThroughTheirLabels) {
  const AnswerSchema s = Entities();
  const microwork::v1::Item item = Sentence();
  const Answer spans = Spans({{0, 4, "PER"}, {13, 20, "LOC"}});
  EXPECT_EQ(AnswerLabel(spans), "0-4:PER;13-20:LOC");
  Answer back = LabelToAnswer(s, "0-4:PER;13-20:LOC");
  EXPECT_EQ(back.spans().field(), "text");  // the verdict names the field it marks
  back.mutable_spans()->clear_field();
  EXPECT_EQ(back.SerializeAsString(), spans.SerializeAsString());
  EXPECT_EQ(CheckedLabel(s, "0-4:PER;oops", &item).status().message(),
            "\"0-4:PER;oops\" is not spans written as start-end:label;start-end:label");
  EXPECT_EQ(CheckedLabel(s, "0-3:PER", &item).status().message(),
            "span 1 (0-3): expected whole words, from a word's start to a word's end");
  EXPECT_EQ(CheckedLabel(s, "", &item)->spans().spans_size(), 0);

  AnswerSchema pair;
  pair.mutable_comparison()->set_a_field("x");
  pair.mutable_comparison()->set_b_field("y");
  Answer pick;
  pick.mutable_pick()->set_winner("b");
  pick.mutable_pick()->set_reason("Clearer");
  EXPECT_EQ(AnswerLabel(pick), "b");
  EXPECT_EQ(LabelToAnswer(pair, "b").pick().winner(), "b");

  AnswerSchema rank;
  for (const char* f : {"m1", "m2"}) rank.mutable_ranking()->add_fields(f);
  Answer order;
  for (const char* f : {"m2", "m1"}) order.mutable_ranking()->add_options(f);
  EXPECT_EQ(AnswerLabel(order), "m2>m1");
  EXPECT_EQ(LabelToAnswer(rank, "m2>m1").SerializeAsString(), order.SerializeAsString());
  EXPECT_EQ(FieldsShownByAnswer(rank), (std::vector<std::string>{"m1", "m2"}));
  EXPECT_EQ(FieldsShownByAnswer(pair), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(FieldsShownByAnswer(s), (std::vector<std::string>{"text"}));
}

TEST(AnswersTest, AGoldSpanAnswerIsCheckedAgainstItsRow) {
  microwork::v1::Item row = Sentence();
  auto* answer = row.add_fields();
  answer->set_name("answer");
  answer->set_value("13-20:LOC");
  EXPECT_EQ(TakeGoldAnswer(Entities(), "", &row).value(), "13-20:LOC");
  EXPECT_EQ(row.fields_size(), 1);  // the answer is taken out of what the worker sees
  microwork::v1::Item bad = Sentence();
  answer = bad.add_fields();
  answer->set_name("answer");
  answer->set_value("13-19:LOC");
  EXPECT_EQ(TakeGoldAnswer(Entities(), "", &bad).status().message(),
            "gold answer: span 1 (13-19): expected whole words, from a word's start to a word's "
            "end");
}

AnswerSchema Boxes(microwork::v1::ShapeKind kind = microwork::v1::SHAPE_BOX) {
  AnswerSchema s;
  auto* sh = s.mutable_shapes();
  sh->set_field("photo");
  sh->set_kind(kind);
  sh->add_labels("car");
  sh->add_labels("bus");
  sh->set_max_count(2);
  return s;
}

microwork::v1::Item Photo(uint32_t width, uint32_t height) {
  microwork::v1::Item item;
  auto* f = item.add_fields();
  f->set_name("photo");
  f->set_value("s07.png");
  f->mutable_media()->set_kind(microwork::v1::MEDIA_IMAGE);
  f->mutable_media()->set_width(width);
  f->mutable_media()->set_height(height);
  return item;
}

TEST(AnswersTest, ShapesStayInsideTheImageWithListedLabelsAndTheirCornersInOrder) {
  const AnswerSchema boxes = Boxes();
  const microwork::v1::Item item = Photo(640, 480);
  auto checked = [&](const AnswerSchema& s, const std::string& label,
                     const microwork::v1::Item* on) {
    absl::StatusOr<Answer> a = CheckedLabel(s, label, on);
    return a.ok() ? std::string("ok") : std::string(a.status().message());
  };
  EXPECT_EQ(checked(boxes, "car:0,0,640,480;bus:10,10,20,20", &item), "ok");
  EXPECT_EQ(checked(boxes, "", &item), "ok");
  EXPECT_EQ(checked(boxes, "car:0,0,641,480", &item),
            "box 1 (0,0)-(641,480): outside the image, which is 640x480 pixels");
  EXPECT_EQ(checked(boxes, "lorry:0,0,10,10", &item),
            "box 1 (0,0)-(10,10): label \"lorry\" is not one of car, bus");
  EXPECT_EQ(checked(boxes, "car:1,1,2,2;car:1,1,2,2;car:1,1,2,2", &item),
            "expected 0 to 2 shapes, got 3");
  EXPECT_EQ(checked(boxes, "car:10,10,5,5", &item),
            "\"car:10,10,5,5\" is not boxes written as label:x0,y0,x1,y1;label:x0,y0,x1,y1");
  EXPECT_EQ(checked(boxes, "car:10,10", &item),
            "\"car:10,10\" is not boxes written as label:x0,y0,x1,y1;label:x0,y0,x1,y1");
  const AnswerSchema points = Boxes(microwork::v1::SHAPE_POINT);
  EXPECT_EQ(checked(points, "car:639,479", &item), "ok");
  EXPECT_EQ(checked(points, "car:640,10", &item),
            "point 1 (640,10): outside the image, which is 640x480 pixels");
  microwork::v1::Item no_image = Photo(640, 480);
  no_image.mutable_fields(0)->clear_media();
  EXPECT_EQ(checked(boxes, "car:1,1,2,2", &no_image), "the item has no image \"photo\" to draw on");
  // Without the item (a late answer) the image is not known: only labels, count and corners.
  EXPECT_EQ(checked(boxes, "car:0,0,9999,9999", nullptr), "ok");

  // A box arriving on the wire: its corners in order, on the stage's own image field.
  Answer wire = LabelToAnswer(boxes, "car:1,1,2,2");
  EXPECT_EQ(AnswerLabel(wire), "car:1,1,2,2");
  wire.mutable_shapes()->mutable_shapes(0)->set_x1(1);
  EXPECT_EQ(CheckAnswer(boxes, wire, &item).message(),
            "box 1 (1,1)-(1,2): expected the top left corner, then the bottom right");
  Answer point = LabelToAnswer(boxes, "car:1,1,2,2");
  *point.mutable_shapes()->mutable_shapes(0) = LabelToAnswer(points, "car:5,6").shapes().shapes(0);
  point.mutable_shapes()->mutable_shapes(0)->set_y1(3);
  EXPECT_EQ(CheckAnswer(points, point, &item).message(),
            "point 1 (5,6): a point has one corner, not two");
  wire.mutable_shapes()->set_field("logo");
  EXPECT_EQ(CheckAnswer(boxes, wire, &item).message(),
            "shapes are drawn on \"logo\"; expected photo");
  EXPECT_EQ(FieldsShownByAnswer(boxes), std::vector<std::string>{"photo"});
}

TEST(AnswersTest, APolygonHasThreeToMaxVerticesCornersInsideTheImageEnclosingSomething) {
  AnswerSchema polygons = Boxes(microwork::v1::SHAPE_POLYGON);
  polygons.mutable_shapes()->set_max_vertices(4);
  const microwork::v1::Item item = Photo(640, 480);
  auto checked = [&](const std::string& label) {
    absl::StatusOr<Answer> a = CheckedLabel(polygons, label, &item);
    return a.ok() ? std::string("ok") : std::string(a.status().message());
  };
  EXPECT_EQ(checked("car:0,0,640,0,320,480;bus:1,1,5,1,5,5,1,5"), "ok");
  EXPECT_EQ(checked("car:0,0,641,0,320,480"),
            "polygon 1: outside the image, which is 640x480 pixels");
  EXPECT_EQ(checked("car:0,0,10,0,10,10,5,12,0,10"),
            "polygon 1: expected 3 to 4 corners, x then y of each; got 10 numbers");
  EXPECT_EQ(checked("car:0,0,10,10"),
            "\"car:0,0,10,10\" is not polygons written as label:x,y,x,y,x,y;...");
  EXPECT_EQ(checked("car:0,0,5,5,10,10"),
            "\"car:0,0,5,5,10,10\" is not polygons written as label:x,y,x,y,x,y;...");

  // On the wire: the corners in `polygon`, both ways, and nothing else of a box.
  Answer wire = LabelToAnswer(polygons, "car:0,0,640,0,320,480");
  ASSERT_EQ(wire.shapes().shapes_size(), 1);
  EXPECT_THAT(wire.shapes().shapes(0).polygon(), ::testing::ElementsAre(0, 0, 640, 0, 320, 480));
  EXPECT_EQ(wire.shapes().shapes(0).x1(), 0u);
  EXPECT_EQ(AnswerLabel(wire), "car:0,0,640,0,320,480");
  EXPECT_TRUE(CheckAnswer(polygons, wire, &item).ok());
  wire.mutable_shapes()->mutable_shapes(0)->set_x1(5);
  EXPECT_EQ(CheckAnswer(polygons, wire, &item).message(),
            "polygon 1: expected its corners in polygon, and x0 to y1 left 0");
  wire.mutable_shapes()->mutable_shapes(0)->set_x1(0);
  wire.mutable_shapes()->mutable_shapes(0)->add_polygon(7);
  EXPECT_EQ(CheckAnswer(polygons, wire, &item).message(),
            "polygon 1: expected 3 to 4 corners, x then y of each; got 7 numbers");
  Answer flat = LabelToAnswer(polygons, "car:0,0,640,0,320,480");
  flat.mutable_shapes()->mutable_shapes(0)->set_polygon(5, 0);
  EXPECT_EQ(CheckAnswer(polygons, flat, &item).message(),
            "polygon 1: its corners enclose no area (all on one line, or crossing itself into "
            "halves that cancel)");
  Answer box = LabelToAnswer(Boxes(), "car:1,1,2,2");
  box.mutable_shapes()->mutable_shapes(0)->add_polygon(1);
  EXPECT_EQ(CheckAnswer(Boxes(), box, &item).message(),
            "box 1 (1,1)-(2,2): only a polygon has corners in polygon");
}

}  // namespace
}  // namespace mw::dispatch
