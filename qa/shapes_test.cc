#include "qa/shapes.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include <tuple>

namespace mw::qa {
namespace {

std::vector<LabelledShape> S(const char* text) {
  auto shapes = ParseShapes(text);
  EXPECT_TRUE(shapes.has_value()) << text;
  return shapes.value_or(std::vector<LabelledShape>());
}

TEST(ShapesTest, TheTextFormIsReadBackAsWrittenAndAnythingElseIsRefused) {
  const std::vector<LabelledShape> shapes = S("car:10,20,110,90;door:5,6;bus stop:0,0,1,1");
  ASSERT_EQ(shapes.size(), 3u);
  EXPECT_EQ(shapes[0], (LabelledShape{"car", false, 10, 20, 110, 90}));
  EXPECT_EQ(shapes[1], (LabelledShape{"door", true, 5, 6, 0, 0}));
  EXPECT_EQ(FormatShapes(shapes), "car:10,20,110,90;door:5,6;bus stop:0,0,1,1");
  EXPECT_EQ(ParseShapes("")->size(), 0u);
  for (const char* bad : {"car:50,10,10,40", "car:10,40,50,40", "car:1,2,3", ":1,2", "car:-1,2",
                          "car:1,2;", "car:1,2,3,4,5", "car:99999999999,1", "car:2147483648,1",
                          "car: 1,2", "car:1,+2", "a:b:1,2", "car"}) {
    EXPECT_FALSE(ParseShapes(bad).has_value()) << bad;
  }
}

TEST(ShapesTest, IouIsTheSharedAreaOverTheCombinedArea) {
  EXPECT_DOUBLE_EQ(Iou(S("a:0,0,10,10")[0], S("a:5,0,15,10")[0]), 50.0 / 150.0);
  EXPECT_DOUBLE_EQ(Iou(S("a:0,0,10,10")[0], S("a:0,0,10,10")[0]), 1.0);
  EXPECT_DOUBLE_EQ(Iou(S("a:0,0,10,10")[0], S("a:10,0,20,10")[0]), 0.0);  // touching
  EXPECT_DOUBLE_EQ(Iou(S("a:0,0,10,10")[0], S("a:5,5")[0]), 0.0);
}

TEST(ShapesTest, APolygonIsItsCornersInOrderAndItsOverlapIsMeasuredRowByRow) {
  const std::vector<LabelledShape> field = S("field:0,0,10,0,10,10,0,10");
  ASSERT_EQ(field.size(), 1u);
  EXPECT_EQ(field[0].polygon, (std::vector<uint32_t>{0, 0, 10, 0, 10, 10, 0, 10}));
  EXPECT_EQ(std::tie(field[0].x0, field[0].y0, field[0].x1, field[0].y1),
            std::make_tuple(0u, 0u, 10u, 10u));
  EXPECT_FALSE(field[0].point);
  EXPECT_EQ(FormatShapes(S("a:5,1,9,7,2,8;b:1,1,4,4")), "a:5,1,9,7,2,8;b:1,1,4,4");
  for (const char* bad : {"f:0,0,10,0,20,0", "f:0,0,10,0,10,10,0", "f:5,5,5,5,5,5"}) {
    EXPECT_FALSE(ParseShapes(bad).has_value()) << bad;
  }
  std::string corners = "f:0,0";
  for (size_t i = 1; i < kMaxPolygonCorners; ++i) absl::StrAppend(&corners, ",", i, ",", i * i);
  EXPECT_TRUE(ParseShapes(corners).has_value());
  EXPECT_FALSE(ParseShapes(absl::StrCat(corners, ",0,9")).has_value());  // 65 corners

  // A square against itself shifted by half, against its own lower-left half, and a box.
  EXPECT_NEAR(Iou(field[0], S("f:5,0,15,0,15,10,5,10")[0]), 50.0 / 150.0, 1e-12);
  EXPECT_NEAR(Iou(field[0], S("f:0,0,10,0,0,10")[0]), 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(Iou(field[0], S("f:20,20,30,20,30,30")[0]), 0.0);
  EXPECT_DOUBLE_EQ(Iou(field[0], S("f:0,0,10,10")[0]), 0.0);  // a box is not a polygon
  // A concave one: a U whose notch the square fills is not counted twice.
  EXPECT_NEAR(
      Iou(S("u:0,0,30,0,30,30,20,30,20,10,10,10,10,30,0,30")[0], S("s:10,10,20,10,20,30,10,30")[0]),
      0.0, 1e-12);
}

TEST(ShapesTest, APolygonMostDrewIsKeptWithEachCornerTheMeanOfItsCounterparts) {
  // The second starts from another corner and goes round the other way: its corners are still
  // matched to the first's. The third's square is a crop, outvoted; its triangle only it drew.
  ShapeVerdict v =
      VoteShapes({S("field:0,0,100,0,100,100,0,100"), S("field:104,100,104,0,4,0,4,100"),
                  S("crop:0,0,96,0,96,100,0,100;field:500,500,600,500,550,600")},
                 {});
  EXPECT_EQ(FormatShapes(v.shapes), "field:1,0,100,0,100,100,1,100");
  EXPECT_EQ(v.votes, 2);
  EXPECT_NEAR(v.confidence, (99.0 / 100.0 + 96.0 / 103.0 + 0.0 / 2.0) / 3.0, 1e-12);

  // Outlines with different numbers of corners: the one most like the others is kept as drawn.
  v = VoteShapes({S("field:0,0,100,0,100,100,0,100"), S("field:2,0,100,0,100,100,50,104,0,100"),
                  S("field:0,3,100,0,103,100,0,100")},
                 {});
  EXPECT_EQ(FormatShapes(v.shapes), "field:0,0,100,0,100,100,0,100");
  EXPECT_EQ(v.votes, 3);
}

TEST(ShapesTest, ABoxMostAnswersDrewIsKeptAtTheMeanOfTheirCorners) {
  ShapeVerdict v = VoteShapes({S("car:10,10,50,40"), S("car:12,9,52,41"), S("")}, {});
  EXPECT_EQ(FormatShapes(v.shapes), "car:11,10,51,41");
  EXPECT_EQ(v.votes, 2);
  EXPECT_EQ(v.total, 3);
  EXPECT_DOUBLE_EQ(v.confidence, (1170.0 / 1270.0 + 1209.0 / 1311.0 + 0.0) / 3.0);

  // One worker's label is outvoted; a box only one drew is dropped; far boxes stay apart.
  v = VoteShapes({S("car:0,0,100,100;bus:500,500,600,600"), S("car:2,2,98,101"),
                  S("truck:1,0,100,99;bus:502,499,601,600;car:900,900,950,950")},
                 {});
  EXPECT_EQ(FormatShapes(v.shapes), "car:1,1,99,100;bus:501,500,601,600");
  EXPECT_EQ(v.votes, 1);  // the first: both its boxes, and nothing more
  EXPECT_GT(v.confidence, 0.5);
  EXPECT_LT(v.confidence, 0.9);
}

TEST(ShapesTest, PointsWithinReachAreOneAndAMatchNeedsTheSameLabelToCount) {
  ShapeVerdict v = VoteShapes(
      {S("door:100,100;window:300,300"), S("door:105,98"), S("door:400,50;window:330,300")},
      {.match_radius = 20});
  EXPECT_EQ(FormatShapes(v.shapes), "door:103,99");
  EXPECT_EQ(v.votes, 1);  // the second; the first has a window the verdict lacks
  EXPECT_DOUBLE_EQ(v.confidence, (1.0 / 2.0 + 1.0 + 0.0) / 3.0);
  EXPECT_DOUBLE_EQ(ShapeAgreement(S("window:103,99"), v.shapes, {}), 0.0);
  EXPECT_DOUBLE_EQ(ShapeAgreement({}, {}, {}), 1.0);
}

TEST(ShapesTest, WithFourOrMoreTheFarthestCornersAreLeftOutOfTheMean) {
  ShapeVerdict v = VoteShapes({S("car:100,100,200,200"), S("car:102,100,200,200"),
                               S("car:104,100,200,200"), S("car:140,100,200,200")},
                              {});
  EXPECT_EQ(FormatShapes(v.shapes), "car:103,100,200,200");  // (102 + 104) / 2
}

TEST(ShapesTest, AnAnswersShapesGoToTheGroupsTheyMatchBestWhateverOrderTheyWereDrawnIn) {
  // Drawn first, the point at 7 is nearer the group at 0 than the one at 15; but the point at 0
  // is that group's, so 7 joins 15.
  ShapeVerdict v = VoteShapes({S("d:0,0;d:15,0"), S("d:7,0;d:0,0")}, {.match_radius = 20});
  EXPECT_EQ(FormatShapes(v.shapes), "d:0,0;d:11,0");
  EXPECT_EQ(v.votes, 2);
}

TEST(ShapesTest, AVerdictKeepsAtMostMaxCountShapesThoseMostDrewFirst) {
  ShapeVerdict v = VoteShapes({S("car:0,0,10,10;bus:50,50,90,90"), S("bus:50,50,90,90"),
                               S("car:0,0,10,10;bus:50,50,90,90")},
                              {.max_count = 1});
  EXPECT_EQ(FormatShapes(v.shapes), "bus:50,50,90,90");
}

TEST(ShapesTest, NoAnswerIsNoVerdict) {
  ShapeVerdict v = VoteShapes({}, {});
  EXPECT_TRUE(v.shapes.empty());
  EXPECT_EQ(v.total, 0);
  EXPECT_EQ(v.confidence, 0);
}

}  // namespace
}  // namespace mw::qa
