// Labelled shapes drawn on an image (boxes, points and polygons, in whole pixels of the original),
// and how several workers' shapes become one answer.
//
// Shapes are matched across answers: two boxes or two polygons are the same object when their
// overlap (IoU, intersection over union) is at least `min_iou`; two points when they are within
// `match_radius` pixels. The answers are taken in turn, each one's shapes joined one to one to
// the groups so far, the most alike pairs first (a group's place is the robust mean below); a
// shape that matches none starts a group. A group is kept when a majority of the answers drew it;
// its label is the one most of its members gave (ties to the first in alphabetical order) and each
// coordinate a robust mean of its members' (with four or more, the highest and lowest left out, so
// one careless corner cannot drag it), rounded to a whole pixel. A polygon's corners are matched
// round it to those of the member most like the others (the medoid: the largest summed IoU with
// the rest, ties to the first drawn), from the nearest start and in the nearer direction, and
// each is the robust mean of its counterparts; where the members differ in their number of
// corners, as hands do, the polygon is the medoid itself. At most `max_count` are kept,
// those most drew first (a verdict may still hold fewer than a stage's min_count). Confidence is
// the mean, over answers, of how well each agrees with the verdict: the summed IoU (1 for a point
// within reach) of its shapes matched one-to-one to the verdict's with the same label, over the
// larger of the two counts (1 when both are empty). Votes count the answers that agree fully (every
// shape matched, the same count).
//
//   VoteShapes({ParseShapes("car:10,10,50,40").value(), ParseShapes("car:12,9,52,41").value(),
//               ParseShapes("").value()}, {})
//   // shapes {car:11,10,51,41} (2 of 3 drew it), confidence (0.92 + 0.92 + 0) / 3, votes 2
//
// The text form, one owner of it: "label:x0,y0,x1,y1" for a box, "label:x,y" for a point and
// "label:x,y,x,y,x,y,..." (three to 64 corners, in order round it) for a polygon, joined by ";"
// ("" for none), in the order drawn.
#ifndef MW_QA_SHAPES_H_
#define MW_QA_SHAPES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace mw::qa {

inline constexpr size_t kMaxPolygonCorners = 64;  // what the text form holds

struct LabelledShape {
  std::string label;
  bool point = false;                       // (x0, y0) alone
  uint32_t x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // a polygon's: its bounding box
  std::vector<uint32_t> polygon = {};       // a polygon's corners, x then y of each; else empty
  bool operator==(const LabelledShape& o) const {
    return label == o.label && point == o.point && x0 == o.x0 && y0 == o.y0 && x1 == o.x1 &&
           y1 == o.y1 && polygon == o.polygon;
  }
};

// A polygon's shape from its corners (x then y of each), with its bounding box; nullopt when
// there are fewer than three or more than kMaxPolygonCorners, or its area is 0.
std::optional<LabelledShape> Polygon(std::string label, std::vector<uint32_t> corners);

// The text form of `shapes`.
std::string FormatShapes(const std::vector<LabelledShape>& shapes);

// The shapes `text` writes; nullopt when it is not the text form: a label (any text without
// ';' and ':', not empty) and two, four or six to 128 (an even count) whole numbers below 2^31, a
// box's first corner above and left of its second (x0 < x1, y0 < y1), a polygon's area not 0.
std::optional<std::vector<LabelledShape>> ParseShapes(absl::string_view text);

// Intersection over union of two boxes' or two polygons' areas (0 when either is a point, they
// are of two kinds or they do not meet). Polygons are sampled along at most 64 rows across their
// joint height (each row's inside stretches exact, by the even-odd rule): within a percent or
// two for the outlines hands draw, and bounded work however many corners they have.
double Iou(const LabelledShape& a, const LabelledShape& b);

struct ShapeVoteOptions {
  double min_iou = 0.5;
  uint32_t match_radius = 20;  // points
  size_t max_count = 50;       // shapes a verdict keeps at most (the best supported); 0: all
};

struct ShapeVerdict {
  std::vector<LabelledShape> shapes;
  double confidence = 0;
  int votes = 0;  // answers that agree fully with `shapes`
  int total = 0;
};

ShapeVerdict VoteShapes(const std::vector<std::vector<LabelledShape>>& answers,
                        const ShapeVoteOptions& options);

// How well `answer` agrees with `verdict` (the confidence's term for one answer): 0 to 1.
double ShapeAgreement(const std::vector<LabelledShape>& answer,
                      const std::vector<LabelledShape>& verdict, const ShapeVoteOptions& options);

}  // namespace mw::qa

#endif  // MW_QA_SHAPES_H_
