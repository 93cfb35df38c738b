#include "qa/shapes.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

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
  EXPECT_DOUBLE_EQ(BoxIou(S("a:0,0,10,10")[0], S("a:5,0,15,10")[0]), 50.0 / 150.0);
  EXPECT_DOUBLE_EQ(BoxIou(S("a:0,0,10,10")[0], S("a:0,0,10,10")[0]), 1.0);
  EXPECT_DOUBLE_EQ(BoxIou(S("a:0,0,10,10")[0], S("a:10,0,20,10")[0]), 0.0);  // touching
  EXPECT_DOUBLE_EQ(BoxIou(S("a:0,0,10,10")[0], S("a:5,5")[0]), 0.0);
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
